//! The static files the HTTP components serve: the browser page at `/`, its script, and the
//! wasm-bindgen bundle, embedded at compile time so `spin up` alone gives a working page. Each
//! is embedded as it is and precompressed (Brotli and gzip, by `build.rs`); the request's
//! `Accept-Encoding` picks one ([`heart_core::api::choose_coding`]).
#![deny(missing_docs)]

use heart_core::api::{Asset, Coding, Encoded};

/// Every response revalidates (no ETags yet), so a deploy shows up at once and the page, its
/// script and the bundle never mix versions.
const REVALIDATE: &str = "no-cache";

/// The precompressed forms of the file called `$name` (build.rs writes them to `OUT_DIR`).
macro_rules! encoded {
    ($name:literal) => {
        &[
            Encoded {
                coding: Coding::Brotli,
                body: include_bytes!(concat!(env!("OUT_DIR"), "/", $name, ".br")),
            },
            Encoded {
                coding: Coding::Gzip,
                body: include_bytes!(concat!(env!("OUT_DIR"), "/", $name, ".gz")),
            },
        ]
    };
}

const INDEX: &[u8] = include_bytes!("../../../web/static/index.html");
const INDEX_ENCODED: &[Encoded] = encoded!("index.html");

/// The page and its script.
const PAGE: [Asset; 3] = [
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: INDEX,
        cache_control: REVALIDATE,
        encoded: INDEX_ENCODED,
    },
    Asset {
        path: "/index.html",
        content_type: "text/html; charset=utf-8",
        body: INDEX,
        cache_control: REVALIDATE,
        encoded: INDEX_ENCODED,
    },
    Asset {
        path: "/app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../../web/static/app.js"),
        cache_control: REVALIDATE,
        encoded: encoded!("app.js"),
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
        encoded: encoded!("heart_web.js"),
    },
    Asset {
        path: "/heart_web_bg.wasm",
        content_type: "application/wasm",
        body: include_bytes!("../../../dist/web/heart_web_bg.wasm"),
        cache_control: REVALIDATE,
        encoded: encoded!("heart_web_bg.wasm"),
    },
];

/// Every embedded file, by request path (no browser bundle was built).
#[cfg(not(heart_web_bundle))]
pub const ASSETS: &[Asset] = &PAGE;
