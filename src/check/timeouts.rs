//! The timeout budget: an overall timeout must fit every attempt.
//!
//! Istio's route timeout covers the first try and every retry. With per-try timeout p
//! and n retries, the worst case needs p x (n + 1); a shorter timeout cuts the last
//! attempts off, so the retry policy promises more than it can do.

use crate::diagnostics::{Code, Diagnostic, Edit};
use crate::model::{Duration, Located, Mesh, RetryPolicy};
use crate::source::Span;

pub fn check(mesh: &Mesh, out: &mut Vec<Diagnostic>) {
    let mut seen: Vec<(Span, Span)> = Vec::new();
    for service in &mesh.services {
        type Settings<'a> = (
            &'a Option<Located<Duration>>,
            &'a Option<std::sync::Arc<Located<RetryPolicy>>>,
        );
        let pairs: Vec<Settings<'_>> = match &service.routes {
            Some(table) => table.rules.iter().map(|r| (&r.timeout, &r.retry)).collect(),
            None => vec![(&service.timeout, &service.retry)],
        };
        for (timeout, retry) in pairs {
            let (Some(timeout), Some(retry)) = (timeout, retry) else {
                continue;
            };
            if seen.contains(&(timeout.span, retry.span)) {
                continue;
            }
            if let Some(diagnostic) = budget(timeout, retry) {
                seen.push((timeout.span, retry.span));
                out.push(diagnostic);
            }
        }
    }
}

/// The budget diagnostic for one timeout and retry policy, if they do not fit.
pub fn budget(timeout: &Located<Duration>, retry: &Located<RetryPolicy>) -> Option<Diagnostic> {
    let policy = &retry.value;
    let per_try = policy.per_try.as_ref()?;
    if policy.attempts == 0 || per_try.value.0 == 0 {
        return None;
    }
    let tries = u64::from(policy.attempts) + 1;
    let needed = Duration(per_try.value.0.saturating_mul(tries));
    if timeout.value >= needed {
        return None;
    }
    let fit = timeout.value.0 / per_try.value.0;
    let primary = timeout.via.unwrap_or(timeout.span);
    let mut diagnostic = Diagnostic::new(
        Code::TimeoutBudget,
        primary,
        format!(
            "timeout {} leaves room for {} of the {} attempts of {} each",
            timeout.value.human(),
            fit,
            tries,
            per_try.value.human()
        ),
    )
    .primary_text(format!(
        "the whole request, retries included, ends after {}",
        timeout.value.human()
    ))
    .label(
        per_try.span,
        format!(
            "{} attempts of up to {} need {}",
            tries,
            per_try.value.human(),
            needed.human()
        ),
    );
    // Through `use`, the primary label is on the `use`; show where the policy says it.
    if timeout.via.is_some() {
        diagnostic = diagnostic.label(timeout.span, "the policy's timeout");
    }
    if let Some(use_span) = retry.via.filter(|s| Some(*s) != timeout.via) {
        diagnostic = diagnostic.label(use_span, "the retry comes from this policy");
    }
    diagnostic = diagnostic.help(format!(
        "raise the timeout to at least {} (per-try {} x {} attempts), or lower the attempts or the per-try timeout",
        needed.human(),
        per_try.value.human(),
        tries
    ));
    if timeout.via.is_none() {
        diagnostic = diagnostic.fix(
            format!("raise the timeout to {}", needed.human()),
            vec![Edit {
                span: timeout.span,
                replacement: format!("timeout {}", needed.human()),
            }],
        );
    }
    Some(diagnostic)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::test_support::codes_of;

    #[test]
    fn the_timeout_must_fit_every_attempt() {
        let short = "service a { accepts GET\n timeout 2s\n retry 2 x 1s on 5xx }";
        assert_eq!(codes_of(short), vec![Code::TimeoutBudget]);
        let exact = "service a { accepts GET\n timeout 3s\n retry 2 x 1s on 5xx }";
        assert!(codes_of(exact).is_empty());
        let no_per_try = "service a { accepts GET\n timeout 1s\n retry 2 on 5xx }";
        assert!(codes_of(no_per_try).is_empty());
    }

    #[test]
    fn rule_settings_override_the_service() {
        let src = "service a { accepts GET\n subset v1\n timeout 3s\n retry 2 x 1s on 5xx\n routes {\n when path ^= \"/slow\" -> v1 { timeout 1s }\n else -> v1 } }";
        assert_eq!(codes_of(src), vec![Code::TimeoutBudget]);
    }

    #[test]
    fn the_message_says_how_many_attempts_fit() {
        let timeout = Located {
            value: Duration(2_500_000_000),
            span: Span::new(crate::source::FileId(0), 0, 1),
            via: None,
        };
        let retry = Located {
            value: RetryPolicy {
                attempts: 3,
                per_try: Some(Located {
                    value: Duration(1_000_000_000),
                    span: Span::new(crate::source::FileId(0), 2, 3),
                    via: None,
                }),
                conditions: None,
            },
            span: Span::new(crate::source::FileId(0), 2, 5),
            via: None,
        };
        let diagnostic = budget(&timeout, &retry).expect("2.5s < 4 x 1s");
        assert_eq!(
            diagnostic.message,
            "timeout 2.5s leaves room for 2 of the 4 attempts of 1s each"
        );
    }
}
