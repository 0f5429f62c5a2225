//! Tabulates the resting heart outline (`src/outline_curve.rs`) as exact `f64` bit patterns in
//! `$OUT_DIR/unit_outline.rs`, which `src/outline.rs` includes as a static array.

use std::fmt::Write;
use std::path::PathBuf;

#[path = "src/outline_curve.rs"]
mod outline_curve;

fn main() {
    println!("cargo::rerun-if-changed=src/outline_curve.rs");
    let mut table = String::from("[\n");
    for (x, y) in outline_curve::unit_outline() {
        writeln!(
            table,
            "    Point {{ x: f64::from_bits({:#018x}), y: f64::from_bits({:#018x}) }},",
            x.to_bits(),
            y.to_bits()
        )
        .expect("writing to a String cannot fail");
    }
    table.push(']');
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("unit_outline.rs"), table).expect("writing the outline table");
}
