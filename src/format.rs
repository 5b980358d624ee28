//! The formatter behind `routec fmt` and the language server's formatting.
//!
//! Syntax tree and comments in, canonical text out: two-space indentation, one
//! statement per line, single spaces around operators, at most one blank line kept
//! where the author left one, and one blank line between top-level declarations.
//! Literals are printed exactly as written (a duration stays `1500ms`, a string keeps
//! its escapes), so formatting never changes meaning. Comments stay with the statement
//! they precede or end. A file with syntax errors is not formatted.

use crate::diagnostics::Diagnostic;
use crate::source::{FileId, Span};
use crate::syntax::ast::*;
use crate::syntax::lexer::Comment;
use crate::syntax::parse;

/// Formats a file; the syntax errors when it has any.
pub fn format(text: &str) -> Result<String, Vec<Diagnostic>> {
    let parsed = parse(FileId(0), text);
    if !parsed.diagnostics.is_empty() {
        return Err(parsed.diagnostics);
    }
    let mut printer = Printer {
        text,
        comments: &parsed.comments,
        next_comment: 0,
        out: String::with_capacity(text.len() + text.len() / 8),
        indent: 0,
    };
    printer.module(&parsed.module);
    Ok(printer.out)
}

struct Printer<'a> {
    text: &'a str,
    comments: &'a [Comment],
    next_comment: usize,
    out: String,
    indent: usize,
}

impl<'a> Printer<'a> {
    fn module(&mut self, module: &Module) {
        let mut previous: Option<(Span, bool)> = None;
        for item in &module.items {
            let (span, is_block) = match item {
                Item::Namespace(name) => (self.keyword_before(name.span, "namespace"), false),
                Item::Import(import) => (import.span, false),
                Item::Service(service) => (service.span, true),
                Item::Policy(policy) => (policy.span, true),
                Item::External(service) | Item::Gateway(service) | Item::Sidecar(service) => {
                    (service.span, true)
                }
                Item::Expose(expose) => (expose.span, true),
                Item::Mesh(block) => (self.keyword_before(block.span, "mesh"), true),
                Item::Error(_) => continue,
            };
            if let Some((end, was_block)) = previous {
                let blank = is_block || was_block || self.blank_between(end.end, span.start);
                if blank {
                    self.out.push('\n');
                }
            }
            self.leading(span.start as usize);
            self.write_indent();
            match item {
                Item::Namespace(name) => {
                    self.out.push_str("namespace ");
                    self.out.push_str(&name.node);
                }
                Item::Import(import) => {
                    self.out.push_str("import ");
                    match &import.target {
                        ImportTarget::Module { root, module } => {
                            self.out.push_str(&root.node);
                            self.out.push('/');
                            self.out.push_str(&module.node);
                        }
                        ImportTarget::Path(path) => self.out.push_str(self.slice(path.span)),
                    }
                }
                Item::Service(service) => self.declaration("service", service),
                Item::External(service) => self.declaration("external", service),
                Item::Gateway(service) => self.declaration("gateway", service),
                Item::Sidecar(service) => self.declaration("sidecar", service),
                Item::Expose(expose) => {
                    self.out.push_str("expose ");
                    self.out.push_str(&expose.name.node);
                    if let Some(ns) = &expose.namespace {
                        self.out.push_str(" in ");
                        self.out.push_str(&ns.node);
                    }
                    self.out.push_str(" on ");
                    self.names(&expose.gateways);
                    self.out.push(' ');
                    self.block(&expose.body);
                }
                Item::Mesh(block) => {
                    self.out.push_str("mesh ");
                    self.block(block);
                }
                Item::Policy(policy) => {
                    self.out.push_str("policy ");
                    self.out.push_str(&policy.name.node);
                    self.out.push(' ');
                    self.block(&policy.body);
                }
                Item::Error(_) => {}
            }
            self.trailing(span.end);
            self.out.push('\n');
            previous = Some((span, is_block));
        }
        if self.next_comment < self.comments.len() {
            if previous.is_some() && self.blank_between_pos(self.text.len()) {
                self.out.push('\n');
            }
            self.leading(self.text.len() + 1);
        }
        while self.out.ends_with("\n\n") {
            self.out.pop();
        }
    }

