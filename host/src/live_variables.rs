//! A component's resolved variables as requests see them: a snapshot swapped whole on reload,
//! so a later reload changes what new requests see without a restart.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// One component's variables as of one moment: cheap to clone, never changes.
pub type Snapshot = Arc<BTreeMap<String, String>>;

/// A component's current variables, swapped whole on reload.
#[derive(Debug, Default)]
pub struct LiveVariables {
    current: RwLock<Snapshot>,
    generation: std::sync::atomic::AtomicU64,
}

impl LiveVariables {
    /// Starts with `values` as generation 1.
    pub fn new(values: BTreeMap<String, String>) -> Self {
        Self {
            current: RwLock::new(Arc::new(values)),
            generation: 1.into(),
        }
    }

    /// The current values.
    pub fn snapshot(&self) -> Snapshot {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Replaces the values; new requests see them at once.
    pub fn replace(&self, values: BTreeMap<String, String>) -> u64 {
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(values);
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1
    }

    /// How many times the values were set (1 at start).
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_variables_swap_whole_and_count_generations() {
        let live = LiveVariables::new(BTreeMap::from([("a".into(), "1".into())]));
        let before = live.snapshot();
        assert_eq!(live.replace(BTreeMap::from([("a".into(), "2".into())])), 2);
        assert_eq!(before["a"], "1", "old snapshots are unchanged");
        assert_eq!(live.snapshot()["a"], "2");
        assert_eq!(live.generation(), 2);
    }
}
