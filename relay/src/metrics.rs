//! The relay's counters, in the Prometheus text format (`GET /metrics`).
//! Per instance: a scraper sums the instances. Labels never carry a scanRef,
//! a client ID or a kiosk name.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the delivery-latency histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
];

/// Counters shared by the handlers of one instance.
#[derive(Debug, Default)]
pub struct Metrics {
    webhooks_received: AtomicU64,
    webhooks_refused: Mutex<BTreeMap<&'static str, u64>>,
    deliveries: AtomicU64,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    kiosks_connected: AtomicI64,
    upstream_errors: Mutex<BTreeMap<String, u64>>,
}

fn bump<K: Ord>(m: &Mutex<BTreeMap<K, u64>>, k: K) {
    *m.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(k)
        .or_default() += 1;
}

impl Metrics {
    /// A signed webhook was stored (duplicates are refusals).
    pub fn webhook_received(&self) {
        self.webhooks_received.fetch_add(1, Ordering::Relaxed);
    }

    /// A webhook was refused; `reason` is one of a fixed set.
    pub fn webhook_refused(&self, reason: &'static str) {
        bump(&self.webhooks_refused, reason);
    }

    /// A result was handed to its kiosk, `latency` after the webhook arrived.
    pub fn delivered(&self, latency: Duration) {
        self.deliveries.fetch_add(1, Ordering::Relaxed);
        let s = latency.as_secs_f64();
        for (b, c) in BUCKETS.iter().zip(&self.latency_buckets) {
            if s <= *b {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros.fetch_add(
            u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// A kiosk started (`+1`) or ended (`-1`) a long poll on this instance.
    pub fn connected(&self, delta: i64) {
        self.kiosks_connected.fetch_add(delta, Ordering::Relaxed);
    }

    /// An upstream call failed; `class` is the core's error code.
    pub fn upstream_error(&self, err: &kyc_kiosk::idenfy::Error) {
        let class = serde_json::to_value(err.code())
            .ok()
            .and_then(|v| v.as_str().map(str::to_ascii_lowercase))
            .unwrap_or_else(|| "other".to_owned());
        bump(&self.upstream_errors, class);
    }

    /// Deliveries so far (tests and the load run read it).
    #[must_use]
    pub fn deliveries(&self) -> u64 {
        self.deliveries.load(Ordering::Relaxed)
    }

    /// The text exposition.
    #[must_use]
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# HELP kyc_relay_webhooks_received_total Signed webhooks stored."
        );
        let _ = writeln!(s, "# TYPE kyc_relay_webhooks_received_total counter");
        let _ = writeln!(
            s,
            "kyc_relay_webhooks_received_total {}",
            self.webhooks_received.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            s,
            "# HELP kyc_relay_webhooks_refused_total Webhooks refused, by reason."
        );
        let _ = writeln!(s, "# TYPE kyc_relay_webhooks_refused_total counter");
        for (k, v) in self
            .webhooks_refused
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(s, "kyc_relay_webhooks_refused_total{{reason=\"{k}\"}} {v}");
        }
        let _ = writeln!(
            s,
            "# HELP kyc_relay_deliveries_total Results handed to kiosks."
        );
        let _ = writeln!(s, "# TYPE kyc_relay_deliveries_total counter");
        let _ = writeln!(
            s,
            "kyc_relay_deliveries_total {}",
            self.deliveries.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            s,
            "# HELP kyc_relay_delivery_latency_seconds From webhook received to result handed to the kiosk."
        );
        let _ = writeln!(s, "# TYPE kyc_relay_delivery_latency_seconds histogram");
        for (b, c) in BUCKETS.iter().zip(&self.latency_buckets) {
            let _ = writeln!(
                s,
                "kyc_relay_delivery_latency_seconds_bucket{{le=\"{b}\"}} {}",
                c.load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(
            s,
            "kyc_relay_delivery_latency_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        #[allow(clippy::cast_precision_loss)]
        let sum = self.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(s, "kyc_relay_delivery_latency_seconds_sum {sum}");
        let _ = writeln!(s, "kyc_relay_delivery_latency_seconds_count {count}");
        let _ = writeln!(
            s,
            "# HELP kyc_relay_kiosks_connected Kiosks long-polling this instance now."
        );
        let _ = writeln!(s, "# TYPE kyc_relay_kiosks_connected gauge");
        let _ = writeln!(
            s,
            "kyc_relay_kiosks_connected {}",
            self.kiosks_connected.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            s,
            "# HELP kyc_relay_upstream_errors_total Failed iDenfy calls, by error class."
        );
        let _ = writeln!(s, "# TYPE kyc_relay_upstream_errors_total counter");
        for (k, v) in self
            .upstream_errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(s, "kyc_relay_upstream_errors_total{{class=\"{k}\"}} {v}");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_text_is_prometheus_shaped() {
        let m = Metrics::default();
        m.delivered(Duration::from_millis(3));
        m.delivered(Duration::from_millis(200));
        m.webhook_refused("signature");
        m.webhook_refused("signature");
        m.connected(1);
        let t = m.render();
        assert!(
            t.contains("kyc_relay_delivery_latency_seconds_bucket{le=\"0.005\"} 1\n"),
            "{t}"
        );
        assert!(
            t.contains("kyc_relay_delivery_latency_seconds_bucket{le=\"0.25\"} 2\n"),
            "{t}"
        );
        assert!(
            t.contains("kyc_relay_delivery_latency_seconds_bucket{le=\"+Inf\"} 2\n"),
            "{t}"
        );
        assert!(
            t.contains("kyc_relay_webhooks_refused_total{reason=\"signature\"} 2\n"),
            "{t}"
        );
        assert!(t.contains("kyc_relay_kiosks_connected 1\n"), "{t}");
        assert!(t.contains("kyc_relay_deliveries_total 2\n"), "{t}");
    }
}
