//! The catalogue of diagnostic codes: what `routec explain` prints.
//!
//! A code is stable once released: never renumber or reuse one. `E` codes are errors
//! (nothing is written), `W` codes warnings. Each entry has a one-line summary and an
//! explanation with an example of the mistake and of the fix.

use std::fmt;

macro_rules! catalogue {
    ($( $variant:ident = $code:literal, $summary:literal, $text:literal; )*) => {
        /// A stable diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $( $variant, )* }

        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }

            /// One line, for `routec explain` without a code and for hovers.
            pub fn summary(self) -> &'static str {
                match self { $( Code::$variant => $summary, )* }
            }

            /// The full text of `routec explain CODE`.
            pub fn explanation(self) -> &'static str {
                match self { $( Code::$variant => $text, )* }
            }
        }
    };
}

impl Code {
    pub fn severity(self) -> super::Severity {
        if self.as_str().starts_with('W') {
            super::Severity::Warning
        } else {
            super::Severity::Error
        }
    }

    /// Looks a code up by its text, case-insensitively.
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

catalogue! {
    InvalidUtf8 = "E0100", "the file is not valid UTF-8",
"A .route file must be UTF-8 text. routec found a byte sequence that is not UTF-8 at the
offset shown; the file may be binary, or saved in another encoding (Latin-1, UTF-16).

Fix: save the file as UTF-8.";

    UnexpectedToken = "E0101", "the parser did not expect this token here",
"The text does not fit the grammar at this point. The message lists what could stand
here instead. routec recovers at the next statement or closing brace and goes on, so
one run reports every syntax error of a file; errors after the first may be follow-ups
of the first.

    service reviews {
      subset v1 v2        // error: expected `,`, `{` or a new statement
    }

Fix: write `subset v1, v2`.";

    UnterminatedString = "E0102", "a string is not closed before the end of the line",
"Strings are written in double quotes on one line: \"/api/v2/\". A string that is not
closed before the end of the line is an error.

Fix: add the closing quote.";

    InvalidCharacter = "E0103", "a character that no token starts with",
"This character cannot start any token of the language. Names are letters, digits, `-`
and `_`; text that contains other characters (paths, header values, regexes) goes in
double quotes.

    when header x-user == @admin -> v1      // error: no token starts with `@`
    when header x-user == \"@admin\" -> v1  // fine";

    InvalidLiteral = "E0104", "a number, duration, percentage or string escape is malformed",
"Integers must fit in 64 bits, durations are a number with a unit (ms, s, m, h), and
strings only know the escapes \\\\, \\\", \\n, \\t and \\u{HEX}.

    timeout 3sec     // error: the unit is `s`
    timeout 3s       // fine";

    UnknownSubset = "E0201", "a route names a subset the service does not define (Envoy: 503 UH)",
"A destination names a subset that no `subset` line of the service defines. Istio
accepts such a VirtualService, but the subset's cluster has no endpoints: every request
sent there fails with 503 and the response flag UH (no healthy upstream).

    service reviews {
      subset v1, v2
      routes { else -> v3 }          // error: reviews has no subset v3
    }

Fix: define the subset (`subset v3`) or route to one that exists.";

    UnknownService = "E0202", "a name refers to a service that is not declared",
"A destination, `calls` list or other reference names a service that no loaded file
declares. Services are visible across every file of a compilation; a file that is not
part of it can be brought in with `import \"path.route\"`.

Fix: declare the service, correct the name, or import the file that declares it.";

    DuplicateName = "E0203", "two declarations share one name",
"Two services in one namespace, two subsets of one service or two policies visible in
one file have the same name. Later references could not say which one they mean, and
Kubernetes would keep only one of the objects.

Fix: rename or remove one of them.";

    UnknownPolicy = "E0204", "`use` names a policy that is not declared or imported",
"`use NAME` applies a named policy. The policy must be declared in this file or in a
file it imports (`import std/resilience` brings in the standard presets).

Fix: declare the policy, correct the name, or add the import.";

    UnresolvedImport = "E0205", "an import names a file that cannot be read or a standard module that does not exist",
"`import std/NAME` loads a module of the standard library shipped in the binary;
`import \"path.route\"` loads a file relative to the importing file. routec could not
find or read what this import names.

Fix: correct the path. The standard modules are: std/resilience.";

    MisplacedStatement = "E0206", "a statement that is not allowed where it stands",
"Each block takes its own statements: a service takes host, port, subset, accepts,
idempotency-key, timeout, retry, pool, eject, use and routes; a policy takes timeout,
retry, pool and eject; a rule's block takes timeout, retry and use. A `namespace` line
must come before the first declaration.

Fix: move the statement to a block that takes it.";

    DuplicateSetting = "E0207", "a setting is given twice in one block",
"A block states each setting once: two `timeout` lines in one service leave the reader
guessing which one wins.

Fix: keep one of them.";

    DuplicateHost = "E0208", "two declarations configure the same host",
"Each host has one route table and one destination policy across all files. Istio
merges VirtualServices for one host in no guaranteed order, so splitting them is a
source of routes that come and go.

Fix: keep one declaration per host and move the rules into it.";

    DuplicateNamespace = "E0209", "a file says `namespace` twice",
"A file has at most one `namespace` line, before its declarations; a service in another
namespace says so itself with `service NAME in NAMESPACE`.

Fix: remove one `namespace` line.";

    MissingHost = "E0211", "an external service or `expose` block names no host",
"A service of the mesh is found at `NAME.NAMESPACE.svc.cluster.local` unless it says
otherwise; an external service or an `expose` block has no such default and must name
the hosts it answers for.

    external payments { port 443 tls }                          // error
    external payments { host api.payments.example  port 443 tls } // fine";

    WeightsNotHundred = "E0301", "the weights of a split do not add up to 100%",
"Istio requires the weights of the destinations of one route to add up to 100.

    else -> v1 90%, v2 20%           // error: 110%
    else -> v1 80%, v2 20%           // fine

Fix: adjust the weights; the quick fix rescales them proportionally.";

    DuplicateDestination = "E0302", "one split names the same destination twice",
"A split sends traffic to the same subset (or service) twice. Envoy treats them as one
cluster and the weights add up, which is rarely what was meant.

Fix: merge the two entries and add their weights.";

    MissingCatchAll = "E0303", "a route table has no catch-all rule (Envoy: 404 NR)",
"When no rule of a route table matches a request, Envoy answers 404 (or 503 through a
gateway) with the response flag NR (no route). The last rule of every table should be
`else -> ...`.

