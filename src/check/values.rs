//! Values Istio or Kubernetes would reject, checked on the syntax tree of one file.
//!
//! In: a parsed `Module`. Out: diagnostics appended to `out`, one per bad value, in the
//! E06xx family (durations, ports, names, labels, weights, hosts, header names) and the
//! retry and method codes E0403-E0405. Every item and statement is visited, including
//! statements in policy bodies, route tables and rule bodies.
//!
//! Values the parser already reported stay silent here: a duration with `nanos: None`,
//! and an integer of `u64::MAX` (what the parser substitutes for one that overflowed).
//! The checks need no resolution, so they run before it and also on files that did not
//! resolve. Names are checked where they are declared, not where they are used.

use super::closest;
use crate::diagnostics::{Code, Diagnostic, Edit};
use crate::source::Span;
use crate::syntax::ast::{
    Block, Condition, Destination, Duration, EjectSpec, Field, Guard, Item, LabelPair, Module,
    Name, PoolLimit, PoolLimitKind, RetrySpec, Spanned, Stmt, StmtKind, StringOp, SubsetDecl, Test,
};

const NANOS_PER_MS: u64 = 1_000_000;

/// Istio's pool limits are int32 fields.
const POOL_LIMIT_MAX: u64 = i32::MAX as u64;

const METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// Envoy's `x-envoy-retry-on` and `x-envoy-retry-grpc-on` values.
const RETRY_CONDITIONS: &[&str] = &[
    "5xx",
    "gateway-error",
    "reset",
    "reset-before-request",
    "connect-failure",
    "envoy-ratelimited",
    "retriable-4xx",
    "refused-stream",
    "retriable-status-codes",
    "retriable-headers",
    "http3-post-connect-failure",
    "cancelled",
    "deadline-exceeded",
    "internal",
    "resource-exhausted",
    "unavailable",
];

const EJECT_CLASSES: &[&str] = &["5xx", "gateway-error"];

pub fn check(module: &Module, out: &mut Vec<Diagnostic>) {
    for item in &module.items {
        match item {
            Item::Namespace(name) => check_name(name, NameRole::Namespace, out),
            Item::Service(service) => {
                check_name(&service.name, NameRole::Service, out);
                if let Some(namespace) = &service.namespace {
                    check_name(namespace, NameRole::Namespace, out);
                }
                check_block(&service.body, out);
            }
            Item::Policy(policy) => {
                check_name(&policy.name, NameRole::Policy, out);
                check_block(&policy.body, out);
            }
            Item::External(service) | Item::Gateway(service) | Item::Sidecar(service) => {
                check_name(&service.name, NameRole::Service, out);
                if let Some(namespace) = &service.namespace {
                    check_name(namespace, NameRole::Namespace, out);
                }
                check_block(&service.body, out);
            }
            Item::Expose(expose) => {
                check_name(&expose.name, NameRole::Service, out);
                if let Some(namespace) = &expose.namespace {
                    check_name(namespace, NameRole::Namespace, out);
                }
                // A route table bound to gateways may take every host: `host "*"`.
                for stmt in &expose.body.stmts {
                    match &stmt.kind {
                        StmtKind::Host(host) if host.node == "*" => {}
                        _ => check_stmt(stmt, out),
                    }
                }
            }
            Item::Mesh(block) => check_block(block, out),
            Item::Import(_) | Item::Error(_) => {}
        }
    }
}

fn check_block(block: &Block, out: &mut Vec<Diagnostic>) {
    for stmt in &block.stmts {
        check_stmt(stmt, out);
    }
}

