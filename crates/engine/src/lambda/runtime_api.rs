//! The Lambda Runtime API of one execution environment as a state machine: what `/next`,
//! `/response`, `/error` and `/init/error` do, with no HTTP. The api crate's HTTP layer calls
//! it; the environment's owner (the runner) delivers invocations and reads what happened.
//!
//! The states, for one environment:
//!
//! ```text
//! Initializing ──first /next──▶ Ready ──deliver──▶ (queued) ──/next──▶ (current)
//!      │                          ▲                                     │
//!      └─/init/error─▶ InitFailed └──────────── /response or /error ────┘
//! ```
//!
//! A reply must name the current invocation: any other id (unknown, already answered, or
//! abandoned after a timeout) is `InvalidRequestID`. A `/next` while an invocation is
//! delivered but unanswered returns the same invocation again, as AWS's emulator does.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

/// Serves the Runtime API of one environment over HTTP. The api crate implements it; the
/// engine binds the listener (so it knows the port before the process starts) and hands it
/// over together with the environment's state machine.
pub trait RuntimeApiServer: Send + Sync + 'static {
    /// Starts serving `listener` in the background until `stop` is cancelled. Must serve
    /// several connections at once and never time out a waiting `/next`.
    fn serve(&self, listener: TcpListener, runtime_api: RuntimeApi, stop: CancellationToken);
}

/// One invocation as the runtime receives it from `/next`: the body and the §1.3 headers.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: String,
    /// The payload bytes exactly as given to Invoke.
    pub payload: Arc<[u8]>,
    /// `Lambda-Runtime-Deadline-Ms`: Unix epoch milliseconds.
    pub deadline_ms: u64,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub invoked_function_arn: String,
    /// `Lambda-Runtime-Trace-Id`.
    pub trace_id: String,
    /// `Lambda-Runtime-Client-Context`: decoded JSON.
    pub client_context: Option<String>,
    /// `Lambda-Runtime-Cognito-Identity`: JSON.
    pub cognito_identity: Option<String>,
}

/// Why a Runtime API call was refused. The HTTP layer maps each to its status and body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeApiError {
    /// 400 `InvalidRequestID`: the id is not the invocation in progress.
    #[error("Invalid request ID")]
    InvalidRequestId,
    /// 403 `InvalidStateTransition`: the call does not fit the environment's state.
    #[error("{0}")]
    InvalidStateTransition(String),
}

