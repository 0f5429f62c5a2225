//! Routing: which path does what, and the handlers for each route.

use serde::Serialize;

use crate::api::asset::Asset;
use crate::api::encoding::choose_coding;
use crate::api::live::{LIVE_PATH, LiveAnswer, live};
use crate::api::message::{ApiRequest, ApiResponse};
use crate::api::negotiate::negotiate;
use crate::api::query::{Query, QueryError};
use crate::color::Color;
use crate::config::{
    Bpm, Field, HeartConfig, LoveLevel, Seconds, Size, parse_decimal, parse_whole,
};
use crate::ecg::{EcgSample, EcgWave};
use crate::frame::HeartFrame;
use crate::presence::{AVAILABILITY_PATH, Availability};
use crate::render::{self, Format, TextOptions};
use crate::symbol::Symbol;

/// Parameters `/api/heart` and the `/heart.*` shortcuts take.
const FRAME_PARAMS: [&str; 6] = ["bpm", "love", "t", "size", "color", "ascii"];
/// `/api/heart` also takes `format`.
const HEART_PARAMS: [&str; 7] = ["bpm", "love", "t", "size", "color", "ascii", "format"];
const PULSE_PARAMS: [&str; 4] = ["bpm", "samples", "t", "window"];
const SYMBOL_PARAMS: [&str; 1] = ["bpm"];

/// ECG samples per `/api/pulse` response: default and limit.
const DEFAULT_SAMPLES: i64 = 200;
const MAX_SAMPLES: i64 = 2000;
/// ECG window in seconds: default and limits.
const DEFAULT_WINDOW: f64 = 2.0;
const MIN_WINDOW: f64 = 0.1;
const MAX_WINDOW: f64 = 60.0;

/// What a path resolves to.
enum Route<'a> {
    Heart(Option<Format>),
    Pulse,
    Symbol,
    Config,
    Presence,
    Asset(&'a Asset),
}

/// Answers `request` with the effective `config` (per-request query values override it within
/// the same validated ranges) and the static `assets`.
pub fn handle(request: &ApiRequest<'_>, config: &HeartConfig, assets: &[Asset]) -> ApiResponse {
    if let Some(answer) = live(request, config) {
        return live_at_once(answer);
    }
    let Some(route) = route(request.path, assets) else {
        return ApiResponse::error(
            404,
            &format!("no route for `{}`", crate::config::shown(request.path)),
            None,
        );
    };
    let head = request.method == "HEAD";
    if request.method != "GET" && !head {
        let message = format!(
            "method `{}` is not allowed; use GET or HEAD",
            crate::config::shown(request.method)
        );
        return ApiResponse::error(405, &message, None).with_header("allow", "GET, HEAD");
    }
    let mut response = match route {
        Route::Heart(format) => heart(request, config, format),
        Route::Pulse => pulse(request, config),
        Route::Symbol => symbol(request, config),
        Route::Config => config_route(request, config),
        Route::Presence => presence(request),
        Route::Asset(asset) => Ok(asset_response(asset, request.accept_encoding)),
    }
    .unwrap_or_else(|e| ApiResponse::error(400, &e.to_string(), e.parameter().as_deref()));
    if head {
        response.body.clear();
    }
    response
}

/// Whether the route for `path` can look at the request's `Accept` header (only `/api/heart`
/// negotiates its format). An adapter for which reading a header costs host calls may skip it
/// for every other path: [`handle`] answers them the same with `accept: None`.
pub fn reads_accept(path: &str) -> bool {
    matches!(route(path, &[]), Some(Route::Heart(None)))
}

/// Whether the answer for `path` can depend on the request's `Accept-Encoding` field: only
/// static files (any path that is not an API route) have precompressed forms. An adapter may
/// skip reading the field for every other path: [`handle`] answers them the same without it.
pub fn reads_accept_encoding(path: &str) -> bool {
    route(path, &[]).is_none() && path != LIVE_PATH
}

/// Whether a successful answer for `path` is a heart frame (every `/api/heart` format and the
/// `/heart.*` shortcuts): what hosts count as beats served.
pub fn is_frame(path: &str) -> bool {
    matches!(route(path, &[]), Some(Route::Heart(_)))
}

/// Whether the answer for `path` is a stream an adapter writes over time ([`live`]) rather
/// than the one response [`handle`] returns.
pub fn streams(path: &str) -> bool {
    path == LIVE_PATH
}

