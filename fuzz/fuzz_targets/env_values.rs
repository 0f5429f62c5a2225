//! libFuzzer entry point for [`heart_fuzz::env_values`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| heart_fuzz::env_values::run(data));
