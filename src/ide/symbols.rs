//! The symbol index: every name of the syntax trees that declares or refers to a
//! service, subset, policy, namespace or imported file, with what it resolves to.
//!
//! In: the analysis (syntax trees of every file, and the mesh for services and their
//! subsets). Out: occurrences per file, sorted by position and never overlapping, each
//! with its `Symbol` (or `None` when the name resolves to nothing) and the token class
//! of its role, which semantic highlighting uses even for unresolved names.
//!
//! Resolution follows `check::resolve`: a one-word destination is a subset of the
//! enclosing service, else a service; `SVC.SUBSET` a subset of that service; a service
//! name resolves in the referring service's namespace first, else to the only service of
//! that name; `use NAME` sees the policies of its own file, then those of the files it
//! imports, first declaration winning. Services are identified by their position in
//! `mesh.services`, matched to their declaration by the span of the name. The index is
//! built in time linear in the trees it walks (hash maps, no nested scans).

use std::collections::{HashMap, HashSet};

use crate::diagnostics::Code;
use crate::ide::TokenClass;
use crate::load::LoadedFile;
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, Field, Guard, ImportTarget, Item, StmtKind, SubsetDecl};
use crate::Analysis;

/// What a name denotes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Symbol {
    /// Index into `mesh.services`.
    Service(usize),
    Subset {
        service: usize,
        name: String,
    },
    /// A policy by the file that declares it and its name.
    Policy {
        file: FileId,
        name: String,
    },
    Namespace(String),
    /// An imported file.
    Module(FileId),
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Role<'a> {
    Definition,
    /// A name of `subset a, b`: it declares the subset and selects `version: NAME`.
    ShorthandSubset(&'a ast::Stmt),
    Reference {
        /// The service whose block holds the reference.
        from: Option<usize>,
        /// A one-word destination, which a subset of `from` would capture.
        bare: bool,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Occurrence<'a> {
    pub span: Span,
    pub symbol: Option<Symbol>,
    pub class: TokenClass,
    pub role: Role<'a>,
}

impl Occurrence<'_> {
    pub fn is_definition(&self) -> bool {
        !matches!(self.role, Role::Reference { .. })
    }
}

/// The occurrences of one file.
#[derive(Debug, Default)]
pub(crate) struct FileSymbols<'a> {
    /// Sorted by start; spans never overlap.
    pub occurrences: Vec<Occurrence<'a>>,
    /// Header and query names and label keys, for highlighting.
    pub properties: Vec<Span>,
}

pub(crate) struct SymbolIndex<'a> {
    pub analysis: &'a Analysis,
    /// Each service's index by the span of its declared name.
    by_name_span: HashMap<Span, usize>,
    by_name: HashMap<&'a str, Vec<usize>>,
    /// The policies each file sees: name to declaring file.
    visible: HashMap<FileId, HashMap<&'a str, FileId>>,
    files: HashMap<FileId, FileSymbols<'a>>,
}

