//! Fuzz entry points: one function per kind of untrusted bytes the kiosk
//! parses, each taking any `&[u8]` and returning nothing. None may panic on
//! any input; where a parse succeeds they also assert what must then hold
//! (a signed body is never refused as unsigned, a result recorded twice is
//! a duplicate, a saved staff file reads back the same, a converted frame
//! has the size it claims). A panic is the finding.
//!
//! `fuzz/` wraps each in a `fuzz_target!` for cargo-fuzz; the test suite
//! runs each over its committed corpus, the recorded crash regressions and
//! a few thousand seeded mutations (`tests/integration/fuzz_corpus.rs`).
//! Behind the `testing` feature: never part of a shipped build.

use std::path::Path;

use crate::camera::{Converter, RawFormat};
use crate::config::RawConfig;
use crate::idenfy::models as m;
use crate::idenfy::webhook::{self, ResultStore};
use crate::idenfy::{self, validate};
use crate::secret::Secret;
use crate::session::{convert, machine, types::StartRequest};
use crate::staff::StaffFile;

/// One fuzz entry point: any bytes in, never a panic.
pub type Target = fn(&[u8]);

/// Every entry point by the name of its `fuzz/` target and corpus folder.
pub const TARGETS: &[(&str, Target)] = &[
    ("image_precheck", image_precheck),
    ("webhook", webhook),
    ("api_response", api_response),
    ("token_request", token_request),
    ("config", config),
    ("staff", staff),
    ("mjpeg", mjpeg),
    ("yuyv", yuyv),
    ("nv12", nv12),
];

/// A still or an uploaded image: bounded decode, then the full precheck
/// (`kyc-kiosk precheck`, the capture path, the sandbox's judge).
pub fn image_precheck(data: &[u8]) {
    if let Ok(a) = crate::quality::assess_encoded(data) {
        assert!(a.width > 0 && a.height > 0, "an assessed image has pixels");
    }
}

/// The scanRef the webhook target's store waits for (the corpus's).
pub const WEBHOOK_SCAN_REF: &str = "328c6766-934e-11ed-bb9b-025ad99a18e7";
/// The signing key of the webhook target.
const WEBHOOK_KEY: &str = "fuzz-signing-key";

/// A webhook delivery through the receiver's whole decision
/// ([`webhook::answer`]): signature, body decode, de-duplication.
///
/// Layout: one mode byte, then `HEADER\nBODY`. With bit 0 of the mode set,
/// `HEADER` is the `Idenfy-Signature` value as sent; otherwise the body is
/// signed with the right key (bit 1: upper-case hex, bit 2: padded with
/// spaces) so the decoder behind the signature check is reached, and
/// `HEADER` is the `Idenfy-Event-Type`.
pub fn webhook(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (header, body) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&[][..], rest),
    };
    let header = std::str::from_utf8(header).ok();
    let key = Secret::new(WEBHOOK_KEY);
    let store = ResultStore::new();
    store.register(&m::ScanRef::from(WEBHOOK_SCAN_REF.to_owned()));

    // Without a key nothing is ever accepted.
    let (status, _) = webhook::answer(None, &store, header, header, body);
    assert_eq!(status, 401, "no key configured, yet not refused");

    let signed = mode & 1 == 0;
    let signature = if signed {
        let mut s = webhook::sign(&key, body);
        if mode & 2 != 0 {
            s = s.to_ascii_uppercase();
        }
        if mode & 4 != 0 {
            s = format!("  {s} ");
        }
        Some(s)
    } else {
        header.map(str::to_owned)
    };
    let event = if signed { header } else { None };
    let first = webhook::answer(Some(&key), &store, signature.as_deref(), event, body);
    if signed {
        assert_ne!(first.0, 401, "a correctly signed body was refused");
    } else if first.0 != 401 {
        // A signature taken from the input passed: it must be the real one.
        let given = signature.as_deref().unwrap_or("").trim();
        assert!(
            given.eq_ignore_ascii_case(&webhook::sign(&key, body)),
            "a wrong signature was accepted"
        );
    }
    if first.1 == "recorded" {
        let again = webhook::answer(Some(&key), &store, signature.as_deref(), event, body);
        assert_eq!(again.1, "duplicate", "the same delivery was recorded twice");
        let report = store
            .latest(&m::ScanRef::from(WEBHOOK_SCAN_REF.to_owned()))
            .expect("a recorded result is held");
        let _ = convert::outcome_of_webhook(&report);
    }
}

/// An answer of the iDenfy API (or of a proxy in its place), as the client
/// reads it. The first byte picks the endpoint: token, status, data, files,
/// a 200 of `/process`, or an error answer (the second byte then picks its
/// HTTP status); the rest is the body.
pub fn api_response(data: &[u8]) {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let request = StartRequest::new("FUZZ-1", "LT");
    match which % 6 {
        0 => {
            if let Ok(r) = idenfy::decode_json::<m::TokenResponse>("/api/v2/token", body) {
                let info = convert::token_info(&r, &request);
                // A malformed code is dropped by the machine; it must not panic there either.
                let _ = info
                    .digit_string
                    .as_deref()
                    .map(crate::session::qr::validate);
            }
        }
        1 => {
            if let Ok(r) = idenfy::decode_json::<m::StatusResponse>("/api/v2/status", body) {
                let _ = convert::token_status(&r);
            }
        }
        2 => {
            let _ = idenfy::decode_json::<m::DataResponse>("/api/v2/data", body);
        }
        3 => {
            let _ = idenfy::decode_json::<m::FilesResponse>("/api/v2/files", body);
        }
        4 => {
            if let Some(Err(e)) = idenfy::process_answer(body) {
                let _ = convert::failure(&e);
                let _ = e.to_string();
            }
        }
        _ => {
            const STATUSES: [u16; 10] = [400, 401, 402, 403, 404, 409, 422, 429, 500, 503];
            let (status, body) = match body.split_first() {
                Some((&s, rest)) => (STATUSES[usize::from(s) % STATUSES.len()], rest),
                None => (400, body),
            };
            let retry_after = std::str::from_utf8(body.get(..4).unwrap_or(body)).ok();
            let e = idenfy::error_from_parts(status, retry_after, body);
            let _ = convert::failure(&e);
            let _ = e.code();
            let text = e.to_string();
            // Quoted error texts are bounded: message and identifier, 300 characters each.
            assert!(
                text.chars().count() < 720,
                "error text of {} chars",
                text.len()
            );
        }
    }
}

