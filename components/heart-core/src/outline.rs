//! The parametric heart outline: x = 16 sin³t, y = 13 cos t − 5 cos 2t − 2 cos 3t − cos 4t
//! (the curve itself is in `src/outline_curve.rs`, shared with the build script).

use serde::Serialize;

/// Number of points on the outline.
pub const OUTLINE_POINTS: usize = 128;

/// A point in heart space: centred on the origin, y pointing up.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    /// Horizontal coordinate.
    pub x: f64,
    /// Vertical coordinate (up is positive).
    pub y: f64,
}

/// The heart outline: [`OUTLINE_POINTS`] points, centred on the origin and normalised so the
/// unscaled heart just fits the square `[-1, 1]²`, then scaled by a pulse factor.
///
/// The outline is closed: the last point connects back to the first (renderers close the path).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct HeartOutline {
    points: Vec<Point>,
}

impl HeartOutline {
    /// The outline scaled by `pulse_factor` (1.0 is the resting size).
    pub fn scaled(pulse_factor: f64) -> Self {
        let points = UNIT
            .iter()
            .map(|p| Point {
                x: p.x * pulse_factor,
                y: p.y * pulse_factor,
            })
            .collect();
        Self { points }
    }

    /// The points in drawing order.
    pub fn points(&self) -> &[Point] {
        &self.points
    }

    /// Whether `(x, y)` lies inside the outline (even-odd rule).
    pub fn contains(&self, x: f64, y: f64) -> bool {
        self.row(y).contains(x)
    }

    /// The outline's crossings of the horizontal line at `y`, for testing many points on that
    /// line: each test then costs the few crossings instead of every edge.
    pub fn row(&self, y: f64) -> OutlineRow {
        let n = self.points.len();
        let crossings = (0..n)
            .filter_map(|i| {
                let a = self.points[i];
                let b = self.points[(i + 1) % n];
                ((a.y > y) != (b.y > y)).then(|| (b.x - a.x) * (y - a.y) / (b.y - a.y) + a.x)
            })
            .collect();
        OutlineRow { crossings }
    }
}

/// Where one horizontal line crosses the outline (see [`HeartOutline::row`]).
#[derive(Debug, Clone, PartialEq)]
pub struct OutlineRow {
    crossings: Vec<f64>,
}

impl OutlineRow {
    /// Whether `(x, y)` lies inside the outline (even-odd rule), `y` being the row's line.
    pub fn contains(&self, x: f64) -> bool {
        self.crossings.iter().filter(|&&c| x < c).count() % 2 == 1
    }
}

/// The resting outline, centred on its bounding box and scaled to `[-1, 1]²`: tabulated at
/// build time from `src/outline_curve.rs` (see `build.rs`), so no instance computes it.
static UNIT: [Point; OUTLINE_POINTS] = include!(concat!(env!("OUT_DIR"), "/unit_outline.rs"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_table_is_the_curve() {
        let curve = crate::outline_curve::unit_outline();
        assert_eq!(curve.len(), UNIT.len());
        for (i, (&(x, y), p)) in curve.iter().zip(&UNIT).enumerate() {
            // Equal where the build script ran on the same libm; within rounding elsewhere.
            assert!((x - p.x).abs() < 1e-12 && (y - p.y).abs() < 1e-12, "{i}");
        }
        assert_eq!(crate::outline_curve::POINTS, OUTLINE_POINTS);
    }

    #[test]
    fn outline_has_128_points_and_starts_at_the_top_notch() {
        let outline = HeartOutline::scaled(1.0);
        assert_eq!(outline.points().len(), 128);
        let first = outline.points()[0];
        assert!(first.x.abs() < 1e-12, "t = 0 lies on the axis of symmetry");
        assert!(first.y > 0.0, "the notch is in the upper half");
    }

    #[test]
    fn resting_outline_touches_the_unit_box() {
        let outline = HeartOutline::scaled(1.0);
        let max_extent = outline
            .points()
            .iter()
            .map(|p| p.x.abs().max(p.y.abs()))
            .fold(0.0, f64::max);
        assert!((max_extent - 1.0).abs() < 1e-12, "{max_extent}");
    }

    #[test]
    fn outline_is_symmetric_about_the_vertical_axis() {
        let pts = HeartOutline::scaled(1.0).points().to_vec();
        for i in 1..OUTLINE_POINTS {
            let a = pts[i];
            let b = pts[OUTLINE_POINTS - i];
            assert!((a.x + b.x).abs() < 1e-9 && (a.y - b.y).abs() < 1e-9, "{i}");
        }
    }

    #[test]
    fn rows_cross_the_closed_outline_an_even_number_of_times() {
        let outline = HeartOutline::scaled(1.0);
        for i in 0..=200 {
            let y = -1.0 + f64::from(i) / 100.0;
            let row = outline.row(y);
            assert_eq!(row.crossings.len() % 2, 0, "y = {y}");
            // Points left of every crossing, or right of every crossing, are outside.
            assert!(!row.contains(-1.5) && !row.contains(1.5), "y = {y}");
        }
        // Near the top the two lobes make four crossings, with the dip between them outside.
        let top = outline.row(0.9);
        assert_eq!(top.crossings.len(), 4);
        assert!(!top.contains(0.0) && top.contains(0.5) && top.contains(-0.5));
    }

    #[test]
    fn pulse_factor_scales_every_point() {
        let rest = HeartOutline::scaled(1.0);
        let big = HeartOutline::scaled(1.2);
        for (a, b) in rest.points().iter().zip(big.points()) {
            assert!((a.x * 1.2 - b.x).abs() < 1e-12 && (a.y * 1.2 - b.y).abs() < 1e-12);
        }
    }

    #[test]
    fn centre_is_inside_and_corners_are_outside() {
        let outline = HeartOutline::scaled(1.0);
        assert!(outline.contains(0.0, 0.0));
        assert!(!outline.contains(0.95, -0.95));
        assert!(
            !outline.contains(0.0, 0.99),
            "the notch between the lobes is empty"
        );
    }
}
