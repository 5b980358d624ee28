//! Regex matches (`~=`): patterns Envoy's RE2 would reject, and patterns that are really
//! an exact or prefix match.
//!
//! In: a parsed `Module`; every `Test::Compare(StringOp::Regex, _)` on a path, method,
//! header or query condition is checked, in every route table of every service and policy,
//! including rule bodies. Out: E0501 (invalid regex) or W0502 (a literal regex), at most
//! one of them per pattern except that every look-around and backreference is reported.
//!
//! RE2 is checked with `regex_syntax`, whose syntax is close to RE2's; look-around and
//! backreferences, which both reject, are found first by a scan that knows escapes and
//! character classes, so that the message names the construct. The scan and the parser
//! see the decoded string (what Envoy receives); offsets in it are mapped into the source
//! only when the string was written without escapes, otherwise the whole string is shown.
//! Known gaps: RE2-only syntax (`\Q...\E`, `\C`) is reported as invalid, and Rust-only
//! syntax (class set operations such as `[a&&b]`) is accepted.

use regex_syntax::hir::{Class, Hir, HirKind, Look};

use super::values::quote;
use crate::diagnostics::{Code, Diagnostic, Edit};
use crate::source::Span;
use crate::syntax::ast::{
    Block, Condition, Field, Guard, Item, Module, Spanned, StmtKind, StringOp, Test,
};

/// Envoy's default limit is on program size; Istio documents patterns of at most 1024 bytes.
const MAX_PATTERN_BYTES: usize = 1024;

pub fn check(module: &Module, out: &mut Vec<Diagnostic>) {
    for item in &module.items {
        match item {
            Item::Service(service) | Item::External(service) | Item::Gateway(service) => {
                check_block(&service.body, out)
            }
            Item::Policy(policy) => check_block(&policy.body, out),
            Item::Expose(expose) => check_block(&expose.body, out),
            Item::Sidecar(_)
            | Item::Mesh(_)
            | Item::Namespace(_)
            | Item::Import(_)
            | Item::Error(_) => {}
        }
    }
}

fn check_block(block: &Block, out: &mut Vec<Diagnostic>) {
    for stmt in &block.stmts {
        let StmtKind::Routes(table) = &stmt.kind else {
            continue;
        };
        for rule in &table.rules {
            if let Guard::When(matches) = &rule.guard {
                for condition in matches.iter().flat_map(|m| &m.conditions) {
                    if let Test::Compare(StringOp::Regex, pattern) = &condition.test {
                        check_pattern(condition, pattern, out);
                    }
                }
            }
            if let Some(body) = &rule.body {
                check_block(body, out);
            }
        }
    }
}

fn check_pattern(condition: &Condition, pattern: &Spanned<String>, out: &mut Vec<Diagnostic>) {
    let text = pattern.node.as_str();
    if text.is_empty() {
        out.push(
            Diagnostic::new(Code::InvalidRegex, pattern.span, "this regex is empty")
                .primary_text("Envoy rejects an empty pattern")
                .help(format!(
                    "write `{} present` to match any value, or a pattern such as `~= \".+\"`",
                    field_text(condition)
                )),
        );
        return;
    }
    if text.len() > MAX_PATTERN_BYTES {
        out.push(
            Diagnostic::new(
                Code::InvalidRegex,
                pattern.span,
                format!("this regex is {} bytes long", text.len()),
            )
            .primary_text(format!("Envoy accepts at most {MAX_PATTERN_BYTES} bytes"))
            .help("shorten the pattern, or split it over several rules"),
        );
        return;
    }
    let unsupported = unsupported_constructs(text);
    if !unsupported.is_empty() {
        for construct in unsupported {
            out.push(unsupported_diagnostic(pattern, &construct));
        }
        return;
    }
    match regex_syntax::Parser::new().parse(text) {
        Ok(hir) => {
            if let Some(simple) = simplify(&hir) {
                out.push(literal_diagnostic(condition, pattern, &simple));
            }
        }
        Err(error) => out.push(parse_error_diagnostic(pattern, &error)),
    }
}

// ---------------------------------------------------------------------------------------
// Look-around and backreferences

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ConstructKind {
    LookAhead,
    NegativeLookAhead,
    LookBehind,
    NegativeLookBehind,
    Backreference,
}

