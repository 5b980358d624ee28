//! Hover: what a name denotes, what a rule's settings add up to, what a retry condition
//! means, and the `routec explain` text of a diagnostic under the cursor.
//!
//! Names come from the symbol index (one file's), their facts from the mesh. A rule's
//! effective timeout and retry policy are the mesh's (rule settings over the service's,
//! policies applied); a rule the checker dropped for an unresolved destination has none
//! to show. Several answers at one place (an unsafe retry condition that is also a
//! diagnostic's primary span) are shown together, separated by rules.

use super::symbols::{policy_decl, Symbol, SymbolIndex};
use super::{clamp_offset, source_text, Hover};
use crate::check::idempotency::is_safe_condition;
use crate::diagnostics::Diagnostic;
use crate::model::{self, Duration, Located, RetryPolicy, DEFAULT_RETRY_ON};
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, Guard, Item, StmtKind};
use crate::Analysis;

/// Envoy's retry conditions and what each means.
pub(crate) const RETRY_CONDITIONS: &[(&str, &str)] = &[
    (
        "5xx",
        "the upstream answered 5xx, or reset, refused or failed to connect",
    ),
    ("gateway-error", "the upstream answered 502, 503 or 504"),
    (
        "reset",
        "the upstream did not answer at all: disconnect, reset or read timeout",
    ),
    (
        "reset-before-request",
        "the stream was reset before the request was sent upstream",
    ),
    (
        "connect-failure",
        "the connection to the upstream could not be opened",
    ),
    (
        "envoy-ratelimited",
        "Envoy's rate limiter refused the request (x-envoy-ratelimited)",
    ),
    ("retriable-4xx", "the upstream answered 409 Conflict"),
    (
        "refused-stream",
        "the upstream refused the HTTP/2 stream (REFUSED_STREAM)",
    ),
    (
        "retriable-status-codes",
        "the upstream answered a status listed as retriable",
    ),
    (
        "retriable-headers",
        "the response carries a header listed as retriable",
    ),
    (
        "http3-post-connect-failure",
        "an HTTP/3 request failed after the connection was made",
    ),
    ("cancelled", "gRPC status CANCELLED (1)"),
    ("deadline-exceeded", "gRPC status DEADLINE_EXCEEDED (4)"),
    ("internal", "gRPC status INTERNAL (13)"),
    ("resource-exhausted", "gRPC status RESOURCE_EXHAUSTED (8)"),
    ("unavailable", "gRPC status UNAVAILABLE (14)"),
];

/// How a retry condition reads in completion details.
pub(crate) fn condition_safety(condition: &str) -> &'static str {
    if is_safe_condition(condition) {
        "safe"
    } else {
        "fires after the request arrived"
    }
}

pub(crate) fn hover(analysis: &Analysis, file: FileId, offset: usize) -> Option<Hover> {
    let offset = clamp_offset(source_text(analysis, file)?, offset);
    let index = SymbolIndex::for_file(analysis, file);
    let mut sections: Vec<String> = Vec::new();
    let mut span: Option<Span> = None;
    let named = index.at(file, offset).and_then(|o| {
        let markdown = symbol_markdown(&index, o.symbol.as_ref()?)?;
        Some((o.span, markdown))
    });
    if let Some((at, markdown)) = named.or_else(|| syntax_hover(&index, file, offset)) {
        sections.push(markdown);
        span = Some(at);
    }
    for diagnostic in &analysis.diagnostics {
        let primary = diagnostic.primary_span();
        let (start, end) = (primary.start as usize, primary.end as usize);
        if primary.file == file && start <= offset && (offset < end || offset == start) {
            sections.push(diagnostic_markdown(diagnostic));
            span.get_or_insert(primary);
        }
    }
    Some(Hover {
        span: span?,
        markdown: sections.join("\n\n---\n\n"),
    })
}