    fn declaration(&mut self, keyword: &str, service: &Service) {
        self.out.push_str(keyword);
        self.out.push(' ');
        self.out.push_str(&service.name.node);
        if let Some(ns) = &service.namespace {
            self.out.push_str(" in ");
            self.out.push_str(&ns.node);
        }
        self.out.push(' ');
        self.block(&service.body);
    }

    /// A `{ ... }` block of statements, ending at its `}` (no newline after it).
    fn block(&mut self, block: &Block) {
        if block.stmts.is_empty() && !self.has_comment_before(block.span.end) {
            self.out.push_str("{}");
            return;
        }
        self.out.push('{');
        self.trailing(block.span.start + 1);
        self.out.push('\n');
        self.indent += 1;
        let mut previous: Option<Span> = None;
        for stmt in &block.stmts {
            if let Some(prev) = previous {
                if self.blank_between(prev.end, stmt.span.start) {
                    self.out.push('\n');
                }
            }
            self.leading(stmt.span.start as usize);
            self.write_indent();
            self.stmt(stmt);
            self.trailing(stmt.span.end);
            self.out.push('\n');
            previous = Some(stmt.span);
        }
        self.leading(block.span.end.saturating_sub(1) as usize);
        self.indent -= 1;
        self.write_indent();
        self.out.push('}');
    }

