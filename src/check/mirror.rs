//! Mirroring: a shadow copy repeats the side effects of non-idempotent requests.
//!
//! The methods a mirrored rule can carry are computed as for retries (the service's
//! `accepts`, the rule's method matches, earlier rules); when they include POST, PATCH
//! or CONNECT and the mirror target does not say `shadow-safe`, a warning names them.

use super::idempotency::{accepted, carried, methods_taken_wholesale, non_idempotent};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::{Mesh, MethodSet};

pub fn check(mesh: &Mesh, out: &mut Vec<Diagnostic>) {
    for service in &mesh.services {
        let Some(table) = &service.routes else {
            continue;
        };
        if table.rules.iter().all(|r| r.mirrors.is_empty()) {
            continue;
        }
        let base = accepted(service);
        let mut taken = MethodSet::default();
        for rule in &table.rules {
            let methods = carried(rule, base).difference(taken);
            taken = taken.union(methods_taken_wholesale(rule, base));
            let risky = non_idempotent(methods);
            if risky.is_empty() || service.idempotency_key.is_some() {
                continue;
            }
            for mirror in &rule.mirrors {
                let target = mesh
                    .services
                    .iter()
                    .find(|s| s.hosts.contains(&mirror.destination.host));
                if target.is_some_and(|t| t.shadow_safe.is_some()) {
                    continue;
                }
                let list = risky
                    .iter()
                    .map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                let mut diagnostic = Diagnostic::new(
                    Code::UnsafeMirror,
                    mirror.span,
                    format!("mirroring repeats the side effects of {list} requests"),
                )
                .primary_text("the shadow target receives a copy of each of them")
                .label(rule.head_span, format!("this rule can carry {list}"));
                if service.accepts.is_none() {
                    diagnostic = diagnostic.note(format!(
                        "`{}` does not say which methods it accepts, so every method may arrive",
                        service.name
                    ));
                }
                out.push(diagnostic.help(
                    "mirror only idempotent traffic (`accepts GET, HEAD`, or a `method == GET` match), or write `shadow-safe` in the target service if its writes go nowhere that matters",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::check::test_support::codes_of;
    use crate::diagnostics::Code;

    #[test]
    fn mirroring_writes_needs_a_shadow_safe_target() {
        let writes = "service o { subset v1, v2\n routes { else -> v1 { mirror v2 20% } } }";
        assert_eq!(codes_of(writes), vec![Code::UnsafeMirror]);
        let reads =
            "service o { accepts GET\n subset v1, v2\n routes { else -> v1 { mirror v2 20% } } }";
        assert!(codes_of(reads).is_empty());
        let safe =
            "service o { shadow-safe\n subset v1, v2\n routes { else -> v1 { mirror v2 20% } } }";
        assert!(codes_of(safe).is_empty());
    }
}
