//! Envoy's response flags, as `routec explain` prints them.
//!
//! An access-log line of an Istio sidecar carries a flag such as `UH` or `NR` beside the
//! status code: the reason Envoy, not the application, answered. Each entry says what
//! the flag means, the usual causes in a mesh, and which routec check catches the
//! configuration mistakes behind it.

/// One response flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseFlag {
    pub flag: &'static str,
    pub summary: &'static str,
    pub text: &'static str,
}

pub const FLAGS: &[ResponseFlag] = &[
    ResponseFlag {
        flag: "UH",
        summary: "no healthy upstream: the cluster has no endpoint to send to (503)",
        text: "The destination cluster has no healthy endpoint. In a mesh the classic cause is a
subset whose labels select no pod: the DestinationRule says `version: v3` and no pod
carries it, or a route names a subset the DestinationRule does not define. Outlier
detection that ejects every endpoint has the same effect.

routec: E0201 (a route names an undefined subset), W0702 (ejection that can take every
endpoint). Check the endpoints with `istioctl proxy-config endpoints`.",
    },
    ResponseFlag {
        flag: "NR",
        summary: "no route: no rule of the route table matched (404, or 503 at a gateway)",
        text: "No route matched the request: the VirtualService's rules all have conditions and
none held, or no VirtualService covers the host and port.

routec: E0303 (a route table without a catch-all); W0304 (rules that can never match).",
    },
    ResponseFlag {
        flag: "UO",
        summary: "upstream overflow: a circuit breaker (connection pool limit) tripped (503)",
        text: "The connection pool's limits were reached: pending requests over
http1MaxPendingRequests, requests over http2MaxRequests, or connections over
maxConnections. Either the circuit breaker works as designed under overload, or the
limits are too small for normal traffic.

routec: `pool { ... }`; size limits from measured peak concurrency (about 1.5-2x).",
    },
    ResponseFlag {
        flag: "UF",
        summary: "upstream connection failure (503)",
        text: "Envoy could not connect to the endpoint. In a mesh: mTLS on one side only (a
DestinationRule with `tls disable` against a STRICT peer, or the reverse), a port or
protocol mismatch, or the endpoint is not listening.

routec: `tls istio-mutual | simple | mutual | disable` on the service; port protocols.",
    },
    ResponseFlag {
        flag: "URX",
        summary: "the retry limit was reached",
        text: "Every attempt failed and the retry budget (attempts) is spent. Look at the other
flags of the same request for the real cause; retries only repeated it.

routec: E0402 (a timeout too short for the attempts), E0401 (retries that repeat
non-idempotent requests).",
    },
    ResponseFlag {
        flag: "UT",
        summary: "upstream request timeout (504)",
        text: "The route timeout expired before the upstream answered. Retries count against the
same timeout, and so do injected delays.

routec: E0402 (timeout shorter than per-try x attempts), W0705 (timeouts on a rule that
injects faults).",
    },
    ResponseFlag {
        flag: "UC",
        summary: "upstream connection termination (503)",
        text: "The upstream closed the connection before answering: often an idle connection the
server closed while Envoy reused it, or a crash. `retry ... on reset` retries it safely.",
    },
    ResponseFlag {
        flag: "UR",
        summary: "upstream remote reset (503)",
        text: "The upstream reset the stream. Like UC, retried with `on reset`.",
    },
    ResponseFlag {
        flag: "LR",
        summary: "connection reset locally (503)",
        text: "Envoy itself reset the connection, for example on a protocol error.",
    },
    ResponseFlag {
        flag: "DC",
        summary: "downstream connection termination",
        text: "The client went away before the response was complete; not a server error.",
    },
    ResponseFlag {
        flag: "DI",
        summary: "the request was delayed by fault injection",
        text: "A `fault delay` rule delayed the request.

routec: E0704 (faults not scoped to test traffic).",
    },
    ResponseFlag {
        flag: "FI",
        summary: "the request was aborted by fault injection",
        text: "A `fault abort` rule answered for the upstream.

routec: E0704 (faults not scoped to test traffic).",
    },
    ResponseFlag {
        flag: "NC",
        summary: "upstream cluster not found",
        text: "The route points at a cluster Envoy does not know: a destination host that is
neither a Kubernetes service nor a ServiceEntry, or a subset of a DestinationRule that
has not reached the proxy yet.

routec: E0202 (unknown service), E0201 (unknown subset); `external` for hosts outside
the mesh.",
    },
    ResponseFlag {
        flag: "RL",
        summary: "rate limited locally (429)",
        text: "Envoy's local rate limit filter rejected the request.",
    },
    ResponseFlag {
        flag: "UAEX",
        summary: "denied by the external authorization service",
        text: "The ext_authz filter denied the request (an AuthorizationPolicy with a CUSTOM
provider).",
    },
    ResponseFlag {
        flag: "SI",
        summary: "stream idle timeout (408 or 504)",
        text: "No bytes moved on the stream for the idle timeout.",
    },
    ResponseFlag {
        flag: "DF",
        summary: "DNS resolution failed",
        text: "Envoy could not resolve the destination's name: an external service with
`resolve dns` whose hosts do not resolve.

routec: E0711 (DNS resolution of wildcard hosts).",
    },
];

/// Looks a flag up, case-insensitively.
pub fn find(text: &str) -> Option<&'static ResponseFlag> {
    FLAGS
        .iter()
        .find(|f| f.flag.eq_ignore_ascii_case(text.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_unique_and_found_in_any_case() {
        let mut seen = std::collections::HashSet::new();
        for flag in FLAGS {
            assert!(seen.insert(flag.flag), "{} twice", flag.flag);
            assert!(super::super::Code::parse(flag.flag).is_none());
        }
        assert_eq!(find("uh").map(|f| f.flag), Some("UH"));
        assert!(find("E0201").is_none());
    }
}
