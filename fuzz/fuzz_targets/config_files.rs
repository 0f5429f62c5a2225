//! libFuzzer entry point for [`heart_fuzz::config_files`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| heart_fuzz::config_files::run(data));
