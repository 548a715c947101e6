//! Auto-capture: take the photo by itself once the preview has been good and
//! steady for a moment, after a visible countdown. Pure: fed one live quality
//! result per preview frame (good or not, and where the document or face is)
//! with the time, it says what to show and when to fire.
//!
//! "Steady" is measured on the outline, not on the image checks alone: every
//! frame of a run must overlap the run's first outline by [`STEADY_IOU`] or
//! more. Comparing with the first frame, not the previous one, catches a slow
//! drift that moves a little per frame but a lot overall.
//!
//! The live verdict comes from the camera pipeline's analysis thread, which
//! judges the newest frame whenever it is free: a preview's verdict may be
//! on an earlier frame (one analysis behind, about 10–40 ms on the kiosk).
//! That is fine for the overlay and the countdown, but a verdict whose frame
//! was captured more than [`MAX_VERDICT_AGE`] before the preview's (the
//! analyser stalled, the machine is overloaded) counts as not good: the run
//! starts over rather than fire on what the camera saw a while ago. The still
//! itself is checked again at full resolution whatever the live verdict said.

use std::time::Duration;

use super::types::Millis;
use crate::framing::Outline;

/// The least overlap (intersection over union) with the run's first outline
/// for the document or face to count as held still.
pub const STEADY_IOU: f32 = 0.95;

/// The oldest a live verdict may be, measured from its frame's capture to
/// the capture of the preview it comes with, for the auto-capture to count it.
pub const MAX_VERDICT_AGE: Duration = Duration::from_millis(200);

/// Whether a verdict `age` behind its preview may count as good.
#[must_use]
pub fn fresh(age: Duration) -> bool {
    age <= MAX_VERDICT_AGE
}

/// Timing of the auto-capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoConfig {
    /// How long frames must be good in a row before the countdown starts.
    pub steady_ms: u64,
    /// The visible countdown before the photo is taken.
    pub countdown_ms: u64,
}

impl Default for AutoConfig {
    /// Half a second held still, then a one-second countdown: the
    /// countdown's "1" is on screen long enough to read and to keep still
    /// for, and the whole wait stays under two seconds (the outline must
    /// stay in place through both).
    fn default() -> Self {
        Self {
            steady_ms: 500,
            countdown_ms: 1_000,
        }
    }
}

/// What the capture screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoState {
    /// The frame is not good: no countdown.
    Idle,
    /// Good, but not yet for long enough.
    Steadying,
    /// Counting down; whole seconds left (shown).
    Counting { secs_left: u32 },
    /// Take the photo now (reported once).
    Fire,
}

/// Tracks good frames in a row for one side.
#[derive(Debug, Clone, Default)]
pub struct AutoCapture {
    config: AutoConfig,
    good_since: Option<Millis>,
    /// The outline of the run's first frame.
    anchor: Option<Outline>,
    counting_since: Option<Millis>,
    fired: bool,
    /// Photos taken automatically since this side began: each one the
    /// still check refused brought the customer back here.
    fires: u32,
}

/// Automatic photos of one side before auto-capture stops for it: a frame
/// the live check passes but the full-resolution check keeps refusing (a
/// glossy card under a lamp) would otherwise fire every few seconds for
/// ever, each shot holding off the idle reset of a kiosk left alone. *Take
/// photo* stays.
pub const MAX_FIRES_PER_SIDE: u32 = 3;

