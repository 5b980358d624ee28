//! External services (ServiceEntry) and gateways: what Istio's webhook rejects.
//!
//! DNS resolution needs hosts DNS can resolve (no wildcards); a TCP port of a
//! ServiceEntry without DNS needs addresses to tell it apart; two external services may
//! not claim one host and port. A gateway listener for HTTPS or TLS needs TLS settings,
//! and listener port names are unique per gateway.

use std::collections::HashMap;

use crate::diagnostics::{Code, Diagnostic};
use crate::model::{Mesh, ServiceKind};

pub fn check(mesh: &Mesh, out: &mut Vec<Diagnostic>) {
    let mut claimed: HashMap<(&str, u16), (&str, crate::source::Span)> = HashMap::new();
    for service in &mesh.services {
        let ServiceKind::External(external) = &service.kind else {
            continue;
        };
        let resolution = external
            .resolution
            .as_ref()
            .map(|r| r.value.as_str())
            .unwrap_or("NONE");
        if matches!(resolution, "DNS" | "DNS_ROUND_ROBIN") {
            if let Some(wildcard) = service.hosts.iter().find(|h| h.starts_with('*')) {
                let at = external
                    .resolution
                    .as_ref()
                    .map_or(service.name_span, |r| r.span);
                out.push(
                    Diagnostic::new(
                        Code::DnsWildcardHost,
                        at,
                        format!("`{}` resolves {wildcard} by DNS", service.name),
                    )
                    .primary_text("a wildcard host has no address to look up")
                    .label(service.name_span, "declared here")
                    .help("write `resolve none` for wildcard hosts, or list concrete hosts"),
                );
            }
        }
        let tcp_like = |p: &str| {
            matches!(
                p.to_ascii_lowercase().as_str(),
                "tcp" | "mongo" | "mysql" | "redis"
            )
        };
        if resolution == "NONE"
            && !external.resolution_invalid
            && external.addresses.is_empty()
            && external.endpoints.is_empty()
        {
            if let Some(port) = service
                .ports
                .iter()
                .find(|p| p.protocol.as_deref().is_some_and(tcp_like))
            {
                out.push(
                    Diagnostic::new(
                        Code::TcpWithoutAddress,
                        port.span,
                        format!("TCP port {} of `{}` has no address to match", port.number, service.name),
                    )
                    .primary_text("plain TCP carries no host name")
                    .label(service.name_span, "no `address` lines and no DNS resolution")
                    .help("add the service's addresses (`address \"203.0.113.0/24\"`) or resolve it by DNS (`resolve dns`)"),
                );
            }
        }
        for host in &service.hosts {
            for port in &service.ports {
                let key = (host.as_str(), port.number);
                match claimed.get(&key) {
                    // The same first host is already E0208: one declaration per host.
                    Some((first_name, first_span))
                        if *first_name != service.name
                            && mesh
                                .services
                                .iter()
                                .find(|s| s.name == *first_name)
                                .is_none_or(|s| s.host != service.host) =>
                    {
                        out.push(
                            Diagnostic::new(
                                Code::DuplicateHostPort,
                                port.span,
                                format!("{host}:{} is also claimed by `{first_name}`", port.number),
                            )
                            .primary_text("second claim")
                            .label(*first_span, "first claim")
                            .help("keep one external service per host and port"),
                        );
                    }
                    Some(_) => {}
                    None => {
                        claimed.insert(key, (&service.name, port.span));
                    }
                }
            }
        }
    }
    for gateway in &mesh.gateways {
        let mut names: HashMap<&str, crate::source::Span> = HashMap::new();
        for server in &gateway.servers {
            let secure = matches!(
                server.protocol.to_ascii_lowercase().as_str(),
                "https" | "tls"
            );
            if secure && server.tls.is_none() {
                out.push(
                    Diagnostic::new(
                        Code::HttpsWithoutTls,
                        server.span,
                        format!("{} listener on port {} says nothing about TLS", server.protocol, server.number),
                    )
                    .primary_text("Istio rejects HTTPS and TLS servers without TLS settings")
                    .help("end the line with `simple cert SECRET` to terminate TLS, or `passthrough` to route it by SNI"),
                );
            }
            if let Some(tls) = &server.tls {
                if matches!(tls.mode.as_str(), "SIMPLE" | "MUTUAL") && tls.credential.is_none() {
                    out.push(
                        Diagnostic::new(
                            Code::HttpsWithoutTls,
                            server.span,
                            format!(
                                "listener on port {} terminates TLS without a certificate",
                                server.number
                            ),
                        )
                        .primary_text(
                            "SIMPLE and MUTUAL TLS need the secret that holds the certificate",
                        )
                        .help("name the secret: `simple cert shop-example-com-cert`"),
                    );
                }
            }
            if let Some(first) = names.insert(&server.name, server.span) {
                out.push(
                    Diagnostic::new(
                        Code::DuplicatePortName,
                        server.span,
                        format!(
                            "gateway `{}` has two listeners named `{}`",
                            gateway.name, server.name
                        ),
                    )
                    .primary_text("second listener with this port name")
                    .label(first, "first one")
                    .help("name them apart with `named NAME`"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::check::test_support::codes_of;
    use crate::diagnostics::Code;

    #[test]
    fn external_services_follow_istios_rules() {
        assert_eq!(
            codes_of("external w { host \"*.example.com\"\n port 443 TLS\n resolve dns }"),
            vec![Code::DnsWildcardHost]
        );
        assert_eq!(
            codes_of("external db { host db.example.com\n port 5432 TCP }"),
            vec![Code::TcpWithoutAddress]
        );
        assert!(codes_of(
            "external db { host db.example.com\n port 5432 TCP\n address \"10.1.0.0/16\" }"
        )
        .is_empty());
        assert_eq!(
            codes_of("external a { host api.example.com\n port 443 TLS\n resolve dns }\nexternal b { host api.example.com\n port 443 TLS\n resolve dns }"),
            vec![Code::DuplicateHost]
        );
        assert_eq!(
            codes_of("external a { host api.example.com\n port 443 TLS\n resolve dns }\nexternal b { host b.example.com\n host api.example.com\n port 443 TLS\n resolve dns }"),
            vec![Code::DuplicateHostPort]
        );
    }

    #[test]
    fn gateway_listeners_need_tls_and_distinct_names() {
        assert_eq!(
            codes_of("gateway g { listen https 443 host \"a.example.com\" }"),
            vec![Code::HttpsWithoutTls]
        );
        assert_eq!(
            codes_of("gateway g { listen http 80 named web host \"a\"\n listen http 8080 named web host \"b\" }"),
            vec![Code::DuplicatePortName]
        );
        assert!(codes_of(
            "gateway g { listen https 443 host \"a.example.com\" simple cert a-cert }"
        )
        .is_empty());
    }
}