    fn stmt(&mut self, stmt: &Stmt) {
        match &stmt.kind {
            StmtKind::Host(host) => {
                self.out.push_str("host ");
                self.text_value(host);
            }
            StmtKind::Port(port) => {
                self.out.push_str("port ");
                self.out.push_str(self.slice(port.number.span));
                if let Some(protocol) = &port.protocol {
                    self.out.push(' ');
                    self.out.push_str(&protocol.node);
                }
                if let Some(name) = &port.name {
                    self.out.push_str(" named ");
                    self.out.push_str(&name.node);
                }
                if let Some(policy) = &port.policy {
                    self.out.push_str(" with ");
                    self.block(policy);
                }
            }
            StmtKind::Subset(SubsetDecl::Versions(names)) => {
                self.out.push_str("subset ");
                self.names(names);
            }
            StmtKind::Subset(SubsetDecl::Labels(name, labels)) => {
                self.out.push_str("subset ");
                self.out.push_str(&name.node);
                self.labels(labels);
            }
            StmtKind::Subset(SubsetDecl::WithPolicy(name, labels, policy)) => {
                self.out.push_str("subset ");
                self.out.push_str(&name.node);
                if let Some(labels) = labels {
                    self.labels(labels);
                }
                self.out.push_str(" with ");
                self.block(policy);
            }
            StmtKind::ShadowSafe => self.out.push_str("shadow-safe"),
            StmtKind::Accepts(methods) => {
                self.out.push_str("accepts ");
                self.names(methods);
            }
            StmtKind::IdempotencyKey(key) => {
                self.out.push_str("idempotency-key ");
                self.text_value(key);
            }
            StmtKind::Timeout(d) => {
                self.out.push_str("timeout ");
                self.out.push_str(self.slice(d.span));
            }
            StmtKind::Retry(retry) => self.retry(retry),
            StmtKind::Use(name) => {
                self.out.push_str("use ");
                self.out.push_str(&name.node);
            }
            StmtKind::Pool(limits) => {
                self.out.push_str("pool {");
                for limit in limits {
                    self.out.push(' ');
                    if limit.kind.node == PoolLimitKind::H2Upgrade {
                        self.out.push_str(if limit.value.node == Some(1) {
                            "h2-upgrade"
                        } else {
                            "h2-upgrade off"
                        });
                        continue;
                    }
                    self.out.push_str(match limit.kind.node {
                        PoolLimitKind::Connections => "connections",
                        PoolLimitKind::Pending => "pending",
                        PoolLimitKind::Requests => "requests",
                        PoolLimitKind::PerConnection => "per-connection",
                        PoolLimitKind::H2Upgrade => "h2-upgrade",
                    });
                    self.out.push(' ');
                    match limit.value.node {
                        Some(_) => self.out.push_str(self.slice(limit.value.span)),
                        None => self.out.push_str("unlimited"),
                    }
                }
                self.out
                    .push_str(if limits.is_empty() { "}" } else { " }" });
            }
            StmtKind::Eject(eject) => self.eject(eject),
            StmtKind::Routes(table) => self.routes(table),
            StmtKind::Mirror(mirror) => {
                self.out.push_str("mirror ");
                self.path(&mirror.target);
                if let Some(port) = &mirror.port {
                    self.out.push(':');
                    self.out.push_str(self.slice(port.span));
                }
                if let Some(percent) = &mirror.percent {
                    self.out.push(' ');
                    self.out.push_str(self.slice(percent.span));
                }
            }
            StmtKind::Fault(fault) => {
                self.out.push_str("fault ");
                match &fault.kind {
                    FaultKind::Delay(d) => {
                        self.out.push_str("delay ");
                        self.out.push_str(self.slice(d.span));
                    }
                    FaultKind::Abort(status) => {
                        self.out.push_str("abort ");
                        self.out.push_str(self.slice(status.span));
                    }
                    FaultKind::AbortGrpc(status) => {
                        self.out.push_str("abort grpc ");
                        self.out.push_str(&status.node);
                    }
                }
                if let Some(percent) = &fault.percent {
                    self.out.push(' ');
                    self.out.push_str(self.slice(percent.span));
                }
                if fault.unscoped.is_some() {
                    self.out.push_str(" unscoped");
                }
            }
            StmtKind::Rewrite(rewrite) => {
                self.out.push_str("rewrite ");
                match rewrite {
                    RewriteSpec::Path(path) => {
                        self.out.push_str("path ");
                        self.text_value(path);
                    }
                    RewriteSpec::Authority(authority) => {
                        self.out.push_str("authority ");
                        self.text_value(authority);
                    }
                    RewriteSpec::Regex(pattern, substitution) => {
                        self.out.push_str("path ~= ");
                        self.text_value(pattern);
                        self.out.push_str(" to ");
                        self.text_value(substitution);
                    }
                }
            }
            StmtKind::Headers(headers) => {
                self.out.push_str(match headers.side {
                    HeaderSide::Request => "request-headers {",
                    HeaderSide::Response => "response-headers {",
                });
                for op in &headers.ops {
                    self.out.push(' ');
                    match op {
                        HeaderOp::Set(name, value) | HeaderOp::Add(name, value) => {
                            self.out.push_str(if matches!(op, HeaderOp::Set(..)) {
                                "set "
                            } else {
                                "add "
                            });
                            self.text_value(name);
                            self.out.push(' ');
                            self.text_value(value);
                        }
                        HeaderOp::Remove(name) => {
                            self.out.push_str("remove ");
                            self.text_value(name);
                        }
                    }
                }
                self.out
                    .push_str(if headers.ops.is_empty() { "}" } else { " }" });
            }
            StmtKind::Cors(cors) => self.cors(cors),
            StmtKind::Balance(balance) => {
                self.out.push_str("balance ");
                match &balance.kind {
                    BalanceKind::Simple(name) => self.out.push_str(&name.node),
                    BalanceKind::Hash { key, table } => {
                        self.out.push_str("hash ");
                        match key {
                            HashKey::Header(name) => {
                                self.out.push_str("header ");
                                self.text_value(name);
                            }
                            HashKey::Query(name) => {
                                self.out.push_str("query ");
                                self.text_value(name);
                            }
                            HashKey::SourceIp(_) => self.out.push_str("source-ip"),
                            HashKey::Cookie { name, ttl, path } => {
                                self.out.push_str("cookie ");
                                self.text_value(name);
                                if let Some(ttl) = ttl {
                                    self.out.push_str(" ttl ");
                                    self.out.push_str(self.slice(ttl.span));
                                }
                                if let Some(path) = path {
                                    self.out.push_str(" path ");
                                    self.text_value(path);
                                }
                            }
                        }
                        if let Some((kind, size)) = table {
                            self.out.push(' ');
                            self.out.push_str(&kind.node);
                            self.out.push(' ');
                            self.out.push_str(self.slice(size.span));
                        }
                    }
                }
                if let Some(warmup) = &balance.warmup {
                    self.out.push_str(" warmup ");
                    self.out.push_str(self.slice(warmup.span));
                }
            }
            StmtKind::Locality(locality) => {
                self.out.push_str("locality ");
                match locality {
                    LocalitySpec::FailoverPriority(labels) => {
                        self.out.push_str("failover ");
                        self.texts(labels);
                    }
                    LocalitySpec::Failover { from, to } => {
                        self.out.push_str("failover from ");
                        self.text_value(from);
                        self.out.push_str(" to ");
                        self.text_value(to);
                    }
                    LocalitySpec::Distribute { from, to } => {
                        self.out.push_str("distribute from ");
                        self.text_value(from);
                        self.out.push_str(" to ");
                        for (i, (target, weight)) in to.iter().enumerate() {
                            if i > 0 {
                                self.out.push_str(", ");
                            }
                            self.text_value(target);
                            self.out.push(' ');
                            self.out.push_str(self.slice(weight.span));
                        }
                    }
                    LocalitySpec::Off(_) => self.out.push_str("off"),
                }
            }
            StmtKind::Tls(tls) => {
                self.out.push_str("tls ");
                self.tls(tls);
            }
            StmtKind::Setting(setting) => {
                self.out.push_str(&setting.key.node);
                if !setting.values.is_empty() {
                    self.out.push(' ');
                    self.texts(&setting.values);
                }
                if !setting.labels.is_empty() && setting.key.node == "endpoint" {
                    self.labels(&setting.labels);
                } else if !setting.labels.is_empty() {
                    self.out.push(' ');
                    for (i, label) in setting.labels.iter().enumerate() {
                        if i > 0 {
                            self.out.push_str(", ");
                        }
                        self.text_value(&label.key);
                        self.out.push_str(": ");
                        self.text_value(&label.value);
                    }
                }
            }
            StmtKind::Listen(listener) => {
                self.out.push_str("listen ");
                self.out.push_str(&listener.protocol.node);
                self.out.push(' ');
                self.out.push_str(self.slice(listener.port.span));
                if let Some(name) = &listener.name {
                    self.out.push_str(" named ");
                    self.out.push_str(&name.node);
                }
                self.out.push_str(" host ");
                self.texts(&listener.hosts);
                if let Some(tls) = &listener.tls {
                    self.out.push(' ');
                    self.tls(tls);
                }
            }
            StmtKind::Error => {}
        }
    }

