//! HTTPS with `--tls-cert`/`--tls-key` against the running host, a bad pair refusing start,
//! and `validate-config` checking a TLS pair.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use crate::support::{Host, Options, Reply, start_failure};

pub(crate) struct Pair {
    pub(crate) cert: PathBuf,
    key: PathBuf,
    cert_pem: String,
}

fn write_pair(dir: &Path, name: &str, cert: &rcgen::Certificate, key: &rcgen::KeyPair) -> Pair {
    let pair = Pair {
        cert: dir.join(format!("{name}.crt")),
        key: dir.join(format!("{name}.key")),
        cert_pem: cert.pem(),
    };
    std::fs::write(&pair.cert, &pair.cert_pem).expect("write cert");
    std::fs::write(&pair.key, key.serialize_pem()).expect("write key");
    pair
}

pub(crate) fn self_signed(dir: &Path, name: &str) -> Pair {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("generates");
    write_pair(dir, name, &made.cert, &made.signing_key)
}

/// An agent that trusts only `cert_pem`.
fn https_agent(cert_pem: &str) -> ureq::Agent {
    let cert = ureq::tls::Certificate::from_pem(cert_pem.as_bytes()).expect("PEM");
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![cert])))
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

pub(crate) fn args(pair: &Pair) -> Vec<String> {
    vec![
        "--tls-cert".into(),
        pair.cert.display().to_string(),
        "--tls-key".into(),
        pair.key.display().to_string(),
    ]
}

#[test]
fn serves_https_with_the_given_pair_and_refuses_plain_http() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pair = self_signed(dir.path(), "tls");
    let owned = args(&pair);
    let flags: Vec<&str> = owned.iter().map(String::as_str).collect();
    let host = Host::start(Options {
        args: &flags,
        ..Options::default()
    });
    assert!(host.base.starts_with("https://127.0.0.1:"), "{}", host.base);
    let agent = https_agent(&pair.cert_pem);
    let get = |path: &str| -> Reply {
        Reply::from(
            agent
                .get(&format!("{}{path}", host.base))
                .call()
                .expect("HTTPS request completes"),
        )
    };
    let svg = get("/heart.svg?bpm=90");
    assert_eq!(svg.status, 200);
    assert!(svg.text().starts_with("<svg"), "{}", svg.text());
    assert_eq!(get("/healthz").status, 200);
    assert!(get("/metrics").text().contains("heart_display_beats_total"));
    // A client that does not trust the certificate fails the handshake.
    let other = tempfile::tempdir().expect("temp dir");
    let stranger = self_signed(other.path(), "other");
    assert!(
        https_agent(&stranger.cert_pem)
            .get(&format!("{}/healthz", host.base))
            .call()
            .is_err()
    );
    // Plain HTTP on the HTTPS port gets no HTTP answer, and the host keeps serving.
    let plain = host.base.replacen("https://", "http://", 1);
    assert!(ureq::get(&format!("{plain}/healthz")).call().is_err());
    assert_eq!(get("/api/symbol").status, 200);
}

#[test]
fn a_mismatched_or_expired_pair_refuses_start_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = self_signed(dir.path(), "a");
    let b = self_signed(dir.path(), "b");
    let mixed = Pair {
        cert: a.cert.clone(),
        key: b.key.clone(),
        cert_pem: String::new(),
    };
    let owned = args(&mixed);
    let flags: Vec<&str> = owned.iter().map(String::as_str).collect();
    let stderr = start_failure(&Options {
        args: &flags,
        ..Options::default()
    });
    assert!(
        stderr.contains("does not match the certificate"),
        "{stderr}"
    );

    let only_cert = ["--tls-cert", "/x.crt"];
    let stderr = start_failure(&Options {
        args: &only_cert,
        ..Options::default()
    });
    assert!(stderr.contains("--tls-key"), "{stderr}");
}

#[test]
fn validate_config_checks_a_named_tls_pair() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("config");
    std::fs::create_dir(&config).expect("mkdir");
    std::fs::write(config.join("bpm"), "80").expect("write");
    let good = self_signed(dir.path(), "good");
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).expect("params");
    params.not_before = rcgen::date_time_ymd(2019, 1, 1);
    params.not_after = rcgen::date_time_ymd(2020, 1, 1);
    let expired = write_pair(
        dir.path(),
        "old",
        &params.self_signed(&key).expect("signs"),
        &key,
    );

    let run = |pair: &Pair| {
        Command::new(env!("CARGO_BIN_EXE_heart-host"))
            .arg("validate-config")
            .arg(&config)
            .args(args(pair))
            .output()
            .expect("runs")
    };
    let ok = run(&good);
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        stdout.contains("bpm=80") && stdout.contains("TLS certificate"),
        "{stdout}"
    );

    let bad = run(&expired);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr.contains("is valid from Jan  1 00:00:00 2019")
            && stderr.contains("found 1 problem(s)"),
        "{stderr}"
    );
}
