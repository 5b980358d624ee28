//! The Istio backend: Gateway, ServiceEntry, DestinationRule, VirtualService and Sidecar
//! (`networking.istio.io/v1`), and the IstioOperator overlay for the mesh's egress mode.
//!
//! Everything that knows Istio's field names lives here. Per declaration, in order:
//! gateways first (ingress before the routes bound to it); then per service a
//! ServiceEntry (external services), a DestinationRule when there are subsets or
//! destination policy, and a VirtualService when there is a route table or route
//! settings; finally the egress mode. Field order follows Istio's reference
//! documentation; empty and unset fields are left out; an object of a file that names
//! no namespace carries none.

use serde::Serialize;

use super::{source_ref, yaml, Document, OrderedMap};
use crate::model::{
    ClientTls, ConnectionPool, Cors, Destination, DestinationPolicy, Fault, FaultKind, Gateway,
    HashKey, HashTable, HeaderEdits, Limit, LoadBalancer, Locality, Located, Mesh, Mirror,
    OutlierDetection, RetryPolicy, RouteAction, RouteKind, Rule, Service, ServiceKind,
};
use crate::source::{SourceMap, Span};
use crate::syntax::ast::{Field, Match, StringOp, Test};

const API_VERSION: &str = "networking.istio.io/v1";

pub fn emit(mesh: &Mesh, sources: &SourceMap) -> Vec<Document> {
    let mut documents: Vec<Document> = mesh.gateways.iter().map(|g| gateway(g, sources)).collect();
    documents.extend(super::per_service(&mesh.services, |service, documents| {
        if let ServiceKind::External(_) = service.kind {
            documents.push(service_entry(service, sources));
        }
        if let Some(spec) = destination_rule(service) {
            documents.push(document(service, sources, "DestinationRule", &spec));
        }
        if let Some(spec) = virtual_service(service) {
            documents.push(document(service, sources, "VirtualService", &spec));
        }
    }));
    for sidecar in &mesh.sidecars {
        documents.push(sidecar_document(sidecar, sources));
    }
    if let Some(egress) = &mesh.egress {
        documents.extend(egress_mode(mesh, egress, sources));
    }
    documents
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SidecarDeclSpec<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    egress: Vec<EgressListener<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outbound_traffic_policy: Option<OutboundTrafficPolicy<'a>>,
}

#[derive(Serialize)]
struct EgressListener<'a> {
    hosts: &'a [String],
}

fn sidecar_document(sidecar: &crate::model::Sidecar, sources: &SourceMap) -> Document {
    let spec = SidecarDeclSpec {
        egress: if sidecar.egress_hosts.is_empty() {
            Vec::new()
        } else {
            vec![EgressListener {
                hosts: &sidecar.egress_hosts,
            }]
        },
        outbound_traffic_policy: sidecar
            .outbound
            .as_deref()
            .map(|mode| OutboundTrafficPolicy { mode }),
    };
    object(
        "Sidecar",
        &sidecar.name,
        &sidecar.namespace,
        sidecar.name_span,
        sources,
        &spec,
    )
}

fn document<S: Serialize>(
    service: &Service,
    sources: &SourceMap,
    kind: &'static str,
    spec: &S,
) -> Document {
    object(
        kind,
        &service.name,
        &service.namespace,
        service.name_span,
        sources,
        spec,
    )
}

fn object<S: Serialize>(
    kind: &'static str,
    name: &str,
    namespace: &str,
    span: Span,
    sources: &SourceMap,
    spec: &S,
) -> Document {
    let object = Object {
        api_version: API_VERSION,
        kind,
        metadata: Some(Metadata {
            name,
            namespace: (!namespace.is_empty()).then_some(namespace),
        }),
        spec,
    };
    let mut yaml = yaml::to_string(&object);
    // The serializer's growth leaves a third spare on average; with thousands of
    // documents held until they are written, that is most of the peak.
    yaml.shrink_to_fit();
    Document {
        kind,
        name: name.to_string(),
        namespace: namespace.to_string(),
        source: source_ref(sources, span),
        yaml,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Object<'a, S> {
    api_version: &'static str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Metadata<'a>>,
    spec: &'a S,
}

#[derive(Serialize)]
struct Metadata<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
}

