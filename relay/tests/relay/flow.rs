//! A verification through the relay, end to end against the embedded sandbox.

use std::time::Duration;

use serde_json::json;

use crate::support::{self, enrol, relay, shared};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrol_token_process_webhook_reaches_that_kiosk_only() {
    let db = shared().fresh_database();
    let r = relay(&db, None, |_| {}).await;
    let base = r.url();
    let a = enrol(&db, "kiosk-a", Some("vilnius")).await;
    let b = enrol(&db, "kiosk-b", Some("vilnius")).await;

    let (s, me) = a.call(&base, "GET", "/kiosk/v1/me", None).await;
    assert_eq!(s, 200, "{me}");
    assert_eq!(me["name"], "kiosk-a");

    let (s, t) = a.token(&base, "c-1").await;
    assert_eq!(s, 200, "{t}");
    let scan_ref = t["scanRef"].as_str().unwrap().to_owned();
    // Direct processing: the authToken never leaves the relay.
    assert!(t.get("authToken").is_none(), "{t}");

    // Another kiosk cannot submit or ask about it.
    let (s, _) = b.process(&base, &scan_ref).await;
    assert_eq!(s, 404);
    let (s, _) = b.status(&base, &scan_ref).await;
    assert_eq!(s, 404);

    let (s, p) = a.process(&base, &scan_ref).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["outcome"], "ACCEPTED");
    // Never a second /process for the same token.
    let (s, again) = a.process(&base, &scan_ref).await;
    assert_eq!(s, 409, "{again}");
    assert_eq!(again["code"], "INVALID_STATE");

    let got = a.results(&base, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let res = &got[0];
    assert_eq!(res["scanRef"], scan_ref.as_str());
    assert_eq!(res["final"], true);
    assert_eq!(res["event"], "AUTO_FINISHED");
    assert_eq!(res["status"]["overall"], "APPROVED");
    assert_eq!(res["clientId"], "c-1");

    // Kiosk B never sees it.
    assert!(b
        .results(&base, Duration::from_millis(300))
        .await
        .is_empty());

    // Until acknowledged, it is offered again (a kiosk that crashed loses nothing).
    let again = a.results(&base, Duration::from_secs(1)).await;
    assert_eq!(again.len(), 1);
    let id = res["id"].as_i64().unwrap();
    // B cannot acknowledge A's result.
    let (_, n) = b.ack(&base, &[id]).await;
    assert_eq!(n["acked"], 0);
    let (s, n) = a.ack(&base, &[id]).await;
    assert_eq!((s, n["acked"].as_u64()), (200, Some(1)));
    assert!(a
        .results(&base, Duration::from_millis(200))
        .await
        .is_empty());

    // /status is one question about the kiosk's own verification.
    let (s, st) = a.status(&base, &scan_ref).await;
    assert_eq!(s, 200, "{st}");
    assert_eq!(st["status"], "APPROVED");

    // The audit trail has the steps and no names.
    let audit = support::scalar_i64(
        &db,
        &format!("SELECT count(*) FROM audit WHERE scan_ref = '{scan_ref}' AND event IN ('token_created','process_accepted','webhook_auto_finished','result_delivered','result_acked')"),
    )
    .await;
    assert_eq!(audit, 5);
    r.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handoff_tokens_carry_a_digit_string_and_the_auth_token() {
    let db = shared().fresh_database();
    let r = relay(&db, None, |_| {}).await;
    let k = enrol(&db, "kiosk", None).await;
    let (s, t) = k
        .call(
            &r.url(),
            "POST",
            "/kiosk/v1/handoff",
            Some(json!({"clientId": "c-2"})),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["digitString"].as_str().map(str::len), Some(8), "{t}");
    assert!(t["authToken"].as_str().is_some_and(|a| !a.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_rate_limit_and_branch_client_id_rule_are_enforced() {
    let db = shared().fresh_database();
    let r = relay(&db, None, |s| s.token_limit_per_hour = 3).await;
    let base = r.url();
    let k = enrol(&db, "kiosk", Some("kaunas")).await;
    {
        let pool = kyc_kiosk_relay::db::connect(&db, 1).await.unwrap();
        kyc_kiosk_relay::kiosks::set_branch_rule(&pool, "kaunas", Some("KA-"))
            .await
            .unwrap();
    }
    let (s, e) = k.token(&base, "VI-1").await;
    assert_eq!(s, 403, "{e}");
    assert_eq!(e["code"], "INVALID_INPUT");
    let (s, _) = k.token(&base, "KA-1").await;
    assert_eq!(s, 200);
    let (s, _) = k.token(&base, "KA-2").await;
    assert_eq!(s, 200);
    // The fourth request this hour (the refused one counted too).
    let (s, e) = k.token(&base, "KA-3").await;
    assert_eq!(s, 429, "{e}");
    assert_eq!(e["code"], "RATE_LIMITED");
    // The limit lives in the database: a second instance enforces the same count.
    let r2 = relay(&db, None, |s| s.token_limit_per_hour = 3).await;
    let (s, _) = k.token(&r2.url(), "KA-4").await;
    assert_eq!(s, 429);
}

/// `/status` goes to iDenfy, which restricts accounts that poll: past the
/// hourly limit a kiosk gets 429 with `Retry-After` (the end of the window),
/// the refusal is audited, and another kiosk is not affected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_questions_are_limited_per_kiosk_and_hour() {
    let db = shared().fresh_database();
    let r = relay(&db, None, |s| s.status_limit_per_hour = 2).await;
    let base = r.url();
    let k = enrol(&db, "kiosk-asks", None).await;
    let other = enrol(&db, "kiosk-quiet", None).await;
    let (_, t) = k.token(&base, "c-s").await;
    let scan_ref = t["scanRef"].as_str().unwrap().to_owned();
    let path = format!("/kiosk/v1/scans/{scan_ref}/status");
    for _ in 0..2 {
        let (s, st) = k.call(&base, "GET", &path, None).await;
        assert_eq!(s, 200, "{st}");
    }
    let resp = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(&k.credential)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    let wait: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    let e: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(e["code"], "RATE_LIMITED", "{e}");
    let limited = support::scalar_i64(
        &db,
        "SELECT count(*) FROM audit WHERE event = 'status_rate_limited'",
    )
    .await;
    assert_eq!(limited, 1);
    // Another kiosk's own scan: its own count.
    let (_, t2) = other.token(&base, "c-q").await;
    let (s, st) = other.status(&base, t2["scanRef"].as_str().unwrap()).await;
    assert_eq!(s, 200, "{st}");
}

/// A submission without an answer is never resent blindly: the relay
/// refuses a second one (409) until the kiosk's `/status` question shows
/// iDenfy never took the images (the sandbox swallowed them: ACTIVE); then
/// the same token goes through, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_process_outcome_is_resent_only_after_status_shows_the_token_unused() {
    let db = shared().fresh_database();
    let mut up = support::fast_sandbox();
    // The sandbox swallows the first /process: no answer, nothing spent.
    up.sandbox.stall_process = 1;
    up.timeout = Duration::from_millis(800);
    let r = relay(&db, Some(up), |_| {}).await;
    let base = r.url();
    let k = enrol(&db, "kiosk", None).await;
    let (_, t) = k.token(&base, "c-3").await;
    let scan_ref = t["scanRef"].as_str().unwrap().to_owned();
    let (s, e) = k.process(&base, &scan_ref).await;
    assert_eq!(s, 504, "{e}");
    assert_eq!(e["code"], "NETWORK");
    assert_eq!(e["outcomeUnknown"], true, "{e}");
    let (s, e) = k.process(&base, &scan_ref).await;
    assert_eq!(s, 409, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("never resend"),
        "{e}"
    );
    let unknown = support::scalar_i64(
        &db,
        &format!("SELECT count(*) FROM scan WHERE scan_ref = '{scan_ref}' AND process_state = 'unknown' AND auth_token IS NOT NULL"),
    )
    .await;
    assert_eq!(unknown, 1);
    assert!(r
        .metrics()
        .render()
        .contains("kyc_relay_upstream_errors_total{class=\"network\"} 1"));
    // The kiosk asks: still ACTIVE, nothing arrived. Now it may resend.
    let (s, st) = k.status(&base, &scan_ref).await;
    assert_eq!(s, 200, "{st}");
    assert_eq!(st["status"], "ACTIVE", "{st}");
    let (s, e) = k.process(&base, &scan_ref).await;
    assert_eq!(s, 200, "{e}");
    assert_eq!(e["outcome"], "ACCEPTED", "{e}");
    let (s, _) = k.process(&base, &scan_ref).await;
    assert_eq!(s, 409, "accepted: never again");
    let reopened = support::scalar_i64(
        &db,
        &format!("SELECT count(*) FROM audit WHERE scan_ref = '{scan_ref}' AND event = 'process_unknown_token_unused'"),
    )
    .await;
    assert_eq!(reopened, 1);
}

// Regression: images over the core client's body limit (refused before
// anything is sent upstream) were answered 502 as if iDenfy had failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_submission_is_413_and_the_token_stays_usable() {
    use base64::Engine as _;
    let db = shared().fresh_database();
    let r = relay(&db, None, |_| {}).await;
    let base = r.url();
    let k = enrol(&db, "kiosk-big", None).await;
    let (s, t) = k.token(&base, "c-big").await;
    assert_eq!(s, 200, "{t}");
    let scan_ref = t["scanRef"].as_str().unwrap().to_owned();

    // 15 MB of image is 20 MB of base64: over the client's 20 MB limit once
    // the JSON headroom is counted, under the relay's own body limit.
    let big = base64::engine::general_purpose::STANDARD.encode(vec![0xAB_u8; 15_000_000]);
    assert!(big.len() + 1024 < kyc_kiosk_relay::api::PROCESS_BODY);
    let (s, e) = k
        .call(
            &base,
            "POST",
            &format!("/kiosk/v1/scans/{scan_ref}/process"),
            Some(json!({"country": "LT", "documentType": "ID_CARD",
                        "images": {"FRONT": big, "BACK": "YmFjaw=="}, "skipAnalysis": true})),
        )
        .await;
    assert_eq!(s, 413, "{e}");
    assert_eq!(e["code"], "INVALID_INPUT");
    assert!(
        e["message"].as_str().unwrap().contains("smaller images"),
        "{e}"
    );
    assert!(
        !r.metrics()
            .render()
            .contains("kyc_relay_upstream_errors_total{"),
        "not an upstream error:\n{}",
        r.metrics().render()
    );

    // Nothing left the relay: the same token takes a submission that fits.
    let (s, p) = k.process(&base, &scan_ref).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["outcome"], "ACCEPTED");
}

