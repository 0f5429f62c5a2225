//! Golden files: fixed inputs render to checked-in snapshots, so any change to output is a
//! reviewed diff. Regenerate with `UPDATE_GOLDEN=1 cargo test -p heart-core --test golden`.

mod support;

use heart_core::render::{self, TextOptions};
use std::path::PathBuf;

use support::frame;

/// One fixed input: snapshot name, config pairs, time in seconds.
type Case = (&'static str, &'static [(&'static str, &'static str)], f64);

const CASES: [Case; 3] = [
    ("steady-default-peak", &[], 0.25),
    (
        "resting-love3-rest",
        &[
            ("bpm", "50"),
            ("love_level", "3"),
            ("color", "#3366ff"),
            ("size", "64"),
        ],
        0.0,
    ),
    (
        "racing-love10-dub",
        &[
            ("bpm", "150"),
            ("love_level", "10"),
            ("color", "hotpink"),
            ("size", "128"),
        ],
        0.19,
    ),
];

#[test]
fn svg_matches_golden_files() {
    for (name, pairs, t) in CASES {
        assert_golden(&format!("{name}.svg"), &render::svg(&frame(pairs, t)));
    }
}

#[test]
fn json_matches_golden_files() {
    for (name, pairs, t) in CASES {
        assert_golden(&format!("{name}.json"), &render::json(&frame(pairs, t)));
    }
}

#[test]
fn unicode_text_matches_golden_files() {
    for (name, pairs, t) in CASES {
        let text = render::text(&frame(pairs, t), &TextOptions::default());
        assert_golden(&format!("{name}.txt"), &text);
    }
}

#[test]
fn ascii_text_matches_golden_files() {
    let options = TextOptions {
        ascii: true,
        ..TextOptions::default()
    };
    for (name, pairs, t) in CASES {
        let text = render::text(&frame(pairs, t), &options);
        assert!(text.is_ascii(), "{name}: ASCII fallback has only ASCII");
        assert_golden(&format!("{name}.ascii.txt"), &text);
    }
}

#[test]
fn rejected_inputs_match_golden_error_texts() {
    let bad: &[(&str, &str)] = &[
        ("love_level", "11"),
        ("love_level", "0"),
        ("love_level", "seven"),
        ("bpm", "29"),
        ("bpm", "221"),
        ("bpm", "72.5"),
        ("size", "15"),
        ("size", "1e3"),
        ("color", "rgb(1,2,3)"),
        ("color", "#12345"),
        ("alert_threshold", "0"),
        ("mood", "happy"),
    ];
    let mut report = String::new();
    for (key, value) in bad {
        let errors = heart_core::HeartConfig::default()
            .with_values([(*key, *value)])
            .expect_err("every case is invalid");
        for e in errors {
            report.push_str(&format!("{key}={value:?} -> {e}\n"));
        }
    }
    assert_golden("rejected-config.err", &report);
}

/// Compares `actual` with the checked-in golden file `tests/golden/<name>`.
pub fn assert_golden(name: &str, actual: &str) {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("tests/golden");
    heart_testing::golden::assert_golden(&dir, name, "heart-core", actual);
}
