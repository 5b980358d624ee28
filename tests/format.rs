//! The formatter on every example and every ui input that parses: formatting is
//! idempotent, keeps every comment, and never changes what a program compiles to (the
//! YAML before and after is byte-identical once the `# Source: FILE:LINE` comments,
//! which follow the layout, are set aside).

use std::io;
use std::path::{Path, PathBuf};

use routec::FileLoader;

/// Serves one file's text in place of what is on disk, everything else from disk.
struct Override<'a> {
    path: &'a Path,
    text: &'a str,
}

impl FileLoader for Override<'_> {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        if path == self.path {
            Ok(self.text.as_bytes().to_vec())
        } else {
            std::fs::read(path)
        }
    }
}

fn route_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            route_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "route") {
            out.push(path);
        }
    }
}

/// The compiled stream without source comments, or the codes of its errors.
fn compile(path: &Path, text: &str) -> Result<String, Vec<String>> {
    let loader = Override { path, text };
    let analysis = routec::analyze(&[path.to_path_buf()], &loader).expect("the file loads");
    match routec::emit(&analysis) {
        Some(documents) => Ok(routec::emit::stream(&documents)
            .lines()
            .filter(|l| !l.starts_with("# Source: "))
            .collect::<Vec<_>>()
            .join("\n")),
        None => Err(analysis
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.code.to_string())
            .collect()),
    }
}

fn comments(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.find("//").map(|i| l[i..].trim_end().to_string()))
        .collect()
}

#[test]
fn formatting_is_idempotent_and_keeps_meaning_and_comments() {
    let mut files = Vec::new();
    route_files(Path::new("examples"), &mut files);
    let examples = files.len();
    route_files(Path::new("tests/ui"), &mut files);
    files.sort();
    assert!(examples > 0, "no examples found");
    let mut failures = Vec::new();
    let mut formatted_count = 0;
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue; // the invalid-UTF-8 ui input
        };
        let Ok(formatted) = routec::format::format(&text) else {
            continue; // inputs with syntax errors are left alone by design
        };
        formatted_count += 1;
        match routec::format::format(&formatted) {
            Ok(again) if again == formatted => {}
            _ => failures.push(format!("{}: formatting is not idempotent", path.display())),
        }
        // Comments are kept, in order; only whitespace inside a line may change.
        let squash = |v: Vec<String>| -> Vec<String> {
            v.into_iter()
                .map(|c| c.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect()
        };
        if squash(comments(&text)) != squash(comments(&formatted)) {
            failures.push(format!("{}: comments changed", path.display()));
        }
        if compile(path, &text) != compile(path, &formatted) {
            failures.push(format!("{}: the compiled output changed", path.display()));
        }
    }
    assert!(formatted_count > examples, "ui inputs were formatted too");
    assert!(
        failures.is_empty(),
        "{} problems:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}
