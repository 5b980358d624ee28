//! The one entry point to parsing: `parse(file, text)`.
//!
//! lalrpop's types stop here: the grammar's recovered errors become `Diagnostic`s with a
//! located message in the language's own words ("expected `->`", not a list of token
//! names), and a file with errors still yields every item the parser could recover.
//! The helpers below are called from grammar actions to turn literal tokens into values,
//! reporting malformed ones.

use lalrpop_util::{lalrpop_mod, ErrorRecovery, ParseError};

use super::ast::{Duration, Module, Name, Spanned};
use super::lexer::{Comment, LexError, Lexer, Tok};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::{FileId, Span};

lalrpop_mod!(
    #[allow(clippy::all, clippy::pedantic, unused_parens, dead_code)]
    grammar,
    "/route.rs"
);

/// Syntax errors after this many in one file are summarised in a note.
const MAX_SYNTAX_ERRORS: usize = 30;

#[derive(Debug, Default)]
pub struct Parsed {
    pub module: Module,
    pub comments: Vec<Comment>,
    pub diagnostics: Vec<Diagnostic>,
    /// Syntax errors past the reported ones, counted but not described.
    pub hidden_errors: usize,
}

/// Files at least this large are split at top-level declarations and parsed in parallel.
const PARALLEL_PARSE_BYTES: usize = 256 * 1024;
/// Into how many pieces a large file is split: a constant, so that what a file parses
/// to (errors included) never depends on the machine's number of cores.
const PARSE_PIECES: usize = 4;

pub fn parse(file: FileId, text: &str) -> Parsed {
    let pieces = if text.len() >= PARALLEL_PARSE_BYTES {
        split_at_declarations(text, PARSE_PIECES)
    } else {
        Vec::new()
    };
    let mut parsed = if pieces.len() <= 1 {
        parse_piece(file, text, 0..text.len())
    } else {
        let parts: Vec<Parsed> = std::thread::scope(|scope| {
            let workers: Vec<_> = pieces
                .into_iter()
                .map(|range| scope.spawn(move || parse_piece(file, text, range)))
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("parsing does not panic"))
                .collect()
        });
        let mut whole = Parsed::default();
        for part in parts {
            whole.module.items.extend(part.module.items);
            whole.comments.extend(part.comments);
            whole.diagnostics.extend(part.diagnostics);
            whole.hidden_errors += part.hidden_errors;
        }
        whole
    };
    crate::diagnostics::sort(&mut parsed.diagnostics);
    if parsed.diagnostics.len() > MAX_SYNTAX_ERRORS || parsed.hidden_errors > 0 {
        let hidden =
            parsed.diagnostics.len().saturating_sub(MAX_SYNTAX_ERRORS) + parsed.hidden_errors;
        parsed.diagnostics.truncate(MAX_SYNTAX_ERRORS);
        if let Some(last) = parsed.diagnostics.last_mut() {
            last.notes.push(format!(
                "{hidden} more syntax errors in this file are not shown"
            ));
        }
    }
    parsed
}

