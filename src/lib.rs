//! routec: a compiler for a small typed language of service routing.

pub mod check;
pub mod diagnostics;
pub mod emit;
pub mod format;
pub mod ide;
pub mod load;
pub mod model;
pub mod source;
pub mod stdlib;
pub mod syntax;
pub mod trace;

use std::io;
use std::path::PathBuf;

pub use diagnostics::{Code, Diagnostic, Severity};
pub use emit::Document;
pub use load::{FileLoader, FsLoader};
pub use source::{FileId, SourceMap, Span};

/// A compilation after every check: its files, the model and what was found.
#[derive(Debug)]
pub struct Analysis {
    pub loaded: load::Loaded,
    pub mesh: model::Mesh,
    /// Sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Analysis {
    pub fn sources(&self) -> &SourceMap {
        &self.loaded.sources
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// A root file that could not be read.
#[derive(Debug)]
pub struct LoadError {
    pub path: PathBuf,
    pub error: io::Error,
}

/// Loads, parses and checks the root files and everything they import.
pub fn analyze(roots: &[PathBuf], loader: &dyn FileLoader) -> Result<Analysis, LoadError> {
    let mut loaded =
        load::load(roots, loader).map_err(|(path, error)| LoadError { path, error })?;
    let mut diagnostics = std::mem::take(&mut loaded.diagnostics);
    for file in &loaded.files {
        diagnostics.extend(file.parsed.diagnostics.iter().cloned());
    }
    let (mesh, found) = check::run(&loaded);
    diagnostics.extend(found);
    diagnostics::sort(&mut diagnostics);
    diagnostics.dedup();
    Ok(Analysis {
        loaded,
        mesh,
        diagnostics,
    })
}

/// The manifests of a checked compilation; `None` when it has errors, so that nothing
/// is ever written from a program with errors.
pub fn emit(analysis: &Analysis) -> Option<Vec<Document>> {
    if analysis.has_errors() {
        return None;
    }
    Some(emit::istio::emit(&analysis.mesh, analysis.sources()))
}
