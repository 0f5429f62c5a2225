//! Prometheus metrics, exposed at `/metrics` in the text format. Every series carries the
//! instance's identity (`pod_name`, `namespace` from the Kubernetes downward API, falling back
//! to the hostname and `default`) as constant labels.

use std::collections::HashMap;

use heart_core::presence::ClientState;

use prometheus::{
    Encoder, Gauge, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder, exponential_buckets,
};

/// Who this instance is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `POD_NAME`, else the hostname.
    pub pod_name: String,
    /// `POD_NAMESPACE`, else `default`.
    pub namespace: String,
}

impl Identity {
    /// From `lookup` (the process environment in production) with the hostname fallback.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let non_empty = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
        Self {
            pod_name: non_empty("POD_NAME").unwrap_or_else(hostname),
            namespace: non_empty("POD_NAMESPACE").unwrap_or_else(|| "default".to_owned()),
        }
    }
}

/// The machine's hostname (`unknown` if it cannot be read).
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// How a stream ended: its `end` label in `heart_live_streams_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// The guest finished its body.
    Finished,
    /// The client hung up first.
    ClientGone,
    /// The guest wrote nothing for the request timeout.
    Stalled,
    /// The guest trapped or the body broke.
    Failed,
    /// Not started: every stream slot was taken.
    Refused,
}

impl StreamEnd {
    /// Every end, for zero series.
    pub const ALL: [StreamEnd; 5] = [
        Self::Finished,
        Self::ClientGone,
        Self::Stalled,
        Self::Failed,
        Self::Refused,
    ];

    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Finished => "finished",
            Self::ClientGone => "client_gone",
            Self::Stalled => "stalled",
            Self::Failed => "failed",
            Self::Refused => "refused",
        }
    }
}

/// Why the HTTP layer refused a request before any route: its `reason` label in
/// `heart_http_refused_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The request line or headers were over the limits (431, or 414 for the URI).
    HeadTooLarge,
    /// Not a well-formed HTTP request (400, or the connection closed).
    Malformed,
    /// The head was not read within the header-read timeout (the connection closed).
    HeaderTimeout,
}

impl Refusal {
    /// Every reason, for zero series.
    pub const ALL: [Refusal; 3] = [Self::HeadTooLarge, Self::Malformed, Self::HeaderTimeout];

    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Self::HeadTooLarge => "head_too_large",
            Self::Malformed => "malformed",
            Self::HeaderTimeout => "header_timeout",
        }
    }
}

