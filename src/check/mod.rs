//! Every check, in the order they run: values and regexes on the syntax trees, then name
//! resolution (which builds the model), then one pass per family of rules over the model.
//!
//! The CLI and the language server both come here through `crate::analyze`: there is one
//! implementation of each rule.

pub mod destination;
pub mod external;
pub mod faults;
pub mod idempotency;
pub mod mirror;
pub mod regex;
pub mod resolve;
pub mod routes;
pub mod subsets;
pub mod timeouts;
pub mod values;

use crate::diagnostics::Diagnostic;
use crate::load::Loaded;
use crate::model::Mesh;

/// Runs every check over a loaded compilation.
pub fn run(loaded: &Loaded) -> (Mesh, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    for file in &loaded.files {
        values::check(&file.parsed.module, &mut diagnostics);
        regex::check(&file.parsed.module, &mut diagnostics);
    }
    let mesh = resolve::resolve(loaded, &mut diagnostics);
    routes::check(&mesh, &mut diagnostics);
    idempotency::check(&mesh, &mut diagnostics);
    timeouts::check(&mesh, &mut diagnostics);
    destination::check(&mesh, &mut diagnostics);
    faults::check(&mesh, &mut diagnostics);
    mirror::check(&mesh, &mut diagnostics);
    // Whether a subset is used is only known once every route resolves.
    let syntax_errors = loaded.diagnostics.iter().any(Diagnostic::is_error)
        || loaded
            .files
            .iter()
            .any(|f| f.parsed.diagnostics.iter().any(Diagnostic::is_error));
    if !syntax_errors && !diagnostics.iter().any(Diagnostic::is_error) {
        subsets::check(&mesh, &mut diagnostics);
    }
    external::check(&mesh, &mut diagnostics);
    (mesh, diagnostics)
}

/// The candidate nearest to a misspelt name, if one is near enough to be a likely typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .filter(|c| !other_version(name, c))
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|&(distance, c)| distance > 0 && distance <= (name.len().max(c.len()) / 3).max(1))
        .min_by_key(|&(distance, c)| (distance, c))
        .map(|(_, c)| c)
}

/// `v3` and `v1`, `api-v2` and `api-v1`: the same name but for its digits is another
/// version, not a typo.
fn other_version(a: &str, b: &str) -> bool {
    let skeleton = |s: &str| {
        s.chars()
            .filter(|c| !c.is_ascii_digit())
            .collect::<String>()
    };
    a != b && a.chars().any(|c| c.is_ascii_digit()) && skeleton(a) == skeleton(b)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn closest_finds_typos_but_not_strangers() {
        assert_eq!(
            closest("v3", ["v1", "v2"]),
            None,
            "another version, not a typo"
        );
        assert_eq!(closest("vv2", ["v1", "v2"]), Some("v2"));
        assert_eq!(closest("reviwes", ["reviews", "ratings"]), Some("reviews"));
        assert_eq!(closest("payments", ["reviews", "ratings"]), None);
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use std::path::{Path, PathBuf};

    use crate::diagnostics::Code;
    use crate::load::FileLoader;

    struct One(String);

    impl FileLoader for One {
        fn read(&self, _: &Path) -> std::io::Result<Vec<u8>> {
            Ok(self.0.clone().into_bytes())
        }
    }

    /// A one-file program, analysed.
    pub(crate) fn analyze_one(source: &str) -> crate::Analysis {
        crate::analyze(&[PathBuf::from("test.route")], &One(source.to_string()))
            .expect("an in-memory file always loads")
    }

    /// The codes a one-file program produces, in order.
    pub(crate) fn codes_of(source: &str) -> Vec<Code> {
        analyze_one(source)
            .diagnostics
            .iter()
            .map(|d| d.code)
            .collect()
    }
}
