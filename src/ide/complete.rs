//! Completion: what may be written at an offset, from the tokens before it.
//!
//! The text up to the offset is lexed again (the syntax tree of a file being typed is
//! often broken exactly there) and scanned once, left to right, keeping a stack of the
//! blocks the offset is in (service, policy, route table, rule body, pool, eject
//! options, subset labels) and, per block, where the statement being written starts.
//! The last token or two then decide: after `->` a destination, after `use` a policy,
//! at the start of a statement the keywords the block takes, and so on. A word the
//! cursor is in or just after is the prefix being typed: it is dropped, and the editor
//! filters the candidates by it. Inside a comment or an unclosed string: nothing.
//! Names (services, subsets, policies) come from the analysis; subsets declared in the
//! text above the offset are added in case the analysis dropped the service.

use logos::Logos;

use super::hover::{condition_safety, labels, RETRY_CONDITIONS};
use super::{clamp_offset, source_text, Completion, CompletionKind};
use crate::model::Method;
use crate::source::FileId;
use crate::syntax::ast::Item;
use crate::syntax::lexer::Tok;
use crate::Analysis;

const TOP_KEYWORDS: &[(&str, &str)] = &[
    ("namespace", "the namespace of this file's services"),
    ("import", "import std/NAME or import \"file.route\""),
    ("service", "service NAME { ... }"),
    ("policy", "settings to apply with `use NAME`"),
    ("external", "a service outside the mesh (ServiceEntry)"),
    ("gateway", "an ingress gateway and its listeners"),
    (
        "expose",
        "expose NAME on GATEWAY { host ...  routes { ... } }",
    ),
    ("mesh", "mesh-wide settings: egress registry-only"),
    ("sidecar", "what a namespace's sidecars may reach"),
];

const SERVICE_KEYWORDS: &[(&str, &str)] = &[
    (
        "host",
        "the host routed for (default NAME.NAMESPACE.svc.cluster.local)",
    ),
    ("port", "port 8080 http"),
    ("subset", "subset v1, v2 or subset NAME { label: value }"),
    ("accepts", "the HTTP methods the service serves"),
    (
        "idempotency-key",
        "the header the server deduplicates requests by",
    ),
    ("timeout", "the whole request's timeout, retries included"),
    ("retry", "retry 2 x 1s on 5xx, reset"),
    ("pool", "connection pool limits"),
    ("eject", "eject after 5 consecutive 5xx every 10s for 30s"),
    ("use", "apply a policy"),
    ("routes", "the route table: when ... -> ..., else -> ..."),
    (
        "balance",
        "the load balancer: least-request, round-robin, random, hash ...",
    ),
    ("locality", "locality failover zone, region"),
    (
        "tls",
        "TLS towards the service: istio-mutual, simple, mutual, disable",
    ),
    ("shadow-safe", "mirrored requests may reach this service"),
];

const EXTERNAL_KEYWORDS: &[(&str, &str)] = &[
    ("resolve", "resolve dns | static | none | dns-round-robin"),
    ("location", "location external | internal"),
    ("address", "address \"203.0.113.0/24\""),
    ("endpoint", "endpoint \"10.0.0.1\" { http: 8080 }"),
];

const EXPOSE_KEYWORDS: &[(&str, &str)] = &[
    ("host", "a host the gateway answers for; \"*\" for all"),
    ("routes", "the route table: when ... -> SERVICE:PORT, ..."),
    ("timeout", "the whole request's timeout, retries included"),
    ("retry", "retry 2 x 1s on 5xx, reset"),
    ("use", "apply a policy"),
];

const GATEWAY_KEYWORDS: &[(&str, &str)] = &[
    ("selector", "selector istio: ingressgateway"),
    (
        "listen",
        "listen https 443 host \"a.example.com\" simple cert SECRET",
    ),
];

const EGRESS_KEYWORDS: &[(&str, &str)] =
    &[("egress", "registry-only | allow-any, or hosts \"ns/*\"")];

