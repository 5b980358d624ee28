//! The Istio backend: DestinationRule and VirtualService, `networking.istio.io/v1`.
//!
//! Everything that knows Istio's field names lives here. Per service: a DestinationRule
//! when it defines subsets or destination policy, then a VirtualService when it has a
//! route table or route settings (timeout, retries). Field order follows Istio's
//! reference documentation; empty and unset fields are left out.

use serde::Serialize;

use super::{source_ref, yaml, Document, OrderedMap};
use crate::model::{
    ConnectionPool, Destination, Limit, Located, Mesh, OutlierDetection, RetryPolicy, Rule, Service,
};
use crate::source::SourceMap;
use crate::syntax::ast::{Field, Match, StringOp, Test};

const API_VERSION: &str = "networking.istio.io/v1";

pub fn emit(mesh: &Mesh, sources: &SourceMap) -> Vec<Document> {
    super::per_service(&mesh.services, |service, documents| {
        if let Some(spec) = destination_rule(service) {
            documents.push(document(service, sources, "DestinationRule", &spec));
        }
        if let Some(spec) = virtual_service(service) {
            documents.push(document(service, sources, "VirtualService", &spec));
        }
    })
}

fn document<S: Serialize>(
    service: &Service,
    sources: &SourceMap,
    kind: &'static str,
    spec: &S,
) -> Document {
    let object = Object {
        api_version: API_VERSION,
        kind,
        metadata: Metadata {
            name: &service.name,
            namespace: &service.namespace,
        },
        spec,
    };
    Document {
        kind,
        name: service.name.clone(),
        namespace: service.namespace.clone(),
        source: source_ref(sources, service.name_span),
        yaml: yaml::to_string(&object),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Object<'a, S> {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata<'a>,
    spec: &'a S,
}

#[derive(Serialize)]
struct Metadata<'a> {
    name: &'a str,
    namespace: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DestinationRuleSpec<'a> {
    host: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    traffic_policy: Option<TrafficPolicy>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    subsets: Vec<SubsetSpec<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TrafficPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    connection_pool: Option<ConnectionPoolSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outlier_detection: Option<OutlierDetectionSpec>,
}

#[derive(Serialize)]
struct ConnectionPoolSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    tcp: Option<TcpSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http: Option<HttpSettings>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TcpSettings {
    max_connections: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HttpSettings {
    #[serde(
        rename = "http1MaxPendingRequests",
        skip_serializing_if = "Option::is_none"
    )]
    http1_max_pending_requests: Option<u32>,
    #[serde(rename = "http2MaxRequests", skip_serializing_if = "Option::is_none")]
    http2_max_requests: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_requests_per_connection: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OutlierDetectionSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    consecutive_gateway_errors: Option<u32>,
    #[serde(
        rename = "consecutive5xxErrors",
        skip_serializing_if = "Option::is_none"
    )]
    consecutive_5xx_errors: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    interval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    base_ejection_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_ejection_percent: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_health_percent: Option<u32>,
}

#[derive(Serialize)]
struct SubsetSpec<'a> {
    name: &'a str,
    labels: OrderedMap<&'a str>,
}

#[derive(Serialize)]
struct VirtualServiceSpec<'a> {
    hosts: Vec<&'a str>,
    http: Vec<HttpRoute<'a>>,
}

#[derive(Serialize)]
struct HttpRoute<'a> {
    #[serde(rename = "match", skip_serializing_if = "Vec::is_empty")]
    matches: Vec<MatchRequest<'a>>,
    route: Vec<RouteDestination<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retries: Option<Retries>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct MatchRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    uri: Option<StringMatch<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scheme: Option<StringMatch<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<StringMatch<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    authority: Option<StringMatch<'a>>,
    #[serde(skip_serializing_if = "OrderedMap::is_empty")]
    headers: OrderedMap<StringMatch<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
    #[serde(skip_serializing_if = "OrderedMap::is_empty")]
    query_params: OrderedMap<StringMatch<'a>>,
}

/// Istio's StringMatch: one of exact, prefix or regex; none of them means "present".
#[derive(Serialize, Default)]
struct StringMatch<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    exact: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prefix: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    regex: Option<&'a str>,
}