// ---------------------------------------------------------------------------------------
// Gateway

#[derive(Serialize)]
struct GatewaySpec<'a> {
    selector: OrderedMap<&'a str>,
    servers: Vec<ServerSpec<'a>>,
}

#[derive(Serialize)]
struct ServerSpec<'a> {
    port: ServerPort<'a>,
    hosts: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    tls: Option<ServerTlsSpec<'a>>,
}

#[derive(Serialize)]
struct ServerPort<'a> {
    number: u16,
    name: &'a str,
    protocol: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServerTlsSpec<'a> {
    mode: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_name: Option<&'a str>,
}

fn gateway(gateway: &Gateway, sources: &SourceMap) -> Document {
    let spec = GatewaySpec {
        selector: OrderedMap(
            gateway
                .selector
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str()))
                .collect(),
        ),
        servers: gateway
            .servers
            .iter()
            .map(|s| ServerSpec {
                port: ServerPort {
                    number: s.number,
                    name: &s.name,
                    protocol: &s.protocol,
                },
                hosts: &s.hosts,
                tls: s.tls.as_ref().map(|t| ServerTlsSpec {
                    mode: &t.mode,
                    credential_name: t.credential.as_deref(),
                }),
            })
            .collect(),
    };
    object(
        "Gateway",
        &gateway.name,
        &gateway.namespace,
        gateway.name_span,
        sources,
        &spec,
    )
}

// ---------------------------------------------------------------------------------------
// ServiceEntry

#[derive(Serialize)]
struct ServiceEntrySpec<'a> {
    hosts: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    addresses: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ports: Vec<ServicePortSpec<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resolution: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    endpoints: Vec<EndpointSpec<'a>>,
}

#[derive(Serialize)]
struct ServicePortSpec<'a> {
    number: u16,
    protocol: &'a str,
    name: String,
}

#[derive(Serialize)]
struct EndpointSpec<'a> {
    address: &'a str,
    #[serde(skip_serializing_if = "OrderedMap::is_empty")]
    ports: OrderedMap<u32>,
}

fn service_entry(service: &Service, sources: &SourceMap) -> Document {
    let ServiceKind::External(external) = &service.kind else {
        unreachable!("only external services have a ServiceEntry")
    };
    let spec = ServiceEntrySpec {
        hosts: &service.hosts,
        addresses: external
            .addresses
            .iter()
            .map(|a| a.value.as_str())
            .collect(),
        ports: service
            .ports
            .iter()
            .map(|p| {
                let protocol = p.protocol.as_deref().unwrap_or("TCP");
                ServicePortSpec {
                    number: p.number,
                    protocol,
                    name: p.name.clone().unwrap_or_else(|| {
                        format!("{}-{}", protocol.to_ascii_lowercase(), p.number)
                    }),
                }
            })
            .collect(),
        location: external.location.as_deref(),
        resolution: external.resolution.as_ref().map(|r| r.value.as_str()),
        endpoints: external
            .endpoints
            .iter()
            .map(|e| EndpointSpec {
                address: &e.value.address,
                ports: OrderedMap(e.value.ports.clone()),
            })
            .collect(),
    };
    document(service, sources, "ServiceEntry", &spec)
}

// ---------------------------------------------------------------------------------------
// DestinationRule

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DestinationRuleSpec<'a> {
    host: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    traffic_policy: Option<TrafficPolicy<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    subsets: Vec<SubsetSpec<'a>>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct TrafficPolicy<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    load_balancer: Option<LoadBalancerSpec<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    connection_pool: Option<ConnectionPoolSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outlier_detection: Option<OutlierDetectionSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls: Option<ClientTlsSpec<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    port_level_settings: Vec<PortTrafficPolicy<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PortTrafficPolicy<'a> {
    port: PortSelector,
    #[serde(flatten)]
    policy: TrafficPolicy<'a>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct LoadBalancerSpec<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    simple: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    consistent_hash: Option<ConsistentHashSpec<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    locality_lb_setting: Option<LocalitySpec<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warmup: Option<Warmup>,
}

