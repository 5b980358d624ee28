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
    Accepts, ClientTls, ConnectionPool, ConsistentHash, Cors, Destination, DestinationPolicy,
    Duration, Endpoint, External, Fault, FaultKind, Gateway, HashKey, HashTable, HeaderEdits,
    Headers, Limit, LoadBalancer, Locality, Located, Mesh, Method, Mirror, OutlierDetection, Port,
    RetryPolicy, Rewrite, RouteAction, RouteKind, RouteTable, Rule, Server, ServerTls, Service,
    ServiceKind, Subset,
};
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, Guard, Item, Name, StmtKind, SubsetDecl};

/// Where a block sits; decides which statements it takes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Place {
    Service,
    External,
    Expose,
    Gateway,
    Mesh,
    Policy,
    Rule,
    /// `port N P with { }` and `subset S with { }`: destination policy only.
    Destination,
    Sidecar,
}

impl Place {
    fn allows(self, stmt: &StmtKind) -> bool {
        use StmtKind::*;
        let destination = matches!(stmt, Pool(_) | Eject(_) | Balance(_) | Locality(_) | Tls(_));
        let route = matches!(stmt, Timeout(_) | Retry(_) | Use(_));
        let rule_only = matches!(
            stmt,
            Mirror(_) | Fault(_) | Rewrite(_) | Headers(_) | Cors(_)
        );
        let setting = |keys: &[&str]| match stmt {
            Setting(s) => keys.contains(&s.key.node.as_str()),
            _ => false,
        };
        if matches!(stmt, Error) {
            return true;
        }
        match self {
            Place::Service => {
                destination
                    || route
                    || matches!(
                        stmt,
                        Host(_)
                            | Port(_)
                            | Subset(_)
                            | Accepts(_)
                            | IdempotencyKey(_)
                            | Routes(_)
                            | ShadowSafe
                    )
            }
            Place::External => {
                destination
                    || route
                    || matches!(
                        stmt,
                        Host(_) | Port(_) | Subset(_) | Accepts(_) | IdempotencyKey(_) | Routes(_)
                    )
                    || setting(&["resolve", "location", "address", "endpoint"])
            }
            Place::Expose => {
                route || matches!(stmt, Host(_) | Routes(_) | Accepts(_) | IdempotencyKey(_))
            }
            Place::Gateway => matches!(stmt, Listen(_)) || setting(&["selector"]),
            Place::Mesh | Place::Sidecar => setting(&["egress"]),
            Place::Policy => destination || matches!(stmt, Timeout(_) | Retry(_)),
            Place::Rule => route || rule_only,
            Place::Destination => destination || matches!(stmt, Use(_)),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Place::Service => "a service",
            Place::External => "an external service",
            Place::Expose => "an `expose` block",
            Place::Gateway => "a gateway",
            Place::Mesh => "the `mesh` block",
            Place::Policy => "a policy",
            Place::Rule => "a rule",
            Place::Destination => "a port or subset policy",
            Place::Sidecar => "a sidecar",
        }
    }

    fn takes(self) -> &'static str {
        match self {
            Place::Service => "host, port, subset, accepts, idempotency-key, timeout, retry, pool, eject, balance, locality, tls, use and routes",
            Place::External => "host, port, resolve, location, address, endpoint, timeout, retry, pool, eject, balance, locality, tls, use and routes",
            Place::Expose => "host, timeout, retry, use and routes",
            Place::Gateway => "selector and listen",
            Place::Mesh => "egress",
            Place::Policy => "timeout, retry, pool, eject, balance, locality and tls",
            Place::Rule => "timeout, retry, use, mirror, fault, rewrite, request-headers, response-headers and cors",
            Place::Destination => "pool, eject, balance, locality, tls and use",
            Place::Sidecar => "egress",
        }
    }

    /// Where a misplaced statement belongs, for the help line.
    fn home_of(stmt: &StmtKind) -> &'static str {
        use StmtKind::*;
        match stmt {
            Mirror(_) | Fault(_) | Rewrite(_) | Headers(_) | Cors(_) => {
                "a rule's block (`-> v1 { ... }`)"
            }
            Listen(_) => "a `gateway`",
            Setting(s) if s.key.node == "selector" => "a `gateway`",
            Setting(s) if s.key.node == "egress" => "the `mesh { }` block",
            Setting(_) => "an `external` service",
            _ => "the service",
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
    policy: DestinationPolicy,
}