    fn labels(&mut self, labels: &[LabelPair]) {
        self.out.push_str(" { ");
        for (i, label) in labels.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.text_value(&label.key);
            self.out.push_str(": ");
            self.text_value(&label.value);
        }
        self.out.push_str(" }");
    }

    fn path(&mut self, target: &[Name]) {
        let names: Vec<&str> = target.iter().map(|n| n.node.as_str()).collect();
        self.out.push_str(&names.join("."));
    }

    fn texts(&mut self, values: &[Spanned<String>]) {
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.text_value(value);
        }
    }

    fn tls(&mut self, tls: &TlsSpec) {
        self.out.push_str(&tls.mode.node);
        if let Some(credential) = &tls.credential {
            self.out.push_str(" cert ");
            self.text_value(credential);
        }
        if let Some(sni) = &tls.sni {
            self.out.push_str(" sni ");
            self.text_value(sni);
        }
    }

    fn cors(&mut self, cors: &CorsSpec) {
        self.out.push_str("cors {\n");
        self.indent += 1;
        for (op, origin) in &cors.origins {
            self.write_indent();
            self.out.push_str("origin ");
            self.out.push_str(op.symbol());
            self.out.push(' ');
            self.text_value(origin);
            self.out.push('\n');
        }
        if !cors.methods.is_empty() {
            self.write_indent();
            self.out.push_str("allow-methods ");
            self.names(&cors.methods);
            self.out.push('\n');
        }
        for (keyword, list) in [
            ("allow-headers", &cors.allow_headers),
            ("expose-headers", &cors.expose_headers),
        ] {
            if !list.is_empty() {
                self.write_indent();
                self.out.push_str(keyword);
                self.out.push(' ');
                self.texts(list);
                self.out.push('\n');
            }
        }
        if let Some(max_age) = &cors.max_age {
            self.write_indent();
            self.out.push_str("max-age ");
            self.out.push_str(self.slice(max_age.span));
            self.out.push('\n');
        }
        if cors.credentials.is_some() {
            self.write_indent();
            self.out.push_str("credentials\n");
        }
        self.indent -= 1;
        self.write_indent();
        self.out.push('}');
    }

    fn retry(&mut self, retry: &RetrySpec) {
        self.out.push_str("retry ");
        let text = self.slice(retry.attempts.span);
        self.out.push_str(text);
        if let Some(per_try) = &retry.per_try {
            self.out.push_str(" x ");
            self.out.push_str(self.slice(per_try.span));
        }
        if let Some(conditions) = &retry.conditions {
            self.out.push_str(" on ");
            self.names(conditions);
        }
    }

    fn eject(&mut self, eject: &EjectSpec) {
        self.out.push_str("eject after ");
        self.out.push_str(self.slice(eject.errors.span));
        self.out.push_str(" consecutive ");
        self.out.push_str(&eject.class.node);
        if let Some(interval) = &eject.interval {
            self.out.push_str(" every ");
            self.out.push_str(self.slice(interval.span));
        }
        if let Some(time) = &eject.base_ejection {
            self.out.push_str(" for ");
            self.out.push_str(self.slice(time.span));
        }
        if eject.max_percent.is_some() || eject.min_healthy.is_some() {
            self.out.push_str(" {");
            if let Some(max) = &eject.max_percent {
                self.out.push_str(" max ");
                self.out.push_str(self.slice(max.span));
            }
            if let Some(min) = &eject.min_healthy {
                self.out.push_str(" min-healthy ");
                self.out.push_str(self.slice(min.span));
            }
            self.out.push_str(" }");
        }
    }

    fn routes(&mut self, table: &RouteTable) {
        self.out.push_str("routes ");
        if let Some(kind) = &table.kind {
            self.out.push_str(&kind.node);
            self.out.push(' ');
        }
        if table.rules.is_empty() && !self.has_comment_before(table.span.end) {
            self.out.push_str("{}");
            return;
        }
        self.out.push('{');
        let open = self.text[table.span.range()].find('{').unwrap_or(0) as u32;
        self.trailing(table.span.start + open + 1);
        self.out.push('\n');
        self.indent += 1;
        let mut previous: Option<Span> = None;
        for rule in &table.rules {
            if let Some(prev) = previous {
                if self.blank_between(prev.end, rule.span.start) {
                    self.out.push('\n');
                }
            }
            self.leading(rule.span.start as usize);
            self.write_indent();
            self.rule(rule);
            self.trailing(rule.span.end);
            self.out.push('\n');
            previous = Some(rule.span);
        }
        self.leading(table.span.end.saturating_sub(1) as usize);
        self.indent -= 1;
        self.write_indent();
        self.out.push('}');
    }

    fn rule(&mut self, rule: &Rule) {
        match &rule.guard {
            Guard::When(matches) => {
                self.out.push_str("when ");
                for (i, m) in matches.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(" or ");
                    }
                    for (j, condition) in m.conditions.iter().enumerate() {
                        if j > 0 {
                            self.out.push_str(" and ");
                        }
                        self.condition(condition);
                    }
                }
            }
            Guard::Else(_) => self.out.push_str("else"),
            Guard::Error => {}
        }
        self.out.push_str(" -> ");
        match &rule.action {
            Some(Action::Redirect(fields, _)) => {
                self.out.push_str("redirect");
                for (key, value) in fields {
                    self.out.push(' ');
                    self.out.push_str(&key.node);
                    self.out.push(' ');
                    self.text_value(value);
                }
            }
            Some(Action::Respond { status, body, .. }) => {
                self.out.push_str("respond ");
                self.out.push_str(self.slice(status.span));
                if let Some(body) = body {
                    self.out.push(' ');
                    self.text_value(body);
                }
            }
            None => {}
        }
        for (i, dest) in rule.destinations.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            let names: Vec<&str> = dest.target.iter().map(|n| n.node.as_str()).collect();
            self.out.push_str(&names.join("."));
            if let Some(port) = &dest.port {
                self.out.push(':');
                self.out.push_str(self.slice(port.span));
            }
            if let Some(weight) = &dest.weight {
                self.out.push(' ');
                self.out.push_str(self.slice(weight.span));
            }
        }
        if let Some(body) = &rule.body {
            if !body.stmts.is_empty() || self.has_comment_before(body.span.end) {
                self.out.push(' ');
                self.block(body);
            }
        }
    }

    fn condition(&mut self, condition: &Condition) {
        match &condition.field {
            Field::Path => self.out.push_str("path"),
            Field::Method => self.out.push_str("method"),
            Field::Header(name) => {
                self.out.push_str("header ");
                self.text_value(name);
            }
            Field::Query(name) => {
                self.out.push_str("query ");
                self.text_value(name);
            }
            Field::Authority => self.out.push_str("authority"),
            Field::Scheme => self.out.push_str("scheme"),
            Field::Port => self.out.push_str("port"),
            Field::Sni => self.out.push_str("sni"),
        }
        match &condition.test {
            Test::Present => self.out.push_str(" present"),
            Test::Compare(op, value) => {
                self.out.push(' ');
                self.out.push_str(op.symbol());
                self.out.push(' ');
                self.text_value(value);
            }
        }
    }

    fn names(&mut self, names: &[Name]) {
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.out.push_str(&name.node);
        }
    }

    /// A value that may be a quoted string (printed as written) or a bare word.
    fn text_value(&mut self, value: &Spanned<String>) {
        let written = self.slice(value.span);
        if written.starts_with('"') {
            self.out.push_str(written);
        } else {
            self.out.push_str(&value.node);
        }
    }

    fn slice(&self, span: Span) -> &'a str {
        &self.text[span.range()]
    }

    /// The span of `keyword NAME`, found by looking back from the name.
    fn keyword_before(&self, name: Span, keyword: &str) -> Span {
        let start = self.text[..name.start as usize]
            .rfind(keyword)
            .unwrap_or(name.start as usize);
        Span::new(name.file, start, name.end as usize)
    }

    fn write_indent(&mut self) {
        for _ in 0..self.indent {
            self.out.push_str("  ");
        }
    }

    fn has_comment_before(&self, pos: u32) -> bool {
        self.comments
            .get(self.next_comment)
            .is_some_and(|c| c.span.start < pos)
    }

    /// Comments before `pos`, each on its own line, keeping one blank line above a
    /// comment where the source had one.
    fn leading(&mut self, pos: usize) {
        while let Some(comment) = self.comments.get(self.next_comment) {
            if comment.span.start as usize >= pos {
                break;
            }
            if self.out.ends_with('\n')
                && !self.out.ends_with("{\n")
                && !self.out.ends_with("\n\n")
                && self.next_comment > 0
                && self.blank_between(
                    self.comments[self.next_comment - 1].span.end,
                    comment.span.start,
                )
                && !self.out.is_empty()
            {
                self.out.push('\n');
            }
            self.write_indent();
            self.out.push_str(&comment.text);
            self.out.push('\n');
            self.next_comment += 1;
            // A blank line between a comment and the node it precedes stays.
            let at_block_end = self.text[pos.min(self.text.len())..].starts_with('}');
            if !at_block_end && self.blank_between(comment.span.end, pos as u32) {
                let next_is_comment = self
                    .comments
                    .get(self.next_comment)
                    .is_some_and(|c| (c.span.start as usize) < pos);
                if !next_is_comment {
                    self.out.push('\n');
                }
            }
        }
    }

    /// A comment that starts on the line where a node ends stays at that line's end.
    fn trailing(&mut self, end: u32) {
        if let Some(comment) = self.comments.get(self.next_comment) {
            let between = &self.text[end as usize..comment.span.start as usize];
            if comment.span.start >= end && !between.contains('\n') {
                self.out.push(' ');
                self.out.push_str(&comment.text);
                self.next_comment += 1;
            }
        }
    }

    /// Whether the source has an empty line between two offsets.
    fn blank_between(&self, from: u32, to: u32) -> bool {
        let (from, to) = (from as usize, (to as usize).min(self.text.len()));
        if from >= to {
            return false;
        }
        let gap = &self.text[from..to];
        let mut lines = gap.split('\n');
        lines.next();
        let mut interior: Vec<&str> = lines.collect();
        interior.pop();
        interior.iter().any(|l| l.trim().is_empty())
    }

    fn blank_between_pos(&self, _end: usize) -> bool {
        let Some(comment) = self.comments.get(self.next_comment) else {
            return false;
        };
        let before = self.text[..comment.span.start as usize].trim_end_matches([' ', '\t']);
        before.ends_with("\n\n") || before.ends_with("\n\r\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> String {
        format(text).expect("parses")
    }

    #[test]
    fn lays_out_a_service_canonically() {
        let messy = "namespace   bookinfo\nservice reviews{subset v1,v2 \n routes{when header x-qa-user==\"true\"->v2\nelse->v1 90%,v2 10%}}";
        let expected = "namespace bookinfo\n\nservice reviews {\n  subset v1, v2\n  routes {\n    when header x-qa-user == \"true\" -> v2\n    else -> v1 90%, v2 10%\n  }\n}\n";
        assert_eq!(fmt(messy), expected);
        assert_eq!(fmt(expected), expected, "idempotent");
    }

    #[test]
    fn keeps_comments_and_one_blank_line() {
        let src = "// header\n\nservice a { // trailing\n  timeout 3s\n\n\n  // about retries\n  retry 2 x 1s on reset // safe\n}\n// the end\n";
        let out = fmt(src);
        assert_eq!(
            out,
            "// header\n\nservice a { // trailing\n  timeout 3s\n\n  // about retries\n  retry 2 x 1s on reset // safe\n}\n// the end\n"
        );
        assert_eq!(fmt(&out), out);
    }

    #[test]
    fn literals_are_printed_as_written() {
        let src = "service a {\n  timeout 1500ms\n  routes {\n    when path ~= \"v1\\\\.2\" -> a\n  }\n}\n";
        assert_eq!(fmt(src), src);
    }

    #[test]
    fn files_with_syntax_errors_are_not_formatted() {
        assert!(format("service a { subset v1 v2 }").is_err());
    }
}
