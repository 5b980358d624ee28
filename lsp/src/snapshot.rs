//! One analysis of the workspace, and what the editor sees of it.
//!
//! A `Snapshot` is `routec::analyze` run over a `Workspace` (the workspace folder's
//! `.route` files and the open buffers, buffers overriding the disk), together with the
//! editor address (URI) of each of its files and the versions of the buffers it read.
//! Every query of one request is answered from one snapshot, so that positions, text and
//! results always agree. It also decides which files get diagnostics: the open
//! documents and the closed files they interact with, i.e. that import one of them or
//! are imported by one (transitively), or that share a diagnostic with one (a route
//! table for one host declared in two files shows in both).

use std::collections::{HashMap, HashSet};

use routec::diagnostics::Diagnostic;
use routec::source::{Origin, SourceFile};
use routec::{Analysis, FileId, LoadError, Span};
use tower_lsp::lsp_types as lsp;
use tower_lsp::lsp_types::Url;

use crate::convert::{self, Encoding, Locate};
use crate::documents::Workspace;

/// Diagnostics beyond this many in one file are not sent: a garbage file can have
/// hundreds of thousands, which no one reads and every client chokes on.
pub const MAX_DIAGNOSTICS_PER_FILE: usize = 1000;

#[derive(Debug)]
pub struct Snapshot {
    pub generation: u64,
    pub analysis: Analysis,
    pub encoding: Encoding,
    /// The version of each open buffer that was read.
    pub versions: HashMap<Url, i32>,
    uris: Vec<Option<Url>>,
    files: HashMap<Url, FileId>,
}

impl Snapshot {
    /// Analyses the workspace. A root file that has gone from the disk since the
    /// workspace was scanned is left out.
    pub fn analyse(workspace: &Workspace, encoding: Encoding) -> Result<Snapshot, LoadError> {
        let loader = workspace.loader();
        let mut roots = workspace.roots.clone();
        let analysis = loop {
            match routec::analyze(&roots, &loader) {
                Ok(analysis) => break analysis,
                Err(error) => {
                    let before = roots.len();
                    roots.retain(|root| *root != error.path);
                    if roots.len() == before {
                        return Err(error);
                    }
                }
            }
        };
        let mut uris = Vec::with_capacity(analysis.sources().len());
        let mut files = HashMap::new();
        for (id, file) in analysis.sources().iter() {
            let uri = match &file.origin {
                Origin::Path(path) => match workspace.buffer_at(path) {
                    Some((uri, _)) => Some(uri.clone()),
                    None if path.is_absolute() => Url::from_file_path(path).ok(),
                    None => None,
                },
                Origin::Std(_) => None,
            };
            if let Some(uri) = &uri {
                files.entry(uri.clone()).or_insert(id);
            }
            uris.push(uri);
        }
        let versions = workspace
            .buffers
            .iter()
            .map(|(uri, document)| (uri.clone(), document.version))
            .collect();
        Ok(Snapshot {
            generation: workspace.generation,
            analysis,
            encoding,
            versions,
            uris,
            files,
        })
    }

    /// The file of a document, if the analysis read it.
    pub fn file_of(&self, uri: &Url) -> Option<FileId> {
        self.files.get(uri).copied()
    }

    pub fn source(&self, id: FileId) -> &SourceFile {
        self.analysis.sources().get(id)
    }

    pub fn uri_of(&self, id: FileId) -> Option<&Url> {
        self.uris.get(id.0 as usize).and_then(Option::as_ref)
    }

    /// The byte offset of a position in a document; `None` for a document the analysis
    /// did not read or a position past its end.
    pub fn offset(&self, uri: &Url, position: lsp::Position) -> Option<(FileId, usize)> {
        let file = self.file_of(uri)?;
        let offset = convert::offset(self.source(file), position, self.encoding)?;
        Some((file, offset))
    }