    routes {
      when header x-qa-user == \"true\" -> v2
    }                                // error: other requests match nothing
    routes {
      when header x-qa-user == \"true\" -> v2
      else -> v1                     // fine
    }

Fix: add `else -> SUBSET` as the last rule.";

    UnreachableRule = "W0304", "a rule can never match: an earlier rule takes every request it would",
"Rules are tried top to bottom and the first match wins. A rule after `else`, or one
whose every match is at least as narrow as an earlier rule's match (the same conditions
or more; a longer prefix of the same path), never receives a request.

    when path ^= \"/api\" -> v1
    when path ^= \"/api/v2\" -> v2     // error: /api already takes /api/v2

Fix: move the narrower rule above the wider one, or delete it.";

    MissingWeight = "E0305", "a split of several destinations gives no weight to some of them",
"When a rule sends traffic to more than one destination, each needs a weight in percent.

    else -> v1, v2              // error
    else -> v1 50%, v2 50%      // fine";

    ConflictingConditions = "E0306", "one match tests the same field twice",
"Within one match, conditions are joined by `and`, and Istio keeps one test per field:
one path, one method, one test per header or query parameter. Two tests of one field
cannot both be emitted (and an exact path cannot equal two strings at once).

    when path ^= \"/api\" and path ^= \"/v2\" -> v2     // error
    when path ^= \"/api/v2\" -> v2                      // fine

Fix: fold the two tests into one, or use `or` if either should match.";

    UnsafeRetry = "E0401", "retries that can repeat a non-idempotent request",
"The retry conditions 5xx, gateway-error, retriable-4xx, retriable-status-codes, status
codes and gRPC statuses fire after the server received the request. If the route can
carry POST or PATCH (or any method, when the service does not say which it accepts),
a retry can charge a card twice or create two orders.

Safe conditions fire only when the request never reached the server: reset,
connect-failure, refused-stream (and reset-before-request, envoy-ratelimited).

Ways out:
  - declare the methods the service serves: `accepts GET, HEAD`
  - match idempotent methods in the rule: `when method == GET -> ...`
  - declare the header the server deduplicates by: `idempotency-key \"Idempotency-Key\"`
  - retry only on safe conditions: `retry 2 x 1s on reset, connect-failure`";

    TimeoutBudget = "E0402", "the timeout is shorter than per-try timeout x (attempts + 1)",
"The overall timeout includes every retry. With `timeout 2s` and `retry 2 x 1s`, three
attempts of up to 1s each need 3s; the route gives up after 2s, so the last retry can
never run and the configuration promises more than it does.

Fix: raise the timeout to at least per-try x (attempts + 1), or lower the attempts or
the per-try timeout.";

    UnknownRetryCondition = "E0403", "a retry condition that Envoy does not know",