fn check_stmt(stmt: &Stmt, out: &mut Vec<Diagnostic>) {
    match &stmt.kind {
        StmtKind::Host(host) => check_host(host, out),
        StmtKind::Port(port) => {
            check_port(&port.number, PortRole::Declared, out);
            if let Some(policy) = &port.policy {
                check_block(policy, out);
            }
        }
        StmtKind::Subset(SubsetDecl::Versions(names)) => {
            for name in names {
                check_name(name, NameRole::Subset, out);
            }
        }
        StmtKind::Subset(SubsetDecl::Labels(name, labels)) => {
            check_name(name, NameRole::Subset, out);
            for label in labels {
                check_label(label, out);
            }
        }
        StmtKind::Subset(SubsetDecl::WithPolicy(name, labels, policy)) => {
            check_name(name, NameRole::Subset, out);
            for label in labels.iter().flatten() {
                check_label(label, out);
            }
            check_block(policy, out);
        }
        StmtKind::Accepts(methods) => {
            for method in methods {
                check_method(method, "accepts", out);
            }
        }
        StmtKind::Timeout(duration) => check_duration(duration, DurationRole::Timeout, out),
        StmtKind::Retry(retry) => check_retry(retry, stmt.span, out),
        StmtKind::Pool(limits) => {
            for limit in limits {
                check_pool_limit(limit, out);
            }
        }
        StmtKind::Eject(eject) => check_eject(eject, out),
        StmtKind::Routes(table) => {
            for rule in &table.rules {
                if let Guard::When(matches) = &rule.guard {
                    for condition in matches.iter().flat_map(|m| &m.conditions) {
                        check_condition(condition, out);
                    }
                }
                for destination in &rule.destinations {
                    check_destination(destination, out);
                }
                if let Some(body) = &rule.body {
                    check_block(body, out);
                }
            }
        }
        StmtKind::IdempotencyKey(_) | StmtKind::Use(_) | StmtKind::Error => {}
        StmtKind::Mirror(mirror) => {
            if let Some(percent) = mirror
                .percent
                .as_ref()
                .filter(|p| !(0.0..=100.0).contains(&p.node))
            {
                out.push(
                    Diagnostic::new(
                        Code::InvalidWeight,
                        percent.span,
                        format!("a mirror of {}% of the traffic", percent.node),
                    )
                    .primary_text("mirror percentages are 0% to 100%")
                    .help("write a percentage from 0% to 100%, or drop it to mirror everything"),
                );
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// Durations

#[derive(Clone, Copy)]
enum DurationRole {
    Timeout,
    PerTry,
    EjectInterval,
    EjectionTime,
}

impl DurationRole {
    fn describe(self) -> &'static str {
        match self {
            DurationRole::Timeout => "a timeout",
            DurationRole::PerTry => "a per-try timeout",
            DurationRole::EjectInterval => "an ejection interval",
            DurationRole::EjectionTime => "an ejection time",
        }
    }

    /// The words that precede the duration in the source.
    fn written(self, duration: &str) -> String {
        match self {
            DurationRole::Timeout => format!("timeout {duration}"),
            DurationRole::PerTry => format!("x {duration}"),
            DurationRole::EjectInterval => format!("every {duration}"),
            DurationRole::EjectionTime => format!("for {duration}"),
        }
    }
}

fn check_duration(duration: &Spanned<Duration>, role: DurationRole, out: &mut Vec<Diagnostic>) {
    let Some(nanos) = duration.node.nanos else {
        return;
    };
    let what = role.describe();
    if nanos == 0 {
        let help = match role {
            DurationRole::Timeout => {
                "remove the `timeout` line for no timeout, or write at least `timeout 1ms`"
                    .to_string()
            }
            _ => format!("write at least `{}`", role.written("1ms")),
        };
        out.push(
            Diagnostic::new(
                Code::InvalidDuration,
                duration.span,
                format!("{what} of zero is rejected by Istio"),
            )
            .primary_text("Istio durations are at least 1ms")
            .help(help),
        );
        return;
    }
    let (message, primary) = if nanos < NANOS_PER_MS {
        (
            format!("{what} of {} is shorter than 1ms", format_nanos(nanos)),
            "Istio durations are at least 1ms",
        )
    } else if nanos % NANOS_PER_MS != 0 {
        (
            format!(
                "{what} of {} is not a whole number of milliseconds",
                format_nanos(nanos)
            ),
            "Istio durations are whole milliseconds",
        )
    } else {
        return;
    };
    let rounded = ((nanos + NANOS_PER_MS / 2) / NANOS_PER_MS).max(1);
    let replacement = format_millis(rounded);
    out.push(
        Diagnostic::new(Code::InvalidDuration, duration.span, message)
            .primary_text(primary)
            .help(format!("write `{}`", role.written(&replacement)))
            .fix(
                format!("Round to {replacement}"),
                vec![Edit {
                    span: duration.span,
                    replacement,
                }],
            ),
    );
}

/// A duration in the largest unit that holds it exactly: `500us`, `1500ms`, `2s`.
fn format_nanos(nanos: u64) -> String {
    const UNITS: &[(u64, &str)] = &[
        (3_600_000_000_000, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
    ];
    UNITS
        .iter()
        .find(|(size, _)| nanos.checked_rem(*size) == Some(0))
        .map(|(size, unit)| format!("{}{unit}", nanos / size))
        .unwrap_or_else(|| format!("{nanos}ns"))
}

fn format_millis(millis: u64) -> String {
    format_nanos(millis.saturating_mul(NANOS_PER_MS))
}

// ---------------------------------------------------------------------------------------
// Ports

#[derive(Clone, Copy)]
enum PortRole {
    Declared,
    Destination,
}

fn check_port(port: &Spanned<u64>, role: PortRole, out: &mut Vec<Diagnostic>) {
    let number = port.node;
    if (1..=65535).contains(&number) || number == u64::MAX {
        return;
    }
    let example = match role {
        PortRole::Declared => "port 8080",
        PortRole::Destination => "-> v1:8080",
    };
    out.push(
        Diagnostic::new(
            Code::PortOutOfRange,
            port.span,
            format!("port {number} is out of range"),
        )
        .primary_text("ports are 1 to 65535")
        .help(format!("write a port from 1 to 65535, such as `{example}`")),
    );
}

// ---------------------------------------------------------------------------------------
// Names (DNS-1123 labels)

#[derive(Clone, Copy)]
enum NameRole {
    Service,
    Namespace,
    Policy,
    Subset,
}

impl NameRole {
    fn describe(self) -> &'static str {
        match self {
            NameRole::Service => "service name",
            NameRole::Namespace => "namespace",
            NameRole::Policy => "policy name",
            NameRole::Subset => "subset name",
        }
    }
}

fn check_name(name: &Name, role: NameRole, out: &mut Vec<Diagnostic>) {
    let Some(problem) = dns_label_problem(&name.node) else {
        return;
    };
    let mut diagnostic = Diagnostic::new(
        Code::InvalidName,
        name.span,
        format!(
            "Kubernetes would reject the {} `{}`",
            role.describe(),
            name.node
        ),
    )
    .primary_text(problem);
    let suggestion: String = name
        .node
        .chars()
        .map(|c| {
            if c == '_' {
                '-'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect::<String>()
        .trim_matches('-')
        .to_string();
    if suggestion != name.node && dns_label_problem(&suggestion).is_none() {
        let replacement = written_like(name, &suggestion);
        diagnostic = diagnostic.help(format!("write `{suggestion}`")).fix(
            format!("Rename to `{suggestion}`"),
            vec![Edit {
                span: name.span,
                replacement,
            }],
        );
    } else {
        diagnostic = diagnostic.help(
            "use at most 63 lower-case letters, digits and `-`, starting and ending with a letter or digit, such as `reviews-v2`",
        );
    }
    out.push(diagnostic);
}

/// Why `name` is not a DNS-1123 label, or `None` when it is one.
fn dns_label_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a name cannot be empty".to_string());
    }
    if name.len() > 63 {
        return Some(format!(
            "{} characters long; at most 63 are allowed",
            name.len()
        ));
    }
    let mut problems = Vec::new();
    if name.chars().any(|c| c.is_ascii_uppercase()) {
        problems.push("upper-case letters".to_string());
    }
    let mut others: Vec<char> = name
        .chars()
        .filter(|c| {
            !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || c.is_ascii_uppercase())
        })
        .collect();
    others.dedup();
    for c in others {
        let text = format!("`{c}`");
        if !problems.contains(&text) {
            problems.push(text);
        }
    }
    if !problems.is_empty() {
        let verb = if problems.len() == 1 && !problems[0].starts_with("upper") {
            "is"
        } else {
            "are"
        };
        return Some(format!("{} {verb} not allowed", join_and(&problems)));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Some("must start and end with a letter or digit".to_string());
    }
    None
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

// ---------------------------------------------------------------------------------------
// Labels

fn check_label(label: &LabelPair, out: &mut Vec<Diagnostic>) {
    if let Some(problem) = label_key_problem(&label.key.node) {
        out.push(
            Diagnostic::new(
                Code::InvalidLabel,
                label.key.span,
                format!("Kubernetes would reject the label key `{}`", label.key.node),
            )
            .primary_text(problem)
            .help(
                "write a key of at most 63 letters, digits, `-`, `_` and `.` that starts and ends with a letter or digit, optionally after a DNS prefix and `/`, such as `app.kubernetes.io/version`",
            ),
        );
    }
    let value = &label.value;
    if let Some(problem) = label_value_problem(&value.node) {
        let mut diagnostic = Diagnostic::new(
            Code::InvalidLabel,
            value.span,
            format!("Kubernetes would reject the label value `{}`", value.node),
        )
        .primary_text(problem);
        let suggestion = label_value_suggestion(&value.node);
        match suggestion {
            Some(suggestion) => {
                let replacement = written_like(value, &suggestion);
                diagnostic = diagnostic.help(format!("write `{suggestion}`")).fix(
                    format!("Change to `{suggestion}`"),
                    vec![Edit {
                        span: value.span,
                        replacement,
                    }],
                );
            }
            None => {
                diagnostic = diagnostic.help(
                    "write a value of at most 63 letters, digits, `-`, `_` and `.` that starts and ends with a letter or digit, such as `v3`",
                );
            }
        }
        out.push(diagnostic);
    }
}

fn label_key_problem(key: &str) -> Option<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            return Some("the prefix before `/` is empty".to_string());
        }
        if prefix.len() > 253 {
            return Some(format!(
                "the prefix is {} characters long; at most 253 are allowed",
                prefix.len()
            ));
        }
        if prefix
            .split('.')
            .any(|label| dns_label_problem(label).is_some())
        {
            return Some(format!(
                "the prefix `{prefix}` is not a DNS subdomain (lower-case letters, digits, `-` and `.`)"
            ));
        }
    }
    if name.is_empty() {
        return Some("the name part of the key is empty".to_string());
    }
    label_name_problem(name)
}

fn label_value_problem(value: &str) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    label_name_problem(value)
}

