//! libFuzzer entry point for [`heart_fuzz::settings`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| heart_fuzz::settings::run(data));
