//! Semantic tokens: every token of a file, classified for highlighting.
//!
//! The file is lexed again with the raw logos lexer, which yields comments (and
//! unclosed strings) in order among the other tokens, so nothing needs merging and the
//! result is sorted and non-overlapping by construction. Keywords, operators, literals
//! and comments are classified by their token; names by their role in the syntax tree,
//! from the symbol index (service, subset, policy, namespace; header, query and label
//! names as properties). A keyword that stands where a name does (`subset canary` is a
//! name, so is a service called `host`) takes the name's class. Punctuation, values and
//! names with no role (`GET`, `reset`, an unresolved destination) are left out.

use logos::Logos;

use super::symbols::SymbolIndex;
use super::{source_text, SemanticToken, TokenClass};
use crate::source::{FileId, Span};
use crate::syntax::lexer::Tok;
use crate::Analysis;

pub(crate) fn semantic_tokens(analysis: &Analysis, file: FileId) -> Vec<SemanticToken> {
    let Some(text) = source_text(analysis, file) else {
        return Vec::new();
    };
    let index = SymbolIndex::for_file(analysis, file);
    let mut roles: Vec<(Span, TokenClass)> = Vec::new();
    if let Some(symbols) = index.file(file) {
        roles.extend(symbols.occurrences.iter().map(|o| (o.span, o.class)));
        roles.extend(
            symbols
                .properties
                .iter()
                .map(|s| (*s, TokenClass::Property)),
        );
    }
    roles.sort_by_key(|(span, _)| span.start);
    let mut roles = roles.into_iter().peekable();
    let mut out = Vec::new();
    let mut lexer = Tok::lexer(text);
    while let Some(result) = lexer.next() {
        let range = lexer.span();
        let span = Span::new(file, range.start, range.end);
        while roles.next_if(|(r, _)| r.start < span.start).is_some() {}
        let role = roles
            .next_if(|(r, _)| r.start == span.start && r.end == span.end)
            .map(|(_, class)| class);
        let Ok(tok) = result else { continue };
        let class = match tok {
            Tok::Comment(_) => Some(TokenClass::Comment),
            Tok::Str(_) | Tok::UnterminatedStr(_) => Some(TokenClass::String),
            Tok::Int(_) | Tok::Duration(_) | Tok::Percent(_) | Tok::StatusClass(_) => {
                Some(TokenClass::Number)
            }
            Tok::Arrow | Tok::EqEq | Tok::PrefixEq | Tok::RegexEq => Some(TokenClass::Operator),
            Tok::Ident(_) => role,
            Tok::BadNumber(_) => None,
            keyword => match keyword.keyword_text() {
                Some(word) if word.starts_with(|c: char| c.is_ascii_alphabetic()) => {
                    role.or(Some(TokenClass::Keyword))
                }
                _ => None,
            },
        };
        if let Some(class) = class {
            out.push(SemanticToken { span, class });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::test_support::analyze_one;

    fn classes(text: &str) -> Vec<(String, TokenClass)> {
        let analysis = analyze_one(text);
        semantic_tokens(&analysis, FileId(0))
            .into_iter()
            .map(|t| (text[t.span.range()].to_string(), t.class))
            .collect()
    }

    #[test]
    fn tokens_are_classified_by_kind_and_role() {
        use TokenClass::*;
        let text = "namespace shop // the shop\nservice cart {\n  subset v1 // stable\n  subset host { track: beta }\n  use p\n  routes {\n    when header x-beta present -> host\n    else -> v1 90%\n  }\n}\npolicy p { retry 2 x 1s on 5xx }\n";
        let expected: Vec<(&str, TokenClass)> = vec![
            ("namespace", Keyword),
            ("shop", Namespace),
            ("// the shop", Comment),
            ("service", Keyword),
            ("cart", Service),
            ("subset", Keyword),
            ("v1", Subset),
            ("// stable", Comment),
            ("subset", Keyword),
            ("host", Subset),
            ("track", Property),
            ("use", Keyword),
            ("p", Policy),
            ("routes", Keyword),
            ("when", Keyword),
            ("header", Keyword),
            ("x-beta", Property),
            ("present", Keyword),
            ("->", Operator),
            ("host", Subset),
            ("else", Keyword),
            ("->", Operator),
            ("v1", Subset),
            ("90%", Number),
            ("policy", Keyword),
            ("p", Policy),
            ("retry", Keyword),
            ("2", Number),
            ("x", Keyword),
            ("1s", Number),
            ("on", Keyword),
            ("5xx", Number),
        ];
        let expected: Vec<(std::string::String, TokenClass)> = expected
            .into_iter()
            .map(|(t, c)| (t.to_string(), c))
            .collect();
        assert_eq!(classes(text), expected);
    }

    #[test]
    fn tokens_are_sorted_and_disjoint_even_in_broken_files() {
        let text = "service é { \"open\n subset v1,, $ 3sec\n routes { else -> v1 -> } // end";
        let analysis = analyze_one(text);
        let tokens = semantic_tokens(&analysis, FileId(0));
        assert!(tokens.windows(2).all(|w| w[0].span.end <= w[1].span.start));
        assert!(tokens.iter().any(|t| t.class == TokenClass::Comment));
        assert!(tokens.iter().any(|t| t.class == TokenClass::String));
        assert!(semantic_tokens(&analysis, FileId(3)).is_empty());
    }
}
