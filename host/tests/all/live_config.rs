//! Live config against the real running host: a config directory laid out as Kubernetes mounts
//! a ConfigMap (`..<version>/` directories, a `..data` symlink swapped atomically, and one
//! visible symlink per key), hot reload within 2 s, invalid changes rejected whole, and the
//! `validate-config` pre-start check.

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support;
use crate::support::{Host, Options};

/// Publishes `files` as a new ConfigMap version in `dir`, the way the kubelet does.
fn publish(dir: &Path, version: &str, files: &[(&str, &str)]) {
    let data = dir.join(format!("..{version}"));
    std::fs::create_dir(&data).expect("version dir");
    for (name, value) in files {
        std::fs::write(data.join(name), value).expect("write value");
        let visible = dir.join(name);
        if std::fs::symlink_metadata(&visible).is_err() {
            symlink(Path::new("..data").join(name), &visible).expect("key symlink");
        }
    }
    let tmp = dir.join("..data_tmp");
    symlink(format!("..{version}"), &tmp).expect("data symlink");
    std::fs::rename(&tmp, dir.join("..data")).expect("atomic swap");
}

const KEYS: [&str; 5] = ["love-level", "bpm", "color", "size", "alert-threshold"];

fn values(love: &str, bpm: &str) -> Vec<(&'static str, String)> {
    let mut v: Vec<(&'static str, String)> = KEYS.iter().map(|k| (*k, String::new())).collect();
    for (k, value) in &mut v {
        *value = match *k {
            "love-level" => love.to_owned(),
            "bpm" => bpm.to_owned(),
            "color" => "hotpink".to_owned(),
            "size" => "128".to_owned(),
            _ => "3".to_owned(),
        };
    }
    v
}

fn publish_values(dir: &Path, version: &str, love: &str, bpm: &str) {
    let owned = values(love, bpm);
    let files: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    publish(dir, version, &files);
}

/// Polls `/api/config` until `check` holds or `limit` passes; returns the time it took.
fn wait_for(
    host: &Host,
    limit: Duration,
    check: impl Fn(&serde_json::Value) -> bool,
) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check(&host.get("/api/config", None).json()) {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

fn start_with_dir(dir: &Path, env: &[(&str, &str)]) -> Host {
    start_with_dir_and(dir, env, &[])
}

/// The host with the config directory `dir`, `env` and further arguments `extra`.
fn start_with_dir_and(dir: &Path, env: &[(&str, &str)], extra: &[&str]) -> Host {
    let dir = dir.to_str().expect("utf-8 temp path").to_owned();
    let mut args = vec!["--config-dir", dir.as_str()];
    args.extend_from_slice(extra);
    Host::start(Options {
        env,
        args: &args,
        ..Options::default()
    })
}

#[test]
fn a_reload_reaches_reused_instances_through_a_new_instance() {
    let cm = tempfile::tempdir().expect("temp dir");
    publish_values(cm.path(), "v1", "8", "90");
    let host = start_with_dir_and(cm.path(), &[], &["--instance-reuse", "1000"]);
    let instantiations = || {
        let metrics = host.get("/metrics", None).text();
        support::metric(&metrics, "heart_wasm_instantiation_seconds_count", &[])
    };
    for _ in 0..3 {
        assert_eq!(host.get("/api/config", None).json()["love_level"], 8);
    }
    let generation =
        || host.get("/heart.json", None).json()["runtime"]["config_generation"].clone();
    assert_eq!(
        generation(),
        1,
        "frames name the generation their instance read"
    );
    assert_eq!(
        instantiations(),
        Some(1.0),
        "one instance answered all four"
    );
    publish_values(cm.path(), "v2", "2", "45");
    let took = wait_for(&host, Duration::from_secs(2), |c| {
        c["love_level"] == 2 && c["bpm"] == 45
    });
    assert!(took.is_some(), "the change is live within 2 s");
    for _ in 0..3 {
        assert_eq!(host.get("/api/config", None).json()["love_level"], 2);
    }
    assert_eq!(
        generation(),
        2,
        "the reload's generation reaches the frames"
    );
    // The guest reads its variables once per instance, so the old instance must not answer
    // again; the new one is reused as before.
    assert_eq!(
        instantiations(),
        Some(2.0),
        "the reload retired the old instance and one new instance answered since"
    );
}

#[test]
fn valid_changes_are_live_within_2_s_and_invalid_ones_are_rejected_whole() {
    let cm = tempfile::tempdir().expect("temp dir");
    publish_values(cm.path(), "v1", "8", "90");
    let host = start_with_dir(cm.path(), &[]);
    let config = host.get("/api/config", None).json();
    assert_eq!(
        (config["love_level"].as_i64(), config["bpm"].as_i64()),
        (Some(8), Some(90))
    );
    assert_eq!(config["color"], "hotpink");

    publish_values(cm.path(), "v2", "3", "120");
    let took = wait_for(&host, Duration::from_secs(2), |c| {
        c["love_level"] == 3 && c["bpm"] == 120
    });
    assert!(took.is_some(), "a valid change is live within 2 s");
    assert_eq!(
        host.get("/heart.json", None).json()["symbol"],
        "\u{1F493}",
        "rendering uses it"
    );

    // One bad value poisons the whole change: the good bpm in it must not apply either.
    publish_values(cm.path(), "v3", "11", "60");
    // The watcher has read and rejected the change once it says so.
    let log = host.stderr_until("keeping the last good config").join("\n");
    let config = host.get("/api/config", None).json();
    assert_eq!(
        (config["love_level"].as_i64(), config["bpm"].as_i64()),
        (Some(3), Some(120))
    );
    assert!(
        log.contains("love level `11` is out of range 1..=10"),
        "{log}"
    );
    assert!(log.contains("keeping the last good config"), "{log}");

    publish_values(cm.path(), "v4", "10", "60");
    assert!(
        wait_for(&host, Duration::from_secs(2), |c| c["love_level"] == 10
            && c["bpm"] == 60)
        .is_some()
    );

    let metrics = host.get("/metrics", None).text();
    assert_eq!(reloads(&metrics, "ok"), Some(2.0), "two reloads applied");
    assert_eq!(
        reloads(&metrics, "failed"),
        Some(1.0),
        "one reload rejected"
    );
    assert_eq!(
        support::metric(&metrics, "heart_config_generation", &[]),
        Some(3.0)
    );
}

/// `heart_config_reloads_total{result}` in a `/metrics` scrape.
fn reloads(metrics: &str, result: &str) -> Option<f64> {
    support::metric(metrics, "heart_config_reloads_total", &[("result", result)])
}

/// Waits until `/metrics` shows `heart_config_reloads_total{result}` at `count`.
fn wait_for_reloads(host: &Host, result: &str, count: f64) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if reloads(&host.get("/metrics", None).text(), result) == Some(count) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no {count} `{result}` reloads within 5 s");
}

#[test]
fn repeated_valid_and_invalid_updates_under_load_fail_no_request() {
    let cm = tempfile::tempdir().expect("temp dir");
    publish_values(cm.path(), "v0", "7", "72");
    let host = start_with_dir(cm.path(), &[]);
    const ROUNDS: usize = 5;
    let paths = ["/api/heart?format=svg", "/api/config", "/heart.json"];
    let ((), failures, requests) = support::load_while(&host.base, 4, &paths, || {
        for round in 1..=ROUNDS {
            // An invalid update (a symlink swap like the kubelet's) is rejected whole …
            publish_values(cm.path(), &format!("bad{round}"), "11", "72");
            wait_for_reloads(&host, "failed", round as f64);
            // … and the next valid one applies.
            let love = (round + 1).to_string();
            publish_values(cm.path(), &format!("good{round}"), &love, "72");
            let expected = round as i64 + 1;
            assert!(
                wait_for(&host, Duration::from_secs(2), |c| c["love_level"]
                    == expected)
                .is_some(),
                "round {round}: the valid update is live within 2 s"
            );
        }
    });
    assert!(
        failures.is_empty(),
        "requests failed during reloads: {failures:?}"
    );
    assert!(requests > 50, "the load ran ({requests} requests)");
    let metrics = host.get("/metrics", None).text();
    assert_eq!(reloads(&metrics, "ok"), Some(ROUNDS as f64));
    assert_eq!(reloads(&metrics, "failed"), Some(ROUNDS as f64));
    assert_eq!(
        support::metric(&metrics, "heart_config_generation", &[]),
        Some(ROUNDS as f64 + 1.0)
    );
}

#[test]
fn environment_variables_beat_the_config_directory() {
    let cm = tempfile::tempdir().expect("temp dir");
    publish_values(cm.path(), "v1", "8", "90");
    let host = start_with_dir(cm.path(), &[("SPIN_VARIABLE_BPM", "45")]);
    let config = host.get("/api/config", None).json();
    assert_eq!(
        (config["love_level"].as_i64(), config["bpm"].as_i64()),
        (Some(8), Some(45))
    );
}

#[test]
fn an_invalid_directory_stops_the_start() {
    let cm = tempfile::tempdir().expect("temp dir");
    publish(cm.path(), "v1", &[("bpm", "500")]);
    let cm_path = cm.path().to_str().expect("utf-8").to_owned();
    let args = ["--config-dir", cm_path.as_str()];
    let stderr = support::start_failure(&Options {
        args: &args,
        ..Options::default()
    });
    assert!(
        stderr.contains("`bpm`: bpm `500` is out of range 30..=220"),
        "{stderr}"
    );
}

#[test]
fn validate_config_exits_zero_on_valid_and_names_every_problem_otherwise() {
    let good = tempfile::tempdir().expect("temp dir");
    publish_values(good.path(), "v1", "7", "72");
    let ok = Command::new(env!("CARGO_BIN_EXE_heart-host"))
        .args(["validate-config"])
        .arg(good.path())
        .output()
        .expect("runs");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("love_level=7"));

    let bad = tempfile::tempdir().expect("temp dir");
    publish(
        bad.path(),
        "v1",
        &[("love-level", "0"), ("color", "#12"), ("colour", "red")],
    );
    let failed = Command::new(env!("CARGO_BIN_EXE_heart-host"))
        .args(["validate-config"])
        .arg(bad.path())
        .output()
        .expect("runs");
    assert_eq!(failed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&failed.stderr);
    for expected in [
        "`love-level`: love level `0` is out of range 1..=10",
        "`color`: colour `#12` is not a CSS hex colour",
        "unknown key `colour`",
        "found 3 problem(s)",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in {stderr}"
        );
    }
}
