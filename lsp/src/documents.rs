//! The open editor buffers and the workspace's files: what an analysis reads.
//!
//! `Documents` holds each open buffer's text and version, the workspace folders and the
//! `.route` files found in them, and a generation number that grows with every change
//! to any of these, so that an analysis can tell whether it is still current. A
//! `Workspace` is an immutable copy of what to analyse; its `BufferLoader` serves open
//! buffers first and the disk after, so an unsaved edit is seen by every file that
//! imports it. Invariants: a buffer's version never goes backwards (a stale change is
//! ignored); paths are normalised the way `routec::load` normalises them, so that a
//! buffer and the file the loader reached by an import are recognised as one.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use routec::FileLoader;
use tower_lsp::lsp_types::Url;

/// At most this many `.route` files are taken from the workspace folders.
pub const MAX_WORKSPACE_FILES: usize = 2000;
/// At most this many directories are searched (a workspace opened on `/` or `~`).
pub const MAX_DIRECTORIES: usize = 20_000;

#[derive(Debug, Clone)]
pub struct Document {
    pub text: Arc<String>,
    pub version: i32,
    /// The path the analysis knows the buffer by.
    pub path: PathBuf,
}

#[derive(Debug, Default)]
pub struct Documents {
    open: HashMap<Url, Document>,
    folders: Vec<PathBuf>,
    files: Vec<PathBuf>,
    generation: u64,
}

impl Documents {
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn get(&self, uri: &Url) -> Option<&Document> {
        self.open.get(uri)
    }

    pub fn open(&mut self, uri: Url, text: String, version: i32) {
        let path = path_of(&uri);
        self.open.insert(
            uri,
            Document {
                text: Arc::new(text),
                version,
                path,
            },
        );
        self.generation += 1;
    }

    /// Replaces a buffer's text; false (and nothing changes) when the document is not
    /// open or `version` is not newer than the one held.
    pub fn change(&mut self, uri: &Url, text: String, version: i32) -> bool {
        match self.open.get_mut(uri) {
            Some(document) if version > document.version => {
                document.text = Arc::new(text);
                document.version = version;
                self.generation += 1;
                true
            }
            _ => false,
        }
    }

    pub fn close(&mut self, uri: &Url) {
        if self.open.remove(uri).is_some() {
            self.generation += 1;
        }
    }

    pub fn folders(&self) -> &[PathBuf] {
        &self.folders
    }

    pub fn set_folders(&mut self, folders: Vec<PathBuf>) {
        self.folders = folders;
        self.generation += 1;
    }

    /// Takes a new list of the workspace's files; counts as a change even when the list
    /// is the same, since the files' contents on disk may have changed.
    pub fn set_files(&mut self, files: Vec<PathBuf>) {
        self.files = files;
        self.generation += 1;
    }

    /// What to analyse now.
    pub fn workspace(&self) -> Workspace {
        let buffers: Vec<(Url, Document)> = self
            .open
            .iter()
            .map(|(uri, document)| (uri.clone(), document.clone()))
            .collect();
        let mut roots = self.files.clone();
        let mut extra: Vec<PathBuf> = buffers
            .iter()
            .map(|(_, d)| d.path.clone())
            .filter(|p| !self.files.contains(p))
            .collect();
        extra.sort();
        roots.extend(extra);
        Workspace {
            generation: self.generation,
            buffers,
            roots,
        }
    }
}

/// An immutable copy of the buffers and the root files of one analysis.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub generation: u64,
    pub buffers: Vec<(Url, Document)>,
    /// The workspace's files in sorted order (as `routec check DIR` takes them), then the
    /// open buffers outside it.
    pub roots: Vec<PathBuf>,
}

impl Workspace {
    pub fn loader(&self) -> BufferLoader {
        BufferLoader {
            buffers: self
                .buffers
                .iter()
                .map(|(_, d)| (d.path.clone(), d.text.clone()))
                .collect(),
        }
    }

    /// The buffer the analysis knows by `path`.
    pub fn buffer_at(&self, path: &Path) -> Option<(&Url, &Document)> {
        self.buffers
            .iter()
            .find(|(_, d)| d.path == path)
            .map(|(u, d)| (u, d))
    }
}

/// Serves open buffers first, then the disk.
pub struct BufferLoader {
    buffers: HashMap<PathBuf, Arc<String>>,
}