const POLICY_KEYWORDS: &[&str] = &[
    "timeout", "retry", "pool", "eject", "balance", "locality", "tls",
];
const RULE_BODY_KEYWORDS: &[&str] = &[
    "timeout",
    "retry",
    "use",
    "mirror",
    "fault",
    "rewrite",
    "request-headers",
    "response-headers",
    "cors",
];
const LOAD_BALANCERS: &[&str] = &[
    "least-request",
    "round-robin",
    "random",
    "passthrough",
    "hash",
];
const POOL_KEYWORDS: &[&str] = &["connections", "pending", "requests", "per-connection"];
const EJECT_KEYWORDS: &[&str] = &["max", "min-healthy"];
const PROTOCOLS: &[&str] = &["http", "http2", "grpc", "tcp", "tls", "https"];

const RULE_KEYWORDS: &[(&str, &str)] = &[
    ("when", "a rule with conditions"),
    ("else", "the catch-all rule"),
];

const FIELDS: &[(&str, &str)] = &[
    ("path", "path == \"/x\", ^= prefix, ~= regex"),
    ("method", "method == GET"),
    ("header", "header NAME == \"value\" or header NAME present"),
    ("query", "query NAME == \"value\" or query NAME present"),
];

/// The kind of block a brace opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BlockKind {
    Top,
    Service,
    External,
    Expose,
    Gateway,
    /// `mesh { }` and `sidecar NAME { }`: `egress` only.
    Egress,
    Policy,
    Routes,
    RuleBody,
    Pool,
    Eject,
    Labels,
    Other,
}

#[derive(Debug)]
struct Frame<'s> {
    kind: BlockKind,
    /// Index of the token that starts the statement (or item, or rule) being written.
    stmt: Option<usize>,
    /// In a route table: the rule being written has its `->`.
    arrow: bool,
    /// For a service: its name and the subsets declared so far.
    service: Option<&'s str>,
    subsets: Vec<&'s str>,
}

impl<'s> Frame<'s> {
    fn new(kind: BlockKind, service: Option<&'s str>) -> Frame<'s> {
        Frame {
            kind,
            stmt: None,
            arrow: false,
            service,
            subsets: Vec::new(),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Token<'s> {
    tok: Tok<'s>,
    start: usize,
    end: usize,
}

pub(crate) fn completions(analysis: &Analysis, file: FileId, offset: usize) -> Vec<Completion> {
    let Some(text) = source_text(analysis, file) else {
        return Vec::new();
    };
    let offset = clamp_offset(text, offset);
    let Some(mut tokens) = tokens_before(&text[..offset]) else {
        return Vec::new();
    };
    let mut word_start = offset;
    if let Some(last) = tokens.last() {
        if last.end == offset && is_word(&last.tok) {
            word_start = last.start;
            tokens.pop();
        }
    }
    let stack = scan(&tokens);
    let new_line = tokens
        .last()
        .is_none_or(|t| text[t.end..word_start].contains('\n'));
    let mut out = Candidates::default();
    context(analysis, file, offset, &tokens, &stack, new_line, &mut out);
    out.0
}

/// The tokens of the text; `None` when it ends inside a comment or an unclosed string.
fn tokens_before(text: &str) -> Option<Vec<Token<'_>>> {
    let mut tokens = Vec::new();
    let mut lexer = Tok::lexer(text);
    while let Some(result) = lexer.next() {
        let range = lexer.span();
        match result {
            Ok(Tok::Comment(_) | Tok::UnterminatedStr(_)) if range.end == text.len() => {
                return None
            }
            Ok(Tok::Comment(_) | Tok::UnterminatedStr(_) | Tok::BadNumber(_)) | Err(()) => {}
            Ok(tok) => tokens.push(Token {
                tok,
                start: range.start,
                end: range.end,
            }),
        }
    }
    Some(tokens)
}

/// A token that a word being typed may be: a name, a keyword, a number.
fn is_word(tok: &Tok<'_>) -> bool {
    match tok {
        Tok::Ident(_) | Tok::Int(_) | Tok::StatusClass(_) => true,
        other => other
            .keyword_text()
            .is_some_and(|k| k.starts_with(|c: char| c.is_ascii_alphabetic())),
    }
}

/// The name a token stands for where a name is expected.
fn name_of<'s>(tok: &Tok<'s>) -> Option<&'s str> {
    match tok {
        Tok::Ident(name) => Some(name),
        other => other
            .keyword_text()
            .filter(|k| k.starts_with(|c: char| c.is_ascii_alphabetic())),
    }
}

