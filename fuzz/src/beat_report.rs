//! Fuzzes the `POST /api/beat` body parser: no input may panic, and what it accepts is in range.

use heart_core::Bpm;
use heart_core::presence::BeatReport;
use heart_core::presence::MAX_BEAT_BODY_BYTES;

/// One fuzz input: panics on a broken property.
pub fn run(data: &[u8]) {
    match BeatReport::from_json(data) {
        Ok(report) => {
            assert!(data.len() <= MAX_BEAT_BODY_BYTES);
            assert!(!report.client.is_empty() && report.client.len() <= 128);
            assert!((Bpm::MIN..=Bpm::MAX).contains(&report.bpm.get()));
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}
