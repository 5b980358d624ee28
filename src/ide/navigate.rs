//! Go to definition, find references and rename, on the symbol index.
//!
//! A rename is refused rather than allowed to change meaning: the new name must be a
//! name the lexer reads as one (a DNS-1123 label that starts with a letter, not a
//! reserved keyword), must not clash with a sibling (a service of the same namespace, a
//! subset of the same service, a policy visible in the same file, an existing
//! namespace), and every other reference must resolve afterwards to what it resolves to
//! now (a service found by name from another namespace, a one-word destination that a
//! new subset name would capture). The edited files are parsed again as a last guard.
//!
//! Shorthand subsets: `subset v1` declares the subset `v1` *and* selects the pods
//! labelled `version: v1`, so renaming the name alone would silently retarget the
//! subset. The declaration is rewritten to the label form instead: `subset v1` becomes
//! `subset stable { version: v1 }`; in a list (`subset v1, v2`) the name is taken out of
//! the list and the label form is added as its own statement on the next line.

use std::collections::{HashMap, HashSet};

use super::symbols::{Role, Symbol, SymbolIndex};
use super::{clamp_offset, is_std, source_text};
use crate::diagnostics::Edit;
use crate::source::{FileId, Span};
use crate::syntax::ast::{Stmt, StmtKind, SubsetDecl};
use crate::Analysis;

pub(crate) fn definition(analysis: &Analysis, file: FileId, offset: usize) -> Option<Span> {
    let offset = clamp_offset(source_text(analysis, file)?, offset);
    let index = SymbolIndex::for_file(analysis, file);
    let symbol = index.at(file, offset)?.symbol.clone()?;
    index.definition(&symbol)
}

pub(crate) fn references(
    analysis: &Analysis,
    file: FileId,
    offset: usize,
    include_declaration: bool,
) -> Vec<Span> {
    let Some(text) = source_text(analysis, file) else {
        return Vec::new();
    };
    let offset = clamp_offset(text, offset);
    let index = SymbolIndex::for_all(analysis);
    let Some(symbol) = index.at(file, offset).and_then(|o| o.symbol.clone()) else {
        return Vec::new();
    };
    index
        .occurrences_of(&symbol)
        .into_iter()
        .filter(|o| include_declaration || !o.is_definition())
        .map(|o| o.span)
        .collect()
}

pub(crate) fn rename(
    analysis: &Analysis,
    file: FileId,
    offset: usize,
    new_name: &str,
) -> Result<Vec<Edit>, String> {
    let text = source_text(analysis, file).ok_or("this file is not part of the compilation")?;
    let offset = clamp_offset(text, offset);
    let index = SymbolIndex::for_all(analysis);
    let occurrence = index
        .at(file, offset)
        .ok_or("there is no service, subset, policy or namespace name here to rename")?;
    let written = analysis.sources().slice(occurrence.span);
    let symbol = occurrence.symbol.clone().ok_or_else(|| {
        format!("`{written}` is not declared anywhere, so there is nothing to rename")
    })?;
    if let Symbol::Module(_) = symbol {
        return Err("this names a file: rename the file, then edit the import".to_string());
    }
    check_name(new_name)?;
    let old = index.name_of(&symbol);
    if old == new_name {
        return Ok(Vec::new());
    }
    let occurrences = index.occurrences_of(&symbol);
    if let Some(o) = occurrences.iter().find(|o| is_std(analysis, o.span.file)) {
        return Err(format!(
            "`{old}` is declared in {}, which ships with routec and cannot be edited",
            analysis.sources().get(o.span.file).name
        ));
    }
    check_clash(&index, &symbol, &old, new_name)?;
    let mut edits = Vec::new();
    let mut rewritten: HashSet<Span> = HashSet::new();
    for o in occurrences {
        match o.role {
            Role::ShorthandSubset(stmt) => {
                if rewritten.insert(stmt.span) {
                    edits.extend(shorthand_edits(analysis, stmt, &old, new_name));
                }
            }
            _ => edits.push(Edit {
                span: o.span,
                replacement: new_name.to_string(),
            }),
        }
    }
    edits.sort_by_key(|e| (e.span.file, e.span.start, e.span.end));
    check_still_parses(analysis, &edits, new_name)?;
    Ok(edits)
}

