//! What `demo`, `handoff` and `verify` share: print each screen once, and
//! report the final view as text, JSON and an exit code.

use std::time::Duration;

use kyc_kiosk::session::{Handle, Screen, View};

use crate::exit::Exit;

/// Prints each new screen summary (not every countdown tick) and returns
/// when `done` holds or `wait` runs out (`None`).
pub async fn follow(
    handle: &Handle,
    wait: Duration,
    quiet: bool,
    mut on_view: impl FnMut(&View),
    done: impl Fn(&View) -> bool,
) -> Option<View> {
    let mut rx = handle.subscribe();
    let mut last = String::new();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let view = rx.borrow_and_update().clone();
        // Countdowns change every second: print a screen once, not each tick.
        let line = View {
            seconds_left: None,
            ..view.clone()
        }
        .summary();
        if line != last {
            if !quiet {
                eprintln!("· {line}");
            }
            last = line;
            on_view(&view);
        }
        if done(&view) {
            return Some(view);
        }
        match tokio::time::timeout_at(deadline, rx.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => return None,
        }
    }
}

/// Exit code of a finished flow (`None`: no result in time).
pub fn exit_code(view: Option<&View>) -> Exit {
    let Some(v) = view else {
        return Exit::NoResult;
    };
    if v.screen == Screen::Result && v.result.as_ref().is_some_and(|r| r.final_) {
        return Exit::Success;
    }
    Exit::of_error(v.error.as_ref().map(|e| e.code))
}

/// How a flow ended, for the terminal: the human summary, with `json` the
/// result object on stdout too, or that nothing came within `wait_secs`.
/// Returns the exit code.
pub fn report(end: Option<&View>, client_id: &str, json: bool, wait_secs: u64) -> Exit {
    match end {
        Some(v) => {
            print_result(v, json);
            if json {
                println!("{}", result_json(v, client_id));
            }
        }
        None => eprintln!("No result within {wait_secs} s."),
    }
    exit_code(end)
}

/// The final result as one JSON object (the `verify --json` fields).
pub fn result_json(v: &View, client_id: &str) -> serde_json::Value {
    let r = v.result.as_ref();
    let tags = |t: Option<&Vec<kyc_kiosk::session::view::TagView>>| -> Vec<String> {
        t.map(|t| t.iter().map(|x| x.code.clone()).collect())
            .unwrap_or_default()
    };
    serde_json::json!({
        "scanRef": v.scan_ref,
        "clientId": client_id,
        "status": r.map(|r| r.status.clone()),
        "final": r.is_some_and(|r| r.final_),
        "autoDocument": r.and_then(|r| r.auto_document.clone()),
        "autoFace": r.and_then(|r| r.auto_face.clone()),
        "manualDocument": r.and_then(|r| r.manual_document.clone()),
        "manualFace": r.and_then(|r| r.manual_face.clone()),
        "fraudTags": tags(r.map(|r| &r.fraud_tags)),
        "mismatchTags": tags(r.map(|r| &r.mismatch_tags)),
        "error": v.error.as_ref().map(|e| serde_json::json!({"code": e.code, "message": e.message})),
    })
}

/// A human summary of a result, for the terminal: on stdout, or on stderr
/// when stdout carries `--json`.
pub fn print_result(v: &View, json: bool) {
    macro_rules! println {
        ($($t:tt)*) => {
            if json { eprintln!($($t)*) } else { std::println!($($t)*) }
        };
    }
    let Some(r) = &v.result else {
        if let Some(e) = &v.error {
            eprintln!("[{}] {}", e.code, e.message);
        }
        return;
    };
    println!();
    println!("  RESULT: {}", r.status);
    println!("  {}", r.headline);
    println!("  {}", r.advice);
    for (title, tags) in [
        ("Fraud flags", &r.fraud_tags),
        ("Data that does not match", &r.mismatch_tags),
    ] {
        if !tags.is_empty() {
            println!("  {title}:");
            for t in tags {
                println!("    - {} ({})", t.text, t.code);
            }
        }
    }
    if let Some(d) = &r.document {
        println!("  Document check: {d}");
    }
    if let Some(f) = &r.face {
        println!("  Face check: {f}");
    }
    if let Some(s) = &v.scan_ref {
        println!("  scanRef: {s}");
    }
}

/// A multi-threaded runtime for a command (the kiosk runs camera and
/// network work side by side).
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // Threads for blocking work (camera waits, encoding) leave after
        // 1 s idle rather than 10 s: a soak's sample then sees the kiosk's
        // own threads, not the last session's helpers.
        .thread_keep_alive(std::time::Duration::from_secs(1))
        .enable_all()
        .build()?)
}

/// The backend a command talks to, for its first line: the embedded
/// sandbox, the back office ("connected as NAME" or why not) or the
/// configured API.
pub async fn backend(kiosk: &kyc_kiosk::session::Kiosk) -> String {
    if let Some(link) = kiosk.back_office_checked().await {
        link.describe()
    } else if kiosk.is_sandbox() {
        "SANDBOX (embedded)".into()
    } else {
        "configured API".into()
    }
}