/// Kubernetes' "qualified name" part: `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, at most 63.
fn label_name_problem(name: &str) -> Option<String> {
    if name.len() > 63 {
        return Some(format!(
            "{} characters long; at most 63 are allowed",
            name.len()
        ));
    }
    let mut bad: Vec<String> = Vec::new();
    for c in name.chars() {
        if !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
            let text = if c == ' ' {
                "spaces".to_string()
            } else {
                format!("`{c}`")
            };
            if !bad.contains(&text) {
                bad.push(text);
            }
        }
    }
    if !bad.is_empty() {
        let verb = if bad.len() == 1 && bad[0] != "spaces" {
            "is"
        } else {
            "are"
        };
        return Some(format!("{} {verb} not allowed", join_and(&bad)));
    }
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !alnum(name.chars().next()) || !alnum(name.chars().last()) {
        return Some("must start and end with a letter or digit".to_string());
    }
    None
}

/// The value with every character Kubernetes rejects turned into `-`, trimmed, if that
/// makes a valid, non-empty value.
fn label_value_suggestion(value: &str) -> Option<String> {
    let mapped: String = value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = mapped.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    (!trimmed.is_empty() && trimmed != value && label_name_problem(trimmed).is_none())
        .then(|| trimmed.to_string())
}

// ---------------------------------------------------------------------------------------
// Weights and percentages