/// A declaration that becomes a `Service` of the model.
#[derive(Clone, Copy)]
enum Decl<'a> {
    Service(&'a ast::Service),
    External(&'a ast::Service),
    Expose(&'a ast::Expose),
}

impl<'a> Decl<'a> {
    fn name(self) -> &'a Name {
        match self {
            Decl::Service(s) | Decl::External(s) => &s.name,
            Decl::Expose(e) => &e.name,
        }
    }

    fn namespace(self) -> Option<&'a Name> {
        match self {
            Decl::Service(s) | Decl::External(s) => s.namespace.as_ref(),
            Decl::Expose(e) => e.namespace.as_ref(),
        }
    }

    fn body(self) -> &'a ast::Block {
        match self {
            Decl::Service(s) | Decl::External(s) => &s.body,
            Decl::Expose(e) => &e.body,
        }
    }

    fn span(self) -> Span {
        match self {
            Decl::Service(s) | Decl::External(s) => s.span,
            Decl::Expose(e) => e.span,
        }
    }

    fn place(self) -> Place {
        match self {
            Decl::Service(_) => Place::Service,
            Decl::External(_) => Place::External,
            Decl::Expose(_) => Place::Expose,
        }
    }
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
        let service = resolver.service_shell(*file, *decl, namespace);
        mesh.services.push(service);
    }
    resolver.check_unique_services(&mesh);
    for (index, (file, decl, _)) in declared.iter().enumerate() {
        let routes = resolver.routes(*file, *decl, index, &mesh);
        mesh.services[index].routes = routes;
    }
    resolver.gateways_and_mesh(&mut mesh);
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
                        "{} takes {}; `{keyword}` belongs in {}",
                        capitalise(place.describe()),
                        place.takes(),
                        Place::home_of(&stmt.kind)
                    )),
                );
            }
        }
    }

    /// Every service, external service and `expose` with its file and namespace, in
    /// file order.
    fn collect_services(&mut self) -> Vec<(FileId, Decl<'a>, String)> {
        let loaded = self.loaded;
        let mut services = Vec::new();
        for file in &loaded.files {
            let namespace = self.file_namespace(file);
            for item in &file.parsed.module.items {
                let decl = match item {
                    Item::Service(service) => Decl::Service(service),
                    Item::External(service) => Decl::External(service),
                    Item::Expose(expose) => Decl::Expose(expose),
                    _ => continue,
                };
                let namespace = decl
                    .namespace()
                    .map(|n| n.node.clone())
                    .unwrap_or_else(|| namespace.clone());
                services.push((file.id, decl, namespace));
            }
        }
        services
    }

    /// Gateways (with their namespaces) and the `mesh` block.
    fn gateways_and_mesh(&mut self, mesh: &mut Mesh) {
        let loaded = self.loaded;
        for file in &loaded.files {
            let file_namespace = self.file_namespace_quiet(file);
            for item in &file.parsed.module.items {
                match item {
                    Item::Gateway(gateway) => {
                        self.check_placement(&gateway.body, Place::Gateway);
                        let namespace = namespace_of(gateway, &file_namespace);
                        let gateway = self.gateway(gateway, namespace);
                        if let Some(first) = mesh
                            .gateways
                            .iter()
                            .find(|g| g.name == gateway.name && g.namespace == gateway.namespace)
                        {
                            let name = ast::Spanned::new(gateway.name.clone(), gateway.name_span);
                            self.report(duplicate("gateway", &name, first.name_span));
                            continue;
                        }
                        mesh.gateways.push(gateway);
                    }
                    Item::Sidecar(decl) => {
                        self.check_placement(&decl.body, Place::Sidecar);
                        let namespace = namespace_of(decl, &file_namespace);
                        let mut sidecar = crate::model::Sidecar {
                            name: decl.name.node.clone(),
                            namespace,
                            name_span: decl.name.span,
                            egress_hosts: Vec::new(),
                            outbound: None,
                        };
                        for stmt in &decl.body.stmts {
                            let StmtKind::Setting(setting) = &stmt.kind else {
                                continue;
                            };
                            if setting.key.node != "egress" {
                                continue;
                            }
                            for value in &setting.values {
                                match value.node.to_ascii_lowercase().as_str() {
                                    "registry-only" => {
                                        sidecar.outbound = Some("REGISTRY_ONLY".into())
                                    }
                                    "allow-any" => sidecar.outbound = Some("ALLOW_ANY".into()),
                                    _ => sidecar.egress_hosts.push(value.node.clone()),
                                }
                            }
                        }
                        mesh.sidecars.push(sidecar);
                    }
                    Item::Mesh(block) => {
                        self.check_placement(block, Place::Mesh);
                        for stmt in &block.stmts {
                            if let StmtKind::Setting(setting) = &stmt.kind {
                                if setting.key.node != "egress" {
                                    continue;
                                }
                                if let Some(previous) = &mesh.egress {
                                    self.report(repeated("egress", stmt.span, previous.span));
                                    continue;
                                }
                                if let Some(mode) = self.keyword_value(
                                    setting.values.first(),
                                    "egress",
                                    &[
                                        ("registry-only", "REGISTRY_ONLY"),
                                        ("allow-any", "ALLOW_ANY"),
                                    ],
                                ) {
                                    mesh.egress = Some(Located {
                                        value: mode,
                                        span: stmt.span,
                                        via: None,
                                    });
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn gateway(&mut self, decl: &ast::Service, namespace: String) -> Gateway {
        let mut selector = Vec::new();
        let mut servers = Vec::new();
        for stmt in &decl.body.stmts {
            match &stmt.kind {
                StmtKind::Setting(setting) if setting.key.node == "selector" => {
                    selector.extend(
                        setting
                            .labels
                            .iter()
                            .map(|l| (l.key.node.clone(), l.value.node.clone())),
                    );
                }
                StmtKind::Listen(listener) => {
                    let Ok(number) = u16::try_from(listener.port.node) else {
                        continue;
                    };
                    let tls = listener.tls.as_ref().and_then(|tls| {
                        let mode = self.keyword_value(
                            Some(&ast::Spanned::new(tls.mode.node.clone(), tls.mode.span)),
                            "TLS mode",
                            &[
                                ("simple", "SIMPLE"),
                                ("terminate", "SIMPLE"),
                                ("passthrough", "PASSTHROUGH"),
                                ("mutual", "MUTUAL"),
                                ("istio-mutual", "ISTIO_MUTUAL"),
                                ("auto-passthrough", "AUTO_PASSTHROUGH"),
                                ("optional-mutual", "OPTIONAL_MUTUAL"),
                            ],
                        )?;
                        Some(ServerTls {
                            mode,
                            credential: tls.credential.as_ref().map(|c| c.node.clone()),
                        })
                    });
                    servers.push(Server {
                        number,
                        protocol: listener.protocol.node.clone(),
                        name: listener
                            .name
                            .as_ref()
                            .map(|n| n.node.clone())
                            .unwrap_or_else(|| {
                                format!("{}-{number}", listener.protocol.node.to_ascii_lowercase())
                            }),
                        hosts: listener.hosts.iter().map(|h| h.node.clone()).collect(),
                        tls,
                        span: stmt.span,
                    });
                }
                _ => {}
            }
        }
        if selector.is_empty() {
            selector.push(("istio".to_string(), "ingressgateway".to_string()));
        }
        Gateway {
            name: decl.name.node.clone(),
            namespace,
            name_span: decl.name.span,
            selector,
            servers,
        }
    }

    /// Maps a word from a fixed set to its Istio spelling; reports anything else.
    fn keyword_value(
        &mut self,
        value: Option<&ast::Spanned<String>>,
        what: &str,
        table: &[(&str, &str)],
    ) -> Option<String> {
        let value = value?;
        if let Some((_, istio)) = table
            .iter()
            .find(|(word, _)| word.eq_ignore_ascii_case(&value.node))
        {
            return Some(istio.to_string());
        }
        if let Some((_, istio)) = table
            .iter()
            .find(|(_, istio)| istio.eq_ignore_ascii_case(&value.node))
        {
            return Some(istio.to_string());
        }
        let words: Vec<&str> = table.iter().map(|(w, _)| *w).collect();
        let mut diagnostic = Diagnostic::new(
            Code::UnknownValue,
            value.span,
            format!("`{}` is not a valid {what}", value.node),
        )
        .primary_text(format!("not one of: {}", words.join(", ")));
        diagnostic = match closest(&value.node.to_ascii_lowercase(), words.iter().copied()) {
            Some(near) => diagnostic.did_you_mean(value.span, near, format!("change to `{near}`")),
            None => diagnostic.help(format!("write one of: {}", words.join(", "))),
        };
        self.report(diagnostic);
        None
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
                Item::Service(s) | Item::External(s) | Item::Gateway(s) if first_decl.is_none() => {
                    first_decl = Some(s.name.span)
                }
                Item::Expose(e) if first_decl.is_none() => first_decl = Some(e.name.span),
                Item::Policy(p) if first_decl.is_none() => first_decl = Some(p.name.span),
                _ => {}
            }
        }
        namespace.map(|n| n.node.clone()).unwrap_or_default()
    }

    /// The file's namespace without reporting (`file_namespace` already did).
    fn file_namespace_quiet(&self, file: &LoadedFile) -> String {
        file.parsed
            .module
            .items
            .iter()
            .find_map(|item| match item {
                Item::Namespace(name) => Some(name.node.clone()),
                _ => None,
            })
            .unwrap_or_default()
    }

    /// A service with everything but its routes, which need every service's subsets.
    fn service_shell(&mut self, file: FileId, decl: Decl<'a>, namespace: &str) -> Service {
        let place = decl.place();
        self.check_placement(decl.body(), place);
        let mut hosts: Vec<String> = Vec::new();
        let mut ports = Vec::new();
        let mut subsets: Vec<Subset> = Vec::new();
        let mut accepts: Option<Accepts> = None;
        let mut idempotency_key = None;
        let mut shadow_safe = None::<Span>;
        let mut settings = Settings::default();
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        let mut uses = Vec::new();
        let mut external = External::default();
        for stmt in &decl.body().stmts {
            if !place.allows(&stmt.kind) {
                continue;
            }
            let keyword = stmt.kind.keyword();
            // Statements a block states once; `host`, `address` and `endpoint` may repeat
            // where a declaration has several.
            let once = match &stmt.kind {
                StmtKind::Host(_) => place == Place::Service,
                StmtKind::Setting(s) => matches!(s.key.node.as_str(), "resolve" | "location"),
                StmtKind::Port(_) | StmtKind::Subset(_) | StmtKind::Use(_) | StmtKind::Error => {
                    false
                }
                _ => true,
            };
            if once {
                if let Some(first) = seen.get(keyword) {
                    self.report(repeated(keyword, stmt.span, *first));
                    continue;
                }
                seen.insert(keyword, stmt.span);
            }
            match &stmt.kind {
                StmtKind::Host(h) => hosts.push(h.node.clone()),
                StmtKind::Port(p) => {
                    if let Some(port) = self.port(file, p, stmt.span) {
                        ports.push(port);
                    }
                }
                StmtKind::Subset(subset) => {
                    for mut new in subsets_of(subset) {
                        if let SubsetDecl::WithPolicy(_, _, block) = subset {
                            new.policy = Some(Box::new(self.destination_block(file, block)));
                        }
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
                StmtKind::ShadowSafe => shadow_safe = Some(stmt.span),
                StmtKind::Setting(setting) => {
                    self.external_setting(setting, stmt.span, &mut external)
                }
                StmtKind::Routes(_) | StmtKind::Error => {}
                other => self.apply_setting(&mut settings, other, stmt.span, None),
            }
        }
        for name in uses {
            self.apply_policy(file, name, &mut settings, Place::Service, &seen);
        }
        let name = decl.name();
        if hosts.is_empty() {
            match decl {
                Decl::Service(_) => hosts.push(if namespace.is_empty() {
                    name.node.clone()
                } else {
                    format!("{}.{namespace}.svc.cluster.local", name.node)
                }),
                Decl::External(_) | Decl::Expose(_) => {
                    self.report(
                        Diagnostic::new(
                            Code::MissingHost,
                            name.span,
                            format!("`{}` names no host", name.node),
                        )
                        .primary_text("declared without a `host` line")
                        .help("add the host names it answers for, e.g. `host api.example.com`"),
                    );
                    hosts.push(name.node.clone());
                }
            }
        }
        let (kind, gateways) = match decl {
            Decl::Service(_) => (ServiceKind::Mesh, Vec::new()),
            Decl::External(_) => (ServiceKind::External(Box::new(external)), Vec::new()),
            Decl::Expose(expose) => (
                ServiceKind::Expose,
                expose.gateways.iter().map(|g| g.node.clone()).collect(),
            ),
        };
        Service {
            kind,
            name: name.node.clone(),
            namespace: namespace.to_string(),
            host: hosts[0].clone(),
            hosts,
            gateways,
            name_span: name.span,
            span: decl.span(),
            ports,
            subsets,
            accepts,
            idempotency_key,
            shadow_safe,
            timeout: settings.timeout,
            retry: settings.retry,
            policy: (!settings.policy.is_empty()).then(|| Box::new(settings.policy)),
            routes: None,
        }
    }

    fn port(&mut self, file: FileId, decl: &ast::PortDecl, span: Span) -> Option<Port> {
        let number = u16::try_from(decl.number.node).ok().filter(|n| *n > 0)?;
        if let Some(protocol) = &decl.protocol {
            const PROTOCOLS: &[&str] = &[
                "http", "https", "http2", "grpc", "grpc-web", "tcp", "tls", "mongo", "mysql",
                "redis", "udp",
            ];
            if !PROTOCOLS
                .iter()
                .any(|p| p.eq_ignore_ascii_case(&protocol.node))
            {
                let table: Vec<(&str, &str)> = PROTOCOLS.iter().map(|p| (*p, *p)).collect();
                self.keyword_value(
                    Some(&ast::Spanned::new(protocol.node.clone(), protocol.span)),
                    "protocol",
                    &table,
                );
            }
        }
        Some(Port {
            number,
            protocol: decl.protocol.as_ref().map(|n| n.node.clone()),
            name: decl.name.as_ref().map(|n| n.node.clone()),
            policy: decl
                .policy
                .as_ref()
                .map(|block| Box::new(self.destination_block(file, block))),
            span,
        })
    }

    /// The policy of a `with { ... }` block of a port or subset.
    fn destination_block(&mut self, file: FileId, block: &ast::Block) -> DestinationPolicy {
        self.check_placement(block, Place::Destination);
        let mut settings = Settings::default();
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        let mut uses = Vec::new();
        for stmt in &block.stmts {
            if !Place::Destination.allows(&stmt.kind) {
                continue;
            }
            match &stmt.kind {
                StmtKind::Use(name) => uses.push(name),
                StmtKind::Error => {}
                other => {
                    let keyword = other.keyword();
                    if let Some(first) = seen.get(keyword) {
                        self.report(repeated(keyword, stmt.span, *first));
                        continue;
                    }
                    seen.insert(keyword, stmt.span);
                    self.apply_setting(&mut settings, other, stmt.span, None);
                }
            }
        }
        for name in uses {
            self.apply_policy(file, name, &mut settings, Place::Destination, &seen);
        }
        settings.policy
    }

    fn external_setting(&mut self, setting: &ast::Setting, span: Span, external: &mut External) {
        let located = |value: String| Located {
            value,
            span,
            via: None,
        };
        match setting.key.node.as_str() {
            "resolve" => {
                if let Some(mode) = self.keyword_value(
                    setting.values.first(),
                    "resolution",
                    &[
                        ("dns", "DNS"),
                        ("static", "STATIC"),
                        ("none", "NONE"),
                        ("dns-round-robin", "DNS_ROUND_ROBIN"),
                        ("dynamic-dns", "DYNAMIC_DNS"),
                    ],
                ) {
                    external.resolution = Some(located(mode));
                } else {
                    external.resolution_invalid = true;
                }
            }
            "location" => {
                external.location = self.keyword_value(
                    setting.values.first(),
                    "location",
                    &[("external", "MESH_EXTERNAL"), ("internal", "MESH_INTERNAL")],
                );
            }
            "address" => external
                .addresses
                .extend(setting.values.iter().map(|v| located(v.node.clone()))),
            "endpoint" => external.endpoints.extend(setting.values.iter().map(|v| {
                Located {
                    value: Endpoint {
                        address: v.node.clone(),
                        ports: setting
                            .labels
                            .iter()
                            .filter_map(|l| Some((l.key.node.clone(), l.value.node.parse().ok()?)))
                            .collect(),
                    },
                    span,
                    via: None,
                }
            })),
            _ => {}
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
            let destination_only = !matches!(stmt.kind, StmtKind::Timeout(_) | StmtKind::Retry(_));
            if place == Place::Destination && !destination_only {
                continue;
            }
            if place == Place::Rule && destination_only {
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
                StmtKind::Pool(_) => settings.policy.pool.as_ref().map(|s| s.via),
                StmtKind::Eject(_) => settings.policy.eject.as_ref().map(|s| s.via),
                StmtKind::Balance(_) => settings.policy.balance.as_ref().map(|s| s.via),
                StmtKind::Locality(_) => settings.policy.locality.as_ref().map(|s| s.via),
                StmtKind::Tls(_) => settings.policy.tls.as_ref().map(|s| s.via),
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
            self.apply_setting(settings, &stmt.kind, stmt.span, Some(name.span));
        }
    }

    fn apply_setting(
        &mut self,
        settings: &mut Settings,
        stmt: &StmtKind,
        span: Span,
        via: Option<Span>,
    ) {
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
                    if limit.kind.node == ast::PoolLimitKind::H2Upgrade {
                        pool.h2_upgrade = Some(limit.value.node == Some(1));
                        continue;
                    }
                    let value = match limit.value.node {
                        Some(n) => Limit::Max(u32::try_from(n).unwrap_or(u32::MAX)),
                        None => Limit::Unlimited,
                    };
                    let slot = match limit.kind.node {
                        ast::PoolLimitKind::Connections => &mut pool.max_connections,
                        ast::PoolLimitKind::Pending => &mut pool.max_pending,
                        ast::PoolLimitKind::Requests => &mut pool.max_requests,
                        ast::PoolLimitKind::PerConnection => &mut pool.per_connection,
                        ast::PoolLimitKind::H2Upgrade => continue,
                    };
                    *slot = Some(value);
                }
                settings.policy.pool = Some(located(pool, span, via));
            }
            StmtKind::Eject(spec) => {
                let percent = |p: &Option<ast::Spanned<f64>>| {
                    p.as_ref().map(|p| p.node.clamp(0.0, 100.0) as u32)
                };
                settings.policy.eject = Some(located(
                    OutlierDetection {
                        consecutive_errors: u32::try_from(spec.errors.node).unwrap_or(u32::MAX),
                        gateway_errors_only: spec.class.node == "gateway-error",
                        interval: spec.interval.as_ref().and_then(duration),
                        base_ejection: spec.base_ejection.as_ref().and_then(duration),
                        max_ejection_percent: percent(&spec.max_percent),
                        min_health_percent: percent(&spec.min_healthy),
                        errors_span: spec.errors.span,
                        max_span: spec.max_percent.as_ref().map(|p| p.span),
                    },
                    span,
                    via,
                ));
            }
            StmtKind::Balance(spec) => {
                let balancer = self.balancer(spec);
                settings.policy.balance = balancer.map(|b| located(b, span, via));
            }
            StmtKind::Locality(spec) => {
                let locality = locality_of(spec);
                settings.policy.locality = Some(located(locality, span, via));
            }
            StmtKind::Tls(spec) => {
                if let Some(mode) = self.keyword_value(
                    Some(&ast::Spanned::new(spec.mode.node.clone(), spec.mode.span)),
                    "TLS mode",
                    &[
                        ("istio-mutual", "ISTIO_MUTUAL"),
                        ("simple", "SIMPLE"),
                        ("mutual", "MUTUAL"),
                        ("disable", "DISABLE"),
                    ],
                ) {
                    settings.policy.tls = Some(located(
                        ClientTls {
                            mode,
                            credential: spec.credential.as_ref().map(|c| c.node.clone()),
                            sni: spec.sni.as_ref().map(|c| c.node.clone()),
                        },
                        span,
                        via,
                    ));
                }
            }
            _ => {}
        }
    }

    fn balancer(&mut self, spec: &ast::BalanceSpec) -> Option<LoadBalancer> {
        let warmup = spec
            .warmup
            .as_ref()
            .and_then(|d| d.node.nanos)
            .map(Duration);
        match &spec.kind {
            ast::BalanceKind::Simple(name) => {
                let simple = self.keyword_value(
                    Some(&ast::Spanned::new(name.node.clone(), name.span)),
                    "load balancer",
                    &[
                        ("least-request", "LEAST_REQUEST"),
                        ("round-robin", "ROUND_ROBIN"),
                        ("random", "RANDOM"),
                        ("passthrough", "PASSTHROUGH"),
                    ],
                )?;
                Some(LoadBalancer {
                    simple: Some(simple),
                    hash: None,
                    warmup,
                })
            }
            ast::BalanceKind::Hash { key, table } => {
                let key = match key {
                    ast::HashKey::Header(h) => HashKey::Header(h.node.clone()),
                    ast::HashKey::Query(q) => HashKey::Query(q.node.clone()),
                    ast::HashKey::SourceIp(_) => HashKey::SourceIp,
                    ast::HashKey::Cookie { name, ttl, path } => HashKey::Cookie {
                        name: name.node.clone(),
                        ttl: ttl.as_ref().and_then(|d| d.node.nanos).map(Duration),
                        path: path.as_ref().map(|p| p.node.clone()),
                    },
                };
                let table = table.as_ref().map(|(kind, size)| {
                    if kind.node == "ring" {
                        HashTable::Ring(size.node)
                    } else {
                        HashTable::Maglev(size.node)
                    }
                });
                Some(LoadBalancer {
                    simple: None,
                    hash: Some(ConsistentHash {
                        key,
                        table,
                        table_span: spec_table_span(spec),
                    }),
                    warmup,
                })
            }
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
            Some(near) => diagnostic.did_you_mean(name.span, &near, format!("use `{near}`")),
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
            // Route tables bound to different gateways may share a host.
            if !service.gateways.is_empty() {
                continue;
            }
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
        decl: Decl<'a>,
        index: usize,
        mesh: &Mesh,
    ) -> Option<RouteTable> {
        let table = decl.body().stmts.iter().find_map(|s| match &s.kind {
            StmtKind::Routes(table) => Some(table),
            _ => None,
        })?;
        let service = &mesh.services[index];
        let kind = self.route_kind(table, service);
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
                .filter_map(|d| {
                    self.destination(
                        &d.target,
                        d.port.as_ref(),
                        d.weight.as_ref(),
                        d.span,
                        service,
                        mesh,
                    )
                })
                .collect::<Vec<_>>();
            let resolved = destinations.len() == rule.destinations.len();
            let mut settings = Settings::default();
            let mut seen: HashMap<&'static str, Span> = HashMap::new();
            let mut mirrors = Vec::new();
            let mut faults = Vec::new();
            let mut rewrite: Option<Rewrite> = None;
            let mut headers = Headers::default();
            let mut cors = None;
            if let Some(body) = &rule.body {
                self.check_placement(body, Place::Rule);
                let mut uses = Vec::new();
                for stmt in &body.stmts {
                    if !Place::Rule.allows(&stmt.kind) {
                        continue;
                    }
                    let keyword = stmt.kind.keyword();
                    match &stmt.kind {
                        StmtKind::Timeout(_) | StmtKind::Retry(_) | StmtKind::Cors(_) => {
                            if let Some(first) = seen.get(keyword) {
                                self.report(repeated(keyword, stmt.span, *first));
                                continue;
                            }
                            seen.insert(keyword, stmt.span);
                            if let StmtKind::Cors(spec) = &stmt.kind {
                                cors = Some(Located {
                                    value: cors_of(spec),
                                    span: stmt.span,
                                    via: None,
                                });
                            } else {
                                self.apply_setting(&mut settings, &stmt.kind, stmt.span, None);
                            }
                        }
                        StmtKind::Use(name) => uses.push(name),
                        StmtKind::Mirror(mirror) => {
                            if let Some(destination) = self.destination(
                                &mirror.target,
                                mirror.port.as_ref(),
                                None,
                                stmt.span,
                                service,
                                mesh,
                            ) {
                                mirrors.push(Mirror {
                                    destination,
                                    percent: mirror.percent.as_ref().map(|p| p.node),
                                    span: stmt.span,
                                });
                            }
                        }
                        StmtKind::Fault(fault) => {
                            let kind = match &fault.kind {
                                ast::FaultKind::Delay(d) => match d.node.nanos {
                                    Some(n) => FaultKind::Delay(Duration(n)),
                                    None => continue,
                                },
                                ast::FaultKind::Abort(status) => {
                                    FaultKind::Abort(u32::try_from(status.node).unwrap_or(u32::MAX))
                                }
                                ast::FaultKind::AbortGrpc(status) => {
                                    FaultKind::AbortGrpc(status.node.clone())
                                }
                            };
                            let same = |f: &&Located<Fault>| {
                                std::mem::discriminant(&f.value.kind)
                                    == std::mem::discriminant(&kind)
                                    || matches!(
                                        (&f.value.kind, &kind),
                                        (FaultKind::Abort(_), FaultKind::AbortGrpc(_))
                                            | (FaultKind::AbortGrpc(_), FaultKind::Abort(_))
                                    )
                            };
                            if let Some(first) = faults.iter().find(same) {
                                self.report(repeated("fault", stmt.span, first.span));
                                continue;
                            }
                            faults.push(Located {
                                value: Fault {
                                    kind,
                                    percent: fault.percent.as_ref().map(|p| p.node),
                                    percent_span: fault.percent.as_ref().map(|p| p.span),
                                    unscoped: fault.unscoped.is_some(),
                                },
                                span: stmt.span,
                                via: None,
                            });
                        }
                        StmtKind::Rewrite(spec) => {
                            let rewrite = rewrite.get_or_insert_with(Rewrite::default);
                            let (slot, what) = match spec {
                                ast::RewriteSpec::Path(_) | ast::RewriteSpec::Regex(..) => (
                                    rewrite.uri.is_some() || rewrite.regex.is_some(),
                                    "rewrite path",
                                ),
                                ast::RewriteSpec::Authority(_) => {
                                    (rewrite.authority.is_some(), "rewrite authority")
                                }
                            };
                            if slot {
                                self.report(
                                    Diagnostic::new(
                                        Code::DuplicateSetting,
                                        stmt.span,
                                        format!("`{what}` is given twice in this rule"),
                                    )
                                    .primary_text("second one")
                                    .help(format!("keep one `{what}`")),
                                );
                                continue;
                            }
                            match spec {
                                ast::RewriteSpec::Path(path) => {
                                    rewrite.uri = Some(path.node.clone())
                                }
                                ast::RewriteSpec::Authority(a) => {
                                    rewrite.authority = Some(a.node.clone())
                                }
                                ast::RewriteSpec::Regex(pattern, sub) => {
                                    rewrite.regex = Some((pattern.node.clone(), sub.node.clone()))
                                }
                            }
                        }
                        StmtKind::Headers(ops) => {
                            let edits = match ops.side {
                                ast::HeaderSide::Request => &mut headers.request,
                                ast::HeaderSide::Response => &mut headers.response,
                            };
                            header_edits(edits, &ops.ops);
                        }
                        _ => {}
                    }
                }
                for name in uses {
                    self.apply_policy(file, name, &mut settings, Place::Rule, &seen);
                }
            }
            let action = rule
                .action
                .as_ref()
                .map(|action| Box::new(self.action(action)));
            rules.push(Rule {
                matches,
                catch_all,
                head_span,
                destinations,
                resolved,
                timeout: settings.timeout.or_else(|| service.timeout.clone()),
                retry: settings.retry.or_else(|| service.retry.clone()),
                mirrors,
                faults,
                rewrite: rewrite.map(Box::new),
                headers: (!headers.request.is_empty() || !headers.response.is_empty())
                    .then(|| Box::new(headers)),
                cors: cors.map(Box::new),
                action,
                span: rule.span,
            });
        }
        Some(RouteTable {
            kind,
            rules,
            span: table.span,
        })
    }

    /// `routes tcp { }` as written, else by the ports: HTTP unless every port speaks
    /// TLS (then TLS) or plain TCP.
    fn route_kind(&mut self, table: &ast::RouteTable, service: &Service) -> RouteKind {
        if let Some(kind) = &table.kind {
            let spanned = ast::Spanned::new(kind.node.clone(), kind.span);
            return match self
                .keyword_value(
                    Some(&spanned),
                    "route table kind",
                    &[("http", "http"), ("tls", "tls"), ("tcp", "tcp")],
                )
                .as_deref()
            {
                Some("tls") => RouteKind::Tls,
                Some("tcp") => RouteKind::Tcp,
                _ => RouteKind::Http,
            };
        }
        let protocols: Vec<String> = service
            .ports
            .iter()
            .filter_map(|p| p.protocol.as_ref().map(|p| p.to_ascii_lowercase()))
            .collect();
        let http = |p: &str| matches!(p, "http" | "http2" | "grpc" | "grpc-web");
        if protocols.is_empty() || protocols.iter().any(|p| http(p)) {
            RouteKind::Http
        } else if protocols.iter().any(|p| p == "tls" || p == "https") {
            RouteKind::Tls
        } else {
            RouteKind::Tcp
        }
    }

    fn action(&mut self, action: &ast::Action) -> RouteAction {
        match action {
            ast::Action::Redirect(fields, span) => {
                let mut redirect = (None, None, None, None, None);
                let mut seen: HashMap<&str, Span> = HashMap::new();
                for (key, value) in fields {
                    if let Some(first) = seen.insert(&key.node, key.span) {
                        self.report(repeated(&key.node, key.span, first));
                        continue;
                    }
                    let number = |text: &str| text.parse::<u32>().ok();
                    match key.node.as_str() {
                        "path" => redirect.0 = Some(value.node.clone()),
                        "authority" => redirect.1 = Some(value.node.clone()),
                        "scheme" => redirect.2 = Some(value.node.clone()),
                        "port" => match number(&value.node)
                            .and_then(|p| u16::try_from(p).ok())
                            .filter(|p| *p > 0)
                        {
                            Some(port) => redirect.3 = Some(port),
                            None => self.report(
                                Diagnostic::new(
                                    Code::PortOutOfRange,
                                    value.span,
                                    format!("`{}` is not a port", value.node),
                                )
                                .primary_text("ports are 1 to 65535")
                                .help("write the port to redirect to, such as `port 8443`"),
                            ),
                        },
                        _ => match number(&value.node) {
                            Some(code) => {
                                redirect.4 = Some(Located {
                                    value: code,
                                    span: value.span,
                                    via: None,
                                })
                            }
                            None => self.report(
                                Diagnostic::new(
                                    Code::InvalidLiteral,
                                    value.span,
                                    format!("`{}` is not a status code", value.node),
                                )
                                .primary_text("a redirect code is a number")
                                .help("write `code 301` (permanent) or `code 302` (temporary)"),
                            ),
                        },
                    }
                }
                RouteAction::Redirect {
                    uri: redirect.0,
                    authority: redirect.1,
                    scheme: redirect.2,
                    port: redirect.3,
                    code: redirect.4,
                    span: *span,
                }
            }
            ast::Action::Respond { status, body, span } => RouteAction::Respond {
                status: Located {
                    value: u32::try_from(status.node).unwrap_or(u32::MAX),
                    span: status.span,
                    via: None,
                },
                body: body.as_ref().map(|b| b.node.clone()),
                span: *span,
            },
        }
    }

    fn destination(
        &mut self,
        target: &[Name],
        port: Option<&ast::Spanned<u64>>,
        weight: Option<&ast::Spanned<f64>>,
        span: Span,
        service: &Service,
        mesh: &Mesh,
    ) -> Option<Destination> {
        let port = port.and_then(|p| u16::try_from(p.node).ok());
        let weight = weight.map(|w| Located {
            value: w.node,
            span: w.span,
            via: None,
        });
        let make = |host: &str, subset: Option<&str>| Destination {
            host: host.to_string(),
            subset: subset.map(str::to_string),
            port,
            weight: weight.clone(),
            span,
        };
        match target {
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
        Some(near) => diagnostic.did_you_mean(name.span, near, format!("change to `{near}`")),
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
        Some(near) => diagnostic.did_you_mean(name.span, near, format!("change to `{near}`")),
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
                policy: None,
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
                policy: None,
                span: name.span,
            }]
        }
        SubsetDecl::WithPolicy(name, None, _) => vec![Subset {
            name: name.node.clone(),
            labels: vec![("version".to_string(), name.node.clone())],
            policy: None,
            span: name.span,
        }],
    }
}

fn duration(d: &ast::Spanned<ast::Duration>) -> Option<Duration> {
    d.node.nanos.map(Duration)
}

fn locality_of(spec: &ast::LocalitySpec) -> Locality {
    match spec {
        ast::LocalitySpec::FailoverPriority(labels) => Locality::FailoverPriority(
            labels
                .iter()
                .map(|l| match l.node.as_str() {
                    "region" => "topology.kubernetes.io/region".to_string(),
                    "zone" => "topology.kubernetes.io/zone".to_string(),
                    "subzone" => "topology.istio.io/subzone".to_string(),
                    "network" => "topology.istio.io/network".to_string(),
                    other => other.to_string(),
                })
                .collect(),
        ),
        ast::LocalitySpec::Failover { from, to } => Locality::Failover {
            from: from.node.clone(),
            to: to.node.clone(),
        },
        ast::LocalitySpec::Distribute { from, to } => Locality::Distribute {
            from: from.node.clone(),
            to: to
                .iter()
                .map(|(target, weight)| (target.node.clone(), weight.node.round() as u32))
                .collect(),
        },
        ast::LocalitySpec::Off(_) => Locality::Off,
    }
}

fn cors_of(spec: &ast::CorsSpec) -> Cors {
    Cors {
        origins: spec
            .origins
            .iter()
            .map(|(op, v)| (*op, v.node.clone()))
            .collect(),
        methods: spec.methods.iter().map(|m| m.node.clone()).collect(),
        allow_headers: spec.allow_headers.iter().map(|h| h.node.clone()).collect(),
        expose_headers: spec.expose_headers.iter().map(|h| h.node.clone()).collect(),
        max_age: spec
            .max_age
            .as_ref()
            .and_then(|d| d.node.nanos)
            .map(Duration),
        credentials: spec.credentials.is_some(),
    }
}

fn header_edits(edits: &mut HeaderEdits, ops: &[ast::HeaderOp]) {
    for op in ops {
        match op {
            ast::HeaderOp::Set(name, value) => {
                edits.set.push((name.node.clone(), value.node.clone()))
            }
            ast::HeaderOp::Add(name, value) => {
                edits.add.push((name.node.clone(), value.node.clone()))
            }
            ast::HeaderOp::Remove(name) => edits.remove.push(name.node.clone()),
        }
    }
}

fn spec_table_span(spec: &ast::BalanceSpec) -> Option<Span> {
    match &spec.kind {
        ast::BalanceKind::Hash { table, .. } => table.as_ref().map(|(_, size)| size.span),
        ast::BalanceKind::Simple(_) => None,
    }
}

/// A declaration's own `in NAMESPACE`, else its file's.
fn namespace_of(decl: &ast::Service, file_namespace: &str) -> String {
    decl.namespace
        .as_ref()
        .map_or_else(|| file_namespace.to_string(), |n| n.node.clone())
}
