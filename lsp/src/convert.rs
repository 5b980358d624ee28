//! Conversions between routec's values and the protocol's.
//!
//! routec speaks in byte offsets (`Span`); the protocol speaks in 0-based lines and
//! columns counted in the negotiated position encoding: UTF-16 code units by default,
//! bytes when the client offers `utf-8`. Everything here is a pure function of a
//! `SourceFile` and a value, so that no conversion can disagree with another.
//! Invariants: every position produced lies inside its file (offsets are clamped and
//! floored to character boundaries); a position that names a line past the end of the
//! file converts to no offset at all, and the request that carried it is answered empty.

use routec::diagnostics::{Diagnostic, Label, Severity};
use routec::ide::{CompletionKind, SemanticToken, SymbolKind, TokenClass};
use routec::source::{LineIndex, SourceFile};
use routec::Span;
use tower_lsp::lsp_types as lsp;

/// How columns are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Encoding {
    /// Bytes of UTF-8, when the client offers it.
    Utf8,
    /// UTF-16 code units, the protocol's default.
    #[default]
    Utf16,
}

impl Encoding {
    /// The encoding to use given what the client lists: utf-8 if offered, else utf-16.
    pub fn negotiate(offered: Option<&[lsp::PositionEncodingKind]>) -> Encoding {
        match offered {
            Some(kinds) if kinds.contains(&lsp::PositionEncodingKind::UTF8) => Encoding::Utf8,
            _ => Encoding::Utf16,
        }
    }

    pub fn kind(self) -> lsp::PositionEncodingKind {
        match self {
            Encoding::Utf8 => lsp::PositionEncodingKind::UTF8,
            Encoding::Utf16 => lsp::PositionEncodingKind::UTF16,
        }
    }

    fn width(self, c: char) -> usize {
        match self {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16(),
        }
    }
}

/// The protocol position of a byte offset (clamped to the text).
pub fn position(file: &SourceFile, offset: usize, encoding: Encoding) -> lsp::Position {
    let text = file.text.as_str();
    let offset = floor_char_boundary(text, offset);
    let line = file.lines.line_of(offset);
    let start = file.lines.line_start(line);
    let character: usize = match encoding {
        Encoding::Utf8 => offset - start,
        Encoding::Utf16 => text[start..offset].chars().map(char::len_utf16).sum(),
    };
    lsp::Position::new(line as u32, character as u32)
}

pub fn range(file: &SourceFile, span: Span, encoding: Encoding) -> lsp::Range {
    lsp::Range::new(
        position(file, span.start as usize, encoding),
        position(file, span.end.max(span.start) as usize, encoding),
    )
}

/// The byte offset of a protocol position. A column past the end of its line means the
/// end of the line (as the protocol says); a line past the end of the text is `None`.
pub fn offset(file: &SourceFile, position: lsp::Position, encoding: Encoding) -> Option<usize> {
    offset_in(&file.text, &file.lines, position, encoding)
}

/// `offset` for a text and its line index.
pub fn offset_in(
    text: &str,
    lines: &LineIndex,
    position: lsp::Position,
    encoding: Encoding,
) -> Option<usize> {
    let line = position.line as usize;
    if line >= lines.line_count() {
        return None;
    }
    let start = lines.line_start(line);
    let end = if line + 1 < lines.line_count() {
        lines.line_start(line + 1)
    } else {
        text.len()
    };
    let content = text[start..end].trim_end_matches(['\n', '\r']);
    let mut units = 0usize;
    for (i, c) in content.char_indices() {
        if units >= position.character as usize {
            return Some(start + i);
        }
        units += encoding.width(c);
    }
    Some(start + content.len())
}

fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Resolves the file of a span to its editor location, when it has one (the standard
/// library's files have none).
pub trait Locate {
    fn file(&self, span: Span) -> &SourceFile;
    fn uri(&self, span: Span) -> Option<&lsp::Url>;
    fn encoding(&self) -> Encoding;

    fn range(&self, span: Span) -> lsp::Range {
        range(self.file(span), span, self.encoding())
    }

    fn location(&self, span: Span) -> Option<lsp::Location> {
        Some(lsp::Location::new(
            self.uri(span)?.clone(),
            self.range(span),
        ))
    }
}

/// A diagnostic as the protocol shows it, anchored at its primary label, or at
/// `anchor` (a secondary label in another file, so that both files show the conflict).
///
/// The message is the CLI's message, then the primary label's text, the notes and the
/// help, each on its own line (`help: ...`, as the SARIF output writes it): related
/// information needs a location, which notes and help do not have, and many clients
/// (Neovim's default float, Helix) show the message but hide related information.
/// Secondary labels become related information, since they do have a location.
pub fn diagnostic(
    diagnostic: &Diagnostic,
    anchor: Option<&Label>,
    locate: &dyn Locate,
) -> lsp::Diagnostic {
    let primary = diagnostic
        .labels
        .iter()
        .find(|l| l.primary)
        .expect("every diagnostic is built with a primary label");
    let here = anchor.unwrap_or(primary);
    let mut message = diagnostic.message.clone();
    if !here.message.is_empty() {
        message.push('\n');
        message.push_str(&here.message);
    }
    for note in &diagnostic.notes {
        message.push_str("\nnote: ");
        message.push_str(note);
    }
    if let Some(help) = &diagnostic.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = diagnostic
        .labels
        .iter()
        .filter(|l| !std::ptr::eq(*l, here))
        .filter_map(|l| {
            let text = match (l.primary, l.message.is_empty()) {
                (_, false) => l.message.clone(),
                (true, true) => diagnostic.message.clone(),
                (false, true) => "related".to_string(),
            };
            Some(lsp::DiagnosticRelatedInformation {
                location: locate.location(l.span)?,
                message: text,
            })
        })
        .collect();
    lsp::Diagnostic {
        range: locate.range(here.span),
        severity: Some(match diagnostic.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(
            diagnostic.code.as_str().to_string(),
        )),
        code_description: None,
        source: Some("routec".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}

/// Token types in the order of `TokenClass`, so that a class's index is its type.
pub const TOKEN_CLASSES: [TokenClass; 10] = [
    TokenClass::Keyword,
    TokenClass::Service,
    TokenClass::Subset,
    TokenClass::Policy,
    TokenClass::Property,
    TokenClass::String,
    TokenClass::Number,
    TokenClass::Operator,
    TokenClass::Comment,
    TokenClass::Namespace,
];

/// The standard token type each class is shown as: standard types, so that every
/// theme colours them without configuration.
pub fn token_type(class: TokenClass) -> lsp::SemanticTokenType {
    match class {
        TokenClass::Keyword => lsp::SemanticTokenType::KEYWORD,
        TokenClass::Service => lsp::SemanticTokenType::CLASS,
        TokenClass::Subset => lsp::SemanticTokenType::ENUM_MEMBER,
        TokenClass::Policy => lsp::SemanticTokenType::DECORATOR,
        TokenClass::Property => lsp::SemanticTokenType::PROPERTY,
        TokenClass::String => lsp::SemanticTokenType::STRING,
        TokenClass::Number => lsp::SemanticTokenType::NUMBER,
        TokenClass::Operator => lsp::SemanticTokenType::OPERATOR,
        TokenClass::Comment => lsp::SemanticTokenType::COMMENT,
        TokenClass::Namespace => lsp::SemanticTokenType::NAMESPACE,
    }
}

pub fn token_legend() -> lsp::SemanticTokensLegend {
    lsp::SemanticTokensLegend {
        token_types: TOKEN_CLASSES.iter().map(|c| token_type(*c)).collect(),
        token_modifiers: Vec::new(),
    }
}

/// Encodes tokens of one file as the protocol's relative quintuples. Tokens are taken in
/// order of position; one that overlaps its predecessor is dropped, and one that spans
/// lines is split at line ends (clients need not support multi-line tokens).
pub fn semantic_tokens(
    file: &SourceFile,
    tokens: &[SemanticToken],
    encoding: Encoding,
) -> Vec<lsp::SemanticToken> {
    let mut sorted: Vec<&SemanticToken> = tokens.iter().collect();
    sorted.sort_by_key(|t| (t.span.start, t.span.end));
    let text = file.text.as_str();
    let mut out = Vec::with_capacity(sorted.len());
    let (mut previous_line, mut previous_start) = (0u32, 0u32);
    let mut covered = 0usize;
    for token in sorted {
        let (start, end) = (token.span.start as usize, token.span.end as usize);
        if start < covered || end <= start || end > text.len() {
            continue;
        }
        covered = end;
        let Some(kind) = TOKEN_CLASSES.iter().position(|c| *c == token.class) else {
            continue;
        };
        let mut piece_start = start;
        while piece_start < end {
            let line = file.lines.line_of(piece_start);
            let line_end = if line + 1 < file.lines.line_count() {
                file.lines.line_start(line + 1)
            } else {
                text.len()
            };
            let piece_end = end.min(line_end);
            let from = position(file, piece_start, encoding);
            let to = position(file, piece_end, encoding);
            let length = if to.line == from.line {
                to.character - from.character
            } else {
                // The piece ends with the line's newline: count up to it.
                let content = text[piece_start..piece_end].trim_end_matches(['\n', '\r']);
                content.chars().map(|c| encoding.width(c) as u32).sum()
            };
            if length > 0 {
                let delta_line = from.line - previous_line;
                let delta_start = if delta_line == 0 {
                    from.character - previous_start
                } else {
                    from.character
                };
                out.push(lsp::SemanticToken {
                    delta_line,
                    delta_start,
                    length,
                    token_type: kind as u32,
                    token_modifiers_bitset: 0,
                });
                previous_line = from.line;
                previous_start = from.character;
            }
            piece_start = piece_end;
        }
    }
    out
}

pub fn symbol_kind(kind: SymbolKind) -> lsp::SymbolKind {
    match kind {
        SymbolKind::Namespace => lsp::SymbolKind::NAMESPACE,
        SymbolKind::Service => lsp::SymbolKind::CLASS,
        SymbolKind::Subset => lsp::SymbolKind::ENUM_MEMBER,
        SymbolKind::Policy => lsp::SymbolKind::FUNCTION,
        SymbolKind::RouteTable => lsp::SymbolKind::STRUCT,
        SymbolKind::Rule => lsp::SymbolKind::FIELD,
    }
}

pub fn completion_kind(kind: CompletionKind) -> lsp::CompletionItemKind {
    match kind {
        CompletionKind::Keyword => lsp::CompletionItemKind::KEYWORD,
        CompletionKind::Service => lsp::CompletionItemKind::CLASS,
        CompletionKind::Subset => lsp::CompletionItemKind::ENUM_MEMBER,
        CompletionKind::Policy => lsp::CompletionItemKind::FUNCTION,
        CompletionKind::RetryCondition => lsp::CompletionItemKind::CONSTANT,
        CompletionKind::Method => lsp::CompletionItemKind::CONSTANT,
        CompletionKind::Module => lsp::CompletionItemKind::MODULE,
        CompletionKind::Value => lsp::CompletionItemKind::VALUE,
    }
}

/// The start of the name being typed before `offset` (names are letters, digits, `-`
/// and `_`), so that a completion replaces all of a hyphenated name in every client.
pub fn word_start(text: &str, offset: usize) -> usize {
    let offset = floor_char_boundary(text, offset);
    text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .last()
        .map_or(offset, |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use routec::source::{Origin, SourceMap};
    use routec::FileId;

    fn file(text: &str) -> SourceMap {
        let mut map = SourceMap::new();
        map.add(Origin::Std("t".into()), "t".into(), text.to_string());
        map
    }

    #[test]
    fn positions_round_trip_in_both_encodings() {
        let map = file("ab\né😀x\n");
        let f = map.get(FileId(0));
        let x = f.text.find('x').unwrap();
        assert_eq!(position(f, x, Encoding::Utf16), lsp::Position::new(1, 3));
        assert_eq!(position(f, x, Encoding::Utf8), lsp::Position::new(1, 6));
        assert_eq!(
            offset(f, lsp::Position::new(1, 3), Encoding::Utf16),
            Some(x)
        );
        assert_eq!(offset(f, lsp::Position::new(1, 6), Encoding::Utf8), Some(x));
        // Inside the emoji, in bytes: floored to its start, after é.
        assert_eq!(
            position(f, x - 1, Encoding::Utf16),
            lsp::Position::new(1, 1)
        );
    }

    #[test]
    fn positions_past_the_end_are_clamped_or_refused() {
        let map = file("a\r\nbc");
        let f = map.get(FileId(0));
        assert_eq!(
            offset(f, lsp::Position::new(0, 99), Encoding::Utf16),
            Some(1)
        );
        assert_eq!(
            offset(f, lsp::Position::new(1, 99), Encoding::Utf16),
            Some(5)
        );
        assert_eq!(offset(f, lsp::Position::new(2, 0), Encoding::Utf16), None);
        assert_eq!(
            offset(f, lsp::Position::new(u32::MAX, 0), Encoding::Utf8),
            None
        );
        assert_eq!(position(f, 1000, Encoding::Utf16), lsp::Position::new(1, 2));
    }

    #[test]
    fn multi_line_tokens_are_split_and_deltas_are_relative() {
        let map = file("ab\ncd é\n");
        let f = map.get(FileId(0));
        let span = |s: usize, e: usize| Span::new(FileId(0), s, e);
        let tokens = [
            SemanticToken {
                span: span(0, 5),
                class: TokenClass::Comment,
            },
            SemanticToken {
                span: span(6, 8),
                class: TokenClass::String,
            },
        ];
        let encoded = semantic_tokens(f, &tokens, Encoding::Utf16);
        let quintuples: Vec<_> = encoded
            .iter()
            .map(|t| (t.delta_line, t.delta_start, t.length, t.token_type))
            .collect();
        assert_eq!(quintuples, vec![(0, 0, 2, 8), (1, 0, 2, 8), (0, 3, 1, 5)]);
    }

    #[test]
    fn word_start_covers_hyphenated_names() {
        assert_eq!(word_start("use idempotent-re", 17), 4);
        assert_eq!(word_start("use ", 4), 4);
        assert_eq!(word_start("é", 1), 0);
    }
}
