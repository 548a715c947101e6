//! Shared test helpers: a sandbox on port 0, synthetic images, tiny fake servers.

use std::time::Duration;

use kyc_kiosk::idenfy::{Client, ImageSide};
use kyc_kiosk::quality::synth;
use kyc_kiosk::sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A sandbox on a free loopback port, fast results.
pub async fn sandbox(cfg: SandboxConfig) -> (SandboxHandle, Client) {
    let sb = Sandbox::start(SandboxConfig {
        auto_delay: Duration::from_millis(50),
        manual_delay: Duration::from_millis(100),
        webhook_backoff: Duration::from_millis(50),
        ..cfg
    })
    .await
    .unwrap();
    let client = sb.client().unwrap();
    (sb, client)
}

/// A demo camera picture: the sandbox looks for a document (or counts the
/// faces) in what it is sent, so synthetic patterns no longer pass.
fn demo(file: &str) -> Vec<u8> {
    std::fs::read(kyc_kiosk::camera::demo::default_dir().join(file)).unwrap()
}

pub fn front() -> Vec<u8> {
    demo("front.jpg")
}

pub fn back() -> Vec<u8> {
    demo("back.jpg")
}

pub fn face() -> Vec<u8> {
    demo("face.jpg")
}

/// The demo utility bill: an A4 page on the desk.
pub fn bill() -> Vec<u8> {
    demo("bill.jpg")
}

/// A sharp picture that is neither a document nor a face.
pub fn pattern() -> Vec<u8> {
    synth::jpeg(&synth::sharp(1000, 630))
}

pub fn id_card_images() -> Vec<(ImageSide, Vec<u8>)> {
    vec![
        (ImageSide::Front, front()),
        (ImageSide::Back, back()),
        (ImageSide::Face, face()),
    ]
}

/// An API that must not be called: a raw server answering 500 to anything,
/// and the number of requests it got.
pub async fn untouched_api() -> (
    String,
    tokio::task::JoinHandle<()>,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let h = hits.clone();
    let (base, task) = raw_server(false, move |_| {
        h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Some(json_answer("500 Internal Server Error", "{}", ""))
    })
    .await;
    (base, task, hits)
}

/// A raw HTTP/1.1 server on port 0: for each connection it reads the request
/// head (and up to `Content-Length` body bytes when `read_body`) and calls
/// `respond(path)`, which returns the raw answer (after an optional delay)
/// or `None` to drop the connection without answering.
pub async fn raw_server<F>(read_body: bool, respond: F) -> (String, tokio::task::JoinHandle<()>)
where
    F: Fn(&str) -> Option<(Duration, String)> + Send + Sync + 'static,
{
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    let respond = std::sync::Arc::new(respond);
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = l.accept().await else {
                return;
            };
            let respond = respond.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 65536];
                let head_end = loop {
                    let n = match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break p + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("").to_owned();
                if read_body {
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    while buf.len() < head_end + len {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                }
                match respond(&path) {
                    Some((delay, answer)) => {
                        tokio::time::sleep(delay).await;
                        let _ = sock.write_all(answer.as_bytes()).await;
                        let _ = sock.shutdown().await;
                    }
                    None => drop(sock),
                }
            });
        }
    });
    (base, task)
}

/// An immediate HTTP answer with a JSON body.
pub fn json_answer(status: &str, body: &str, extra_headers: &str) -> (Duration, String) {
    (Duration::ZERO, format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra_headers}\r\n{body}",
        body.len()
    ))
}
