//! The plain request and response the API works on.

use serde::Serialize;

use crate::runtime::RuntimeFigures;

/// A request, reduced to what the API looks at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ApiRequest<'a> {
    /// Method, e.g. `GET`.
    pub method: &'a str,
    /// Path without the query, e.g. `/api/heart`.
    pub path: &'a str,
    /// Raw query string without the `?` (may be empty).
    pub query: &'a str,
    /// The `Accept` header, if any.
    pub accept: Option<&'a str>,
    /// The `Accept-Encoding` field, if any: only static files, which are precompressed, look
    /// at it ([`crate::api::reads_accept_encoding`]).
    pub accept_encoding: Option<&'a str>,
    /// The serving runtime's figures, which heart frames carry; `None` leaves them out. An
    /// adapter measures them only for paths that render a frame ([`crate::api::is_frame`]).
    pub runtime: Option<&'a RuntimeFigures>,
}

impl<'a> ApiRequest<'a> {
    /// A request without runtime figures (as a test, a fuzz target or a plain host makes it).
    pub fn new(method: &'a str, path: &'a str, query: &'a str, accept: Option<&'a str>) -> Self {
        Self {
            method,
            path,
            query,
            accept,
            accept_encoding: None,
            runtime: None,
        }
    }
}

/// A response: status, headers and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResponse {
    /// HTTP status code.
    pub status: u16,
    /// Header names and values.
    pub headers: Vec<(&'static str, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// The JSON body of every error response.
#[derive(Debug, Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiResponse {
    /// A `200 OK` with `content_type` and `body`, not to be cached.
    pub fn ok(content_type: &str, body: Vec<u8>) -> Self {
        Self {
            status: 200,
            headers: vec![
                ("content-type", content_type.to_owned()),
                ("cache-control", "no-cache".to_owned()),
            ],
            body,
        }
    }

    /// An error as `application/json` `{"error": message, "field": field}`.
    pub fn error(status: u16, message: &str, field: Option<&str>) -> Self {
        let body = serde_json::to_vec(&ErrorBody {
            error: message,
            field,
        })
        .expect("two strings always serialize");
        Self {
            status,
            headers: vec![
                ("content-type", "application/json".to_owned()),
                ("cache-control", "no-store".to_owned()),
            ],
            body,
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
