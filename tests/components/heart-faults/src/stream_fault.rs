//! Streams that stop making progress: the head and one line, then nothing more — waiting
//! (`fault=stall`, WASI's clock) or spinning (`fault=spin`, no host call at all) — or not even
//! a head (`fault=silent`). The host must end each once the request timeout passes without a
//! write.

use spin_sdk::http::{Fields, OutgoingResponse, ResponseOutparam};

/// Answers `/live?fault=…` through `out`.
pub fn answer(path_with_query: &str, out: ResponseOutparam) {
    let fault = path_with_query
        .split_once("fault=")
        .map_or("", |(_, fault)| fault);
    if fault == "silent" {
        sleep_forever();
    }
    let headers = Fields::from_list(&[(
        "content-type".to_owned(),
        b"text/plain; charset=utf-8".to_vec(),
    )])
    .expect("a valid header");
    let response = OutgoingResponse::new(headers);
    let body = response.body().expect("a new response's body");
    let stream = body.write().expect("the body's stream");
    out.set(response);
    stream
        .blocking_write_and_flush(b"first line\n")
        .expect("the client reads");
    match fault {
        "spin" => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        _ => sleep_forever(),
    }
}

fn sleep_forever() -> ! {
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