/// `/live` for an adapter that cannot stream: the first frame and the closing frame at once.
fn live_at_once(answer: LiveAnswer) -> ApiResponse {
    match answer {
        LiveAnswer::Stream(stream) => {
            let mut response = stream.head();
            let body = [
                stream.opening(),
                &stream.frame(std::time::Duration::ZERO),
                &stream.closing("this server sends one frame of /live"),
            ]
            .concat();
            response.body = body.into_bytes();
            response
        }
        LiveAnswer::Respond(response) => response,
    }
}

fn route<'a>(path: &str, assets: &'a [Asset]) -> Option<Route<'a>> {
    Some(match path {
        "/api/heart" => Route::Heart(None),
        "/heart.svg" => Route::Heart(Some(Format::Svg)),
        "/heart.json" => Route::Heart(Some(Format::Json)),
        "/heart.png" => Route::Heart(Some(Format::Png)),
        "/heart.txt" => Route::Heart(Some(Format::Text)),
        "/api/pulse" => Route::Pulse,
        "/api/symbol" => Route::Symbol,
        "/api/config" => Route::Config,
        AVAILABILITY_PATH => Route::Presence,
        _ => Route::Asset(assets.iter().find(|a| a.path == path)?),
    })
}

/// The config with any per-request overrides from the query applied.
pub(crate) fn overridden(config: &HeartConfig, query: &Query) -> Result<HeartConfig, QueryError> {
    let mut effective = config.clone();
    if let Some(bpm) = query.parsed("bpm", Bpm::parse)? {
        effective.bpm = bpm;
    }
    if let Some(love) = query.parsed("love", LoveLevel::parse)? {
        effective.love_level = love;
    }
    if let Some(size) = query.parsed("size", Size::parse)? {
        effective.size = size;
    }
    if let Some(color) = query.parsed("color", Color::parse)? {
        effective.color = color;
    }
    Ok(effective)
}

fn heart(
    request: &ApiRequest<'_>,
    config: &HeartConfig,
    fixed: Option<Format>,
) -> Result<ApiResponse, QueryError> {
    let accepted: &[&str] = if fixed.is_some() {
        &FRAME_PARAMS
    } else {
        &HEART_PARAMS
    };
    let query = Query::parse(request.query, accepted)?;
    let effective = overridden(config, &query)?;
    let t = query.parsed("t", Seconds::parse)?.unwrap_or_default();
    let ascii = query.flag("ascii")?;
    let format = match (fixed, query.get("format")) {
        (Some(format), _) => format,
        (None, Some(name)) => Format::from_name(name).ok_or_else(|| QueryError::NotAChoice {
            name: "format",
            value: crate::config::shown(name),
            choices: "svg, json, png, txt",
        })?,
        (None, None) => match negotiate(request.accept) {
            Ok(format) => format,
            Err(e) => return Ok(ApiResponse::error(406, &e.to_string(), None)),
        },
    };
    let frame = HeartFrame::at(&effective, t).with_runtime(request.runtime.cloned());
    let body = match format {
        Format::Svg => render::svg(&frame).into_bytes(),
        Format::Json => render::json(&frame).into_bytes(),
        Format::Text => render::text(
            &frame,
            &TextOptions {
                ascii,
                ..TextOptions::default()
            },
        )
        .into_bytes(),
        Format::Png => match render::png(&frame) {
            Ok(bytes) => bytes,
            Err(e) => return Ok(ApiResponse::error(500, &e.to_string(), None)),
        },
    };
    let response = ApiResponse::ok(format.content_type(), body);
    Ok(if fixed.is_none() && query.get("format").is_none() {
        response.with_header("vary", "accept")
    } else {
        response
    })
}

#[derive(Serialize)]
struct PulseBody {
    bpm: u16,
    symbol: &'static str,
    start: f64,
    window: f64,
    samples: Vec<EcgSample>,
}

