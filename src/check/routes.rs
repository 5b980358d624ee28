//! Route tables: splits, catch-alls, reachability and conflicting conditions.
//!
//! Rules are tried top to bottom and the first match wins. A table without a catch-all
//! answers 404 with Envoy's NR flag for requests that match nothing; a rule after a
//! catch-all, or whose every match is at least as narrow as an earlier match, never
//! receives a request. A split's weights must add up to 100%.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use crate::diagnostics::{Code, Diagnostic, Edit};
use crate::model::{Mesh, Rule, Service};
use crate::source::Span;
use crate::syntax::ast::{Condition, Field, Match, StringOp, Test};

pub fn check(mesh: &Mesh, out: &mut Vec<Diagnostic>) {
    for service in &mesh.services {
        let Some(table) = &service.routes else {
            continue;
        };
        for rule in &table.rules {
            if rule.resolved {
                check_split(rule, out);
            }
            check_redirect(rule, out);
            for m in rule.matches.iter() {
                check_conflicts(m, out);
            }
        }
        check_reachability(&table.rules, &service.hosts, out);
        // Only HTTP tables of services answer 404 NR for what matches nothing; a table
        // bound to gateways routes the paths it exposes on purpose, and TCP and TLS
        // tables select by port and server name.
        let needs_catch_all = table.kind == crate::model::RouteKind::Http
            && service.kind != crate::model::ServiceKind::Expose;
        if needs_catch_all
            && !covers_every_http_port(service, &table.rules)
            && !table
                .rules
                .iter()
                .any(|r| takes_everything(r, &service.hosts))
        {
            out.push(missing_catch_all(service, &table.rules, table.span));
        }
    }
}