/// The host's metrics.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// `heart_display_beats_total`: heart frames emitted by this instance.
    pub beats: IntCounter,
    /// `heart_http_requests_total{route,status}`.
    pub requests: IntCounterVec,
    /// `heart_http_request_duration_seconds{route}`.
    pub request_duration: HistogramVec,
    /// `heart_http_refused_total{reason}`: requests the protocol layer refused before any
    /// route (`head_too_large`, `malformed`, `header_timeout`).
    pub refused: IntCounterVec,
    /// `heart_wasm_instantiation_seconds`.
    pub instantiation: Histogram,
    /// `heart_wasm_active_instances`.
    pub active_instances: IntGauge,
    /// `heart_wasm_pool_resident_bytes`: guest memory the pooling allocator keeps resident in
    /// slots no instance uses (reset in place for the next one), set on each scrape.
    pub pool_resident_bytes: IntGauge,
    /// `heart_wasm_guest_cpu_seconds`: time each instance's guest ran on a worker thread over
    /// its requests (its CPU time unless preempted; host calls included for WASI 0.2, excluded
    /// for WASI 0.3), observed when the instance ends.
    pub guest_cpu: Histogram,
    /// `heart_wasm_guest_memory_high_water_bytes`: the largest each instance's linear memory
    /// grew to (its initial size where it never grew), observed when the instance ends.
    pub guest_memory_high_water: Histogram,
    /// `heart_wasm_guest_memory_grows_total`: `memory.grow` calls that succeeded in instances
    /// that have ended (each costs the pooling allocator an `mprotect` now and at the reset).
    pub guest_memory_grows: IntCounter,
    /// `heart_wasm_guest_failures_total{kind}`: `trap`, `timeout`, `instantiation`.
    pub guest_failures: IntCounterVec,
    /// `heart_component_loads_total{outcome}`: `cache_hit`, `compiled`, `node_cache` (mapped
    /// from the compiled code the shim handed over), and `failed` for new code refused under
    /// `--watch`.
    pub component_loads: IntCounterVec,
    /// `heart_config_reloads_total{result}`: `ok`, `failed`.
    pub config_reloads: IntCounterVec,
    /// `heart_config_generation`: 1 at start, +1 per applied reload.
    pub config_generation: IntGauge,
    /// `heart_config_applied_timestamp_seconds`: when the config in use was applied (start or
    /// last reload), Unix seconds.
    pub config_applied: Gauge,
    /// `heart_config_bpm`: the configured heart rate in use, to compare with observed beats.
    pub config_bpm: IntGauge,
    /// `heart_rate_total`: client heartbeats received (`POST /api/beat` accepted).
    pub heart_rate: IntCounter,
    /// `beat_latency_seconds`: how late each client beat came against its bpm's schedule.
    pub beat_latency: Histogram,
    /// `heart_clients{state}`: tracked clients by presence state.
    pub clients: IntGaugeVec,
    /// `heart_live_streams`: `/live` streams open now.
    pub live_streams: IntGauge,
    /// `heart_live_streams_total{end}`: streams ended, by how (`finished`, `client_gone`,
    /// `stalled`, `failed`, `refused` at the stream limit).
    pub live_streams_ended: IntCounterVec,
    /// `heart_live_stream_duration_seconds`: how long streams ran.
    pub live_stream_duration: Histogram,
    /// `heart_trace_spans_total{outcome}`: spans exported, dropped (queue full) or failed
    /// (the collector refused or did not answer) — zero while traces are off.
    pub trace_spans: IntCounterVec,
}

impl Metrics {
    /// The span counters the trace exporter keeps.
    pub fn span_counters(&self) -> crate::traces::SpanCounters {
        let outcome = |name: &str| self.trace_spans.with_label_values(&[name]);
        crate::traces::SpanCounters {
            exported: outcome("exported"),
            dropped: outcome("dropped"),
            failed: outcome("failed"),
        }
    }

