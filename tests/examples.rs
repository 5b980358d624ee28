//! Every `examples/**/*.route` compiles without errors, alone, and its YAML stream is
//! snapshotted in `tests/examples/snapshots/`, one snapshot per example named after its
//! path under `examples/` (`seed/01-weighted-split` -> `seed__01-weighted-split.snap`).
//!
//! An empty or missing `examples/` fails the test: it must never pass by checking
//! nothing. Every example is run and every failure listed at the end.

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use routec::diagnostics::render::{self, Style};
use routec::FsLoader;

/// Relative to the package root, the working directory of integration tests, so that
/// the `# Source:` comments show repository-relative paths.
const EXAMPLES_DIR: &str = "examples";

#[test]
fn examples_compile_and_their_yaml_is_snapshotted() {
    let examples = example_files();
    assert!(
        !examples.is_empty(),
        "no .route files under {EXAMPLES_DIR}/: the examples must exist"
    );
    let mut failures = Vec::new();
    for path in &examples {
        if let Err(failure) = run(path) {
            failures.push(format!("{}: {failure}", path.display()));
        }
    }
    if !failures.is_empty() {
        panic!(
            "{} of {} examples failed:\n  {}",
            failures.len(),
            examples.len(),
            failures.join("\n  ")
        );
    }
}

fn example_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.expect("a readable directory entry").path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "route") {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(Path::new(EXAMPLES_DIR), &mut found);
    found.sort();
    found
}

fn run(path: &Path) -> Result<(), String> {
    let analysis = routec::analyze(&[path.to_path_buf()], &FsLoader)
        .map_err(|e| format!("cannot load: {}", e.error))?;
    let Some(documents) = routec::emit(&analysis) else {
        let report = render::human(
            &analysis.diagnostics,
            analysis.sources(),
            Style {
                color: false,
                ascii: true,
            },
        );
        return Err(format!("does not compile:\n{report}"));
    };
    if documents.is_empty() {
        return Err("compiles to no objects at all".to_string());
    }
    let yaml = routec::emit::stream(&documents);
    let name = path
        .strip_prefix(EXAMPLES_DIR)
        .expect("examples lie under the examples directory")
        .with_extension("")
        .to_string_lossy()
        .replace('\\', "/");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("examples/snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_input_file(path);
    panic::catch_unwind(AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_snapshot!(name.as_str(), yaml));
    }))
    .map_err(|_| format!("snapshot `{name}` does not match (see the diff above)"))
}
