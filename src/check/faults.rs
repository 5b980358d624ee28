//! Fault injection: scoped to synthetic traffic, in range, not mixed with retries.
//!
//! A rule that injects faults must be selected by a header match (the way test traffic
//! is marked), unless the author writes `unscoped`; its percentages must be within
//! Istio's 0.0001-100; retries and timeouts on the same rule do not behave as they
//! would for real failures (Istio does not retry injected aborts).

use crate::diagnostics::{Code, Diagnostic};
use crate::model::Mesh;
use crate::syntax::ast::Field;

pub fn check(mesh: &Mesh, out: &mut Vec<Diagnostic>) {
    for service in &mesh.services {
        let Some(table) = &service.routes else {
            continue;
        };
        for rule in &table.rules {
            let Some(first) = rule.faults.first() else {
                continue;
            };
            for fault in &rule.faults {
                if let Some(percent) = fault.value.percent {
                    if !(0.0001..=100.0).contains(&percent) {
                        out.push(
                            Diagnostic::new(
                                Code::FaultPercentOutOfRange,
                                fault.value.percent_span.unwrap_or(fault.span),
                                format!("a fault for {percent}% of requests"),
                            )
                            .primary_text("Istio takes 0.0001% to 100%")
                            .help(
                                "write a percentage from 0.0001% to 100%, or drop it to mean 100%",
                            ),
                        );
                    }
                }
            }
            let header_scoped = !rule.matches.is_empty()
                && rule.matches.iter().all(|m| {
                    m.conditions
                        .iter()
                        .any(|c| matches!(c.field, Field::Header(_)))
                });
            let unscoped = rule.faults.iter().any(|f| f.value.unscoped);
            if !header_scoped && !unscoped {
                out.push(
                    Diagnostic::new(
                        Code::UnscopedFault,
                        first.span,
                        "faults would be injected into real traffic",
                    )
                    .primary_text("this rule is not selected by a header match")
                    .label(rule.head_span, "every request this matches gets the fault")
                    .help("select test traffic with a header (`when header x-chaos-test == \"true\" -> ...`), or write `unscoped` after the fault if every matching request is meant"),
                );
            }
            // Only the rule's own settings: the service's apply to every rule, and a rule
            // cannot switch them off.
            let own_retry = rule.retry.as_ref().filter(|r| {
                r.value.attempts > 0 && service.retry.as_ref().is_none_or(|s| s.span != r.span)
            });
            let own_timeout = rule
                .timeout
                .as_ref()
                .filter(|t| service.timeout.as_ref().is_none_or(|s| s.span != t.span));
            let mut settings = vec![
                own_retry.map(|r| {
                    (
                        r.via.unwrap_or(r.span),
                        "retries",
                        "Istio does not retry injected faults",
                    )
                }),
                own_timeout.map(|t| {
                    (
                        t.via.unwrap_or(t.span),
                        "a timeout",
                        "an injected delay counts against the timeout",
                    )
                }),
            ];
            settings.dedup_by_key(|s| s.map(|(span, _, _)| span));
            for (span, what, why) in settings.into_iter().flatten() {
                out.push(
                    Diagnostic::new(
                        Code::RetryOnFault,
                        span,
                        format!("{what} on a rule that injects faults"),
                    )
                    .primary_text(why)
                    .label(first.span, "the fault")
                    .help("inject the fault on the callee's route and keep retries and timeouts on the caller"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::check::test_support::codes_of;
    use crate::diagnostics::Code;

    #[test]
    fn faults_need_a_header_match_or_unscoped() {
        let scoped = "service r { subset v1\n routes {\n when header x-chaos == \"1\" -> v1 { fault abort 503 10% }\n else -> v1 } }";
        assert!(codes_of(scoped).is_empty());
        let path = "service r { subset v1\n routes {\n when path ^= \"/a\" -> v1 { fault abort 503 10% }\n else -> v1 } }";
        assert_eq!(codes_of(path), vec![Code::UnscopedFault]);
        let meant =
            "service r { subset v1\n routes { else -> v1 { fault delay 2s 5% unscoped } } }";
        assert!(codes_of(meant).is_empty());
    }

    #[test]
    fn retries_on_a_fault_rule_and_bad_percentages_are_reported() {
        let src = "service r { accepts GET\n subset v1\n routes {\n when header x == \"1\" -> v1 { fault abort 503 150%\n retry 2 on 5xx }\n else -> v1 } }";
        assert_eq!(
            codes_of(src),
            vec![Code::FaultPercentOutOfRange, Code::RetryOnFault]
        );
    }
}
