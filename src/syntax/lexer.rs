//! The lexer: text to tokens with byte offsets (logos).
//!
//! Comments never reach the parser: the lexer keeps them beside the token stream, with
//! their spans, for the formatter. Characters that start no token, unterminated strings
//! and malformed numbers become diagnostics and are skipped, so the parser sees a clean
//! stream and reports only grammar errors. Keywords are reserved in the token stream but
//! the grammar accepts most of them as names where a name is expected.

use logos::Logos;

use crate::diagnostics::{Code, Diagnostic};
use crate::source::{FileId, Span};

#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq)]
#[logos(skip r"[ \t\r\n\f]+")]
pub enum Tok<'s> {
    #[regex(r"//[^\n]*", allow_greedy = true)]
    Comment(&'s str),

    #[token("namespace")]
    Namespace,
    #[token("import")]
    Import,
    #[token("service")]
    Service,
    #[token("policy")]
    Policy,
    #[token("in")]
    In,
    #[token("host")]
    Host,
    #[token("port")]
    Port,
    #[token("subset")]
    Subset,
    #[token("accepts")]
    Accepts,
    #[token("idempotency-key")]
    IdempotencyKey,
    #[token("timeout")]
    Timeout,
    #[token("retry")]
    Retry,
    #[token("x")]
    X,
    #[token("on")]
    On,
    #[token("off")]
    Off,
    #[token("use")]
    Use,
    #[token("routes")]
    Routes,
    #[token("when")]
    When,
    #[token("else")]
    Else,
    #[token("and")]
    And,
    #[token("or")]
    Or,
    #[token("header")]
    Header,
    #[token("path")]
    Path,
    #[token("method")]
    Method,
    #[token("query")]
    Query,
    #[token("present")]
    Present,
    #[token("pool")]
    Pool,
    #[token("connections")]
    Connections,
    #[token("pending")]
    Pending,
    #[token("requests")]
    Requests,
    #[token("per-connection")]
    PerConnection,
    #[token("unlimited")]
    Unlimited,
    #[token("eject")]
    Eject,
    #[token("after")]
    After,
    #[token("consecutive")]
    Consecutive,
    #[token("every")]
    Every,
    #[token("for")]
    For,
    #[token("max")]
    Max,
    #[token("min-healthy")]
    MinHealthy,
    #[token("mirror")]
    Mirror,
    #[token("fault")]
    Fault,
    #[token("delay")]
    Delay,
    #[token("abort")]
    Abort,
    #[token("grpc")]
    Grpc,
    #[token("unscoped")]
    Unscoped,
    #[token("rewrite")]
    Rewrite,
    #[token("redirect")]
    Redirect,
    #[token("respond")]
    Respond,
    #[token("request-headers")]
    RequestHeaders,
    #[token("response-headers")]
    ResponseHeaders,
    #[token("set")]
    Set,
    #[token("add")]
    Add,
    #[token("remove")]
    Remove,
    #[token("cors")]
    Cors,
    #[token("origin")]
    Origin,
    #[token("credentials")]
    Credentials,
    #[token("max-age")]
    MaxAge,
    #[token("allow-methods")]
    AllowMethods,
    #[token("allow-headers")]
    AllowHeaders,
    #[token("expose-headers")]
    ExposeHeaders,
    #[token("balance")]
    Balance,
    #[token("hash")]
    Hash,
    #[token("cookie")]
    Cookie,
    #[token("ttl")]
    Ttl,
    #[token("ring")]
    Ring,
    #[token("maglev")]
    Maglev,
    #[token("warmup")]
    Warmup,
    #[token("locality")]
    Locality,
    #[token("failover")]
    Failover,
    #[token("distribute")]
    Distribute,
    #[token("from")]
    From,
    #[token("to")]
    To,
    #[token("tls")]
    Tls,
    #[token("cert")]
    Cert,
    #[token("sni")]
    Sni,
    #[token("external")]
    External,
    #[token("resolve")]
    Resolve,
    #[token("location")]
    Location,
    #[token("address")]
    Address,
    #[token("endpoint")]
    Endpoint,
    #[token("mesh")]
    Mesh,
    #[token("egress")]
    Egress,
    #[token("gateway")]
    Gateway,
    #[token("selector")]
    Selector,
    #[token("listen")]
    Listen,
    #[token("expose")]
    Expose,
    #[token("authority")]
    Authority,
    #[token("scheme")]
    Scheme,
    #[token("named")]
    Named,
    #[token("with")]
    With,
    #[token("code")]
    Code,
    #[token("body")]
    Body,
    #[token("source-ip")]
    SourceIp,
    #[token("shadow-safe")]
    ShadowSafe,
    #[token("sidecar")]
    Sidecar,
    #[token("h2-upgrade")]
    H2Upgrade,

    #[token("->")]
    Arrow,
    #[token("==")]
    EqEq,
    #[token("^=")]
    PrefixEq,
    #[token("~=")]
    RegexEq,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token(",")]
    Comma,
    #[token(":")]
    Colon,
    #[token(".")]
    Dot,
    #[token("/")]
    Slash,
    #[token("*")]
    Star,

    #[regex(r"[A-Za-z_]([A-Za-z0-9_-]*[A-Za-z0-9_])?", priority = 1)]
    Ident(&'s str),
    /// A status class such as `5xx`.
    #[regex(r"[1-5]xx", priority = 5)]
    StatusClass(&'s str),
    #[regex(r"[0-9]+", priority = 5)]
    Int(&'s str),
    #[regex(r"[0-9]+(\.[0-9]+)?(ms|s|m|h|us|µs|ns)", priority = 5)]
    Duration(&'s str),
    #[regex(r"[0-9]+(\.[0-9]+)?%", priority = 5)]
    Percent(&'s str),
    /// A string with its quotes; escapes are decoded by the parser.
    #[regex(r#""([^"\\\n]|\\[^\n])*""#)]
    Str(&'s str),

    /// A string that reaches the end of the line: reported, never parsed.
    #[regex(r#""([^"\\\n]|\\[^\n])*"#, priority = 1)]
    UnterminatedStr(&'s str),
    /// Digits run into letters or dots (`3sec`, `1.2.3`): reported, never parsed.
    #[regex(r"[0-9][0-9A-Za-z_.]*", priority = 1)]
    BadNumber(&'s str),
}

impl Tok<'_> {
    /// How the token reads in "expected ..." lists and in the formatter.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("name `{s}`"),
            Tok::StatusClass(s) | Tok::Int(s) | Tok::Duration(s) | Tok::Percent(s) => {
                format!("`{s}`")
            }
            Tok::Str(s) => format!("string {s}"),
            Tok::Comment(_) => "a comment".to_string(),
            Tok::UnterminatedStr(_) | Tok::BadNumber(_) => "a malformed token".to_string(),
            other => format!("`{}`", other.keyword_text().unwrap_or("?")),
        }
    }

    /// The text of a keyword or punctuation token.
    pub fn keyword_text(&self) -> Option<&'static str> {
        Some(match self {
            Tok::Namespace => "namespace",
            Tok::Import => "import",
            Tok::Service => "service",
            Tok::Policy => "policy",
            Tok::In => "in",
            Tok::Host => "host",
            Tok::Port => "port",
            Tok::Subset => "subset",
            Tok::Accepts => "accepts",
            Tok::IdempotencyKey => "idempotency-key",
            Tok::Timeout => "timeout",
            Tok::Retry => "retry",
            Tok::X => "x",
            Tok::On => "on",
            Tok::Off => "off",
            Tok::Use => "use",
            Tok::Routes => "routes",
            Tok::When => "when",
            Tok::Else => "else",
            Tok::And => "and",
            Tok::Or => "or",
            Tok::Header => "header",
            Tok::Path => "path",
            Tok::Method => "method",
            Tok::Query => "query",
            Tok::Present => "present",
            Tok::Pool => "pool",
            Tok::Connections => "connections",
            Tok::Pending => "pending",
            Tok::Requests => "requests",
            Tok::PerConnection => "per-connection",
            Tok::Unlimited => "unlimited",
            Tok::Eject => "eject",
            Tok::After => "after",
            Tok::Consecutive => "consecutive",
            Tok::Every => "every",
            Tok::For => "for",
            Tok::Max => "max",
            Tok::MinHealthy => "min-healthy",
            Tok::Mirror => "mirror",
            Tok::Fault => "fault",
            Tok::Delay => "delay",
            Tok::Abort => "abort",
            Tok::Grpc => "grpc",
            Tok::Unscoped => "unscoped",
            Tok::Rewrite => "rewrite",
            Tok::Redirect => "redirect",
            Tok::Respond => "respond",
            Tok::RequestHeaders => "request-headers",
            Tok::ResponseHeaders => "response-headers",
            Tok::Set => "set",
            Tok::Add => "add",
            Tok::Remove => "remove",
            Tok::Cors => "cors",
            Tok::Origin => "origin",
            Tok::Credentials => "credentials",
            Tok::MaxAge => "max-age",
            Tok::AllowMethods => "allow-methods",
            Tok::AllowHeaders => "allow-headers",
            Tok::ExposeHeaders => "expose-headers",
            Tok::Balance => "balance",
            Tok::Hash => "hash",
            Tok::Cookie => "cookie",
            Tok::Ttl => "ttl",
            Tok::Ring => "ring",
            Tok::Maglev => "maglev",
            Tok::Warmup => "warmup",
            Tok::Locality => "locality",
            Tok::Failover => "failover",
            Tok::Distribute => "distribute",
            Tok::From => "from",
            Tok::To => "to",
            Tok::Tls => "tls",
            Tok::Cert => "cert",
            Tok::Sni => "sni",
            Tok::External => "external",
            Tok::Resolve => "resolve",
            Tok::Location => "location",
            Tok::Address => "address",
            Tok::Endpoint => "endpoint",
            Tok::Mesh => "mesh",
            Tok::Egress => "egress",
            Tok::Gateway => "gateway",
            Tok::Selector => "selector",
            Tok::Listen => "listen",
            Tok::Expose => "expose",
            Tok::Authority => "authority",
            Tok::Scheme => "scheme",
            Tok::Named => "named",
            Tok::With => "with",
            Tok::Code => "code",
            Tok::Body => "body",
            Tok::SourceIp => "source-ip",
            Tok::ShadowSafe => "shadow-safe",
            Tok::Sidecar => "sidecar",
            Tok::H2Upgrade => "h2-upgrade",
            Tok::Arrow => "->",
            Tok::EqEq => "==",
            Tok::PrefixEq => "^=",
            Tok::RegexEq => "~=",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::Comma => ",",
            Tok::Colon => ":",
            Tok::Dot => ".",
            Tok::Slash => "/",
            Tok::Star => "*",
            _ => return None,
        })
    }
}

/// Keywords the grammar also reads as names where a name must stand (its `SoftKeyword`
/// rule lists the same words).
pub const SOFT_KEYWORDS: &[&str] = &[
    "x",
    "on",
    "off",
    "in",
    "present",
    "unlimited",
    "after",
    "consecutive",
    "every",
    "for",
    "max",
    "min-healthy",
    "connections",
    "pending",
    "requests",
    "per-connection",
    "header",
    "path",
    "method",
    "query",
    "host",
    "port",
    "timeout",
    "retry",
    "subset",
    "routes",
    "pool",
    "eject",
    "policy",
    "service",
    "mirror",
    "fault",
    "delay",
    "abort",
    "grpc",
    "unscoped",
    "rewrite",
    "redirect",
    "respond",
    "request-headers",
    "response-headers",
    "set",
    "add",
    "remove",
    "cors",
    "origin",
    "credentials",
    "max-age",
    "allow-methods",
    "allow-headers",
    "expose-headers",
    "balance",
    "hash",
    "cookie",
    "ttl",
    "ring",
    "maglev",
    "warmup",
    "locality",
    "failover",
    "distribute",
    "tls",
    "cert",
    "sni",
    "external",
    "resolve",
    "location",
    "address",
    "endpoint",
    "mesh",
    "egress",
    "sidecar",
    "gateway",
    "selector",
    "listen",
    "expose",
    "authority",
    "scheme",
    "named",
    "with",
    "code",
    "body",
];

/// Whether a word is a keyword the grammar never reads as a name, so that a name or a
/// bare value spelt like it must be quoted.
pub fn is_reserved(word: &str) -> bool {
    let mut lexer = Tok::lexer(word);
    let keyword = match (lexer.next(), lexer.next()) {
        (Some(Ok(tok)), None) => tok.keyword_text(),
        _ => None,
    };
    keyword.is_some_and(|k| k == word && k.starts_with(|c: char| c.is_ascii_alphabetic()))
        && !SOFT_KEYWORDS.contains(&word)
}

/// A `//` comment, kept for the formatter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub span: Span,
    pub text: String,
}

/// Lexical errors after this many are not reported; the rest of the file is skipped.
const MAX_LEX_ERRORS: usize = 100;

/// The token stream the parser pulls from.
pub struct Lexer<'s> {
    base: usize,
    inner: logos::Lexer<'s, Tok<'s>>,
    file: FileId,
    pub comments: Vec<Comment>,
    pub diagnostics: Vec<Diagnostic>,
    /// Where the token stream resumes after each skipped malformed token: a syntax
    /// error there is a follow-up of the lexical one and is not reported.
    pub resume_points: Vec<usize>,
    skipped: bool,
    stopped: bool,
}

impl<'s> Lexer<'s> {
    pub fn new(file: FileId, text: &'s str) -> Lexer<'s> {
        Lexer::at(file, text, 0)
    }

    /// A lexer over a piece of a file that starts at byte `base` of it: every offset
    /// it reports is an offset in the whole file.
    pub fn at(file: FileId, text: &'s str, base: usize) -> Lexer<'s> {
        Lexer {
            base,
            inner: Tok::lexer(text),
            file,
            comments: Vec::new(),
            diagnostics: Vec::new(),
            resume_points: Vec::new(),
            skipped: false,
            stopped: false,
        }
    }

    fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
        self.skipped = true;
    }

    fn end(&mut self) -> Option<<Self as Iterator>::Item> {
        if self.skipped {
            self.resume_points
                .push(self.base + self.inner.source().len());
            self.skipped = false;
        }
        None
    }
}

impl<'s> Iterator for Lexer<'s> {
    type Item = Result<(usize, Tok<'s>, usize), LexError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.diagnostics.len() >= MAX_LEX_ERRORS {
                if !self.stopped {
                    self.stopped = true;
                    if let Some(last) = self.diagnostics.last_mut() {
                        last.notes.push(format!(
                            "after {MAX_LEX_ERRORS} malformed tokens the rest of the file was not read"
                        ));
                    }
                }
                return self.end();
            }
            let Some(tok) = self.inner.next() else {
                return self.end();
            };
            let range = self.inner.span();
            let range = range.start + self.base..range.end + self.base;
            let span = Span::new(self.file, range.start, range.end);
            match tok {
                Ok(Tok::Comment(text)) => self.comments.push(Comment {
                    span,
                    text: text.trim_end().to_string(),
                }),
                Ok(Tok::UnterminatedStr(_)) => self.report(
                    Diagnostic::new(Code::UnterminatedString, span, "this string is not closed")
                        .primary_text("the string starts here and runs to the end of the line")
                        .help("add a closing `\"` on the same line"),
                ),
                Ok(Tok::BadNumber(text)) => {
                    let diagnostic = bad_number(span, text);
                    self.report(diagnostic)
                }
                Ok(tok) => {
                    if self.skipped {
                        self.resume_points.push(range.start);
                        self.skipped = false;
                    }
                    return Some(Ok((range.start, tok, range.end)));
                }
                Err(()) => {
                    let c = self.inner.slice().chars().next().unwrap_or('?');
                    self.report(
                        Diagnostic::new(
                            Code::InvalidCharacter,
                            span,
                            format!("unexpected character `{}`", c.escape_debug()),
                        )
                        .primary_text("no token starts with this character")
                        .help("text with this character belongs in double quotes"),
                    )
                }
            }
        }
    }
}

