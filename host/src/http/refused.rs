//! Requests hyper refuses before the host sees them — a head over the size limits (431, or 414
//! for the URI), a malformed message (400: garbage, HTTP/0.9, conflicting `Content-Length`s,
//! a `Transfer-Encoding` that does not end in `chunked`), or a head not read within
//! [`HEADER_READ_TIMEOUT`](crate::http::shared::HEADER_READ_TIMEOUT) (the connection is
//! closed) — named from the error the connection ends with, so that
//! `heart_http_refused_total{reason}` counts them: they reach no route, no guest and so no
//! other metric.

use std::error::Error;

use crate::metrics::Refusal;

/// Why a connection's request was refused by the protocol layer; `None` for the other ways a
/// connection ends (the client hung up, an I/O error).
pub(crate) fn reason(error: &(dyn Error + 'static)) -> Option<Refusal> {
    let hyper = error.downcast_ref::<hyper::Error>()?;
    if hyper.is_parse_too_large() {
        Some(Refusal::HeadTooLarge)
    } else if hyper.is_parse() || hyper.is_parse_status() {
        Some(Refusal::Malformed)
    } else if hyper.is_timeout() {
        Some(Refusal::HeaderTimeout)
    } else {
        None
    }
}
