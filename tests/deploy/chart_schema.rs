//! The chart's values.schema.json and values.yaml agree with heart-core: the same ranges and
//! defaults for every setting (one source of truth, checked). Beside the deploy suite
//! (`validate.py` renders and validates the same chart); run as a heart-core test.

use heart_core::{AlertThreshold, Bpm, HeartConfig, LoveLevel, Size};

fn chart_file(name: &str) -> String {
    let path = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            std::path::PathBuf::from,
        )
        .join("../../charts/heart-display")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The schema of the chart's values, by key.
fn values_schema() -> serde_json::Value {
    let schema: serde_json::Value =
        serde_json::from_str(&chart_file("values.schema.json")).expect("schema is JSON");
    schema["properties"].clone()
}

/// The schema of the chart's `config` values, by key.
fn config_schema() -> serde_json::Value {
    values_schema()["config"]["properties"].clone()
}

#[test]
fn love_level_is_top_level_and_its_nested_spelling_has_the_same_range() {
    let love = &values_schema()["loveLevel"];
    let nested = &config_schema()["loveLevel"];
    let defaults = HeartConfig::default();
    assert_eq!(love["minimum"], i64::from(LoveLevel::MIN));
    assert_eq!(love["maximum"], i64::from(LoveLevel::MAX));
    assert_eq!(love["default"], i64::from(defaults.love_level.get()));
    assert_eq!(
        nested["minimum"], love["minimum"],
        "config.loveLevel minimum"
    );
    assert_eq!(
        nested["maximum"], love["maximum"],
        "config.loveLevel maximum"
    );
    // The nested spelling has no default: when set, it wins over the top-level value.
    assert!(nested.get("default").is_none(), "config.loveLevel default");
    let values = chart_file("values.yaml");
    assert!(
        values.contains(&format!("\nloveLevel: {}\n", defaults.love_level.get())),
        "values.yaml sets loveLevel to heart-core's default"
    );
    assert!(
        !values.contains("\n  loveLevel:"),
        "values.yaml sets no config.loveLevel"
    );
}

#[test]
fn schema_ranges_and_defaults_match_heart_core() {
    let config = &config_schema();
    let defaults = HeartConfig::default();
    let cases = [
        (
            "bpm",
            i64::from(Bpm::MIN),
            i64::from(Bpm::MAX),
            i64::from(defaults.bpm.get()),
        ),
        (
            "size",
            i64::from(Size::MIN),
            i64::from(Size::MAX),
            i64::from(defaults.size.get()),
        ),
        (
            "alertThreshold",
            i64::from(AlertThreshold::MIN),
            i64::from(AlertThreshold::MAX),
            i64::from(defaults.alert_threshold.get()),
        ),
    ];
    let values = chart_file("values.yaml");
    for (key, min, max, default) in cases {
        assert_eq!(config[key]["minimum"], min, "{key} minimum");
        assert_eq!(config[key]["maximum"], max, "{key} maximum");
        assert_eq!(
            config[key]["default"], default,
            "{key} default in the schema"
        );
        assert!(
            values.contains(&format!("  {key}: {default}\n")),
            "values.yaml sets {key} to heart-core's default {default}"
        );
    }
    assert_eq!(config["color"]["default"], defaults.color.to_string());
}

/// The schema takes a colour exactly when heart-core does (names in lowercase): a hex pattern
/// or one of the CSS names heart-core's colour parser knows, listed in full, so a typo fails
/// `helm install` instead of every pod's pre-start check (found by the `chart_values` fuzz
/// target: the old `[a-zA-Z]+` let `crimsonM` through).
#[test]
fn the_schema_colour_admits_what_heart_core_admits() {
    let config = config_schema();
    let choices = config["color"]["anyOf"]
        .as_array()
        .expect("a hex pattern or a name");
    assert_eq!(
        choices[0]["pattern"], "^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$",
        "update the hex check below with the pattern"
    );
    let names: std::collections::BTreeSet<String> = choices[1]["enum"]
        .as_array()
        .expect("the names")
        .iter()
        .map(|n| n.as_str().expect("a name").to_owned())
        .collect();
    let known: std::collections::BTreeSet<String> = csscolorparser::NAMED_COLORS
        .keys()
        .map(|n| n.as_str().to_owned())
        .collect();
    assert_eq!(
        names, known,
        "the schema lists every CSS name heart-core accepts, no other"
    );
    for name in &names {
        assert!(heart_core::Color::parse(name).is_ok(), "{name}");
    }
    let hex = |s: &str| {
        s.strip_prefix('#').is_some_and(|h| {
            (h.len() == 3 || h.len() == 6) && h.bytes().all(|b| b.is_ascii_hexdigit())
        })
    };
    for colour in ["#fff", "#FF69B4"] {
        assert!(
            hex(colour) && heart_core::Color::parse(colour).is_ok(),
            "{colour}"
        );
    }
    for bad in ["#12", "rgb(1,2,3)", "not a colour", "crimsonM", ""] {
        assert!(heart_core::Color::parse(bad).is_err(), "{bad}");
        assert!(!hex(bad) && !names.contains(bad), "{bad}");
    }
}