#[derive(Debug, PartialEq, Eq)]
struct Unsupported {
    kind: ConstructKind,
    /// Byte range in the decoded pattern.
    start: usize,
    end: usize,
}

/// Every look-around opener and backreference outside character classes, in order.
fn unsupported_constructs(pattern: &str) -> Vec<Unsupported> {
    const OPENERS: &[(&str, ConstructKind)] = &[
        ("(?<=", ConstructKind::LookBehind),
        ("(?<!", ConstructKind::NegativeLookBehind),
        ("(?=", ConstructKind::LookAhead),
        ("(?!", ConstructKind::NegativeLookAhead),
    ];
    let bytes = pattern.as_bytes();
    let mut found = Vec::new();
    let mut in_class = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                if !in_class && bytes.get(i + 1).is_some_and(|b| (b'1'..=b'9').contains(b)) {
                    found.push(Unsupported {
                        kind: ConstructKind::Backreference,
                        start: i,
                        end: i + 2,
                    });
                }
                i += 2;
                continue;
            }
            b'[' if !in_class => {
                in_class = true;
                i += 1;
                if bytes.get(i) == Some(&b'^') {
                    i += 1;
                }
                // A `]` right after the opening bracket is a literal.
                if bytes.get(i) == Some(&b']') {
                    i += 1;
                }
                continue;
            }
            b'[' if bytes.get(i + 1) == Some(&b':') => {
                // `[:alpha:]` inside a class.
                match pattern[i + 2..].find(":]") {
                    Some(close) => i += close + 4,
                    None => i += 1,
                }
                continue;
            }
            b']' if in_class => in_class = false,
            b'(' if !in_class => {
                let rest = &pattern[i..];
                if let Some((opener, kind)) = OPENERS.iter().find(|(o, _)| rest.starts_with(o)) {
                    found.push(Unsupported {
                        kind: *kind,
                        start: i,
                        end: i + opener.len(),
                    });
                }
            }
            _ => {}
        }
        i += 1;
    }
    found
}

fn unsupported_diagnostic(pattern: &Spanned<String>, construct: &Unsupported) -> Diagnostic {
    let span = inner_span(pattern, construct.start, construct.end);
    let written = pattern
        .node
        .get(construct.start..construct.end)
        .unwrap_or_default();
    let (message, help) = match construct.kind {
        ConstructKind::LookAhead => (
            "RE2 does not support look-ahead",
            "remove the `(?=...)` group and match the text itself, or split the match over two rules",
        ),
        ConstructKind::NegativeLookAhead => (
            "RE2 does not support negative look-ahead",
            "put a rule for the values to exclude above this one, and match the rest here without `(?!...)`",
        ),
        ConstructKind::LookBehind => (
            "RE2 does not support look-behind",
            "remove the `(?<=...)` group and match the preceding text itself",
        ),
        ConstructKind::NegativeLookBehind => (
            "RE2 does not support negative look-behind",
            "put a rule for the values to exclude above this one, and match the rest here without `(?<!...)`",
        ),
        ConstructKind::Backreference => (
            "RE2 does not support backreferences",
            "repeat the group's pattern where the backreference stands, or list the alternatives with `|`",
        ),
    };
    Diagnostic::new(Code::InvalidRegex, span, message)
        .primary_text(format!("`{written}` is not RE2"))
        .note(
            "Istio and Envoy match with RE2, which guarantees linear time and so leaves these out",
        )
        .help(help)
}

// ---------------------------------------------------------------------------------------
// Parse errors

