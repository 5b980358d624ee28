//! `routec trace`: which rule of which route table a given request takes.
//!
//! The request is described by its host, path, method, headers, query parameters and
//! port; its route table is found by host (or service name), then its rules are tried top
//! to bottom as Envoy tries them, and each is reported as taken or passed over, with the
//! first condition that failed. Istio's semantics: matches are ORed, the conditions of
//! one match ANDed, regexes match the whole value, header names ignore case.

use crate::model::{Mesh, Rule, Service};
use crate::syntax::ast::{Condition, Field, Match, StringOp, Test};

/// The request to trace.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub host: String,
    pub path: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub port: Option<u16>,
}

/// What happened to the request at one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub rule: usize,
    pub taken: bool,
    /// Why the rule was passed over: the first condition of each match that failed.
    pub reasons: Vec<String>,
}

#[derive(Debug)]
pub enum Trace<'m> {
    /// No service, external service or exposed table answers for the host.
    UnknownHost,
    /// The service has no route table: Istio's default route takes everything.
    DefaultRoute(&'m Service),
    /// The rules tried, ending with the one taken, if any (none: 404 NR).
    Routed {
        service: &'m Service,
        steps: Vec<Step>,
        taken: Option<&'m Rule>,
    },
}

/// Traces a request through the mesh.
pub fn trace<'m>(mesh: &'m Mesh, request: &Request) -> Trace<'m> {
    let host = request.host.as_str();
    let Some(service) = mesh
        .services
        .iter()
        .find(|s| s.hosts.iter().any(|h| host_matches(h, host)))
        .or_else(|| mesh.services.iter().find(|s| s.name == host))
    else {
        return Trace::UnknownHost;
    };
    let Some(table) = &service.routes else {
        return Trace::DefaultRoute(service);
    };
    let mut steps = Vec::new();
    for (index, rule) in table.rules.iter().enumerate() {
        if rule.catch_all {
            steps.push(Step {
                rule: index,
                taken: true,
                reasons: Vec::new(),
            });
            return Trace::Routed {
                service,
                steps,
                taken: Some(rule),
            };
        }
        let mut reasons = Vec::new();
        let taken = rule
            .matches
            .iter()
            .any(|m| match first_failure(m, request) {
                None => true,
                Some(reason) => {
                    reasons.push(reason);
                    false
                }
            });
        steps.push(Step {
            rule: index,
            taken,
            reasons: if taken { Vec::new() } else { reasons },
        });
        if taken {
            return Trace::Routed {
                service,
                steps,
                taken: Some(rule),
            };
        }
    }
    Trace::Routed {
        service,
        steps,
        taken: None,
    }
}

fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix('*') {
        Some(suffix) => host.ends_with(suffix),
        None => pattern.eq_ignore_ascii_case(host),
    }
}

/// The first condition of a match the request fails, described; `None` when it holds.
fn first_failure(m: &Match, request: &Request) -> Option<String> {
    m.conditions
        .iter()
        .find(|c| !holds(c, request))
        .map(|c| describe(c, request))
}

fn value_of<'r>(field: &Field, request: &'r Request) -> Option<std::borrow::Cow<'r, str>> {
    use std::borrow::Cow;
    match field {
        Field::Path => Some(Cow::Borrowed(&request.path)),
        Field::Method => Some(Cow::Borrowed(&request.method)),
        Field::Authority => Some(Cow::Borrowed(&request.host)),
        Field::Scheme => Some(Cow::Borrowed("http")),
        Field::Port => request.port.map(|p| Cow::Owned(p.to_string())),
        Field::Sni => Some(Cow::Borrowed(&request.host)),
        Field::Header(name) => request
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&name.node))
            .map(|(_, v)| Cow::Borrowed(v.as_str())),
        Field::Query(name) => request
            .query
            .iter()
            .find(|(k, _)| *k == name.node)
            .map(|(_, v)| Cow::Borrowed(v.as_str())),
    }
}

fn holds(condition: &Condition, request: &Request) -> bool {
    let value = value_of(&condition.field, request);
    match (&condition.test, value) {
        (_, None) => false,
        (Test::Present, Some(_)) => true,
        (Test::Compare(op, expected), Some(actual)) => {
            let expected = expected.node.as_str();
            match op {
                StringOp::Exact => actual == expected,
                StringOp::Prefix => actual.starts_with(expected),
                StringOp::Regex => regex::Regex::new(&format!("^(?:{expected})$"))
                    .map(|r| r.is_match(&actual))
                    .unwrap_or(false),
            }
        }
    }
}

fn describe(condition: &Condition, request: &Request) -> String {
    let field = match &condition.field {
        Field::Path => "path".to_string(),
        Field::Method => "method".to_string(),
        Field::Authority => "authority".to_string(),
        Field::Scheme => "scheme".to_string(),
        Field::Port => "port".to_string(),
        Field::Sni => "sni".to_string(),
        Field::Header(name) => format!("header {}", name.node),
        Field::Query(name) => format!("query {}", name.node),
    };
    let test = match &condition.test {
        Test::Present => "present".to_string(),
        Test::Compare(op, value) => format!("{} \"{}\"", op.symbol(), value.node),
    };
    match value_of(&condition.field, request) {
        None => format!("`{field} {test}`: the request has no {field}"),
        Some(actual) => format!("`{field} {test}`: the request has \"{actual}\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::test_support::analyze_one;

    const MESH: &str = "namespace shop\nservice reviews {\n subset v1, v2\n routes {\n when header x-qa == \"true\" -> v2\n when path ^= \"/api/v2/\" and method == GET -> v2\n else -> v1\n }\n}\nservice ratings {}\n";

    fn run(request: Request) -> (Option<usize>, Vec<Step>) {
        let analysis = analyze_one(MESH);
        match trace(&analysis.mesh, &request) {
            Trace::Routed { steps, taken, .. } => (taken.map(|_| steps.len() - 1), steps),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_first_matching_rule_takes_the_request() {
        let request = Request {
            host: "reviews.shop.svc.cluster.local".into(),
            path: "/api/v2/items".into(),
            method: "GET".into(),
            ..Default::default()
        };
        let (taken, steps) = run(request);
        assert_eq!(taken, Some(1));
        assert_eq!(
            steps[0].reasons,
            vec!["`header x-qa == \"true\"`: the request has no header x-qa"]
        );
    }

    #[test]
    fn header_names_ignore_case_and_the_catch_all_takes_the_rest() {
        let qa = Request {
            host: "reviews".into(),
            headers: vec![("X-QA".into(), "true".into())],
            ..Default::default()
        };
        assert_eq!(run(qa).0, Some(0));
        let post = Request {
            host: "reviews".into(),
            path: "/api/v2/items".into(),
            method: "POST".into(),
            ..Default::default()
        };
        let (taken, steps) = run(post);
        assert_eq!(taken, Some(2));
        assert_eq!(
            steps[1].reasons,
            vec!["`method == \"GET\"`: the request has \"POST\""]
        );
    }

    #[test]
    fn hosts_without_a_table_take_the_default_route() {
        let analysis = analyze_one(MESH);
        let ratings = Request {
            host: "ratings".into(),
            ..Default::default()
        };
        assert!(matches!(
            trace(&analysis.mesh, &ratings),
            Trace::DefaultRoute(_)
        ));
        let nobody = Request {
            host: "nobody".into(),
            ..Default::default()
        };
        assert!(matches!(trace(&analysis.mesh, &nobody), Trace::UnknownHost));
    }
}
