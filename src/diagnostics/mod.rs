//! The one diagnostic value that every stage returns and every front end delivers.
//!
//! A `Diagnostic` has a stable `Code`, a severity, a message in the user's terms, labels
//! (exactly one primary: the smallest span that shows the problem; secondaries for the
//! other half of a conflict), notes, a help line and, where the fix is clear, edits that
//! the language server offers as a quick fix. `render` turns diagnostics into text for
//! people (ariadne) and JSON or SARIF for machines.

pub mod codes;
pub mod flags;
pub mod render;

pub use codes::Code;

use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
    pub primary: bool,
}

/// A text replacement in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub replacement: String,
}

/// An edit that fixes the diagnostic, with a title for the editor's menu.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<Edit>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub labels: Vec<Label>,
    pub notes: Vec<String>,
    pub help: Option<String>,
    pub fixes: Vec<Fix>,
}

impl Diagnostic {
    /// A diagnostic with the code's own severity and a primary label.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            labels: vec![Label {
                span,
                message: String::new(),
                primary: true,
            }],
            notes: Vec::new(),
            help: None,
            fixes: Vec::new(),
        }
    }

    /// Text on the primary label.
    pub fn primary_text(mut self, text: impl Into<String>) -> Diagnostic {
        if let Some(label) = self.labels.iter_mut().find(|l| l.primary) {
            label.message = text.into();
        }
        self
    }

    pub fn label(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: text.into(),
            primary: false,
        });
        self
    }

    pub fn note(mut self, text: impl Into<String>) -> Diagnostic {
        self.notes.push(text.into());
        self
    }

    pub fn help(mut self, text: impl Into<String>) -> Diagnostic {
        self.help = Some(text.into());
        self
    }

    pub fn fix(mut self, title: impl Into<String>, edits: Vec<Edit>) -> Diagnostic {
        self.fixes.push(Fix {
            title: title.into(),
            edits,
        });
        self
    }

    /// Help that suggests `near` for a misspelt word at `span`, and the fix that writes it.
    pub fn did_you_mean(self, span: Span, near: &str, title: impl Into<String>) -> Diagnostic {
        self.help(format!("did you mean `{near}`?")).fix(
            title,
            vec![Edit {
                span,
                replacement: near.to_string(),
            }],
        )
    }

    pub fn primary_span(&self) -> Span {
        self.labels
            .iter()
            .find(|l| l.primary)
            .map(|l| l.span)
            .expect("every diagnostic is built with a primary label")
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sorts diagnostics by file, position and code, so that output never depends on the
/// order in which checks ran.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        let (sa, sb) = (a.primary_span(), b.primary_span());
        (sa.file, sa.start, sa.end, a.code, &a.message)
            .cmp(&(sb.file, sb.start, sb.end, b.code, &b.message))
    });
}
