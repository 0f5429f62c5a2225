//! The request's head in, the plain response out, in as few `wasi:http` calls as the exchange
//! needs: method, path-with-query and, for the one route that negotiates, one header lookup;
//! one `fields.from-list`, the response (its status set only when not 200), its body stream,
//! `blocking-write-and-flush` per 4 KiB and `finish`.

use heart_core::api::{self, ApiResponse};
use spin_sdk::http::{
    ErrorCode, Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use spin_sdk::wit::wasi::http0_2_0::types::ResponseOutparam as RawOutparam;

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
}

impl RequestHead {
    /// Reads the head of `request`; its body is never read, and its `Accept` header only for
    /// the route that negotiates ([`api::reads_accept`]): three host calls saved on the others.
    pub fn read(request: &IncomingRequest) -> Self {
        let mut head = Self {
            method: request.method().to_string(),
            path_with_query: request.path_with_query().unwrap_or_default(),
            accept: None,
        };
        if api::reads_accept(head.path()) {
            let accept_lines: Vec<String> = request
                .headers()
                .get("accept")
                .into_iter()
                .filter_map(|v| String::from_utf8(v).ok())
                .collect();
            head.accept = api::accept_field(accept_lines.iter().map(String::as_str));
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

/// Sends `plain` through `out`. A response that cannot be made (a header the host refuses) is
/// reported to the host as an internal error rather than left unset.
pub fn respond(out: ResponseOutparam, plain: ApiResponse) {
    let out = out.into_inner();
    let headers: Vec<(String, Vec<u8>)> = plain
        .headers
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.into_bytes()))
        .collect();
    let response = match Fields::from_list(&headers) {
        Ok(fields) => OutgoingResponse::new(fields),
        Err(e) => return fail(out, format!("response headers refused: {e:?}")),
    };
    // A new response is `200 OK` already (WASI 0.2 `outgoing-response.new`).
    if plain.status != 200 && response.set_status_code(plain.status).is_err() {
        return fail(out, format!("status {} refused", plain.status));
    }
    let Ok(body) = response.body() else {
        return fail(out, "response body unavailable".to_owned());
    };
    RawOutparam::set(out, Ok(response));
    // The head is on its way: a body that cannot be written is left unfinished, which the
    // host sees as a broken body.
    if let Err(e) = write_body(&body, &plain.body) {
        eprintln!("writing the response body: {e}");
        return;
    }
    if let Err(e) = OutgoingBody::finish(body, None) {
        eprintln!("finishing the response body: {e:?}");
    }
}

/// Writes `bytes` to `body`'s stream.
fn write_body(body: &OutgoingBody, bytes: &[u8]) -> Result<(), String> {
    let stream = body
        .write()
        .map_err(|()| "the body stream was already taken".to_owned())?;
    for chunk in bytes.chunks(WRITE_LIMIT) {
        stream
            .blocking_write_and_flush(chunk)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Answers the request with an internal error instead of a response.
fn fail(out: RawOutparam, message: String) {
    eprintln!("{message}");
    RawOutparam::set(out, Err(ErrorCode::InternalError(Some(message))));
}
