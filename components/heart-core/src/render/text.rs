//! Text renderer: a Unicode (or plain-ASCII) heart on a character grid, plus the ECG trace.

use crate::ecg::{EcgGrid, EcgWave};
use crate::frame::HeartFrame;
use crate::render::viewport::Viewport;

/// Grid sizes and character set of the text rendering.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextOptions {
    /// Width of both grids in characters.
    pub cols: usize,
    /// Height of the heart grid in lines (terminal cells are about twice as tall as wide, so
    /// `cols = 2 · rows` gives a round heart).
    pub heart_rows: usize,
    /// Height of the ECG grid in lines.
    pub ecg_rows: usize,
    /// ECG scroll speed in columns per second.
    pub ecg_rate: f64,
    /// Use only ASCII characters.
    pub ascii: bool,
}

impl Default for TextOptions {
    fn default() -> Self {
        Self {
            cols: 40,
            heart_rows: 20,
            ecg_rows: 9,
            ecg_rate: 20.0,
            ascii: false,
        }
    }
}

/// Renders `frame` as lines of text: a header, the heart grid, then the ECG trace ending at
/// `frame.t` (trailing spaces trimmed, lines joined by `\n`).
pub fn text(frame: &HeartFrame, options: &TextOptions) -> String {
    let (fill, trace, symbol) = if options.ascii {
        ('#', '*', frame.symbol.ascii())
    } else {
        ('\u{2665}', '\u{2022}', frame.symbol.glyph())
    };
    let mut out = format!(
        "{symbol} {bpm} bpm  love {love}/10  pulse {pulse:.3}\n",
        bpm = frame.bpm,
        love = frame.love_level,
        pulse = frame.pulse_factor,
    );

    let viewport = Viewport::new(1.0);
    for row in 0..options.heart_rows {
        // Every cell centre of a row lies on the same horizontal line.
        let y = viewport
            .cell_centre(row, 0, options.heart_rows, options.cols)
            .y;
        let crossings = frame.outline.row(y);
        let line: String = (0..options.cols)
            .map(|col| {
                let p = viewport.cell_centre(row, col, options.heart_rows, options.cols);
                if crossings.contains(p.x) { fill } else { ' ' }
            })
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }

    let grid = EcgGrid {
        rows: options.ecg_rows,
        cols: options.cols,
        rate: options.ecg_rate,
    };
    let mut cells = vec![vec![' '; options.cols]; options.ecg_rows];
    for (row, col) in grid.trace(EcgWave::new(frame.bpm), frame.t) {
        cells[row][col] = trace;
    }
    out.push('\n');
    for line in cells {
        let line: String = line.into_iter().collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
