//! Backends: the checked model in, Kubernetes documents out.
//!
//! Each target has its own file with serde structs per kind whose field order is the
//! order Kubernetes documentation uses. `yaml.rs` alone knows the YAML crate. Output is
//! a pure function of the model: the same input gives byte-identical documents.

pub mod istio;
pub mod yaml;

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::model::Service;
use crate::source::{SourceMap, Span};

/// One Kubernetes object, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub kind: &'static str,
    pub name: String,
    pub namespace: String,
    /// `FILE:LINE` of the declaration the object comes from.
    pub source: String,
    /// The object as YAML, without a document marker or comment.
    pub yaml: String,
}

impl Document {
    /// A file name for `routec build -o DIR`: unique per object.
    pub fn file_name(&self) -> String {
        let kind = self.kind.to_ascii_lowercase();
        let name = if self.name.is_empty() {
            "mesh"
        } else {
            &self.name
        };
        if self.namespace.is_empty() {
            format!("{name}.{kind}.yaml")
        } else {
            format!("{}.{name}.{kind}.yaml", self.namespace)
        }
    }

    /// The document with its source comment, as it appears in a stream or a file.
    pub fn write_to(&self, out: &mut String) {
        out.push_str("# Source: ");
        out.push_str(&self.source);
        out.push('\n');
        out.push_str(&self.yaml);
    }
}

/// Every document as one YAML stream, separated by `---`.
pub fn stream(documents: &[Document]) -> String {
    let mut out = Vec::with_capacity(documents.iter().map(|d| d.yaml.len() + 64).sum());
    write_stream(documents, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("documents are UTF-8")
}

/// Writes the stream of `stream` without building it in memory first.
pub fn write_stream(documents: &[Document], out: &mut impl std::io::Write) -> std::io::Result<()> {
    for (i, document) in documents.iter().enumerate() {
        if i > 0 {
            out.write_all(b"---\n")?;
        }
        writeln!(out, "# Source: {}", document.source)?;
        out.write_all(document.yaml.as_bytes())?;
    }
    Ok(())
}

/// Runs `emit` for every service, on as many threads as there are cores when there
/// are enough services to be worth it, and returns the documents in service order:
/// the output does not depend on the number of threads.
pub(crate) fn per_service<F>(services: &[Service], emit: F) -> Vec<Document>
where
    F: Fn(&Service, &mut Vec<Document>) + Sync,
{
    const MIN_PER_THREAD: usize = 500;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(services.len() / MIN_PER_THREAD).max(1);
    let run = |chunk: &[Service]| {
        let mut documents = Vec::with_capacity(chunk.len() * 2);
        for service in chunk {
            emit(service, &mut documents);
        }
        documents
    };
    if threads == 1 {
        return run(services);
    }
    let chunk = services.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = services
            .chunks(chunk)
            .map(|c| scope.spawn(move || run(c)))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("emitting a checked model does not panic"))
            .collect()
    })
}

/// `FILE:LINE` for a span.
pub(crate) fn source_ref(sources: &SourceMap, span: Span) -> String {
    let file = sources.get(span.file);
    let line = file.lines.line_of(span.start as usize) + 1;
    format!("{}:{line}", file.name)
}

/// A map that keeps the order its entries were written in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OrderedMap<V>(pub Vec<(String, V)>);

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<V> OrderedMap<V> {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V: Serialize> Serialize for OrderedMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}
