//! Test fixture for the host's limits: a WASI 0.2 HTTP component that misbehaves on purpose,
//! chosen by path — `/trap` aborts, `/loop` never returns, `/hog` grows memory until the
//! host's limit stops it, `/slow` answers after a second (a request in flight for shutdown
//! tests), `/sandbox?port=N` reports what the sandbox let it do (outbound HTTP and TCP to
//! 127.0.0.1:N, reading files, listing `/`, its environment, the variable `var`),
//! `/scribble` and `/scan` probe what one request leaves in guest memory for the next
//! ([`memory_probe`]), `/live?fault=stall` and `/live?fault=spin` start a stream and then stop
//! writing, waiting or spinning ([`stream_fault`]) — and answers `200 ok` on any other path.
//! Never deployed.
#![deny(missing_docs)]
// The SDK's export macro generates the canonical-ABI glue, which is unsafe code.
#![allow(unsafe_code)]

// It reads the Wasm linear memory itself; clippy also checks this crate natively.
#[cfg(target_arch = "wasm32")]
mod memory_probe;

mod stream_fault;

use spin_sdk::http::conversions::TryFromIncomingRequest;
use spin_sdk::http::{IncomingRequest, OutgoingResponse, Request, Response, ResponseOutparam};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest, out: ResponseOutparam) {
    let path = request.path_with_query().unwrap_or_default();
    if path == "/live" || path.starts_with("/live?") {
        return stream_fault::answer(&path, out);
    }
    let request = Request::try_from_incoming_request(request)
        .await
        .expect("the host sends well-formed requests");
    let response = answer(request).await;
    let body = response.body().to_vec();
    let outgoing = OutgoingResponse::try_from(response).expect("a valid status and headers");
    out.set_with_body(outgoing, body)
        .await
        .expect("the host reads the body");
}

async fn answer(request: Request) -> Response {
    match request.path() {
        "/trap" => std::process::abort(),
        "/loop" => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        "/hog" => {
            let mut chunks: Vec<Vec<u8>> = Vec::new();
            loop {
                chunks.push(std::hint::black_box(vec![1u8; 1 << 20]));
            }
        }
        "/slow" => {
            std::thread::sleep(std::time::Duration::from_secs(1));
            Response::new(200, "slow ok")
        }
        "/sandbox" => Response::new(200, sandbox_report(request.query()).await),
        #[cfg(target_arch = "wasm32")]
        "/scribble" => probe_reply(memory_probe::scribble(
            number(request.query(), "seed"),
            usize::try_from(number(request.query(), "mib")).unwrap_or(usize::MAX),
        )),
        #[cfg(target_arch = "wasm32")]
        "/scan" => probe_reply(memory_probe::scan(
            number(request.query(), "seed"),
            usize::try_from(number(request.query(), "pages")).unwrap_or(usize::MAX),
        )),
        _ => Response::new(200, "ok"),
    }
}

/// The query parameter `name`, as sent.
fn param<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

/// The query parameter `name` as a number (0 when absent or not a number).
#[cfg(target_arch = "wasm32")]
fn number(query: &str, name: &str) -> u64 {
    param(query, name).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// 200 with the probe's report, or 400 with its error.
#[cfg(target_arch = "wasm32")]
fn probe_reply(result: Result<String, String>) -> Response {
    match result {
        Ok(report) => Response::new(200, report),
        Err(error) => Response::new(400, error),
    }
}

/// One line per escape attempt (the variable probe reads `var`, default `undeclared_secret`): `<probe>: denied (<error>)` or `<probe>: allowed (<detail>)`.
async fn sandbox_report(query: &str) -> String {
    let port: u16 = param(query, "port")
        .and_then(|p| p.parse().ok())
        .unwrap_or(9);
    let variable_name = param(query, "var")
        .unwrap_or("undeclared_secret")
        .to_owned();
    let outcome = |name: &str, result: Result<String, String>| match result {
        Ok(detail) => format!("{name}: allowed ({detail})"),
        Err(error) => format!("{name}: denied ({error})"),
    };
    let url = format!("http://127.0.0.1:{port}/");
    let http = spin_sdk::http::send::<_, Response>(Request::get(url).build())
        .await
        .map(|r| format!("status {}", r.status()))
        .map_err(|e| e.to_string());
    let tcp = std::net::TcpStream::connect(("127.0.0.1", port))
        .map(|_| "connected".to_owned())
        .map_err(|e| e.to_string());
    let file = std::fs::read("/etc/hostname")
        .map(|b| format!("{} bytes", b.len()))
        .map_err(|e| e.to_string());
    let dir = std::fs::read_dir("/")
        .map(|d| format!("{} entries", d.count()))
        .map_err(|e| e.to_string());
    let variable = match spin_sdk::wit::wasi::config::store::get(&variable_name) {
        Ok(Some(value)) => Ok(format!("value of {} bytes", value.len())),
        Ok(None) => Err("not set".to_owned()),
        Err(e) => Err(format!("{e:?}")),
    };
    let env: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
    [
        outcome("outbound-http", http),
        outcome("tcp-connect", tcp),
        outcome("file-read", file),
        outcome("dir-list", dir),
        outcome("variable", variable),
        format!("env: [{}]", env.join(", ")),
    ]
    .join("\n")
        + "\n"
}
