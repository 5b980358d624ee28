//! Document symbols (the outline of one file) and workspace symbols (services, subsets
//! and policies of every user file, by name).
//!
//! Both come from the syntax trees, so a file with errors still has the outline of what
//! parsed; details (a service's host, a subset's labels) come from the mesh when the
//! declaration made it there. Workspace symbols leave out `std/...` files: they are not
//! part of the user's workspace and have no path an editor could open.

use super::hover::{labels, one_line};
use super::symbols::SymbolIndex;
use super::{is_std, source_text, DocumentSymbol, SymbolKind};
use crate::model;
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, Guard, Item, StmtKind, SubsetDecl};
use crate::Analysis;

pub(crate) fn document_symbols(analysis: &Analysis, file: FileId) -> Vec<DocumentSymbol> {
    if source_text(analysis, file).is_none() {
        return Vec::new();
    }
    let Some(loaded) = analysis.loaded.file(file) else {
        return Vec::new();
    };
    let index = SymbolIndex::for_file(analysis, file);
    let mut out = Vec::new();
    for item in &loaded.parsed.module.items {
        match item {
            Item::Namespace(name) => out.push(symbol(
                &name.node,
                None,
                SymbolKind::Namespace,
                name.span,
                name.span,
            )),
            Item::Service(service) | Item::External(service) => {
                out.push(service_symbol(analysis, &index, service))
            }
            Item::Policy(policy) => out.push(policy_symbol(policy)),
            Item::Import(_) | Item::Error(_) => {}
            Item::Gateway(_) | Item::Expose(_) | Item::Mesh(_) | Item::Sidecar(_) => {}
        }
    }
    out
}

pub(crate) fn workspace_symbols(analysis: &Analysis, query: &str) -> Vec<DocumentSymbol> {
    let query = query.to_lowercase();
    let wanted = |name: &str| name.to_lowercase().contains(&query);
    let index = SymbolIndex::empty(analysis);
    let mut out = Vec::new();
    for file in &analysis.loaded.files {
        if is_std(analysis, file.id) {
            continue;
        }
        for item in &file.parsed.module.items {
            match item {
                Item::Service(service) => {
                    let mesh = index
                        .service_declared_at(service.name.span)
                        .and_then(|i| analysis.mesh.services.get(i));
                    if wanted(&service.name.node) {
                        let mut found = symbol(
                            &service.name.node,
                            mesh.map(|s| format!("{} ({})", s.host, s.namespace)),
                            SymbolKind::Service,
                            service.span,
                            service.name.span,
                        );
                        found.children.clear();
                        out.push(found);
                    }
                    for subset in subsets(&service.body, mesh) {
                        if wanted(&subset.name) {
                            let mut subset = subset;
                            subset.detail = Some(match subset.detail {
                                Some(labels) => format!("{} ({labels})", service.name.node),
                                None => service.name.node.clone(),
                            });
                            out.push(subset);
                        }
                    }
                }
                Item::Policy(policy) if wanted(&policy.name.node) => {
                    out.push(policy_symbol(policy));
                }
                _ => {}
            }
        }
    }
    out
}

fn symbol(
    name: &str,
    detail: Option<String>,
    kind: SymbolKind,
    span: Span,
    selection: Span,
) -> DocumentSymbol {
    DocumentSymbol {
        name: name.to_string(),
        detail,
        kind,
        span: span.to(selection),
        selection,
        children: Vec::new(),
    }
}

fn service_symbol(
    analysis: &Analysis,
    index: &SymbolIndex<'_>,
    service: &ast::Service,
) -> DocumentSymbol {
    let mesh = index
        .service_declared_at(service.name.span)
        .and_then(|i| analysis.mesh.services.get(i));
    let mut found = symbol(
        &service.name.node,
        mesh.map(|s| s.host.clone()),
        SymbolKind::Service,
        service.span,
        service.name.span,
    );
    found.children = subsets(&service.body, mesh);
    for stmt in &service.body.stmts {
        if let StmtKind::Routes(table) = &stmt.kind {
            found.children.push(route_table_symbol(analysis, table));
        }
    }
    found
}

/// The subsets a block declares, with their labels.
fn subsets(block: &ast::Block, mesh: Option<&model::Service>) -> Vec<DocumentSymbol> {
    let labels_of = |name: &str| {
        mesh.and_then(|s| s.subset(name))
            .map(|subset| labels(&subset.labels))
    };
    let mut out = Vec::new();
    for stmt in &block.stmts {
        match &stmt.kind {
            StmtKind::Subset(SubsetDecl::Versions(names)) => {
                for name in names {
                    let detail = labels_of(&name.node).or(Some(format!("version={}", name.node)));
                    out.push(symbol(
                        &name.node,
                        detail,
                        SymbolKind::Subset,
                        name.span,
                        name.span,
                    ));
                }
            }
            StmtKind::Subset(SubsetDecl::Labels(name, pairs)) => {
                let written: Vec<(String, String)> = pairs
                    .iter()
                    .map(|p| (p.key.node.clone(), p.value.node.clone()))
                    .collect();
                let detail = labels_of(&name.node).or(Some(labels(&written)));
                out.push(symbol(
                    &name.node,
                    detail,
                    SymbolKind::Subset,
                    stmt.span,
                    name.span,
                ));
            }
            _ => {}
        }
    }
    out
}

