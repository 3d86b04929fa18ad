//! The `lambda-async` worker: one poller per internal queue of asynchronous invocation,
//! under the engine's shutdown token.
//!
//! At start (and every [`RESCAN_PERIOD`], to pick up queues created through other nodes
//! sharing the store) the worker lists every internal queue, so events accepted before a
//! restart are run; an Event invoke asks it for its queue's poller at once. A poller
//! long-polls its queue through the engine, never over HTTP, taking only as many events as
//! its function could start now (its reserved concurrency, or what is left of the
//! server-wide limit), and runs each on a task of its own. A poller whose function is gone
//! deletes the queue and ends.
//!
//! [`Engine::run_async_invocations`] is the same work as one pass, run to completion, for
//! tests that move a manual clock.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::async_invoke::{ASYNC_QUEUE_ACCOUNT, QueueOwner};
use crate::sqs::{QueueRef, ReceiveMessageInput};
use crate::{Engine, Error, Result};

/// A received event stays invisible for the function's timeout plus this: initialisation
/// (up to 10 s, counted apart from the timeout) and writing the outcome.
pub(crate) const VISIBILITY_MARGIN_SECONDS: i64 = 15;
/// How often the worker lists the internal queues again.
const RESCAN_PERIOD: Duration = Duration::from_secs(10);
/// The longest a poller's receive waits for an event.
const POLL_WAIT_SECONDS: i64 = 20;
/// Events one poller runs at once, at most.
const MAX_IN_FLIGHT: usize = 100;
/// SQS hands out at most this many messages a receive.
const MAX_RECEIVE: usize = 10;
/// How soon a poller with no room looks again (an invocation elsewhere may end).
const ROOM_RECHECK: Duration = Duration::from_millis(200);
/// The pause after a failed receive.
const ERROR_PAUSE: Duration = Duration::from_secs(1);

impl Engine {
    /// Starts the `lambda-async` worker in `tasks` (once per engine).
    pub(crate) fn start_async_invocation_worker(&self, tasks: &mut JoinSet<()>) {
        let (requests, receiver) = mpsc::unbounded_channel();
        if self
            .inner
            .async_invocations
            .poller_requests
            .set(requests)
            .is_err()
        {
            return;
        }
        let engine = self.clone();
        tasks.spawn(crate::workers::supervise_queue_pollers(
            engine,
            "lambda-async",
            ASYNC_QUEUE_ACCOUNT,
            RESCAN_PERIOD,
            receiver,
            |engine, queue| engine.poll_async_queue(queue),
        ));
    }

