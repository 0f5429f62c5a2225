//! Mapping from heart space to pixels, shared by the SVG, PNG and text renderers.

use crate::outline::Point;
use crate::pulse::PulseWave;

/// A square drawing area of `size` pixels that holds the largest possible heart with a margin,
/// so every frame of every config fits and frames of one animation line up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    size: f64,
    half_extent: f64,
}

impl Viewport {
    /// Heart-space half-width shown: the largest pulse plus a 5 % margin.
    pub const HALF_EXTENT: f64 = PulseWave::MAX_FACTOR * 1.05;

    /// A viewport `size` pixels wide and high.
    pub fn new(size: f64) -> Self {
        Self {
            size,
            half_extent: Self::HALF_EXTENT,
        }
    }

    /// Pixel position of a heart-space point (y flipped: up in heart space is up on screen).
    pub fn to_pixels(&self, p: Point) -> (f64, f64) {
        let scale = self.size / (2.0 * self.half_extent);
        (
            (p.x + self.half_extent) * scale,
            (self.half_extent - p.y) * scale,
        )
    }

    /// Heart-space point at the centre of grid cell `(row, col)` of a `rows × cols` grid.
    pub fn cell_centre(&self, row: usize, col: usize, rows: usize, cols: usize) -> Point {
        let h = self.half_extent;
        Point {
            x: -h + 2.0 * h * (col as f64 + 0.5) / cols as f64,
            y: h - 2.0 * h * (row as f64 + 0.5) / rows as f64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_maps_to_the_centre_and_up_maps_to_smaller_y() {
        let vp = Viewport::new(200.0);
        assert_eq!(vp.to_pixels(Point { x: 0.0, y: 0.0 }), (100.0, 100.0));
        let (_, y) = vp.to_pixels(Point { x: 0.0, y: 1.0 });
        assert!(y < 100.0);
    }

    #[test]
    fn largest_heart_stays_inside_the_pixels() {
        let vp = Viewport::new(64.0);
        let m = PulseWave::MAX_FACTOR;
        let (x0, y0) = vp.to_pixels(Point { x: -m, y: m });
        let (x1, y1) = vp.to_pixels(Point { x: m, y: -m });
        assert!(x0 > 0.0 && y0 > 0.0 && x1 < 64.0 && y1 < 64.0);
    }
}