/// What the runtime did, in order, as the environment's owner sees it.
#[derive(Debug)]
pub(crate) enum RuntimeEvent {
    /// The first `/next`: initialisation is over.
    Ready,
    /// A later `/next`: the previous invocation is over (AWS ends an invoke here).
    Next,
    InitError {
        body: Vec<u8>,
        error_type: Option<String>,
    },
    Response {
        request_id: String,
        body: Vec<u8>,
    },
    Error {
        request_id: String,
        body: Vec<u8>,
        error_type: Option<String>,
    },
    /// The runtime's response exceeded the limit (its POST got 413).
    ResponseTooLarge {
        request_id: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Initializing,
    Ready,
    InitFailed,
}

#[derive(Debug)]
struct State {
    phase: Phase,
    /// Delivered by the owner, not yet fetched by `/next`.
    queued: Option<Invocation>,
    /// Fetched by `/next`, not yet answered.
    current: Option<Invocation>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// Wakes a waiting `/next` when an invocation is queued (`notify_one` keeps a permit if
    /// nobody waits yet, so a delivery just before `/next` parks is not lost).
    invocation_queued: Notify,
    events: mpsc::UnboundedSender<RuntimeEvent>,
}

/// The Runtime API state of one environment. Cheap to clone.
#[derive(Debug, Clone)]
pub struct RuntimeApi {
    shared: Arc<Shared>,
}

impl RuntimeApi {
    pub(crate) fn new() -> (RuntimeApi, mpsc::UnboundedReceiver<RuntimeEvent>) {
        let (events, receiver) = mpsc::unbounded_channel();
        let runtime_api = RuntimeApi {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    phase: Phase::Initializing,
                    queued: None,
                    current: None,
                }),
                invocation_queued: Notify::new(),
                events,
            }),
        };
        (runtime_api, receiver)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the state half-changed (every
        // change is a single assignment), so a poisoned lock is still usable.
        self.shared
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn emit(&self, event: RuntimeEvent) {
        // The owner may be gone (environment being torn down); nobody needs the event then.
        let _ = self.shared.events.send(event);
    }

    /// `GET /runtime/invocation/next`: waits, without limit, for the next invocation.
    pub async fn next(&self) -> Result<Invocation, RuntimeApiError> {
        {
            let mut state = self.state();
            match state.phase {
                Phase::InitFailed => {
                    return Err(RuntimeApiError::InvalidStateTransition(
                        "State transition from InitError to Ready failed".to_string(),
                    ));
                }
                Phase::Initializing => {
                    state.phase = Phase::Ready;
                    self.emit(RuntimeEvent::Ready);
                }
                Phase::Ready => {
                    if state.current.is_none() {
                        self.emit(RuntimeEvent::Next);
                    }
                }
            }
        }
        loop {
            {
                let mut state = self.state();
                if let Some(current) = &state.current {
                    return Ok(current.clone());
                }
                if let Some(invocation) = state.queued.take() {
                    state.current = Some(invocation.clone());
                    return Ok(invocation);
                }
            }
            self.shared.invocation_queued.notified().await;
        }
    }

    /// `POST /runtime/invocation/{id}/response`.
    pub fn respond(&self, request_id: &str, body: Vec<u8>) -> Result<(), RuntimeApiError> {
        self.finish(request_id, |request_id| RuntimeEvent::Response {
            request_id,
            body,
        })
    }

    /// `POST /runtime/invocation/{id}/error`; `error_type` is the
    /// `Lambda-Runtime-Function-Error-Type` header, which clients may leave out.
    pub fn error(
        &self,
        request_id: &str,
        body: Vec<u8>,
        error_type: Option<String>,
    ) -> Result<(), RuntimeApiError> {
        self.finish(request_id, |request_id| RuntimeEvent::Error {
            request_id,
            body,
            error_type,
        })
    }

    /// A `/response` whose body was over the limit: the invocation fails with
    /// `Function.ResponseSizeTooLarge` (the runtime's POST is answered 413 by the caller).
    pub fn response_too_large(&self, request_id: &str) -> Result<(), RuntimeApiError> {
        self.finish(request_id, |request_id| RuntimeEvent::ResponseTooLarge {
            request_id,
        })
    }

    /// `POST /runtime/init/error`: only before the first `/next`.
    pub fn init_error(
        &self,
        body: Vec<u8>,
        error_type: Option<String>,
    ) -> Result<(), RuntimeApiError> {
        let mut state = self.state();
        if state.phase != Phase::Initializing {
            return Err(RuntimeApiError::InvalidStateTransition(
                "State transition from Ready to InitError failed".to_string(),
            ));
        }
        state.phase = Phase::InitFailed;
        self.emit(RuntimeEvent::InitError { body, error_type });
        Ok(())
    }

    fn finish(
        &self,
        request_id: &str,
        event: impl FnOnce(String) -> RuntimeEvent,
    ) -> Result<(), RuntimeApiError> {
        let mut state = self.state();
        match &state.current {
            Some(current) if current.request_id == request_id => {
                state.current = None;
                // Sent under the lock so events keep the order of the calls.
                self.emit(event(request_id.to_string()));
                Ok(())
            }
            _ => Err(RuntimeApiError::InvalidRequestId),
        }
    }

    /// Queues an invocation for the runtime's (next) `/next`.
    pub(crate) fn deliver(&self, invocation: Invocation) {
        self.state().queued = Some(invocation);
        self.shared.invocation_queued.notify_one();
    }

    /// Forgets the invocation in progress (timed out): a late reply gets `InvalidRequestID`.
    pub(crate) fn abandon(&self) {
        let mut state = self.state();
        state.queued = None;
        state.current = None;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn invocation(request_id: &str) -> Invocation {
        Invocation {
            request_id: request_id.to_string(),
            payload: Arc::from(&b"{}"[..]),
            deadline_ms: 0,
            invoked_function_arn: "arn".to_string(),
            trace_id: "trace".to_string(),
            client_context: None,
            cognito_identity: None,
        }
    }

    #[tokio::test]
    async fn reply_for_another_request_id_is_invalid() -> Result<(), RuntimeApiError> {
        let (api, mut events) = RuntimeApi::new();
        api.deliver(invocation("a"));
        assert_eq!(api.next().await?.request_id, "a");
        assert!(matches!(events.recv().await, Some(RuntimeEvent::Ready)));
        assert_eq!(
            api.respond("b", b"1".to_vec()),
            Err(RuntimeApiError::InvalidRequestId)
        );
        api.respond("a", b"1".to_vec())?;
        assert_eq!(
            api.respond("a", b"2".to_vec()),
            Err(RuntimeApiError::InvalidRequestId),
            "a second reply for the same id"
        );
        Ok(())
    }

    #[tokio::test]
    async fn next_waits_for_a_delivery() -> Result<(), RuntimeApiError> {
        let (api, _events) = RuntimeApi::new();
        let waiting = tokio::spawn({
            let api = api.clone();
            async move { api.next().await }
        });
        tokio::task::yield_now().await;
        api.deliver(invocation("late"));
        let delivered = waiting.await.expect("task")?;
        assert_eq!(delivered.request_id, "late");
        Ok(())
    }

    #[tokio::test]
    async fn init_error_after_first_next_is_refused() -> Result<(), RuntimeApiError> {
        let (api, _events) = RuntimeApi::new();
        api.deliver(invocation("a"));
        api.next().await?;
        assert!(matches!(
            api.init_error(Vec::new(), None),
            Err(RuntimeApiError::InvalidStateTransition(_))
        ));
        Ok(())
    }

    #[tokio::test]
    async fn abandoned_invocation_refuses_late_reply() -> Result<(), RuntimeApiError> {
        let (api, _events) = RuntimeApi::new();
        api.deliver(invocation("a"));
        api.next().await?;
        api.abandon();
        assert_eq!(
            api.error("a", Vec::new(), None),
            Err(RuntimeApiError::InvalidRequestId)
        );
        Ok(())
    }
}
