//! libFuzzer entry point for [`heart_fuzz::live_stream`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| heart_fuzz::live_stream::run(data));
