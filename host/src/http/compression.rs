//! Compressed answers for clients that accept them (`Accept-Encoding: gzip`), as a reverse
//! proxy in front of the components would: heart frames as SVG, JSON and text, error bodies,
//! `/metrics`. gzip only: a frame is a few KiB compressed on every request, where Brotli's
//! larger setup cost buys a few bytes (measured by `cargo xtask bench-wire`); the page's big
//! files come from the component precompressed with Brotli at its best quality instead. Never
//! PNG (already compressed), never a stream (`/live`: an encoder holds bytes back until it has
//! enough, and a frame must go out when it is drawn), never what is already coded (the page's
//! files). Identical bytes once decoded; the negotiation and the encoder are tower-http's.

use http::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderValue, VARY};
use http::{Response, StatusCode};
use tower_http::compression::predicate::{Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};

/// Marks a response as a stream, which is never compressed (set where the target streams).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Streaming;

/// gzip's level: 1, the fastest. A heart frame is a few KiB compressed on every request, so
/// speed counts more than the last few percent of size (the page's large files are
/// precompressed at build time at the best levels instead).
const LEVEL: i32 = 1;

/// Bodies smaller than this go as they are: coding them saves nothing on the wire.
const MIN_BYTES: u16 = 256;

/// Which answers may be compressed (the encoders also skip any already coded).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Compressible;

impl Predicate for Compressible {
    fn should_compress<B>(&self, response: &Response<B>) -> bool
    where
        B: http_body::Body,
    {
        compressible(response) && SizeAbove::new(MIN_BYTES).should_compress(response)
    }
}

/// Whether `response`'s kind of body is worth coding, whatever its size and the request.
fn compressible<B>(response: &Response<B>) -> bool {
    if response.extensions().get::<Streaming>().is_some()
        || response.status() == StatusCode::SWITCHING_PROTOCOLS
    {
        return false;
    }
    let kind = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // Text, SVG, JSON and the page's scripts and wasm; not PNG or other binary formats.
    kind.starts_with("text/")
        || kind.starts_with("image/svg+xml")
        || kind.starts_with("application/json")
        || kind.starts_with("application/wasm")
        || kind.starts_with("application/javascript")
}

/// The compression layer every connection's service goes through.
pub(crate) fn layer() -> CompressionLayer<Compressible> {
    CompressionLayer::new()
        .gzip(true)
        .no_br()
        .no_deflate()
        .no_zstd()
        .quality(CompressionLevel::Precise(LEVEL))
        .compress_when(Compressible)
}

/// Adds `Vary: Accept-Encoding` to an answer whose bytes depend on that field (one the layer
/// may compress), so a cache keeps the forms apart. Coded answers from a component carry
/// their own.
pub(crate) fn vary<B>(response: &mut Response<B>) {
    if compressible(response) && !response.headers().contains_key(CONTENT_ENCODING) {
        response
            .headers_mut()
            .append(VARY, HeaderValue::from_static("accept-encoding"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(kind: &str, bytes: usize) -> Response<String> {
        let mut response = Response::new("x".repeat(bytes));
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_str(kind).expect("a header"));
        response
    }

    #[test]
    fn text_formats_are_compressed_but_not_png_streams_or_small_bodies() {
        for kind in [
            "image/svg+xml",
            "application/json",
            "text/plain; charset=utf-8",
            "text/html; charset=utf-8",
            "application/wasm",
        ] {
            assert!(
                Compressible.should_compress(&response(kind, 4096)),
                "{kind}"
            );
        }
        assert!(!Compressible.should_compress(&response("image/png", 4096)));
        assert!(!Compressible.should_compress(&response("image/svg+xml", 100)));
        let mut stream = response("text/plain; charset=utf-8", 4096);
        stream.extensions_mut().insert(Streaming);
        assert!(!Compressible.should_compress(&stream));
    }

    #[test]
    fn vary_is_added_once_where_the_bytes_depend_on_the_field() {
        let mut svg = response("image/svg+xml", 10);
        vary(&mut svg);
        assert_eq!(svg.headers().get_all(VARY).iter().count(), 1);
        let mut png = response("image/png", 10);
        vary(&mut png);
        assert!(png.headers().get(VARY).is_none());
        let mut coded = response("text/html", 10);
        coded
            .headers_mut()
            .insert(CONTENT_ENCODING, HeaderValue::from_static("br"));
        vary(&mut coded);
        assert!(coded.headers().get(VARY).is_none());
    }
}
