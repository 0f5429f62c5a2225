//! The Wasmtime engine: component model (WASI 0.2 and 0.3), async, epoch interruption for
//! request time limits, and the pooling allocator with copy-on-write memory initialisation,
//! falling back to on-demand allocation where virtual address space is short (as Spin does).
//! Pattern follows `wasmtime serve` (wasmtime-cli 50 `src/commands/serve.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch ticks; request time limits are whole multiples of it.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Guest memory kept resident per pooled slot and reset with memset when the slot is reused.
pub const KEEP_RESIDENT_BYTES: usize = 2 << 20;

/// Slots whose remaining memory is decommitted together, in one batch of `madvise` calls. A
/// queued slot keeps what its guest touched beyond the kept-resident size until its batch
/// fills, and nothing else flushes a part-filled batch (not `Engine::release_idle_pool_memory`
/// either): after a burst of large renders an idle host holds up to 15 slots' worth per queue
/// shard until about 16 more requests per shard arrive. Unbatched (1), every fresh instance
/// pays its own `madvise` and TLB shootdown: fresh `/heart.svg` fell from 7,800 to 5,800 req/s
/// in `cargo xtask bench` (first rounds of two runs, 2026-12-03).
pub const DECOMMIT_BATCH: usize = 16;

/// Set (to anything) to have Wasmtime write `/tmp/perf-PID.map`, so `perf report` names guest
/// functions (`wasm[0]::function[N]`, or their names in a component built with `strip = false`);
/// set to `jitdump` for a `jit-PID.dump` in the working directory instead, which
/// `perf inject --jit` turns into code `perf annotate` can show instruction by instruction.
pub const PERFMAP_ENV: &str = "HEART_HOST_PERFMAP";

/// Set (to anything) to have every store count the guest's calls into the host, reported per
/// request in `Server-Timing` (`host-calls`): a diagnostic for `cargo xtask bench --explain`,
/// off by default because the count is a call hook on every transition between guest and host.
pub const COUNT_HOST_CALLS_ENV: &str = "HEART_HOST_COUNT_HOST_CALLS";

/// Engine sizing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineOptions {
    /// Use the pooling allocator (falls back to on-demand if it cannot reserve its pool).
    pub pooling: bool,
    /// Component instances the pool holds (and so the most that can run at once).
    pub max_instances: u32,
    /// Largest linear memory a guest may have, in bytes.
    pub max_memory_bytes: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            pooling: true,
            max_instances: 256,
            max_memory_bytes: 64 << 20,
        }
    }
}

/// An engine and whether it pools instances.
#[derive(Debug, Clone)]
pub struct HostEngine {
    /// The engine.
    pub engine: Engine,
    /// Whether the pooling allocator is in use.
    pub pooling: bool,
}

/// The component model with epochs and copy-on-write memory; with `concurrent`, also the
/// component-model async features and concurrency support WASI 0.3 needs.
fn base_config(concurrent: bool) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.wasm_component_model_async(concurrent);
    config.concurrency_support(concurrent);
    config.epoch_interruption(true);
    config.memory_init_cow(true);
    if let Some(value) = std::env::var_os(PERFMAP_ENV) {
        config.profiler(if value == "jitdump" {
            wasmtime::ProfilingStrategy::JitDump
        } else {
            wasmtime::ProfilingStrategy::PerfMap
        });
    }
    config
}

/// Builds the engine, with the concurrency support WASI 0.3 components need when `concurrent`
/// (it slows WASI 0.2 components' host calls and instantiation, so it is off otherwise); with
/// pooling requested but unavailable, logs why and uses on-demand allocation instead.
pub fn build(options: EngineOptions, concurrent: bool) -> wasmtime::Result<HostEngine> {
    if options.pooling {
        let mut pool = PoolingAllocationConfig::default();
        // A component here has a few core instances, memories and tables each.
        let n = options.max_instances;
        pool.total_component_instances(n)
            .total_core_instances(n.saturating_mul(4))
            .total_memories(n.saturating_mul(2))
            .total_tables(n.saturating_mul(4))
            .total_stacks(n)
            .max_memories_per_component(4)
            .max_memory_size(options.max_memory_bytes)
            // A fresh /heart.svg dirties 28 KiB of guest memory (issue 37; the test
            // `a_fresh_heart_svg_dirties_at_most_64_kib_of_guest_memory` holds it under
            // 64 KiB): resetting that with memset (only the pages actually touched, found with
            // PAGEMAP_SCAN; Wasmtime 50.0.1 also zeroed every never-touched page on kernels
            // that report those as written) is cheaper than madvise + page faults + TLB
            // shootdowns on every fresh instance.
            .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
            .table_keep_resident(64 << 10)
            .pagemap_scan(wasmtime::Enabled::Auto)
            .decommit_batch_size(DECOMMIT_BATCH);
        let mut config = base_config(concurrent);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        match Engine::new(&config) {
            Ok(engine) => {
                tracing::info!(
                    max_instances = n,
                    concurrent,
                    "engine ready: pooling allocator"
                );
                return Ok(HostEngine {
                    engine,
                    pooling: true,
                });
            }
            Err(e) => tracing::warn!(
                error = %e,
                "pooling allocator unavailable (virtual address space?); using on-demand allocation"
            ),
        }
    }
    let engine = Engine::new(&base_config(concurrent))?;
    tracing::info!(concurrent, "engine ready: on-demand allocator");
    Ok(HostEngine {
        engine,
        pooling: false,
    })
}

/// A background thread that advances the engine's epoch every [`EPOCH_TICK`]; stops on drop.
#[derive(Debug)]
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    /// Starts ticking `engine`.
    pub fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .expect("spawning a thread at start-up succeeds");
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Epoch ticks that make up `timeout` (at least one).
pub(crate) fn ticks(timeout: Duration) -> u64 {
    (timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64
}
