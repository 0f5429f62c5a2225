//! libFuzzer entry point for [`heart_fuzz::trace_context`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| heart_fuzz::trace_context::run(data));
