//! The time a guest spends on a worker thread: the monotonic clock read around every poll of
//! the future that runs it (the guest runs inside those polls, on its fiber, with the host calls
//! it makes), summed per instance for `heart_wasm_guest_cpu_seconds`. That is the guest's CPU
//! time unless the thread was preempted mid-poll (on an overloaded node it then counts the wait
//! too). The thread's own CPU clock would not, but reading it is a system call here (no vDSO),
//! where the monotonic clock is read in ≈ 25 ns. Measured (server CPU per `/heart.svg` over
//! 8 interleaved rounds, medians, against the build before this meter): reused 22.0 µs with it,
//! 22.0 without; fresh 50.0 with, 54.5 without — nothing beyond the rounds' spread.
//!
//! A WASI 0.3 instance runs inside `wasmtime-wasi-http`'s worker tasks, whose polls are not
//! ours to wrap: its store's call hook runs a [`WasmClock`] instead, read as the guest enters
//! and leaves its own code — its time in Wasm, host calls excluded (a host call may suspend
//! the guest's fiber, and a suspended guest is not running).

use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Time charged so far (shareable: the future it meters may be sent between threads).
#[derive(Debug, Default)]
pub(crate) struct CpuMeter(AtomicU64);

impl CpuMeter {
    /// The time charged.
    pub(crate) fn spent(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }

    fn charge(&self, time: Duration) {
        let nanos = u64::try_from(time.as_nanos()).unwrap_or(u64::MAX);
        self.0.fetch_add(nanos, Ordering::Relaxed);
    }
}

/// `future`, charging the time each of its polls takes to `meter` (so what it spent counts even
/// when it is dropped unfinished: a stream whose client hung up, a request out of time).
pub(crate) async fn metered<F: Future>(future: F, meter: &CpuMeter) -> F::Output {
    let mut future = pin!(future);
    std::future::poll_fn(|cx| {
        let start = Instant::now();
        let poll = future.as_mut().poll(cx);
        meter.charge(start.elapsed());
        poll
    })
    .await
}

/// Time in a guest's own code, from its store's call hook: started as the host calls into
/// Wasm or returns to it, stopped as Wasm returns or calls the host.
#[derive(Debug, Default)]
pub(crate) struct WasmClock {
    since: Option<Instant>,
    spent: Duration,
}

impl WasmClock {
    /// The guest runs its own code from now.
    pub(crate) fn enter(&mut self) {
        self.since = Some(Instant::now());
    }

    /// The guest stopped running its own code (it returned or called the host).
    pub(crate) fn leave(&mut self) {
        if let Some(since) = self.since.take() {
            self.spent += since.elapsed();
        }
    }

    /// The time counted.
    pub(crate) fn spent(&self) -> Duration {
        self.spent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_future_is_charged_and_a_waiting_one_is_not() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime");
        let busy = CpuMeter::default();
        // Spins for 30 ms inside one poll.
        runtime.block_on(metered(
            async {
                let start = Instant::now();
                while start.elapsed() < Duration::from_millis(30) {
                    std::hint::black_box(0u64);
                }
            },
            &busy,
        ));
        let idle = CpuMeter::default();
        runtime.block_on(metered(
            async { tokio::time::sleep(Duration::from_millis(30)).await },
            &idle,
        ));
        assert!(
            busy.spent() >= Duration::from_millis(30),
            "{:?}",
            busy.spent()
        );
        assert!(
            idle.spent() < Duration::from_millis(5),
            "{:?}",
            idle.spent()
        );
    }

    #[test]
    fn the_wasm_clock_counts_between_enter_and_leave_only() {
        let mut clock = WasmClock::default();
        clock.leave();
        assert_eq!(clock.spent(), Duration::ZERO, "a leave without an enter");
        clock.enter();
        std::thread::sleep(Duration::from_millis(20));
        clock.leave();
        std::thread::sleep(Duration::from_millis(20));
        clock.leave();
        let spent = clock.spent();
        assert!(
            (Duration::from_millis(20)..Duration::from_millis(40)).contains(&spent),
            "{spent:?}"
        );
    }
}
