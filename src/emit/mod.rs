//! Backends: the checked model in, Kubernetes documents out.
//!
//! Each target has its own file with serde structs per kind whose field order is the
//! order Kubernetes documentation uses. `yaml.rs` alone knows the YAML crate. Output is
//! a pure function of the model: the same input gives byte-identical documents.

pub mod istio;
pub mod yaml;

use serde::ser::{Serialize, SerializeMap, Serializer};

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
        format!(
            "{}.{}.{}.yaml",
            self.namespace,
            self.name,
            self.kind.to_ascii_lowercase()
        )
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
    let mut out = String::with_capacity(documents.iter().map(|d| d.yaml.len() + 64).sum());
    for (i, document) in documents.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        document.write_to(&mut out);
    }
    out
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