fn route_table_symbol(analysis: &Analysis, table: &ast::RouteTable) -> DocumentSymbol {
    let keyword = Span {
        end: (table.span.start + "routes".len() as u32).min(table.span.end),
        ..table.span
    };
    let rules = table.rules.len();
    let mut found = symbol(
        "routes",
        Some(format!("{rules} rule{}", if rules == 1 { "" } else { "s" })),
        SymbolKind::RouteTable,
        table.span,
        keyword,
    );
    for rule in &table.rules {
        let head_end = match &rule.guard {
            Guard::When(matches) => matches.last().map(|m| m.span.end),
            Guard::Else(span) => Some(span.end),
            Guard::Error => None,
        };
        let Some(head_end) = head_end else { continue };
        let head = Span {
            end: head_end,
            ..rule.span
        };
        let destinations = match (rule.destinations.first(), rule.destinations.last()) {
            (Some(first), Some(last)) => {
                let targets = first.span.to(last.span);
                Some(format!(
                    "-> {}",
                    one_line(analysis.sources().slice(targets), 60)
                ))
            }
            _ => None,
        };
        found.children.push(symbol(
            &one_line(analysis.sources().slice(head), 60),
            destinations,
            SymbolKind::Rule,
            rule.span,
            head,
        ));
    }
    found
}

fn policy_symbol(policy: &ast::Policy) -> DocumentSymbol {
    let settings: Vec<&str> = policy
        .body
        .stmts
        .iter()
        .filter(|s| !matches!(s.kind, StmtKind::Error))
        .map(|s| s.kind.keyword())
        .collect();
    symbol(
        &policy.name.node,
        (!settings.is_empty()).then(|| settings.join(", ")),
        SymbolKind::Policy,
        policy.span,
        policy.name.span,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::test_support::{analyze, analyze_one};

    const SHOP: &str = "namespace shop\nservice cart {\n  subset v1, v2\n  subset beta { track: beta }\n  routes {\n    when header x-beta   present -> beta\n    else -> v1 90%, v2 10%\n  }\n}\npolicy fast { timeout 1s\n retry off }\n";

    #[test]
    fn the_outline_nests_subsets_routes_and_rules_in_their_service() {
        let analysis = analyze_one(SHOP);
        let outline = document_symbols(&analysis, FileId(0));
        let top: Vec<_> = outline.iter().map(|s| (s.kind, s.name.as_str())).collect();
        assert_eq!(
            top,
            vec![
                (SymbolKind::Namespace, "shop"),
                (SymbolKind::Service, "cart"),
                (SymbolKind::Policy, "fast")
            ]
        );
        let cart = &outline[1];
        assert_eq!(cart.detail.as_deref(), Some("cart.shop.svc.cluster.local"));
        let children: Vec<_> = cart.children.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(children, vec!["v1", "v2", "beta", "routes"]);
        assert_eq!(cart.children[2].detail.as_deref(), Some("track=beta"));
        let rules = &cart.children[3].children;
        assert_eq!(rules[0].name, "when header x-beta present");
        assert_eq!(rules[0].detail.as_deref(), Some("-> beta"));
        assert_eq!(rules[1].name, "else");
        assert_eq!(rules[1].detail.as_deref(), Some("-> v1 90%, v2 10%"));
        assert_eq!(outline[2].detail.as_deref(), Some("timeout, retry"));
        for symbol in outline.iter().chain(&cart.children).chain(rules) {
            assert!(symbol.span.start <= symbol.selection.start);
            assert!(symbol.selection.end <= symbol.span.end, "{}", symbol.name);
        }
    }

    #[test]
    fn a_broken_file_outlines_what_parsed() {
        let analysis = analyze_one("service a { subset v1 }\nservice {\npolicy p { timeout 1s }");
        let outline = document_symbols(&analysis, FileId(0));
        assert_eq!(outline.first().map(|s| s.name.as_str()), Some("a"));
        assert!(document_symbols(&analysis, FileId(42)).is_empty());
    }

    #[test]
    fn workspace_symbols_match_substrings_in_user_files() {
        let analysis = analyze(&[
            (
                "main.route",
                "import std/resilience\nimport \"lib.route\"\nservice cart { subset v1 }",
            ),
            (
                "lib.route",
                "service catalogue {}\npolicy CartLimits { timeout 1s }",
            ),
        ]);
        let names = |query: &str| -> Vec<String> {
            workspace_symbols(&analysis, query)
                .into_iter()
                .map(|s| s.name)
                .collect()
        };
        assert_eq!(names("CART"), vec!["cart", "CartLimits"]);
        assert_eq!(names("v1"), vec!["v1"]);
        assert_eq!(names("").len(), 4, "std policies are left out");
        let v1 = &workspace_symbols(&analysis, "v1")[0];
        assert_eq!(v1.detail.as_deref(), Some("cart (version=v1)"));
    }
}
