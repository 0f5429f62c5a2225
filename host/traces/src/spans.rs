//! A request's spans, built from the figures the host measured anyway (the same ones its
//! `Server-Timing` header reports), with explicit timestamps: the server span (named by the
//! method and the matched route, with the status and how the instance was got) and, for a
//! component's answer, its children `instantiate <component>` (a fresh instance only) and
//! `execute_wasm_component <component>` (the guest call, Spin's name for it).

use std::borrow::Cow;
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator, SpanData, SpanEvents, SpanLinks};

/// A request's trace, begun as its head arrives.
#[derive(Debug, Clone)]
pub struct RequestTrace {
    /// The request's own span (its trace is the client's when it sent one).
    span: SpanContext,
    /// The client's span, if it sent a `traceparent`.
    parent: Option<SpanContext>,
    /// When the request began, on both clocks (spans are placed with the monotonic one).
    wall: SystemTime,
    started: Instant,
}

/// How a request ended.
#[derive(Debug, Clone, Copy)]
pub struct RequestOutcome<'a> {
    /// The method, e.g. `GET`.
    pub method: &'a str,
    /// The matched route (the host's bounded `route` label).
    pub route: &'a str,
    /// The request's path.
    pub path: &'a str,
    /// The response status.
    pub status: u16,
    /// When the response (its head, for a stream) was ready.
    pub ended: Instant,
    /// The component's part, if one answered.
    pub component: Option<ComponentCall<'a>>,
}

/// A component's part in a request.
#[derive(Debug, Clone, Copy)]
pub struct ComponentCall<'a> {
    /// The component's id.
    pub id: &'a str,
    /// When the host handed it the request.
    pub started: Instant,
    /// The instantiation, for an instance made for this request.
    pub instantiated: Option<Duration>,
    /// Whether the instance had answered before.
    pub reused: bool,
    /// Time in the guest, from the call to its response.
    pub guest: Duration,
}

impl RequestTrace {
    /// A new span for a request that began at `started`, child of `parent` (the client's span,
    /// see [`crate::remote_parent`]) or the root of a new trace.
    pub fn begin(parent: Option<SpanContext>, started: Instant) -> Self {
        let ids = RandomIdGenerator::default();
        let (trace_id, flags, state) = match &parent {
            Some(parent) => (
                parent.trace_id(),
                parent.trace_flags(),
                parent.trace_state().clone(),
            ),
            None => (ids.new_trace_id(), TraceFlags::SAMPLED, TraceState::NONE),
        };
        let span = SpanContext::new(trace_id, ids.new_span_id(), flags, false, state);
        let wall = SystemTime::now()
            .checked_sub(started.elapsed())
            .unwrap_or_else(SystemTime::now);
        Self {
            span,
            parent,
            wall,
            started,
        }
    }

    /// The trace this request belongs to.
    pub fn trace_id(&self) -> TraceId {
        self.span.trace_id()
    }

    /// Whether its spans are recorded: always, unless the client's `traceparent` says its
    /// trace is not sampled (parent-based sampling, OpenTelemetry's default).
    pub fn sampled(&self) -> bool {
        self.span.is_sampled()
    }

    /// The request's spans, the server span first.
    pub fn spans(
        &self,
        outcome: &RequestOutcome<'_>,
        scope: &InstrumentationScope,
    ) -> Vec<SpanData> {
        let mut attributes = vec![
            KeyValue::new("http.request.method", outcome.method.to_owned()),
            KeyValue::new("http.route", outcome.route.to_owned()),
            KeyValue::new("url.path", outcome.path.to_owned()),
            KeyValue::new("http.response.status_code", i64::from(outcome.status)),
        ];
        let mut children = Vec::new();
        if let Some(call) = outcome.component {
            attributes.push(KeyValue::new("heart.component", call.id.to_owned()));
            let instance = if call.reused { "reused" } else { "fresh" };
            attributes.push(KeyValue::new("heart.instance", instance));
            let mut guest_start = call.started;
            if let Some(took) = call.instantiated {
                guest_start = call.started + took;
                children.push(self.child(
                    format!("instantiate {}", call.id),
                    (call.started, guest_start),
                    call.id,
                    scope,
                ));
            }
            children.push(self.child(
                format!("execute_wasm_component {}", call.id),
                (guest_start, guest_start + call.guest),
                call.id,
                scope,
            ));
        }
        let status = if outcome.status >= 500 {
            Status::error(format!("answered {}", outcome.status))
        } else {
            Status::Unset
        };
        let server = SpanData {
            span_context: self.span.clone(),
            parent_span_id: self
                .parent
                .as_ref()
                .map_or(SpanId::INVALID, SpanContext::span_id),
            parent_span_is_remote: self.parent.is_some(),
            span_kind: SpanKind::Server,
            name: Cow::Owned(format!("{} {}", outcome.method, outcome.route)),
            start_time: self.wall,
            end_time: self.at(outcome.ended),
            attributes,
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status,
            instrumentation_scope: scope.clone(),
        };
        std::iter::once(server).chain(children).collect()
    }