fn check_percent(value: &Spanned<f64>, written: &str, what: &str, out: &mut Vec<Diagnostic>) {
    let percent = value.node;
    if percent.fract() == 0.0 && (0.0..=100.0).contains(&percent) {
        return;
    }
    if (0.0..=100.0).contains(&percent) {
        let rounded = format!("{}%", percent.round());
        out.push(
            Diagnostic::new(
                Code::InvalidWeight,
                value.span,
                format!("{what} of {percent}% is not a whole percentage"),
            )
            .primary_text("Istio takes whole percentages only")
            .help(format!("write `{written}{rounded}`"))
            .fix(
                format!("Round to {rounded}"),
                vec![Edit {
                    span: value.span,
                    replacement: rounded,
                }],
            ),
        );
    } else {
        out.push(
            Diagnostic::new(
                Code::InvalidWeight,
                value.span,
                format!("{what} of {percent}% is more than 100%"),
            )
            .primary_text("percentages are 0% to 100%")
            .help(format!(
                "write a whole percentage from 0% to 100%, such as `{written}50%`"
            )),
        );
    }
}

fn check_destination(destination: &Destination, out: &mut Vec<Diagnostic>) {
    if let Some(port) = &destination.port {
        check_port(port, PortRole::Destination, out);
    }
    if let Some(weight) = &destination.weight {
        let target = destination
            .target
            .iter()
            .map(|n| n.node.as_str())
            .collect::<Vec<_>>()
            .join(".");
        check_percent(weight, &format!("{target} "), "a weight", out);
    }
}

// ---------------------------------------------------------------------------------------
// Hosts

fn check_host(host: &Spanned<String>, out: &mut Vec<Diagnostic>) {
    let Some(problem) = host_problem(&host.node) else {
        return;
    };
    let mut diagnostic = Diagnostic::new(
        Code::InvalidHost,
        host.span,
        format!("Istio would reject the host `{}`", host.node),
    )
    .primary_text(problem);
    match host_suggestion(&host.node) {
        Some(suggestion) => {
            let replacement =
                if is_quoted(host) || !suggestion.split('.').all(|l| l == "*" || is_bare_word(l)) {
                    quote(&suggestion)
                } else {
                    suggestion.clone()
                };
            diagnostic = diagnostic.help(format!("write `host {suggestion}`")).fix(
                format!("Change to `{suggestion}`"),
                vec![Edit {
                    span: host.span,
                    replacement,
                }],
            );
        }
        None => {
            diagnostic = diagnostic.help(
                "write a DNS name of letters, digits and `-` separated by dots, optionally starting with `*.`, such as `host reviews.example.com`",
            );
        }
    }
    out.push(diagnostic);
}

