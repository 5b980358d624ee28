//! The checked, target-neutral model of the mesh.
//!
//! Built by `check::resolve` from the syntax trees of every file of a compilation: names
//! are resolved (a destination knows its host and subset), policies applied (`use`), and
//! values typed (durations in nanoseconds, methods as an enum). Spans stay on everything a
//! later check or a backend comment may point at. Backends read only this model, never
//! the syntax tree.

use std::sync::Arc;

use crate::source::Span;
use crate::syntax::ast;

#[derive(Debug, Default)]
pub struct Mesh {
    /// Services, external services and exposed route tables, in the order of their
    /// files, then of their declarations.
    pub services: Vec<Service>,
    pub gateways: Vec<Gateway>,
    /// `mesh { egress registry-only }`
    pub egress: Option<Located<String>>,
    pub sidecars: Vec<Sidecar>,
}

/// `sidecar NAME { egress "ns/*" ... }`: what the sidecars of a namespace may reach.
#[derive(Debug, Clone, PartialEq)]
pub struct Sidecar {
    pub name: String,
    pub namespace: String,
    pub name_span: Span,
    /// `namespace/host` patterns of `egress[].hosts`.
    pub egress_hosts: Vec<String>,
    /// `REGISTRY_ONLY` or `ALLOW_ANY`, when written.
    pub outbound: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub address: String,
    /// Port name to the endpoint's own port number.
    pub ports: Vec<(String, u32)>,
}