fn check_split(rule: &Rule, out: &mut Vec<Diagnostic>) {
    let dests = &rule.destinations;
    for (i, d) in dests.iter().enumerate() {
        if let Some(first) = dests[..i]
            .iter()
            .find(|e| e.host == d.host && e.subset == d.subset && e.port == d.port)
        {
            out.push(
                Diagnostic::new(
                    Code::DuplicateDestination,
                    d.span,
                    "this split names the same destination twice",
                )
                .primary_text("second entry")
                .label(first.span, "first entry")
                .help("merge the two entries into one and add their weights"),
            );
        }
    }
    let Some(first) = dests.first() else { return };
    let span = first.span.to(dests[dests.len() - 1].span);
    if dests.len() == 1 {
        if let Some(weight) = &first.weight {
            if weight.value != 100.0 {
                out.push(
                    Diagnostic::new(
                        Code::WeightsNotHundred,
                        weight.span,
                        format!(
                            "a single destination takes all traffic, not {}%",
                            weight.value
                        ),
                    )
                    .primary_text("the only destination of this rule")
                    .help("drop the weight, or add the destinations that take the rest")
                    .fix(
                        "drop the weight",
                        vec![Edit {
                            span: weight.span,
                            replacement: String::new(),
                        }],
                    ),
                );
            }
        }
        return;
    }
    let missing: Vec<_> = dests.iter().filter(|d| d.weight.is_none()).collect();
    if !missing.is_empty() {
        let mut diagnostic = Diagnostic::new(
            Code::MissingWeight,
            missing[0].span,
            format!(
                "a split of {} destinations needs a weight on each",
                dests.len()
            ),
        )
        .primary_text("no weight");
        for other in &missing[1..] {
            diagnostic = diagnostic.label(other.span, "no weight either");
        }
        let given: f64 = dests
            .iter()
            .filter_map(|d| d.weight.as_ref())
            .map(|w| w.value)
            .sum();
        let rest = (100.0 - given).max(0.0).floor() as usize;
        let share = rest / missing.len();
        let mut extra = rest - share * missing.len();
        let suggestion = dests
            .iter()
            .map(|d| match &d.weight {
                Some(w) => format!("{} {}%", destination_text(d), trim(w.value)),
                None => {
                    let w = share + usize::from(extra > 0);
                    extra = extra.saturating_sub(1);
                    format!("{} {w}%", destination_text(d))
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        out.push(diagnostic.help(format!(
            "give each destination a percentage, e.g. `{suggestion}`"
        )));
        return;
    }
    let weights: Vec<f64> = dests
        .iter()
        .map(|d| d.weight.as_ref().map_or(0.0, |w| w.value))
        .collect();
    let total: f64 = weights.iter().sum();
    if (total - 100.0).abs() > 1e-9 {
        let mut diagnostic = Diagnostic::new(
            Code::WeightsNotHundred,
            span,
            format!(
                "the weights of this split add up to {}%, not 100%",
                trim(total)
            ),
        )
        .primary_text(format!("{}% in all", trim(total)));
        if let Some(scaled) = rescale(&weights) {
            let edits = dests
                .iter()
                .zip(&scaled)
                .filter_map(|(d, w)| {
                    d.weight.as_ref().map(|old| Edit {
                        span: old.span,
                        replacement: format!("{w}%"),
                    })
                })
                .collect();
            let text = dests
                .iter()
                .zip(&scaled)
                .map(|(d, w)| format!("{} {w}%", destination_text(d)))
                .collect::<Vec<_>>()
                .join(", ");
            diagnostic = diagnostic
                .help(format!("make them add up to 100%, for instance `{text}`"))
                .fix("rescale the weights to 100%", edits);
        } else {
            diagnostic = diagnostic.help("make the weights add up to 100%");
        }
        out.push(diagnostic);
    }
}

fn check_redirect(rule: &Rule, out: &mut Vec<Diagnostic>) {
    if let Some(crate::model::RouteAction::Respond { status, .. }) = rule.action.as_deref() {
        if !(200..=599).contains(&status.value) {
            out.push(
                Diagnostic::new(
                    Code::InvalidResponseStatus,
                    status.span,
                    format!("{} is not a status Istio answers with", status.value),
                )
                .primary_text("a direct response takes a status from 200 to 599")
                .help("write a status such as `respond 503` or `respond 404`"),
            );
        }
        return;
    }
    let Some(crate::model::RouteAction::Redirect {
        code: Some(code), ..
    }) = rule.action.as_deref()
    else {
        return;
    };
    if !matches!(code.value, 301 | 302 | 303 | 307 | 308) {
        out.push(
            Diagnostic::new(
                Code::RedirectNotRedirectCode,
                code.span,
                format!("{} is not a redirection status", code.value),
            )
            .primary_text("a redirect answers with a 3xx status")
            .help(
                "write `code 301` (permanent), `302` (temporary), `307` or `308` (keep the method)",
            ),
        );
    }
}

fn destination_text(d: &crate::model::Destination) -> String {
    d.subset
        .clone()
        .unwrap_or_else(|| d.host.split('.').next().unwrap_or(&d.host).to_string())
}

fn trim(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// Scales weights proportionally to whole percentages adding up to 100 (largest
/// remainder); `None` when they are all zero.
pub(crate) fn rescale(weights: &[f64]) -> Option<Vec<u32>> {
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let exact: Vec<f64> = weights.iter().map(|w| w * 100.0 / total).collect();
    let mut scaled: Vec<u32> = exact.iter().map(|e| e.floor() as u32).collect();
    let mut rest = 100 - scaled.iter().sum::<u32>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        rb.partial_cmp(&ra)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(&b))
    });
    for i in order {
        if rest == 0 {
            break;
        }
        scaled[i] += 1;
        rest -= 1;
    }
    Some(scaled)
}

fn check_conflicts(m: &Match, out: &mut Vec<Diagnostic>) {
    let mut first_test: HashMap<FieldKey<'_>, Span> = HashMap::new();
    for c in &m.conditions {
        match first_test.entry(field_key(&c.field)) {
            Entry::Vacant(slot) => {
                slot.insert(c.span);
            }
            Entry::Occupied(first) => out.push(
                Diagnostic::new(
                    Code::ConflictingConditions,
                    c.span,
                    format!("this match tests {} twice", field_name(&c.field)),
                )
                .primary_text("second test")
                .label(*first.get(), "first test")
                .help("fold both into one test, or write `or` if either should match"),
            ),
        }
    }
}

/// A field as a hashable key: header names compare case-insensitively.
#[derive(PartialEq, Eq, Hash)]
enum FieldKey<'a> {
    Path,
    Method,
    Authority,
    Scheme,
    Port,
    Sni,
    Header(String),
    Query(&'a str),
}

fn field_key(field: &Field) -> FieldKey<'_> {
    match field {
        Field::Path => FieldKey::Path,
        Field::Method => FieldKey::Method,
        Field::Header(n) => FieldKey::Header(n.node.to_ascii_lowercase()),
        Field::Query(n) => FieldKey::Query(&n.node),
        Field::Authority => FieldKey::Authority,
        Field::Scheme => FieldKey::Scheme,
        Field::Port => FieldKey::Port,
        Field::Sni => FieldKey::Sni,
    }
}