    /// Serves one internal queue until shutdown, or until its function is gone.
    async fn poll_async_queue(self, queue: QueueRef) {
        let shutdown = self.shutdown_token().clone();
        let owner = match self.async_queue_owner(&queue).await {
            Ok(Some(owner)) => owner,
            Ok(None) => {
                tracing::warn!(queue = %queue.name, "internal queue without its function's tags; not polled");
                return;
            }
            Err(Error::QueueDoesNotExist) => return,
            Err(error) => {
                // The rescan starts it again.
                tracing::warn!(queue = %queue.name, %error, "cannot read internal queue");
                return;
            }
        };
        tracing::debug!(queue = %queue.name, function = %owner.name, "asynchronous poller started");
        let mut in_flight: JoinSet<()> = JoinSet::new();
        loop {
            while let Some(ended) = in_flight.try_join_next() {
                if let Err(error) = ended {
                    tracing::error!(queue = %queue.name, %error, "asynchronous event task failed");
                }
            }
            let room = self.async_room(&owner, in_flight.len());
            if room == 0 {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = in_flight.join_next(), if !in_flight.is_empty() => {}
                    _ = tokio::time::sleep(ROOM_RECHECK) => {}
                }
                continue;
            }
            let visibility = match self.async_receive_visibility(&owner).await {
                Ok(Some(visibility)) => visibility,
                Ok(None) => {
                    tracing::debug!(queue = %queue.name, function = %owner.name, "function gone; deleting its internal queue");
                    if let Err(error) = self.delete_async_queue(&queue).await {
                        tracing::warn!(queue = %queue.name, %error, "cannot delete internal queue");
                    }
                    break;
                }
                Err(error) => {
                    tracing::warn!(queue = %queue.name, %error, "cannot read function of internal queue");
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(ERROR_PAUSE) => {}
                    }
                    continue;
                }
            };
            let received = self
                .receive_message(
                    &queue,
                    ReceiveMessageInput {
                        max_number_of_messages: i64::try_from(room).ok(),
                        visibility_timeout: Some(visibility),
                        wait_time_seconds: Some(POLL_WAIT_SECONDS),
                        ..ReceiveMessageInput::default()
                    },
                )
                .await;
            if shutdown.is_cancelled() {
                // Anything received now comes back after its visibility timeout.
                break;
            }
            match received {
                Ok(messages) => {
                    for message in messages {
                        let engine = self.clone();
                        let queue = queue.clone();
                        in_flight.spawn(async move {
                            if let Err(error) = engine
                                .process_async_event(&queue, &message, visibility)
                                .await
                            {
                                tracing::warn!(queue = %queue.name, %error, "asynchronous event left for a later try");
                            }
                        });
                    }
                }
                Err(Error::QueueDoesNotExist) => break,
                Err(error) => {
                    tracing::warn!(queue = %queue.name, %error, "cannot receive from internal queue");
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(ERROR_PAUSE) => {}
                    }
                }
            }
        }
        // At shutdown (or when the queue is gone) running attempts are abandoned; their
        // events come back after the visibility timeout, on this node or another.
        in_flight.shutdown().await;
        tracing::debug!(queue = %queue.name, "asynchronous poller stopped");
    }

    /// How many more events of `owner`'s function the poller may take now.
    fn async_room(&self, owner: &QueueOwner, in_flight: usize) -> usize {
        let left = MAX_IN_FLIGHT.saturating_sub(in_flight).min(MAX_RECEIVE);
        let Some(platform) = self.inner.functions.get() else {
            // Nothing can run here: take events one at a time, so they back off and
            // expire as Lambda's would.
            return left.min(1);
        };
        let function = (owner.account.clone(), owner.name.clone());
        let room = match platform.concurrency.reservation(&function) {
            // Reserved concurrency 0: events go straight to their failure outcome.
            Some(0) => MAX_RECEIVE,
            _ => usize::try_from(platform.concurrency.available(&function)).unwrap_or(usize::MAX),
        };
        room.min(left)
    }

    /// The visibility timeout to receive `owner`'s events with, or `None` when the function
    /// (this incarnation of it) no longer exists.
    async fn async_receive_visibility(&self, owner: &QueueOwner) -> Result<Option<i64>> {
        let Some(record) = self
            .inner
            .store
            .get_function(&owner.account, &owner.name)
            .await?
        else {
            return Ok(None);
        };
        if record.created_at != owner.created_at {
            return Ok(None);
        }
        let configuration = super::functions::configuration_of(&record)?;
        Ok(Some(configuration.timeout + VISIBILITY_MARGIN_SECONDS))
    }

    /// Runs every event that is due now, in every internal queue, one after another, and
    /// returns how many were taken. The worker does this continuously; tests call it after
    /// moving a manual clock.
    pub async fn run_async_invocations(&self) -> Result<usize> {
        let mut processed = 0;
        for record in self.all_queues(Some(ASYNC_QUEUE_ACCOUNT)).await? {
            let queue = QueueRef {
                account: record.account,
                name: record.name,
            };
            let Some(owner) = self.async_queue_owner(&queue).await? else {
                continue;
            };
            let Some(visibility) = self.async_receive_visibility(&owner).await? else {
                self.delete_async_queue(&queue).await?;
                continue;
            };
            loop {
                let messages = self
                    .receive_message(
                        &queue,
                        ReceiveMessageInput {
                            max_number_of_messages: Some(MAX_RECEIVE as i64),
                            visibility_timeout: Some(visibility),
                            wait_time_seconds: Some(0),
                            ..ReceiveMessageInput::default()
                        },
                    )
                    .await?;
                if messages.is_empty() {
                    break;
                }
                for message in &messages {
                    self.process_async_event(&queue, message, visibility)
                        .await?;
                    processed += 1;
                }
            }
        }
        Ok(processed)
    }
}