#[derive(Serialize)]
struct Warmup {
    duration: String,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct ConsistentHashSpec<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    http_header_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_cookie: Option<CookieSpec<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    use_source_ip: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_query_parameter_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ring_hash: Option<RingHash>,
    #[serde(skip_serializing_if = "Option::is_none")]
    maglev: Option<Maglev>,
}

#[derive(Serialize)]
struct CookieSpec<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RingHash {
    minimum_ring_size: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Maglev {
    table_size: u64,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct LocalitySpec<'a> {
    enabled: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    distribute: Vec<DistributeSpec<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    failover: Vec<FailoverSpec<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    failover_priority: Vec<&'a str>,
}

#[derive(Serialize)]
struct DistributeSpec<'a> {
    from: &'a str,
    to: OrderedMap<u32>,
}

#[derive(Serialize)]
struct FailoverSpec<'a> {
    from: &'a str,
    to: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClientTlsSpec<'a> {
    mode: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sni: Option<&'a str>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    h2_upgrade_policy: Option<&'static str>,
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
#[serde(rename_all = "camelCase")]
struct SubsetSpec<'a> {
    name: &'a str,
    labels: OrderedMap<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    traffic_policy: Option<TrafficPolicy<'a>>,
}

fn destination_rule(service: &Service) -> Option<DestinationRuleSpec<'_>> {
    if service.kind == ServiceKind::Expose {
        return None;
    }
    let mut policy = service.policy.as_deref().and_then(traffic_policy);
    let port_level: Vec<PortTrafficPolicy<'_>> = service
        .ports
        .iter()
        .filter_map(|p| {
            let policy = traffic_policy(p.policy.as_deref()?)?;
            Some(PortTrafficPolicy {
                port: PortSelector { number: p.number },
                policy,
            })
        })
        .collect();
    if !port_level.is_empty() {
        policy
            .get_or_insert_with(TrafficPolicy::default)
            .port_level_settings = port_level;
    }
    if service.subsets.is_empty() && policy.is_none() {
        return None;
    }
    Some(DestinationRuleSpec {
        host: &service.host,
        traffic_policy: policy,
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
                traffic_policy: s.policy.as_deref().and_then(traffic_policy),
            })
            .collect(),
    })
}

fn traffic_policy(policy: &DestinationPolicy) -> Option<TrafficPolicy<'_>> {
    if policy.is_empty() {
        return None;
    }
    let balance = policy.balance.as_ref().map(|b| &b.value);
    let locality = policy.locality.as_ref().map(|l| &l.value);
    Some(TrafficPolicy {
        load_balancer: (balance.is_some() || locality.is_some())
            .then(|| load_balancer(balance, locality)),
        connection_pool: policy.pool.as_ref().map(|p| connection_pool(&p.value)),
        outlier_detection: policy.eject.as_ref().map(|e| outlier_detection(&e.value)),
        tls: policy.tls.as_ref().map(|t| client_tls(&t.value)),
        port_level_settings: Vec::new(),
    })
}

fn load_balancer<'a>(
    balance: Option<&'a LoadBalancer>,
    locality: Option<&'a Locality>,
) -> LoadBalancerSpec<'a> {
    let mut spec = LoadBalancerSpec::default();
    if let Some(balance) = balance {
        spec.simple = balance.simple.as_deref();
        spec.consistent_hash = balance.hash.as_ref().map(|hash| {
            let mut out = ConsistentHashSpec::default();
            match &hash.key {
                HashKey::Header(name) => out.http_header_name = Some(name),
                HashKey::Query(name) => out.http_query_parameter_name = Some(name),
                HashKey::SourceIp => out.use_source_ip = Some(true),
                HashKey::Cookie { name, ttl, path } => {
                    out.http_cookie = Some(CookieSpec {
                        name,
                        path: path.as_deref(),
                        ttl: ttl.map(|t| t.to_istio()),
                    })
                }
            }
            match hash.table {
                Some(HashTable::Ring(size)) => {
                    out.ring_hash = Some(RingHash {
                        minimum_ring_size: size,
                    })
                }
                Some(HashTable::Maglev(size)) => out.maglev = Some(Maglev { table_size: size }),
                None => {}
            }
            out
        });
        spec.warmup = balance.warmup.map(|d| Warmup {
            duration: d.to_istio(),
        });
    }
    spec.locality_lb_setting = locality.map(|locality| {
        let mut out = LocalitySpec {
            enabled: !matches!(locality, Locality::Off),
            ..Default::default()
        };
        match locality {
            Locality::FailoverPriority(labels) => {
                out.failover_priority = labels.iter().map(String::as_str).collect()
            }
            Locality::Failover { from, to } => out.failover = vec![FailoverSpec { from, to }],
            Locality::Distribute { from, to } => {
                out.distribute = vec![DistributeSpec {
                    from,
                    to: OrderedMap(to.iter().map(|(k, w)| (k.clone(), *w)).collect()),
                }]
            }
            Locality::Off => {}
        }
        out
    });
    spec
}