/// What a `Service` of the model was declared as.
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceKind {
    /// `service`: a workload of the mesh.
    Mesh,
    /// `external`: outside the mesh, registered with a ServiceEntry.
    External(Box<External>),
    /// `expose NAME on GATEWAY`: a route table bound to gateways, routing to services.
    Expose,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct External {
    /// `MESH_EXTERNAL` or `MESH_INTERNAL`, when written.
    pub location: Option<String>,
    /// `DNS`, `STATIC`, `NONE`, `DNS_ROUND_ROBIN`, when written.
    pub resolution: Option<Located<String>>,
    /// A `resolve` line was written but named no known mode (already reported).
    pub resolution_invalid: bool,
    pub addresses: Vec<Located<String>>,
    pub endpoints: Vec<Located<Endpoint>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Gateway {
    pub name: String,
    pub namespace: String,
    pub name_span: Span,
    pub selector: Vec<(String, String)>,
    pub servers: Vec<Server>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    pub number: u16,
    /// As written: `HTTP`, `https`, ...
    pub protocol: String,
    pub name: String,
    pub hosts: Vec<String>,
    pub tls: Option<ServerTls>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServerTls {
    /// Istio's mode: `SIMPLE`, `PASSTHROUGH`, `MUTUAL`, `ISTIO_MUTUAL`, ...
    pub mode: String,
    pub credential: Option<String>,
}

/// Destination policy: for a whole host, one port, or one subset.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DestinationPolicy {
    pub pool: Option<Located<ConnectionPool>>,
    pub eject: Option<Located<OutlierDetection>>,
    pub balance: Option<Located<LoadBalancer>>,
    pub locality: Option<Located<Locality>>,
    pub tls: Option<Located<ClientTls>>,
}

impl DestinationPolicy {
    pub fn is_empty(&self) -> bool {
        self.pool.is_none()
            && self.eject.is_none()
            && self.balance.is_none()
            && self.locality.is_none()
            && self.tls.is_none()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoadBalancer {
    /// `LEAST_REQUEST`, `ROUND_ROBIN`, `RANDOM`, `PASSTHROUGH`
    pub simple: Option<String>,
    pub hash: Option<ConsistentHash>,
    pub warmup: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConsistentHash {
    pub key: HashKey,
    pub table: Option<HashTable>,
    /// Where the table size is written.
    pub table_span: Option<Span>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HashKey {
    Header(String),
    Cookie {
        name: String,
        ttl: Option<Duration>,
        path: Option<String>,
    },
    SourceIp,
    Query(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HashTable {
    Ring(u64),
    Maglev(u64),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Locality {
    FailoverPriority(Vec<String>),
    Failover {
        from: String,
        to: String,
    },
    Distribute {
        from: String,
        to: Vec<(String, u32)>,
    },
    Off,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClientTls {
    /// `DISABLE`, `SIMPLE`, `MUTUAL`, `ISTIO_MUTUAL`
    pub mode: String,
    pub credential: Option<String>,
    pub sni: Option<String>,
}

#[derive(Debug)]
pub struct Service {
    pub kind: ServiceKind,
    pub name: String,
    /// Empty when the file names no namespace: objects then carry none, and apply to
    /// the namespace they are applied in.
    pub namespace: String,
    /// The first of `hosts`.
    pub host: String,
    pub hosts: Vec<String>,
    /// For `expose`: the gateways the route table is bound to.
    pub gateways: Vec<String>,
    /// The service's name in its declaration.
    pub name_span: Span,
    /// The whole declaration.
    pub span: Span,
    pub ports: Vec<Port>,
    pub subsets: Vec<Subset>,
    /// `accepts`: the methods the service serves; `None` when it does not say.
    pub accepts: Option<Accepts>,
    pub idempotency_key: Option<Located<String>>,
    /// `shadow-safe`: where it was declared.
    pub shadow_safe: Option<Span>,
    pub timeout: Option<Located<Duration>>,
    pub retry: Option<Arc<Located<RetryPolicy>>>,
    /// Destination policy for the whole host; `None` when it states none.
    pub policy: Option<Box<DestinationPolicy>>,
    pub routes: Option<RouteTable>,
}

impl Service {
    pub fn subset(&self, name: &str) -> Option<&Subset> {
        self.subsets.iter().find(|s| s.name == name)
    }
}

/// A value with the span it was written at and, when it came from a policy, the span of
/// the `use` that applied it.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub span: Span,
    pub via: Option<Span>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Port {
    pub number: u16,
    /// As written; Istio reads protocols case-insensitively.
    pub protocol: Option<String>,
    pub name: Option<String>,
    pub policy: Option<Box<DestinationPolicy>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Subset {
    pub name: String,
    /// Label pairs in the order written.
    pub labels: Vec<(String, String)>,
    pub policy: Option<Box<DestinationPolicy>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Accepts {
    pub methods: Vec<Method>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Connect,
    Options,
    Trace,
    Patch,
}

impl Method {
    pub const ALL: [Method; 9] = [
        Method::Get,
        Method::Head,
        Method::Post,
        Method::Put,
        Method::Delete,
        Method::Connect,
        Method::Options,
        Method::Trace,
        Method::Patch,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Connect => "CONNECT",
            Method::Options => "OPTIONS",
            Method::Trace => "TRACE",
            Method::Patch => "PATCH",
        }
    }

    pub fn parse(text: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == text)
    }

    /// RFC 9110 9.2.2: a repeated request has the effect of one. POST and PATCH are
    /// not; CONNECT opens a tunnel, which is not safe to repeat either.
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Method::Post | Method::Patch | Method::Connect)
    }
}

/// A set of methods, as bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MethodSet(u16);

impl MethodSet {
    pub const ALL: MethodSet = MethodSet((1 << Method::ALL.len()) - 1);

    pub fn contains(self, method: Method) -> bool {
        self.0 & (1 << method as u16) != 0
    }

    pub fn union(self, other: MethodSet) -> MethodSet {
        MethodSet(self.0 | other.0)
    }

    pub fn difference(self, other: MethodSet) -> MethodSet {
        MethodSet(self.0 & !other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Method> {
        Method::ALL.into_iter().filter(move |m| self.contains(*m))
    }
}

impl FromIterator<Method> for MethodSet {
    fn from_iter<I: IntoIterator<Item = Method>>(iter: I) -> MethodSet {
        MethodSet(iter.into_iter().fold(0, |bits, m| bits | (1 << m as u16)))
    }
}

/// A duration in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub u64);

impl Duration {
    pub fn millis(self) -> u64 {
        self.0 / 1_000_000
    }

    /// Istio's text form: whole seconds as `3s`, anything else in milliseconds.
    pub fn to_istio(self) -> String {
        let ms = self.millis();
        if ms.is_multiple_of(1000) {
            format!("{}s", ms / 1000)
        } else {
            format!("{ms}ms")
        }
    }

    /// How a person reads it: `1.5s`, `250ms`, `2m`.
    pub fn human(self) -> String {
        let ns = self.0;
        if ns.is_multiple_of(60_000_000_000) && ns >= 60_000_000_000 {
            format!("{}m", ns / 60_000_000_000)
        } else if ns.is_multiple_of(1_000_000) && ns >= 1_000_000_000 {
            let ms = ns / 1_000_000;
            if ms.is_multiple_of(1000) {
                format!("{}s", ms / 1000)
            } else {
                format!("{}s", ms as f64 / 1000.0)
            }
        } else if ns.is_multiple_of(1_000_000) {
            format!("{}ms", ns / 1_000_000)
        } else {
            format!("{}us", ns / 1_000)
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (Istio's `attempts`).
    pub attempts: u32,
    pub per_try: Option<Located<Duration>>,
    /// `None`: Istio's default conditions.
    pub conditions: Option<Vec<Located<String>>>,
}

/// Istio's retry conditions when `retryOn` is not set.
pub const DEFAULT_RETRY_ON: &[&str] = &[
    "connect-failure",
    "refused-stream",
    "unavailable",
    "cancelled",
    "retriable-status-codes",
];

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConnectionPool {
    pub max_connections: Option<Limit>,
    pub max_pending: Option<Limit>,
    pub max_requests: Option<Limit>,
    pub per_connection: Option<Limit>,
    /// `h2-upgrade` (true) or `h2-upgrade off` (false).
    pub h2_upgrade: Option<bool>,
}

/// A pool limit: a number, or `unlimited`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Max(u32),
    Unlimited,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutlierDetection {
    pub consecutive_errors: u32,
    /// `5xx` counts every 5xx; `gateway-error` only 502, 503 and 504.
    pub gateway_errors_only: bool,
    pub interval: Option<Duration>,
    pub base_ejection: Option<Duration>,
    pub max_ejection_percent: Option<u32>,
    pub min_health_percent: Option<u32>,
    /// Where the error count and the `max` percentage are written, for labels.
    pub errors_span: Span,
    pub max_span: Option<Span>,
}

#[derive(Debug, Clone)]
pub struct RouteTable {
    pub kind: RouteKind,
    pub rules: Vec<Rule>,
    pub span: Span,
}

/// Which of a VirtualService's lists a table becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    Http,
    Tls,
    Tcp,
}

#[derive(Debug, Clone)]
pub struct Rule {
    /// Empty for the catch-all `else`.
    pub matches: Arc<Vec<ast::Match>>,
    pub catch_all: bool,
    /// The `when ...` or `else` head of the rule, for labels.
    pub head_span: Span,
    pub destinations: Vec<Destination>,
    /// False when a destination did not resolve (already reported): the rule still
    /// counts for reachability and the catch-all, not for split checks.
    pub resolved: bool,
    /// Rule settings, falling back to the service's.
    pub timeout: Option<Located<Duration>>,
    pub retry: Option<Arc<Located<RetryPolicy>>>,
    pub mirrors: Vec<Mirror>,
    pub faults: Vec<Located<Fault>>,
    pub rewrite: Option<Box<Rewrite>>,
    pub headers: Option<Box<Headers>>,
    pub cors: Option<Box<Located<Cors>>>,
    /// `-> redirect ...` / `-> respond ...` instead of destinations.
    pub action: Option<Box<RouteAction>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Mirror {
    pub destination: Destination,
    pub percent: Option<f64>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub kind: FaultKind,
    pub percent: Option<f64>,
    pub percent_span: Option<Span>,
    pub unscoped: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind {
    Delay(Duration),
    Abort(u32),
    AbortGrpc(String),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rewrite {
    pub uri: Option<String>,
    pub authority: Option<String>,
    pub regex: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct HeaderEdits {
    pub set: Vec<(String, String)>,
    pub add: Vec<(String, String)>,
    pub remove: Vec<String>,
}

impl HeaderEdits {
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.add.is_empty() && self.remove.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Headers {
    pub request: HeaderEdits,
    pub response: HeaderEdits,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cors {
    pub origins: Vec<(ast::StringOp, String)>,
    pub methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age: Option<Duration>,
    pub credentials: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RouteAction {
    Redirect {
        uri: Option<String>,
        authority: Option<String>,
        scheme: Option<String>,
        port: Option<u16>,
        code: Option<Located<u32>>,
        span: Span,
    },
    Respond {
        status: Located<u32>,
        body: Option<String>,
        span: Span,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Destination {
    pub host: String,
    pub subset: Option<String>,
    pub port: Option<u16>,
    /// Percent, when written.
    pub weight: Option<Located<f64>>,
    pub span: Span,
}
