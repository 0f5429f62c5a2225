//! The request's head in, the plain response out, in as few `wasi:http` calls as the exchange
//! needs: method, path-with-query and, for the one route that negotiates its format and for
//! static files (which come precompressed), one header lookup;
//! one `fields.from-list`, the response (its status set only when not 200), its body stream,
//! `blocking-write-and-flush` per 4 KiB and `finish`. A stream (`live.rs`) sends the head the
//! same way and writes its body over time.

use heart_core::api::{self, ApiResponse};
use spin_sdk::http::{
    ErrorCode, Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use spin_sdk::wit::wasi::http0_2_0::types::ResponseOutparam as RawOutparam;
use wasi::io::streams::OutputStream;

/// The largest write `blocking-write-and-flush` accepts (WASI 0.2 `wasi:io/streams`).
const WRITE_LIMIT: usize = 4096;

/// What the routes read of a request: its method, target and `Accept` header.
#[derive(Debug)]
pub struct RequestHead {
    /// The method, as the core compares it (`GET`, …).
    pub method: String,
    /// The path and query as received (`/heart.svg?bpm=90`).
    path_with_query: String,
    /// The `Accept` field lines as one list ([`api::accept_field`]); lines that are not UTF-8
    /// are ignored. Left `None` on paths that do not read it ([`api::reads_accept`]).
    pub accept: Option<String>,
    /// The `Accept-Encoding` field lines as one list, read as `accept` is, only where the
    /// answer can depend on it ([`api::reads_accept_encoding`]).
    pub accept_encoding: Option<String>,
}

impl RequestHead {
    /// Reads the head of `request`; its body is never read, and its `Accept` header only for
    /// the route that negotiates ([`api::reads_accept`]): three host calls saved on the others.
    pub fn read(request: &IncomingRequest) -> Self {
        let mut head = Self {
            method: request.method().to_string(),
            path_with_query: request.path_with_query().unwrap_or_default(),
            accept: None,
            accept_encoding: None,
        };
        if api::reads_accept(head.path()) {
            head.accept = field(request, "accept");
        }
        if api::reads_accept_encoding(head.path()) {
            head.accept_encoding = field(request, "accept-encoding");
        }
        head
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.split().0
    }

    /// The query, without the `?`; empty when there is none.
    pub fn query(&self) -> &str {
        self.split().1
    }

    fn split(&self) -> (&str, &str) {
        self.path_with_query
            .split_once('?')
            .unwrap_or((&self.path_with_query, ""))
    }
}

/// The field lines called `name` as one list ([`api::accept_field`]); lines that are not UTF-8
/// are ignored.
fn field(request: &IncomingRequest, name: &str) -> Option<String> {
    let lines: Vec<String> = request
        .headers()
        .get(name)
        .into_iter()
        .filter_map(|v| String::from_utf8(v).ok())
        .collect();
    api::accept_field(lines.iter().map(String::as_str))
}

/// Sends `plain` through `out`. A response that cannot be made (a header the host refuses) is
/// reported to the host as an internal error rather than left unset.
pub fn respond(out: ResponseOutparam, plain: ApiResponse) {
    let Some((body, stream)) = send_head(out, plain.status, plain.headers) else {
        return;
    };
    // The head is on its way: a body that cannot be written is left unfinished, which the
    // host sees as a broken body.
    if let Err(e) = write_all(&stream, &plain.body) {
        eprintln!("writing the response body: {e}");
        return;
    }
    finish(body, stream);
}

/// Sends the response head (`status`, `headers`) through `out` and returns its body and the
/// body's stream; `None` when the response could not be made (reported to the host).
pub fn send_head(
    out: ResponseOutparam,
    status: u16,
    headers: Vec<(&'static str, String)>,
) -> Option<(OutgoingBody, OutputStream)> {
    let out = out.into_inner();
    let headers: Vec<(String, Vec<u8>)> = headers
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.into_bytes()))
        .collect();
    let response = match Fields::from_list(&headers) {
        Ok(fields) => OutgoingResponse::new(fields),
        Err(e) => return fail(out, format!("response headers refused: {e:?}")),
    };
    // A new response is `200 OK` already (WASI 0.2 `outgoing-response.new`).
    if status != 200 && response.set_status_code(status).is_err() {
        return fail(out, format!("status {status} refused"));
    }
    let Ok(body) = response.body() else {
        return fail(out, "response body unavailable".to_owned());
    };
    let Ok(stream) = body.write() else {
        return fail(out, "the body stream was already taken".to_owned());
    };
    RawOutparam::set(out, Ok(response));
    Some((body, stream))
}

/// Writes `bytes` to a body's `stream`; an error means the reader is gone.
pub fn write_all(stream: &OutputStream, bytes: &[u8]) -> Result<(), String> {
    for chunk in bytes.chunks(WRITE_LIMIT) {
        stream
            .blocking_write_and_flush(chunk)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Ends the body: its stream first, as `wasi:http` requires.
pub fn finish(body: OutgoingBody, stream: OutputStream) {
    drop(stream);
    if let Err(e) = OutgoingBody::finish(body, None) {
        eprintln!("finishing the response body: {e:?}");
    }
}

/// Answers the request with an internal error instead of a response.
fn fail<T>(out: RawOutparam, message: String) -> Option<T> {
    eprintln!("{message}");
    RawOutparam::set(out, Err(ErrorCode::InternalError(Some(message))));
    None
}
