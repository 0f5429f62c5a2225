//! heart-host's OpenTelemetry traces, switched on by the standard `OTEL_*` variables as Spin
//! reads them and costing nothing when they are unset: one server span per request (the
//! matched route, the status, the instance fresh or reused) with child spans for the
//! instantiation and the guest call, joined to the client's trace when it sends a W3C
//! `traceparent`, exported over OTLP/HTTP (protobuf) off the request path.
//!
//! - [`settings`]: the `OTEL_*` variables read and checked;
//! - [`parent`]: the client's span, from its `traceparent` / `tracestate`;
//! - [`spans`]: a request's spans, from the figures the host measured;
//! - `export` (feature `export`): the bounded hand-off and the worker that sends the spans.
//!
//! heart-host re-exports it as `heart_host::traces`; the fuzz targets build it without the
//! exporter.
#![deny(missing_docs)]

#[cfg(feature = "export")]
pub mod export;
pub mod parent;
pub mod settings;
pub mod spans;

#[cfg(feature = "export")]
pub use export::{ExportError, SpanCounters, Tracer};
pub use opentelemetry::KeyValue;
pub use opentelemetry::trace::TraceId;
pub use parent::remote_parent;
pub use settings::{TraceSettings, TraceSettingsError};
pub use spans::{ComponentCall, RequestOutcome, RequestTrace};