#[derive(Serialize)]
struct RouteDestination<'a> {
    destination: DestinationSpec<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    weight: Option<u32>,
}

#[derive(Serialize)]
struct DestinationSpec<'a> {
    host: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    subset: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<PortSelector>,
}

#[derive(Serialize)]
struct PortSelector {
    number: u16,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Retries {
    attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    per_try_timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_on: Option<String>,
}

fn destination_rule(service: &Service) -> Option<DestinationRuleSpec<'_>> {
    let traffic_policy = traffic_policy(
        service.pool.as_ref().map(|p| &p.value),
        service.eject.as_ref().map(|e| &e.value),
    );
    if service.subsets.is_empty() && traffic_policy.is_none() {
        return None;
    }
    Some(DestinationRuleSpec {
        host: &service.host,
        traffic_policy,
        subsets: service
            .subsets
            .iter()
            .map(|s| SubsetSpec {
                name: &s.name,
                labels: OrderedMap(
                    s.labels
                        .iter()
                        .map(|(k, v)| (k.clone(), v.as_str()))
                        .collect(),
                ),
            })
            .collect(),
    })
}

fn traffic_policy(
    pool: Option<&ConnectionPool>,
    eject: Option<&OutlierDetection>,
) -> Option<TrafficPolicy> {
    if pool.is_none() && eject.is_none() {
        return None;
    }
    Some(TrafficPolicy {
        connection_pool: pool.map(connection_pool),
        outlier_detection: eject.map(|e| OutlierDetectionSpec {
            consecutive_gateway_errors: e.gateway_errors_only.then_some(e.consecutive_errors),
            consecutive_5xx_errors: (!e.gateway_errors_only).then_some(e.consecutive_errors),
            interval: e.interval.map(|d| d.to_istio()),
            base_ejection_time: e.base_ejection.map(|d| d.to_istio()),
            max_ejection_percent: e.max_ejection_percent,
            min_health_percent: e.min_health_percent,
        }),
    })
}

fn connection_pool(pool: &ConnectionPool) -> ConnectionPoolSettings {
    // Istio's defaults are effectively unlimited, except maxRequestsPerConnection, whose
    // "unlimited" is written 0.
    let limit = |l: Option<Limit>| match l {
        Some(Limit::Max(n)) => Some(n),
        _ => None,
    };
    let per_connection = match pool.per_connection {
        Some(Limit::Max(n)) => Some(n),
        Some(Limit::Unlimited) => Some(0),
        None => None,
    };
    let tcp = limit(pool.max_connections).map(|max_connections| TcpSettings { max_connections });
    let http = HttpSettings {
        http1_max_pending_requests: limit(pool.max_pending),
        http2_max_requests: limit(pool.max_requests),
        max_requests_per_connection: per_connection,
    };
    let http_set = http.http1_max_pending_requests.is_some()
        || http.http2_max_requests.is_some()
        || http.max_requests_per_connection.is_some();
    ConnectionPoolSettings {
        tcp,
        http: http_set.then_some(http),
    }
}

fn virtual_service(service: &Service) -> Option<VirtualServiceSpec<'_>> {
    let http = match &service.routes {
        Some(table) => table.rules.iter().map(http_route).collect(),
        None if service.timeout.is_some() || service.retry.is_some() => vec![HttpRoute {
            matches: Vec::new(),
            route: vec![RouteDestination {
                destination: DestinationSpec {
                    host: &service.host,
                    subset: None,
                    port: None,
                },
                weight: None,
            }],
            timeout: service.timeout.as_ref().map(|t| t.value.to_istio()),
            retries: service.retry.as_deref().map(retries),
        }],
        None => return None,
    };
    Some(VirtualServiceSpec {
        hosts: vec![&service.host],
        http,
    })
}

fn http_route(rule: &Rule) -> HttpRoute<'_> {
    let weighted = rule.destinations.len() > 1;
    HttpRoute {
        matches: rule.matches.iter().map(match_request).collect(),
        route: rule
            .destinations
            .iter()
            .map(|d| route_destination(d, weighted))
            .collect(),
        timeout: rule.timeout.as_ref().map(|t| t.value.to_istio()),
        retries: rule.retry.as_deref().map(retries),
    }
}

