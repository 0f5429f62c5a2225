//! What heart-host prints when it is ready, read by everything in xtask that starts it.

use std::io::BufRead;

use anyhow::{Result, bail};

/// The start of the line heart-host prints once it is listening, followed by its URL.
const LISTENING: &str = "heart-host listening on ";

/// Reads `stdout` up to heart-host's "listening on" line and returns the base URL (no
/// trailing `/`). Earlier lines are passed on to stderr; the stream ending first is an error.
pub fn base_url(stdout: &mut impl BufRead) -> Result<String> {
    let mut line = String::new();
    loop {
        line.clear();
        if stdout.read_line(&mut line)? == 0 {
            bail!("heart-host stopped before it printed `{LISTENING}<url>`");
        }
        if let Some(url) = line.trim().strip_prefix(LISTENING) {
            return Ok(url.trim_end_matches('/').to_owned());
        }
        eprint!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::base_url;

    #[test]
    fn finds_the_url_after_other_lines() {
        let mut out = "building\nheart-host listening on http://127.0.0.1:4321/\nmore\n".as_bytes();
        assert_eq!(base_url(&mut out).expect("a URL"), "http://127.0.0.1:4321");
    }

    #[test]
    fn a_stream_without_the_line_is_an_error() {
        let mut out = "error: address in use\n".as_bytes();
        let err = base_url(&mut out).expect_err("no URL");
        assert!(err.to_string().contains("stopped before"), "{err}");
    }
}
