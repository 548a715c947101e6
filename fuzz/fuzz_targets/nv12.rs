#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kyc_kiosk::fuzzing::nv12(data));