fn same_field(a: &Field, b: &Field) -> bool {
    field_key(a) == field_key(b)
}

fn field_name(field: &Field) -> String {
    match field {
        Field::Path => "the path".to_string(),
        Field::Method => "the method".to_string(),
        Field::Header(n) => format!("header `{}`", n.node),
        Field::Query(n) => format!("query parameter `{}`", n.node),
        Field::Authority => "the authority".to_string(),
        Field::Scheme => "the scheme".to_string(),
        Field::Port => "the port".to_string(),
        Field::Sni => "the server name (SNI)".to_string(),
    }
}

/// Rules that match on nothing but the port, one for each HTTP port of the service:
/// together they take every HTTP request.
fn covers_every_http_port(service: &Service, rules: &[Rule]) -> bool {
    let http_ports: Vec<u16> = service
        .ports
        .iter()
        .filter(|p| {
            p.protocol.as_deref().is_some_and(|p| {
                matches!(
                    p.to_ascii_lowercase().as_str(),
                    "http" | "http2" | "grpc" | "grpc-web"
                )
            })
        })
        .map(|p| p.number)
        .collect();
    let matched: Vec<u16> = rules
        .iter()
        .flat_map(|r| r.matches.iter())
        .filter_map(|m| match m.conditions.as_slice() {
            [Condition {
                field: Field::Port,
                test: Test::Compare(StringOp::Exact, value),
                ..
            }] => value.node.parse().ok(),
            _ => None,
        })
        .collect();
    !http_ports.is_empty() && http_ports.iter().all(|p| matched.contains(p))
}

/// `else`, or a `when` with a match that every request satisfies.
fn takes_everything(rule: &Rule, hosts: &[String]) -> bool {
    rule.catch_all
        || rule
            .matches
            .iter()
            .any(|m| m.conditions.iter().all(|c| always_true(c, hosts)))
}

/// A condition every request satisfies: a path prefix of "/" or "", a regex `.*`, the
/// server name of a table that answers for that one host.
fn always_true(c: &Condition, hosts: &[String]) -> bool {
    match (&c.field, &c.test) {
        (Field::Path, Test::Compare(StringOp::Prefix, v)) => v.node.is_empty() || v.node == "/",
        (Field::Path | Field::Method, Test::Compare(StringOp::Regex, v)) => v.node == ".*",
        (Field::Sni, Test::Compare(StringOp::Exact, v)) => hosts == [v.node.clone()],
        _ => false,
    }
}

/// How many earlier rules a rule is compared with for shadowing.
const MAX_SHADOW_DISTANCE: usize = 200;