impl AutoCapture {
    #[must_use]
    pub fn new(config: AutoConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// Start over (the photo was taken): a new run, same side.
    pub fn reset(&mut self) {
        self.good_since = None;
        self.anchor = None;
        self.counting_since = None;
        self.fired = false;
    }

    /// A new side (or a retake of one from the review): a new run, and
    /// [`MAX_FIRES_PER_SIDE`] automatic photos again.
    pub fn new_side(&mut self) {
        self.reset();
        self.fires = 0;
    }

    /// One preview frame: `good` when the live check passed and a capture is
    /// possible now; `outline` where the document or face is. A bad frame, or
    /// one whose outline has moved from the run's first, cancels the
    /// countdown (a moved frame starts a new run).
    pub fn observe(&mut self, good: bool, outline: Option<Outline>, now: Millis) -> AutoState {
        if self.fired || self.fires >= MAX_FIRES_PER_SIDE {
            return AutoState::Idle;
        }
        if !good {
            self.good_since = None;
            self.anchor = None;
            self.counting_since = None;
            return AutoState::Idle;
        }
        let held = match (self.anchor, outline) {
            (Some(a), Some(o)) => a.iou(&o) >= STEADY_IOU,
            (None, None) => true,
            _ => false,
        };
        if self.good_since.is_some() && !held {
            // Moved: this frame starts a new run.
            self.good_since = None;
            self.counting_since = None;
        }
        if self.good_since.is_none() {
            self.anchor = outline;
        }
        let since = *self.good_since.get_or_insert(now);
        if now.saturating_sub(since) < self.config.steady_ms {
            return AutoState::Steadying;
        }
        let start = *self.counting_since.get_or_insert(now);
        let elapsed = now.saturating_sub(start);
        if elapsed >= self.config.countdown_ms {
            self.fired = true;
            self.fires += 1;
            return AutoState::Fire;
        }
        let left = self.config.countdown_ms - elapsed;
        AutoState::Counting {
            secs_left: u32::try_from(left.div_ceil(1000)).unwrap_or(u32::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Photos refused one after the other (each a reset, same side): after
    /// the third automatic one, no more for this side; a new side starts
    /// the count again.
    #[test]
    fn auto_capture_stops_after_three_photos_of_one_side() {
        let mut a = AutoCapture::new(AutoConfig {
            steady_ms: 500,
            countdown_ms: 1000,
        });
        let mut t = 0;
        let mut fire = |a: &mut AutoCapture| {
            // Good frames every 100 ms until it fires (or 10 s pass).
            for _ in 0..100 {
                t += 100;
                if a.observe(true, None, t) == AutoState::Fire {
                    return true;
                }
            }
            false
        };
        for n in 0..MAX_FIRES_PER_SIDE {
            assert!(fire(&mut a), "photo {n}");
            a.reset();
        }
        assert!(!fire(&mut a), "a fourth automatic photo of the same side");
        a.new_side();
        assert!(fire(&mut a), "the next side");
    }

    fn run(frames: &[(bool, Millis)]) -> Vec<AutoState> {
        let mut a = AutoCapture::new(AutoConfig {
            steady_ms: 500,
            countdown_ms: 2000,
        });
        frames.iter().map(|&(g, t)| a.observe(g, None, t)).collect()
    }

    /// A card-shaped outline moved right by `dx` (share of the frame).
    fn card(dx: f32) -> Outline {
        let (x0, x1, y0, y1) = (0.2 + dx, 0.8 + dx, 0.2, 0.7);
        Outline([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    }

    /// Frames every 100 ms with the default timing (500 ms steady, 1000 ms
    /// countdown), all good, the outline at `at(i)`.
    fn run_outlines(n: u64, at: impl Fn(u64) -> Outline) -> Vec<AutoState> {
        let mut a = AutoCapture::new(AutoConfig::default());
        (0..n)
            .map(|i| a.observe(true, Some(at(i)), i * 100))
            .collect()
    }

    #[test]
    fn a_verdict_more_than_200_ms_behind_its_preview_is_not_fresh() {
        assert!(fresh(Duration::ZERO));
        assert!(fresh(Duration::from_millis(200)));
        assert!(!fresh(Duration::from_millis(201)));
    }

    #[test]
    fn the_default_is_half_a_second_steady_and_a_one_second_countdown() {
        assert_eq!(
            AutoConfig::default(),
            AutoConfig {
                steady_ms: 500,
                countdown_ms: 1000
            }
        );
    }

    #[test]
    fn a_still_outline_fires_after_steady_and_countdown() {
        let s = run_outlines(17, |_| card(0.0));
        assert_eq!(s[4], AutoState::Steadying);
        assert_eq!(s[5], AutoState::Counting { secs_left: 1 });
        assert_eq!(s[14], AutoState::Counting { secs_left: 1 });
        assert_eq!(s[15], AutoState::Fire);
        assert_eq!(s[16], AutoState::Idle);
    }

    #[test]
    fn a_slow_drift_never_fires() {
        // 0.4 % of the frame per frame: each frame overlaps the one before
        // by more than 0.98, but the run's first by less than 0.95 after a
        // few frames, so the run keeps starting over.
        let step = 0.004;
        assert!(card(0.0).iou(&card(step)) > 0.98);
        let s = run_outlines(60, |i| card(i as f32 * step));
        assert!(!s.contains(&AutoState::Fire), "{s:?}");
        assert!(
            s.iter().all(|x| !matches!(x, AutoState::Counting { .. })),
            "{s:?}"
        );
    }

    #[test]
    fn a_drift_within_the_overlap_still_fires() {
        // 1 % of the frame overall: the outline still overlaps its start by
        // more than 0.95 (0.59 / 0.61).
        let s = run_outlines(16, |i| card(i as f32 * 0.01 / 15.0));
        assert_eq!(s[15], AutoState::Fire);
    }

    #[test]
    fn moving_during_the_countdown_restarts_the_run() {
        let s = run_outlines(30, |i| if i < 8 { card(0.0) } else { card(0.05) });
        assert!(matches!(s[7], AutoState::Counting { .. }));
        // The jump starts a new run from frame 8: steady again, then counting.
        assert_eq!(s[8], AutoState::Steadying);
        assert_eq!(s[12], AutoState::Steadying);
        assert_eq!(s[13], AutoState::Counting { secs_left: 1 });
        assert_eq!(s[23], AutoState::Fire);
    }

    #[test]
    fn losing_the_outline_or_a_bad_frame_resets() {
        let mut a = AutoCapture::new(AutoConfig::default());
        assert_eq!(a.observe(true, Some(card(0.0)), 0), AutoState::Steadying);
        assert_eq!(
            a.observe(true, Some(card(0.0)), 600),
            AutoState::Counting { secs_left: 1 }
        );
        // The document is gone: a new run (without an outline).
        assert_eq!(a.observe(true, None, 700), AutoState::Steadying);
        assert_eq!(a.observe(true, Some(card(0.0)), 800), AutoState::Steadying);
        assert_eq!(a.observe(false, Some(card(0.0)), 900), AutoState::Idle);
        assert_eq!(a.observe(true, Some(card(0.0)), 1000), AutoState::Steadying);
        assert_eq!(
            a.observe(true, Some(card(0.0)), 1500),
            AutoState::Counting { secs_left: 1 }
        );
        assert_eq!(a.observe(true, Some(card(0.0)), 2500), AutoState::Fire);
    }

    #[test]
    fn steady_good_frames_count_down_then_fire_once() {
        let s = run(&[
            (true, 0),
            (true, 400),
            (true, 500),
            (true, 1400),
            (true, 1600),
            (true, 2500),
            (true, 2600),
        ]);
        assert_eq!(
            s,
            vec![
                AutoState::Steadying,
                AutoState::Steadying,
                AutoState::Counting { secs_left: 2 },
                AutoState::Counting { secs_left: 2 },
                AutoState::Counting { secs_left: 1 },
                AutoState::Fire,
                AutoState::Idle,
            ]
        );
    }

    #[test]
    fn a_bad_frame_cancels_the_countdown() {
        let s = run(&[
            (true, 0),
            (true, 600),
            (false, 700),
            (true, 800),
            (true, 1200),
            (true, 1300),
        ]);
        assert_eq!(s[1], AutoState::Counting { secs_left: 2 });
        assert_eq!(s[2], AutoState::Idle);
        assert_eq!(s[3], AutoState::Steadying);
        assert_eq!(s[4], AutoState::Steadying);
        assert_eq!(s[5], AutoState::Counting { secs_left: 2 });
    }

    #[test]
    fn reset_allows_the_next_side_to_fire() {
        let mut a = AutoCapture::new(AutoConfig {
            steady_ms: 0,
            countdown_ms: 0,
        });
        assert_eq!(a.observe(true, None, 0), AutoState::Fire);
        assert_eq!(a.observe(true, None, 1), AutoState::Idle);
        a.reset();
        assert_eq!(a.observe(true, None, 2), AutoState::Fire);
    }

    #[test]
    fn time_going_backwards_does_not_panic() {
        let s = run(&[(true, 1000), (true, 10), (true, 5000)]);
        assert_eq!(s[1], AutoState::Steadying);
    }
}