fn parse_error_diagnostic(pattern: &Spanned<String>, error: &regex_syntax::Error) -> Diagnostic {
    use regex_syntax::ast::ErrorKind;
    let (kind, offsets, help) = match error {
        regex_syntax::Error::Parse(error) => {
            let help = match error.kind() {
                ErrorKind::GroupUnclosed => {
                    "close the group with `)`, or write `\\(` to match a parenthesis"
                }
                ErrorKind::GroupUnopened => "remove the `)`, or write `\\)` to match a parenthesis",
                ErrorKind::ClassUnclosed => {
                    "close the class with `]`, or write `\\[` to match a bracket"
                }
                ErrorKind::RepetitionMissing => {
                    "put a `\\` before the operator to match it literally, such as `\\*` or `\\+`"
                }
                ErrorKind::EscapeUnrecognized => {
                    "remove the `\\`, or write `\\\\` to match a backslash"
                }
                _ => "rewrite the pattern in RE2 syntax; an exact (==) or prefix (^=) match may do",
            };
            let span = error.span();
            (
                error.kind().to_string(),
                (span.start.offset, span.end.offset),
                help,
            )
        }
        regex_syntax::Error::Translate(error) => {
            let span = error.span();
            (
                error.kind().to_string(),
                (span.start.offset, span.end.offset),
                "rewrite the pattern in RE2 syntax; an exact (==) or prefix (^=) match may do",
            )
        }
        other => (
            other.to_string(),
            (0, pattern.node.len()),
            "rewrite the pattern in RE2 syntax",
        ),
    };
    let (start, mut end) = offsets;
    if start == end {
        end = pattern.node[start.min(pattern.node.len())..]
            .chars()
            .next()
            .map_or(end, |c| start + c.len_utf8());
    }
    Diagnostic::new(
        Code::InvalidRegex,
        inner_span(pattern, start, end),
        format!("this regex is not valid: {kind}"),
    )
    .primary_text(kind)
    .help(help)
}

// ---------------------------------------------------------------------------------------
// Regexes that are exact or prefix matches

#[derive(Debug, PartialEq, Eq)]
enum Simple {
    /// Matches this string only.
    Exact(String),
    /// Matches every string that starts with this one.
    Prefix(String),
}

/// An exact or prefix match equivalent to the whole-value regex `hir`, if there is one.
fn simplify(hir: &Hir) -> Option<Simple> {
    let mut parts = Vec::new();
    flatten(hir, &mut parts);
    let mut parts = parts.as_slice();
    while let [first, rest @ ..] = parts {
        if !matches!(first.kind(), HirKind::Look(Look::Start)) {
            break;
        }
        parts = rest;
    }
    while let [rest @ .., last] = parts {
        if !matches!(last.kind(), HirKind::Look(Look::End)) {
            break;
        }
        parts = rest;
    }
    let (body, is_prefix) = match parts {
        [body @ .., last] if is_any_string(last) => (body, true),
        _ => (parts, false),
    };
    let mut bytes = Vec::new();
    for part in body {
        match part.kind() {
            HirKind::Literal(literal) => bytes.extend_from_slice(&literal.0),
            HirKind::Empty => {}
            _ => return None,
        }
    }
    let text = String::from_utf8(bytes).ok()?;
    if text.is_empty() || text.chars().any(char::is_control) {
        return None;
    }
    Some(if is_prefix {
        Simple::Prefix(text)
    } else {
        Simple::Exact(text)
    })
}

/// The parts of a concatenation, looking through capture groups.
fn flatten<'h>(hir: &'h Hir, parts: &mut Vec<&'h Hir>) {
    match hir.kind() {
        HirKind::Concat(subs) => subs.iter().for_each(|sub| flatten(sub, parts)),
        HirKind::Capture(capture) => flatten(&capture.sub, parts),
        _ => parts.push(hir),
    }
}

/// `.*`, greedy, with or without `(?s)`.
fn is_any_string(hir: &Hir) -> bool {
    let HirKind::Repetition(repetition) = hir.kind() else {
        return false;
    };
    if repetition.min != 0 || repetition.max.is_some() || !repetition.greedy {
        return false;
    }
    let mut sub = &*repetition.sub;
    while let HirKind::Capture(capture) = sub.kind() {
        sub = &capture.sub;
    }
    let HirKind::Class(class) = sub.kind() else {
        return false;
    };
    let ranges: Vec<(u32, u32)> = match class {
        Class::Unicode(class) => class
            .ranges()
            .iter()
            .map(|r| (u32::from(r.start()), u32::from(r.end())))
            .collect(),
        Class::Bytes(class) => class
            .ranges()
            .iter()
            .map(|r| (u32::from(r.start()), u32::from(r.end())))
            .collect(),
    };
    let last = match class {
        Class::Unicode(_) => u32::from(char::MAX),
        Class::Bytes(_) => 0xFF,
    };
    ranges == [(0, last)] || ranges == [(0, 0x09), (0x0B, last)]
}

