//! Retries that could repeat a non-idempotent request.
//!
//! A route can carry the methods its service accepts (every method when it declares
//! none), narrowed by the rule's method matches and by earlier rules that take some
//! methods wholesale. When it can carry POST, PATCH or CONNECT and retries on a
//! condition that fires after the server received the request, a retry may repeat a
//! side effect: an error, unless the service names the idempotency key its server
//! deduplicates by.

use crate::diagnostics::{Code, Diagnostic, Edit};
use crate::model::{
    Located, Mesh, Method, MethodSet, RetryPolicy, Rule, Service, DEFAULT_RETRY_ON,
};
use crate::source::Span;
use crate::syntax::ast::{Field, Match, StringOp, Test};

/// Conditions that fire only when the request never reached the server.
pub const SAFE_CONDITIONS: &[&str] = &[
    "reset",
    "reset-before-request",
    "connect-failure",
    "refused-stream",
    "envoy-ratelimited",
];

pub fn is_safe_condition(condition: &str) -> bool {
    SAFE_CONDITIONS.contains(&condition)
}

pub fn check(mesh: &Mesh, out: &mut Vec<Diagnostic>) {
    for service in &mesh.services {
        if service.idempotency_key.is_some() {
            continue;
        }
        let base = accepted(service);
        match &service.routes {
            None => {
                if let Some(retry) = &service.retry {
                    let unsafe_methods = non_idempotent(base);
                    if !unsafe_methods.is_empty() {
                        report(service, retry, None, &unsafe_methods, out);
                    }
                }
            }
            Some(table) => {
                let mut reported: Vec<Span> = Vec::new();
                let mut taken = MethodSet::default();
                for rule in &table.rules {
                    let Some(retry) = &rule.retry else {
                        taken = taken.union(methods_taken_wholesale(rule, base));
                        continue;
                    };
                    let methods = carried(rule, base).difference(taken);
                    taken = taken.union(methods_taken_wholesale(rule, base));
                    let unsafe_methods = non_idempotent(methods);
                    if unsafe_methods.is_empty() || reported.contains(&retry.span) {
                        continue;
                    }
                    if report(service, retry, Some(rule), &unsafe_methods, out) {
                        reported.push(retry.span);
                    }
                }
            }
        }
    }
}

pub(crate) fn accepted(service: &Service) -> MethodSet {
    match &service.accepts {
        Some(accepts) => accepts.methods.iter().copied().collect(),
        None => MethodSet::ALL,
    }
}

pub(crate) fn non_idempotent(methods: MethodSet) -> Vec<Method> {
    methods.iter().filter(|m| !m.is_idempotent()).collect()
}

/// The methods a rule can receive, before earlier rules take their share.
pub(crate) fn carried(rule: &Rule, base: MethodSet) -> MethodSet {
    if rule.catch_all {
        return base;
    }
    rule.matches.iter().fold(MethodSet::default(), |set, m| {
        set.union(methods_of(m, base))
    })
}

/// Methods a match lets through.
fn methods_of(m: &Match, base: MethodSet) -> MethodSet {
    let Some(test) = m.conditions.iter().find_map(|c| match (&c.field, &c.test) {
        (Field::Method, Test::Compare(op, value)) => Some((*op, value.node.as_str())),
        _ => None,
    }) else {
        return base;
    };
    base.iter()
        .filter(|method| method_passes(*method, test))
        .collect()
}

fn method_passes(method: Method, (op, value): (StringOp, &str)) -> bool {
    let name = method.as_str();
    match op {
        StringOp::Exact => name == value,
        StringOp::Prefix => name.starts_with(value),
        // An invalid regex is reported elsewhere; here it may let anything through.
        StringOp::Regex => regex::Regex::new(&format!("^(?:{value})$"))
            .map(|r| r.is_match(name))
            .unwrap_or(true),
    }
}

/// Methods no later rule can see: those of matches that test nothing but the method.
pub(crate) fn methods_taken_wholesale(rule: &Rule, base: MethodSet) -> MethodSet {
    if rule.catch_all {
        return base;
    }
    rule.matches
        .iter()
        .filter(|m| {
            m.conditions
                .iter()
                .all(|c| matches!(c.field, Field::Method))
        })
        .fold(MethodSet::default(), |set, m| {
            set.union(methods_of(m, base))
        })
}