/// Why a new name cannot be written where the old one stands.
fn check_name(name: &str) -> Result<(), String> {
    let problem = if name.is_empty() {
        "a name cannot be empty".to_string()
    } else if name.len() > 63 {
        format!(
            "`{name}` is {} characters long; a name has at most 63",
            name.len()
        )
    } else if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        format!(
            "`{name}` is not a DNS-1123 label: `{}` is not allowed; use lower-case letters, digits and `-`",
            c.escape_debug()
        )
    } else if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        format!("`{name}` must start with a letter (a leading digit would read as a number)")
    } else if name.ends_with('-') {
        format!("`{name}` must end with a letter or digit")
    } else if crate::syntax::lexer::is_reserved(name) {
        format!("`{name}` is a keyword and cannot be a name")
    } else {
        return Ok(());
    };
    Err(problem)
}

fn check_clash(
    index: &SymbolIndex<'_>,
    symbol: &Symbol,
    old: &str,
    new: &str,
) -> Result<(), String> {
    let analysis = index.analysis;
    let services = &analysis.mesh.services;
    match symbol {
        Symbol::Service(renamed) => {
            let namespace = &services[*renamed].namespace;
            if index
                .services_named(new)
                .iter()
                .any(|&j| services[j].namespace == *namespace)
            {
                return Err(format!(
                    "namespace `{namespace}` already has a service `{new}`"
                ));
            }
            for (_, symbols) in index.files() {
                for o in &symbols.occurrences {
                    let (Some(Symbol::Service(target)), Role::Reference { from, bare }) =
                        (&o.symbol, o.role)
                    else {
                        continue;
                    };
                    let from_service = from.and_then(|f| services.get(f));
                    if bare && target == renamed {
                        if let Some(from) = from_service.filter(|s| s.subset(new).is_some()) {
                            return Err(format!(
                                "`{}` has a subset `{new}`, so the destination `{old}` in its routes ({}) would mean that subset",
                                from.name,
                                location(analysis, o.span)
                            ));
                        }
                    }
                    let before = services[*target].name.as_str();
                    let after = if target == renamed { new } else { before };
                    if after != new && after != old {
                        continue;
                    }
                    let from_namespace = from_service.map(|s| s.namespace.as_str());
                    let resolved = lookup_after_rename(
                        index,
                        after,
                        from_namespace.unwrap_or_default(),
                        (*renamed, old, new),
                    );
                    if resolved != Some(*target) {
                        return Err(format!(
                            "`{after}` at {} would no longer find the service `{before}` of namespace `{}`: a destination finds services by name, in its own namespace first, else the only one of that name",
                            location(analysis, o.span),
                            services[*target].namespace
                        ));
                    }
                }
            }
        }
        Symbol::Subset { service, .. } => {
            let owner = &services[*service];
            if owner.subset(new).is_some() {
                return Err(format!("`{}` already has a subset `{new}`", owner.name));
            }
            for (_, symbols) in index.files() {
                for o in &symbols.occurrences {
                    if let (Some(Symbol::Service(_)), Role::Reference { from, bare: true }) =
                        (&o.symbol, o.role)
                    {
                        if from == Some(*service) && analysis.sources().slice(o.span) == new {
                            return Err(format!(
                                "the destination `{new}` in the routes of `{}` ({}) names the service `{new}`; a subset of that name would take its place",
                                owner.name,
                                location(analysis, o.span)
                            ));
                        }
                    }
                }
            }
        }
        Symbol::Policy { file, .. } => {
            let mut clashes: Vec<FileId> = index
                .files()
                .filter_map(|(id, _)| {
                    let visible = index.visible_policies(id)?;
                    (visible.get(old) == Some(file) && visible.contains_key(new)).then_some(id)
                })
                .collect();
            clashes.sort();
            if let Some(first) = clashes.first() {
                return Err(format!(
                    "a policy `{new}` is already visible in {}",
                    analysis.sources().get(*first).name
                ));
            }
        }
        Symbol::Namespace(_) => {
            let exists = services.iter().any(|s| s.namespace == new)
                || !index
                    .occurrences_of(&Symbol::Namespace(new.to_string()))
                    .is_empty();
            if exists {
                return Err(format!(
                    "namespace `{new}` already exists; renaming `{old}` would merge the two"
                ));
            }
        }
        Symbol::Module(_) => {}
    }
    Ok(())
}