fn literal_diagnostic(
    condition: &Condition,
    pattern: &Spanned<String>,
    simple: &Simple,
) -> Diagnostic {
    let (op, text, message) = match simple {
        Simple::Exact(text) => (
            "==",
            text,
            format!("this regex matches only `{text}`; use =="),
        ),
        Simple::Prefix(text) => (
            "^=",
            text,
            format!("this regex matches every value that starts with `{text}`; use ^="),
        ),
    };
    let replacement = format!("{op} {}", quote(text));
    let field = field_text(condition);
    let mut diagnostic = Diagnostic::new(Code::RegexIsLiteral, pattern.span, message)
        .primary_text(match simple {
            Simple::Exact(_) => "an exact match written as a regex",
            Simple::Prefix(_) => "a prefix match written as a regex",
        })
        .help(format!("write `{field} {replacement}`"));
    let field_end = match &condition.field {
        Field::Path => Some(condition.span.start + "path".len() as u32),
        Field::Method => Some(condition.span.start + "method".len() as u32),
        Field::Header(name) | Field::Query(name) => Some(name.span.end),
        other => Some(condition.span.start + field_keyword(other).len() as u32),
    };
    if let Some(field_end) = field_end.filter(|end| *end <= pattern.span.start) {
        let span = Span {
            file: pattern.span.file,
            start: field_end,
            end: pattern.span.end,
        };
        diagnostic = diagnostic.fix(
            format!("Use `{replacement}`"),
            vec![Edit {
                span,
                replacement: format!(" {replacement}"),
            }],
        );
    }
    diagnostic
}

// ---------------------------------------------------------------------------------------
// Spans and text

/// The condition's field as written: `path`, `header x-user`.
fn field_text(condition: &Condition) -> String {
    match &condition.field {
        Field::Path => "path".to_string(),
        Field::Method => "method".to_string(),
        Field::Header(name) => format!("header {}", name.node),
        Field::Query(name) => format!("query {}", name.node),
        other => field_keyword(other).to_string(),
    }
}

fn field_keyword(field: &Field) -> &'static str {
    match field {
        Field::Path => "path",
        Field::Method => "method",
        Field::Header(_) => "header",
        Field::Query(_) => "query",
        Field::Authority => "authority",
        Field::Scheme => "scheme",
        Field::Port => "port",
        Field::Sni => "sni",
    }
}