fn symbol_markdown(index: &SymbolIndex<'_>, symbol: &Symbol) -> Option<String> {
    let analysis = index.analysis;
    let services = &analysis.mesh.services;
    Some(match symbol {
        Symbol::Service(i) => service_markdown(services.get(*i)?),
        Symbol::Subset { service, name } => {
            let service = services.get(*service)?;
            let subset = service.subset(name)?;
            format!(
                "**subset** `{}` of `{}`\n\nselects the pods labelled\n```text\n{}\n```",
                subset.name,
                service.name,
                subset
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        }
        Symbol::Policy { file, name } => {
            let decl = policy_decl(analysis, *file, name)?;
            let source = analysis.sources().get(*file);
            let text: Vec<&str> = source.text[decl.span.range()].lines().collect();
            let shown = text.len().min(12);
            let more = if text.len() > shown { "\n..." } else { "" };
            format!(
                "**policy** `{name}` ({})\n```route\n{}{more}\n```",
                source.name,
                text[..shown].join("\n")
            )
        }
        Symbol::Namespace(name) => {
            let members: Vec<&str> = services
                .iter()
                .filter(|s| s.namespace == *name)
                .map(|s| s.name.as_str())
                .collect();
            format!(
                "**namespace** `{name}`: {}",
                match members.len() {
                    0 => "no services".to_string(),
                    n => format!("{n} service{} ({})", plural(n), list(&members, 10)),
                }
            )
        }
        Symbol::Module(file) => {
            let loaded = analysis.loaded.file(*file)?;
            let mut policies = Vec::new();
            let mut declared = Vec::new();
            for item in &loaded.parsed.module.items {
                match item {
                    Item::Policy(p) => policies.push(p.name.node.as_str()),
                    Item::Service(s) => declared.push(s.name.node.as_str()),
                    _ => {}
                }
            }
            let mut text = format!("**{}**", analysis.sources().get(*file).name);
            if !policies.is_empty() {
                text.push_str(&format!("\n\npolicies: {}", list(&policies, 20)));
            }
            if !declared.is_empty() {
                text.push_str(&format!("\n\nservices: {}", list(&declared, 20)));
            }
            text
        }
    })
}

fn service_markdown(service: &model::Service) -> String {
    let ports = if service.ports.is_empty() {
        "none".to_string()
    } else {
        service
            .ports
            .iter()
            .map(|p| match &p.protocol {
                Some(protocol) => format!("{} {protocol}", p.number),
                None => p.number.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let subsets = if service.subsets.is_empty() {
        "none".to_string()
    } else {
        service
            .subsets
            .iter()
            .map(|s| format!("{} ({})", s.name, labels(&s.labels)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "**service** `{}`\n```text\nhost       {}\nnamespace  {}\nports      {ports}\nsubsets    {subsets}\n```",
        service.name, service.host, service.namespace
    )
}

pub(crate) fn labels(labels: &[(String, String)]) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn list(names: &[&str], at_most: usize) -> String {
    let shown = names.len().min(at_most);
    let mut text = names[..shown].join(", ");
    if names.len() > shown {
        text.push_str(&format!(" and {} more", names.len() - shown));
    }
    text
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A retry condition or a rule head at the offset.
fn syntax_hover(index: &SymbolIndex<'_>, file: FileId, offset: usize) -> Option<(Span, String)> {
    let loaded = index.analysis.loaded.file(file)?;
    for item in &loaded.parsed.module.items {
        let (body, service) = match item {
            Item::Service(s) => (&s.body, index.service_declared_at(s.name.span)),
            Item::Policy(p) => (&p.body, None),
            _ => continue,
        };
        if !contains(body.span, offset) {
            continue;
        }
        return block_hover(index, body, service, offset);
    }
    None
}

fn block_hover(
    index: &SymbolIndex<'_>,
    block: &ast::Block,
    service: Option<usize>,
    offset: usize,
) -> Option<(Span, String)> {
    for stmt in &block.stmts {
        if !contains(stmt.span, offset) {
            continue;
        }
        match &stmt.kind {
            StmtKind::Retry(spec) => {
                let condition = spec
                    .conditions
                    .iter()
                    .flatten()
                    .find(|c| contains(c.span, offset))?;
                return Some((condition.span, condition_markdown(&condition.node)));
            }
            StmtKind::Routes(table) => {
                let rule = table.rules.iter().find(|r| contains(r.span, offset))?;
                let head_end = match &rule.guard {
                    Guard::When(matches) => matches.last()?.span.end,
                    Guard::Else(span) => span.end,
                    Guard::Error => return None,
                };
                let arrow_end = rule
                    .destinations
                    .first()
                    .map_or(rule.span.end, |d| d.span.start);
                if (offset as u32) < arrow_end {
                    let head = Span {
                        end: head_end,
                        ..rule.span
                    };
                    return Some((head, rule_markdown(index, service, rule, head)));
                }
                return block_hover(index, rule.body.as_ref()?, service, offset);
            }
            _ => return None,
        }
    }
    None
}

fn contains(span: Span, offset: usize) -> bool {
    span.start as usize <= offset && offset <= span.end as usize
}

fn condition_markdown(condition: &str) -> String {
    let meaning = RETRY_CONDITIONS
        .iter()
        .find(|(name, _)| *name == condition)
        .map(|(_, meaning)| capitalise(meaning));
    let meaning = match meaning {
        Some(meaning) => meaning,
        None if !condition.is_empty() && condition.bytes().all(|b| b.is_ascii_digit()) => {
            format!("The upstream answered status {condition} (a retriable status code).")
        }
        None => return format!("**retry on** `{condition}`\n\nEnvoy knows no such condition."),
    };
    let safety = if is_safe_condition(condition) {
        "**Safe** for non-idempotent methods (POST, PATCH, CONNECT): it fires only when the request never reached the server."
    } else {
        "**Not safe** for non-idempotent methods (POST, PATCH, CONNECT): it fires after the request arrived, so a retry can repeat its effect."
    };
    format!("**retry on** `{condition}`\n\n{meaning}\n\n{safety}")
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => format!("{}{}.", c.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

fn rule_markdown(
    index: &SymbolIndex<'_>,
    service: Option<usize>,
    rule: &ast::Rule,
    head: Span,
) -> String {
    let analysis = index.analysis;
    let head_text = one_line(analysis.sources().slice(head), 60);
    let title = format!("**rule** `{head_text}`");
    let resolved = service
        .and_then(|i| analysis.mesh.services.get(i))
        .and_then(|s| s.routes.as_ref())
        .and_then(|t| t.rules.iter().find(|r| r.span == rule.span));
    let Some(resolved) = resolved else {
        return format!("{title}\n\nIts settings are known once its errors are fixed.");
    };
    let origin = |span: Span, via: Option<Span>| match via {
        Some(via) => format!("from policy `{}`", analysis.sources().slice(via)),
        None if span.start >= rule.span.start && span.end <= rule.span.end => {
            "set on this rule".to_string()
        }
        None => "from the service".to_string(),
    };
    let mut lines = Vec::new();
    lines.push(match &resolved.timeout {
        Some(t) => format!("timeout   {}, {}", t.value.human(), origin(t.span, t.via)),
        None => "timeout   none (Istio's default: no timeout)".to_string(),
    });
    lines.push(match &resolved.retry {
        Some(r) => format!(
            "retry     {}, {}",
            retry_text(&r.value),
            origin(r.span, r.via)
        ),
        None => format!(
            "retry     Istio's default: 2 retries on {}",
            DEFAULT_RETRY_ON.join(", ")
        ),
    });
    if let Some(budget) = budget_text(resolved.timeout.as_ref(), resolved.retry.as_deref()) {
        lines.push(format!("attempts  {budget}"));
    }
    format!("{title}\n```text\n{}\n```", lines.join("\n"))
}

fn retry_text(policy: &RetryPolicy) -> String {
    if policy.attempts == 0 {
        return "off".to_string();
    }
    let mut text = format!(
        "{} retr{} ({} attempts)",
        policy.attempts,
        if policy.attempts == 1 { "y" } else { "ies" },
        u64::from(policy.attempts) + 1
    );
    match &policy.per_try {
        Some(per_try) => text.push_str(&format!(" of up to {} each", per_try.value.human())),
        None => text.push_str(", no per-try timeout"),
    }
    match &policy.conditions {
        Some(conditions) => {
            let names: Vec<&str> = conditions.iter().map(|c| c.value.as_str()).collect();
            text.push_str(&format!(" on {}", names.join(", ")));
        }
        None => text.push_str(&format!(
            " on Istio's defaults ({})",
            DEFAULT_RETRY_ON.join(", ")
        )),
    }
    text
}

/// How many attempts fit in the timeout: floor(timeout / per-try) against attempts + 1.
fn budget_text(
    timeout: Option<&Located<Duration>>,
    retry: Option<&Located<RetryPolicy>>,
) -> Option<String> {
    let policy = &retry?.value;
    if policy.attempts == 0 {
        return None;
    }
    let tries = u64::from(policy.attempts) + 1;
    let per_try = policy.per_try.as_ref().map(|p| p.value);
    Some(match (timeout.map(|t| t.value), per_try) {
        (Some(timeout), Some(per_try)) if per_try.0 > 0 => {
            let fit = timeout.0 / per_try.0;
            let needed = Duration(per_try.0.saturating_mul(tries));
            if fit >= tries {
                format!(
                    "all {tries} fit in {} ({tries} x {} = {})",
                    timeout.human(),
                    per_try.human(),
                    needed.human()
                )
            } else {
                format!(
                    "only {fit} of {tries} fit in {}: they need {}",
                    timeout.human(),
                    needed.human()
                )
            }
        }
        (None, Some(per_try)) => format!(
            "no timeout: {tries} attempts may take up to {}",
            Duration(per_try.0.saturating_mul(tries)).human()
        ),
        (Some(timeout), _) => format!(
            "no per-try timeout: the first attempt may use all of {}",
            timeout.human()
        ),
        (None, _) => "neither a timeout nor a per-try timeout bounds them".to_string(),
    })
}

/// Text on one line, whitespace collapsed, cut at `at_most` characters.
pub(crate) fn one_line(text: &str, at_most: usize) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= at_most {
        return collapsed;
    }
    let cut: String = collapsed.chars().take(at_most.saturating_sub(1)).collect();
    format!("{cut}…")
}

fn diagnostic_markdown(diagnostic: &Diagnostic) -> String {
    let mut text = format!(
        "**{}[{}]**: {}",
        diagnostic.severity.as_str(),
        diagnostic.code,
        diagnostic.message
    );
    if let Some(help) = &diagnostic.help {
        text.push_str(&format!("\n\nhelp: {help}"));
    }
    text.push_str("\n\n");
    text.push_str(diagnostic.code.explanation());
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::test_support::{analyze_one, offset_of};

    fn hover_at(text: &str, needle: &str, nth: usize, within: usize) -> Option<Hover> {
        let analysis = analyze_one(text);
        hover(&analysis, FileId(0), offset_of(text, needle, nth, within))
    }

    const SHOP: &str = "namespace shop\n\
        service cart {\n  port 8080 http\n  subset v1\n  subset canary { version: v2, track: beta }\n  accepts GET\n  timeout 2s\n  retry 3 x 1s on 5xx, reset\n  routes {\n    when header x-beta present -> canary\n    when path ^= \"/slow\" -> v1 { timeout 10s }\n    else -> v1\n  }\n}\n";

    #[test]
    fn services_show_host_namespace_ports_and_subsets() {
        let hover = hover_at(SHOP, "cart", 0, 1).expect("a hover");
        let md = &hover.markdown;
        assert!(
            md.contains("host       cart.shop.svc.cluster.local"),
            "{md}"
        );
        assert!(md.contains("namespace  shop") && md.contains("ports      8080 http"));
        assert!(md.contains("canary (version=v2, track=beta)"), "{md}");
        assert_eq!(hover.span.start as usize, offset_of(SHOP, "cart", 0, 0));
    }

    #[test]
    fn subsets_show_their_labels_from_a_reference_or_the_declaration() {
        let reference = hover_at(SHOP, "canary", 1, 0).expect("a hover");
        assert!(reference.markdown.contains("version: v2\ntrack: beta"));
        let shorthand = hover_at(SHOP, "v1", 0, 1).expect("a hover");
        assert!(
            shorthand.markdown.contains("version: v1"),
            "{}",
            shorthand.markdown
        );
    }

    #[test]
    fn rule_heads_show_the_effective_budget() {
        let first = hover_at(SHOP, "x-beta present", 0, 9).expect("on `present`");
        let md = &first.markdown;
        assert!(md.contains("timeout   2s, from the service"), "{md}");
        assert!(md.contains("3 retries (4 attempts) of up to 1s each on 5xx, reset"));
        assert!(md.contains("only 2 of 4 fit in 2s: they need 4s"), "{md}");
        assert_eq!(
            first.span.end as usize,
            offset_of(SHOP, "present", 0, "present".len())
        );
        let slow = hover_at(SHOP, "when path", 0, 0).expect("on `when`");
        assert!(slow.markdown.contains("timeout   10s, set on this rule"));
        assert!(
            slow.markdown.contains("all 4 fit in 10s"),
            "{}",
            slow.markdown
        );
        let arrow = hover_at(SHOP, "-> v1\n", 0, 1).expect("on the arrow");
        assert!(arrow.markdown.starts_with("**rule** `else`"));
    }

    #[test]
    fn unset_settings_say_so() {
        let text = "service a { subset v1\n routes { else -> v1 } }";
        let md = hover_at(text, "else", 0, 0).expect("a hover").markdown;
        assert!(md.contains("no timeout") && md.contains("Istio's default: 2 retries"));
        let text = "import std/resilience\nservice a { accepts GET\n subset v1\n use idempotent-reads\n routes { else -> v1 } }";
        let md = hover_at(text, "else", 0, 0).expect("a hover").markdown;
        assert!(md.contains("from policy `idempotent-reads`"), "{md}");
    }

    #[test]
    fn retry_conditions_say_whether_they_are_safe() {
        let safe = hover_at(SHOP, "reset", 0, 0).expect("a hover").markdown;
        assert!(safe.contains("**Safe**"), "{safe}");
        let text = "service a { accepts GET\n retry 2 on 5xx, 503 }";
        let md = hover_at(text, "5xx", 0, 0).expect("a hover").markdown;
        assert!(
            md.contains("**Not safe**") && md.contains("answered 5xx"),
            "{md}"
        );
        let md = hover_at(text, "503", 0, 0).expect("a hover").markdown;
        assert!(md.contains("status 503"), "{md}");
    }

    #[test]
    fn diagnostics_under_the_cursor_are_explained() {
        let text = "service a { subset v1\n routes { else -> v3 } }";
        let hover = hover_at(text, "v3", 0, 0).expect("a hover");
        assert!(
            hover.markdown.contains("**error[E0201]**"),
            "{}",
            hover.markdown
        );
        assert!(hover.markdown.contains("503 and the response flag UH"));
        let both = "service a { retry 2 x 1s on 5xx }";
        let md = hover_at(both, "5xx", 0, 0).expect("a hover").markdown;
        assert!(md.contains("**Not safe**") && md.contains("E0401"), "{md}");
    }

    #[test]
    fn policies_namespaces_and_modules() {
        let text = "namespace shop\nimport std/resilience\nservice a { accepts GET\n use idempotent-reads }";
        let md = hover_at(text, "idempotent-reads", 0, 0)
            .expect("a hover")
            .markdown;
        assert!(
            md.contains("std/resilience.route") && md.contains("timeout 3s"),
            "{md}"
        );
        let md = hover_at(text, "shop", 0, 0).expect("a hover").markdown;
        assert!(md.contains("1 service (a)"), "{md}");
        let md = hover_at(text, "resilience", 0, 0)
            .expect("a hover")
            .markdown;
        assert!(md.contains("policies: idempotent-reads, writes"), "{md}");
    }

    #[test]
    fn every_condition_described_is_one_the_checker_accepts() {
        for (condition, _) in RETRY_CONDITIONS {
            let text = format!("service a {{ accepts GET\n retry 2 on {condition} }}");
            let analysis = analyze_one(&text);
            assert!(
                analysis.diagnostics.is_empty(),
                "{condition}: {:?}",
                analysis.diagnostics
            );
        }
    }

    #[test]
    fn nothing_to_say_is_none() {
        assert_eq!(hover_at(SHOP, "namespace", 0, 0), None);
        let analysis = analyze_one(SHOP);
        assert_eq!(hover(&analysis, FileId(0), usize::MAX), None);
        assert_eq!(hover(&analysis, FileId(99), 0), None);
    }
}
