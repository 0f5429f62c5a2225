//! libFuzzer entry point for [`heart_fuzz::api_request`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| heart_fuzz::api_request::run(data));