/// The service `name` would find from `namespace` once `renamed` is called `new`.
fn lookup_after_rename(
    index: &SymbolIndex<'_>,
    name: &str,
    namespace: &str,
    (renamed, old, new): (usize, &str, &str),
) -> Option<usize> {
    let services = &index.analysis.mesh.services;
    let mut candidates: Vec<usize> = index
        .services_named(name)
        .iter()
        .copied()
        .filter(|&i| !(name == old && i == renamed))
        .collect();
    if name == new {
        candidates.push(renamed);
        candidates.sort_unstable();
    }
    candidates
        .iter()
        .copied()
        .find(|&i| services[i].namespace == namespace)
        .or(match candidates.as_slice() {
            [only] => Some(*only),
            _ => None,
        })
}

/// `file:line` of a span, for messages.
fn location(analysis: &Analysis, span: Span) -> String {
    let file = analysis.sources().get(span.file);
    let position = file.lines.position(&file.text, span.start as usize);
    format!("{}:{}", file.name, position.line)
}

/// Edits that turn the shorthand declaration of `old` in `stmt` into the label form
/// `subset NEW { version: OLD }`, keeping the other names of the list.
fn shorthand_edits(analysis: &Analysis, stmt: &Stmt, old: &str, new: &str) -> Vec<Edit> {
    let StmtKind::Subset(SubsetDecl::Versions(names)) = &stmt.kind else {
        return Vec::new();
    };
    let file = stmt.span.file;
    let labelled = format!("subset {new} {{ version: {old} }}");
    let renamed: Vec<bool> = names.iter().map(|n| n.node == old).collect();
    let Some(first_kept) = renamed.iter().position(|r| !r) else {
        return vec![Edit {
            span: stmt.span,
            replacement: labelled,
        }];
    };
    let delete = |start: u32, end: u32| Edit {
        span: Span::new(file, start as usize, end as usize),
        replacement: String::new(),
    };
    let mut edits = Vec::new();
    if first_kept > 0 {
        edits.push(delete(names[0].span.start, names[first_kept].span.start));
    }
    for k in first_kept + 1..names.len() {
        if renamed[k] {
            edits.push(delete(names[k - 1].span.end, names[k].span.end));
        }
    }
    let text = source_text(analysis, file).unwrap_or_default();
    let insertion = format!("{}{labelled}", separator(text, stmt.span.start as usize));
    match edits.last_mut() {
        Some(last) if last.span.end == stmt.span.end => last.replacement = insertion,
        _ => edits.push(Edit {
            span: Span::new(file, stmt.span.end as usize, stmt.span.end as usize),
            replacement: insertion,
        }),
    }
    edits
}

/// A newline and the indentation of the statement at `start` when it begins its line,
/// else a space.
fn separator(text: &str, start: usize) -> String {
    let start = clamp_offset(text, start);
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let indent = &text[line_start..start];
    if indent.chars().all(|c| c == ' ' || c == '\t') {
        format!("\n{indent}")
    } else {
        " ".to_string()
    }
}

/// Refuses a rename after which an edited file has more syntax errors than before.
fn check_still_parses(analysis: &Analysis, edits: &[Edit], new: &str) -> Result<(), String> {
    let mut by_file: HashMap<FileId, Vec<&Edit>> = HashMap::new();
    for edit in edits {
        by_file.entry(edit.span.file).or_default().push(edit);
    }
    for (file, edits) in by_file {
        let Some(text) = source_text(analysis, file) else {
            continue;
        };
        let edited = apply(text, &edits);
        let before = analysis
            .loaded
            .file(file)
            .map_or(0, |f| f.parsed.diagnostics.len());
        if crate::syntax::parse(file, &edited).diagnostics.len() > before {
            return Err(format!(
                "`{new}` cannot stand everywhere the old name does: {} would not parse",
                analysis.sources().get(file).name
            ));
        }
    }
    Ok(())
}

