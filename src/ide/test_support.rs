//! Analyses of in-memory files for the editor-query tests.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::load::FileLoader;
use crate::source::FileId;
use crate::Analysis;

struct Memory(HashMap<PathBuf, String>);

impl FileLoader for Memory {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.0
            .get(path)
            .map(|text| text.clone().into_bytes())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }
}

/// Analyses the files (path, text); the first is the only root, the others are loaded
/// when it imports them. The root is `FileId(0)`.
pub(crate) fn analyze(files: &[(&str, &str)]) -> Analysis {
    let memory = Memory(
        files
            .iter()
            .map(|(path, text)| (PathBuf::from(path), text.to_string()))
            .collect(),
    );
    crate::analyze(&[PathBuf::from(files[0].0)], &memory).expect("the root is in memory")
}

/// Analyses one file, `FileId(0)`.
pub(crate) fn analyze_one(text: &str) -> Analysis {
    analyze(&[("main.route", text)])
}

/// The id of the file loaded from `name`.
pub(crate) fn file_named(analysis: &Analysis, name: &str) -> FileId {
    analysis
        .sources()
        .iter()
        .find(|(_, f)| f.name == name)
        .map(|(id, _)| id)
        .unwrap_or_else(|| panic!("no file {name}"))
}

/// The byte offset of the `nth` (0-based) occurrence of `needle`, plus `within`.
pub(crate) fn offset_of(text: &str, needle: &str, nth: usize, within: usize) -> usize {
    text.match_indices(needle)
        .nth(nth)
        .map(|(i, _)| i + within)
        .unwrap_or_else(|| panic!("`{needle}` does not occur {} times", nth + 1))
}

/// The text each span covers.
pub(crate) fn texts(analysis: &Analysis, spans: &[crate::Span]) -> Vec<String> {
    spans
        .iter()
        .map(|s| analysis.sources().slice(*s).to_string())
        .collect()
}