/// After these, a name or value comes, never a new statement.
fn expects_name(tok: Option<Tok<'_>>) -> bool {
    matches!(
        tok,
        Some(
            Tok::Use
                | Tok::Subset
                | Tok::Host
                | Tok::Dot
                | Tok::Arrow
                | Tok::Comma
                | Tok::Colon
                | Tok::In
                | Tok::Service
                | Tok::Policy
                | Tok::Namespace
                | Tok::Header
                | Tok::Query
                | Tok::Slash
                | Tok::EqEq
                | Tok::PrefixEq
                | Tok::RegexEq
                | Tok::Accepts
                | Tok::On
                | Tok::IdempotencyKey
                | Tok::Star
        )
    )
}

/// Tokens that can end a statement.
fn ends_statement(tok: &Tok<'_>) -> bool {
    matches!(
        tok,
        Tok::Ident(_)
            | Tok::Str(_)
            | Tok::Int(_)
            | Tok::Duration(_)
            | Tok::Percent(_)
            | Tok::StatusClass(_)
            | Tok::LBrace
            | Tok::RBrace
            | Tok::Off
            | Tok::Unlimited
            | Tok::Present
    )
}

fn is_statement_keyword(tok: &Tok<'_>) -> bool {
    matches!(
        tok,
        Tok::Host
            | Tok::Port
            | Tok::Subset
            | Tok::Accepts
            | Tok::IdempotencyKey
            | Tok::Timeout
            | Tok::Retry
            | Tok::Use
            | Tok::Pool
            | Tok::Eject
            | Tok::Routes
            | Tok::Balance
            | Tok::Locality
            | Tok::Tls
            | Tok::ShadowSafe
            | Tok::Mirror
            | Tok::Fault
            | Tok::Rewrite
            | Tok::RequestHeaders
            | Tok::ResponseHeaders
            | Tok::Cors
            | Tok::Resolve
            | Tok::Location
            | Tok::Address
            | Tok::Endpoint
    )
}

/// The blocks open after the tokens, outermost (the file) first.
fn scan<'s>(tokens: &[Token<'s>]) -> Vec<Frame<'s>> {
    let mut stack = vec![Frame::new(BlockKind::Top, None)];
    for (i, token) in tokens.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| tokens[p].tok);
        let frame = stack.last_mut().expect("the file's frame is never popped");
        let stmt_tok = frame.stmt.map(|s| tokens[s].tok);
        match token.tok {
            Tok::LBrace => {
                let kind = match (frame.kind, stmt_tok) {
                    (BlockKind::Top, Some(Tok::Service)) => BlockKind::Service,
                    (BlockKind::Top, Some(Tok::Policy)) => BlockKind::Policy,
                    (BlockKind::Top, Some(Tok::External)) => BlockKind::External,
                    (BlockKind::Top, Some(Tok::Expose)) => BlockKind::Expose,
                    (BlockKind::Top, Some(Tok::Gateway)) => BlockKind::Gateway,
                    (BlockKind::Top, Some(Tok::Mesh | Tok::Sidecar)) => BlockKind::Egress,
                    (
                        BlockKind::Service
                        | BlockKind::External
                        | BlockKind::Expose
                        | BlockKind::Policy
                        | BlockKind::RuleBody,
                        Some(t),
                    ) => match t {
                        Tok::Routes => BlockKind::Routes,
                        Tok::Pool => BlockKind::Pool,
                        Tok::Subset => BlockKind::Labels,
                        Tok::Eject => BlockKind::Eject,
                        _ => BlockKind::Other,
                    },
                    (BlockKind::Routes, _) if frame.arrow => BlockKind::RuleBody,
                    _ => BlockKind::Other,
                };
                let service = match kind {
                    BlockKind::Service | BlockKind::External => frame
                        .stmt
                        .and_then(|s| tokens.get(s + 1))
                        .and_then(|t| name_of(&t.tok)),
                    _ => None,
                };
                stack.push(Frame::new(kind, service));
            }
            Tok::RBrace => {
                if stack.len() > 1 {
                    stack.pop();
                }
            }
            tok => match frame.kind {
                BlockKind::Top => {
                    let starts = matches!(
                        tok,
                        Tok::Namespace
                            | Tok::Import
                            | Tok::Service
                            | Tok::Policy
                            | Tok::External
                            | Tok::Expose
                            | Tok::Gateway
                            | Tok::Mesh
                            | Tok::Sidecar
                    );
                    if starts && !expects_name(prev) {
                        frame.stmt = Some(i);
                    }
                }
                BlockKind::Service
                | BlockKind::External
                | BlockKind::Expose
                | BlockKind::Policy
                | BlockKind::RuleBody => {
                    if is_statement_keyword(&tok) && !expects_name(prev) {
                        frame.stmt = Some(i);
                    } else if frame.kind == BlockKind::Service
                        && stmt_tok == Some(Tok::Subset)
                        && matches!(prev, Some(Tok::Subset | Tok::Comma))
                    {
                        if let Some(name) = name_of(&tok) {
                            frame.subsets.push(name);
                        }
                    }
                }
                BlockKind::Routes => match tok {
                    Tok::When | Tok::Else => {
                        frame.stmt = Some(i);
                        frame.arrow = false;
                    }
                    Tok::Arrow => frame.arrow = true,
                    _ => {}
                },
                _ => {}
            },
        }
    }
    stack
}