fn route_destination(dest: &Destination, weighted: bool) -> RouteDestination<'_> {
    RouteDestination {
        destination: DestinationSpec {
            host: &dest.host,
            subset: dest.subset.as_deref(),
            port: dest.port.map(|number| PortSelector { number }),
        },
        weight: if weighted {
            dest.weight.as_ref().map(|w| w.value.round() as u32)
        } else {
            None
        },
    }
}

fn match_request(m: &Match) -> MatchRequest<'_> {
    let mut request = MatchRequest::default();
    for condition in &m.conditions {
        let string_match = match &condition.test {
            Test::Present => StringMatch::default(),
            Test::Compare(op, value) => {
                let value = value.node.as_str();
                match op {
                    StringOp::Exact => StringMatch {
                        exact: Some(value),
                        ..Default::default()
                    },
                    StringOp::Prefix => StringMatch {
                        prefix: Some(value),
                        ..Default::default()
                    },
                    StringOp::Regex => StringMatch {
                        regex: Some(value),
                        ..Default::default()
                    },
                }
            }
        };
        match &condition.field {
            Field::Path => request.uri = Some(string_match),
            Field::Method => request.method = Some(string_match),
            Field::Header(name) => request.headers.0.push((name.node.clone(), string_match)),
            // An empty StringMatch tests presence, for query parameters as for headers
            // (Istio leaves the Envoy matcher without a value); `exact: ""` would match
            // only an empty value.
            Field::Query(name) => request
                .query_params
                .0
                .push((name.node.clone(), string_match)),
            Field::Authority => request.authority = Some(string_match),
            Field::Scheme => request.scheme = Some(string_match),
            Field::Port => request.port = value_of(&condition.test).and_then(|v| v.parse().ok()),
            // TLS routes carry server names; an HTTP match has no such field.
            Field::Sni => {}
        }
    }
    request
}

fn value_of(test: &Test) -> Option<&str> {
    match test {
        Test::Compare(_, value) => Some(&value.node),
        Test::Present => None,
    }
}

fn retries(retry: &Located<RetryPolicy>) -> Retries {
    let policy = &retry.value;
    Retries {
        attempts: policy.attempts,
        per_try_timeout: policy.per_try.as_ref().map(|d| d.value.to_istio()),
        retry_on: policy.conditions.as_ref().map(|conditions| {
            conditions
                .iter()
                .map(|c| c.value.as_str())
                .collect::<Vec<_>>()
                .join(",")
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    struct One(&'static str);

    impl crate::load::FileLoader for One {
        fn read(&self, _: &Path) -> std::io::Result<Vec<u8>> {
            Ok(self.0.as_bytes().to_vec())
        }
    }

    fn compile(source: &'static str) -> String {
        let analysis = crate::analyze(&[PathBuf::from("t.route")], &One(source)).unwrap();
        let documents = crate::emit(&analysis).expect("no errors");
        crate::emit::stream(&documents)
    }

    #[test]
    fn presence_tests_are_empty_string_matches() {
        let yaml = compile(
            "service a {\n subset v1, v2\n routes {\n when header x-debug present and query trace present -> v2\n else -> v1\n }\n}\n",
        );
        assert!(yaml.contains("headers:\n        x-debug: {}\n"), "{yaml}");
        assert!(yaml.contains("queryParams:\n        trace: {}\n"), "{yaml}");
    }

    #[test]
    fn rules_inherit_the_service_settings_and_single_destinations_have_no_weight() {
        let yaml = compile(
            "service a {\n accepts GET\n subset v1\n timeout 3s\n retry 2 x 1s on 5xx\n routes {\n when path ^= \"/slow\" -> v1 { timeout 5s }\n else -> v1\n }\n}\n",
        );
        assert!(yaml.contains("timeout: 5s\n    retries:\n      attempts: 2\n      perTryTimeout: 1s\n      retryOn: 5xx\n"), "{yaml}");
        assert!(yaml.contains("timeout: 3s\n"), "{yaml}");
        assert!(!yaml.contains("weight"), "{yaml}");
    }

    #[test]
    fn the_same_input_gives_the_same_bytes() {
        let source =
            "namespace n\nservice a {\n subset v1, v2\n routes { else -> v1 90%, v2 10% }\n}\n";
        assert_eq!(compile(source), compile(source));
    }
}
