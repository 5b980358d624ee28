//! The syntax tree: what the user wrote, with a byte span on every node.
//!
//! Nothing here is resolved or validated beyond the grammar: names are text, numbers are
//! as written (with the span to point at), and statements of every block share one
//! `Stmt` type so that a misplaced statement parses and is reported by the checker with a
//! precise message. `Stmt::Error` and `Item::Error` mark places where the parser recovered.

use crate::source::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub node: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(node: T, span: Span) -> Spanned<T> {
        Spanned { node, span }
    }
}

pub type Name = Spanned<String>;

/// A parsed file.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Module {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Namespace(Name),
    Import(Import),
    Service(Service),
    Policy(Policy),
    /// `external NAME { ... }`: a service outside the mesh (Istio ServiceEntry).
    External(Service),
    /// `gateway NAME { ... }`: an ingress gateway and its listeners.
    Gateway(Service),
    /// `expose NAME on GATEWAY, ... { host ...  routes { ... } }`: routes bound to gateways.
    Expose(Expose),
    /// `mesh { ... }`: mesh-wide settings.
    Mesh(Block),
    /// `sidecar NAME { egress "ns/*", ... }`: what the sidecars of a namespace may reach.
    Sidecar(Service),
    /// Text the parser skipped while recovering.
    Error(Span),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expose {
    pub name: Name,
    pub namespace: Option<Name>,
    /// The gateways it binds to; `mesh` stands for the sidecars.
    pub gateways: Vec<Name>,
    pub body: Block,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    pub target: ImportTarget,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ImportTarget {
    /// `import std/resilience`: a module of a library; `std` is the only root.
    Module { root: Name, module: Name },
    /// `import "common.route"`, relative to the importing file.
    Path(Spanned<String>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Service {
    pub name: Name,
    /// `in NAMESPACE`
    pub namespace: Option<Name>,
    pub body: Block,
    pub span: Span,
}

/// `policy NAME { ... }`: settings declared once and applied with `use NAME`.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub name: Name,
    pub body: Block,
    pub span: Span,
}

/// Statements between braces, with the span of the braces.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    Host(Spanned<String>),
    Port(PortDecl),
    /// `subset v1, v2` (each selects `version: NAME`) or `subset canary { k: v, ... }`.
    Subset(SubsetDecl),
    Accepts(Vec<Name>),
    /// `shadow-safe`: mirrored requests may reach this service whatever their method.
    ShadowSafe,
    IdempotencyKey(Spanned<String>),
    Timeout(Spanned<Duration>),
    Retry(Box<RetrySpec>),
    Use(Name),
    Pool(Vec<PoolLimit>),
    Eject(Box<EjectSpec>),
    Routes(RouteTable),
    /// `mirror v2 20%`
    Mirror(MirrorSpec),
    /// `fault delay 3s 50%`, `fault abort 503 10%`, `... unscoped`
    Fault(Box<FaultSpec>),
    /// `rewrite path "/x"`, `rewrite authority "h"`, `rewrite regex "re" "sub"`
    Rewrite(RewriteSpec),
    /// `request-headers { set k "v"  add k "v"  remove k }` (and `response-headers`)
    Headers(HeaderOps),
    Cors(Box<CorsSpec>),
    /// `balance least-request`, `balance hash header x-user`, ... `warmup 30s`
    Balance(Box<BalanceSpec>),
    /// `locality failover zone, region` and friends
    Locality(LocalitySpec),
    /// `tls istio-mutual`, `tls simple sni "x"`, `tls mutual cert NAME`
    Tls(TlsSpec),
    /// A keyword and values: `resolve dns`, `location external`, `address "10.0.0.1"`,
    /// `egress registry-only`, `selector istio: ingressgateway`, `endpoint "1.2.3.4"`.
    Setting(Setting),
    /// `listen https 443 host "a.example" tls simple cert NAME`
    Listen(Box<Listener>),
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MirrorSpec {
    pub target: Vec<Name>,
    pub port: Option<Spanned<u64>>,
    pub percent: Option<Spanned<f64>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpec {
    pub kind: FaultKind,
    pub percent: Option<Spanned<f64>>,
    /// `unscoped`: the author means every request the rule matches.
    pub unscoped: Option<Span>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    Delay(Spanned<Duration>),
    /// An HTTP status.
    Abort(Spanned<u64>),
    /// A gRPC status name: `abort grpc UNAVAILABLE`.
    AbortGrpc(Name),
}

#[derive(Clone, Debug, PartialEq)]
pub enum RewriteSpec {
    Path(Spanned<String>),
    Authority(Spanned<String>),
    Regex(Spanned<String>, Spanned<String>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderSide {
    Request,
    Response,
}

#[derive(Clone, Debug, PartialEq)]
pub struct HeaderOps {
    pub side: HeaderSide,
    pub ops: Vec<HeaderOp>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum HeaderOp {
    Set(Spanned<String>, Spanned<String>),
    Add(Spanned<String>, Spanned<String>),
    Remove(Spanned<String>),
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct CorsSpec {
    /// `origin == "..."`, `origin ^= "..."`, `origin ~= "..."`
    pub origins: Vec<(StringOp, Spanned<String>)>,
    pub methods: Vec<Name>,
    pub allow_headers: Vec<Spanned<String>>,
    pub expose_headers: Vec<Spanned<String>>,
    pub max_age: Option<Spanned<Duration>>,
    pub credentials: Option<Span>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BalanceSpec {
    pub kind: BalanceKind,
    pub warmup: Option<Spanned<Duration>>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum BalanceKind {
    /// `least-request`, `round-robin`, `random`, `passthrough`
    Simple(Name),
    Hash {
        key: HashKey,
        /// `ring 1024` or `maglev 65537`
        table: Option<(Name, Spanned<u64>)>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum HashKey {
    Header(Spanned<String>),
    Cookie {
        name: Spanned<String>,
        ttl: Option<Spanned<Duration>>,
        path: Option<Spanned<String>>,
    },
    SourceIp(Span),
    Query(Spanned<String>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum LocalitySpec {
    /// `locality failover zone, region` or label keys as strings
    FailoverPriority(Vec<Spanned<String>>),
    /// `locality failover from us-east to us-west`
    Failover {
        from: Spanned<String>,
        to: Spanned<String>,
    },
    /// `locality distribute from "r/z/*" to "r/z/*" 80%, "r/z2/*" 20%`
    Distribute {
        from: Spanned<String>,
        to: Vec<(Spanned<String>, Spanned<f64>)>,
    },
    /// `locality off`
    Off(Span),
}

#[derive(Clone, Debug, PartialEq)]
pub struct TlsSpec {
    /// `istio-mutual`, `simple`, `mutual`, `disable`
    pub mode: Name,
    pub credential: Option<Spanned<String>>,
    pub sni: Option<Spanned<String>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub key: Name,
    pub values: Vec<Spanned<String>>,
    /// `selector istio: ingressgateway`, `endpoint "1.2.3.4" { labels }`
    pub labels: Vec<LabelPair>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Listener {
    pub protocol: Name,
    pub port: Spanned<u64>,
    pub name: Option<Name>,
    pub hosts: Vec<Spanned<String>>,
    pub tls: Option<TlsSpec>,
}

impl StmtKind {
    /// The keyword that starts the statement, for messages.
    pub fn keyword(&self) -> &'static str {
        match self {
            StmtKind::Host(_) => "host",
            StmtKind::Port(_) => "port",
            StmtKind::Subset(_) => "subset",
            StmtKind::Accepts(_) => "accepts",
            StmtKind::ShadowSafe => "shadow-safe",
            StmtKind::IdempotencyKey(_) => "idempotency-key",
            StmtKind::Timeout(_) => "timeout",
            StmtKind::Retry(_) => "retry",
            StmtKind::Use(_) => "use",
            StmtKind::Pool(_) => "pool",
            StmtKind::Eject(_) => "eject",
            StmtKind::Routes(_) => "routes",
            StmtKind::Mirror(_) => "mirror",
            StmtKind::Fault(_) => "fault",
            StmtKind::Rewrite(_) => "rewrite",
            StmtKind::Headers(h) => match h.side {
                HeaderSide::Request => "request-headers",
                HeaderSide::Response => "response-headers",
            },
            StmtKind::Cors(_) => "cors",
            StmtKind::Balance(_) => "balance",
            StmtKind::Locality(_) => "locality",
            StmtKind::Tls(_) => "tls",
            StmtKind::Setting(s) => setting_keyword(&s.key.node),
            StmtKind::Listen(_) => "listen",
            StmtKind::Error => "error",
        }
    }
}

/// The keywords of `StmtKind::Setting`, as `'static` text.
pub const SETTING_KEYWORDS: &[&str] = &[
    "resolve", "location", "address", "endpoint", "egress", "selector",
];

fn setting_keyword(key: &str) -> &'static str {
    SETTING_KEYWORDS
        .iter()
        .copied()
        .find(|k| *k == key)
        .unwrap_or("setting")
}

#[derive(Clone, Debug, PartialEq)]
pub struct PortDecl {
    pub number: Spanned<u64>,
    /// `http`, `grpc`, `tcp`, ...
    pub protocol: Option<Name>,
    /// `named NAME`: the port's name, where Istio shows one.
    pub name: Option<Name>,
    /// `port 9080 http with { ... }`: destination policy for this port only.
    pub policy: Option<Block>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SubsetDecl {
    /// `subset v1, v2`: each selects the label `version` with its own name.
    Versions(Vec<Name>),
    /// `subset canary { version: v3, track: canary }`
    Labels(Name, Vec<LabelPair>),
    /// `subset v2 with { ... }` or `subset canary { ... } with { ... }`: with a policy.
    WithPolicy(Name, Option<Vec<LabelPair>>, Block),
}

#[derive(Clone, Debug, PartialEq)]
pub struct LabelPair {
    pub key: Spanned<String>,
    pub value: Spanned<String>,
}

/// A duration as written; `nanos` is `None` when it overflows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Duration {
    pub nanos: Option<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RetrySpec {
    /// `retry off` is `attempts == 0` with no other settings.
    pub attempts: Spanned<u64>,
    pub per_try: Option<Spanned<Duration>>,
    /// `None`: no `on` clause, Istio's default conditions apply.
    pub conditions: Option<Vec<Name>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PoolLimit {
    pub kind: Spanned<PoolLimitKind>,
    /// `None` for `unlimited`.
    pub value: Spanned<Option<u64>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolLimitKind {
    /// TCP connections per host.
    Connections,
    /// Requests queued while waiting for a connection.
    Pending,
    /// Concurrent requests.
    Requests,
    /// Requests per connection before it is closed.
    PerConnection,
    /// Upgrade HTTP/1.1 connections to HTTP/2: value 1 (yes) or 0 (`off`).
    H2Upgrade,
}

/// `eject after 5 consecutive 5xx every 10s for 30s { max 50% min-healthy 30% }`
#[derive(Clone, Debug, PartialEq)]
pub struct EjectSpec {
    pub errors: Spanned<u64>,
    /// `5xx` or `gateway-error`.
    pub class: Name,
    pub interval: Option<Spanned<Duration>>,
    pub base_ejection: Option<Spanned<Duration>>,
    pub max_percent: Option<Spanned<f64>>,
    pub min_healthy: Option<Spanned<f64>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RouteTable {
    /// `routes tcp { }` / `routes tls { }`; `None`: decided by the ports' protocols.
    pub kind: Option<Name>,
    pub rules: Vec<Rule>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub guard: Guard,
    /// Empty when the rule redirects or responds directly.
    pub destinations: Vec<Destination>,
    /// `-> redirect ...` or `-> respond ...` instead of destinations.
    pub action: Option<Action>,
    /// Settings for this rule only: `-> v1 { timeout 1s }`.
    pub body: Option<Block>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// `-> redirect path "/login" code 302`: field, value pairs.
    Redirect(Vec<(Name, Spanned<String>)>, Span),
    /// `-> respond 503 "body"`
    Respond {
        status: Spanned<u64>,
        body: Option<Spanned<String>>,
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Guard {
    /// `when A and B or C`: OR of ANDs. Shared, so the model can hold it without a copy.
    When(std::sync::Arc<Vec<Match>>),
    /// `else`: the catch-all.
    Else(Span),
    /// The parser recovered inside the rule's condition.
    Error,
}

/// Conditions that must all hold.
#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    pub conditions: Vec<Condition>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub field: Field,
    pub test: Test,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    Path,
    Method,
    Header(Name),
    Query(Name),
    Authority,
    Scheme,
    /// The port the request arrived on (HTTP, TLS and TCP routes).
    Port,
    /// TLS server name (TLS routes).
    Sni,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Test {
    Compare(StringOp, Spanned<String>),
    Present,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StringOp {
    Exact,
    Prefix,
    Regex,
}

impl StringOp {
    pub fn symbol(self) -> &'static str {
        match self {
            StringOp::Exact => "==",
            StringOp::Prefix => "^=",
            StringOp::Regex => "~=",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Destination {
    /// `v1`, `reviews` or `reviews.v1`.
    pub target: Vec<Name>,
    pub port: Option<Spanned<u64>>,
    pub weight: Option<Spanned<f64>>,
    pub span: Span,
}