#[derive(Default)]
struct Candidates(Vec<Completion>);

impl Candidates {
    fn add(&mut self, label: &str, kind: CompletionKind, detail: Option<String>) {
        if self.0.iter().all(|c| c.label != label) {
            self.0.push(Completion {
                label: label.to_string(),
                kind,
                detail,
            });
        }
    }

    fn keywords(&mut self, words: &[(&str, &str)]) {
        for (word, detail) in words {
            self.add(word, CompletionKind::Keyword, Some(detail.to_string()));
        }
    }

    fn bare_keywords(&mut self, words: &[&str]) {
        for word in words {
            self.add(word, CompletionKind::Keyword, None);
        }
    }
}

fn context(
    analysis: &Analysis,
    file: FileId,
    offset: usize,
    tokens: &[Token<'_>],
    stack: &[Frame<'_>],
    new_line: bool,
    out: &mut Candidates,
) {
    let frame = stack.last().expect("the file's frame is never popped");
    let prev = tokens.last().map(|t| t.tok);
    let prev2 = tokens.len().checked_sub(2).map(|i| tokens[i].tok);
    let stmt = frame.stmt.map(|s| &tokens[s..]).unwrap_or_default();
    let stmt_tok = stmt.first().map(|t| t.tok);
    let in_rule = frame.kind == BlockKind::Routes && frame.arrow;
    match prev {
        Some(Tok::Use) => return policies(analysis, file, out),
        Some(Tok::Import) => {
            for name in crate::stdlib::names() {
                let label = format!("std/{name}");
                out.add(
                    &label,
                    CompletionKind::Module,
                    Some("standard library".into()),
                );
            }
            return;
        }
        Some(Tok::Slash) if prev2 == Some(Tok::Ident("std")) => {
            for name in crate::stdlib::names() {
                out.add(
                    name,
                    CompletionKind::Module,
                    Some("standard library".into()),
                );
            }
            return;
        }
        Some(Tok::On) if stmt_tok == Some(Tok::Retry) => return retry_conditions(out),
        Some(Tok::Accepts) => return methods(out),
        Some(Tok::EqEq | Tok::PrefixEq | Tok::RegexEq) if prev2 == Some(Tok::Method) => {
            return methods(out)
        }
        Some(Tok::When | Tok::And | Tok::Or) if frame.kind == BlockKind::Routes => {
            return out.keywords(FIELDS)
        }
        Some(Tok::Arrow) if frame.kind == BlockKind::Routes => {
            return destinations(analysis, file, offset, stack, out)
        }
        Some(Tok::Dot) if in_rule => {
            if let Some(service) = prev2.as_ref().and_then(name_of) {
                subsets_of_service(analysis, file, offset, stack, service, out);
            }
            return;
        }
        Some(Tok::Comma) => {
            match stmt_tok {
                Some(Tok::When | Tok::Else) if in_rule => {
                    destinations(analysis, file, offset, stack, out)
                }
                Some(Tok::Retry) if stmt.iter().any(|t| t.tok == Tok::On) => retry_conditions(out),
                Some(Tok::Accepts) => methods(out),
                _ => {}
            }
            return;
        }
        Some(Tok::Balance) => {
            for kind in LOAD_BALANCERS {
                out.add(kind, CompletionKind::Value, None);
            }
            return;
        }
        Some(Tok::Int(_)) if prev2 == Some(Tok::Port) => {
            for protocol in PROTOCOLS {
                out.add(protocol, CompletionKind::Value, None);
            }
            return;
        }
        Some(Tok::In) if frame.kind == BlockKind::Top && stmt_tok == Some(Tok::Service) => {
            return namespaces(analysis, out)
        }
        _ => {}
    }
    let at_statement_start = match prev {
        None | Some(Tok::LBrace | Tok::RBrace) => true,
        Some(tok) => new_line && ends_statement(&tok),
    };
    if !at_statement_start {
        return;
    }
    match frame.kind {
        BlockKind::Top => out.keywords(TOP_KEYWORDS),
        BlockKind::Service => out.keywords(SERVICE_KEYWORDS),
        BlockKind::External => {
            out.keywords(SERVICE_KEYWORDS);
            out.keywords(EXTERNAL_KEYWORDS);
        }
        BlockKind::Expose => out.keywords(EXPOSE_KEYWORDS),
        BlockKind::Gateway => out.keywords(GATEWAY_KEYWORDS),
        BlockKind::Egress => out.keywords(EGRESS_KEYWORDS),
        BlockKind::Policy => out.bare_keywords(POLICY_KEYWORDS),
        BlockKind::RuleBody => out.bare_keywords(RULE_BODY_KEYWORDS),
        BlockKind::Routes => out.keywords(RULE_KEYWORDS),
        BlockKind::Pool => out.bare_keywords(POOL_KEYWORDS),
        BlockKind::Eject => out.bare_keywords(EJECT_KEYWORDS),
        BlockKind::Labels | BlockKind::Other => {}
    }
}

fn retry_conditions(out: &mut Candidates) {
    for (name, _) in RETRY_CONDITIONS {
        let detail = Some(condition_safety(name).to_string());
        out.add(name, CompletionKind::RetryCondition, detail);
    }
}

fn methods(out: &mut Candidates) {
    for method in Method::ALL {
        let detail = if method.is_idempotent() {
            "idempotent"
        } else {
            "not idempotent"
        };
        out.add(method.as_str(), CompletionKind::Method, Some(detail.into()));
    }
}

/// Policies declared in the file, then in the files it imports.
fn policies(analysis: &Analysis, file: FileId, out: &mut Candidates) {
    let Some(loaded) = analysis.loaded.file(file) else {
        return;
    };
    for source in std::iter::once(file).chain(loaded.imports.iter().copied()) {
        let Some(declaring) = analysis.loaded.file(source) else {
            continue;
        };
        let name = &analysis.sources().get(source).name;
        for item in &declaring.parsed.module.items {
            if let Item::Policy(policy) = item {
                let detail = Some(format!("policy in {name}"));
                out.add(&policy.name.node, CompletionKind::Policy, detail);
            }
        }
    }
}

fn namespaces(analysis: &Analysis, out: &mut Candidates) {
    for service in &analysis.mesh.services {
        out.add(&service.namespace, CompletionKind::Value, None);
    }
}

/// The service being edited: the one of that name declared last above the offset in
/// this file, else any of that name.
fn enclosing_service<'a>(
    analysis: &'a Analysis,
    file: FileId,
    offset: usize,
    name: &str,
) -> Option<&'a crate::model::Service> {
    let services = &analysis.mesh.services;
    services
        .iter()
        .filter(|s| s.name == name && s.name_span.file == file)
        .rfind(|s| (s.name_span.start as usize) < offset)
        .or_else(|| services.iter().find(|s| s.name == name))
}

