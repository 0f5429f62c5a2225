//! The `Server-Timing` header on every response (W3C Server Timing, which a browser's developer
//! tools show as they are): `total` for every request; for a component's answer also
//! `instantiate` (a fresh instance only), `guest`, and `instance` with `desc` `fresh` or
//! `reused`, and `host-calls` (the guest's calls into the host, where the host counts them:
//! `HEART_HOST_COUNT_HOST_CALLS`). Durations are in milliseconds.

use std::time::Duration;

use hyper::header::HeaderValue;

use crate::instance::timing::{InstanceUse, Timing};

/// The header's name.
pub const NAME: &str = "server-timing";

/// The header value for a request that took `total`, `component` its component's figures.
pub fn value(component: Option<&Timing>, total: Duration) -> HeaderValue {
    let mut metrics = Vec::with_capacity(4);
    if let Some(timing) = component {
        match timing.instance {
            InstanceUse::Fresh { instantiate } => {
                metrics.push(format!("instantiate;dur={}", millis(instantiate)));
                metrics.push("instance;desc=\"fresh\"".to_owned());
            }
            InstanceUse::Reused => metrics.push("instance;desc=\"reused\"".to_owned()),
            InstanceUse::Unknown => {}
        }
        metrics.push(format!("guest;dur={}", millis(timing.guest)));
        if let Some(calls) = timing.host_calls {
            metrics.push(format!("host-calls;desc=\"{calls}\""));
        }
    }
    metrics.push(format!("total;dur={}", millis(total)));
    HeaderValue::from_str(&metrics.join(", "))
        .expect("metric names, quoted words and numbers are valid header text")
}

/// Milliseconds with microsecond precision.
fn millis(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_instance_reports_its_instantiation_and_the_guest() {
        let timing = Timing {
            instance: InstanceUse::Fresh {
                instantiate: Duration::from_micros(412),
            },
            guest: Duration::from_micros(1_905),
            host_calls: None,
            started: None,
        };
        assert_eq!(
            value(Some(&timing), Duration::from_micros(2_410)),
            "instantiate;dur=0.412, instance;desc=\"fresh\", guest;dur=1.905, total;dur=2.410"
        );
    }

    #[test]
    fn a_reused_instance_has_no_instantiation() {
        let timing = Timing {
            instance: InstanceUse::Reused,
            guest: Duration::from_micros(80),
            host_calls: None,
            started: None,
        };
        assert_eq!(
            value(Some(&timing), Duration::from_micros(95)),
            "instance;desc=\"reused\", guest;dur=0.080, total;dur=0.095"
        );
    }

    #[test]
    fn counted_host_calls_are_reported() {
        let timing = Timing {
            instance: InstanceUse::Reused,
            guest: Duration::from_micros(80),
            host_calls: Some(23),
            started: None,
        };
        assert_eq!(
            value(Some(&timing), Duration::from_micros(95)),
            "instance;desc=\"reused\", guest;dur=0.080, host-calls;desc=\"23\", total;dur=0.095"
        );
    }

    #[test]
    fn a_host_route_reports_its_total() {
        assert_eq!(value(None, Duration::from_millis(3)), "total;dur=3.000");
    }
}