    /// The edits of a fix or a rename, grouped by document; `None` when one of them
    /// falls in a file that has no editor address (the standard library).
    pub fn workspace_edit(
        &self,
        edits: &[routec::diagnostics::Edit],
    ) -> Option<lsp::WorkspaceEdit> {
        let mut changes: HashMap<Url, Vec<lsp::TextEdit>> = HashMap::new();
        for edit in edits {
            let uri = self.uri_of(edit.span.file)?;
            changes.entry(uri.clone()).or_default().push(lsp::TextEdit {
                range: self.range(edit.span),
                new_text: edit.replacement.clone(),
            });
        }
        Some(lsp::WorkspaceEdit {
            changes: Some(changes),
            document_changes: None,
            change_annotations: None,
        })
    }

    /// The diagnostics of each file that should show them, keyed by document.
    pub fn diagnostics(&self) -> HashMap<Url, Vec<lsp::Diagnostic>> {
        let shown = self.files_to_show();
        let mut out: HashMap<Url, Vec<lsp::Diagnostic>> = HashMap::new();
        for file in &shown {
            if let Some(uri) = self.uri_of(*file) {
                out.entry(uri.clone()).or_default();
            }
        }
        for diagnostic in &self.analysis.diagnostics {
            let primary = diagnostic.primary_span().file;
            if shown.contains(&primary) {
                self.push(&mut out, primary, diagnostic, None);
            }
            let mut echoed = HashSet::from([primary]);
            for label in diagnostic.labels.iter().filter(|l| !l.primary) {
                let file = label.span.file;
                if shown.contains(&file) && echoed.insert(file) {
                    self.push(&mut out, file, diagnostic, Some(label));
                }
            }
        }
        out
    }

    fn push(
        &self,
        out: &mut HashMap<Url, Vec<lsp::Diagnostic>>,
        file: FileId,
        diagnostic: &Diagnostic,
        anchor: Option<&routec::diagnostics::Label>,
    ) {
        let Some(uri) = self.uri_of(file) else {
            return;
        };
        let list = out.entry(uri.clone()).or_default();
        if list.len() < MAX_DIAGNOSTICS_PER_FILE {
            list.push(convert::diagnostic(diagnostic, anchor, self));
        }
    }

    /// The open documents and the files they interact with.
    fn files_to_show(&self) -> HashSet<FileId> {
        let open: HashSet<FileId> = self
            .versions
            .keys()
            .filter_map(|uri| self.file_of(uri))
            .collect();
        let mut shown = open.clone();
        // Imports, in either direction, transitively.
        let mut neighbours: HashMap<FileId, Vec<FileId>> = HashMap::new();
        for file in &self.analysis.loaded.files {
            for import in &file.imports {
                neighbours.entry(file.id).or_default().push(*import);
                neighbours.entry(*import).or_default().push(file.id);
            }
        }
        let mut pending: Vec<FileId> = open.iter().copied().collect();
        while let Some(file) = pending.pop() {
            for next in neighbours.get(&file).into_iter().flatten() {
                if shown.insert(*next) {
                    pending.push(*next);
                }
            }
        }
        // Diagnostics that span an open document and another file.
        for diagnostic in &self.analysis.diagnostics {
            let files: HashSet<FileId> = spans(diagnostic).map(|s| s.file).collect();
            if files.iter().any(|f| open.contains(f)) {
                shown.extend(files);
            }
        }
        shown
    }
}

fn spans(diagnostic: &Diagnostic) -> impl Iterator<Item = Span> + '_ {
    diagnostic.labels.iter().map(|l| l.span).chain(
        diagnostic
            .fixes
            .iter()
            .flat_map(|f| f.edits.iter().map(|e| e.span)),
    )
}

impl Locate for Snapshot {
    fn file(&self, span: Span) -> &SourceFile {
        self.source(span.file)
    }

    fn uri(&self, span: Span) -> Option<&Url> {
        self.uri_of(span.file)
    }

    fn encoding(&self) -> Encoding {
        self.encoding
    }
}
