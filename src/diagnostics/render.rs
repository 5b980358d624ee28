//! Diagnostics for people (ariadne) and for machines (JSON, SARIF 2.1.0).
//!
//! Rendering never changes what a diagnostic says: the same value is drawn as a report
//! with source excerpts, or written as JSON with 1-based lines and columns (columns in
//! characters), or as a SARIF log for code-scanning tools.

use std::collections::HashMap;
use std::ops::Range;

use ariadne::{
    CharSet, Color, Config, IndexType, Label as AriadneLabel, Report, ReportKind, Source,
};
use serde::Serialize;

use super::{Diagnostic, Severity};
use crate::source::{SourceMap, Span};

/// How a human report is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
    /// ASCII box drawing instead of Unicode (tests, dumb terminals).
    pub ascii: bool,
}

/// Renders diagnostics as ariadne reports, one after another.
pub fn human(diagnostics: &[Diagnostic], sources: &SourceMap, style: Style) -> String {
    let mut files: HashMap<String, Source<&str>> = HashMap::new();
    for label in diagnostics.iter().flat_map(|d| &d.labels) {
        let file = sources.get(label.span.file);
        files
            .entry(file.name.clone())
            .or_insert_with(|| Source::from(file.text.as_str()));
    }
    let mut cache = ariadne::FnCache::new(|id: &String| {
        Err(Box::new(format!("unknown file {id}")) as Box<dyn std::fmt::Debug>)
    })
    .with_sources(files);
    let mut out = Vec::new();
    for diagnostic in diagnostics {
        if touches_long_line(diagnostic, sources) {
            out.extend(without_excerpt(diagnostic, sources).into_bytes());
            continue;
        }
        if report(diagnostic, sources, style)
            .write(&mut cache, &mut out)
            .is_err()
        {
            out.extend(one_line(diagnostic, sources).into_bytes());
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Lines longer than this are not quoted: a generated or minified file would print the
/// whole of a megabyte line for every diagnostic on it.
const LONGEST_QUOTED_LINE: usize = 1_000;

fn touches_long_line(diagnostic: &Diagnostic, sources: &SourceMap) -> bool {
    diagnostic.labels.iter().any(|label| {
        let file = sources.get(label.span.file);
        let line = file.lines.line_of(label.span.start as usize);
        let start = file.lines.line_start(line);
        let end = if line + 1 < file.lines.line_count() {
            file.lines.line_start(line + 1)
        } else {
            file.text.len()
        };
        end - start > LONGEST_QUOTED_LINE
    })
}

/// The report without source excerpts: location, labels, notes and help.
fn without_excerpt(diagnostic: &Diagnostic, sources: &SourceMap) -> String {
    let mut text = one_line(diagnostic, sources);
    for label in &diagnostic.labels {
        let at = Location::of(sources, label.span);
        if !label.message.is_empty() {
            text.push_str(&format!(
                "  {}:{}:{}: {}\n",
                at.file, at.line, at.column, label.message
            ));
        }
    }
    text.push_str(&format!(
        "  (the line is over {LONGEST_QUOTED_LINE} characters long and is not quoted)\n"
    ));
    for note in &diagnostic.notes {
        text.push_str(&format!("  note: {note}\n"));
    }
    if let Some(help) = &diagnostic.help {
        text.push_str(&format!("  help: {help}\n"));
    }
    text
}

type AriadneSpan = (String, Range<usize>);

fn report<'a>(
    diagnostic: &'a Diagnostic,
    sources: &SourceMap,
    style: Style,
) -> Report<'a, AriadneSpan> {
    let primary = diagnostic.primary_span();
    let kind = match diagnostic.severity {
        Severity::Error => ReportKind::Error,
        Severity::Warning => ReportKind::Warning,
    };
    let config = Config::default()
        .with_color(style.color)
        .with_char_set(if style.ascii {
            CharSet::Ascii
        } else {
            CharSet::Unicode
        })
        .with_index_type(IndexType::Byte);
    let mut builder = Report::build(kind, ariadne_span(sources, primary))
        .with_config(config)
        .with_code(diagnostic.code)
        .with_message(&diagnostic.message);
    // ariadne draws labels in the order given; in source order they share one excerpt.
    let mut labels: Vec<_> = diagnostic.labels.iter().collect();
    labels.sort_by_key(|l| (l.span.file, l.span.start, l.span.end));
    for label in labels {
        let mut l = AriadneLabel::new(ariadne_span(sources, label.span));
        if !label.message.is_empty() {
            l = l.with_message(&label.message);
        }
        if style.color {
            l = l.with_color(if label.primary {
                match diagnostic.severity {
                    Severity::Error => Color::Red,
                    Severity::Warning => Color::Yellow,
                }
            } else {
                Color::Blue
            });
        }
        builder = builder.with_label(l);
    }
    for note in &diagnostic.notes {
        builder = builder.with_note(note);
    }
    if let Some(help) = &diagnostic.help {
        builder = builder.with_help(help);
    }
    builder.finish()
}

fn ariadne_span(sources: &SourceMap, span: Span) -> AriadneSpan {
    let file = sources.get(span.file);
    let len = file.text.len();
    let start = (span.start as usize).min(len);
    let end = (span.end as usize).clamp(start, len);
    (file.name.clone(), start..end)
}

/// `file:line:column: severity[CODE]: message` — for logs and fallbacks.
pub fn one_line(diagnostic: &Diagnostic, sources: &SourceMap) -> String {
    let at = Location::of(sources, diagnostic.primary_span());
    format!(
        "{}:{}:{}: {}[{}]: {}\n",
        at.file,
        at.line,
        at.column,
        diagnostic.severity.as_str(),
        diagnostic.code,
        diagnostic.message
    )
}

/// A span as 1-based lines and columns (characters).
#[derive(Serialize)]
struct Location {
    file: String,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
}

impl Location {
    fn of(sources: &SourceMap, span: Span) -> Location {
        let file = sources.get(span.file);
        let start = file.lines.position(&file.text, span.start as usize);
        let end = file.lines.position(&file.text, span.end as usize);
        Location {
            file: file.name.clone(),
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Code;
    use crate::source::{Origin, Span};

    #[test]
    fn long_lines_are_not_quoted() {
        let mut sources = SourceMap::new();
        let text = format!("service a {{ {} }}", "x ".repeat(5_000));
        let id = sources.add(Origin::Std("t".into()), "t.route".into(), text);
        let diagnostic =
            Diagnostic::new(Code::UnexpectedToken, Span::new(id, 12, 13), "unexpected")
                .help("remove it");
        let out = human(
            &[diagnostic],
            &sources,
            Style {
                color: false,
                ascii: true,
            },
        );
        assert!(out.len() < 500, "{}", out.len());
        assert!(
            out.contains("t.route:1:13") && out.contains("help: remove it"),
            "{out}"
        );
    }
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'static str,
    severity: &'static str,
    message: &'a str,
    #[serde(flatten)]
    location: Location,
    labels: Vec<JsonLabel<'a>>,
    notes: &'a [String],
    help: Option<&'a str>,
    fixes: Vec<JsonFix<'a>>,
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    #[serde(flatten)]
    location: Location,
    message: &'a str,
    primary: bool,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    title: &'a str,
    edits: Vec<JsonEdit<'a>>,
}

#[derive(Serialize)]
struct JsonEdit<'a> {
    #[serde(flatten)]
    location: Location,
    replacement: &'a str,
}

/// A JSON array with one object per diagnostic.
pub fn json(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
    let items: Vec<JsonDiagnostic<'_>> = diagnostics
        .iter()
        .map(|d| JsonDiagnostic {
            code: d.code.as_str(),
            severity: d.severity.as_str(),
            message: &d.message,
            location: Location::of(sources, d.primary_span()),
            labels: d
                .labels
                .iter()
                .map(|l| JsonLabel {
                    location: Location::of(sources, l.span),
                    message: &l.message,
                    primary: l.primary,
                })
                .collect(),
            notes: &d.notes,
            help: d.help.as_deref(),
            fixes: d
                .fixes
                .iter()
                .map(|f| JsonFix {
                    title: &f.title,
                    edits: f
                        .edits
                        .iter()
                        .map(|e| JsonEdit {
                            location: Location::of(sources, e.span),
                            replacement: &e.replacement,
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    serde_json::to_string_pretty(&items).expect("diagnostics serialise to JSON") + "\n"
}

/// A SARIF 2.1.0 log with one run of routec.
pub fn sarif(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
    use serde_json::json;
    let rules: Vec<_> = super::Code::ALL
        .iter()
        .map(|code| {
            json!({
                "id": code.as_str(),
                "shortDescription": { "text": code.summary() },
                "fullDescription": { "text": code.explanation() },
                "defaultConfiguration": { "level": sarif_level(code.severity()) },
            })
        })
        .collect();
    let region = |span: Span| {
        let at = Location::of(sources, span);
        json!({
            "physicalLocation": {
                "artifactLocation": { "uri": at.file },
                "region": {
                    "startLine": at.line, "startColumn": at.column,
                    "endLine": at.end_line, "endColumn": at.end_column,
                }
            }
        })
    };
    let results: Vec<_> = diagnostics
        .iter()
        .map(|d| {
            let mut text = d.message.clone();
            if let Some(help) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(help);
            }
            json!({
                "ruleId": d.code.as_str(),
                "level": sarif_level(d.severity),
                "message": { "text": text },
                "locations": [region(d.primary_span())],
                "relatedLocations": d.labels.iter().filter(|l| !l.primary).map(|l| {
                    let mut r = region(l.span);
                    r["message"] = json!({ "text": l.message });
                    r
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "routec",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&log).expect("SARIF serialises to JSON") + "\n"
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}