"Retry conditions are Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on values:
5xx, gateway-error, reset, reset-before-request, connect-failure, envoy-ratelimited,
retriable-4xx, refused-stream, retriable-status-codes, retriable-headers,
http3-post-connect-failure, cancelled, deadline-exceeded, internal,
resource-exhausted, unavailable, or an HTTP status code (e.g. 503).";

    AttemptsZeroWithSettings = "E0404", "`retry 0` with a per-try timeout or conditions",
"`retry 0` (or `retry off`) turns retries off; a per-try timeout or retry conditions
next to it have no effect, and Istio rejects them.

Fix: write `retry off`, or give a positive number of attempts.";

    UnknownMethod = "E0405", "a name that is not an HTTP method",
"Methods are GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE and PATCH,
written in capitals.";

    LocalityWithoutEjection = "E0701", "locality load balancing without outlier detection: failover never happens",
"Locality-aware load balancing keeps traffic in the caller's zone and region, and
fails over to the next locality only when the endpoints there are unhealthy. Envoy learns
that only from outlier detection: without `eject`, it never sees an endpoint as
unhealthy, and failover never happens.

    service search {
      locality failover zone, region          // error
    }
    service search {
      locality failover zone, region
      eject after 5 consecutive 5xx every 10s for 30s   // fine
    }";

    EjectEverything = "W0702", "outlier detection that can eject every endpoint",
"With `max` over 50% (or no `min-healthy`), a wave of errors can eject most or all
endpoints of a service at once, turning a partial failure into a full outage (503 UH).
Istio's own guidance keeps ejection at or below 50% and sets a minimum of healthy
endpoints below which ejection stops.

Fix: `eject after 5 consecutive 5xx every 10s for 30s { max 50% min-healthy 30% }`.";

    EjectTooEager = "W0703", "outlier detection after 1 or 2 consecutive errors",
"Ejecting an endpoint after one or two errors reacts to noise: a single slow
dependency or a deploy ejects healthy endpoints and shifts their load onto the rest.
Five consecutive errors is the common starting point.";

    UnscopedFault = "E0704", "fault injection on a rule that every request can match",
"Injecting faults into production traffic is an outage, not a test. Scope the rule by a
header that only synthetic traffic carries, or say explicitly that every request the
rule matches is meant:

    when header x-chaos-test == \"true\" -> v1 { fault abort 503 10% }   // fine
    else -> v1 { fault abort 503 10% unscoped }                          // fine, on purpose";

    RetryOnFault = "W0705", "retries or a timeout on a rule that injects faults",
"Istio does not retry injected aborts, and an injected delay counts against the route
timeout, so retry and timeout settings on a rule with fault injection do not behave as
they would for real failures; the test does not show what production would do.

Fix: test resilience with faults on the callee's rule, and keep retries on the caller.";

    UnsafeMirror = "W0706", "mirroring a route that can carry non-idempotent requests",
"A mirrored request runs on the shadow target too. If the route can carry POST or PATCH
(or any method, when the service declares none), the shadow repeats their side effects:
a second charge, a second e-mail, a second row.

Fix: mirror only idempotent traffic (`accepts GET, HEAD` or a method match), or declare
the shadow target safe for it with `shadow-safe` (it writes nowhere that matters).";

    UnusedSubset = "W0707", "a subset that no route sends traffic to",
"A subset that no rule or mirror names is either left over or meant for a route that
was forgotten. Istio keeps its cluster around regardless.";

    MaglevNotPrime = "E0708", "a Maglev table size that is not prime",
"Envoy's Maglev load balancer requires a prime table size (65537 by default).";

    RedirectNotRedirectCode = "E0709", "a redirect with a status code that is not a redirection",
"`redirect ... code N` takes a 3xx status: 301, 302, 303, 307 or 308.";

    FaultPercentOutOfRange = "E0710", "a fault percentage outside 0.0001% to 100%",
"Istio's fault percentages range from 0.0001 to 100.";

    DnsWildcardHost = "E0711", "DNS resolution of a wildcard host",
"An external service resolved by DNS needs hosts DNS can resolve: a wildcard host
(`*.example.com`) has no address to look up. Use `resolve none` for wildcards.";

    TcpWithoutAddress = "E0712", "an external TCP port without addresses or endpoints",
"Plain TCP carries no host name, so Istio tells external TCP services apart by address:
a ServiceEntry with a TCP port and `resolve none` needs `address` lines (IPs or CIDRs).";

    DuplicateHostPort = "E0713", "two external services claim the same host and port",
"Two ServiceEntries for one host and port conflict; Istio picks one of them.";

    HttpsWithoutTls = "E0714", "an HTTPS or TLS listener without TLS settings",
"A gateway listener for HTTPS or TLS must say how TLS is handled: `simple cert NAME`,
`mutual cert NAME`, `passthrough`, `istio-mutual`.

    listen https 443 host \"shop.example.com\"                       // error
    listen https 443 host \"shop.example.com\" simple cert shop-cert // fine";

    InvalidResponseStatus = "E0716", "a direct response with a status outside 200-599",
