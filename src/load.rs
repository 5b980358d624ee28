//! Loading a compilation: the root files, then everything they import.
//!
//! The library never touches the file system itself: a `FileLoader` reads bytes (the
//! CLI's reads the disk, the language server's prefers open editor buffers). `std/NAME`
//! imports come from the modules embedded in the binary and are parsed like user files.
//! Each file is loaded once, however often it is imported; import cycles are harmless.

use std::collections::VecDeque;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::diagnostics::{Code, Diagnostic};
use crate::source::{FileId, Origin, SourceMap, Span};
use crate::stdlib;
use crate::syntax::ast::{ImportTarget, Item};
use crate::syntax::{parse, Parsed};

/// Reads the bytes of a file named by a path.
pub trait FileLoader {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
}

/// Reads files from disk.
pub struct FsLoader;

impl FileLoader for FsLoader {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }
}

/// A parsed file of a compilation.
#[derive(Debug)]
pub struct LoadedFile {
    pub id: FileId,
    pub parsed: Parsed,
    /// The files its imports resolved to, in the order written.
    pub imports: Vec<FileId>,
}

/// Every file of a compilation, parsed.
#[derive(Debug, Default)]
pub struct Loaded {
    pub sources: SourceMap,
    pub files: Vec<LoadedFile>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn file(&self, id: FileId) -> Option<&LoadedFile> {
        self.files.iter().find(|f| f.id == id)
    }
}

/// Loads the roots and, transitively, their imports. A root that cannot be read is an
/// error for the caller to report as an I/O failure; it is returned, not diagnosed.
pub fn load(roots: &[PathBuf], loader: &dyn FileLoader) -> Result<Loaded, (PathBuf, io::Error)> {
    let mut loaded = Loaded::default();
    let mut queue: VecDeque<FileId> = VecDeque::new();
    for root in roots {
        let path = normalize(root);
        if loaded.sources.find(&Origin::Path(path.clone())).is_some() {
            continue;
        }
        let bytes = loader.read(&path).map_err(|e| (root.clone(), e))?;
        let id = add_file(
            &mut loaded,
            Origin::Path(path.clone()),
            display(&path),
            bytes,
        );
        queue.push_back(id);
    }
    // Files are parsed a generation at a time, in parallel: the roots, then the files
    // they import, and so on. Results are handled in file order, so the outcome does
    // not depend on the number of threads.
    while !queue.is_empty() {
        let batch: Vec<FileId> = queue.drain(..).collect();
        let parsed = parse_all(&loaded, &batch);
        for (id, parsed) in batch.into_iter().zip(parsed) {
            let mut imports = Vec::new();
            for item in &parsed.module.items {
                let Item::Import(import) = item else { continue };
                match resolve_import(&mut loaded, id, &import.target, import.span, loader) {
                    Ok((target, is_new)) => {
                        imports.push(target);
                        if is_new {
                            queue.push_back(target);
                        }
                    }
                    Err(diagnostic) => loaded.diagnostics.push(*diagnostic),
                }
            }
            loaded.files.push(LoadedFile {
                id,
                parsed,
                imports,
            });
        }
    }
    loaded.files.sort_by_key(|f| f.id);
    Ok(loaded)
}

