//! The signals that end a server: SIGTERM (the kubelet, containerd) and SIGINT (a terminal).

/// Resolves on SIGTERM or SIGINT. The handlers are installed by this call (inside the
/// runtime), not when the future is first polled: a signal sent as soon as the server says it
/// listens must not meet the default action (death, exit status by signal) because the accept
/// loop had not polled this future yet.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term =
        signal(SignalKind::terminate()).expect("installing a SIGTERM handler succeeds at start-up");
    let mut interrupt =
        signal(SignalKind::interrupt()).expect("installing a SIGINT handler succeeds at start-up");
    async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received"),
            _ = interrupt.recv() => tracing::info!("SIGINT received"),
        }
    }
}
