//! Destination policy: outlier detection, locality load balancing, hash tables.
//!
//! Runs over every policy of the model: a service's, each port's and each subset's.
//! Locality load balancing without outlier detection never fails over (error); outlier
//! detection that can eject every endpoint, or ejects after one or two errors, turns
//! noise into outages (warnings); Maglev needs a prime table size (error).

use crate::diagnostics::{Code, Diagnostic};
use crate::model::{DestinationPolicy, HashTable, Mesh, Service};
use crate::source::Span;

pub fn check(mesh: &Mesh, out: &mut Vec<Diagnostic>) {
    for service in &mesh.services {
        let policies = service
            .policy
            .as_deref()
            .into_iter()
            .chain(service.ports.iter().filter_map(|p| p.policy.as_deref()))
            .chain(service.subsets.iter().filter_map(|s| s.policy.as_deref()));
        for policy in policies {
            check_policy(service, policy, out);
        }
    }
}

fn check_policy(service: &Service, policy: &DestinationPolicy, out: &mut Vec<Diagnostic>) {
    if let Some(locality) = &policy.locality {
        // `eject after 0 ...` turns ejection off: it does not make failover happen.
        let ejecting = |p: &DestinationPolicy| {
            p.eject
                .as_ref()
                .is_some_and(|e| e.value.consecutive_errors > 0)
        };
        let ejects = ejecting(policy) || service.policy.as_deref().is_some_and(ejecting);
        // Failover is the part that needs health; `distribute` applies regardless.
        let fails_over = matches!(
            locality.value,
            crate::model::Locality::FailoverPriority(_) | crate::model::Locality::Failover { .. }
        );
        if !ejects && fails_over {
            out.push(
                Diagnostic::new(
                    Code::LocalityWithoutEjection,
                    locality.via.unwrap_or(locality.span),
                    format!(
                        "`{}` balances by locality without outlier detection",
                        service.name
                    ),
                )
                .primary_text("failover to another locality never happens")
                .label(service.name_span, "no `eject` in this service")
                .help(
                    "add outlier detection, e.g. `eject after 5 consecutive 5xx every 10s for 30s`",
                ),
            );
        }
    }
    if let Some(eject) = &policy.eject {
        let e = &eject.value;
        // Through `use`, the primary label is on the `use` and a second one on the value.
        let at = |value: Span| eject.via.unwrap_or(value);
        let also = |d: Diagnostic, value: Span, text: &str| match eject.via {
            Some(_) => d.label(value, text),
            None => d,
        };
        if e.consecutive_errors <= 2 && e.consecutive_errors > 0 {
            let diagnostic = Diagnostic::new(
                Code::EjectTooEager,
                at(e.errors_span),
                format!(
                    "ejecting after {} consecutive error{} reacts to noise",
                    e.consecutive_errors,
                    if e.consecutive_errors == 1 { "" } else { "s" }
                ),
            )
            .primary_text("healthy endpoints will be ejected by single slow or failed requests")
            .help("start from `eject after 5 consecutive 5xx`");
            out.push(also(diagnostic, e.errors_span, "the policy's error count"));
        }
        let max_over_half = e.max_ejection_percent.is_some_and(|m| m > 50);
        if max_over_half || e.min_health_percent.is_none() {
            let what = if max_over_half {
                format!(
                    "up to {}% of the endpoints",
                    e.max_ejection_percent.unwrap_or(100)
                )
            } else {
                "endpoints with no floor of healthy ones".to_string()
            };
            let value = match e.max_span {
                Some(max) if max_over_half => max,
                _ => eject.span,
            };
            let help = match (
                max_over_half,
                e.max_span.is_some() || e.min_health_percent.is_some(),
            ) {
                (true, _) => "lower it to `max 50%`, and set a floor with `min-healthy 30%`",
                (false, true) => "add a floor of healthy endpoints: `min-healthy 30%`",
                (false, false) => {
                    "bound it: `{ max 50% min-healthy 30% }` after the ejection settings"
                }
            };
            let diagnostic = Diagnostic::new(
                Code::EjectEverything,
                at(value),
                format!("outlier detection of `{}` can eject {what}", service.name),
            )
            .primary_text("a burst of errors can leave no endpoint to route to (503 UH)")
            .help(help);
            out.push(also(diagnostic, value, "the policy's ejection settings"));
        }
    }
    if let Some(balance) = &policy.balance {
        if let Some(HashTable::Maglev(size)) = balance.value.hash.as_ref().and_then(|h| h.table) {
            if !is_prime(size) {
                let size_span = balance
                    .value
                    .hash
                    .as_ref()
                    .and_then(|h| h.table_span)
                    .unwrap_or(balance.span);
                out.push(
                    Diagnostic::new(
                        Code::MaglevNotPrime,
                        balance.via.unwrap_or(size_span),
                        format!("a Maglev table of {size} entries is not prime"),
                    )
                    .primary_text("Envoy requires a prime table size")
                    .help(format!(
                        "use a prime such as {} (65537 is Envoy's default)",
                        next_prime(size)
                    )),
                );
            }
        }
    }
}

fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    let mut d = 2u64;
    while d.saturating_mul(d) <= n {
        if n.is_multiple_of(d) {
            return false;
        }
        d += 1;
    }
    true
}

fn next_prime(n: u64) -> u64 {
    (n.max(2)..).find(|&k| is_prime(k)).unwrap_or(65537)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::test_support::codes_of;

    #[test]
    fn locality_needs_outlier_detection() {
        assert_eq!(
            codes_of("service s { locality failover zone, region }"),
            vec![Code::LocalityWithoutEjection]
        );
        assert!(codes_of(
            "service s { locality failover zone, region\n eject after 5 consecutive 5xx every 10s for 30s { max 50% min-healthy 30% } }"
        )
        .is_empty());
    }

    #[test]
    fn ejection_after_zero_errors_does_not_enable_failover() {
        assert_eq!(
            codes_of("service s { locality failover zone\n eject after 0 consecutive 5xx { max 50% min-healthy 30% } }"),
            vec![Code::LocalityWithoutEjection]
        );
    }

    #[test]
    fn ejection_that_can_take_everything_or_reacts_to_noise_is_flagged() {
        assert_eq!(
            codes_of("service s { eject after 5 consecutive 5xx }"),
            vec![Code::EjectEverything]
        );
        assert_eq!(
            codes_of("service s { eject after 1 consecutive 5xx { max 80% min-healthy 10% } }"),
            vec![Code::EjectTooEager, Code::EjectEverything]
        );
    }

    #[test]
    fn maglev_tables_are_prime() {
        assert_eq!(
            codes_of("service s { balance hash header x-user maglev 65536 }"),
            vec![Code::MaglevNotPrime]
        );
        assert!(codes_of("service s { balance hash header x-user maglev 65537 }").is_empty());
        assert!(is_prime(65537) && !is_prime(1) && next_prime(65536) == 65537);
    }
}
