//! The presence table: every client's heartbeat record (the pure state machine in
//! `heart_core::presence`), in a sharded concurrent map keyed by a keyed hash of the client
//! id, with live per-state counts for the `heart_clients` gauge.
//!
//! Clients are keyed by a 64-bit SipHash of their id under a random per-process key: 32 bytes
//! per client instead of an owned string, and ids cannot be chosen to collide (the chance of
//! an accidental collision among a million clients is about 3·10⁻⁸).

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::time::Instant;

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;
use heart_core::presence::{BeatEffect, ClientRecord, ClientState, PresencePolicy, SweepEffect};
use heart_core::{AlertThreshold, Bpm};

/// Clients tracked at most; beats from new clients beyond it are refused.
pub const DEFAULT_MAX_CLIENTS: usize = 1 << 21;

/// A client's key in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(u64);

/// Why a beat was not recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PresenceError {
    /// The table holds its maximum and the client is new.
    #[error("presence table is full ({max} clients); try again after idle clients expire")]
    Full {
        /// The maximum.
        max: usize,
    },
}

/// Counts of clients by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StateCounts {
    /// Online clients.
    pub online: u64,
    /// Weak clients.
    pub weak: u64,
    /// Offline clients.
    pub offline: u64,
}

impl StateCounts {
    /// The count for `state`.
    pub fn get(&self, state: ClientState) -> u64 {
        match state {
            ClientState::Online => self.online,
            ClientState::Weak => self.weak,
            ClientState::Offline => self.offline,
        }
    }

    /// All tracked clients.
    pub fn total(&self) -> u64 {
        self.online + self.weak + self.offline
    }
}

/// The presence table.
#[derive(Debug)]
pub struct Presence {
    clients: DashMap<ClientKey, ClientRecord>,
    ids: RandomState,
    /// Clients per state, indexed by `ClientState::index`; changed under the shard lock of the
    /// client that moved, so they always add up to the table's size.
    counts: [AtomicI64; 3],
    alert_threshold: AtomicU32,
    policy: PresencePolicy,
    max_clients: usize,
    epoch: Instant,
}

impl Default for Presence {
    fn default() -> Self {
        Self::new(PresencePolicy::default(), DEFAULT_MAX_CLIENTS)
    }
}

impl Presence {
    /// An empty table.
    pub fn new(policy: PresencePolicy, max_clients: usize) -> Self {
        Self {
            clients: DashMap::new(),
            ids: RandomState::new(),
            counts: Default::default(),
            alert_threshold: AtomicU32::new(AlertThreshold::DEFAULT.get()),
            policy,
            max_clients,
            epoch: Instant::now(),
        }
    }

    /// The table's clock: milliseconds since it was made.
    pub fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The key for a client id.
    pub fn key(&self, client: &str) -> ClientKey {
        ClientKey(self.ids.hash_one(client))
    }

    /// Consecutive overdue beats that make a client offline (from the live config).
    pub(crate) fn set_alert_threshold(&self, threshold: AlertThreshold) {
        self.alert_threshold
            .store(threshold.get(), Ordering::Relaxed);
    }

    /// The threshold in use.
    pub fn alert_threshold(&self) -> AlertThreshold {
        AlertThreshold::new(self.alert_threshold.load(Ordering::Relaxed))
            .unwrap_or(AlertThreshold::DEFAULT)
    }

    /// Records beat `seq` at `bpm` from `client`, arriving at `now_ms`.
    pub fn beat(
        &self,
        client: ClientKey,
        seq: u64,
        bpm: Bpm,
        now_ms: u64,
    ) -> Result<BeatEffect, PresenceError> {
        match self.clients.entry(client) {
            Entry::Occupied(mut entry) => {
                let effect = entry.get_mut().beat(seq, bpm, now_ms, &self.policy);
                if let BeatEffect::Accepted {
                    from: Some(from),
                    to,
                    ..
                } = effect
                {
                    self.moved(from, to);
                }
                Ok(effect)
            }
            Entry::Vacant(entry) => {
                if self.len() >= self.max_clients as u64 {
                    return Err(PresenceError::Full {
                        max: self.max_clients,
                    });
                }
                let (record, effect) = ClientRecord::first(seq, bpm, now_ms);
                self.counts[record.state.index()].fetch_add(1, Ordering::Relaxed);
                entry.insert(record);
                Ok(effect)
            }
        }
    }

    /// Re-evaluates every client at `now_ms` (overdue beats weaken them; silence past the
    /// expiry forgets them). Returns how many were forgotten.
    pub fn sweep(&self, now_ms: u64) -> u64 {
        let threshold = self.alert_threshold();
        let mut expired = 0;
        self.clients.retain(
            |_, record| match record.sweep(now_ms, threshold, &self.policy) {
                SweepEffect::Keep { from, to } => {
                    self.moved(from, to);
                    true
                }
                SweepEffect::Expire { state } => {
                    self.counts[state.index()].fetch_sub(1, Ordering::Relaxed);
                    expired += 1;
                    false
                }
            },
        );
        expired
    }

