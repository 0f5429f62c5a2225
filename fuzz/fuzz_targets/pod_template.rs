//! libFuzzer entry point for [`heart_fuzz::pod_template`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| heart_fuzz::pod_template::run(data));
