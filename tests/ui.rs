//! UI tests: every `tests/ui/**/*.route` is analysed alone and must produce the codes its
//! first line lists (`// expect: E0201 W0502`, in order, duplicates included); its
//! source and its rendered report (ASCII, no colour, trailing spaces trimmed) are
//! snapshotted together in `tests/ui/snapshots/`, one snapshot per file, named after its
//! path under `tests/ui/` (`routes/missing-catch-all` -> `routes__missing-catch-all.snap`).
//!
//! `tests/ui/_lib/` holds files that others import; they are not roots. Every file is
//! run and every failure listed at the end, so one run shows them all. The expectation is
//! checked independently of the snapshot: a snapshot accepted in haste cannot hide a
//! missing or extra diagnostic.

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use routec::diagnostics::render::{self, Style};
use routec::{Code, FsLoader};

/// Relative to the package root, which is the working directory of integration tests,
/// so that diagnostics show repository-relative paths.
const UI_DIR: &str = "tests/ui";
const LIB_DIR: &str = "_lib";
const SNAPSHOT_DIR: &str = "snapshots";
const HEADER: &str = "// expect:";

#[test]
fn ui() {
    let files = ui_files();
    assert!(!files.is_empty(), "no .route files under {UI_DIR}");
    let mut failures = Vec::new();
    for path in &files {
        for failure in run(path) {
            failures.push(format!("{}: {failure}", path.display()));
        }
    }
    if !failures.is_empty() {
        panic!(
            "{} failure(s) in {} ui files:\n  {}",
            failures.len(),
            files.len(),
            failures.join("\n  ")
        );
    }
}

/// A snapshot whose ui file was renamed or deleted would otherwise linger unnoticed.
#[test]
fn every_snapshot_has_a_ui_file() {
    let names: Vec<String> = ui_files().iter().map(|p| snapshot_name(p)).collect();
    let dir = Path::new(UI_DIR).join(SNAPSHOT_DIR);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut orphans = Vec::new();
    for entry in entries {
        let file_name = entry.expect("a readable snapshot directory").file_name();
        let file_name = file_name.to_string_lossy();
        let Some(stem) = file_name.strip_suffix(".snap") else {
            continue;
        };
        if !names.iter().any(|n| n.replace('/', "__") == stem) {
            orphans.push(file_name.into_owned());
        }
    }
    assert!(
        orphans.is_empty(),
        "snapshots without a ui file (delete them): {orphans:?}"
    );
}

/// Every `.route` file under `tests/ui`, sorted, except those under `_lib/`.
fn ui_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a readable directory entry").path();
            let name = path.file_name().unwrap_or_default();
            if path.is_dir() {
                if name != LIB_DIR && name != SNAPSHOT_DIR {
                    walk(&path, found);
                }
            } else if path.extension().is_some_and(|e| e == "route") {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(Path::new(UI_DIR), &mut found);
    found.sort();
    found
}

/// `tests/ui/routes/missing-catch-all.route` -> `routes/missing-catch-all`.
fn snapshot_name(path: &Path) -> String {
    path.strip_prefix(UI_DIR)
        .expect("ui files lie under the ui directory")
        .with_extension("")
        .to_string_lossy()
        .replace('\\', "/")
}

/// Checks one file; returns what went wrong, if anything.
fn run(path: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => return vec![format!("cannot read: {e}")],
    };
    // Lossy, so that the file with invalid UTF-8 still shows its source.
    let source = String::from_utf8_lossy(&bytes);
    let expected = match expected_codes(&source) {
        Ok(codes) => Some(codes),
        Err(e) => {
            failures.push(e);
            None
        }
    };
    let analysis = match routec::analyze(&[path.to_path_buf()], &FsLoader) {
        Ok(analysis) => analysis,
        Err(e) => {
            failures.push(format!("cannot load: {}", e.error));
            return failures;
        }
    };
    let actual: Vec<&str> = analysis
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    if let Some(expected) = expected {
        if actual != expected {
            failures.push(format!(
                "expected codes [{}], got [{}]",
                expected.join(" "),
                actual.join(" ")
            ));
        }
    }
    let report = render::human(
        &analysis.diagnostics,
        analysis.sources(),
        Style {
            color: false,
            ascii: true,
        },
    );
    let snapshot = hide_absolute_paths(&trim_lines(&format!(
        "{}\n----- diagnostics -----\n{}",
        source.trim_end(),
        report
    )));
    let name = snapshot_name(path);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(Path::new("ui").join(SNAPSHOT_DIR));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_input_file(path);
    let asserted = panic::catch_unwind(AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_snapshot!(name.as_str(), snapshot));
    }));
    if asserted.is_err() {
        failures.push(format!(
            "snapshot `{name}` does not match (see the diff above)"
        ));
    }
    failures
}

/// The codes of the `// expect:` first line, each checked against the catalogue.
fn expected_codes(source: &str) -> Result<Vec<&str>, String> {
    let first = source.lines().next().unwrap_or_default();
    let Some(list) = first.strip_prefix(HEADER) else {
        return Err(format!(
            "the first line must be `{HEADER} CODE ...`, listing the codes the file produces"
        ));
    };
    let codes: Vec<&str> = list.split_whitespace().collect();
    if codes.is_empty() {
        return Err(format!("`{HEADER}` lists no codes"));
    }
    for code in &codes {
        if Code::parse(code).is_none_or(|c| c.as_str() != *code) {
            return Err(format!("`{code}` in `{HEADER}` is not a code"));
        }
    }
    Ok(codes)
}

fn trim_lines(text: &str) -> String {
    let mut out: String = text
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    out
}

/// insta's `filters` feature is not enabled, so absolute paths are replaced here.
fn hide_absolute_paths(text: &str) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut out = text.replace(root, "[ROOT]");
    if let Ok(canonical) = std::fs::canonicalize(root) {
        out = out.replace(&*canonical.to_string_lossy(), "[ROOT]");
    }
    out
}
