//! Fuzzes the HTTP-agnostic API every adapter serves: method, path, query and Accept header
//! from the input's lines. No input may panic or get a 5xx, and every error is JSON naming it.

use heart_core::HeartConfig;
use heart_core::api::{self, ApiRequest};

/// One fuzz input: panics on a broken property.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let method = lines.next().unwrap_or("GET");
    let target = lines.next().unwrap_or("/");
    let accept = lines.next();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    // Keep renders small so the fuzzer explores more inputs per second.
    if query.contains("size=") && !query.contains("size=16") {
        return;
    }
    let request = ApiRequest::new(method, path, query, accept);
    let response = api::handle(&request, &HeartConfig::default(), &[]);
    assert!((200..500).contains(&response.status), "{}", response.status);
    if response.status >= 400 {
        let body: serde_json::Value =
            serde_json::from_slice(&response.body).expect("errors are JSON");
        assert!(body["error"].is_string());
    }
}