    /// A client's current state, if it is tracked.
    pub fn state(&self, client: ClientKey) -> Option<ClientState> {
        self.clients.get(&client).map(|r| r.state)
    }

    /// Clients by state.
    pub fn counts(&self) -> StateCounts {
        let read = |s: ClientState| {
            u64::try_from(self.counts[s.index()].load(Ordering::Relaxed)).unwrap_or(0)
        };
        StateCounts {
            online: read(ClientState::Online),
            weak: read(ClientState::Weak),
            offline: read(ClientState::Offline),
        }
    }

    /// Clients tracked.
    pub fn len(&self) -> u64 {
        self.counts().total()
    }

    /// Whether no client is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn moved(&self, from: ClientState, to: ClientState) {
        if from != to {
            self.counts[from.index()].fetch_sub(1, Ordering::Relaxed);
            self.counts[to.index()].fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bpm(n: u16) -> Bpm {
        Bpm::new(n).expect("in range")
    }

    fn table() -> Presence {
        Presence::new(
            PresencePolicy {
                late_tolerance: 0.25,
                expire_after_ms: 60_000,
            },
            3,
        )
    }

    #[test]
    fn counts_follow_transitions_driven_by_a_controlled_clock() {
        let p = table();
        let (a, b) = (p.key("a"), p.key("b"));
        assert_ne!(a, b);
        p.beat(a, 0, bpm(60), 0).expect("room");
        p.beat(b, 0, bpm(60), 0).expect("room");
        assert_eq!(
            p.counts(),
            StateCounts {
                online: 2,
                weak: 0,
                offline: 0
            }
        );
        // b keeps beating; a falls silent.
        for (seq, t) in [(1, 1_000), (2, 2_000), (3, 3_000), (4, 4_000)] {
            p.beat(b, seq, bpm(60), t).expect("tracked");
            p.sweep(t + 1);
        }
        assert_eq!(p.state(a), Some(ClientState::Offline));
        assert_eq!(
            p.counts(),
            StateCounts {
                online: 1,
                weak: 0,
                offline: 1
            }
        );
        // A late beat from b makes it weak.
        p.beat(b, 5, bpm(60), 5_600).expect("tracked");
        assert_eq!(
            p.counts(),
            StateCounts {
                online: 0,
                weak: 1,
                offline: 1
            }
        );
        // a expires after 60 s of silence; b keeps beating past it.
        for seq in 6..=66 {
            p.beat(b, seq, bpm(60), 5_600 + (seq - 5) * 1_000)
                .expect("tracked");
        }
        assert_eq!(p.sweep(66_000), 1);
        assert_eq!(p.state(a), None);
        assert_eq!(
            p.counts(),
            StateCounts {
                online: 1,
                weak: 0,
                offline: 0
            }
        );
    }

    #[test]
    fn the_live_alert_threshold_decides_offline() {
        let p = table();
        let a = p.key("a");
        p.beat(a, 0, bpm(60), 0).expect("room");
        p.sweep(2_300);
        assert_eq!(p.state(a), Some(ClientState::Weak));
        p.set_alert_threshold(AlertThreshold::new(2).expect("in range"));
        p.sweep(2_300);
        assert_eq!(p.state(a), Some(ClientState::Offline));
    }

    #[test]
    fn a_full_table_refuses_new_clients_but_serves_known_ones() {
        let p = table();
        for id in ["a", "b", "c"] {
            p.beat(p.key(id), 0, bpm(60), 0).expect("room");
        }
        assert_eq!(
            p.beat(p.key("d"), 0, bpm(60), 0),
            Err(PresenceError::Full { max: 3 })
        );
        assert!(p.beat(p.key("a"), 1, bpm(60), 1_000).is_ok());
        assert_eq!(p.len(), 3);
    }

    #[test]
    fn concurrent_beats_keep_the_counts_consistent() {
        let p = std::sync::Arc::new(Presence::new(PresencePolicy::default(), 1 << 20));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let p = p.clone();
                std::thread::spawn(move || {
                    for i in 0..5_000u64 {
                        let key = p.key(&format!("client-{}", i % 1_000 + t * 1_000));
                        // Every fifth beat is late, flipping clients between online and weak.
                        let at = i / 1_000 * 1_000 + if i % 5 == 0 { 900 } else { 0 };
                        let _ = p.beat(key, i / 1_000, Bpm::DEFAULT, at);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("no panic");
        }
        let counts = p.counts();
        assert_eq!(counts.total(), 4_000);
        let recount =
            ClientState::ALL.map(|s| p.clients.iter().filter(|r| r.state == s).count() as u64);
        assert_eq!(recount, [counts.online, counts.weak, counts.offline]);
    }
}