    /// Registers every metric (and the process collector) for `identity`.
    pub fn new(identity: &Identity) -> Result<Self, prometheus::Error> {
        let labels = HashMap::from([
            ("pod_name".to_owned(), identity.pod_name.clone()),
            ("namespace".to_owned(), identity.namespace.clone()),
        ]);
        let registry = Registry::new_custom(None, Some(labels))?;
        let beats = IntCounter::new(
            "heart_display_beats_total",
            "Heart frames emitted by this instance.",
        )?;
        let requests = IntCounterVec::new(
            Opts::new(
                "heart_http_requests_total",
                "HTTP requests by route and status.",
            ),
            &["route", "status"],
        )?;
        let refused = IntCounterVec::new(
            Opts::new(
                "heart_http_refused_total",
                "Requests refused by the HTTP layer before any route: head too large (431/414), malformed (400), head not read in time (closed).",
            ),
            &["reason"],
        )?;
        let request_duration = HistogramVec::new(
            HistogramOpts::new(
                "heart_http_request_duration_seconds",
                "Time to answer a request.",
            ),
            &["route"],
        )?;
        let instantiation = Histogram::with_opts(
            HistogramOpts::new(
                "heart_wasm_instantiation_seconds",
                "Time to instantiate a component.",
            )
            .buckets(exponential_buckets(0.000_01, 2.0, 16)?),
        )?;
        let active_instances = IntGauge::new(
            "heart_wasm_active_instances",
            "Component instances alive now.",
        )?;
        let pool_resident_bytes = IntGauge::new(
            "heart_wasm_pool_resident_bytes",
            "Guest memory bytes kept resident in unused pooled slots, reset in place for the next instance.",
        )?;
        let guest_cpu = Histogram::with_opts(
            HistogramOpts::new(
                "heart_wasm_guest_cpu_seconds",
                "Time each ended instance's guest ran on a worker thread over its requests: its CPU time unless the thread was preempted; host calls included for WASI 0.2 components, excluded for WASI 0.3 (time in Wasm code).",
            )
            .buckets(exponential_buckets(0.000_01, 4.0, 10)?),
        )?;
        let guest_memory_high_water = Histogram::with_opts(
            HistogramOpts::new(
                "heart_wasm_guest_memory_high_water_bytes",
                "The largest each ended instance's linear memory grew to (its initial size if it never grew).",
            )
            .buckets(exponential_buckets(f64::from(1 << 20), 2.0, 13)?),
        )?;
        let guest_memory_grows = IntCounter::new(
            "heart_wasm_guest_memory_grows_total",
            "memory.grow calls that succeeded in instances that have ended.",
        )?;
        let guest_failures = IntCounterVec::new(
            Opts::new(
                "heart_wasm_guest_failures_total",
                "Requests a guest failed: trap, timeout or instantiation.",
            ),
            &["kind"],
        )?;
        let component_loads = IntCounterVec::new(
            Opts::new(
                "heart_component_loads_total",
                "Components loaded, from the compile cache or compiled.",
            ),
            &["outcome"],
        )?;
        let config_reloads = IntCounterVec::new(
            Opts::new(
                "heart_config_reloads_total",
                "Config directory reloads applied or rejected.",
            ),
            &["result"],
        )?;
        let config_generation =
            IntGauge::new("heart_config_generation", "Config generation in use.")?;
        let config_bpm = IntGauge::new("heart_config_bpm", "Configured heart rate (bpm) in use.")?;
        let config_applied = Gauge::new(
            "heart_config_applied_timestamp_seconds",
            "When the config in use was applied (start or last reload), Unix seconds.",
        )?;
        let heart_rate = IntCounter::new("heart_rate_total", "Client heartbeats received.")?;
        let beat_latency = Histogram::with_opts(
            HistogramOpts::new(
                "beat_latency_seconds",
                "How late each client beat arrived against the schedule its bpm implies.",
            )
            .buckets(exponential_buckets(0.01, 2.0, 8)?),
        )?;
        let clients = IntGaugeVec::new(
            Opts::new("heart_clients", "Tracked clients by presence state."),
            &["state"],
        )?;
        let live_streams = IntGauge::new("heart_live_streams", "Live streams open now.")?;
        let live_streams_ended = IntCounterVec::new(
            Opts::new(
                "heart_live_streams_total",
                "Live streams ended: finished, client_gone, stalled, failed, or refused at the limit.",
            ),
            &["end"],
        )?;
        let live_stream_duration = Histogram::with_opts(
            HistogramOpts::new(
                "heart_live_stream_duration_seconds",
                "How long live streams ran.",
            )
            .buckets(vec![
                1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
            ]),
        )?;
        let trace_spans = IntCounterVec::new(
            Opts::new(
                "heart_trace_spans_total",
                "Spans by what became of them: exported, dropped (the export queue was full) or failed (the collector refused them or did not answer in time).",
            ),
            &["outcome"],
        )?;
        let build_info = build_info()?;
        for collector in [
            Box::new(beats.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(requests.clone()),
            Box::new(request_duration.clone()),
            Box::new(refused.clone()),
            Box::new(instantiation.clone()),
            Box::new(active_instances.clone()),
            Box::new(pool_resident_bytes.clone()),
            Box::new(guest_cpu.clone()),
            Box::new(guest_memory_high_water.clone()),
            Box::new(guest_memory_grows.clone()),
            Box::new(guest_failures.clone()),
            Box::new(component_loads.clone()),
            Box::new(config_reloads.clone()),
            Box::new(config_generation.clone()),
            Box::new(config_applied.clone()),
            Box::new(config_bpm.clone()),
            Box::new(heart_rate.clone()),
            Box::new(beat_latency.clone()),
            Box::new(clients.clone()),
            Box::new(live_streams.clone()),
            Box::new(live_streams_ended.clone()),
            Box::new(live_stream_duration.clone()),
            Box::new(trace_spans.clone()),
            Box::new(build_info),
            Box::new(prometheus::process_collector::ProcessCollector::for_self()),
        ] {
            registry.register(collector)?;
        }
        // Zero series for known outcomes, so rates and alerts see them before the first event.
        for result in ["ok", "failed"] {
            config_reloads.with_label_values(&[result]);
        }
        for reason in Refusal::ALL {
            refused.with_label_values(&[reason.label()]);
        }
        for kind in ["trap", "timeout", "instantiation"] {
            guest_failures.with_label_values(&[kind]);
        }
        for state in ClientState::ALL {
            clients.with_label_values(&[state.name()]);
        }
        for end in StreamEnd::ALL {
            live_streams_ended.with_label_values(&[end.label()]);
        }
        for outcome in ["exported", "dropped", "failed"] {
            trace_spans.with_label_values(&[outcome]);
        }
        config_generation.set(1);
        let metrics = Self {
            registry,
            beats,
            requests,
            request_duration,
            refused,
            instantiation,
            active_instances,
            pool_resident_bytes,
            guest_cpu,
            guest_memory_high_water,
            guest_memory_grows,
            guest_failures,
            component_loads,
            config_reloads,
            config_generation,
            config_applied,
            config_bpm,
            heart_rate,
            beat_latency,
            clients,
            live_streams,
            live_streams_ended,
            live_stream_duration,
            trace_spans,
        };
        metrics.mark_config_applied();
        Ok(metrics)
    }

    /// Records that a config was applied now.
    pub(crate) fn mark_config_applied(&self) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        self.config_applied.set(now);
    }

