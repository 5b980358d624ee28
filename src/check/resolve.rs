//! Name resolution: syntax trees in, the checked `Mesh` out.
//!
//! Decides each file's namespace, gathers services (visible across every file) and
//! policies (visible in their own file and in files that import it), applies `use`,
//! and resolves every destination to a host and subset. Reports unknown and duplicate
//! names, misplaced and repeated statements. Values that other checks reject (a
//! duration under 1ms, a port over 65535) are carried or dropped here without a second
//! report: `values.rs` owns those.

use std::collections::HashMap;
use std::sync::Arc;

use super::closest;
use crate::diagnostics::{Code, Diagnostic};
use crate::load::{Loaded, LoadedFile};
use crate::model::{
    Accepts, ConnectionPool, Destination, Duration, Limit, Located, Mesh, Method, OutlierDetection,
    Port, RetryPolicy, RouteTable, Rule, Service, Subset,
};
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, Guard, Item, Name, StmtKind, SubsetDecl};

pub const DEFAULT_NAMESPACE: &str = "default";

/// Where a block sits; decides which statements it takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Service,
    Policy,
    Rule,
}

impl Place {
    fn allows(self, stmt: &StmtKind) -> bool {
        use StmtKind::*;
        match self {
            Place::Service => true,
            Place::Policy => matches!(stmt, Timeout(_) | Retry(_) | Pool(_) | Eject(_) | Error),
            Place::Rule => matches!(stmt, Timeout(_) | Retry(_) | Use(_) | Error),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Place::Service => "a service",
            Place::Policy => "a policy",
            Place::Rule => "a rule",
        }
    }

    fn takes(self) -> &'static str {
        match self {
            Place::Service => "host, port, subset, accepts, idempotency-key, timeout, retry, pool, eject, use and routes",
            Place::Policy => "timeout, retry, pool and eject",
            Place::Rule => "timeout, retry and use",
        }
    }
}

struct PolicyDecl<'a> {
    decl: &'a ast::Policy,
}

/// The settings a block states: explicitly, or through `use`.
#[derive(Default)]
struct Settings {
    timeout: Option<Located<Duration>>,
    retry: Option<Arc<Located<RetryPolicy>>>,
    pool: Option<Located<ConnectionPool>>,
    eject: Option<Located<OutlierDetection>>,
}

struct Resolver<'a> {
    loaded: &'a Loaded,
    out: &'a mut Vec<Diagnostic>,
    /// Policies per file: its own, then those of the files it imports.
    policies: HashMap<FileId, Vec<(&'a str, PolicyDecl<'a>)>>,
}

pub fn resolve(loaded: &Loaded, out: &mut Vec<Diagnostic>) -> Mesh {
    let mut resolver = Resolver {
        loaded,
        out,
        policies: HashMap::new(),
    };
    resolver.collect_policies();
    let declared = resolver.collect_services();
    let mut mesh = Mesh::default();
    for (file, decl, namespace) in &declared {
        let service = resolver.service_shell(*file, decl, namespace);
        mesh.services.push(service);
    }
    resolver.check_unique_services(&mesh);
    for (index, (file, decl, _)) in declared.iter().enumerate() {
        let routes = resolver.routes(*file, decl, index, &mesh);
        mesh.services[index].routes = routes;
    }
    mesh
}

impl<'a> Resolver<'a> {
    fn report(&mut self, diagnostic: Diagnostic) {
        self.out.push(diagnostic);
    }

    fn collect_policies(&mut self) {
        let loaded = self.loaded;
        let mut own: HashMap<FileId, Vec<&'a ast::Policy>> = HashMap::new();
        for file in &loaded.files {
            let mut seen: HashMap<&str, Span> = HashMap::new();
            let list = own.entry(file.id).or_default();
            for item in &file.parsed.module.items {
                let Item::Policy(policy) = item else { continue };
                if let Some(first) = seen.get(policy.name.node.as_str()) {
                    self.out.push(duplicate("policy", &policy.name, *first));
                    continue;
                }
                seen.insert(&policy.name.node, policy.name.span);
                self.check_placement(&policy.body, Place::Policy);
                list.push(policy);
            }
        }
        for file in &loaded.files {
            let mut visible: Vec<(&'a str, PolicyDecl<'a>)> = Vec::new();
            let sources = std::iter::once(file.id).chain(file.imports.iter().copied());
            for source in sources {
                for decl in own.get(&source).into_iter().flatten() {
                    if visible.iter().all(|(n, _)| *n != decl.name.node) {
                        visible.push((&decl.name.node, PolicyDecl { decl }));
                    }
                }
            }
            self.policies.insert(file.id, visible);
        }
    }

