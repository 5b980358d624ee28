//! The standard library: `.route` modules embedded in the binary, imported as `std/NAME`.

const MODULES: &[(&str, &str)] = &[("resilience", include_str!("../stdlib/resilience.route"))];

/// The text of a standard module.
pub fn module(name: &str) -> Option<&'static str> {
    MODULES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

pub fn names() -> impl Iterator<Item = &'static str> {
    MODULES.iter().map(|(n, _)| *n)
}

/// The module name nearest to a misspelt one.
pub fn closest(name: &str) -> Option<&'static str> {
    crate::check::closest(name, names())
}

#[cfg(test)]
mod tests {
    use crate::check::test_support::codes_of;

    #[test]
    fn standard_modules_are_in_canonical_layout() {
        for (module, text) in super::MODULES {
            assert_eq!(
                crate::format::format(text).as_deref(),
                Ok(*text),
                "std/{module}"
            );
        }
    }

    #[test]
    fn every_standard_policy_compiles_cleanly_where_it_fits() {
        for (module, text) in super::MODULES {
            let parsed = crate::syntax::parse(crate::source::FileId(0), text);
            assert!(
                parsed.diagnostics.is_empty(),
                "std/{module}: {:#?}",
                parsed.diagnostics
            );
            for item in &parsed.module.items {
                let crate::syntax::ast::Item::Policy(policy) = item else {
                    continue;
                };
                // A read-only service, so that retry presets meet the idempotency check.
                let user = format!(
                    "import std/{module}\nservice api {{\n  accepts GET, HEAD\n  use {}\n}}\n",
                    policy.name.node
                );
                assert_eq!(
                    codes_of(&user),
                    vec![],
                    "std/{module} policy {}",
                    policy.name.node
                );
            }
        }
    }
}
