//! libFuzzer entry point for [`heart_fuzz::config_and_render`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| heart_fuzz::config_and_render::run(data));
