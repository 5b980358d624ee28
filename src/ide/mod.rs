//! Editor queries over an analysed compilation: what the language server asks.
//!
//! Everything the language server knows about the language comes from here (and from
//! `crate::analyze` and `crate::format`); the server only converts positions and types.
//! Offsets are byte offsets into the file's text in `analysis.sources()`.
//!
//! Every query is total: any offset (0, past the end, inside a multi-byte character) and
//! any file id are accepted; an unknown file or a place with nothing to say gives an
//! empty answer. The queries are stateless: each builds what it needs from the analysis
//! in time linear in the files it looks at (one file for hover, definition, completion,
//! outline and tokens; every file for references, rename and workspace symbols).
//!
//! - `symbols.rs`: the index of definitions and references, from the syntax trees and
//!   the resolved mesh; `navigate.rs`: definition, references, rename on top of it.
//! - `hover.rs`, `complete.rs`, `outline.rs` (document and workspace symbols),
//!   `tokens.rs` (semantic tokens).

mod complete;
mod hover;
mod navigate;
mod outline;
mod symbols;
mod tokens;

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
pub fn hover(analysis: &Analysis, file: FileId, offset: usize) -> Option<Hover> {
    hover::hover(analysis, file, offset)
}

/// The declaration of the name at an offset.
pub fn definition(analysis: &Analysis, file: FileId, offset: usize) -> Option<Span> {
    navigate::definition(analysis, file, offset)
}

/// Every reference to the name at an offset, across files; with its declaration when
/// `include_declaration`.
pub fn references(
    analysis: &Analysis,
    file: FileId,
    offset: usize,
    include_declaration: bool,
) -> Vec<Span> {
    navigate::references(analysis, file, offset, include_declaration)
}

/// The edits that rename the name at an offset everywhere, or why it cannot be renamed.
///
/// A new name must be a DNS-1123 label that starts with a letter (so that it lexes as a
/// name), must not be a reserved keyword, and must not clash with a sibling or change
/// what another reference resolves to. Renaming a subset declared in the shorthand
/// `subset v1` keeps the pods it selects: the declaration becomes
/// `subset NEW { version: v1 }`, since the shorthand ties the name to the label value.
/// Names declared in `std/...` cannot be renamed. Edits are sorted by file and position.
pub fn rename(
    analysis: &Analysis,
    file: FileId,
    offset: usize,
    new_name: &str,
) -> Result<Vec<Edit>, String> {
    navigate::rename(analysis, file, offset, new_name)
}

/// Completions that fit at an offset.
pub fn completions(analysis: &Analysis, file: FileId, offset: usize) -> Vec<Completion> {
    complete::completions(analysis, file, offset)
}

/// The outline of one file.
pub fn document_symbols(analysis: &Analysis, file: FileId) -> Vec<DocumentSymbol> {
    outline::document_symbols(analysis, file)
}

/// Services, subsets and policies of every file whose name contains `query`
/// (case-insensitive; all of them for an empty query).
pub fn workspace_symbols(analysis: &Analysis, query: &str) -> Vec<DocumentSymbol> {
    outline::workspace_symbols(analysis, query)
}

/// Semantic tokens of one file, in order.
pub fn semantic_tokens(analysis: &Analysis, file: FileId) -> Vec<SemanticToken> {
    tokens::semantic_tokens(analysis, file)
}

/// The text of a file of the analysis; `None` for an id it does not know.
pub(crate) fn source_text(analysis: &Analysis, file: FileId) -> Option<&str> {
    let sources = analysis.sources();
    ((file.0 as usize) < sources.len()).then(|| sources.get(file).text.as_str())
}

