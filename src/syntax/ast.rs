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
    /// Text the parser skipped while recovering.
    Error(Span),
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
    IdempotencyKey(Spanned<String>),
    Timeout(Spanned<Duration>),
    Retry(Box<RetrySpec>),
    Use(Name),
    Pool(Vec<PoolLimit>),
    Eject(Box<EjectSpec>),
    Routes(RouteTable),
    Error,
}

impl StmtKind {
    /// The keyword that starts the statement, for messages.
    pub fn keyword(&self) -> &'static str {
        match self {
            StmtKind::Host(_) => "host",
            StmtKind::Port(_) => "port",
            StmtKind::Subset(_) => "subset",
            StmtKind::Accepts(_) => "accepts",
            StmtKind::IdempotencyKey(_) => "idempotency-key",
            StmtKind::Timeout(_) => "timeout",
            StmtKind::Retry(_) => "retry",
            StmtKind::Use(_) => "use",
            StmtKind::Pool(_) => "pool",
            StmtKind::Eject(_) => "eject",
            StmtKind::Routes(_) => "routes",
            StmtKind::Error => "error",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct PortDecl {
    pub number: Spanned<u64>,
    /// `http`, `grpc`, `tcp`, ...
    pub protocol: Option<Name>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SubsetDecl {
    /// `subset v1, v2`: each selects the label `version` with its own name.
    Versions(Vec<Name>),
    /// `subset canary { version: v3, track: canary }`
    Labels(Name, Vec<LabelPair>),
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
    pub rules: Vec<Rule>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub guard: Guard,
    pub destinations: Vec<Destination>,
    /// Settings for this rule only: `-> v1 { timeout 1s }`.
    pub body: Option<Block>,
    pub span: Span,
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