/// The source span of bytes `start..end` of the decoded pattern, when the source shows
/// the pattern as decoded (no escapes; quoted or a bare word); else the whole string.
fn inner_span(pattern: &Spanned<String>, start: usize, end: usize) -> Span {
    let written = pattern.span.range().len();
    let decoded = pattern.node.len();
    let offset = if written == decoded + 2 {
        1
    } else if written == decoded {
        0
    } else {
        return pattern.span;
    };
    if start > end || end > decoded {
        return pattern.span;
    }
    let base = pattern.span.start as usize + offset;
    Span::new(pattern.span.file, base + start, base + end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn diagnostics(text: &str) -> Vec<Diagnostic> {
        let parsed = crate::syntax::parse(FileId(0), text);
        assert!(
            parsed.diagnostics.is_empty(),
            "syntax errors: {:#?}",
            parsed.diagnostics
        );
        let mut out = Vec::new();
        check(&parsed.module, &mut out);
        out
    }

    /// A service whose route table has one rule with `condition`.
    fn with_condition(condition: &str) -> String {
        format!("service a {{\n  routes {{\n    when {condition} -> v1\n    else -> v1\n  }}\n}}\n")
    }

    fn slice(text: &str, span: Span) -> &str {
        &text[span.range()]
    }

    /// The source after applying the diagnostic's only fix.
    fn fixed(text: &str, d: &Diagnostic) -> String {
        assert_eq!(d.fixes.len(), 1, "{d:#?}");
        let mut result = text.to_string();
        for edit in d.fixes[0].edits.iter().rev() {
            result.replace_range(edit.span.range(), &edit.replacement);
        }
        result
    }

    #[test]
    fn valid_regexes_produce_nothing() {
        for condition in [
            r#"path ~= "/api/v[0-9]+/.*""#,
            r#"header x-user ~= "(alice|bob)""#,
            r#"query id ~= "[0-9]{3,5}""#,
            r#"method ~= "GET|HEAD""#,
            r#"path ~= "/a\(b|c""#,
            r#"path ~= "[(?=]x""#,
            r#"path ~= "(?P<v>v[12])/.*""#,
            r#"path ~= "/api/.+""#,
        ] {
            let text = with_condition(condition);
            let found = diagnostics(&text);
            assert!(found.is_empty(), "{condition}: {found:#?}");
        }
    }

    #[test]
    fn empty_and_overlong_patterns_are_rejected() {
        let found = diagnostics(&with_condition(r#"path ~= """#));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, Code::InvalidRegex);
        let long = format!(r#"path ~= "a{}""#, "[b]".repeat(400));
        let found = diagnostics(&with_condition(&long));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, Code::InvalidRegex);
        assert!(
            found[0].message.contains("1201 bytes"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn look_around_is_pointed_at_precisely() {
        let text = with_condition(r#"path ~= "/api/(?!internal)[a-z]+(?<=x)""#);
        let found = diagnostics(&text);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found.iter().all(|d| d.code == Code::InvalidRegex));
        assert_eq!(slice(&text, found[0].primary_span()), "(?!");
        assert!(found[0].message.contains("negative look-ahead"));
        assert_eq!(slice(&text, found[1].primary_span()), "(?<=");
        assert!(found[1].message.contains("look-behind"));
    }

    #[test]
    fn backreferences_are_rejected() {
        let text = with_condition(r#"header x-pair ~= "(a+)-\1""#);
        let found = diagnostics(&text);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].message.contains("backreferences"));
        assert_eq!(slice(&text, found[0].primary_span()), r"\1");
    }

    #[test]
    fn escapes_in_the_string_make_the_span_the_whole_string() {
        let text = with_condition(r#"path ~= "\u{2f}(?=x)""#);
        let found = diagnostics(&text);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(slice(&text, found[0].primary_span()), r#""\u{2f}(?=x)""#);
    }

    #[test]
    fn parse_errors_carry_the_parsers_message() {
        let text = with_condition(r#"path ~= "/api/(v1""#);
        let found = diagnostics(&text);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].code, Code::InvalidRegex);
        assert!(
            found[0].message.contains("unclosed group"),
            "{}",
            found[0].message
        );
        assert_eq!(slice(&text, found[0].primary_span()), "(");
        let found = diagnostics(&with_condition(r#"path ~= "*x""#));
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].code, Code::InvalidRegex);
    }

    #[test]
    fn a_literal_regex_suggests_an_exact_match() {
        let text = with_condition(r#"path ~= "^/api/v1$""#);
        let found = diagnostics(&text);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].code, Code::RegexIsLiteral);
        assert_eq!(
            found[0].message,
            "this regex matches only `/api/v1`; use =="
        );
        assert!(fixed(&text, &found[0]).contains(r#"when path == "/api/v1" -> v1"#));
    }

    #[test]
    fn a_literal_followed_by_dot_star_suggests_a_prefix_match() {
        for pattern in [r#""/api/.*""#, r#""(?s)/api/.*$""#, r#""/api/(.*)""#] {
            let text = with_condition(&format!("header x-path   ~=  {pattern}"));
            let found = diagnostics(&text);
            assert_eq!(found.len(), 1, "{pattern}: {found:#?}");
            assert_eq!(found[0].code, Code::RegexIsLiteral);
            assert!(
                fixed(&text, &found[0]).contains(r#"when header x-path ^= "/api/" -> v1"#),
                "{pattern}: {}",
                fixed(&text, &found[0])
            );
        }
    }

    #[test]
    fn literal_suggestions_escape_quotes_and_backslashes() {
        let text = with_condition(r#"query q ~= "a\"b\\\\c""#);
        let found = diagnostics(&text);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            fixed(&text, &found[0]).contains(r#"query q == "a\"b\\c""#),
            "{}",
            fixed(&text, &found[0])
        );
    }

    #[test]
    fn regexes_in_policies_and_rule_bodies_are_checked() {
        let text = "policy p { routes { when path ~= \"(?=a)\" -> v1 { timeout 1s } } }\nservice s { routes { when path ~= \"x\" -> v1 } }";
        let codes: Vec<Code> = diagnostics(text).iter().map(|d| d.code).collect();
        assert_eq!(codes, vec![Code::InvalidRegex, Code::RegexIsLiteral]);
    }

    #[test]
    fn scanner_ignores_escaped_and_class_parentheses() {
        assert!(unsupported_constructs(r"\(?=x").is_empty());
        assert!(unsupported_constructs(r"[(?!][[:alpha:]]").is_empty());
        assert!(unsupported_constructs(r"[]\1]").is_empty());
        assert_eq!(unsupported_constructs(r"[]](?=x)").len(), 1);
    }
}
