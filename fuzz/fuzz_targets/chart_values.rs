//! libFuzzer entry point for [`heart_fuzz::chart_values`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| heart_fuzz::chart_values::run(data));