    fn check_placement(&mut self, block: &ast::Block, place: Place) {
        for stmt in &block.stmts {
            if !place.allows(&stmt.kind) {
                let keyword = stmt.kind.keyword();
                let keyword_span = Span {
                    end: stmt.span.start + keyword.len() as u32,
                    ..stmt.span
                };
                self.report(
                    Diagnostic::new(
                        Code::MisplacedStatement,
                        keyword_span,
                        format!("`{keyword}` is not allowed in {}", place.describe()),
                    )
                    .primary_text(format!("`{keyword}` cannot stand here"))
                    .help(format!(
                        "{} takes {}; move `{keyword}` to the service",
                        capitalise(place.describe()),
                        place.takes()
                    )),
                );
            }
        }
    }

    /// Every service with its file and namespace, in file order.
    fn collect_services(&mut self) -> Vec<(FileId, &'a ast::Service, String)> {
        let loaded = self.loaded;
        let mut services = Vec::new();
        for file in &loaded.files {
            let namespace = self.file_namespace(file);
            for item in &file.parsed.module.items {
                if let Item::Service(service) = item {
                    let namespace = service
                        .namespace
                        .as_ref()
                        .map(|n| n.node.clone())
                        .unwrap_or_else(|| namespace.clone());
                    services.push((file.id, service, namespace));
                }
            }
        }
        services
    }