/// An offset clamped to the text and moved back to a character boundary.
pub(crate) fn clamp_offset(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Whether the file is one of the standard library's, embedded in the binary.
pub(crate) fn is_std(analysis: &Analysis, file: FileId) -> bool {
    source_text(analysis, file).is_some()
        && matches!(
            analysis.sources().get(file).origin,
            crate::source::Origin::Std(_)
        )
}

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::test_support::{analyze, file_named};

    const BROKEN: &[&str] = &[
        "",
        "namespace é😀\nservice ré { subset v1, \n routes { when header x == \"é -> v1\n else -> }\n",
        "service a { subset v1\n routes { else -> v1 { use } } }\npolicy { retry 2 x on }\nimport std/",
        "}}}{{{ -> , . : // é\n\"",
        "import std/resilience\nservice a in b { use idempotent-reads\n subset v1 { version: v1 }\n routes { when path ^= \"/\" -> a.v1 50%, v1 50% } }",
    ];

    /// Runs every query at every offset (and past the end) of every file.
    fn exercise(analysis: &Analysis) {
        for (file, source) in analysis.sources().iter() {
            for offset in 0..=source.text.len() + 2 {
                let _ = hover(analysis, file, offset);
                let _ = definition(analysis, file, offset);
                let _ = references(analysis, file, offset, true);
                let _ = rename(analysis, file, offset, "renamed");
                let _ = completions(analysis, file, offset);
            }
            let tokens = semantic_tokens(analysis, file);
            assert!(tokens.windows(2).all(|w| w[0].span.end <= w[1].span.start));
            let _ = document_symbols(analysis, file);
        }
        let _ = workspace_symbols(analysis, "É");
        let unknown = FileId(u32::MAX);
        assert_eq!(hover(analysis, unknown, 0), None);
        assert_eq!(definition(analysis, unknown, 0), None);
        assert!(references(analysis, unknown, 0, true).is_empty());
        assert!(rename(analysis, unknown, 0, "a").is_err());
        assert!(completions(analysis, unknown, 0).is_empty());
        assert!(document_symbols(analysis, unknown).is_empty());
        assert!(semantic_tokens(analysis, unknown).is_empty());
    }

    #[test]
    fn every_query_is_total() {
        for text in BROKEN {
            exercise(&analyze(&[("main.route", text)]));
        }
        let analysis = analyze(&[("main.route", BROKEN[4])]);
        let std = file_named(&analysis, "std/resilience.route");
        assert!(!document_symbols(&analysis, std).is_empty());
        assert!(!semantic_tokens(&analysis, std).is_empty());
    }

    /// `cargo test --release --lib ide::tests::timing -- --ignored --nocapture`
    #[test]
    #[ignore = "a measurement, for release builds"]
    fn timing_on_a_10000_line_file() {
        let mut text = String::from("namespace big\nimport std/resilience\n");
        for i in 0..1000 {
            text.push_str(&format!(
                "service s{i} {{\n  subset v1, v2\n  accepts GET\n  use idempotent-reads\n  routes {{\n    when header x-canary == \"1\" -> v2\n    when path ^= \"/s\" -> s{}.v1\n    else -> v1 90%, v2 10%\n  }}\n}}\n",
                (i + 1) % 1000
            ));
        }
        let analysis = analyze(&[("main.route", &text)]);
        assert!(analysis.sources().get(FileId(0)).lines.line_count() >= 10_000);
        let middle = text.find("s500 {").expect("s500");
        let time = |name: &str, run: &dyn Fn() -> usize| {
            let best = (0..5)
                .map(|_| {
                    let start = std::time::Instant::now();
                    std::hint::black_box(run());
                    start.elapsed()
                })
                .min();
            eprintln!("{name:>18}: {best:?}");
        };
        let file = FileId(0);
        let at = middle + 1;
        time("hover", &|| {
            hover(&analysis, file, at).map_or(0, |h| h.markdown.len())
        });
        time("definition", &|| {
            definition(&analysis, file, at).map_or(0, |s| s.range().len())
        });
        time("references", &|| {
            references(&analysis, file, at, true).len()
        });
        time("rename", &|| {
            rename(&analysis, file, at, "t").map_or(0, |e| e.len())
        });
        time("completions", &|| {
            completions(&analysis, file, text.len() - 10).len()
        });
        time("document_symbols", &|| {
            document_symbols(&analysis, file).len()
        });
        time("workspace_symbols", &|| {
            workspace_symbols(&analysis, "s9").len()
        });
        time("semantic_tokens", &|| {
            semantic_tokens(&analysis, file).len()
        });
    }
}
