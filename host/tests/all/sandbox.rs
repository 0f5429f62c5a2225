//! The sandbox SECURITY.md promises, tested against the real host with a component that tries
//! to escape (`heart-faults`' `/sandbox` route): no outbound HTTP, no sockets, no files, an
//! environment of only what the manifest declares, and only declared variables.

use std::net::TcpListener;

use crate::support::{Host, Options};

#[test]
fn a_guest_cannot_reach_the_network_files_or_undeclared_config() {
    // A listener the guest is asked to reach: it must see no connection.
    let listener = TcpListener::bind("127.0.0.1:0").expect("listener");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let host = Host::start(Options {
        wasm: "heart_faults.wasm",
        component_env: &[("DECLARED_ENV", "1")],
        env: &[("HOST_SECRET", "leak-me")],
        ..Options::default()
    });

    let report = host.get(&format!("/sandbox?port={port}"), None).text();
    for probe in [
        "outbound-http: denied (ErrorCode::HttpRequestDenied)",
        "tcp-connect: denied",
        "file-read: denied",
        "dir-list: denied",
        "variable: denied (not set)",
    ] {
        assert!(report.contains(probe), "expected `{probe}` in:\n{report}");
    }
    assert!(
        report.contains("env: [DECLARED_ENV]"),
        "only the manifest's environment reaches the guest, not the host's:\n{report}"
    );
    // A connection the guest made would have completed its handshake (and so be queued
    // here) before the guest could report on it: no wait is needed.
    assert!(
        listener.accept().is_err(),
        "the guest reached a local listener"
    );

    // Positive control: the probe does see what the manifest declares.
    let declared = host
        .get(&format!("/sandbox?port={port}&var=love_level"), None)
        .text();
    assert!(
        declared.contains("variable: allowed (value of 1 bytes)"),
        "a declared variable is readable:\n{declared}"
    );
}
