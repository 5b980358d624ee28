//! Subsets that no rule or mirror of any route table sends traffic to.

use std::collections::HashSet;

use crate::diagnostics::{Code, Diagnostic};
use crate::model::Mesh;

pub fn check(mesh: &Mesh, out: &mut Vec<Diagnostic>) {
    let mut used: HashSet<(&str, &str)> = HashSet::new();
    for service in &mesh.services {
        let Some(table) = &service.routes else {
            continue;
        };
        for rule in &table.rules {
            let destinations = rule
                .destinations
                .iter()
                .chain(rule.mirrors.iter().map(|m| &m.destination));
            for d in destinations {
                if let Some(subset) = &d.subset {
                    used.insert((&d.host, subset));
                }
            }
        }
    }
    // A service without a route table is routed to from elsewhere, or not yet: its
    // subsets are declared for tables written in other files.
    for service in mesh.services.iter().filter(|s| s.routes.is_some()) {
        for subset in &service.subsets {
            if !used.contains(&(service.host.as_str(), subset.name.as_str())) {
                out.push(
                    Diagnostic::new(
                        Code::UnusedSubset,
                        subset.span,
                        format!(
                            "no route sends traffic to subset `{}` of `{}`",
                            subset.name, service.name
                        ),
                    )
                    .primary_text("defined, never routed to")
                    .help(format!(
                        "route to it (`-> {}`), mirror to it, or remove it",
                        subset.name
                    )),
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
    fn a_subset_never_routed_to_is_reported() {
        let src = "service a { subset v1, v2\n routes { else -> v1 } }";
        assert_eq!(codes_of(src), vec![Code::UnusedSubset]);
        let mirrored =
            "service a { accepts GET\n subset v1, v2\n routes { else -> v1 { mirror v2 } } }";
        assert!(codes_of(mirrored).is_empty());
        let elsewhere = "service a { subset v1, v2\n routes { else -> v1 } }\nservice b { routes { else -> a.v2 } }";
        assert!(codes_of(elsewhere).is_empty());
    }
}