/// Byte ranges covering the text, cut just before top-level declarations (a `service`,
/// `policy`, `namespace` or `import` token outside every brace) near equal sizes.
fn split_at_declarations(text: &str, pieces: usize) -> Vec<std::ops::Range<usize>> {
    use logos::Logos;
    let mut cuts = vec![0];
    let mut depth = 0usize;
    let mut lexer = Tok::lexer(text);
    while let Some(tok) = lexer.next() {
        match tok {
            Ok(Tok::LBrace) => depth += 1,
            Ok(Tok::RBrace) => depth = depth.saturating_sub(1),
            Ok(Tok::Service | Tok::Policy | Tok::Namespace | Tok::Import) if depth == 0 => {
                let at = lexer.span().start;
                let next_target = text.len() * cuts.len() / pieces;
                if at >= next_target && at > cuts[cuts.len() - 1] {
                    cuts.push(at);
                    if cuts.len() == pieces {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    cuts.push(text.len());
    cuts.windows(2).map(|w| w[0]..w[1]).collect()
}

fn parse_piece(file: FileId, text: &str, range: std::ops::Range<usize>) -> Parsed {
    let whole_len = text.len();
    let mut lexer = Lexer::at(file, &text[range.clone()], range.start);
    let mut recovered: Vec<ErrorRecovery<usize, Tok<'_>, LexError>> = Vec::new();
    let mut literal_errors = Vec::new();
    let result =
        grammar::ModuleParser::new().parse(file, &mut recovered, &mut literal_errors, &mut lexer);
    let mut diagnostics = std::mem::take(&mut lexer.diagnostics);
    diagnostics.extend(literal_errors);
    let resume_points = std::mem::take(&mut lexer.resume_points);
    let is_follow_up = |d: &Diagnostic| {
        d.code == Code::UnexpectedToken
            && resume_points.contains(&(d.primary_span().start as usize))
    };
    let eof = range.end;
    // Describing an error costs far more than counting it: a file of garbage can hold
    // hundreds of thousands, and only the first are ever shown.
    let hidden_errors = recovered.len().saturating_sub(MAX_SYNTAX_ERRORS + 1);
    let mut syntax_errors: Vec<Diagnostic> = recovered
        .into_iter()
        .take(MAX_SYNTAX_ERRORS + 1)
        .map(|r| syntax_error(file, eof.min(whole_len), r.error))
        .collect();
    let module = match result {
        Ok(module) => module,
        Err(error) => {
            syntax_errors.push(syntax_error(file, eof.min(whole_len), error));
            Module::default()
        }
    };
    diagnostics.extend(syntax_errors.into_iter().filter(|d| !is_follow_up(d)));
    Parsed {
        module,
        comments: lexer.comments,
        diagnostics,
        hidden_errors,
    }
}

fn syntax_error(
    file: FileId,
    end: usize,
    error: ParseError<usize, Tok<'_>, LexError>,
) -> Diagnostic {
    match error {
        ParseError::UnrecognizedToken {
            token: (l, tok, r),
            expected,
        } => {
            let expected = describe_expected(&expected);
            let found = tok.describe();
            let mut diagnostic = Diagnostic::new(
                Code::UnexpectedToken,
                Span::new(file, l, r),
                format!("expected {expected}, found {found}"),
            )
            .primary_text(format!("unexpected {found}"));
            diagnostic = diagnostic.help(help_for(&tok, &expected));
            diagnostic
        }
        ParseError::UnrecognizedEof { location, expected } => {
            let expected = describe_expected(&expected);
            let at = location.min(end);
            Diagnostic::new(
                Code::UnexpectedToken,
                Span::new(file, at, at),
                format!("expected {expected}, found the end of the file"),
            )
            .primary_text("the file ends here")
            .help("a block may be missing its closing `}`")
        }
        ParseError::ExtraToken { token: (l, tok, r) } => Diagnostic::new(
            Code::UnexpectedToken,
            Span::new(file, l, r),
            format!("unexpected {}", tok.describe()),
        )
        .help("remove it"),
        ParseError::InvalidToken { location } => Diagnostic::new(
            Code::InvalidCharacter,
            Span::new(file, location, location),
            "invalid token",
        )
        .help("remove it"),
        ParseError::User { error: LexError } => Diagnostic::new(
            Code::InvalidCharacter,
            Span::new(file, 0, 0),
            "invalid token",
        )
        .help("remove it"),
    }
}

fn help_for(found: &Tok<'_>, expected: &str) -> String {
    match found {
        Tok::Ident(word) if expected.contains("`,`") => {
            format!("separate list items with `,`: `, {word}`")
        }
        tok if tok
            .keyword_text()
            .is_some_and(|k| k.starts_with(|c: char| c.is_ascii_alphabetic()))
            && expected.contains("a name") =>
        {
            format!(
            "`{}` is a keyword here; a name that is also a keyword can be written in another place, or pick another name",
            tok.keyword_text().unwrap_or_default()
        )
        }
        Tok::RBrace => "a statement may be incomplete before this `}`".to_string(),
        _ => format!("write {expected} here"),
    }
}

/// Turns lalrpop's terminal names into the words a user reads.
fn describe_expected(expected: &[String]) -> String {
    let mut words: Vec<String> = Vec::new();
    for terminal in expected {
        let word = match terminal.as_str() {
            "IDENT" => "a name".to_string(),
            "STATUS" => "a status class such as `5xx`".to_string(),
            "INT" => "a number".to_string(),
            "DURATION" => "a duration such as `3s`".to_string(),
            "PERCENT" => "a percentage such as `10%`".to_string(),
            "STRING" => "a quoted string".to_string(),
            quoted => format!("`{}`", quoted.trim_matches('"')),
        };
        if !words.contains(&word) {
            words.push(word);
        }
    }
    // Soft keywords make every name position list dozens of keywords: fold them away.
    if words.iter().any(|w| w == "a name") {
        words.retain(|w| w == "a name" || !is_soft_keyword(w));
    }
    // Punctuation first: a missing `,` or `->` is the likeliest mistake and must not be
    // cut from the list by the dozen statements that could also start here.
    words.sort_by_key(|w| {
        let inner = w.trim_matches('`');
        !w.starts_with('`') || inner.starts_with(|c: char| c.is_ascii_alphabetic())
    });
    match words.len() {
        0 => "nothing more".to_string(),
        1 => words.remove(0),
        n if n <= 6 => {
            let last = words.pop().unwrap_or_default();
            format!("{} or {}", words.join(", "), last)
        }
        _ => {
            let shown = words[..5].join(", ");
            format!("{shown} or another statement")
        }
    }
}

fn is_soft_keyword(word: &str) -> bool {
    super::lexer::SOFT_KEYWORDS.contains(&word.trim_matches('`'))
}

pub(crate) fn sp(file: FileId, l: usize, r: usize) -> Span {
    Span::new(file, l, r)
}

pub(crate) fn name(file: FileId, l: usize, text: &str, r: usize) -> Name {
    Spanned::new(text.to_string(), sp(file, l, r))
}

pub(crate) fn int(
    file: FileId,
    l: usize,
    text: &str,
    r: usize,
    diags: &mut Vec<Diagnostic>,
) -> Spanned<u64> {
    let span = sp(file, l, r);
    let value = text.parse::<u64>().unwrap_or_else(|_| {
        diags.push(
            Diagnostic::new(Code::InvalidLiteral, span, format!("`{text}` is too large"))
                .primary_text("does not fit in 64 bits")
                .help("write a smaller number"),
        );
        u64::MAX
    });
    Spanned::new(value, span)
}

pub(crate) fn percent(
    file: FileId,
    l: usize,
    text: &str,
    r: usize,
    diags: &mut Vec<Diagnostic>,
) -> Spanned<f64> {
    let span = sp(file, l, r);
    let digits = text.trim_end_matches('%');
    let value = digits.parse::<f64>().unwrap_or_else(|_| {
        diags.push(
            Diagnostic::new(
                Code::InvalidLiteral,
                span,
                format!("`{text}` is not a percentage"),
            )
            .help("write a percentage such as `10%`"),
        );
        0.0
    });
    Spanned::new(value, span)
}

/// Parses `1.5s`, `250ms`, `2m`, `1h`, `500us`, `10ns` into nanoseconds.
pub(crate) fn duration(
    file: FileId,
    l: usize,
    text: &str,
    r: usize,
    diags: &mut Vec<Diagnostic>,
) -> Spanned<Duration> {
    let span = sp(file, l, r);
    let nanos = parse_duration(text);
    if nanos.is_none() {
        diags.push(
            Diagnostic::new(
                Code::InvalidLiteral,
                span,
                format!("`{text}` is too long a duration"),
            )
            .primary_text("does not fit in 64 bits of nanoseconds")
            .help("write a shorter duration"),
        );
    }
    Spanned::new(Duration { nanos }, span)
}

pub(crate) fn parse_duration(text: &str) -> Option<u64> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit_nanos: u128 = match unit {
        "h" => 3_600_000_000_000,
        "m" => 60_000_000_000,
        "s" => 1_000_000_000,
        "ms" => 1_000_000,
        "us" | "µs" => 1_000,
        "ns" => 1,
        _ => return None,
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let whole: u128 = whole.parse().ok()?;
    let mut nanos = whole.checked_mul(unit_nanos)?;
    let mut scale = unit_nanos;
    for digit in fraction.chars() {
        scale /= 10;
        nanos += u128::from(digit.to_digit(10)?) * scale;
        if scale == 0 {
            break;
        }
    }
    u64::try_from(nanos).ok()
}

/// Decodes a quoted string token: `\\`, `\"`, `\n`, `\t` and `\u{HEX}`; any other
/// backslash stays in the text, so regexes are written as RE2 reads them (`"v1\.2"`).
pub(crate) fn string(
    file: FileId,
    l: usize,
    raw: &str,
    r: usize,
    diags: &mut Vec<Diagnostic>,
) -> Spanned<String> {
    let span = sp(file, l, r);
    let inner = &raw[1..raw.len() - 1];
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let escape_start = l + 1 + i;
        match chars.next() {
            Some((_, '\\')) => out.push('\\'),
            Some((_, '"')) => out.push('"'),
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((_, 'u')) => {
                let rest = &inner[i + 2..];
                let decoded = rest
                    .strip_prefix('{')
                    .and_then(|r| r.split_once('}'))
                    .and_then(|(hex, _)| {
                        u32::from_str_radix(hex, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .map(|c| (c, hex.len() + 2))
                    });
                match decoded {
                    Some((c, len)) => {
                        out.push(c);
                        for _ in 0..len {
                            chars.next();
                        }
                    }
                    None => diags.push(bad_escape(file, escape_start, 2)),
                }
            }
            // Other escapes stay as written, so that regexes read as in RE2: "\.".
            Some((_, other)) => {
                out.push('\\');
                out.push(other);
            }
            None => diags.push(bad_escape(file, escape_start, 1)),
        }
    }
    Spanned::new(out, span)
}

fn bad_escape(file: FileId, start: usize, len: usize) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidLiteral,
        sp(file, start, start + len),
        "unknown escape in a string",
    )
    .primary_text("not a valid \\u{HEX} escape")
    .help(r#"write a Unicode scalar value in hex between braces, such as \u{e9}"#)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_file_parses_in_pieces_to_the_same_tree() {
        let mut text = String::from("namespace big\n");
        for i in 0..3000 {
            text.push_str(&format!(
                "// service {i}\nservice s{i} {{\n  subset v1, v2\n  routes {{\n    when header x == \"{i}\" -> v2\n    else -> v1 90%, v2 10%\n  }}\n}}\n"
            ));
            if i == 1500 {
                text.push_str("service broken { subset v1 v2 }\n");
            }
        }
        assert!(text.len() >= PARALLEL_PARSE_BYTES);
        assert_eq!(
            split_at_declarations(&text, PARSE_PIECES).len(),
            PARSE_PIECES
        );
        let whole = parse_piece(FileId(0), &text, 0..text.len());
        let pieces = parse(FileId(0), &text);
        assert_eq!(pieces.module, whole.module);
        assert_eq!(pieces.comments, whole.comments);
        assert_eq!(pieces.diagnostics, whole.diagnostics);
        assert_eq!(pieces.diagnostics.len(), 1);
    }

    #[test]
    fn durations_parse_to_nanoseconds() {
        assert_eq!(parse_duration("1s"), Some(1_000_000_000));
        assert_eq!(parse_duration("1.5s"), Some(1_500_000_000));
        assert_eq!(parse_duration("250ms"), Some(250_000_000));
        assert_eq!(parse_duration("2m"), Some(120_000_000_000));
        assert_eq!(parse_duration("500us"), Some(500_000));
        assert_eq!(parse_duration("99999999999h"), None);
    }

    #[test]
    fn a_file_with_several_errors_reports_each() {
        let parsed = parse(
            FileId(0),
            "service a {\n  subset v1 v2\n  timeout\n}\nservice b { port 80 }\n",
        );
        assert!(parsed.diagnostics.len() >= 2, "{:#?}", parsed.diagnostics);
        assert!(parsed
            .diagnostics
            .iter()
            .all(|d| d.code == Code::UnexpectedToken));
        let services = parsed
            .module
            .items
            .iter()
            .filter(|i| matches!(i, super::super::ast::Item::Service(_)))
            .count();
        assert_eq!(services, 2, "both services survive recovery");
    }

    #[test]
    fn string_escapes_are_decoded_and_bad_ones_reported() {
        let mut diags = Vec::new();
        let s = string(FileId(0), 0, r#""a\"b\\c\u{e9}""#, 14, &mut diags);
        assert_eq!(s.node, "a\"b\\cé");
        assert!(diags.is_empty());
        let regex = string(FileId(0), 0, r#""v1\.2""#, 7, &mut diags);
        assert_eq!(regex.node, r"v1\.2");
        assert!(diags.is_empty());
        string(FileId(0), 0, r#""\u{zz}""#, 8, &mut diags);
        assert_eq!(diags[0].code, Code::InvalidLiteral);
    }
}