fn bad_number(span: Span, text: &str) -> Diagnostic {
    let digits = text.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
    let help = if digits.is_empty() || text.matches('.').count() > 1 {
        "write a number (`8080`), a duration (`3s`), or put the text in double quotes".to_string()
    } else {
        format!("`{digits}` is not a unit: durations use ms, s, m or h (`3s`, `250ms`)")
    };
    Diagnostic::new(
        Code::InvalidLiteral,
        span,
        format!("malformed number `{text}`"),
    )
    .primary_text("not a number, duration or percentage")
    .help(help)
}

/// The parser's view of a lexical error; never produced, since the lexer reports its
/// errors as diagnostics and skips the offending text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexError;

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Tok<'_>> {
        Lexer::new(FileId(0), text)
            .map(|t| t.expect("no lex error").1)
            .collect()
    }

    #[test]
    fn numbers_durations_percentages_and_status_classes() {
        assert_eq!(
            kinds("retry 2 x 1s on 5xx, retriable-4xx 90% 1.5s 250ms"),
            vec![
                Tok::Retry,
                Tok::Int("2"),
                Tok::X,
                Tok::Duration("1s"),
                Tok::On,
                Tok::StatusClass("5xx"),
                Tok::Comma,
                Tok::Ident("retriable-4xx"),
                Tok::Percent("90%"),
                Tok::Duration("1.5s"),
                Tok::Duration("250ms"),
            ]
        );
    }

    #[test]
    fn keywords_need_whole_words() {
        assert_eq!(
            kinds("service services x-role idempotency-key"),
            vec![
                Tok::Service,
                Tok::Ident("services"),
                Tok::Ident("x-role"),
                Tok::IdempotencyKey
            ]
        );
    }

    #[test]
    fn reserved_words_are_the_keywords_that_are_never_names() {
        assert!(is_reserved("when") && is_reserved("shadow-safe") && is_reserved("from"));
        assert!(!is_reserved("host") && !is_reserved("reviews") && !is_reserved("->"));
    }

    #[test]
    fn a_name_never_ends_in_a_hyphen_so_arrows_need_no_spaces() {
        assert_eq!(
            kinds("else->v1"),
            vec![Tok::Else, Tok::Arrow, Tok::Ident("v1")]
        );
    }

    #[test]
    fn comments_are_kept_beside_the_tokens() {
        let mut lexer = Lexer::new(FileId(0), "a // one\n// two\nb");
        let tokens: Vec<_> = lexer.by_ref().map(|t| t.unwrap().1).collect();
        assert_eq!(tokens, vec![Tok::Ident("a"), Tok::Ident("b")]);
        let texts: Vec<_> = lexer.comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, vec!["// one", "// two"]);
        assert_eq!(lexer.comments[0].span.start, 2);
    }

    #[test]
    fn strings_keep_their_escapes_and_unterminated_ones_are_reported() {
        assert_eq!(kinds(r#""a \"b\"""#), vec![Tok::Str(r#""a \"b\"""#)]);
        let mut lexer = Lexer::new(FileId(0), "\"open\nnext");
        let tokens: Vec<_> = lexer.by_ref().map(|t| t.unwrap().1).collect();
        assert_eq!(tokens, vec![Tok::Ident("next")]);
        assert_eq!(lexer.diagnostics[0].code, Code::UnterminatedString);
    }

    #[test]
    fn bad_characters_and_numbers_become_diagnostics() {
        let mut lexer = Lexer::new(FileId(0), "a $ 3sec b");
        let tokens: Vec<_> = lexer.by_ref().map(|t| t.unwrap().1).collect();
        assert_eq!(tokens, vec![Tok::Ident("a"), Tok::Ident("b")]);
        let codes: Vec<_> = lexer.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, vec![Code::InvalidCharacter, Code::InvalidLiteral]);
    }

    #[test]
    fn lexing_stops_after_too_many_errors() {
        let text = "$".repeat(10_000);
        let mut lexer = Lexer::new(FileId(0), &text);
        assert_eq!(lexer.by_ref().count(), 0);
        assert_eq!(lexer.diagnostics.len(), MAX_LEX_ERRORS);
    }
}
