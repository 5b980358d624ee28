//! Editor queries over an analysed compilation: what the language server asks.
//!
//! Everything the language server knows about the language comes from here (and from
//! `crate::analyze` and `crate::format`); the server only converts positions and types.
//! Offsets are byte offsets into the file's text in `analysis.sources()`.

use crate::diagnostics::Edit;
use crate::source::{FileId, Span};
use crate::Analysis;

/// Markdown shown on hover, and the span it describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hover {
    pub span: Span,
    pub markdown: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SymbolKind {
    Namespace,
    Service,
    Subset,
    Policy,
    RouteTable,
    Rule,
}

/// A named thing, for document and workspace symbols.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentSymbol {
    pub name: String,
    /// e.g. the host of a service, the labels of a subset, the head of a rule.
    pub detail: Option<String>,
    pub kind: SymbolKind,
    /// The whole declaration.
    pub span: Span,
    /// The name (or the rule head) within it.
    pub selection: Span,
    pub children: Vec<DocumentSymbol>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionKind {
    Keyword,
    Service,
    Subset,
    Policy,
    RetryCondition,
    Method,
    Module,
    Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: Option<String>,
}

/// Token classes for semantic highlighting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenClass {
    Keyword,
    Service,
    Subset,
    Policy,
    Property,
    String,
    Number,
    Operator,
    Comment,
    Namespace,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SemanticToken {
    pub span: Span,
    pub class: TokenClass,
}

/// Hover text at an offset: a subset's labels; a service's host, namespace, ports and
/// subsets; a rule's effective timeout, retry policy and how many attempts fit; a retry
/// condition's safety for non-idempotent methods; a diagnostic's `routec explain` text.
pub fn hover(_analysis: &Analysis, _file: FileId, _offset: usize) -> Option<Hover> {
    None
}

/// The declaration of the name at an offset.
pub fn definition(_analysis: &Analysis, _file: FileId, _offset: usize) -> Option<Span> {
    None
}

/// Every reference to the name at an offset, across files; with its declaration when
/// `include_declaration`.
pub fn references(
    _analysis: &Analysis,
    _file: FileId,
    _offset: usize,
    _include_declaration: bool,
) -> Vec<Span> {
    Vec::new()
}

/// The edits that rename the name at an offset everywhere, or why it cannot be renamed.
pub fn rename(
    _analysis: &Analysis,
    _file: FileId,
    _offset: usize,
    _new_name: &str,
) -> Result<Vec<Edit>, String> {
    Err("not implemented".to_string())
}

/// Completions that fit at an offset.
pub fn completions(_analysis: &Analysis, _file: FileId, _offset: usize) -> Vec<Completion> {
    Vec::new()
}

/// The outline of one file.
pub fn document_symbols(_analysis: &Analysis, _file: FileId) -> Vec<DocumentSymbol> {
    Vec::new()
}

/// Services, subsets and policies of every file whose name contains `query`
/// (case-insensitive; all of them for an empty query).
pub fn workspace_symbols(_analysis: &Analysis, _query: &str) -> Vec<DocumentSymbol> {
    Vec::new()
}

/// Semantic tokens of one file, in order.
pub fn semantic_tokens(_analysis: &Analysis, _file: FileId) -> Vec<SemanticToken> {
    Vec::new()
}
