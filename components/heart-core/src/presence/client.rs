//! One client's presence record and its transitions.
//!
//! A client beats at its bpm, so after a beat at `t` with sequence `s` its beat `s + k` is due
//! at `t + k·interval`. Against that schedule:
//! - **online**: the last beat came on time (within the late tolerance) and followed the
//!   previous one without a gap;
//! - **weak**: the last beat was late beyond the tolerance, skipped sequence numbers, or at
//!   least one beat is overdue now;
//! - **offline**: `alert_threshold` consecutive beats are overdue.
//!
//! A beat can only improve a client's state (to online or weak); the sweep can only worsen it,
//! and forgets clients silent for longer than the expiry.

use serde::Serialize;

use crate::config::{AlertThreshold, Bpm};

/// A client's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientState {
    /// Beating on schedule.
    Online,
    /// Late, gapped or one or more beats overdue.
    Weak,
    /// `alert_threshold` consecutive beats overdue.
    Offline,
}

impl ClientState {
    /// Every state, in gauge order.
    pub const ALL: [ClientState; 3] = [Self::Online, Self::Weak, Self::Offline];

    /// The lower-case name, as in the `heart_clients{state}` label.
    pub fn name(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Weak => "weak",
            Self::Offline => "offline",
        }
    }

    /// Position in [`ClientState::ALL`].
    pub fn index(self) -> usize {
        match self {
            Self::Online => 0,
            Self::Weak => 1,
            Self::Offline => 2,
        }
    }
}

/// How strict presence is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PresencePolicy {
    /// How late a beat may be, as a fraction of the client's beat interval, and still count as
    /// on time.
    pub late_tolerance: f64,
    /// A client silent this long (milliseconds) is forgotten.
    pub expire_after_ms: u64,
}

impl Default for PresencePolicy {
    fn default() -> Self {
        Self {
            late_tolerance: 0.25,
            expire_after_ms: 10 * 60 * 1000,
        }
    }
}

/// What the host keeps per client (24 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientRecord {
    /// When the last accepted beat arrived, in milliseconds on the host's clock.
    pub last_ms: u64,
    /// Its sequence number.
    pub seq: u64,
    /// The client's beat interval at that beat, in milliseconds.
    pub interval_ms: u32,
    /// The current state.
    pub state: ClientState,
}

/// What a beat did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeatEffect {
    /// The beat was recorded.
    Accepted {
        /// The state before (`None` for a new client).
        from: Option<ClientState>,
        /// The state now.
        to: ClientState,
        /// How late it came against the schedule (`None` for a client's first beat).
        late_ms: Option<u64>,
        /// Sequence numbers skipped since the previous beat.
        missed: u64,
    },
    /// Its sequence number was not after the last one (a duplicate or a reordered request);
    /// nothing changed.
    Stale {
        /// The unchanged state.
        state: ClientState,
    },
}

/// What the sweep did to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepEffect {
    /// The record stays, possibly in a worse state.
    Keep {
        /// The state before.
        from: ClientState,
        /// The state now.
        to: ClientState,
    },
    /// The client was silent past the expiry: forget it.
    Expire {
        /// Its last state.
        state: ClientState,
    },
}

/// Milliseconds between beats at `bpm`.
fn interval_ms(bpm: Bpm) -> u32 {
    60_000 / u32::from(bpm.get())
}

impl ClientRecord {
    /// The record for a client's first beat (online).
    pub fn first(seq: u64, bpm: Bpm, now_ms: u64) -> (Self, BeatEffect) {
        let record = Self {
            last_ms: now_ms,
            seq,
            interval_ms: interval_ms(bpm),
            state: ClientState::Online,
        };
        let effect = BeatEffect::Accepted {
            from: None,
            to: ClientState::Online,
            late_ms: None,
            missed: 0,
        };
        (record, effect)
    }