/// A token request as the sandbox receives it (JSON, then every documented
/// rule), and the same fields as the staff start form through the session's
/// normalisation: an accepted form converts into a request that passes.
pub fn token_request(data: &[u8]) {
    let de = &mut serde_json::Deserializer::from_slice(data);
    let Ok(r) = serde_path_to_error::deserialize::<_, m::TokenRequest>(de) else {
        return;
    };
    if let Err(e) = validate::check_token_request(&r) {
        let _ = e.to_string();
        let _ = idenfy::Error::from(e).code();
    }
    let mut form = StartRequest::new(r.client_id.clone(), r.country.clone().unwrap_or_default());
    form.first_name = r.first_name.clone();
    form.last_name = r.last_name.clone();
    form.date_of_birth = r.date_of_birth.clone();
    form.document_number = r.document_number.clone();
    form.locale = r.locale.clone();
    form.dummy_status = r.dummy_status.as_ref().map(|d| d.as_str().to_owned());
    form.expiry_secs = r.expiry_time.and_then(|v| u32::try_from(v).ok());
    form.session_length_secs = r.session_length.and_then(|v| u32::try_from(v).ok());
    form.generate_digit_string = r.generate_digit_string == Some(true);
    if let Ok(ok) = machine::validate_request(form) {
        let t = convert::token_request(&ok, None);
        assert!(
            validate::check_token_request(&t).is_ok(),
            "an accepted form makes a request the rules refuse"
        );
        let again = machine::validate_request(ok.clone()).expect("validation is idempotent");
        assert!(again == ok, "validating an accepted form changed it");
    }
}

/// `config.toml`: parse, then every check of [`RawConfig::validate`].
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match RawConfig::from_toml(text, Path::new("config.toml")) {
        Ok(raw) => {
            if let Err(e) = raw.validate() {
                let _ = (e.to_string(), e.code(), e.field());
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// `staff.toml`: parse and check as the console does; a file that passes
/// is written back as the settings screen saves it and must read back the same.
pub fn staff(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("staff.toml");
    let Ok(file) = StaffFile::from_toml(text, path) else {
        return;
    };
    if file.validate().is_err() {
        return;
    }
    let Ok(saved) = toml::to_string(&file) else {
        return;
    };
    let back = StaffFile::from_toml(&saved, path).expect("a saved staff file reads back");
    assert_eq!(
        toml::to_string(&back).ok().as_deref(),
        Some(saved.as_str()),
        "a saved staff file reads back different"
    );
    assert!(
        back.validate().is_ok(),
        "a saved staff file no longer validates"
    );
}

/// An MJPEG camera frame, decoded twice by one converter: a bad frame must
/// cost only that frame, so the second decode gives the same answer.
pub fn mjpeg(data: &[u8]) {
    let mut conv = Converter::new();
    let mut dst = Vec::new();
    let first = conv.to_rgb(RawFormat::Mjpeg, data, 0, 0, &mut dst);
    if let Ok((w, h)) = first {
        assert_eq!(dst.len(), w as usize * h as usize * 3, "RGB size");
    }
    let second = conv.to_rgb(RawFormat::Mjpeg, data, 0, 0, &mut dst);
    assert_eq!(first.is_ok(), second.is_ok(), "one frame poisoned the next");
}

/// Splits `width: u16 LE, height: u16 LE, frame bytes`.
fn sized(data: &[u8]) -> Option<(u32, u32, &[u8])> {
    let (head, frame) = data.split_at_checked(4)?;
    let w = u16::from_le_bytes([head[0], head[1]]);
    let h = u16::from_le_bytes([head[2], head[3]]);
    Some((u32::from(w), u32::from(h), frame))
}

fn raw_frame(format: RawFormat, data: &[u8]) {
    let Some((w, h, frame)) = sized(data) else {
        return;
    };
    let mut dst = Vec::new();
    if let Ok((ow, oh)) = Converter::new().to_rgb(format, frame, w, h, &mut dst) {
        assert_eq!((ow, oh), (w, h), "size changed");
        assert_eq!(dst.len(), w as usize * h as usize * 3, "RGB size");
    }
}

/// A YUYV (4:2:2) camera frame: `width: u16 LE, height: u16 LE`, then the bytes.
pub fn yuyv(data: &[u8]) {
    raw_frame(RawFormat::Yuyv, data);
}

/// An NV12 (4:2:0) camera frame: `width: u16 LE, height: u16 LE`, then the bytes.
pub fn nv12(data: &[u8]) {
    raw_frame(RawFormat::Nv12, data);
}