fn host_problem(host: &str) -> Option<String> {
    if host.is_empty() {
        return Some("a host cannot be empty".to_string());
    }
    if host == "*" {
        return Some("a bare `*` matches every host; Istio rejects it for mesh routes".to_string());
    }
    if host.len() > 253 {
        return Some(format!(
            "{} characters long; at most 253 are allowed",
            host.len()
        ));
    }
    if host.contains("://") {
        return Some("a host is a name alone, without a scheme such as `http://`".to_string());
    }
    if host.contains('/') {
        return Some("a host is a name alone, without a path".to_string());
    }
    if host.contains(':') {
        return Some(
            "a host is a name alone, without a port; ports are declared with `port`".to_string(),
        );
    }
    let rest = host.strip_prefix("*.").unwrap_or(host);
    for label in rest.split('.') {
        if label.is_empty() {
            return Some("empty label between dots".to_string());
        }
        if label.contains('*') {
            return Some("`*` may only stand at the start, as `*.`".to_string());
        }
        if label.len() > 63 {
            return Some(format!("the label `{label}` is longer than 63 characters"));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Some(format!("`{c}` is not allowed in a host"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some(format!(
                "the label `{label}` must start and end with a letter or digit"
            ));
        }
    }
    None
}

/// For a URL or `host:port`, the host alone.
fn host_suggestion(host: &str) -> Option<String> {
    let without_scheme = host.split_once("://").map_or(host, |(_, rest)| rest);
    let without_path = without_scheme.split('/').next().unwrap_or_default();
    let without_port = without_path.split(':').next().unwrap_or_default();
    let candidate = without_port.trim_end_matches('.');
    (candidate != host && host_problem(candidate).is_none()).then(|| candidate.to_string())
}

// ---------------------------------------------------------------------------------------
// Conditions: header and query names, methods

fn check_condition(condition: &Condition, out: &mut Vec<Diagnostic>) {
    match &condition.field {
        Field::Authority | Field::Scheme | Field::Port | Field::Sni => {}
        Field::Header(name) => check_header_name(name, out),
        Field::Query(name) => {
            if name.node.is_empty() {
                out.push(
                    Diagnostic::new(
                        Code::InvalidHeaderName,
                        name.span,
                        "a query parameter needs a name",
                    )
                    .primary_text("empty name")
                    .help("write the parameter's name, such as `query version == \"2\"`"),
                );
            }
        }
        Field::Method => {
            if let Test::Compare(StringOp::Exact, value) = &condition.test {
                check_method(value, "method ==", out);
            }
        }
        Field::Path => {}
    }
}

fn is_header_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || "!#$%&'*+.^_`|~-".contains(c)
}

fn check_header_name(name: &Name, out: &mut Vec<Diagnostic>) {
    let text = &name.node;
    if text.is_empty() {
        out.push(
            Diagnostic::new(
                Code::InvalidHeaderName,
                name.span,
                "a header match needs a name",
            )
            .primary_text("empty name")
            .help("write the header's name, such as `header x-user present`"),
        );
        return;
    }
    if text.chars().all(is_header_char) {
        return;
    }
    let lower = text.to_ascii_lowercase();
    if lower.chars().all(is_header_char) {
        out.push(
            Diagnostic::new(
                Code::InvalidHeaderName,
                name.span,
                format!("the header name `{text}` has upper-case letters"),
            )
            .primary_text("header names are matched in lower case")
            .note("HTTP/2 sends header names in lower case, and Istio rejects upper-case names in matches")
            .help(format!("write `header {lower}`"))
            .fix(format!("Change to `{lower}`"), vec![Edit { span: name.span, replacement: written_like(name, &lower) }]),
        );
    } else {
        let bad = text
            .chars()
            .find(|c| !is_header_char(c.to_ascii_lowercase()))
            .unwrap_or(' ');
        out.push(
            Diagnostic::new(
                Code::InvalidHeaderName,
                name.span,
                format!("`{text}` is not a valid header name"),
            )
            .primary_text(format!("`{bad}` is not allowed in a header name"))
            .help("write a lower-case name of letters, digits and `-`, such as `header x-user present`"),
        );
    }
}

/// `context` is the text before the method in a help line: `accepts` or `method ==`.
fn check_method(method: &Spanned<String>, context: &str, out: &mut Vec<Diagnostic>) {
    let text = &method.node;
    if METHODS.contains(&text.as_str()) {
        return;
    }
    let upper = text.to_ascii_uppercase();
    let suggestion = METHODS
        .iter()
        .copied()
        .find(|m| *m == upper)
        .or_else(|| closest(&upper, METHODS.iter().copied()));
    let mut diagnostic = if suggestion.is_some_and(|s| s == upper) {
        Diagnostic::new(
            Code::UnknownMethod,
            method.span,
            format!("the method `{text}` must be written in capitals"),
        )
        .primary_text("methods are upper case")
    } else {
        Diagnostic::new(
            Code::UnknownMethod,
            method.span,
            format!("`{text}` is not an HTTP method"),
        )
        .primary_text("not a method")
    };
    diagnostic = match suggestion {
        Some(s) => diagnostic.help(format!("write `{context} {s}`")).fix(
            format!("Change to `{s}`"),
            vec![Edit {
                span: method.span,
                replacement: written_like(method, s),
            }],
        ),
        None => diagnostic.help(format!("write one of {}", METHODS.join(", "))),
    };
    out.push(diagnostic);
}

// ---------------------------------------------------------------------------------------
// Retries

fn check_retry(retry: &RetrySpec, stmt_span: Span, out: &mut Vec<Diagnostic>) {
    if let Some(per_try) = &retry.per_try {
        check_duration(per_try, DurationRole::PerTry, out);
    }
    if let Some(conditions) = &retry.conditions {
        for condition in conditions {
            check_retry_condition(condition, out);
        }
    }
    if retry.attempts.node == 0 && (retry.per_try.is_some() || retry.conditions.is_some()) {
        let mut diagnostic = Diagnostic::new(
            Code::AttemptsZeroWithSettings,
            retry.attempts.span,
            "`retry 0` turns retries off, so its other settings do nothing",
        )
        .primary_text("zero attempts");
        if let Some(per_try) = &retry.per_try {
            diagnostic = diagnostic.label(per_try.span, "a per-try timeout that never applies");
        }
        if let Some(first) = retry.conditions.as_ref().and_then(|c| c.first()) {
            let span = retry
                .conditions
                .as_ref()
                .and_then(|c| c.last())
                .map_or(first.span, |last| first.span.to(last.span));
            diagnostic = diagnostic.label(span, "conditions that never apply");
        }
        out.push(
            diagnostic
                .help("write `retry off`, or a positive number of attempts such as `retry 2 x 1s`")
                .fix(
                    "Replace with `retry off`",
                    vec![Edit {
                        span: stmt_span,
                        replacement: "retry off".to_string(),
                    }],
                ),
        );
    }
}

fn check_retry_condition(condition: &Name, out: &mut Vec<Diagnostic>) {
    let text = &condition.node;
    if RETRY_CONDITIONS.contains(&text.as_str()) {
        return;
    }
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_digit()) {
        if text
            .parse::<u16>()
            .is_ok_and(|code| (100..=599).contains(&code))
        {
            return;
        }
        out.push(
            Diagnostic::new(
                Code::UnknownRetryCondition,
                condition.span,
                format!("`{text}` is not an HTTP status code"),
            )
            .primary_text("status codes are 100 to 599")
            .help("write a status code from 100 to 599, such as `503`"),
        );
        return;
    }
    let suggestion = if text == "4xx" {
        Some("retriable-4xx")
    } else {
        closest(&text.to_ascii_lowercase(), RETRY_CONDITIONS.iter().copied()).or_else(|| {
            RETRY_CONDITIONS
                .iter()
                .copied()
                .find(|c| c.eq_ignore_ascii_case(text))
        })
    };
    let diagnostic = Diagnostic::new(
        Code::UnknownRetryCondition,
        condition.span,
        format!("`{text}` is not a retry condition Envoy knows"),
    )
    .primary_text("unknown retry condition");
    out.push(match suggestion {
        Some(s) => diagnostic.did_you_mean(condition.span, s, format!("Change to `{s}`")),
        None => diagnostic.help(format!(
            "write one of {}, or a status code such as `503`",
            RETRY_CONDITIONS.join(", ")
        )),
    });
}