    /// Applies a beat `seq` at `bpm` arriving at `now_ms`.
    pub fn beat(&mut self, seq: u64, bpm: Bpm, now_ms: u64, policy: &PresencePolicy) -> BeatEffect {
        if seq <= self.seq {
            return BeatEffect::Stale { state: self.state };
        }
        let steps = seq - self.seq;
        let missed = steps - 1;
        let due = self
            .last_ms
            .saturating_add(u64::from(self.interval_ms).saturating_mul(steps));
        let late_ms = now_ms.saturating_sub(due);
        let on_time = late_ms <= self.tolerance_ms(policy);
        let from = self.state;
        let to = if on_time && missed == 0 {
            ClientState::Online
        } else {
            ClientState::Weak
        };
        *self = Self {
            last_ms: self.last_ms.max(now_ms),
            seq,
            interval_ms: interval_ms(bpm),
            state: to,
        };
        BeatEffect::Accepted {
            from: Some(from),
            to,
            late_ms: Some(late_ms),
            missed,
        }
    }

    /// Whole beats overdue at `now_ms`: beat `k` is overdue once it is later than the
    /// tolerance.
    pub fn overdue(&self, now_ms: u64, policy: &PresencePolicy) -> u64 {
        let interval = u64::from(self.interval_ms.max(1));
        let beyond = now_ms
            .saturating_sub(self.last_ms)
            .saturating_sub(self.tolerance_ms(policy));
        // Beats k ≥ 1 with k·interval < beyond.
        beyond.saturating_sub(1) / interval
    }

    /// How late a beat may be and still be on time, in milliseconds.
    fn tolerance_ms(&self, policy: &PresencePolicy) -> u64 {
        (policy.late_tolerance.max(0.0) * f64::from(self.interval_ms)) as u64
    }

