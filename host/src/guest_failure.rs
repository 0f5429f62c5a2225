//! Why a component gave no response: the kinds counted in `heart_wasm_guest_failures_total`
//! and the status each is answered with.

use hyper::StatusCode;

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

    /// A failure of a call into the guest: a trap from the epoch deadline is a timeout, any
    /// other error a trap.
    pub fn from_call(error: wasmtime::Error) -> Self {
        let kind = match error.downcast_ref::<wasmtime::Trap>() {
            Some(wasmtime::Trap::Interrupt) => FailureKind::Timeout,
            _ => FailureKind::Trap,
        };
        Self { kind, error }
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