fn client_tls(tls: &ClientTls) -> ClientTlsSpec<'_> {
    ClientTlsSpec {
        mode: &tls.mode,
        credential_name: tls.credential.as_deref(),
        sni: tls.sni.as_deref(),
    }
}

fn outlier_detection(e: &OutlierDetection) -> OutlierDetectionSpec {
    OutlierDetectionSpec {
        consecutive_gateway_errors: e.gateway_errors_only.then_some(e.consecutive_errors),
        consecutive_5xx_errors: (!e.gateway_errors_only).then_some(e.consecutive_errors),
        interval: e.interval.map(|d| d.to_istio()),
        base_ejection_time: e.base_ejection.map(|d| d.to_istio()),
        max_ejection_percent: e.max_ejection_percent,
        min_health_percent: e.min_health_percent,
    }
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
        h2_upgrade_policy: pool
            .h2_upgrade
            .map(|up| if up { "UPGRADE" } else { "DO_NOT_UPGRADE" }),
    };
    let http_set = http.http1_max_pending_requests.is_some()
        || http.http2_max_requests.is_some()
        || http.max_requests_per_connection.is_some()
        || http.h2_upgrade_policy.is_some();
    ConnectionPoolSettings {
        tcp,
        http: http_set.then_some(http),
    }
}

// ---------------------------------------------------------------------------------------
// VirtualService

#[derive(Serialize)]
struct VirtualServiceSpec<'a> {
    hosts: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    gateways: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    http: Vec<HttpRoute<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tls: Vec<TlsRoute<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tcp: Vec<TcpRoute<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HttpRoute<'a> {
    #[serde(rename = "match", skip_serializing_if = "Vec::is_empty")]
    matches: Vec<MatchRequest<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    route: Vec<RouteDestination<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    redirect: Option<Redirect<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    direct_response: Option<DirectResponse<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rewrite: Option<RewriteSpec<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retries: Option<Retries>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fault: Option<FaultSpec<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mirror: Option<DestinationSpec<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mirror_percentage: Option<Percent>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    mirrors: Vec<MirrorSpec<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cors_policy: Option<CorsSpec<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    headers: Option<HeadersSpec<'a>>,
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

impl<'a> StringMatch<'a> {
    fn of(op: StringOp, value: &'a str) -> StringMatch<'a> {
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
struct Percent {
    value: f64,
}

#[derive(Serialize)]
struct MirrorSpec<'a> {
    destination: DestinationSpec<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    percentage: Option<Percent>,
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

#[derive(Serialize, Default)]
struct FaultSpec<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    delay: Option<DelaySpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    abort: Option<AbortSpec<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DelaySpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    percentage: Option<Percent>,
    fixed_delay: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AbortSpec<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    percentage: Option<Percent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_status: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    grpc_status: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Redirect<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    uri: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    authority: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scheme: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    redirect_code: Option<u32>,
}

#[derive(Serialize)]
struct DirectResponse<'a> {
    status: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<ResponseBody<'a>>,
}

#[derive(Serialize)]
struct ResponseBody<'a> {
    string: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RewriteSpec<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    uri: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    authority: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_regex_rewrite: Option<RegexRewrite<'a>>,
}

#[derive(Serialize)]
struct RegexRewrite<'a> {
    #[serde(rename = "match")]
    pattern: &'a str,
    rewrite: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CorsSpec<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    allow_origins: Vec<StringMatch<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    allow_methods: &'a [String],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    allow_headers: &'a [String],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    expose_headers: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    max_age: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allow_credentials: Option<bool>,
}