fn pulse(request: &ApiRequest<'_>, config: &HeartConfig) -> Result<ApiResponse, QueryError> {
    let query = Query::parse(request.query, &PULSE_PARAMS)?;
    let bpm = query.parsed("bpm", Bpm::parse)?.unwrap_or(config.bpm);
    let start = query.parsed("t", Seconds::parse)?.unwrap_or_default().get();
    let count = query
        .parsed("samples", |raw| {
            parse_whole(Field::Samples, raw, 1, MAX_SAMPLES)
        })?
        .unwrap_or(DEFAULT_SAMPLES);
    let window = query
        .parsed("window", |raw| {
            parse_decimal(Field::Window, raw, MIN_WINDOW, MAX_WINDOW)
        })?
        .unwrap_or(DEFAULT_WINDOW);
    let samples = EcgWave::new(bpm).samples(
        start,
        window,
        usize::try_from(count).expect("samples are within 1..=2000"),
    );
    let body = PulseBody {
        bpm: bpm.get(),
        symbol: Symbol::for_bpm(bpm).glyph(),
        start,
        window,
        samples,
    };
    Ok(json_response(&body))
}

#[derive(Serialize)]
struct SymbolBody {
    bpm: u16,
    symbol: &'static str,
    name: &'static str,
    weight: f64,
}

fn symbol(request: &ApiRequest<'_>, config: &HeartConfig) -> Result<ApiResponse, QueryError> {
    let query = Query::parse(request.query, &SYMBOL_PARAMS)?;
    let bpm = query.parsed("bpm", Bpm::parse)?.unwrap_or(config.bpm);
    let symbol = Symbol::for_bpm(bpm);
    Ok(json_response(&SymbolBody {
        bpm: bpm.get(),
        symbol: symbol.glyph(),
        name: symbol.name(),
        weight: symbol.weight(),
    }))
}

fn config_route(request: &ApiRequest<'_>, config: &HeartConfig) -> Result<ApiResponse, QueryError> {
    Query::parse(request.query, &[])?;
    Ok(json_response(config))
}

/// The component tracks no presence (no state outlives a request); a host that does answers
/// this route before the component sees it.
fn presence(request: &ApiRequest<'_>) -> Result<ApiResponse, QueryError> {
    Query::parse(request.query, &[])?;
    Ok(json_response(&Availability { available: false }))
}

fn json_response(body: &impl Serialize) -> ApiResponse {
    let bytes = serde_json::to_vec(body).expect("API bodies hold only finite numbers and strings");
    ApiResponse::ok(Format::Json.content_type(), bytes)
}

/// The file in the coding `accept_encoding` prefers among its precompressed forms (or as it
/// is); a file that has such forms says its answer varies with `Accept-Encoding`.
fn asset_response(asset: &Asset, accept_encoding: Option<&str>) -> ApiResponse {
    let mut headers = vec![
        ("content-type", asset.content_type.to_owned()),
        ("cache-control", asset.cache_control.to_owned()),
    ];
    if !asset.encoded.is_empty() {
        headers.push(("vary", "accept-encoding".to_owned()));
    }
    let body = match choose_coding(accept_encoding, asset.encoded) {
        Some(encoded) => {
            headers.push(("content-encoding", encoded.coding.token().to_owned()));
            encoded.body
        }
        None => asset.body,
    };
    ApiResponse {
        status: 200,
        headers,
        body: body.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str, query: &str) -> ApiResponse {
        let request = ApiRequest {
            method: "GET",
            path,
            query,
            accept: None,
            accept_encoding: None,
            runtime: None,
        };
        handle(&request, &HeartConfig::default(), &[])
    }

    #[test]
    fn the_component_says_it_tracks_no_presence() {
        let response = get(AVAILABILITY_PATH, "");
        assert_eq!(response.status, 200);
        assert_eq!(response.header("content-type"), Some("application/json"));
        assert_eq!(response.body, br#"{"available":false}"#);
        assert_eq!(get(AVAILABILITY_PATH, "x=1").status, 400);
    }

    #[test]
    fn frames_are_the_heart_routes_only() {
        for path in [
            "/api/heart",
            "/heart.svg",
            "/heart.json",
            "/heart.png",
            "/heart.txt",
        ] {
            assert!(is_frame(path), "{path}");
        }
        for path in [
            "/api/pulse",
            "/api/symbol",
            "/api/config",
            "/",
            "/heart.gif",
        ] {
            assert!(!is_frame(path), "{path}");
        }
    }

    #[test]
    fn the_beat_route_is_not_the_components() {
        assert_eq!(get(crate::presence::BEAT_PATH, "").status, 404);
    }
}
