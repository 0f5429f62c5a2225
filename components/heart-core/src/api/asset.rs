//! Static files served by the API (the browser page and its bundle), handed in by the adapter.

use crate::api::encoding::Encoded;

/// One static file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset {
    /// Request path, e.g. `/` or `/heart_web_bg.wasm`.
    pub path: &'static str,
    /// `Content-Type` header value.
    pub content_type: &'static str,
    /// File contents.
    pub body: &'static [u8],
    /// `Cache-Control` header value.
    pub cache_control: &'static str,
    /// The same bytes precompressed, in order of preference (empty: identity only); the
    /// request's `Accept-Encoding` picks one ([`crate::api::choose_coding`]).
    pub encoded: &'static [Encoded],
}
