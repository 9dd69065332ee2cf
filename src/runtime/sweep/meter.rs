//! [`Meter`]: how the first sweeper of a run tells whether sharing the
//! sweep pays (see [`super`], "When sharing pays"). It times the cursor's
//! advance over *windows* of at least [`WINDOW`], each either *solo* (no
//! helper sweeping) or *shared* (one or more), and says to dismiss the
//! helpers when a shared window advanced less than [`GAIN`] times as
//! fast as the recent solo windows did at best (the best rate, decaying
//! by [`SOLO_DECAY`] per solo window: a single window is short enough for
//! one interruption to halve its rate, and a slow solo window must not
//! make sharing look good). After a dismissal it invites
//! nobody for a *pause*: the failed window's length, doubled with every
//! dismissal in a row, at most [`MAX_PAUSE_FACTOR`] times it, so that a
//! stretch of the graph where sharing does not pay costs at most a ninth
//! of its time shared, and one where it does pay is shared again soon.
//!
//! Everything here is the first sweeper's own state, moved with it when it
//! parks; it decides no hand-off (a dismissed helper leaves as one that
//! waited too often does), so it needs no ordering. Under loom the clock
//! gives no durations (see [`crate::sync::Instant`]), so the meter never
//! dismisses and never holds back an invitation there: the models explore
//! the sweep's hand-offs as before, with the helpers' Relaxed loads of the
//! dismissal flag besides.

use std::time::Duration;

use crate::sync::Instant;

/// The shortest window: long against the wake-up of an invited helper
/// (tens of microseconds in a virtual machine) and the chunk a helper has
/// claimed but not yet processed (about twice [`super::FAST_CHUNK`] at
/// most, unless one body is longer), short against a run worth sharing.
const WINDOW: Duration = Duration::from_micros(250);

/// A shared window must advance the cursor at least this many times as
/// fast as the best recent solo window for the helpers to stay. Two workers on
/// long bodies gain 1.8–1.95× (`BENCHMARKS.md`); on empty bodies sharing
/// gains 1.0–1.15× at best, less than the second worker's cost elsewhere.
const GAIN: f64 = 1.3;

/// How much of the best solo rate is kept when the next solo window is
/// slower: the baseline follows a graph that gets dearer per task within
/// about ten solo windows.
const SOLO_DECAY: f64 = 0.9;

/// The longest pause after a dismissal, in multiples of the failed window.
const MAX_PAUSE_FACTOR: u32 = 8;

/// The first sweeper's measurements (module docs).
#[derive(Clone, Debug)]
pub(super) struct Meter {
    /// The best recent solo rate, in tasks per nanosecond.
    solo: Option<f64>,
    /// The window being measured.
    window: Window,
    /// Dismissals since sharing last paid.
    dismissals: u32,
    /// Whether helpers were dismissed and some are still counted in: no
    /// window is measured and nobody invited until they left.
    dismissing: bool,
    /// Whether the dismissal ended (every helper left) since the sweeper
    /// last asked (see [`Meter::take_dismissal_end`]).
    dismissal_ended: bool,
    /// No invitation until this much time passed since the instant.
    pause: Option<(Instant, Duration)>,
}

#[derive(Clone, Debug)]
struct Window {
    start: Instant,
    /// The cursor when the window started.
    cursor: u32,
    shared: bool,
}

impl Meter {
    /// A meter whose first window starts at `now`, at cursor 0, solo.
    pub(super) fn new(now: Instant) -> Self {
        Meter {
            solo: None,
            window: Window {
                start: now,
                cursor: 0,
                shared: false,
            },
            dismissals: 0,
            dismissing: false,
            dismissal_ended: false,
            pause: None,
        }
    }

    /// Whether the first sweeper may invite a helper at `now`: once a solo
    /// window measured what sweeping alone achieves, not while dismissed
    /// helpers are still counted in (a helper invited then would be neither
    /// measured nor dismissed), and not during a pause.
    pub(super) fn may_invite(&mut self, now: Instant) -> bool {
        if cfg!(taskflow_loom) {
            return true;
        }
        if self.dismissing {
            return false;
        }
        if let Some((since, length)) = self.pause {
            if now.duration_since(since) < length {
                return false;
            }
            self.pause = None;
        }
        self.solo.is_some()
    }

