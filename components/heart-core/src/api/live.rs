//! `GET /live`: the text heart as a terminal animation (`curl -N …/live`). The adapter streams
//! the frames this module renders — each a whole screen drawn from the top-left corner with
//! ANSI cursor control: a status line, the pulsing heart, the scrolling ECG trace and a
//! footer — one every `1/fps` seconds of its own clock, for `seconds`, then a closing frame.

use std::fmt::Write as _;
use std::time::Duration;

use crate::api::message::{ApiRequest, ApiResponse};
use crate::api::query::{Query, QueryError};
use crate::api::routes::overridden;
use crate::config::{Field, HeartConfig, Seconds, parse_whole};
use crate::frame::HeartFrame;
use crate::render::{self, TextOptions};

/// The route's path.
pub const LIVE_PATH: &str = "/live";

/// The wasi:config key heart-host answers with `true` once it is shutting down: a stream then
/// ends with its closing frame instead of being cut. Other hosts leave it unset.
pub const CLOSING_VARIABLE: &str = "heart_streams_closing";

const LIVE_PARAMS: [&str; 8] = [
    "fps", "cols", "rows", "seconds", "ascii", "bpm", "love", "color",
];

/// Frames per second: default and limits.
const FPS: (i64, i64, i64) = (10, 1, 30);
/// Columns of the grids: default and limits.
const COLS: (i64, i64, i64) = (40, 20, 200);
/// Rows of the heart grid: default and limits.
const ROWS: (i64, i64, i64) = (20, 8, 100);
/// Stream length in seconds: default and limits.
const SECONDS: (i64, i64, i64) = (300, 1, 3600);

/// Rows of the ECG grid under the heart.
const ECG_ROWS: usize = 9;

/// Move to the top-left corner (every frame starts there).
const HOME: &str = "\x1b[H";
/// Erase the rest of the line.
const ERASE_LINE: &str = "\x1b[K";
/// Erase the rest of the screen (every frame ends so).
const ERASE_BELOW: &str = "\x1b[J";
/// Reset colours.
const RESET: &str = "\x1b[0m";

/// What a request for `/live` gets.
#[derive(Debug)]
pub enum LiveAnswer {
    /// Stream these frames.
    Stream(LiveStream),
    /// Answer with this response instead (a bad query, a `HEAD`, another method).
    Respond(ApiResponse),
}

/// What a stream sends next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveStep {
    /// A frame; the stream goes on.
    Frame(String),
    /// The closing frame; the stream ends after it.
    Last(String),
}

/// A validated live stream: the heart's config and the animation's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveStream {
    config: HeartConfig,
    fps: u32,
    seconds: u32,
    options: TextOptions,
}

/// The answer for `request` when it is for [`LIVE_PATH`]; `None` for every other path.
pub fn live(request: &ApiRequest<'_>, config: &HeartConfig) -> Option<LiveAnswer> {
    if request.path != LIVE_PATH {
        return None;
    }
    if request.method != "GET" && request.method != "HEAD" {
        let message = format!(
            "method `{}` is not allowed; use GET or HEAD",
            crate::config::shown(request.method)
        );
        let response = ApiResponse::error(405, &message, None).with_header("allow", "GET, HEAD");
        return Some(LiveAnswer::Respond(response));
    }
    Some(match LiveStream::parse(request.query, config) {
        Ok(stream) if request.method == "HEAD" => LiveAnswer::Respond(stream.head()),
        Ok(stream) => LiveAnswer::Stream(stream),
        Err(e) => LiveAnswer::Respond(ApiResponse::error(
            400,
            &e.to_string(),
            e.parameter().as_deref(),
        )),
    })
}

fn bounded(
    query: &Query,
    field: Field,
    (default, min, max): (i64, i64, i64),
) -> Result<i64, QueryError> {
    Ok(query
        .parsed(field.query(), |raw| parse_whole(field, raw, min, max))?
        .unwrap_or(default))
}

impl LiveStream {
    /// The stream a query asks for, over `config`.
    pub fn parse(query: &str, config: &HeartConfig) -> Result<Self, QueryError> {
        let query = Query::parse(query, &LIVE_PARAMS)?;
        let whole = |n: i64| usize::try_from(n).expect("bounded to positive ranges");
        Ok(Self {
            config: overridden(config, &query)?,
            fps: u32::try_from(bounded(&query, Field::Fps, FPS)?).expect("1..=30"),
            seconds: u32::try_from(bounded(&query, Field::Duration, SECONDS)?).expect("1..=3600"),
            options: TextOptions {
                cols: whole(bounded(&query, Field::Cols, COLS)?),
                heart_rows: whole(bounded(&query, Field::Rows, ROWS)?),
                ecg_rows: ECG_ROWS,
                ascii: query.flag("ascii")?,
                ..TextOptions::default()
            },
        })
    }