    /// Re-evaluates the record at `now_ms`: overdue beats make it weak, `threshold` of them
    /// offline, and silence past the expiry forgets it.
    pub fn sweep(
        &mut self,
        now_ms: u64,
        threshold: AlertThreshold,
        policy: &PresencePolicy,
    ) -> SweepEffect {
        if now_ms.saturating_sub(self.last_ms) > policy.expire_after_ms {
            return SweepEffect::Expire { state: self.state };
        }
        let overdue = self.overdue(now_ms, policy);
        let from = self.state;
        if overdue >= u64::from(threshold.get()) {
            self.state = ClientState::Offline;
        } else if overdue >= 1 && from == ClientState::Online {
            self.state = ClientState::Weak;
        }
        SweepEffect::Keep {
            from,
            to: self.state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: PresencePolicy = PresencePolicy {
        late_tolerance: 0.25,
        expire_after_ms: 60_000,
    };

    fn bpm(n: u16) -> Bpm {
        Bpm::new(n).expect("in range")
    }

    fn threshold(n: u32) -> AlertThreshold {
        AlertThreshold::new(n).expect("in range")
    }

    /// 60 bpm: one beat per 1000 ms, on time up to 250 ms late.
    fn started() -> ClientRecord {
        ClientRecord::first(0, bpm(60), 10_000).0
    }

    #[test]
    fn the_record_is_small() {
        assert!(size_of::<ClientRecord>() <= 24);
    }

    #[test]
    fn on_time_beats_keep_a_client_online() {
        let mut c = started();
        for (seq, at) in [(1, 11_000), (2, 12_240), (3, 13_100)] {
            let effect = c.beat(seq, bpm(60), at, &POLICY);
            assert!(
                matches!(
                    effect,
                    BeatEffect::Accepted {
                        to: ClientState::Online,
                        missed: 0,
                        ..
                    }
                ),
                "{seq}: {effect:?}"
            );
        }
        // The schedule runs from each beat's arrival: 12_240 + 1000 is due at 13_240.
        assert_eq!(
            c.beat(4, bpm(60), 14_100, &POLICY),
            BeatEffect::Accepted {
                from: Some(ClientState::Online),
                to: ClientState::Online,
                late_ms: Some(0),
                missed: 0
            }
        );
    }

    #[test]
    fn a_late_beat_makes_a_client_weak_and_an_on_time_one_brings_it_back() {
        let mut c = started();
        assert_eq!(
            c.beat(1, bpm(60), 11_300, &POLICY),
            BeatEffect::Accepted {
                from: Some(ClientState::Online),
                to: ClientState::Weak,
                late_ms: Some(300),
                missed: 0
            }
        );
        let back = c.beat(2, bpm(60), 12_300, &POLICY);
        assert!(matches!(
            back,
            BeatEffect::Accepted {
                to: ClientState::Online,
                late_ms: Some(0),
                ..
            }
        ));
    }

    #[test]
    fn a_gap_in_sequence_numbers_makes_a_client_weak() {
        let mut c = started();
        // Beat 3 is due at 13_000 and comes on time, but 1 and 2 never came.
        assert_eq!(
            c.beat(3, bpm(60), 13_000, &POLICY),
            BeatEffect::Accepted {
                from: Some(ClientState::Online),
                to: ClientState::Weak,
                late_ms: Some(0),
                missed: 2
            }
        );
    }

    #[test]
    fn duplicate_and_reordered_beats_change_nothing() {
        let mut c = started();
        c.beat(2, bpm(60), 12_000, &POLICY);
        let before = c;
        assert_eq!(
            c.beat(2, bpm(60), 12_010, &POLICY),
            BeatEffect::Stale {
                state: ClientState::Weak
            }
        );
        assert_eq!(
            c.beat(1, bpm(60), 12_020, &POLICY),
            BeatEffect::Stale {
                state: ClientState::Weak
            }
        );
        assert_eq!(c, before);
    }

    #[test]
    fn the_bpm_of_each_beat_sets_the_next_due_time() {
        let mut c = started();
        c.beat(1, bpm(120), 11_000, &POLICY);
        // At 120 bpm the next beat is due 500 ms later; 700 ms is 200 ms late (> 125 ms).
        let effect = c.beat(2, bpm(120), 11_700, &POLICY);
        assert!(matches!(
            effect,
            BeatEffect::Accepted {
                to: ClientState::Weak,
                late_ms: Some(200),
                ..
            }
        ));
    }

    #[test]
    fn the_sweep_counts_overdue_beats_up_to_offline() {
        let mut c = started();
        let t = threshold(3);
        let state_at = |c: &mut ClientRecord, now| match c.sweep(now, t, &POLICY) {
            SweepEffect::Keep { to, .. } => to,
            SweepEffect::Expire { .. } => panic!("expired at {now}"),
        };
        // Beat 1 is due at 11_000 and overdue after 11_250.
        assert_eq!(state_at(&mut c, 11_250), ClientState::Online);
        assert_eq!(state_at(&mut c, 11_251), ClientState::Weak);
        assert_eq!(c.overdue(13_250, &POLICY), 2);
        assert_eq!(state_at(&mut c, 13_250), ClientState::Weak);
        assert_eq!(c.overdue(13_251, &POLICY), 3);
        assert_eq!(state_at(&mut c, 13_251), ClientState::Offline);
        // Coming back: the next beat is weak (it skipped numbers), then online.
        let back = c.beat(20, bpm(60), 30_000, &POLICY);
        assert!(matches!(
            back,
            BeatEffect::Accepted {
                from: Some(ClientState::Offline),
                to: ClientState::Weak,
                ..
            }
        ));
        c.beat(21, bpm(60), 31_000, &POLICY);
        assert_eq!(c.state, ClientState::Online);
    }

    #[test]
    fn the_alert_threshold_sets_when_a_client_goes_offline() {
        let mut strict = started();
        strict.sweep(11_251, threshold(1), &POLICY);
        assert_eq!(strict.state, ClientState::Offline);
        let mut lenient = started();
        lenient.sweep(30_000, threshold(100), &POLICY);
        assert_eq!(lenient.state, ClientState::Weak);
    }

    #[test]
    fn the_sweep_never_improves_a_state_and_forgets_silent_clients() {
        let mut c = started();
        c.beat(1, bpm(60), 11_900, &POLICY); // late: weak
        assert!(matches!(
            c.sweep(11_950, threshold(3), &POLICY),
            SweepEffect::Keep {
                to: ClientState::Weak,
                ..
            }
        ));
        assert_eq!(
            c.sweep(11_900 + 60_001, threshold(3), &POLICY),
            SweepEffect::Expire {
                state: ClientState::Weak
            }
        );
    }

    #[test]
    fn a_clock_that_goes_backwards_does_not_panic_or_rewind() {
        let mut c = started();
        let effect = c.beat(1, bpm(60), 5_000, &POLICY);
        assert!(matches!(
            effect,
            BeatEffect::Accepted {
                late_ms: Some(0),
                ..
            }
        ));
        assert_eq!(c.last_ms, 10_000);
        assert!(matches!(
            c.sweep(0, threshold(3), &POLICY),
            SweepEffect::Keep { .. }
        ));
    }
}