/// Parses files on as many threads as there are cores; a file that is not UTF-8 is
/// reported as such and not parsed (its valid prefix would only yield follow-ups).
fn parse_all(loaded: &Loaded, ids: &[FileId]) -> Vec<Parsed> {
    let parse_one = |id: FileId| {
        let not_utf8 = loaded
            .diagnostics
            .iter()
            .any(|d| d.code == Code::InvalidUtf8 && d.primary_span().file == id);
        if not_utf8 {
            Parsed::default()
        } else {
            parse(id, &loaded.sources.get(id).text)
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(ids.len());
    if threads <= 1 {
        return ids.iter().map(|&id| parse_one(id)).collect();
    }
    let chunk = ids.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = ids
            .chunks(chunk)
            .map(|c| scope.spawn(move || c.iter().map(|&id| parse_one(id)).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("parsing does not panic"))
            .collect()
    })
}

fn add_file(loaded: &mut Loaded, origin: Origin, name: String, bytes: Vec<u8>) -> FileId {
    match String::from_utf8(bytes) {
        Ok(text) => loaded.sources.add(origin, name, text),
        Err(error) => {
            let valid = error.utf8_error().valid_up_to();
            let bytes = error.into_bytes();
            // Keep the valid prefix so the diagnostic can point at the first bad byte.
            let text = String::from_utf8_lossy(&bytes[..valid]).into_owned();
            let id = loaded.sources.add(origin, name, text);
            loaded.diagnostics.push(
                Diagnostic::new(
                    Code::InvalidUtf8,
                    Span::new(id, valid, valid),
                    format!("the file is not valid UTF-8 (byte {valid})"),
                )
                .primary_text("the first byte that is not UTF-8 follows here")
                .help("save the file as UTF-8; nothing after this point was read"),
            );
            id
        }
    }
}

fn resolve_import(
    loaded: &mut Loaded,
    from: FileId,
    target: &ImportTarget,
    span: Span,
    loader: &dyn FileLoader,
) -> Result<(FileId, bool), Box<Diagnostic>> {
    let (origin, name, bytes) = match target {
        ImportTarget::Module { root, .. } if root.node != "std" => {
            return Err(Box::new(
                Diagnostic::new(
                    Code::UnresolvedImport,
                    root.span,
                    format!("`{}/...` is not a library", root.node),
                )
                .primary_text("only `std` names a library of modules")
                .help("write `import std/NAME` for the standard library, or `import \"path.route\"` for a file"),
            ));
        }
        ImportTarget::Module { module, .. } => {
            let origin = Origin::Std(module.node.clone());
            if let Some(id) = loaded.sources.find(&origin) {
                return Ok((id, false));
            }
            let Some(text) = stdlib::module(&module.node) else {
                let mut diagnostic = Diagnostic::new(
                    Code::UnresolvedImport,
                    module.span,
                    format!("there is no standard module `std/{}`", module.node),
                )
                .primary_text("not a standard module");
                diagnostic = match stdlib::closest(&module.node) {
                    Some(near) => diagnostic.help(format!("did you mean `std/{near}`?")),
                    None => diagnostic.help(format!(
                        "the standard modules are: {}",
                        stdlib::names()
                            .map(|n| format!("std/{n}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                };
                return Err(Box::new(diagnostic));
            };
            let name = format!("std/{}.route", module.node);
            (origin, name, text.as_bytes().to_vec())
        }
        ImportTarget::Path(path) => {
            let base = match &loaded.sources.get(from).origin {
                Origin::Path(p) => p.parent().map(Path::to_path_buf).unwrap_or_default(),
                Origin::Std(_) => PathBuf::new(),
            };
            let full = normalize(&base.join(&path.node));
            let origin = Origin::Path(full.clone());
            if let Some(id) = loaded.sources.find(&origin) {
                return Ok((id, false));
            }
            let bytes = loader.read(&full).map_err(|error| -> Box<Diagnostic> {
                Diagnostic::new(
                    Code::UnresolvedImport,
                    path.span,
                    format!("cannot read `{}`: {error}", display(&full)),
                )
                .primary_text("imported here")
                .help("import paths are relative to the importing file")
                .into()
            })?;
            (origin, display(&full), bytes)
        }
    };
    let _ = span;
    let id = add_file(loaded, origin, name, bytes);
    Ok((id, true))
}

/// Removes `.` components and folds `..` where it can, without touching the disk.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn display(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct MemoryLoader(HashMap<PathBuf, Vec<u8>>);

    impl FileLoader for MemoryLoader {
        fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
            self.0
                .get(path)
                .cloned()
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
        }
    }

    fn loader(files: &[(&str, &[u8])]) -> MemoryLoader {
        MemoryLoader(
            files
                .iter()
                .map(|(p, t)| (PathBuf::from(p), t.to_vec()))
                .collect(),
        )
    }

    #[test]
    fn imports_load_once_and_cycles_end() {
        let files = loader(&[
            (
                "a/main.route",
                b"import \"lib.route\"\nimport std/resilience\n",
            ),
            ("a/lib.route", b"import \"./main.route\"\n"),
        ]);
        let loaded = load(&[PathBuf::from("./a/main.route")], &files).unwrap();
        let names: Vec<_> = loaded.sources.iter().map(|(_, f)| f.name.clone()).collect();
        assert_eq!(
            names,
            vec!["a/main.route", "a/lib.route", "std/resilience.route"]
        );
        assert!(loaded.diagnostics.is_empty(), "{:#?}", loaded.diagnostics);
    }

    #[test]
    fn unknown_imports_are_diagnosed() {
        let files = loader(&[("m.route", b"import \"gone.route\"\nimport std/resilence\n")]);
        let loaded = load(&[PathBuf::from("m.route")], &files).unwrap();
        let codes: Vec<_> = loaded.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, vec![Code::UnresolvedImport, Code::UnresolvedImport]);
        assert_eq!(
            loaded.diagnostics[1].help.as_deref(),
            Some("did you mean `std/resilience`?")
        );
    }

    #[test]
    fn invalid_utf8_is_a_located_error() {
        let files = loader(&[("bin.route", b"service a {}\n\xff\xfe")]);
        let loaded = load(&[PathBuf::from("bin.route")], &files).unwrap();
        assert_eq!(loaded.diagnostics[0].code, Code::InvalidUtf8);
        assert_eq!(loaded.diagnostics[0].primary_span().start, 13);
    }

    #[test]
    fn an_unreadable_root_is_an_io_error() {
        let files = loader(&[]);
        assert!(load(&[PathBuf::from("none.route")], &files).is_err());
    }
}