"`-> respond STATUS` answers without contacting any service; Istio takes a status from
200 to 599.

    else -> respond 999      // error
    else -> respond 503 \"maintenance\"   // fine";

    DuplicatePortName = "E0715", "two listeners of one gateway share a port name",
"Server port names must be unique within a gateway.";

    InvalidRegex = "E0501", "a regular expression that Envoy would reject (RE2)",
"Istio and Envoy use RE2: no look-around ((?=...), (?!...), (?<=...), (?<!...)), no
backreferences (\\1), a pattern of 1 to 1024 bytes. A regex matches the whole value.

Fix: rewrite the pattern without the unsupported construct; a prefix match (^=) or an
exact match (==) often does the job.";

    RegexIsLiteral = "W0502", "a regex that is a plain exact or prefix match",
"Regex matches cost more in Envoy than exact or prefix matches and are harder to read.
This pattern matches exactly one string, or every string with one prefix.

    when path ~= \"/api/.*\" -> v2     // warning
    when path ^= \"/api/\" -> v2       // the same, cheaper

Fix: use == or ^=.";

    InvalidDuration = "E0601", "a duration Istio rejects: under 1ms or not whole milliseconds",
"Istio durations must be at least 1ms and, for timeouts and retries, whole
milliseconds.

    timeout 500us      // error
    timeout 1.5s       // fine: 1500ms";

    PortOutOfRange = "E0602", "a port outside 1-65535",
"Port numbers are 1 to 65535.";

    InvalidName = "E0603", "a name Kubernetes rejects: not a DNS-1123 label",
"Service, subset, policy and namespace names become Kubernetes object names and must be
DNS-1123 labels: at most 63 characters, lower-case letters, digits and `-`, starting
and ending with a letter or digit.

    service Reviews_v2 { }     // error
    service reviews-v2 { }     // fine";

    InvalidLabel = "E0604", "a label key or value Kubernetes rejects",
"Label keys are an optional DNS subdomain prefix and `/`, then a name of at most 63
characters of letters, digits, `-`, `_` and `.`, starting and ending with a letter or
digit. Values follow the same rule for the name, and may be empty.";

    InvalidWeight = "E0605", "a weight or percentage that is not a whole number from 0 to 100",
"Istio weights and outlier-detection percentages are whole numbers from 0 to 100:
`v1 90%`, not `v1 90.5%`; `max 50%`, not `max 150%`.";

    InvalidPoolLimit = "E0608", "a connection-pool limit outside Istio's range",
"Pool limits (connections, pending, requests, per-connection) are 32-bit integers in
Istio: at most 2147483647. For no limit, write `unlimited`.

    pool { connections 5000000000 }     // error
    pool { connections unlimited }      // fine";

    UnknownEjectionClass = "E0609", "outlier detection counts something other than 5xx or gateway-error",
"`eject after N consecutive CLASS` counts either every 5xx answer (`5xx`) or only 502,
503 and 504 (`gateway-error`); Envoy has no other class of consecutive errors.

    eject after 5 consecutive 4xx          // error
    eject after 5 consecutive 5xx          // fine";

    UnknownValue = "E0610", "a word that is not one of the values a setting takes",
"Settings such as `balance`, `resolve`, `location`, `tls`, `egress` and port protocols take
one of a fixed set of words, which routec spells the way Istio does in the YAML:

    balance least-request | round-robin | random | passthrough
    resolve dns | static | none | dns-round-robin | dynamic-dns
    location external | internal
    tls istio-mutual | simple | mutual | disable
    egress registry-only | allow-any

The Istio spelling (`LEAST_REQUEST`) is accepted too.";

    InvalidHost = "E0606", "a host name Istio rejects",
"Hosts are DNS names: labels of letters, digits and `-`, separated by dots, at most 253
characters; a leading `*.` makes a wildcard.";

    InvalidHeaderName = "E0607", "a header or query parameter name Istio rejects",
"Header names in matches are lower-case (HTTP/2 sends them so) and consist of
letters, digits and `-`, `_`, `.`; pseudo-headers such as :authority have their own
match fields.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} appears twice");
            assert_eq!(text.len(), 5, "{text}");
            assert!(text.starts_with('E') || text.starts_with('W'), "{text}");
            assert!(!code.summary().is_empty() && !code.explanation().is_empty());
        }
    }

    #[test]
    fn codes_parse_case_insensitively() {
        assert_eq!(Code::parse("e0201"), Some(Code::UnknownSubset));
        assert_eq!(Code::parse("W0502"), Some(Code::RegexIsLiteral));
        assert_eq!(Code::parse("E9999"), None);
    }
}