// A token that asks for a proof of address: the relay forwards the step to
// iDenfy, refuses (through the sandbox, as iDenfy does) a `/process`
// without UTILITY_BILL and leaves the token usable, then relays the one
// that carries it to a final result. A bill for a token that asked for
// none is refused the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_utility_bill_token_needs_the_bill_and_gets_a_final_result() {
    use base64::Engine as _;
    let db = shared().fresh_database();
    let r = relay(&db, None, |_| {}).await;
    let base = r.url();
    let k = enrol(&db, "kiosk-bill", None).await;
    let b64 = base64::engine::general_purpose::STANDARD;
    let body = |bill: bool| {
        let mut images = json!({"FRONT": b64.encode(b"front"), "BACK": b64.encode(b"back")});
        if bill {
            images["UTILITY_BILL"] = json!(b64.encode(b"bill"));
        }
        json!({"country": "LT", "documentType": "ID_CARD", "images": images, "skipAnalysis": true})
    };
    let token = |bill: bool| {
        let mut t =
            json!({"clientId": "c-bill", "tokenType": "DOCUMENT", "dummyStatus": "APPROVED"});
        if bill {
            t["utilityBill"] = json!(true);
        }
        t
    };
    let process = |scan_ref: &str| format!("/kiosk/v1/scans/{scan_ref}/process");

    // No bill asked for, one sent: refused, nothing spent.
    let (s, t) = k
        .call(&base, "POST", "/kiosk/v1/tokens", Some(token(false)))
        .await;
    assert_eq!(s, 200, "{t}");
    let plain = t["scanRef"].as_str().unwrap().to_owned();
    let (s, e) = k
        .call(&base, "POST", &process(&plain), Some(body(true)))
        .await;
    assert_eq!(s, 422, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("UTILITY_BILL"),
        "{e}"
    );

    // A bill asked for, none sent: refused, and the token still usable.
    let (s, t) = k
        .call(&base, "POST", "/kiosk/v1/tokens", Some(token(true)))
        .await;
    assert_eq!(s, 200, "{t}");
    let scan_ref = t["scanRef"].as_str().unwrap().to_owned();
    let (s, e) = k
        .call(&base, "POST", &process(&scan_ref), Some(body(false)))
        .await;
    assert_eq!(s, 422, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("'UTILITY_BILL'"),
        "{e}"
    );
    let (s, p) = k
        .call(&base, "POST", &process(&scan_ref), Some(body(true)))
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["outcome"], "ACCEPTED");

    let got = k.results(&base, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["scanRef"], scan_ref.as_str());
    assert_eq!(got[0]["final"], true);
    assert_eq!(got[0]["status"]["overall"], "APPROVED");
    let refused = support::scalar_i64(
        &db,
        &format!("SELECT count(*) FROM audit WHERE scan_ref = '{scan_ref}' AND event = 'process_refused'"),
    )
    .await;
    assert_eq!(refused, 1);
    r.shutdown().await;
}
