//! Auto-capture: take the photo by itself once the preview has been good and
//! steady for a moment, after a visible countdown. Pure: fed one live quality
//! result per preview frame with the time, it says what to show and when to fire.

use super::types::Millis;

/// Timing of the auto-capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoConfig {
    /// How long frames must be good in a row before the countdown starts.
    pub steady_ms: u64,
    /// The visible countdown before the photo is taken.
    pub countdown_ms: u64,
}

impl Default for AutoConfig {
    fn default() -> Self {
        Self {
            steady_ms: 600,
            countdown_ms: 2_000,
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
    counting_since: Option<Millis>,
    fired: bool,
}

impl AutoCapture {
    #[must_use]
    pub fn new(config: AutoConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// Start over (a new side, a retake, or the photo was taken).
    pub fn reset(&mut self) {
        self.good_since = None;
        self.counting_since = None;
        self.fired = false;
    }

    /// One preview frame: `good` when the live check passed and a capture is
    /// possible now. A bad frame cancels the countdown.
    pub fn observe(&mut self, good: bool, now: Millis) -> AutoState {
        if self.fired {
            return AutoState::Idle;
        }
        if !good {
            self.good_since = None;
            self.counting_since = None;
            return AutoState::Idle;
        }
        let since = *self.good_since.get_or_insert(now);
        if now.saturating_sub(since) < self.config.steady_ms {
            return AutoState::Steadying;
        }
        let start = *self.counting_since.get_or_insert(now);
        let elapsed = now.saturating_sub(start);
        if elapsed >= self.config.countdown_ms {
            self.fired = true;
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

    fn run(frames: &[(bool, Millis)]) -> Vec<AutoState> {
        let mut a = AutoCapture::new(AutoConfig {
            steady_ms: 500,
            countdown_ms: 2000,
        });
        frames.iter().map(|&(g, t)| a.observe(g, t)).collect()
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
        assert_eq!(a.observe(true, 0), AutoState::Fire);
        assert_eq!(a.observe(true, 1), AutoState::Idle);
        a.reset();
        assert_eq!(a.observe(true, 2), AutoState::Fire);
    }

    #[test]
    fn time_going_backwards_does_not_panic() {
        let s = run(&[(true, 1000), (true, 10), (true, 5000)]);
        assert_eq!(s[1], AutoState::Steadying);
    }
}
