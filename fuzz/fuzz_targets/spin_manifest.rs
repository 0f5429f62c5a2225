//! libFuzzer entry point for [`heart_fuzz::spin_manifest`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| heart_fuzz::spin_manifest::run(data));