// ---------------------------------------------------------------------------------------
// Pools and ejection

fn check_pool_limit(limit: &PoolLimit, out: &mut Vec<Diagnostic>) {
    let Some(value) = limit.value.node else {
        return;
    };
    if value <= POOL_LIMIT_MAX || value == u64::MAX {
        return;
    }
    let keyword = match limit.kind.node {
        PoolLimitKind::Connections => "connections",
        PoolLimitKind::Pending => "pending",
        PoolLimitKind::Requests => "requests",
        PoolLimitKind::PerConnection => "per-connection",
        PoolLimitKind::H2Upgrade => return,
    };
    out.push(
        Diagnostic::new(
            Code::InvalidPoolLimit,
            limit.value.span,
            format!("a pool limit of {value} is too large"),
        )
        .primary_text("pool limits are whole numbers up to 2147483647")
        .help(format!(
            "write `{keyword} {POOL_LIMIT_MAX}` or less, or `{keyword} unlimited`"
        )),
    );
}

fn check_eject(eject: &EjectSpec, out: &mut Vec<Diagnostic>) {
    let class = &eject.class;
    if !EJECT_CLASSES.contains(&class.node.as_str()) {
        let suggestion = closest(
            &class.node.to_ascii_lowercase(),
            EJECT_CLASSES.iter().copied(),
        )
        .or_else(|| {
            EJECT_CLASSES
                .iter()
                .copied()
                .find(|c| c.eq_ignore_ascii_case(&class.node))
        });
        let diagnostic = Diagnostic::new(
            Code::UnknownEjectionClass,
            class.span,
            format!(
                "endpoints cannot be ejected after consecutive `{}`",
                class.node
            ),
        )
        .primary_text("the ejection class must be 5xx or gateway-error");
        out.push(match suggestion {
            Some(s) => diagnostic
                .help(format!("write `consecutive {s}`"))
                .fix(format!("Change to `{s}`"), vec![Edit { span: class.span, replacement: s.to_string() }]),
            None => diagnostic.help("write `consecutive 5xx` (any 5xx answer) or `consecutive gateway-error` (502, 503, 504)"),
        });
    }
    if let Some(interval) = &eject.interval {
        check_duration(interval, DurationRole::EjectInterval, out);
    }
    if let Some(time) = &eject.base_ejection {
        check_duration(time, DurationRole::EjectionTime, out);
    }
    if let Some(max) = &eject.max_percent {
        check_percent(max, "max ", "an ejection limit", out);
    }
    if let Some(min) = &eject.min_healthy {
        check_percent(min, "min-healthy ", "a minimum healthy share", out);
    }
}

// ---------------------------------------------------------------------------------------
// Replacement text

/// Whether a decoded string was written in quotes without escapes (the span then covers
/// the quotes). Escapes always shorten the text, so lengths tell.
fn is_quoted(value: &Spanned<String>) -> bool {
    value.span.range().len() == value.node.len() + 2
}

