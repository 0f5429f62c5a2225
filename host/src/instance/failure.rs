//! Why a component gave no response, in one place: how a failed call, a failed `ProxyHandler`
//! worker or a missing response is classified, and how each kind is logged, counted in
//! `heart_wasm_guest_failures_total` and answered.

use std::time::Duration;

use hyper::{Response, StatusCode};
use wasmtime_wasi_http::WasiBody;
use wasmtime_wasi_http::handler::{ExpirationError, InstantiationError};

use crate::metrics::Metrics;
use crate::response::error;
use crate::runtime::engine::EPOCH_TICK;

/// The kinds of guest failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The guest ran past its time limit (epoch deadline or the request timer).
    Timeout,
    /// No instance could be made (e.g. the pool is exhausted).
    Instantiation,
    /// The guest trapped, ran out of memory, or never produced a whole response.
    Trap,
}

impl FailureKind {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Instantiation => "instantiation",
            Self::Trap => "trap",
        }
    }

    /// The status the client gets.
    pub fn status(self) -> StatusCode {
        match self {
            Self::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Self::Instantiation => StatusCode::SERVICE_UNAVAILABLE,
            Self::Trap => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the client is told.
    pub fn message(self) -> &'static str {
        match self {
            Self::Timeout => "the component did not answer within its time limit",
            Self::Instantiation => "the component could not be instantiated",
            Self::Trap => "the component failed while handling the request",
        }
    }
}

/// A request the component did not answer, and Wasmtime's account of why.
#[derive(Debug)]
pub struct GuestFailure {
    /// What kind of failure.
    pub kind: FailureKind,
    /// The underlying error, with its causes.
    pub error: wasmtime::Error,
}

impl GuestFailure {
    /// A failure of `kind` caused by `error`.
    pub fn new(kind: FailureKind, error: wasmtime::Error) -> Self {
        Self { kind, error }
    }

    /// No instance could be made.
    pub fn instantiation(error: wasmtime::Error) -> Self {
        Self::new(FailureKind::Instantiation, error)
    }

    /// The guest gave no whole response within `limit`.
    pub fn out_of_time(limit: Duration) -> Self {
        Self::new(
            FailureKind::Timeout,
            wasmtime::format_err!("no response within {limit:?}"),
        )
    }

    /// The guest returned without a whole, well-formed response (`why`).
    pub fn no_response(why: impl std::fmt::Display) -> Self {
        Self::new(FailureKind::Trap, wasmtime::format_err!("{why}"))
    }

    /// A failure of a call into the guest: a trap from the epoch deadline is a timeout, any
    /// other error a trap.
    pub fn from_call(error: wasmtime::Error) -> Self {
        let kind = match error.downcast_ref::<wasmtime::Trap>() {
            Some(wasmtime::Trap::Interrupt) => FailureKind::Timeout,
            _ => FailureKind::Trap,
        };
        Self { kind, error }
    }

    /// A failure of a `ProxyHandler` worker (WASI 0.3) that ran for `took` under
    /// `request_timeout`. A guest stopped by the epoch deadline surfaces there only as "no
    /// response" (its trap ends the worker's task), so a failure that took the whole time limit
    /// counts as a timeout (epochs tick every [`EPOCH_TICK`], so the deadline can fire up to a
    /// tick early).
    pub fn from_worker(error: wasmtime::Error, took: Duration, request_timeout: Duration) -> Self {
        let out_of_time = took + 2 * EPOCH_TICK >= request_timeout;
        let kind = if out_of_time || error.is::<ExpirationError>() {
            FailureKind::Timeout
        } else if error.is::<InstantiationError<()>>() {
            FailureKind::Instantiation
        } else {
            FailureKind::Trap
        };
        Self { kind, error }
    }

    /// Logs the failure of `component`, counts it in `metrics`, and answers the client.
    pub fn answer(self, component: &str, metrics: &Metrics) -> Response<WasiBody> {
        let kind = self.kind;
        self.log_and_count(component, metrics);
        error(kind.status(), kind.message())
    }

    /// Logs the failure of `component` and counts it in `metrics`: all there is to do once the
    /// response has gone (a stream whose guest failed midway).
    pub fn log_and_count(self, component: &str, metrics: &Metrics) {
        let kind = self.kind;
        tracing::warn!(component, kind = kind.label(), error = %format!("{:#}", self.error), "guest failed");
        metrics
            .guest_failures
            .with_label_values(&[kind.label()])
            .inc();
    }

    /// Whether the guest ran out of time.
    pub fn is_timeout(&self) -> bool {
        self.kind == FailureKind::Timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_epoch_interrupt_is_a_timeout_and_other_errors_are_traps() {
        let interrupt = wasmtime::Error::new(wasmtime::Trap::Interrupt);
        assert_eq!(
            GuestFailure::from_call(interrupt).kind,
            FailureKind::Timeout
        );
        let unreachable = wasmtime::Error::new(wasmtime::Trap::UnreachableCodeReached);
        assert_eq!(GuestFailure::from_call(unreachable).kind, FailureKind::Trap);
        let other = wasmtime::format_err!("guest never set a response");
        assert_eq!(GuestFailure::from_call(other).kind, FailureKind::Trap);
    }

    #[test]
    fn a_worker_failure_that_took_the_whole_time_limit_is_a_timeout() {
        let limit = Duration::from_millis(500);
        let failed = || wasmtime::format_err!("no response");
        let late = GuestFailure::from_worker(failed(), limit - EPOCH_TICK, limit);
        assert_eq!(late.kind, FailureKind::Timeout);
        let early = GuestFailure::from_worker(failed(), Duration::from_millis(3), limit);
        assert_eq!(early.kind, FailureKind::Trap);
    }

    #[test]
    fn every_kind_is_a_server_error_with_its_own_label() {
        let kinds = [
            FailureKind::Timeout,
            FailureKind::Instantiation,
            FailureKind::Trap,
        ];
        let labels: std::collections::BTreeSet<_> = kinds.iter().map(|k| k.label()).collect();
        assert_eq!(labels.len(), kinds.len());
        assert!(kinds.iter().all(|k| k.status().is_server_error()));
    }
}