    fn file_namespace(&mut self, file: &LoadedFile) -> String {
        let mut namespace: Option<&Name> = None;
        let mut first_decl: Option<Span> = None;
        for item in &file.parsed.module.items {
            match item {
                Item::Namespace(name) => {
                    if let Some(previous) = namespace {
                        self.report(
                            Diagnostic::new(
                                Code::DuplicateNamespace,
                                name.span,
                                "this file already names its namespace",
                            )
                            .primary_text("second `namespace`")
                            .label(previous.span, "first `namespace`")
                            .help("keep one `namespace` line; a service elsewhere says `service NAME in NAMESPACE`"),
                        );
                    } else if let Some(decl) = first_decl {
                        self.report(
                            Diagnostic::new(
                                Code::MisplacedStatement,
                                name.span,
                                "`namespace` comes after a declaration",
                            )
                            .primary_text(
                                "too late: declarations above already took the default namespace",
                            )
                            .label(decl, "first declaration")
                            .help("move the `namespace` line to the top of the file"),
                        );
                        namespace = Some(name);
                    } else {
                        namespace = Some(name);
                    }
                }
                Item::Service(s) if first_decl.is_none() => first_decl = Some(s.name.span),
                Item::Policy(p) if first_decl.is_none() => first_decl = Some(p.name.span),
                _ => {}
            }
        }
        namespace
            .map(|n| n.node.clone())
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string())
    }

    /// A service with everything but its routes, which need every service's subsets.
    fn service_shell(&mut self, file: FileId, decl: &'a ast::Service, namespace: &str) -> Service {
        let mut host: Option<ast::Spanned<String>> = None;
        let mut ports = Vec::new();
        let mut subsets: Vec<Subset> = Vec::new();
        let mut accepts: Option<Accepts> = None;
        let mut idempotency_key = None;
        let mut settings = Settings::default();
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        let mut uses = Vec::new();
        for stmt in &decl.body.stmts {
            let keyword = stmt.kind.keyword();
            if matches!(
                stmt.kind,
                StmtKind::Host(_)
                    | StmtKind::Accepts(_)
                    | StmtKind::IdempotencyKey(_)
                    | StmtKind::Routes(_)
                    | StmtKind::Timeout(_)
                    | StmtKind::Retry(_)
                    | StmtKind::Pool(_)
                    | StmtKind::Eject(_)
            ) {
                if let Some(first) = seen.get(keyword) {
                    self.report(repeated(keyword, stmt.span, *first));
                    continue;
                }
                seen.insert(keyword, stmt.span);
            }
            match &stmt.kind {
                StmtKind::Host(h) => host = Some(h.clone()),
                StmtKind::Port(p) => {
                    if let Ok(number) = u16::try_from(p.number.node) {
                        if number > 0 {
                            ports.push(Port {
                                number,
                                protocol: p.protocol.as_ref().map(|n| n.node.to_ascii_lowercase()),
                                span: stmt.span,
                            });
                        }
                    }
                }
                StmtKind::Subset(subset) => {
                    for new in subsets_of(subset) {
                        if let Some(first) = subsets.iter().find(|s| s.name == new.name) {
                            let name = ast::Spanned::new(new.name.clone(), new.span);
                            self.report(duplicate("subset", &name, first.span));
                        } else {
                            subsets.push(new);
                        }
                    }
                }
                StmtKind::Accepts(methods) => {
                    accepts = Some(Accepts {
                        methods: methods
                            .iter()
                            .filter_map(|m| Method::parse(&m.node))
                            .collect(),
                        span: stmt.span,
                    })
                }
                StmtKind::IdempotencyKey(key) => {
                    idempotency_key = Some(Located {
                        value: key.node.clone(),
                        span: stmt.span,
                        via: None,
                    })
                }
                StmtKind::Use(name) => uses.push(name),
                StmtKind::Routes(_) | StmtKind::Error => {}
                other => apply_setting(&mut settings, other, stmt.span, None),
            }
        }
        for name in uses {
            self.apply_policy(file, name, &mut settings, Place::Service, &seen);
        }
        let host = host
            .map(|h| h.node)
            .unwrap_or_else(|| format!("{}.{namespace}.svc.cluster.local", decl.name.node));
        Service {
            name: decl.name.node.clone(),
            namespace: namespace.to_string(),
            host,
            name_span: decl.name.span,
            span: decl.span,
            ports,
            subsets,
            accepts,
            idempotency_key,
            timeout: settings.timeout,
            retry: settings.retry,
            pool: settings.pool,
            eject: settings.eject,
            routes: None,
        }
    }

    /// Applies a policy's settings where the block does not state them itself.
    fn apply_policy(
        &mut self,
        file: FileId,
        name: &Name,
        settings: &mut Settings,
        place: Place,
        explicit: &HashMap<&'static str, Span>,
    ) {
        let Some(policy) = self.lookup_policy(file, name) else {
            return;
        };
        for stmt in &policy.body.stmts {
            let keyword = stmt.kind.keyword();
            if !Place::Policy.allows(&stmt.kind) || explicit.contains_key(keyword) {
                continue;
            }
            if place == Place::Rule && matches!(stmt.kind, StmtKind::Pool(_) | StmtKind::Eject(_)) {
                self.report(
                    Diagnostic::new(
                        Code::MisplacedStatement,
                        name.span,
                        format!("policy `{}` sets `{keyword}`, which applies to a whole service, not a rule", name.node),
                    )
                    .primary_text("used in a rule")
                    .label(stmt.span, format!("`{keyword}` is set here"))
                    .help("`use` this policy in the service, or split the destination settings into their own policy"),
                );
                continue;
            }
            let already = match stmt.kind {
                StmtKind::Timeout(_) => settings.timeout.as_ref().map(|s| s.via),
                StmtKind::Retry(_) => settings.retry.as_ref().map(|s| s.via),
                StmtKind::Pool(_) => settings.pool.as_ref().map(|s| s.via),
                StmtKind::Eject(_) => settings.eject.as_ref().map(|s| s.via),
                _ => None,
            };
            if let Some(Some(previous_use)) = already {
                self.report(
                    Diagnostic::new(
                        Code::DuplicateSetting,
                        name.span,
                        format!("two policies set `{keyword}`"),
                    )
                    .primary_text(format!("`{}` sets `{keyword}` again", name.node))
                    .label(
                        previous_use,
                        format!("this policy already sets `{keyword}`"),
                    )
                    .help(format!(
                        "state `{keyword}` in the block itself to choose, or drop one `use`"
                    )),
                );
                continue;
            }
            apply_setting(settings, &stmt.kind, stmt.span, Some(name.span));
        }
    }

    fn lookup_policy(&mut self, file: FileId, name: &Name) -> Option<&'a ast::Policy> {
        let visible = self.policies.get(&file)?;
        if let Some((_, found)) = visible.iter().find(|(n, _)| *n == name.node) {
            return Some(found.decl);
        }
        let near = closest(&name.node, visible.iter().map(|(n, _)| *n)).map(str::to_string);
        let mut diagnostic = Diagnostic::new(
            Code::UnknownPolicy,
            name.span,
            format!("there is no policy `{}`", name.node),
        )
        .primary_text("not declared in this file or its imports");
        diagnostic = match near {
            Some(near) => diagnostic
                .help(format!("did you mean `{near}`?"))
                .fix(format!("use `{near}`"), vec![crate::diagnostics::Edit { span: name.span, replacement: near }]),
            None => diagnostic.help(
                "declare it with `policy NAME { ... }`, or import the file that does (`import std/resilience` for the standard presets)",
            ),
        };
        self.report(diagnostic);
        None
    }

    fn check_unique_services(&mut self, mesh: &Mesh) {
        let mut by_name: HashMap<(&str, &str), Span> = HashMap::new();
        let mut by_host: HashMap<&str, (Span, &str)> = HashMap::new();
        for service in &mesh.services {
            let key = (service.namespace.as_str(), service.name.as_str());
            if let Some(first) = by_name.get(&key) {
                let name = ast::Spanned::new(service.name.clone(), service.name_span);
                self.report(
                    duplicate("service", &name, *first)
                        .note(format!("both are in namespace `{}`", service.namespace)),
                );
                continue;
            }
            by_name.insert(key, service.name_span);
            if let Some((first, first_name)) = by_host.get(service.host.as_str()) {
                self.report(
                    Diagnostic::new(
                        Code::DuplicateHost,
                        service.name_span,
                        format!("`{}` configures host {} again", service.name, service.host),
                    )
                    .primary_text("second declaration for this host")
                    .label(*first, format!("`{first_name}` already configures it"))
                    .help("keep one declaration per host: Istio merges route tables for one host in no fixed order"),
                );
                continue;
            }
            by_host.insert(&service.host, (service.name_span, &service.name));
        }
    }

    fn routes(
        &mut self,
        file: FileId,
        decl: &'a ast::Service,
        index: usize,
        mesh: &Mesh,
    ) -> Option<RouteTable> {
        let table = decl.body.stmts.iter().find_map(|s| match &s.kind {
            StmtKind::Routes(table) => Some(table),
            _ => None,
        })?;
        let service = &mesh.services[index];
        let mut rules = Vec::new();
        for rule in &table.rules {
            let (matches, catch_all, head_span) = match &rule.guard {
                Guard::When(matches) => (
                    Arc::clone(matches),
                    false,
                    matches
                        .first()
                        .map(|m| m.span)
                        .unwrap_or(rule.span)
                        .to(matches.last().map(|m| m.span).unwrap_or(rule.span)),
                ),
                Guard::Else(span) => (Arc::new(Vec::new()), true, *span),
                Guard::Error => continue,
            };
            let destinations = rule
                .destinations
                .iter()
                .filter_map(|d| self.destination(d, service, mesh))
                .collect::<Vec<_>>();
            let resolved = destinations.len() == rule.destinations.len();
            let mut settings = Settings::default();
            let mut seen: HashMap<&'static str, Span> = HashMap::new();
            if let Some(body) = &rule.body {
                self.check_placement(body, Place::Rule);
                let mut uses = Vec::new();
                for stmt in &body.stmts {
                    let keyword = stmt.kind.keyword();
                    match &stmt.kind {
                        StmtKind::Timeout(_) | StmtKind::Retry(_) => {
                            if let Some(first) = seen.get(keyword) {
                                self.report(repeated(keyword, stmt.span, *first));
                                continue;
                            }
                            seen.insert(keyword, stmt.span);
                            apply_setting(&mut settings, &stmt.kind, stmt.span, None);
                        }
                        StmtKind::Use(name) => uses.push(name),
                        _ => {}
                    }
                }
                for name in uses {
                    self.apply_policy(file, name, &mut settings, Place::Rule, &seen);
                }
            }
            rules.push(Rule {
                matches,
                catch_all,
                head_span,
                destinations,
                resolved,
                timeout: settings.timeout.or_else(|| service.timeout.clone()),
                retry: settings.retry.or_else(|| service.retry.clone()),
                span: rule.span,
            });
        }
        Some(RouteTable {
            rules,
            span: table.span,
        })
    }

    fn destination(
        &mut self,
        dest: &ast::Destination,
        service: &Service,
        mesh: &Mesh,
    ) -> Option<Destination> {
        let port = dest.port.as_ref().and_then(|p| u16::try_from(p.node).ok());
        let weight = dest.weight.as_ref().map(|w| Located {
            value: w.node,
            span: w.span,
            via: None,
        });
        let make = |host: &str, subset: Option<&str>| Destination {
            host: host.to_string(),
            subset: subset.map(str::to_string),
            port,
            weight: weight.clone(),
            span: dest.span,
        };
        match dest.target.as_slice() {
            [name] => {
                if let Some(subset) = service.subset(&name.node) {
                    return Some(make(&service.host, Some(&subset.name)));
                }
                if let Some(target) = find_service(mesh, &name.node, &service.namespace) {
                    return Some(make(&target.host, None));
                }
                self.report(unknown_subset(service, name, true, mesh));
                None
            }
            [svc, subset] => {
                let Some(target) = find_service(mesh, &svc.node, &service.namespace) else {
                    self.report(unknown_service(svc, mesh));
                    return None;
                };
                if target.subset(&subset.node).is_none() {
                    self.report(unknown_subset(target, subset, false, mesh));
                    return None;
                }
                Some(make(&target.host, Some(&subset.node)))
            }
            _ => None,
        }
    }
}

