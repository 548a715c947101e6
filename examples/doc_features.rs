//! The content features of the quads the document detector weighs in `Id`
//! mode, for `scripts/detect/fit_content_model.py` (which fits the model's
//! weights on the tuning part of the detection set).
//!
//! `cargo run --release --example doc_features -- IMAGE...` prints one JSON
//! line per image: `{"file", "pool": [{"corners", "features", "log_odds"}, ...]}`, the
//! quads in the order the detector weighs them.

use kyc_kiosk::detect::id_pool_features;
use kyc_kiosk::quality::{decode_bounded, ImageView};

fn main() -> anyhow::Result<()> {
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path)?;
        let d = decode_bounded(&bytes).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
        let view = ImageView::rgb(&d.rgb, d.width, d.height);
        let pool: Vec<_> = id_pool_features(&view)
            .into_iter()
            .map(|q| {
                serde_json::json!({
                    "corners": q.corners, "features": q.features, "log_odds": q.log_odds,
                })
            })
            .collect();
        println!("{}", serde_json::json!({"file": path, "pool": pool}));
    }
    Ok(())
}