    /// A child of the request's span over `(start, end)`.
    fn child(
        &self,
        name: String,
        (start, end): (Instant, Instant),
        component: &str,
        scope: &InstrumentationScope,
    ) -> SpanData {
        let span = SpanContext::new(
            self.span.trace_id(),
            RandomIdGenerator::default().new_span_id(),
            self.span.trace_flags(),
            false,
            self.span.trace_state().clone(),
        );
        SpanData {
            span_context: span,
            parent_span_id: self.span.span_id(),
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: Cow::Owned(name),
            start_time: self.at(start),
            end_time: self.at(end),
            attributes: vec![KeyValue::new("heart.component", component.to_owned())],
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: scope.clone(),
        }
    }

    /// `instant` on the wall clock.
    fn at(&self, instant: Instant) -> SystemTime {
        self.wall + instant.saturating_duration_since(self.started)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::Value;

    fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| &kv.value)
    }

    #[test]
    fn a_fresh_component_answer_has_an_instantiation_then_a_guest_call() {
        let started = Instant::now();
        let trace = RequestTrace::begin(None, started);
        let call = ComponentCall {
            id: "heart",
            started: started + Duration::from_micros(20),
            instantiated: Some(Duration::from_micros(300)),
            reused: false,
            guest: Duration::from_micros(500),
        };
        let outcome = RequestOutcome {
            method: "GET",
            route: "/heart.svg",
            path: "/heart.svg",
            status: 200,
            ended: started + Duration::from_micros(900),
            component: Some(call),
        };
        let scope = InstrumentationScope::builder("test").build();
        let spans = trace.spans(&outcome, &scope);
        let names: Vec<&str> = spans.iter().map(|s| s.name.as_ref()).collect();
        assert_eq!(
            names,
            [
                "GET /heart.svg",
                "instantiate heart",
                "execute_wasm_component heart"
            ]
        );
        let (server, instantiate, guest) = (&spans[0], &spans[1], &spans[2]);
        assert_eq!(server.parent_span_id, SpanId::INVALID);
        for child in [instantiate, guest] {
            assert_eq!(child.parent_span_id, server.span_context.span_id());
            assert_eq!(
                child.span_context.trace_id(),
                server.span_context.trace_id()
            );
            assert!(child.start_time >= server.start_time && child.end_time <= server.end_time);
        }
        assert_eq!(instantiate.end_time, guest.start_time);
        assert_eq!(
            guest.end_time.duration_since(guest.start_time).ok(),
            Some(Duration::from_micros(500))
        );
        assert_eq!(
            attribute(server, "heart.instance"),
            Some(&Value::from("fresh"))
        );
        assert_eq!(
            attribute(server, "http.response.status_code"),
            Some(&Value::I64(200))
        );
        assert_eq!(server.status, Status::Unset);
    }

    #[test]
    fn a_client_trace_is_joined_and_its_sampling_kept() {
        let parent = SpanContext::new(
            TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
            SpanId::from(0x00f0_67aa_0ba9_02b7),
            TraceFlags::NOT_SAMPLED,
            true,
            TraceState::NONE,
        );
        let trace = RequestTrace::begin(Some(parent.clone()), Instant::now());
        assert_eq!(trace.trace_id(), parent.trace_id());
        assert!(!trace.sampled());
        let outcome = RequestOutcome {
            method: "GET",
            route: "/healthz",
            path: "/healthz",
            status: 503,
            ended: Instant::now(),
            component: None,
        };
        let spans = trace.spans(&outcome, &InstrumentationScope::builder("t").build());
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].parent_span_id, parent.span_id());
        assert!(spans[0].parent_span_is_remote);
        assert!(matches!(spans[0].status, Status::Error { .. }));
    }
}