impl<'a> SymbolIndex<'a> {
    /// The index of one file: enough to ask what a name of that file denotes.
    pub fn for_file(analysis: &'a Analysis, file: FileId) -> SymbolIndex<'a> {
        let mut index = SymbolIndex::empty(analysis);
        if let Some(loaded) = analysis.loaded.file(file) {
            index.add_file(loaded);
        }
        index
    }

    /// The index of every file: for references and renames.
    pub fn for_all(analysis: &'a Analysis) -> SymbolIndex<'a> {
        let mut index = SymbolIndex::empty(analysis);
        for loaded in &analysis.loaded.files {
            index.add_file(loaded);
        }
        index
    }

    /// The index of no file: what it knows of the mesh (services by name and by
    /// declaration) without walking any syntax tree.
    pub fn empty(analysis: &'a Analysis) -> SymbolIndex<'a> {
        let mut by_name_span = HashMap::new();
        let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, service) in analysis.mesh.services.iter().enumerate() {
            by_name_span.insert(service.name_span, i);
            by_name.entry(service.name.as_str()).or_default().push(i);
        }
        SymbolIndex {
            analysis,
            by_name_span,
            by_name,
            visible: HashMap::new(),
            files: HashMap::new(),
        }
    }

    /// The mesh index of the service declared with this name span.
    pub fn service_declared_at(&self, name_span: Span) -> Option<usize> {
        self.by_name_span.get(&name_span).copied()
    }

    /// A service by name as a reference from `namespace` sees it: in that namespace
    /// first, else the only service of that name.
    pub fn find_service(&self, name: &str, namespace: &str) -> Option<usize> {
        let candidates = self.by_name.get(name)?;
        let services = &self.analysis.mesh.services;
        candidates
            .iter()
            .copied()
            .find(|&i| services[i].namespace == namespace)
            .or(match candidates.as_slice() {
                [only] => Some(*only),
                _ => None,
            })
    }

    /// Indices of the services named `name`, in declaration order.
    pub fn services_named(&self, name: &str) -> &[usize] {
        self.by_name.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn file(&self, file: FileId) -> Option<&FileSymbols<'a>> {
        self.files.get(&file)
    }

    /// Every indexed file with its occurrences.
    pub fn files(&self) -> impl Iterator<Item = (FileId, &FileSymbols<'a>)> {
        self.files.iter().map(|(id, symbols)| (*id, symbols))
    }

    /// The occurrence at an offset: the one containing it, or ending just before it.
    pub fn at(&self, file: FileId, offset: usize) -> Option<&Occurrence<'a>> {
        let occurrences = &self.files.get(&file)?.occurrences;
        let after = occurrences.partition_point(|o| o.span.start as usize <= offset);
        let found = occurrences.get(after.checked_sub(1)?)?;
        (offset <= found.span.end as usize).then_some(found)
    }

    /// Every occurrence of a symbol in the indexed files, by file and position.
    pub fn occurrences_of(&self, symbol: &Symbol) -> Vec<&Occurrence<'a>> {
        let mut found: Vec<&Occurrence<'a>> = self
            .files
            .values()
            .flat_map(|f| f.occurrences.iter())
            .filter(|o| o.symbol.as_ref() == Some(symbol))
            .collect();
        found.sort_by_key(|o| (o.span.file, o.span.start));
        found
    }

    /// The policies visible in a file (computed for indexed files only).
    pub fn visible_policies(&self, file: FileId) -> Option<&HashMap<&'a str, FileId>> {
        self.visible.get(&file)
    }

    /// Where a symbol is declared.
    pub fn definition(&self, symbol: &Symbol) -> Option<Span> {
        let analysis = self.analysis;
        match symbol {
            Symbol::Service(i) => analysis.mesh.services.get(*i).map(|s| s.name_span),
            Symbol::Subset { service, name } => analysis
                .mesh
                .services
                .get(*service)?
                .subset(name)
                .map(|s| s.span),
            Symbol::Policy { file, name } => {
                policy_decl(analysis, *file, name).map(|p| p.name.span)
            }
            Symbol::Namespace(name) => analysis.loaded.files.iter().find_map(|f| {
                f.parsed.module.items.iter().find_map(|item| match item {
                    Item::Namespace(n) if n.node == *name => Some(n.span),
                    _ => None,
                })
            }),
            Symbol::Module(file) => {
                crate::ide::source_text(analysis, *file).map(|_| Span::new(*file, 0, 0))
            }
        }
    }

    /// The name a symbol has in the source.
    pub fn name_of(&self, symbol: &Symbol) -> String {
        match symbol {
            Symbol::Service(i) => self
                .analysis
                .mesh
                .services
                .get(*i)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            Symbol::Subset { name, .. } | Symbol::Policy { name, .. } => name.clone(),
            Symbol::Namespace(name) => name.clone(),
            Symbol::Module(file) => crate::ide::source_text(self.analysis, *file)
                .map(|_| self.analysis.sources().get(*file).name.clone())
                .unwrap_or_default(),
        }
    }

    fn add_file(&mut self, file: &'a LoadedFile) {
        let visible = self.policies_visible_in(file);
        self.visible.insert(file.id, visible);
        let mut walker = Walker {
            index: self,
            file: file.id,
            out: FileSymbols::default(),
        };
        walker.module(file);
        let mut out = walker.out;
        out.occurrences.sort_by_key(|o| o.span.start);
        out.properties.sort_by_key(|s| s.start);
        self.files.insert(file.id, out);
    }

    fn policies_visible_in(&self, file: &'a LoadedFile) -> HashMap<&'a str, FileId> {
        let mut visible = HashMap::new();
        let sources = std::iter::once(file.id).chain(file.imports.iter().copied());
        for source in sources {
            let Some(loaded) = self.analysis.loaded.file(source) else {
                continue;
            };
            for item in &loaded.parsed.module.items {
                if let Item::Policy(policy) = item {
                    visible.entry(policy.name.node.as_str()).or_insert(source);
                }
            }
        }
        visible
    }
}

