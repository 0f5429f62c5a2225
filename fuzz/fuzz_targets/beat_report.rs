//! libFuzzer entry point for [`heart_fuzz::beat_report`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| heart_fuzz::beat_report::run(data));
