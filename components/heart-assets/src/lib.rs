//! The static files the HTTP components serve: the browser page at `/` and its assets,
//! embedded at compile time so `spin up` alone gives a working page.
#![deny(missing_docs)]

use heart_core::api::Asset;

/// Cache policy for the page itself: always revalidate, so a deploy shows up at once.
const REVALIDATE: &str = "no-cache";

/// Every embedded file, by request path.
pub const ASSETS: &[Asset] = &[
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: include_bytes!("../../../web/static/index.html"),
        cache_control: REVALIDATE,
    },
    Asset {
        path: "/index.html",
        content_type: "text/html; charset=utf-8",
        body: include_bytes!("../../../web/static/index.html"),
        cache_control: REVALIDATE,
    },
];