fn destinations(
    analysis: &Analysis,
    file: FileId,
    offset: usize,
    stack: &[Frame<'_>],
    out: &mut Candidates,
) {
    let service_frame = stack.iter().find(|f| f.kind == BlockKind::Service);
    if let Some(frame) = service_frame {
        let own = frame
            .service
            .and_then(|name| enclosing_service(analysis, file, offset, name));
        for subset in own.iter().flat_map(|s| &s.subsets) {
            let detail = Some(labels(&subset.labels));
            out.add(&subset.name, CompletionKind::Subset, detail);
        }
        for name in &frame.subsets {
            let detail = Some(format!("version={name}"));
            out.add(name, CompletionKind::Subset, detail);
        }
    }
    for service in &analysis.mesh.services {
        let detail = Some(service.host.clone());
        out.add(&service.name, CompletionKind::Service, detail);
    }
}

fn subsets_of_service(
    analysis: &Analysis,
    file: FileId,
    offset: usize,
    stack: &[Frame<'_>],
    name: &str,
    out: &mut Candidates,
) {
    let namespace = stack
        .iter()
        .find_map(|f| f.service)
        .and_then(|own| enclosing_service(analysis, file, offset, own))
        .map(|s| s.namespace.as_str());
    let named: Vec<_> = analysis
        .mesh
        .services
        .iter()
        .filter(|s| s.name == name)
        .collect();
    let target = named
        .iter()
        .find(|s| Some(s.namespace.as_str()) == namespace)
        .or(match named.as_slice() {
            [only] => Some(only),
            _ => None,
        });
    for subset in target.iter().flat_map(|s| &s.subsets) {
        let detail = Some(labels(&subset.labels));
        out.add(&subset.name, CompletionKind::Subset, detail);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::test_support::{analyze, analyze_one};

    /// Completions at the `|` of a one-file program.
    fn at(marked: &str) -> Vec<Completion> {
        let offset = marked.find('|').expect("a cursor");
        let text = marked.replacen('|', "", 1);
        let analysis = analyze_one(&text);
        completions(&analysis, FileId(0), offset)
    }

    fn labels_at(marked: &str) -> Vec<String> {
        at(marked).into_iter().map(|c| c.label).collect()
    }

    const ROUTED: &str = "service ratings { subset v1 }\nservice reviews {\n  subset v1, v2\n  routes {\n    ROUTE\n  }\n}\n";

    fn in_routes(route: &str) -> Vec<String> {
        labels_at(&ROUTED.replace("ROUTE", route))
    }

    #[test]
    fn statement_starts_offer_the_keywords_of_the_block() {
        assert_eq!(
            labels_at("|"),
            vec![
                "namespace",
                "import",
                "service",
                "policy",
                "external",
                "gateway",
                "expose",
                "mesh",
                "sidecar"
            ]
        );
        let service = labels_at("service a {\n  host a.b\n  |\n}");
        assert_eq!(service.len(), 15);
        assert!(service.contains(&"idempotency-key".to_string()));
        assert_eq!(
            labels_at("policy p {\n  |\n}"),
            vec!["timeout", "retry", "pool", "eject", "balance", "locality", "tls"]
        );
        assert_eq!(in_routes("|"), vec!["when", "else"]);
        assert_eq!(in_routes("else -> v1\n    |"), vec!["when", "else"]);
        assert_eq!(
            in_routes("else -> v1 { | }"),
            vec![
                "timeout",
                "retry",
                "use",
                "mirror",
                "fault",
                "rewrite",
                "request-headers",
                "response-headers",
                "cors"
            ]
        );
        assert_eq!(
            labels_at("service a { pool { | } }"),
            vec!["connections", "pending", "requests", "per-connection"]
        );
        assert_eq!(
            labels_at("service a {} |"),
            vec![
                "namespace",
                "import",
                "service",
                "policy",
                "external",
                "gateway",
                "expose",
                "mesh",
                "sidecar"
            ]
        );
        assert_eq!(labels_at("gateway g {\n  |\n}"), vec!["selector", "listen"]);
        assert!(labels_at("external e {\n  |\n}").contains(&"resolve".to_string()));
        assert_eq!(labels_at("mesh { | }"), vec!["egress"]);
        let exposed =
            labels_at("expose e on g {\n  routes {\n    else -> |\n  }\n}\nservice web {}");
        assert!(exposed.contains(&"web".to_string()), "{exposed:?}");
        assert_eq!(
            labels_at("service a { balance | }"),
            vec![
                "least-request",
                "round-robin",
                "random",
                "passthrough",
                "hash"
            ]
        );
    }

    #[test]
    fn a_word_being_typed_is_the_prefix() {
        let service = labels_at("service a {\n  ro|\n}");
        assert!(service.contains(&"routes".to_string()), "{service:?}");
        assert_eq!(in_routes("wh|"), vec!["when", "else"]);
    }

    #[test]
    fn destinations_are_own_subsets_then_services() {
        let expected = vec!["v1", "v2", "ratings", "reviews"];
        assert_eq!(in_routes("else -> |"), expected);
        assert_eq!(in_routes("else -> v1 50%, |"), expected);
        assert_eq!(in_routes("else -> v|"), expected);
        assert_eq!(in_routes("else -> ratings.|"), vec!["v1"]);
        let kinds: Vec<_> = at(&ROUTED.replace("ROUTE", "else -> |"))
            .into_iter()
            .map(|c| c.kind)
            .collect();
        assert_eq!(kinds[0], CompletionKind::Subset);
        assert_eq!(kinds[3], CompletionKind::Service);
    }

    #[test]
    fn subsets_typed_above_count_even_when_the_service_does_not_parse() {
        let labels = labels_at("service a {\n subset blue, green\n routes {\n else -> |");
        assert!(
            labels.starts_with(&["blue".to_string(), "green".to_string()]),
            "{labels:?}"
        );
    }

    #[test]
    fn conditions_methods_fields_and_protocols() {
        let conditions = at("service a { retry 2 x 1s on |");
        assert_eq!(conditions.len(), RETRY_CONDITIONS.len());
        let reset = conditions
            .iter()
            .find(|c| c.label == "reset")
            .expect("reset");
        assert_eq!(reset.detail.as_deref(), Some("safe"));
        let fivexx = conditions.iter().find(|c| c.label == "5xx").expect("5xx");
        assert_eq!(
            fivexx.detail.as_deref(),
            Some("fires after the request arrived")
        );
        assert_eq!(
            labels_at("service a { retry 2 on 5xx, |").len(),
            RETRY_CONDITIONS.len()
        );
        assert_eq!(labels_at("service a { accepts |").len(), 9);
        assert_eq!(labels_at("service a { accepts GET, P|").len(), 9);
        assert_eq!(in_routes("when method == |").len(), 9);
        let fields = vec!["path", "method", "header", "query"];
        assert_eq!(in_routes("when |"), fields);
        assert_eq!(in_routes("when path ^= \"/a\" and |"), fields);
        assert_eq!(in_routes("when path ^= \"/a\" or |"), fields);
        assert_eq!(labels_at("service a { port 8080 |").len(), PROTOCOLS.len());
        assert!(labels_at("service a { port 80|").is_empty());
    }

    #[test]
    fn policies_and_modules() {
        let analysis = analyze(&[
            (
                "main.route",
                "import \"lib.route\"\npolicy own { timeout 1s }\nservice a { use  }",
            ),
            ("lib.route", "policy shared { timeout 1s }"),
        ]);
        let text = &analysis.sources().get(FileId(0)).text;
        let offset = text.find("use ").expect("use") + 4;
        let labels: Vec<_> = completions(&analysis, FileId(0), offset)
            .into_iter()
            .map(|c| c.label)
            .collect();
        assert_eq!(labels, vec!["own", "shared"]);
        assert_eq!(labels_at("import |"), vec!["std/resilience"]);
        assert_eq!(labels_at("import std/|"), vec!["resilience"]);
        assert_eq!(labels_at("import std/re|"), vec!["resilience"]);
    }

    #[test]
    fn namespaces_after_in() {
        let labels = labels_at("service a in one {}\nservice b in two {}\nservice c in |");
        assert_eq!(labels, vec!["one", "two"]);
    }

    #[test]
    fn nothing_inside_comments_strings_or_mid_statement() {
        assert!(labels_at("// service |").is_empty());
        assert!(in_routes("when path == \"/a|").is_empty());
        assert!(labels_at("service a { host |").is_empty());
        assert!(labels_at("service a { timeout 3s |").is_empty());
    }

    #[test]
    fn any_offset_is_accepted() {
        let text = "service é { subset v1\n routes { else -> v1 } }";
        let analysis = analyze_one(text);
        for offset in 0..=text.len() + 2 {
            completions(&analysis, FileId(0), offset);
        }
        assert!(completions(&analysis, FileId(9), 0).is_empty());
    }
}
