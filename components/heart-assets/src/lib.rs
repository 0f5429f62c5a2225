//! The static files the HTTP components serve: the browser page at `/`, its script, and the
//! wasm-bindgen bundle, embedded at compile time so `spin up` alone gives a working page.
#![deny(missing_docs)]

use heart_core::api::Asset;

/// Every response revalidates (no ETags yet), so a deploy shows up at once and the page, its
/// script and the bundle never mix versions.
const REVALIDATE: &str = "no-cache";

const INDEX: &[u8] = include_bytes!("../../../web/static/index.html");

/// The page and its script.
const PAGE: [Asset; 3] = [
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: INDEX,
        cache_control: REVALIDATE,
    },
    Asset {
        path: "/index.html",
        content_type: "text/html; charset=utf-8",
        body: INDEX,
        cache_control: REVALIDATE,
    },
    Asset {
        path: "/app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../../web/static/app.js"),
        cache_control: REVALIDATE,
    },
];

/// Every embedded file, by request path.
#[cfg(heart_web_bundle)]
pub const ASSETS: &[Asset] = &[
    PAGE[0],
    PAGE[1],
    PAGE[2],
    Asset {
        path: "/heart_web.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../../dist/web/heart_web.js"),
        cache_control: REVALIDATE,
    },
    Asset {
        path: "/heart_web_bg.wasm",
        content_type: "application/wasm",
        body: include_bytes!("../../../dist/web/heart_web_bg.wasm"),
        cache_control: REVALIDATE,
    },
];

/// Every embedded file, by request path (no browser bundle was built).
#[cfg(not(heart_web_bundle))]
pub const ASSETS: &[Asset] = &PAGE;