    /// Sets the `heart_clients` gauge from the presence table's counts.
    pub(crate) fn record_presence(&self, count: impl Fn(ClientState) -> u64) {
        for state in ClientState::ALL {
            self.clients
                .with_label_values(&[state.name()])
                .set(i64::try_from(count(state)).unwrap_or(i64::MAX));
        }
    }

    /// The text exposition of every metric.
    pub(crate) fn encode(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("encoding gathered metrics into memory cannot fail");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

/// `heart_build_info{version,wasmtime} 1`.
fn build_info() -> Result<IntGaugeVec, prometheus::Error> {
    let info = IntGaugeVec::new(
        Opts::new("heart_build_info", "Build information; always 1."),
        &["version", "wasmtime"],
    )?;
    info.with_label_values(&[env!("CARGO_PKG_VERSION"), WASMTIME_VERSION])
        .set(1);
    Ok(info)
}

/// The Wasmtime version this host is built against (pinned in the workspace).
pub const WASMTIME_VERSION: &str = "50.0.2";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_comes_from_the_downward_api_with_fallbacks() {
        let pod = Identity::from_env(|k| match k {
            "POD_NAME" => Some("heart-display-0".into()),
            "POD_NAMESPACE" => Some("hearts".into()),
            _ => None,
        });
        assert_eq!(
            (pod.pod_name.as_str(), pod.namespace.as_str()),
            ("heart-display-0", "hearts")
        );
        let local = Identity::from_env(|_| None);
        assert_eq!(local.pod_name, hostname());
        assert_eq!(local.namespace, "default");
    }

    #[test]
    fn wasmtime_version_matches_the_workspace_pin() {
        let manifest = include_str!("../../Cargo.toml");
        assert!(manifest.contains(&format!("wasmtime = {{ version = \"={WASMTIME_VERSION}\"")));
    }

    #[test]
    fn every_series_carries_the_identity() {
        let metrics = Metrics::new(&Identity {
            pod_name: "p".into(),
            namespace: "n".into(),
        })
        .expect("registers");
        metrics.beats.inc();
        let text = metrics.encode();
        // Constant labels come in no fixed order, so look for each one.
        for name in ["heart_display_beats_total{", "heart_build_info{"] {
            let line = text
                .lines()
                .find(|l| l.starts_with(name))
                .unwrap_or_else(|| panic!("no {name} in {text}"));
            assert!(
                line.contains(r#"pod_name="p""#)
                    && line.contains(r#"namespace="n""#)
                    && line.ends_with(" 1"),
                "{line}"
            );
        }
    }
}
