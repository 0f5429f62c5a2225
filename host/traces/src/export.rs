//! Export off the request path: a request hands its spans to a bounded queue without waiting
//! for the export (a full queue drops them, counted), and one worker thread of its own sends them in batches
//! over OTLP/HTTP with OpenTelemetry's exporter — so a collector that is down or slow costs a
//! request nothing. The SDK's batch processor is not used because it does not report what it
//! drops.

use std::sync::mpsc::Receiver;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{Protocol, RetryPolicy, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SpanData, SpanExporter as _};
use prometheus::IntCounter;

use crate::settings::TraceSettings;
use crate::spans::{RequestOutcome, RequestTrace};

/// What happens to spans, for the metrics.
#[derive(Debug, Clone)]
pub struct SpanCounters {
    /// Sent to the collector, which accepted them.
    pub exported: IntCounter,
    /// Dropped because the queue was full (the collector slow or down).
    pub dropped: IntCounter,
    /// Sent in a batch the collector refused or did not answer in time.
    pub failed: IntCounter,
}

/// Why the exporter could not start.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// OpenTelemetry's exporter refused its configuration.
    #[error("configuring the OTLP exporter for {endpoint}: {message}")]
    Exporter {
        /// The endpoint.
        endpoint: String,
        /// Its message.
        message: String,
    },
    /// The worker thread could not start.
    #[error("starting the span export thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// Records requests' spans and exports them; cheap to clone. The last clone dropped sends what
/// is queued (waiting for it at most the export timeout, and 5 s) and stops the worker.
#[derive(Debug, Clone)]
pub struct Tracer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    queue: Arc<Queue>,
    /// Closed when the worker has sent what was left.
    done: Mutex<Receiver<()>>,
    /// How long the last clone waits for that.
    flush: Duration,
    scope: InstrumentationScope,
    counters: SpanCounters,
}

/// Spans waiting for export. A request only takes the lock to push; the worker is woken when a
/// batch is full or the queue closes, not for every span (a wake-up per span was most of what
/// tracing cost a request), and otherwise sends what has gathered every schedule delay.
#[derive(Debug)]
struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
    capacity: usize,
    batch: usize,
}

#[derive(Debug, Default)]
struct QueueState {
    spans: Vec<SpanData>,
    closed: bool,
}

impl Tracer {
    /// Starts exporting to `settings`' endpoint as the service with `attributes` (the pod's
    /// identity; `OTEL_RESOURCE_ATTRIBUTES` is added to them).
    pub fn start(
        settings: &TraceSettings,
        attributes: Vec<KeyValue>,
        counters: SpanCounters,
    ) -> Result<Self, ExportError> {
        let exporter_error = |e: opentelemetry_otlp::ExporterBuildError| ExportError::Exporter {
            endpoint: settings.endpoint.clone(),
            message: e.to_string(),
        };
        let mut exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(settings.endpoint.clone())
            .with_timeout(settings.export_timeout)
            // A batch that fails is counted, not retried: the next one tries again.
            .with_retry_policy(RetryPolicy::disabled())
            .build()
            .map_err(exporter_error)?;
        let from_env = settings
            .resource_attributes
            .iter()
            .map(|(k, v)| KeyValue::new(k.clone(), v.clone()));
        exporter.set_resource(
            &Resource::builder_empty()
                .with_service_name(settings.service_name.clone())
                .with_attributes(attributes.into_iter().chain(from_env))
                .build(),
        );
        let queue = Arc::new(Queue {
            state: Mutex::new(QueueState::default()),
            ready: Condvar::new(),
            capacity: settings.max_queue_size,
            batch: settings.max_export_batch_size,
        });
        let (finished, done) = std::sync::mpsc::channel();
        let worker = Worker {
            _finished: finished,
            queue: queue.clone(),
            exporter,
            settings: settings.clone(),
            counters: counters.clone(),
        };
        std::thread::Builder::new()
            .name("span-export".to_owned())
            .spawn(move || worker.run())?;
        let scope = InstrumentationScope::builder("heart-host")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        Ok(Self {
            inner: Arc::new(Inner {
                queue,
                done: Mutex::new(done),
                flush: settings.export_timeout.min(MAX_SHUTDOWN_FLUSH),
                scope,
                counters,
            }),
        })
    }