fn check_reachability(rules: &[Rule], hosts: &[String], out: &mut Vec<Diagnostic>) {
    let mut catch_all: Option<&Rule> = None;
    for (j, rule) in rules.iter().enumerate() {
        if let Some(earlier) = catch_all {
            out.push(
                Diagnostic::new(
                    Code::UnreachableRule,
                    rule.head_span,
                    "this rule can never match",
                )
                .primary_text("unreachable")
                .label(earlier.head_span, "this rule already takes every request")
                .help("move the rule above the catch-all, or delete it"),
            );
            continue;
        }
        if !rule.catch_all {
            // Tables are short in practice; a bound keeps a generated 50,000-rule table
            // from taking quadratic time, at the price of missing a shadow further up.
            let window = &rules[j.saturating_sub(MAX_SHADOW_DISTANCE)..j];
            let shadow: Option<Vec<Span>> = rule
                .matches
                .iter()
                .map(|m| {
                    window
                        .iter()
                        .flat_map(|r| r.matches.iter())
                        .find(|earlier| subsumes(earlier, m, hosts))
                        .map(|earlier| earlier.span)
                })
                .collect();
            if let Some(spans) = shadow {
                let mut diagnostic = Diagnostic::new(
                    Code::UnreachableRule,
                    rule.head_span,
                    "this rule can never match: earlier rules take every request it would",
                )
                .primary_text("unreachable");
                for span in dedup(spans) {
                    diagnostic = diagnostic.label(span, "this earlier match takes those requests");
                }
                out.push(
                    diagnostic.help("move the narrower rule above the wider one, or delete it"),
                );
            }
        }
        if takes_everything(rule, hosts) {
            catch_all = Some(rule);
        }
    }
}

fn dedup(mut spans: Vec<Span>) -> Vec<Span> {
    let mut seen = Vec::new();
    spans.retain(|s| {
        if seen.contains(s) {
            false
        } else {
            seen.push(*s);
            true
        }
    });
    spans
}

/// Whether every request that satisfies `narrow` also satisfies `wide`.
pub(crate) fn subsumes(wide: &Match, narrow: &Match, hosts: &[String]) -> bool {
    wide.conditions
        .iter()
        .all(|w| always_true(w, hosts) || narrow.conditions.iter().any(|n| implies(n, w)))
}

/// Whether a value that passes `n` always passes `w` (same field).
fn implies(n: &Condition, w: &Condition) -> bool {
    if !same_field(&n.field, &w.field) {
        return false;
    }
    match (&n.test, &w.test) {
        (_, Test::Present) => true,
        (Test::Present, _) => false,
        (Test::Compare(nop, nv), Test::Compare(wop, wv)) => {
            let (nv, wv) = (nv.node.as_str(), wv.node.as_str());
            match (nop, wop) {
                (a, b) if a == b && nv == wv => true,
                (StringOp::Exact | StringOp::Prefix, StringOp::Prefix) => nv.starts_with(wv),
                (StringOp::Exact, StringOp::Regex) => regex::Regex::new(&format!("^(?:{wv})$"))
                    .map(|r| r.is_match(nv))
                    .unwrap_or(false),
                _ => false,
            }
        }
    }
}

