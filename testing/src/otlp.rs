//! An OTLP/HTTP trace collector for tests: a real HTTP server on 127.0.0.1 that decodes each
//! export with the official protobuf definitions (opentelemetry-proto) and keeps the spans, so
//! a test asserts what a collector would receive. It can hold each answer (a slow collector).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
pub use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
pub use opentelemetry_proto::tonic::resource::v1::Resource;
pub use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

/// What the collector received.
#[derive(Debug, Default)]
struct Received {
    /// Each span with its resource.
    spans: Vec<(Resource, Span)>,
    /// Export requests that reached it, answered or not.
    requests: usize,
    /// Requests that were not `POST /v1/traces` with a protobuf body.
    malformed: Vec<String>,
}

/// An OTLP/HTTP receiver on 127.0.0.1, which answers each export after `delay`.
#[derive(Debug)]
pub struct Collector {
    address: SocketAddr,
    received: Arc<Mutex<Received>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Collector {
    /// Starts one that answers each export after `delay`.
    pub fn start(delay: Duration) -> Self {
        let received = Arc::new(Mutex::new(Received::default()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding the collector");
        listener.set_nonblocking(true).expect("non-blocking");
        let address = listener.local_addr().expect("collector address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shared = received.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("collector runtime");
            runtime.block_on(serve(listener, shared, delay, stopped));
        });
        Self {
            address,
            received,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Its base URL, for `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Every span received so far, with its resource.
    pub fn spans(&self) -> Vec<(Resource, Span)> {
        self.received.lock().expect("collector state").spans.clone()
    }

    /// Export requests that reached it, answered or not.
    pub fn requests(&self) -> usize {
        self.received.lock().expect("collector state").requests
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let malformed = &self.received.lock().map(|r| r.malformed.clone());
        if !std::thread::panicking() {
            assert_eq!(
                malformed.as_deref().ok(),
                Some(&[][..]),
                "malformed exports"
            );
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    received: Arc<Mutex<Received>>,
    delay: Duration,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    loop {
        let (stream, _) = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(_) => continue,
            },
        };
        let received = received.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let received = received.clone();
                async move { Ok::<_, Infallible>(export(request, &received, delay).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Receives one export request.
async fn export(
    request: Request<Incoming>,
    received: &Mutex<Received>,
    delay: Duration,
) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let content_type = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    {
        let mut received = received.lock().expect("collector state");
        received.requests += 1;
        let decoded = ExportTraceServiceRequest::decode(body.as_ref());
        match decoded {
            Ok(export)
                if parts.method == "POST"
                    && parts.uri.path() == "/v1/traces"
                    && content_type == "application/x-protobuf" =>
            {
                for resource_spans in export.resource_spans {
                    let resource = resource_spans.resource.unwrap_or_default();
                    for scope in resource_spans.scope_spans {
                        for span in scope.spans {
                            received.spans.push((resource.clone(), span));
                        }
                    }
                }
            }
            other => received.malformed.push(format!(
                "{} {} ({content_type}): {:?}",
                parts.method,
                parts.uri,
                other.err()
            )),
        }
    }
    tokio::time::sleep(delay).await;
    Response::builder()
        .header("content-type", "application/x-protobuf")
        .body(Full::new(Bytes::from(
            ExportTraceServiceResponse::default().encode_to_vec(),
        )))
        .expect("a response")
}

/// The text or number `key` holds among `attributes`.
pub fn attribute(attributes: &[KeyValue], key: &str) -> Option<String> {
    let value = attributes.iter().find(|kv| kv.key == key)?.value.as_ref()?;
    match value.value.as_ref()? {
        Value::StringValue(text) => Some(text.clone()),
        Value::IntValue(number) => Some(number.to_string()),
        other => Some(format!("{other:?}")),
    }
}

/// Ids as the W3C headers write them.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