/// A service by name: in the given namespace first, else the only one of that name.
pub(crate) fn find_service<'m>(mesh: &'m Mesh, name: &str, namespace: &str) -> Option<&'m Service> {
    let mut candidates = mesh.services.iter().filter(|s| s.name == name);
    let all: Vec<&Service> = candidates.by_ref().collect();
    all.iter()
        .find(|s| s.namespace == namespace)
        .copied()
        .or_else(|| if all.len() == 1 { Some(all[0]) } else { None })
}

fn unknown_subset(service: &Service, name: &Name, may_be_service: bool, mesh: &Mesh) -> Diagnostic {
    let subset_names = service.subsets.iter().map(|s| s.name.as_str());
    let mut candidates: Vec<&str> = subset_names.collect();
    if may_be_service {
        candidates.extend(mesh.services.iter().map(|s| s.name.as_str()));
    }
    let near = closest(&name.node, candidates.iter().copied());
    let defined = if service.subsets.is_empty() {
        "it defines no subsets".to_string()
    } else {
        format!(
            "its subsets are {}",
            service
                .subsets
                .iter()
                .map(|s| format!("`{}`", s.name))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let mut diagnostic = Diagnostic::new(
        Code::UnknownSubset,
        name.span,
        format!("`{}` has no subset `{}`", service.name, name.node),
    )
    .primary_text("no such subset: requests sent here would fail with 503 UH")
    .note(format!(
        "`{}` is routed by subset, and {defined}",
        service.name
    ));
    if let Some(first) = service.subsets.first() {
        let span = service
            .subsets
            .iter()
            .fold(first.span, |acc, s| acc.to(s.span));
        diagnostic = diagnostic.label(span, format!("subsets of `{}`", service.name));
    }
    match near {
        Some(near) => diagnostic.help(format!("did you mean `{near}`?")).fix(
            format!("change to `{near}`"),
            vec![crate::diagnostics::Edit {
                span: name.span,
                replacement: near.to_string(),
            }],
        ),
        None => diagnostic.help(format!(
            "define it in `{}` (`subset {}`) or route to a subset that exists",
            service.name, name.node
        )),
    }
}

fn unknown_service(name: &Name, mesh: &Mesh) -> Diagnostic {
    let near = closest(&name.node, mesh.services.iter().map(|s| s.name.as_str()));
    let diagnostic = Diagnostic::new(
        Code::UnknownService,
        name.span,
        format!("there is no service `{}`", name.node),
    )
    .primary_text("not declared in any file of this compilation");
    match near {
        Some(near) => diagnostic.help(format!("did you mean `{near}`?")).fix(
            format!("change to `{near}`"),
            vec![crate::diagnostics::Edit {
                span: name.span,
                replacement: near.to_string(),
            }],
        ),
        None => diagnostic.help("declare the service, or import the file that declares it"),
    }
}

fn duplicate(what: &str, name: &Name, first: Span) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateName,
        name.span,
        format!("{what} `{}` is declared twice", name.node),
    )
    .primary_text("second declaration")
    .label(first, "first declared here")
    .help(format!(
        "rename or remove one of the two {what} declarations"
    ))
}

