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
