//! Test fixture for the host's limits: a WASI 0.2 HTTP component that misbehaves on purpose,
//! chosen by path — `/trap` aborts, `/loop` never returns, `/hog` grows memory until the
//! host's limit stops it, `/slow` answers after a second (a request in flight for shutdown
//! tests) — and answers `200 ok` on any other path. Never deployed.
#![deny(missing_docs)]
// The SDK's export macro generates the canonical-ABI glue, which is unsafe code.
#![allow(unsafe_code)]

use spin_sdk::http::{Request, Response};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
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
        _ => Response::new(200, "ok"),
    }
}