#[derive(Serialize)]
struct HeadersSpec<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<HeaderOperations<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response: Option<HeaderOperations<'a>>,
}

#[derive(Serialize)]
struct HeaderOperations<'a> {
    #[serde(skip_serializing_if = "OrderedMap::is_empty")]
    set: OrderedMap<&'a str>,
    #[serde(skip_serializing_if = "OrderedMap::is_empty")]
    add: OrderedMap<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    remove: &'a [String],
}

#[derive(Serialize)]
struct TlsRoute<'a> {
    #[serde(rename = "match")]
    matches: Vec<TlsMatch<'a>>,
    route: Vec<RouteDestination<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TlsMatch<'a> {
    sni_hosts: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
}

#[derive(Serialize)]
struct TcpRoute<'a> {
    #[serde(rename = "match", skip_serializing_if = "Vec::is_empty")]
    matches: Vec<TcpMatch>,
    route: Vec<RouteDestination<'a>>,
}

#[derive(Serialize)]
struct TcpMatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
}

fn virtual_service(service: &Service) -> Option<VirtualServiceSpec<'_>> {
    let mut spec = VirtualServiceSpec {
        hosts: &service.hosts,
        gateways: service.gateways.iter().map(String::as_str).collect(),
        http: Vec::new(),
        tls: Vec::new(),
        tcp: Vec::new(),
    };
    match &service.routes {
        Some(table) => match table.kind {
            RouteKind::Http => spec.http = table.rules.iter().map(http_route).collect(),
            RouteKind::Tls => {
                spec.tls = table
                    .rules
                    .iter()
                    .map(|r| tls_route(r, &service.hosts))
                    .collect()
            }
            RouteKind::Tcp => spec.tcp = table.rules.iter().map(tcp_route).collect(),
        },
        None if service.timeout.is_some() || service.retry.is_some() => {
            spec.http = vec![HttpRoute {
                matches: Vec::new(),
                route: vec![RouteDestination {
                    destination: DestinationSpec {
                        host: &service.host,
                        subset: None,
                        port: None,
                    },
                    weight: None,
                }],
                redirect: None,
                direct_response: None,
                rewrite: None,
                timeout: service.timeout.as_ref().map(|t| t.value.to_istio()),
                retries: service.retry.as_deref().map(retries),
                fault: None,
                mirror: None,
                mirror_percentage: None,
                mirrors: Vec::new(),
                cors_policy: None,
                headers: None,
            }]
        }
        None => return None,
    }
    Some(spec)
}

fn route_destinations(rule: &Rule) -> Vec<RouteDestination<'_>> {
    let weighted = rule.destinations.len() > 1;
    rule.destinations
        .iter()
        .map(|d| RouteDestination {
            destination: destination(d),
            weight: if weighted {
                d.weight.as_ref().map(|w| w.value.round() as u32)
            } else {
                None
            },
        })
        .collect()
}

fn destination(dest: &Destination) -> DestinationSpec<'_> {
    DestinationSpec {
        host: &dest.host,
        subset: dest.subset.as_deref(),
        port: dest.port.map(|number| PortSelector { number }),
    }
}