/// Reports the retry; `false` when it retries only on safe conditions.
fn report(
    service: &Service,
    retry: &Located<RetryPolicy>,
    rule: Option<&Rule>,
    methods: &[Method],
    out: &mut Vec<Diagnostic>,
) -> bool {
    let policy = &retry.value;
    if policy.attempts == 0 {
        return false;
    }
    let unsafe_conditions: Vec<&Located<String>> = match &policy.conditions {
        Some(conditions) => conditions
            .iter()
            .filter(|c| !is_safe_condition(&c.value))
            .collect(),
        None => Vec::new(),
    };
    let defaults = policy.conditions.is_none();
    if !defaults && unsafe_conditions.is_empty() {
        return false;
    }
    let method_list = methods
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let condition_list = if defaults {
        format!(
            "Istio's default conditions ({})",
            DEFAULT_RETRY_ON.join(", ")
        )
    } else {
        unsafe_conditions
            .iter()
            .map(|c| format!("`{}`", c.value))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let primary = match (retry.via, unsafe_conditions.first()) {
        (Some(use_span), _) => use_span,
        (None, Some(first)) => first
            .span
            .to(unsafe_conditions[unsafe_conditions.len() - 1].span),
        (None, None) => retry.span,
    };
    let mut diagnostic = Diagnostic::new(
        Code::UnsafeRetry,
        primary,
        format!("retries on {condition_list} can repeat a {method_list} request"),
    )
    .primary_text(if retry.via.is_some() {
        "this policy retries after the request may have reached the server"
    } else {
        "these conditions fire after the server received the request"
    });
    if retry.via.is_some() {
        diagnostic = diagnostic.label(retry.span, "the policy's retry");
    } else {
        for other in unsafe_conditions.iter().skip(1) {
            diagnostic = diagnostic.label(other.span, "fires after arrival too");
        }
    }
    match (rule, &service.accepts) {
        (Some(rule), _) => {
            diagnostic =
                diagnostic.label(rule.head_span, format!("this rule can carry {method_list}"));
        }
        (None, Some(accepts)) => {
            diagnostic =
                diagnostic.label(accepts.span, format!("the service accepts {method_list}"));
        }
        (None, None) => {}
    }
    if service.accepts.is_none() {
        diagnostic = diagnostic.note(format!(
            "`{}` does not say which methods it accepts, so every method may arrive",
            service.name
        ));
    }
    diagnostic = diagnostic.help(
        "retry only on conditions that fire before the request arrives (`on reset, connect-failure, refused-stream`), \
         declare the methods the service serves (`accepts GET, HEAD`), match idempotent methods (`when method == GET`), \
         or name the header the server deduplicates by (`idempotency-key \"Idempotency-Key\"`)",
    );
    if retry.via.is_none() {
        if let Some(conditions) = &policy.conditions {
            let safe: Vec<&str> = conditions
                .iter()
                .map(|c| c.value.as_str())
                .filter(|c| is_safe_condition(c))
                .collect();
            let (first, last) = (conditions[0].span, conditions[conditions.len() - 1].span);
            let replacement = if safe.is_empty() {
                "reset, connect-failure".to_string()
            } else {
                safe.join(", ")
            };
            diagnostic = diagnostic.fix(
                format!("retry only on {replacement}"),
                vec![Edit {
                    span: first.to(last),
                    replacement,
                }],
            );
        }
    }
    out.push(diagnostic);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::test_support::codes_of;

    #[test]
    fn retries_on_5xx_need_idempotent_methods() {
        let unsafe_src = "service a { retry 2 x 1s on 5xx, reset }";
        assert_eq!(codes_of(unsafe_src), vec![Code::UnsafeRetry]);
        let reads = "service a { accepts GET, HEAD\n retry 2 x 1s on 5xx, reset }";
        assert!(codes_of(reads).is_empty());
        let keyed = "service a { idempotency-key \"Idempotency-Key\"\n retry 2 x 1s on 5xx }";
        assert!(codes_of(keyed).is_empty());
        let safe = "service a { retry 2 x 1s on reset, connect-failure }";
        assert!(codes_of(safe).is_empty());
        let defaults = "service a { retry 2 x 1s }";
        assert_eq!(codes_of(defaults), vec![Code::UnsafeRetry]);
        let off = "service a { retry off }";
        assert!(codes_of(off).is_empty());
    }

    #[test]
    fn method_matches_narrow_what_a_rule_carries() {
        let get_only = "service a { subset v1\n routes {\n when method == GET -> v1 { retry 2 on 5xx }\n else -> v1 } }";
        assert!(codes_of(get_only).is_empty());
        let post = "service a { subset v1\n routes {\n when method == POST -> v1 { retry 2 on 5xx }\n else -> v1 } }";
        assert_eq!(codes_of(post), vec![Code::UnsafeRetry]);
        let regex = "service a { subset v1\n routes {\n when method ~= \"GET|HEAD\" -> v1 { retry 2 on 5xx }\n else -> v1 } }";
        assert!(codes_of(regex).is_empty());
    }

    #[test]
    fn earlier_rules_can_take_the_unsafe_methods() {
        let src = "service a { subset v1, v2\n accepts GET, POST, PATCH\n retry 2 on 5xx\n routes {\n when method == POST -> v2 { retry off }\n when method == PATCH -> v2 { retry off }\n else -> v1 } }";
        assert!(codes_of(src).is_empty());
    }

    #[test]
    fn a_service_retry_is_reported_once_for_all_its_rules() {
        let src = "service a { subset v1, v2\n retry 2 on 5xx\n routes {\n when header x == \"1\" -> v2\n else -> v1 } }";
        assert_eq!(codes_of(src), vec![Code::UnsafeRetry]);
    }
}
