#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kyc_kiosk::fuzzing::image_precheck(data));