fn missing_catch_all(service: &Service, rules: &[Rule], table: Span) -> Diagnostic {
    // The first subset is, by convention, the stable one; without subsets, the service.
    let target = service
        .subsets
        .first()
        .map(|s| s.name.clone())
        .unwrap_or_else(|| service.name.clone());
    let mut diagnostic = Diagnostic::new(
        Code::MissingCatchAll,
        rules.last().map_or(table, |r| r.span),
        format!(
            "the route table of `{}` has no catch-all rule",
            service.name
        ),
    )
    .primary_text("after this rule, unmatched requests get 404 with Envoy's NR flag")
    .label(
        Span {
            end: table.start + "routes".len() as u32,
            ..table
        },
        "this route table",
    )
    .help(format!("add `else -> {target}` as the last rule"));
    if let Some(last) = rules.last() {
        let at = Span {
            start: last.span.end,
            ..last.span
        };
        diagnostic = diagnostic.fix(
            "add a catch-all rule",
            vec![Edit {
                span: at,
                replacement: format!("\n    else -> {target}"),
            }],
        );
    }
    diagnostic
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::test_support::codes_of;

    #[test]
    fn weights_must_add_up_and_rescale_keeps_proportions() {
        assert_eq!(rescale(&[90.0, 20.0]), Some(vec![82, 18]));
        assert_eq!(rescale(&[1.0, 1.0, 1.0]), Some(vec![34, 33, 33]));
        assert_eq!(rescale(&[0.0]), None);
        let codes = codes_of("service a { subset v1, v2\n routes { else -> v1 90%, v2 20% } }");
        assert_eq!(codes, vec![Code::WeightsNotHundred]);
        assert!(
            codes_of("service a { subset v1, v2\n routes { else -> v1 90%, v2 10% } }").is_empty()
        );
    }

    #[test]
    fn missing_weights_and_duplicate_destinations() {
        assert_eq!(
            codes_of("service a { subset v1, v2\n routes { else -> v1, v2 } }"),
            vec![Code::MissingWeight]
        );
        assert_eq!(
            codes_of("service a { subset v1\n routes { else -> v1 50%, v1 50% } }"),
            vec![Code::DuplicateDestination]
        );
    }

    #[test]
    fn a_table_needs_a_catch_all() {
        let src = "service a { subset v1\n routes { when header x == \"1\" -> v1 } }";
        assert_eq!(codes_of(src), vec![Code::MissingCatchAll]);
        let prefix_root = "service a { subset v1\n routes { when path ^= \"/\" -> v1 } }";
        assert!(codes_of(prefix_root).is_empty());
    }

    #[test]
    fn rules_after_a_catch_all_or_under_a_wider_match_are_unreachable() {
        let after =
            "service a { subset v1\n routes { else -> v1\n when header x == \"1\" -> v1 } }";
        assert_eq!(codes_of(after), vec![Code::UnreachableRule]);
        let narrower = "service a { subset v1, v2\n routes {\n when path ^= \"/api\" -> v1\n when path ^= \"/api/v2\" and header x present -> v2\n else -> v1 } }";
        assert_eq!(codes_of(narrower), vec![Code::UnreachableRule]);
        let fine = "service a { subset v1, v2\n routes {\n when path ^= \"/api/v2\" -> v2\n when path ^= \"/api\" -> v1\n else -> v1 } }";
        assert!(codes_of(fine).is_empty());
        let or_partly_new = "service a { subset v1, v2\n routes {\n when path ^= \"/a\" -> v2\n when path ^= \"/a\" or path ^= \"/b\" -> v1\n else -> v1 } }";
        assert!(codes_of(or_partly_new).is_empty());
        let regex = "service a { subset v1, v2\n routes {\n when path ~= \"/v[0-9]+\" -> v2\n when path == \"/v2\" -> v1\n else -> v1 } }";
        assert_eq!(codes_of(regex), vec![Code::UnreachableRule]);
    }

    #[test]
    fn redirect_codes_and_response_statuses_are_in_range() {
        let src = "service a { subset v1\n routes {\n when path == \"/old\" -> redirect path \"/new\" code 200\n when path == \"/down\" -> respond 999\n else -> v1 } }";
        assert_eq!(
            codes_of(src),
            vec![Code::RedirectNotRedirectCode, Code::InvalidResponseStatus]
        );
    }

    #[test]
    fn one_match_tests_each_field_once() {
        let src = "service a { subset v1\n routes { when path ^= \"/a\" and path ^= \"/b\" -> v1\n else -> v1 } }";
        assert_eq!(codes_of(src), vec![Code::ConflictingConditions]);
    }
}
