//! An instance's resource limits, and what its memory did under them: the largest size its
//! linear memory reached and how often it grew — for the `heart_wasm_guest_memory_*` metrics
//! when the instance ends.

use wasmtime::{ResourceLimiter, StoreLimits};

/// [`StoreLimits`] (the memory cap) plus the memory's figures.
#[derive(Debug)]
pub struct GuestLimits {
    limits: StoreLimits,
    memory: MemoryUse,
}

/// What a store's linear memory did: sizes in bytes (the largest memory, where a store has
/// several).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryUse {
    /// The largest size it reached (its initial size where it never grew).
    pub high_water: usize,
    /// `memory.grow` calls that succeeded after it was created.
    pub grows: u64,
}

impl GuestLimits {
    /// Figures start at zero; `limits` decides every request.
    pub fn new(limits: StoreLimits) -> Self {
        Self {
            limits,
            memory: MemoryUse::default(),
        }
    }

    /// What the memory did so far.
    pub fn memory(&self) -> MemoryUse {
        self.memory
    }
}

impl ResourceLimiter for GuestLimits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if allowed {
            // Wasmtime asks with `current == 0` when it creates a memory: not a grow.
            if current != 0 {
                self.memory.grows += 1;
            }
            self.memory.high_water = self.memory.high_water.max(desired);
        }
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::StoreLimitsBuilder;

    /// Asks `guest` to take its memory from `current` to `desired` bytes.
    fn grow(guest: &mut GuestLimits, current: usize, desired: usize) -> bool {
        guest
            .memory_growing(current, desired, None)
            .expect("StoreLimits answers, it does not trap, below its cap")
    }

    fn limits(cap: usize) -> GuestLimits {
        GuestLimits::new(
            StoreLimitsBuilder::new()
                .memory_size(cap)
                .trap_on_grow_failure(false)
                .build(),
        )
    }

    #[test]
    fn creation_sets_the_high_water_and_later_grows_are_counted() {
        let mut guest = limits(10 << 16);
        assert!(grow(&mut guest, 0, 2 << 16));
        assert!(grow(&mut guest, 2 << 16, 3 << 16));
        assert!(grow(&mut guest, 3 << 16, 5 << 16));
        assert_eq!(
            guest.memory(),
            MemoryUse {
                high_water: 5 << 16,
                grows: 2
            }
        );
    }

    #[test]
    fn a_refused_grow_changes_no_figure() {
        let mut guest = limits(4 << 16);
        assert!(grow(&mut guest, 0, 2 << 16));
        assert!(!grow(&mut guest, 2 << 16, 8 << 16));
        assert_eq!(
            guest.memory(),
            MemoryUse {
                high_water: 2 << 16,
                grows: 0
            }
        );
    }
}
