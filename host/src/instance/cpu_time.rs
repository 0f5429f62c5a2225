//! The CPU time a guest spends: the calling thread's CPU clock read around every poll of the
//! future that runs it (the guest runs inside those polls, on its fiber, with the host calls it
//! makes), summed per instance for `heart_wasm_guest_cpu_seconds`. Two clock reads per poll;
//! a request polls its guest a few times.

use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// CPU time charged so far (shareable: the future it meters may be sent between threads).
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

/// CPU time this thread has used.
fn thread_cpu() -> Duration {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

/// `future`, charging the CPU time of each of its polls to `meter` (so what it spent counts even
/// when it is dropped unfinished: a stream whose client hung up, a request out of time).
pub(crate) async fn metered<F: Future>(future: F, meter: &CpuMeter) -> F::Output {
    let mut future = pin!(future);
    std::future::poll_fn(|cx| {
        let start = thread_cpu();
        let poll = future.as_mut().poll(cx);
        meter.charge(thread_cpu().saturating_sub(start));
        poll
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_future_is_charged_and_an_idle_one_is_not() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime");
        let busy = CpuMeter::default();
        // Spins until this thread has run 30 ms of CPU, however loaded the machine is.
        runtime.block_on(metered(
            async {
                let start = thread_cpu();
                while thread_cpu() - start < Duration::from_millis(30) {
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
}
