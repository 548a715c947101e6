//! Figures for the API path against the embedded sandbox, over real HTTP on
//! loopback: the time from token creation to the final signed webhook, for
//! typical stills and for the largest set capture can produce (three 4K
//! frames of noise, sized at capture by `camera::encode_still`).
//!
//! `cargo run --release --example sandbox_roundtrip [ROUNDS]`

use std::time::{Duration, Instant};

use kyc_kiosk::camera::{encode_still, Frame, SubmissionLimits};
use kyc_kiosk::idenfy::webhook::{self, ResultStore};
use kyc_kiosk::idenfy::{DocumentType, ImageSide, ProcessRequest, TokenRequest, TokenType};
use kyc_kiosk::quality::synth;
use kyc_kiosk::sandbox::{Sandbox, SandboxConfig};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let store = ResultStore::new();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}{}", l.local_addr()?, webhook::PATH);
    let sb = Sandbox::start(SandboxConfig {
        webhook_url: Some(url),
        auto_delay: Duration::ZERO,
        ..SandboxConfig::default()
    })
    .await?;
    let _srv = webhook::serve(l, Some(sb.signing_key().clone()), store.clone())?;
    let c = sb.client()?;

    let small = vec![
        (ImageSide::Front, synth::jpeg(&synth::sharp(1280, 800))),
        (ImageSide::Back, synth::jpeg(&synth::sharp(1280, 800))),
        (ImageSide::Face, synth::jpeg(&synth::sharp(720, 960))),
    ];
    let big = [ImageSide::Front, ImageSide::Back, ImageSide::Face]
        .into_iter()
        .zip(1..)
        .map(|(side, seed)| {
            let noise = synth::noise(3840, 2160, seed).into_raw();
            let frame = Frame::new(noise, 3840, 2160, 1, Instant::now())?;
            Ok((
                side,
                encode_still(&frame, SubmissionLimits::default())?
                    .jpeg
                    .to_vec(),
            ))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    for (name, images, skip) in [
        ("typical JPEGs", &small, false),
        ("4K noise stills sized at capture", &big, true),
    ] {
        let mut times = Vec::new();
        for i in 0..rounds {
            let start = Instant::now();
            let t = c
                .create_token(&TokenRequest::new(format!("bench-{i}")))
                .await?;
            // The receiver keeps results only for scanRefs it was told of.
            store.register(&t.scan_ref);
            c.process(&ProcessRequest {
                scan_ref: t.scan_ref.clone(),
                token: t.auth_token,
                token_type: TokenType::Identification,
                country: "LT".into(),
                document_type: Some(DocumentType::IdCard),
                images: images.clone(),
                skip_analysis: skip,
            })
            .await?;
            store
                .wait_final(&t.scan_ref, Duration::from_secs(30))
                .await
                .ok_or_else(|| anyhow::anyhow!("no result"))?;
            store.forget(&t.scan_ref);
            times.push(start.elapsed());
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{name}: {rounds} rounds token->process->final webhook: median {:.1} ms, p90 {:.1} ms, max {:.1} ms",
            ms(times[rounds / 2]),
            ms(times[(rounds * 9 / 10).min(rounds - 1)]),
            ms(times[rounds - 1])
        );
    }
    Ok(())
}