fn repeated(keyword: &str, span: Span, first: Span) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateSetting,
        span,
        format!("`{keyword}` is given twice in this block"),
    )
    .primary_text("second one")
    .label(first, "first one")
    .help(format!("keep one `{keyword}`"))
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

fn subsets_of(decl: &SubsetDecl) -> Vec<Subset> {
    match decl {
        SubsetDecl::Versions(names) => names
            .iter()
            .map(|n| Subset {
                name: n.node.clone(),
                labels: vec![("version".to_string(), n.node.clone())],
                span: n.span,
            })
            .collect(),
        SubsetDecl::Labels(name, labels) | SubsetDecl::WithPolicy(name, Some(labels), _) => {
            vec![Subset {
                name: name.node.clone(),
                labels: labels
                    .iter()
                    .map(|l| (l.key.node.clone(), l.value.node.clone()))
                    .collect(),
                span: name.span,
            }]
        }
        SubsetDecl::WithPolicy(name, None, _) => vec![Subset {
            name: name.node.clone(),
            labels: vec![("version".to_string(), name.node.clone())],
            span: name.span,
        }],
    }
}

fn duration(d: &ast::Spanned<ast::Duration>) -> Option<Duration> {
    d.node.nanos.map(Duration)
}

fn apply_setting(settings: &mut Settings, stmt: &StmtKind, span: Span, via: Option<Span>) {
    fn located<T>(value: T, span: Span, via: Option<Span>) -> Located<T> {
        Located { value, span, via }
    }
    match stmt {
        StmtKind::Timeout(d) => {
            if let Some(d) = duration(d) {
                settings.timeout = Some(located(d, span, via));
            }
        }
        StmtKind::Retry(spec) => {
            let policy = RetryPolicy {
                attempts: u32::try_from(spec.attempts.node).unwrap_or(u32::MAX),
                per_try: spec.per_try.as_ref().and_then(|d| {
                    duration(d).map(|value| Located {
                        value,
                        span: d.span,
                        via,
                    })
                }),
                conditions: spec.conditions.as_ref().map(|names| {
                    names
                        .iter()
                        .map(|n| Located {
                            value: n.node.clone(),
                            span: n.span,
                            via,
                        })
                        .collect()
                }),
            };
            settings.retry = Some(Arc::new(located(policy, span, via)));
        }
        StmtKind::Pool(limits) => {
            let mut pool = ConnectionPool::default();
            for limit in limits {
                let value = match limit.value.node {
                    Some(n) => Limit::Max(u32::try_from(n).unwrap_or(u32::MAX)),
                    None => Limit::Unlimited,
                };
                let slot = match limit.kind.node {
                    ast::PoolLimitKind::Connections => &mut pool.max_connections,
                    ast::PoolLimitKind::Pending => &mut pool.max_pending,
                    ast::PoolLimitKind::Requests => &mut pool.max_requests,
                    ast::PoolLimitKind::PerConnection => &mut pool.per_connection,
                };
                *slot = Some(value);
            }
            settings.pool = Some(located(pool, span, via));
        }
        StmtKind::Eject(spec) => {
            let percent =
                |p: &Option<ast::Spanned<f64>>| p.as_ref().map(|p| p.node.clamp(0.0, 100.0) as u32);
            settings.eject = Some(located(
                OutlierDetection {
                    consecutive_errors: u32::try_from(spec.errors.node).unwrap_or(u32::MAX),
                    gateway_errors_only: spec.class.node == "gateway-error",
                    interval: spec.interval.as_ref().and_then(duration),
                    base_ejection: spec.base_ejection.as_ref().and_then(duration),
                    max_ejection_percent: percent(&spec.max_percent),
                    min_health_percent: percent(&spec.min_healthy),
                },
                span,
                via,
            ));
        }
        _ => {}
    }
}