fn http_route(rule: &Rule) -> HttpRoute<'_> {
    let (mirror, mirror_percentage, mirrors) = mirrors(&rule.mirrors);
    let (redirect, direct_response) = match rule.action.as_deref() {
        Some(RouteAction::Redirect {
            uri,
            authority,
            scheme,
            port,
            code,
            ..
        }) => (
            Some(Redirect {
                uri: uri.as_deref(),
                authority: authority.as_deref(),
                port: *port,
                scheme: scheme.as_deref(),
                redirect_code: code.as_ref().map(|c| c.value),
            }),
            None,
        ),
        Some(RouteAction::Respond { status, body, .. }) => (
            None,
            Some(DirectResponse {
                status: status.value,
                body: body.as_deref().map(|string| ResponseBody { string }),
            }),
        ),
        None => (None, None),
    };
    HttpRoute {
        matches: rule.matches.iter().map(match_request).collect(),
        route: route_destinations(rule),
        redirect,
        direct_response,
        rewrite: rule.rewrite.as_ref().map(|r| RewriteSpec {
            uri: r.uri.as_deref(),
            authority: r.authority.as_deref(),
            uri_regex_rewrite: r
                .regex
                .as_ref()
                .map(|(pattern, rewrite)| RegexRewrite { pattern, rewrite }),
        }),
        timeout: rule.timeout.as_ref().map(|t| t.value.to_istio()),
        retries: rule.retry.as_deref().map(retries),
        fault: fault(&rule.faults),
        mirror,
        mirror_percentage,
        mirrors,
        cors_policy: rule.cors.as_ref().map(|c| cors(&c.value)),
        headers: rule
            .headers
            .as_deref()
            .and_then(|h| headers(&h.request, &h.response)),
    }
}

/// One mirror is written with `mirror` and `mirrorPercentage`, as Istio's documentation
/// and most configurations do; several need the `mirrors` list.
fn mirrors(
    list: &[Mirror],
) -> (
    Option<DestinationSpec<'_>>,
    Option<Percent>,
    Vec<MirrorSpec<'_>>,
) {
    match list {
        [] => (None, None, Vec::new()),
        [one] => (
            Some(destination(&one.destination)),
            one.percent.map(|value| Percent { value }),
            Vec::new(),
        ),
        many => (
            None,
            None,
            many.iter()
                .map(|m| MirrorSpec {
                    destination: destination(&m.destination),
                    percentage: m.percent.map(|value| Percent { value }),
                })
                .collect(),
        ),
    }
}

fn fault(faults: &[Located<Fault>]) -> Option<FaultSpec<'_>> {
    if faults.is_empty() {
        return None;
    }
    let mut spec = FaultSpec::default();
    for fault in faults {
        let percentage = fault.value.percent.map(|value| Percent { value });
        match &fault.value.kind {
            FaultKind::Delay(d) => {
                spec.delay = Some(DelaySpec {
                    percentage,
                    fixed_delay: d.to_istio(),
                })
            }
            FaultKind::Abort(status) => {
                spec.abort = Some(AbortSpec {
                    percentage,
                    http_status: Some(*status),
                    grpc_status: None,
                })
            }
            FaultKind::AbortGrpc(status) => {
                spec.abort = Some(AbortSpec {
                    percentage,
                    http_status: None,
                    grpc_status: Some(status),
                })
            }
        }
    }
    Some(spec)
}

fn cors(cors: &Cors) -> CorsSpec<'_> {
    CorsSpec {
        allow_origins: cors
            .origins
            .iter()
            .map(|(op, v)| StringMatch::of(*op, v))
            .collect(),
        allow_methods: &cors.methods,
        allow_headers: &cors.allow_headers,
        expose_headers: &cors.expose_headers,
        max_age: cors.max_age.map(|d| d.to_istio()),
        allow_credentials: cors.credentials.then_some(true),
    }
}

fn headers<'a>(request: &'a HeaderEdits, response: &'a HeaderEdits) -> Option<HeadersSpec<'a>> {
    let ops = |edits: &'a HeaderEdits| {
        (!edits.is_empty()).then(|| HeaderOperations {
            set: OrderedMap(
                edits
                    .set
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str()))
                    .collect(),
            ),
            add: OrderedMap(
                edits
                    .add
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str()))
                    .collect(),
            ),
            remove: &edits.remove,
        })
    };
    let (request, response) = (ops(request), ops(response));
    (request.is_some() || response.is_some()).then_some(HeadersSpec { request, response })
}

fn tls_route<'a>(rule: &'a Rule, hosts: &'a [String]) -> TlsRoute<'a> {
    let mut matches: Vec<TlsMatch<'a>> = rule
        .matches
        .iter()
        .map(|m| {
            let mut sni: Vec<&str> = Vec::new();
            let mut port = None;
            for c in &m.conditions {
                match (&c.field, &c.test) {
                    (Field::Sni, Test::Compare(_, v)) => sni.push(&v.node),
                    (Field::Port, Test::Compare(_, v)) => port = v.node.parse().ok(),
                    _ => {}
                }
            }
            if sni.is_empty() {
                sni = hosts.iter().map(String::as_str).collect();
            }
            TlsMatch {
                sni_hosts: sni,
                port,
            }
        })
        .collect();
    // A TLS route always names the server names it takes: the catch-all takes the hosts.
    if matches.is_empty() {
        matches.push(TlsMatch {
            sni_hosts: hosts.iter().map(String::as_str).collect(),
            port: None,
        });
    }
    TlsRoute {
        matches,
        route: route_destinations(rule),
    }
}

