//! The curve behind the heart outline, in plain `std` so that the build script can tabulate it
//! (sparing every fresh Wasm instance 640 sines and cosines) and the tests can check the table.
//! x = 16 sin³t, y = 13 cos t − 5 cos 2t − 2 cos 3t − cos 4t.

use std::f64::consts::TAU;

/// Points on the outline (the table's type, `[Point; OUTLINE_POINTS]`, checks it matches).
pub const POINTS: usize = 128;

/// The raw curve at parameter `t`.
fn curve(t: f64) -> (f64, f64) {
    let x = 16.0 * t.sin().powi(3);
    let y = 13.0 * t.cos() - 5.0 * (2.0 * t).cos() - 2.0 * (3.0 * t).cos() - (4.0 * t).cos();
    (x, y)
}

/// The resting outline: [`POINTS`] samples of the curve, centred on their bounding box and
/// scaled so the larger side spans `[-1, 1]`.
pub fn unit_outline() -> Vec<(f64, f64)> {
    let raw: Vec<(f64, f64)> = (0..POINTS)
        .map(|i| curve(TAU * i as f64 / POINTS as f64))
        .collect();
    let (min_x, max_x, min_y, max_y) = raw.iter().fold(
        (f64::MAX, f64::MIN, f64::MAX, f64::MIN),
        |(a, b, c, d), &(x, y)| (a.min(x), b.max(x), c.min(y), d.max(y)),
    );
    let (cx, cy) = ((min_x + max_x) / 2.0, (min_y + max_y) / 2.0);
    let half = (max_x - min_x).max(max_y - min_y) / 2.0;
    raw.iter()
        .map(|&(x, y)| ((x - cx) / half, (y - cy) / half))
        .collect()
}