/// `new` written the way `original` was: in quotes if it was quoted or must be.
fn written_like(original: &Spanned<String>, new: &str) -> String {
    let bare = original.span.range().len() == original.node.len();
    if bare && (is_bare_word(new) || (!new.is_empty() && new.chars().all(|c| c.is_ascii_digit()))) {
        new.to_string()
    } else {
        quote(new)
    }
}

/// Whether `text` reads as a name: `[A-Za-z_][A-Za-z0-9_-]*` and not a reserved keyword.
fn is_bare_word(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !crate::syntax::lexer::is_reserved(text)
}

pub(super) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn diagnostics(text: &str) -> Vec<Diagnostic> {
        let parsed = crate::syntax::parse(FileId(0), text);
        assert!(
            parsed.diagnostics.is_empty(),
            "syntax errors: {:#?}",
            parsed.diagnostics
        );
        let mut out = Vec::new();
        check(&parsed.module, &mut out);
        out
    }

    fn codes(text: &str) -> Vec<Code> {
        diagnostics(text).iter().map(|d| d.code).collect()
    }

    fn slice(text: &str, span: Span) -> &str {
        &text[span.range()]
    }

    fn only_fix(d: &Diagnostic) -> &str {
        assert_eq!(d.fixes.len(), 1, "{d:#?}");
        assert_eq!(d.fixes[0].edits.len(), 1, "{d:#?}");
        &d.fixes[0].edits[0].replacement
    }

    const VALID: &str = r#"