/// The text with edits (sorted, not overlapping) applied.
pub(crate) fn apply(text: &str, edits: &[&Edit]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for edit in edits {
        let range = edit.span.range();
        if range.start < at || range.end > text.len() {
            continue;
        }
        out.push_str(&text[at..range.start]);
        out.push_str(&edit.replacement);
        at = range.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::test_support::{analyze, analyze_one, file_named, offset_of, texts};

    fn renamed(text: &str, needle: &str, nth: usize, new: &str) -> Result<String, String> {
        let analysis = analyze_one(text);
        let edits = rename(&analysis, FileId(0), offset_of(text, needle, nth, 0), new)?;
        Ok(apply(text, &edits.iter().collect::<Vec<_>>()))
    }

    const REVIEWS: &str = "service reviews {\n  subset v1, v2\n  routes {\n    when header x == \"1\" -> v2\n    else -> v1 90%, v2 10%\n  }\n}\nservice front { routes { else -> reviews.v2 } }\n";

    #[test]
    fn definition_jumps_from_a_reference_to_its_declaration() {
        let analysis = analyze_one(REVIEWS);
        let at = offset_of(REVIEWS, "reviews.v2", 0, 8);
        let span = definition(&analysis, FileId(0), at).expect("v2 is declared");
        assert_eq!(span.start as usize, offset_of(REVIEWS, "v2", 0, 0));
        let service = definition(&analysis, FileId(0), offset_of(REVIEWS, "reviews.", 0, 2));
        assert_eq!(service.map(|s| s.start), Some(8));
        assert_eq!(definition(&analysis, FileId(0), 0), None);
    }

    #[test]
    fn external_services_and_exposed_tables_are_symbols_too() {
        let text = "external payments {\n  host api.payments.example\n  port 443 TLS\n  resolve dns\n}\nexpose shop on gw {\n  host \"*\"\n  routes { else -> payments }\n}\n";
        let analysis = analyze_one(text);
        let reference = offset_of(text, "payments }", 0, 2);
        let span = definition(&analysis, FileId(0), reference).expect("payments is declared");
        assert_eq!(span.start as usize, offset_of(text, "payments {", 0, 0));
        let found = references(&analysis, FileId(0), reference, true);
        assert_eq!(found.len(), 2, "{found:?}");
    }

    #[test]
    fn references_span_files_and_may_include_the_declaration() {
        let analysis = analyze(&[
            (
                "main.route",
                "import \"lib.route\"\nservice a { use p }\nservice b { use p }",
            ),
            ("lib.route", "policy p { timeout 1s }"),
        ]);
        let lib = file_named(&analysis, "lib.route");
        let at = offset_of("import \"lib.route\"\nservice a { use p }", "p }", 0, 0);
        let without = references(&analysis, FileId(0), at, false);
        assert_eq!(without.len(), 2);
        let with = references(&analysis, FileId(0), at, true);
        assert_eq!(with.len(), 3);
        assert_eq!(with[2].file, lib);
        assert_eq!(texts(&analysis, &with), vec!["p", "p", "p"]);
    }

    #[test]
    fn renaming_a_shorthand_subset_keeps_its_label() {
        let out = renamed(REVIEWS, "v2", 0, "canary").expect("a valid rename");
        assert!(
            out.contains("  subset v1\n  subset canary { version: v2 }\n"),
            "{out}"
        );
        assert!(out.contains("-> canary\n"), "{out}");
        assert!(out.contains("v1 90%, canary 10%"), "{out}");
        assert!(out.contains("reviews.canary"), "{out}");
        let analysis = analyze_one(&out);
        assert!(
            analysis.diagnostics.is_empty(),
            "{:?}",
            analysis.diagnostics
        );
        let mesh = &analysis.mesh.services[0];
        let canary = mesh.subset("canary").expect("renamed");
        assert_eq!(
            canary.labels,
            vec![("version".to_string(), "v2".to_string())]
        );
    }

    #[test]
    fn a_lone_or_leading_shorthand_name_is_rewritten_in_place() {
        let text = "service a {\n  subset v1\n  routes { else -> v1 }\n}";
        let out = renamed(text, "v1", 0, "stable").expect("valid");
        assert_eq!(
            out,
            "service a {\n  subset stable { version: v1 }\n  routes { else -> stable }\n}"
        );
        let text = "service a { subset v1, v2, v3 routes { else -> v1 } }";
        let out = renamed(text, "v1", 1, "stable").expect("valid");
        assert_eq!(
            out,
            "service a { subset v2, v3 subset stable { version: v1 } routes { else -> stable } }"
        );
        assert!(!analyze_one(&out).has_errors());
    }

    #[test]
    fn label_form_subsets_services_policies_and_namespaces_rename_by_name() {
        let text = "namespace shop\nservice a in shop { subset c { track: canary }\n use p\n routes { else -> c } }\npolicy p { timeout 1s }";
        let out = renamed(text, "c {", 0, "beta").expect("valid");
        assert!(out.contains("subset beta { track: canary }") && out.contains("-> beta"));
        let out = renamed(text, "p\n routes", 0, "fast").expect("valid");
        assert!(
            out.contains("use fast") && out.contains("policy fast {"),
            "{out}"
        );
        let out = renamed(text, "shop", 1, "store").expect("valid");
        assert!(
            out.starts_with("namespace store\nservice a in store {"),
            "{out}"
        );
        let out = renamed(text, "a in", 0, "api").expect("valid");
        assert!(out.contains("service api in"), "{out}");
    }

    #[test]
    fn new_names_must_be_labels_that_lex_as_names() {
        for bad in ["", "V2", "v_2", "2v", "v2-", "use", &"a".repeat(64)] {
            assert!(renamed(REVIEWS, "v1", 0, bad).is_err(), "{bad:?}");
        }
        assert!(renamed(REVIEWS, "v1", 0, "a-1").is_ok());
    }

    #[test]
    fn clashing_names_are_refused() {
        let err = renamed(REVIEWS, "v1", 0, "v2").expect_err("sibling subset");
        assert!(err.contains("already has a subset `v2`"), "{err}");
        let err = renamed(REVIEWS, "front", 0, "reviews").expect_err("sibling service");
        assert!(err.contains("already has a service"), "{err}");
        let captured = "service a { subset v1\n routes { when path == \"/\" -> v1\n else -> b } }\nservice b {}";
        let err = renamed(captured, "v1", 0, "b").expect_err("capture");
        assert!(err.contains("names the service `b`"), "{err}");
        let err = renamed(captured, "b {", 0, "v1").expect_err("captured by a subset");
        assert!(err.contains("would mean that subset"), "{err}");
        let across =
            "service a in x { routes { else -> db } }\nservice db in y {}\nservice web in z {}";
        let err = renamed(across, "web", 0, "db").expect_err("ambiguous");
        assert!(err.contains("would no longer find"), "{err}");
        let ns = "namespace one\nservice a {}\nservice b in two {}";
        assert!(renamed(ns, "one", 0, "two").is_err());
    }

    #[test]
    fn nothing_from_the_standard_library_is_renamed() {
        let text = "import std/resilience\nservice a { accepts GET\n use idempotent-reads }";
        let err = renamed(text, "idempotent-reads", 0, "reads").expect_err("std");
        assert!(err.contains("std/resilience"), "{err}");
        assert!(renamed(text, "resilience", 0, "other").is_err());
        assert!(renamed(text, "accepts", 0, "other").is_err());
        assert!(renamed("service a { use nope }", "nope", 0, "yes").is_err());
    }

    #[test]
    fn the_old_name_again_is_no_edit() {
        let analysis = analyze_one(REVIEWS);
        let edits = rename(&analysis, FileId(0), 9, "reviews").expect("valid");
        assert!(edits.is_empty());
    }
}