impl FileLoader for BufferLoader {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        match self.buffers.get(&normalize(path)) {
            Some(text) => Ok(text.as_bytes().to_vec()),
            None => std::fs::read(path),
        }
    }
}

/// The path an analysis knows a document by: its file path, or for a buffer that has
/// none (`untitled:`), its URI as a path of its own.
pub fn path_of(uri: &Url) -> PathBuf {
    match uri.to_file_path() {
        Ok(path) if uri.scheme() == "file" => normalize(&path),
        _ => PathBuf::from(uri.as_str()),
    }
}

/// Removes `.` components and folds `..` where it can: the library's own rule, so that
/// editor paths and import paths name a file the same way.
pub fn normalize(path: &Path) -> PathBuf {
    routec::load::normalize(path)
}

/// The `.route` files under the folders, sorted, skipping hidden directories, `target`
/// and `node_modules` (as the CLI skips hidden directories and `target`); at most
/// `MAX_WORKSPACE_FILES` from at most `MAX_DIRECTORIES` directories. Unreadable
/// directories are skipped. The bool says whether a limit cut the search short.
pub fn scan(folders: &[PathBuf]) -> (Vec<PathBuf>, bool) {
    let mut found = Vec::new();
    let mut truncated = false;
    let mut directories = 0usize;
    for folder in folders {
        let mut files = Vec::new();
        let mut pending = vec![folder.clone()];
        while let Some(dir) = pending.pop() {
            directories += 1;
            if directories > MAX_DIRECTORIES {
                truncated = true;
                break;
            }
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                let name = entry.file_name();
                let name = name.to_string_lossy();
                let path = entry.path();
                if kind.is_dir() {
                    if !name.starts_with('.') && name != "target" && name != "node_modules" {
                        pending.push(path);
                    }
                } else if kind.is_file() && path.extension().is_some_and(|e| e == "route") {
                    files.push(normalize(&path));
                }
            }
            if found.len() + files.len() > MAX_WORKSPACE_FILES {
                truncated = true;
                break;
            }
        }
        files.sort();
        found.extend(files);
    }
    found.sort();
    found.dedup();
    if found.len() > MAX_WORKSPACE_FILES {
        truncated = true;
        found.truncate(MAX_WORKSPACE_FILES);
    }
    (found, truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_changes_are_ignored() {
        let uri = Url::parse("file:///w/a.route").unwrap();
        let mut documents = Documents::default();
        documents.open(uri.clone(), "one".into(), 1);
        assert!(documents.change(&uri, "three".into(), 3));
        assert!(!documents.change(&uri, "two".into(), 2));
        assert_eq!(documents.get(&uri).unwrap().text.as_str(), "three");
        assert!(!documents.change(&Url::parse("file:///w/b.route").unwrap(), "x".into(), 9));
    }

    #[test]
    fn buffers_are_served_before_the_disk() {
        let uri = Url::parse("file:///nowhere/a.route").unwrap();
        let mut documents = Documents::default();
        documents.open(uri, "service a {}".into(), 1);
        let workspace = documents.workspace();
        let loader = workspace.loader();
        assert_eq!(
            loader.read(Path::new("/nowhere/./a.route")).unwrap(),
            b"service a {}"
        );
        assert!(loader.read(Path::new("/nowhere/b.route")).is_err());
        assert_eq!(workspace.roots, vec![PathBuf::from("/nowhere/a.route")]);
    }

    #[test]
    fn the_scan_finds_route_files_but_not_in_hidden_or_target_directories() {
        let root = tempfile::tempdir().unwrap();
        for dir in ["a/b", ".git", "target", "node_modules"] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        for file in [
            "z.route",
            "a/b/y.route",
            "a/notes.txt",
            ".git/x.route",
            "target/x.route",
            "node_modules/x.route",
        ] {
            std::fs::write(root.path().join(file), "").unwrap();
        }
        let (files, truncated) = scan(&[root.path().to_path_buf()]);
        let names: Vec<_> = files
            .iter()
            .map(|f| f.strip_prefix(root.path()).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            names,
            [PathBuf::from("a/b/y.route"), PathBuf::from("z.route")]
        );
        assert!(!truncated);
    }

    #[test]
    fn untitled_buffers_get_a_path_of_their_own() {
        let uri = Url::parse("untitled:Untitled-1").unwrap();
        assert_eq!(path_of(&uri), PathBuf::from("untitled:Untitled-1"));
    }
}