fn tcp_route(rule: &Rule) -> TcpRoute<'_> {
    TcpRoute {
        matches: rule
            .matches
            .iter()
            .map(|m| TcpMatch {
                port: m.conditions.iter().find_map(|c| match (&c.field, &c.test) {
                    (Field::Port, Test::Compare(_, v)) => v.node.parse().ok(),
                    _ => None,
                }),
            })
            .collect(),
        route: route_destinations(rule),
    }
}

fn match_request(m: &Match) -> MatchRequest<'_> {
    let mut request = MatchRequest::default();
    for condition in &m.conditions {
        let string_match = match &condition.test {
            // An empty StringMatch tests presence, for query parameters as for headers
            // (Istio leaves the Envoy matcher without a value); `exact: ""` would match
            // only an empty value.
            Test::Present => StringMatch::default(),
            Test::Compare(op, value) => StringMatch::of(*op, &value.node),
        };
        match &condition.field {
            Field::Path => request.uri = Some(string_match),
            Field::Method => request.method = Some(string_match),
            Field::Header(name) => request.headers.0.push((name.node.clone(), string_match)),
            Field::Query(name) => request
                .query_params
                .0
                .push((name.node.clone(), string_match)),
            Field::Authority => request.authority = Some(string_match),
            Field::Scheme => request.scheme = Some(string_match),
            Field::Port => {
                request.port = match &condition.test {
                    Test::Compare(_, v) => v.node.parse().ok(),
                    Test::Present => None,
                }
            }
            // TLS routes carry server names; an HTTP match has no such field.
            Field::Sni => {}
        }
    }
    request
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

// ---------------------------------------------------------------------------------------
// Egress mode

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OperatorSpec<'a> {
    mesh_config: MeshConfig<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MeshConfig<'a> {
    outbound_traffic_policy: OutboundTrafficPolicy<'a>,
}

#[derive(Serialize)]
struct OutboundTrafficPolicy<'a> {
    mode: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SidecarSpec<'a> {
    outbound_traffic_policy: OutboundTrafficPolicy<'a>,
}

/// The mesh-wide overlay (an IstioOperator, for `istioctl install -f`), and a Sidecar
/// named `default` per namespace of the program, which applies the same mode there
/// without reinstalling Istio.
fn egress_mode(mesh: &Mesh, egress: &Located<String>, sources: &SourceMap) -> Vec<Document> {
    let mode = egress.value.as_str();
    let overlay = Object {
        api_version: "install.istio.io/v1alpha1",
        kind: "IstioOperator",
        metadata: None,
        spec: &OperatorSpec {
            mesh_config: MeshConfig {
                outbound_traffic_policy: OutboundTrafficPolicy { mode },
            },
        },
    };
    let mut documents = vec![Document {
        kind: "IstioOperator",
        name: String::new(),
        namespace: String::new(),
        source: source_ref(sources, egress.span),
        yaml: yaml::to_string(&overlay),
    }];
    let mut namespaces: Vec<&str> = mesh
        .services
        .iter()
        .map(|s| s.namespace.as_str())
        .chain(mesh.gateways.iter().map(|g| g.namespace.as_str()))
        .collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    let spec = SidecarSpec {
        outbound_traffic_policy: OutboundTrafficPolicy { mode },
    };
    for namespace in namespaces {
        documents.push(object(
            "Sidecar",
            "default",
            namespace,
            egress.span,
            sources,
            &spec,
        ));
    }
    documents
}

#[cfg(test)]
mod tests {
    use crate::check::test_support::analyze_one;

    fn compile(source: &'static str) -> String {
        let analysis = analyze_one(source);
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