/// The first declaration of a policy in a file.
pub(crate) fn policy_decl<'a>(
    analysis: &'a Analysis,
    file: FileId,
    name: &str,
) -> Option<&'a ast::Policy> {
    analysis
        .loaded
        .file(file)?
        .parsed
        .module
        .items
        .iter()
        .find_map(|item| match item {
            Item::Policy(p) if p.name.node == name => Some(p),
            _ => None,
        })
}

struct Walker<'i, 'a> {
    index: &'i SymbolIndex<'a>,
    file: FileId,
    out: FileSymbols<'a>,
}

impl<'a> Walker<'_, 'a> {
    fn push(&mut self, span: Span, symbol: Option<Symbol>, class: TokenClass, role: Role<'a>) {
        self.out.occurrences.push(Occurrence {
            span,
            symbol,
            class,
            role,
        });
    }

    fn module(&mut self, file: &'a LoadedFile) {
        let analysis = self.index.analysis;
        let failed: HashSet<Span> = analysis
            .diagnostics
            .iter()
            .filter(|d| d.code == Code::UnresolvedImport)
            .map(|d| d.primary_span())
            .filter(|s| s.file == file.id)
            .collect();
        let mut imports = file.imports.iter().copied();
        for item in &file.parsed.module.items {
            match item {
                Item::Namespace(name) => self.push(
                    name.span,
                    Some(Symbol::Namespace(name.node.clone())),
                    TokenClass::Namespace,
                    Role::Definition,
                ),
                Item::Import(import) => {
                    let (span, class) = match &import.target {
                        ImportTarget::Module { module, .. } => (module.span, TokenClass::Namespace),
                        ImportTarget::Path(path) => (path.span, TokenClass::String),
                    };
                    let target = if failed.contains(&span) {
                        None
                    } else {
                        imports.next()
                    };
                    let reference = Role::Reference {
                        from: None,
                        bare: false,
                    };
                    self.push(span, target.map(Symbol::Module), class, reference);
                }
                Item::Service(service) | Item::External(service) => {
                    let index = self.index.service_declared_at(service.name.span);
                    self.push(
                        service.name.span,
                        index.map(Symbol::Service),
                        TokenClass::Service,
                        Role::Definition,
                    );
                    if let Some(namespace) = &service.namespace {
                        let reference = Role::Reference {
                            from: index,
                            bare: false,
                        };
                        self.push(
                            namespace.span,
                            Some(Symbol::Namespace(namespace.node.clone())),
                            TokenClass::Namespace,
                            reference,
                        );
                    }
                    self.block(&service.body, index);
                }
                Item::Policy(policy) => {
                    let symbol = Symbol::Policy {
                        file: self.file,
                        name: policy.name.node.clone(),
                    };
                    self.push(
                        policy.name.span,
                        Some(symbol),
                        TokenClass::Policy,
                        Role::Definition,
                    );
                    self.block(&policy.body, None);
                }
                Item::Expose(expose) => {
                    let index = self.index.service_declared_at(expose.name.span);
                    self.push(
                        expose.name.span,
                        index.map(Symbol::Service),
                        TokenClass::Service,
                        Role::Definition,
                    );
                    self.block(&expose.body, index);
                }
                Item::Error(_) => {}
                Item::Gateway(_) | Item::Mesh(_) | Item::Sidecar(_) => {}
            }
        }
    }

    fn block(&mut self, block: &'a ast::Block, service: Option<usize>) {
        for stmt in &block.stmts {
            match &stmt.kind {
                StmtKind::Subset(SubsetDecl::Versions(names)) => {
                    for name in names {
                        let symbol = service.map(|service| Symbol::Subset {
                            service,
                            name: name.node.clone(),
                        });
                        let role = Role::ShorthandSubset(stmt);
                        self.push(name.span, symbol, TokenClass::Subset, role);
                    }
                }
                StmtKind::Subset(SubsetDecl::Labels(name, labels)) => {
                    let symbol = service.map(|service| Symbol::Subset {
                        service,
                        name: name.node.clone(),
                    });
                    self.push(name.span, symbol, TokenClass::Subset, Role::Definition);
                    self.out
                        .properties
                        .extend(labels.iter().map(|l| l.key.span));
                }
                StmtKind::Use(name) => {
                    let symbol = self
                        .index
                        .visible
                        .get(&self.file)
                        .and_then(|v| v.get(name.node.as_str()))
                        .map(|&file| Symbol::Policy {
                            file,
                            name: name.node.clone(),
                        });
                    let role = Role::Reference {
                        from: service,
                        bare: false,
                    };
                    self.push(name.span, symbol, TokenClass::Policy, role);
                }
                StmtKind::Routes(table) => {
                    for rule in &table.rules {
                        self.rule(rule, service);
                    }
                }
                _ => {}
            }
        }
    }

    fn rule(&mut self, rule: &'a ast::Rule, service: Option<usize>) {
        if let Guard::When(matches) = &rule.guard {
            for condition in matches.iter().flat_map(|m| &m.conditions) {
                if let Field::Header(name) | Field::Query(name) = &condition.field {
                    self.out.properties.push(name.span);
                }
            }
        }
        for destination in &rule.destinations {
            self.destination(destination, service);
        }
        if let Some(body) = &rule.body {
            self.block(body, service);
        }
    }

    fn destination(&mut self, destination: &ast::Destination, from: Option<usize>) {
        let services = &self.index.analysis.mesh.services;
        let namespace = from
            .and_then(|i| services.get(i))
            .map(|s| s.namespace.as_str())
            .unwrap_or_default();
        match destination.target.as_slice() {
            [name] => {
                let role = Role::Reference { from, bare: true };
                let own = from.and_then(|i| services.get(i));
                if let (Some(i), Some(_)) = (from, own.and_then(|s| s.subset(&name.node))) {
                    let symbol = Symbol::Subset {
                        service: i,
                        name: name.node.clone(),
                    };
                    self.push(name.span, Some(symbol), TokenClass::Subset, role);
                } else if let Some(target) = self.index.find_service(&name.node, namespace) {
                    let symbol = Symbol::Service(target);
                    self.push(name.span, Some(symbol), TokenClass::Service, role);
                }
            }
            [service, subset] => {
                let role = Role::Reference { from, bare: false };
                let target = self.index.find_service(&service.node, namespace);
                let symbol = target.map(Symbol::Service);
                self.push(service.span, symbol, TokenClass::Service, role);
                let symbol = target
                    .filter(|&t| services[t].subset(&subset.node).is_some())
                    .map(|t| Symbol::Subset {
                        service: t,
                        name: subset.node.clone(),
                    });
                self.push(subset.span, symbol, TokenClass::Subset, role);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::test_support::{analyze, analyze_one, file_named, offset_of};

    const BOOKINFO: &str = "namespace bookinfo\n\
        service reviews {\n  subset v1, v2\n  subset canary { version: v3 }\n  use idempotent\n  routes {\n    when header x-user == \"qa\" -> canary\n    when path ^= \"/r\" -> ratings.v1\n    else -> v1 90%, v2 10%\n  }\n}\n\
        service ratings {\n  subset v1\n  routes { else -> reviews }\n}\n\
        policy idempotent { timeout 3s }\n";

    fn symbol_at(text: &str, needle: &str, nth: usize) -> Option<Symbol> {
        let analysis = analyze_one(text);
        let index = SymbolIndex::for_file(&analysis, FileId(0));
        let offset = offset_of(text, needle, nth, 0);
        index.at(FileId(0), offset).and_then(|o| o.symbol.clone())
    }

    #[test]
    fn destinations_resolve_like_the_checker() {
        let subset = |service, name: &str| {
            Some(Symbol::Subset {
                service,
                name: name.to_string(),
            })
        };
        assert_eq!(symbol_at(BOOKINFO, "canary", 1), subset(0, "canary"));
        assert_eq!(symbol_at(BOOKINFO, "v1 90%", 0), subset(0, "v1"));
        assert_eq!(
            symbol_at(BOOKINFO, "ratings.v1", 0),
            Some(Symbol::Service(1))
        );
        assert_eq!(symbol_at(BOOKINFO, "v1\n    else", 0), subset(1, "v1"));
        assert_eq!(
            symbol_at(BOOKINFO, "reviews }", 0),
            Some(Symbol::Service(0))
        );
        assert_eq!(
            symbol_at(BOOKINFO, "idempotent", 0),
            Some(Symbol::Policy {
                file: FileId(0),
                name: "idempotent".to_string()
            })
        );
        assert_eq!(
            symbol_at(BOOKINFO, "bookinfo", 0),
            Some(Symbol::Namespace("bookinfo".to_string()))
        );
    }

    #[test]
    fn a_bare_name_is_a_subset_before_it_is_a_service() {
        let text = "service a { subset b\n routes { else -> b } }\nservice b {}";
        let analysis = analyze_one(text);
        let index = SymbolIndex::for_file(&analysis, FileId(0));
        let at = index.at(FileId(0), offset_of(text, "b }", 0, 0));
        assert!(matches!(
            at.and_then(|o| o.symbol.clone()),
            Some(Symbol::Subset { service: 0, .. })
        ));
    }

    #[test]
    fn services_resolve_in_their_own_namespace_first() {
        let text = "service api in one { routes { else -> db } }\n\
                    service db in one {}\nservice db in two {}\n\
                    service web in two { routes { else -> db } }";
        assert_eq!(symbol_at(text, "db }", 0), Some(Symbol::Service(1)));
        assert_eq!(symbol_at(text, "db }", 1), Some(Symbol::Service(2)));
    }

    #[test]
    fn unresolved_names_keep_their_class_but_no_symbol() {
        let text = "service a { use nothing\n routes { else -> b.c } }";
        let analysis = analyze_one(text);
        let index = SymbolIndex::for_file(&analysis, FileId(0));
        let use_name = index.at(FileId(0), offset_of(text, "nothing", 0, 2));
        let use_name = use_name.expect("an occurrence");
        assert_eq!(
            (use_name.symbol.clone(), use_name.class),
            (None, TokenClass::Policy)
        );
        let subset = index
            .at(FileId(0), offset_of(text, "c }", 0, 0))
            .expect("c");
        assert_eq!(
            (subset.symbol.clone(), subset.class),
            (None, TokenClass::Subset)
        );
    }

    #[test]
    fn policies_are_seen_through_imports_and_references_span_files() {
        let analysis = analyze(&[
            (
                "main.route",
                "import \"lib.route\"\nservice a { use shared }",
            ),
            ("lib.route", "policy shared { timeout 1s }\n"),
        ]);
        let lib = file_named(&analysis, "lib.route");
        let index = SymbolIndex::for_all(&analysis);
        let symbol = Symbol::Policy {
            file: lib,
            name: "shared".to_string(),
        };
        let found = index.occurrences_of(&symbol);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].span.file, FileId(0));
        assert!(found[1].is_definition());
        let import = index.at(FileId(0), 8).and_then(|o| o.symbol.clone());
        assert_eq!(import, Some(Symbol::Module(lib)));
        assert_eq!(index.definition(&symbol).map(|s| s.file), Some(lib));
    }

    #[test]
    fn offsets_between_names_find_nothing() {
        let analysis = analyze_one(BOOKINFO);
        let index = SymbolIndex::for_file(&analysis, FileId(0));
        assert!(index.at(FileId(0), 0).is_none());
        assert!(index.at(FileId(0), usize::MAX).is_none());
        assert!(index.at(FileId(7), 3).is_none());
        let end = offset_of(BOOKINFO, "reviews", 0, 7);
        assert!(index.at(FileId(0), end).is_some(), "just after a name");
    }
}