namespace shop
service reviews in shop-prod {
  host reviews.shop.svc.cluster.local
  port 8080 http
  subset v1, v2
  subset canary { version: v3, "app.kubernetes.io/track": "canary-1.2", empty: "" }
  accepts GET, HEAD, POST
  timeout 1.5s
  retry 2 x 500ms on 5xx, reset, 503, deadline-exceeded
  pool { connections 100 pending 2147483647 per-connection unlimited }
  eject after 5 consecutive gateway-error every 10s for 30s { max 50% min-healthy 0% }
  routes {
    when header x-user == "qa" and method == PATCH and query version present -> v2 { timeout 2s retry off }
    else -> v1:9090 90%, canary 10%
  }
}
policy fast { timeout 1ms retry 0 }
"#;

    #[test]
    fn valid_values_produce_nothing() {
        assert_eq!(codes(VALID), Vec::<Code>::new());
    }

    #[test]
    fn durations_under_a_millisecond_or_fractional_are_rejected() {
        let text =
            "service a { timeout 500us retry 1 x 1500us routes { else -> v1 { timeout 0s } } }\n\
                    policy p { eject after 1 consecutive 5xx every 100ns for 1000us }";
        let found = diagnostics(text);
        assert_eq!(found.len(), 4, "{found:#?}");
        assert!(found.iter().all(|d| d.code == Code::InvalidDuration));
        assert_eq!(slice(text, found[0].primary_span()), "500us");
        assert_eq!(only_fix(&found[0]), "1ms");
        assert_eq!(found[0].help.as_deref(), Some("write `timeout 1ms`"));
        assert_eq!(only_fix(&found[1]), "2ms");
        assert!(
            found[2].fixes.is_empty(),
            "a zero timeout has no fix: {:#?}",
            found[2]
        );
        assert_eq!(slice(text, found[3].primary_span()), "100ns");
    }

    #[test]
    fn ports_outside_the_range_are_rejected() {
        let text = "service a { port 0 http routes { else -> v1:70000 } }";
        let found = diagnostics(text);
        assert_eq!(
            found.iter().map(|d| d.code).collect::<Vec<_>>(),
            vec![Code::PortOutOfRange; 2]
        );
        assert_eq!(slice(text, found[1].primary_span()), "70000");
    }

    #[test]
    fn names_must_be_dns_labels_with_a_fix_when_one_is_clear() {
        let text = "namespace Shop\nservice Reviews_v2 in my_ns { subset V1, ok subset Canary { version: v3 } }\npolicy _bad { }";
        let found = diagnostics(text);
        let codes: Vec<Code> = found.iter().map(|d| d.code).collect();
        assert_eq!(codes, vec![Code::InvalidName; 6], "{found:#?}");
        assert_eq!(slice(text, found[1].primary_span()), "Reviews_v2");
        assert_eq!(only_fix(&found[1]), "reviews-v2");
        assert_eq!(only_fix(&found[2]), "my-ns");
        assert_eq!(only_fix(&found[3]), "v1");
        assert_eq!(only_fix(&found[5]), "bad", "{:#?}", found[5]);
    }

    #[test]
    fn long_names_are_rejected_without_a_fix() {
        let long = "a".repeat(64);
        let found = diagnostics(&format!("service {long} {{ }}"));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, Code::InvalidName);
        assert!(found[0].fixes.is_empty());
    }

    #[test]
    fn label_keys_and_values_follow_kubernetes_rules() {
        let text = r#"service a { subset c { "Bad.Prefix/x": v, "a/b/c": v, "-k": v, k: "two words", k2: "x/y" } }"#;
        let found = diagnostics(text);
        assert!(
            found.iter().all(|d| d.code == Code::InvalidLabel),
            "{found:#?}"
        );
        assert_eq!(found.len(), 5, "{found:#?}");
        assert_eq!(slice(text, found[3].primary_span()), "\"two words\"");
        assert_eq!(only_fix(&found[3]), "\"two-words\"");
    }

    #[test]
    fn weights_must_be_whole_percentages_up_to_100() {
        let text = "service a { routes { else -> v1 33.5%, v2 66.5% } }\nservice b { routes { else -> v1 150% } }";
        let found = diagnostics(text);
        assert_eq!(
            found.iter().map(|d| d.code).collect::<Vec<_>>(),
            vec![Code::InvalidWeight; 3]
        );
        assert_eq!(only_fix(&found[0]), "34%");
        assert!(found[2].fixes.is_empty());
    }

    #[test]
    fn eject_percentages_and_class_are_checked() {
        let text = "policy p { eject after 5 consecutive 4xx { max 120% min-healthy 10.5% } }\npolicy q { eject after 5 consecutive gateway-eror }";
        let found = diagnostics(text);
        let codes: Vec<Code> = found.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            vec![
                Code::UnknownEjectionClass,
                Code::InvalidWeight,
                Code::InvalidWeight,
                Code::UnknownEjectionClass
            ]
        );
        assert!(found[0].labels[0].message.contains("5xx or gateway-error"));
        assert_eq!(only_fix(&found[3]), "gateway-error");
    }

    #[test]
    fn hosts_must_be_dns_names() {
        let text = r#"service a { host "http://reviews.shop:8080/x" }
service b { host "reviews..shop" }
service c { host *.shop.example }
service d { host "*" }"#;
        let found = diagnostics(text);
        assert_eq!(
            found.iter().map(|d| d.code).collect::<Vec<_>>(),
            vec![Code::InvalidHost; 3]
        );
        assert_eq!(only_fix(&found[0]), "\"reviews.shop\"");
        assert!(found[1].fixes.is_empty());
    }

    #[test]
    fn header_names_must_be_lower_case() {
        let text = "service a { routes { when header X-User present and header x-ok == \"1\" -> v1 else -> v1 } }";
        let found = diagnostics(text);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].code, Code::InvalidHeaderName);
        assert_eq!(slice(text, found[0].primary_span()), "X-User");
        assert_eq!(only_fix(&found[0]), "x-user");
    }

    #[test]
    fn retry_conditions_are_envoys() {
        let text = "service a { retry 2 x 1s on 5xx, rest, 4xx, 99, 503, frobnicate }";
        let found = diagnostics(text);
        assert_eq!(
            found.iter().map(|d| d.code).collect::<Vec<_>>(),
            vec![Code::UnknownRetryCondition; 4]
        );
        assert_eq!(only_fix(&found[0]), "reset");
        assert_eq!(only_fix(&found[1]), "retriable-4xx");
        assert!(found[2].fixes.is_empty() && found[3].fixes.is_empty());
    }

    #[test]
    fn retry_zero_with_settings_is_rejected_but_retry_off_is_fine() {
        let text = "service a { retry 0 x 1s on reset }\nservice b { retry off }";
        let found = diagnostics(text);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].code, Code::AttemptsZeroWithSettings);
        assert_eq!(slice(text, found[0].primary_span()), "0");
        assert_eq!(found[0].labels.len(), 3);
        let edit = &found[0].fixes[0].edits[0];
        assert_eq!(slice(text, edit.span), "retry 0 x 1s on reset");
    }

    #[test]
    fn methods_must_be_known_and_upper_case() {
        let text = "service a { accepts get, GTE, FROB routes { when method == \"post\" -> v1 when method ^= \"x\" -> v1 else -> v1 } }";
        let found = diagnostics(text);
        assert_eq!(
            found.iter().map(|d| d.code).collect::<Vec<_>>(),
            vec![Code::UnknownMethod; 4],
            "{found:#?}"
        );
        assert_eq!(only_fix(&found[0]), "GET");
        assert_eq!(only_fix(&found[1]), "GET");
        assert!(found[2].fixes.is_empty());
        assert_eq!(only_fix(&found[3]), "\"POST\"");
    }

    #[test]
    fn pool_limits_must_fit_in_int32() {
        let text = "policy p { pool { connections 2147483648 requests 10 } }";
        let found = diagnostics(text);
        assert_eq!(
            found.iter().map(|d| d.code).collect::<Vec<_>>(),
            vec![Code::InvalidPoolLimit]
        );
        assert_eq!(slice(text, found[0].primary_span()), "2147483648");
    }

    #[test]
    fn formats_durations_in_the_largest_exact_unit() {
        assert_eq!(format_nanos(500_000), "500us");
        assert_eq!(format_nanos(1_500_000_000), "1500ms");
        assert_eq!(format_nanos(120_000_000_000), "2m");
        assert_eq!(format_nanos(7), "7ns");
    }
}