    /// At a claim of the first sweeper at `now` that moved the cursor to
    /// `cursor`, with `shared` whether a helper is counted in: ends the window
    /// if it is long enough, or starts a new one if it changed between
    /// solo and shared, and returns whether the helpers are to leave.
    pub(super) fn at_claim(&mut self, now: Instant, cursor: u32, shared: bool) -> bool {
        if cfg!(taskflow_loom) {
            return false;
        }
        if self.dismissing {
            if !shared {
                self.dismissing = false;
                self.dismissal_ended = true;
                self.start_window(now, cursor, false);
            }
            return false;
        }
        let elapsed = now.duration_since(self.window.start);
        if shared != self.window.shared {
            self.start_window(now, cursor, shared);
            return false;
        }
        if elapsed < WINDOW {
            return false;
        }
        let rate = f64::from(cursor - self.window.cursor) / elapsed.as_nanos() as f64;
        let dismiss = match (self.window.shared, self.solo) {
            (false, _) => {
                self.solo = Some(self.solo.map_or(rate, |best| rate.max(best * SOLO_DECAY)));
                false
            }
            (true, Some(solo)) => {
                let pays = rate >= GAIN * solo;
                if pays {
                    self.dismissals = 0;
                } else {
                    let factor = (1u32 << self.dismissals.min(31)).min(MAX_PAUSE_FACTOR);
                    self.dismissals += 1;
                    self.pause = Some((now, elapsed * factor));
                    self.dismissing = true;
                }
                !pays
            }
            // No solo window to compare with: cannot happen, since
            // `may_invite` invites only after one; sharing is kept.
            (true, None) => false,
        };
        self.start_window(now, cursor, shared);
        dismiss
    }

    /// Whether every dismissed helper left since the last call: then the
    /// first sweeper withdraws the dismissal (see
    /// [`super::Sweep::end_dismissal`]), so that later helpers stay.
    pub(super) fn take_dismissal_end(&mut self) -> bool {
        std::mem::take(&mut self.dismissal_ended)
    }

    fn start_window(&mut self, now: Instant, cursor: u32, shared: bool) {
        self.window = Window {
            start: now,
            cursor,
            shared,
        };
    }
}

#[cfg(all(test, not(taskflow_loom)))]
mod tests {
    use super::*;

    /// A meter that measured a solo window of 1,000 tasks in 250 µs, and
    /// the instant that window ended.
    fn after_solo_window() -> (Meter, Instant) {
        let start = Instant::now();
        let mut meter = Meter::new(start);
        assert!(!meter.may_invite(start), "no solo rate yet");
        let now = start + WINDOW;
        assert!(!meter.at_claim(now, 1_000, false));
        assert!(meter.may_invite(now));
        (meter, now)
    }

    #[test]
    fn sharing_that_pays_is_kept() {
        let (mut meter, now) = after_solo_window();
        assert!(!meter.at_claim(now, 1_000, true), "a new shared window");
        // 1.9 times the solo rate.
        assert!(!meter.at_claim(now + WINDOW, 2_900, true));
        assert!(meter.may_invite(now + WINDOW));
    }

    #[test]
    fn sharing_that_does_not_pay_is_dismissed_then_paused() {
        let (mut meter, now) = after_solo_window();
        assert!(!meter.at_claim(now, 1_000, true));
        // 1.1 times the solo rate: below the gain asked for.
        let end = now + WINDOW;
        assert!(meter.at_claim(end, 2_100, true));
        assert!(!meter.may_invite(end), "paused");
        // The helper has not left yet: nothing is measured meanwhile.
        assert!(!meter.at_claim(end + WINDOW, 2_500, true));
        // Past the pause, but the helper is still counted in.
        assert!(!meter.may_invite(end + WINDOW * 2), "still dismissing");
        assert!(!meter.take_dismissal_end());
        assert!(!meter.at_claim(end + WINDOW, 2_500, false));
        assert!(meter.take_dismissal_end(), "the helper left");
        assert!(!meter.take_dismissal_end(), "reported once");
        // The first pause lasts as long as the failed window.
        assert!(!meter.may_invite(end + WINDOW / 2));
        assert!(meter.may_invite(end + WINDOW * 2));
    }

    #[test]
    fn pauses_double_up_to_their_cap() {
        let (mut meter, mut now) = after_solo_window();
        let mut cursor = 1_000;
        for factor in [1, 2, 4, 8, 8] {
            assert!(!meter.at_claim(now, cursor, true));
            now += WINDOW;
            cursor += 1_000;
            assert!(meter.at_claim(now, cursor, true), "as fast as alone");
            assert!(!meter.at_claim(now, cursor, false), "the helper left");
            assert!(!meter.may_invite(now + WINDOW * factor - WINDOW / 10));
            now += WINDOW * factor;
            assert!(meter.may_invite(now), "after {factor} windows");
        }
    }
}