    /// The response head (status and headers; its body is the stream).
    pub fn head(&self) -> ApiResponse {
        ApiResponse {
            status: 200,
            headers: vec![
                ("content-type", "text/plain; charset=utf-8".to_owned()),
                ("cache-control", "no-store".to_owned()),
                ("x-content-type-options", "nosniff".to_owned()),
            ],
            body: Vec::new(),
        }
    }

    /// Time between frames.
    pub fn interval(&self) -> Duration {
        Duration::from_secs(1) / self.fps
    }

    /// How long the stream runs.
    pub fn duration(&self) -> Duration {
        Duration::from_secs(u64::from(self.seconds))
    }

    /// What goes before the first frame: hide the cursor and clear the screen.
    pub fn opening(&self) -> &'static str {
        "\x1b[?25l\x1b[2J"
    }

    /// The frame `t` seconds into the stream: a whole screen from the top-left corner.
    pub fn frame(&self, t: Duration) -> String {
        let seconds = Seconds::new(t.as_secs_f64()).unwrap_or_default();
        let frame = HeartFrame::at(&self.config, seconds);
        let text = render::text(&frame, &self.options);
        let colour = (!self.options.ascii).then(|| {
            let [r, g, b] = frame.color.rgb();
            format!("\x1b[38;2;{r};{g};{b}m")
        });
        let mut out = String::with_capacity(text.len() * 2);
        out.push_str(HOME);
        for (i, line) in text.lines().enumerate() {
            // Line 0 is the status line; the heart follows, then the ECG.
            let heart_line = (1..=self.options.heart_rows).contains(&i);
            match &colour {
                Some(sgr) if heart_line && !line.is_empty() => {
                    let _ = write!(out, "{sgr}{line}{RESET}");
                }
                _ => out.push_str(line),
            }
            out.push_str(ERASE_LINE);
            out.push_str("\r\n");
        }
        let dot = if self.options.ascii { '-' } else { '\u{b7}' };
        let _ = write!(
            out,
            "live {dot} {} fps {dot} {:.1} s of {} s {dot} Ctrl-C stops{ERASE_LINE}\r\n{ERASE_BELOW}",
            self.fps,
            t.as_secs_f64(),
            self.seconds
        );
        out
    }

    /// What to send `elapsed` into the stream: its frame, or the closing frame once its time
    /// is up or the host asks streams to end (`closing`).
    pub fn step(&self, elapsed: Duration, closing: bool) -> LiveStep {
        if elapsed >= self.duration() {
            LiveStep::Last(self.closing(&format!("the stream ran its {} s", self.seconds)))
        } else if closing {
            LiveStep::Last(self.closing("the server is shutting down; the stream ends here"))
        } else {
            LiveStep::Frame(self.frame(elapsed))
        }
    }

    /// When the next frame is due: one interval after the last one's slot `due`, or at
    /// `elapsed` if that has passed (a slow write skips frames rather than slowing the heart).
    pub fn next_due(&self, due: Duration, elapsed: Duration) -> Duration {
        (due + self.interval()).max(elapsed)
    }

    /// What ends the stream: colours reset, the cursor shown again, and `reason` on its own line.
    pub fn closing(&self, reason: &str) -> String {
        format!("{RESET}\x1b[?25h\r\n{reason}{ERASE_LINE}\r\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &'static str, query: &'static str) -> ApiRequest<'static> {
        ApiRequest {
            method,
            path: LIVE_PATH,
            query,
            accept: None,
            accept_encoding: None,
            runtime: None,
        }
    }

    fn stream(query: &'static str) -> LiveStream {
        match live(&request("GET", query), &HeartConfig::default()) {
            Some(LiveAnswer::Stream(stream)) => stream,
            other => panic!("{query}: {other:?}"),
        }
    }

    fn refusal(method: &'static str, query: &'static str) -> ApiResponse {
        match live(&request(method, query), &HeartConfig::default()) {
            Some(LiveAnswer::Respond(response)) => response,
            other => panic!("{query}: {other:?}"),
        }
    }

    #[test]
    fn only_the_live_path_is_a_stream() {
        let other = ApiRequest {
            path: "/heart.txt",
            ..request("GET", "")
        };
        assert!(live(&other, &HeartConfig::default()).is_none());
    }

    #[test]
    fn defaults_and_bounds() {
        let s = stream("");
        assert_eq!(s.interval(), Duration::from_millis(100));
        assert_eq!(s.duration(), Duration::from_secs(300));
        assert_eq!((s.options.cols, s.options.heart_rows), (40, 20));
        let s = stream("fps=30&cols=200&rows=100&seconds=3600&ascii=1&bpm=150&love=2&color=teal");
        assert_eq!(s.fps, 30);
        assert!(s.options.ascii);
        for (query, field, range) in [
            ("fps=0", "fps", "1..=30"),
            ("fps=31", "fps", "1..=30"),
            ("cols=19", "cols", "20..=200"),
            ("rows=101", "rows", "8..=100"),
            ("seconds=0", "seconds", "1..=3600"),
            ("seconds=1.5", "seconds", "1..=3600"),
            ("bpm=10", "bpm", "30..=220"),
        ] {
            let response = refusal("GET", query);
            assert_eq!(response.status, 400, "{query}");
            let body = String::from_utf8(response.body).expect("UTF-8");
            assert!(body.contains(range), "{query}: {body}");
            assert!(
                body.contains(&format!("\"field\":\"{field}\"")),
                "{query}: {body}"
            );
        }
        assert_eq!(refusal("GET", "speed=2").status, 400);
        assert_eq!(refusal("POST", "").status, 405);
        let head = refusal("HEAD", "");
        assert_eq!((head.status, head.body.len()), (200, 0));
        assert_eq!(
            head.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
    }

    #[test]
    fn a_frame_is_a_whole_screen_whose_heart_pulses() {
        let s = stream("ascii=1&bpm=60");
        let rest = s.frame(Duration::ZERO);
        let peak = s.frame(Duration::from_millis(300));
        for frame in [&rest, &peak] {
            assert!(
                frame.starts_with(HOME) && frame.ends_with(ERASE_BELOW),
                "{frame:?}"
            );
            assert_eq!(frame.matches(HOME).count(), 1);
            // The status line, 20 heart rows, a blank line, 9 ECG rows and the footer.
            assert_eq!(frame.matches("\r\n").count(), 1 + 20 + 1 + 9 + 1);
            assert!(frame.is_ascii());
        }
        assert!(rest.contains("60 bpm"));
        let filled = |f: &str| f.matches('#').count();
        assert!(
            filled(&peak) > filled(&rest),
            "the heart is bigger at the lub peak: {} vs {}",
            filled(&peak),
            filled(&rest)
        );
        assert!(peak.contains("0.3 s of 300 s"));
    }

    #[test]
    fn a_stream_ends_when_its_time_is_up_or_the_host_closes_it() {
        let s = stream("seconds=2&fps=4");
        let second = Duration::from_secs(1);
        assert!(matches!(s.step(second, false), LiveStep::Frame(f) if f.contains("1.0 s of 2 s")));
        assert!(matches!(s.step(second, true), LiveStep::Last(l) if l.contains("shutting down")));
        assert!(
            matches!(s.step(2 * second, false), LiveStep::Last(l) if l.contains("ran its 2 s"))
        );
        let quarter = Duration::from_millis(250);
        assert_eq!(
            s.next_due(Duration::ZERO, Duration::from_millis(10)),
            quarter
        );
        assert_eq!(
            s.next_due(quarter, Duration::from_millis(900)),
            Duration::from_millis(900),
            "a late frame does not queue the ones it missed"
        );
    }

    #[test]
    fn the_unicode_heart_is_coloured_and_the_closing_frame_restores_the_terminal() {
        let s = stream("color=%2300ff00");
        let frame = s.frame(Duration::from_millis(250));
        let coloured = frame
            .split("\r\n")
            .filter(|line| line.starts_with("\x1b[38;2;0;255;0m") && line.contains('\u{2665}'))
            .count();
        assert!(coloured > 10, "the heart's rows are green: {frame:?}");
        assert!(
            !frame.contains("\x1b[38;2;0;255;0m\u{2022}"),
            "the ECG is not"
        );
        let closing = s.closing("bye");
        assert!(closing.starts_with(RESET) && closing.contains("\x1b[?25h"));
        assert!(closing.contains("bye"));
    }
}