    /// Queues the spans of a request that ended as `outcome` (none if its trace is not
    /// sampled); never waits for the export: spans that find the queue full are dropped and
    /// counted.
    pub fn record(&self, trace: &RequestTrace, outcome: &RequestOutcome<'_>) {
        if !trace.sampled() {
            return;
        }
        let spans = trace.spans(outcome, &self.inner.scope);
        let queue = &self.inner.queue;
        let (dropped, batch_full) = match queue.state.lock() {
            Ok(mut state) if !state.closed => {
                let room = queue.capacity.saturating_sub(state.spans.len());
                let dropped = spans.len().saturating_sub(room);
                let before = state.spans.len();
                state.spans.extend(spans.into_iter().take(room));
                let full = before < queue.batch && state.spans.len() >= queue.batch;
                (dropped, full)
            }
            _ => (spans.len(), false),
        };
        if batch_full {
            queue.ready.notify_one();
        }
        if dropped > 0 {
            self.inner.counters.dropped.inc_by(dropped as u64);
        }
    }
}

/// Longest a stopping host waits for its last spans to be sent.
const MAX_SHUTDOWN_FLUSH: Duration = Duration::from_secs(5);

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the queue tells the worker to send what is left and stop; a collector that
        // does not answer holds the stop no longer than the flush time.
        if let Ok(mut state) = self.queue.state.lock() {
            state.closed = true;
        }
        self.queue.ready.notify_one();
        if let Ok(done) = self.done.get_mut() {
            let _ = done.recv_timeout(self.flush);
        }
    }
}

/// The export thread's state.
struct Worker {
    /// Dropped as the worker ends.
    _finished: std::sync::mpsc::Sender<()>,
    queue: Arc<Queue>,
    exporter: opentelemetry_otlp::SpanExporter,
    settings: TraceSettings,
    counters: SpanCounters,
}

impl Worker {
    /// Sends what has gathered when a batch is full or every schedule delay, until the queue
    /// closes; then sends the rest.
    fn run(self) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                tracing::error!(error = %e, "span export cannot run: no traces will be sent");
                return;
            }
        };
        loop {
            let (spans, closed) =
                {
                    let Ok(state) = self.queue.state.lock() else {
                        return;
                    };
                    let Ok((mut state, _)) = self.queue.ready.wait_timeout_while(
                        state,
                        self.settings.schedule_delay,
                        |s| s.spans.len() < self.queue.batch && !s.closed,
                    ) else {
                        return;
                    };
                    (std::mem::take(&mut state.spans), state.closed)
                };
            let mut spans = spans;
            while !spans.is_empty() {
                let rest = spans.split_off(spans.len().min(self.queue.batch));
                self.send(&runtime, spans);
                spans = rest;
            }
            if closed {
                return;
            }
        }
    }

    fn send(&self, runtime: &tokio::runtime::Runtime, batch: Vec<SpanData>) {
        let count = batch.len() as u64;
        // The HTTP client's own timeout bounds it; this one is a second line.
        let sent = runtime.block_on(async {
            tokio::time::timeout(self.settings.export_timeout, self.exporter.export(batch)).await
        });
        match sent {
            Ok(Ok(())) => self.counters.exported.inc_by(count),
            Ok(Err(e)) => {
                self.counters.failed.inc_by(count);
                tracing::warn!(endpoint = %self.settings.endpoint, spans = count, error = %e, "exporting spans failed");
            }
            Err(_) => {
                self.counters.failed.inc_by(count);
                tracing::warn!(endpoint = %self.settings.endpoint, spans = count, "exporting spans timed out");
            }
        }
    }
}
