//! Named background workers under one shutdown signal: retention expiry, deduplication
//! expiry, message move tasks and event source mapping pollers (`lambda/poller.rs`). Each
//! periodic job runs a pass on its own period until the engine's shutdown token is
//! cancelled; [`Engine::run_maintenance`] runs one pass of each, so tests
//! drive them with a manual clock.
//!
//! When several nodes share the store, each job runs on one node at a time: a pass first
//! takes or renews the job's lease in the store, and a node that does not hold it skips
//! the pass. If the holder dies its lease runs out and the next node to try takes over.
//! One more worker relays other nodes' wake-ups to this node's long polls, and one stops
//! this node's function environments that stayed idle past the idle timeout.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

use crate::sqs::retention_cutoff;
use store::Wakeup;

use crate::{Engine, Result};

const RETENTION_PERIOD: Duration = Duration::from_secs(5);
const DEDUPLICATION_PERIOD: Duration = Duration::from_secs(10);
/// Move tasks advance once per second: a task's rate is messages per second.
const MOVE_TASK_PERIOD: Duration = Duration::from_secs(1);
/// A job's lease lasts this many of its periods (at least [`MIN_LEASE`]), so a holder
/// renews it several times before it could run out, and a dead holder's job moves to
/// another node within one lease.
const LEASE_PERIODS: u32 = 3;
const MIN_LEASE: Duration = Duration::from_secs(10);

/// The running workers; [`Workers::join`] waits for all of them after shutdown.
#[derive(Debug)]
pub struct Workers {
    tasks: JoinSet<()>,
}

impl Workers {
    /// Waits until every worker has stopped (they stop when the engine's shutdown token
    /// is cancelled).
    pub async fn join(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

impl Engine {
    /// Starts the background workers.
    pub fn start_workers(&self) -> Workers {
        let mut tasks = JoinSet::new();
        spawn_periodic(
            &mut tasks,
            self,
            "sqs-retention",
            RETENTION_PERIOD,
            |engine| async move { engine.expire_retained_messages().await },
        );
        spawn_periodic(
            &mut tasks,
            self,
            "sqs-deduplication",
            DEDUPLICATION_PERIOD,
            |engine| async move { engine.expire_deduplication().await },
        );
        spawn_periodic(
            &mut tasks,
            self,
            "sqs-move-tasks",
            MOVE_TASK_PERIOD,
            |engine| async move { engine.run_move_tasks(engine.now()).await },
        );
        // Every node keeps its own concurrency gate in step with the stored reservations.
        crate::lambda::spawn_reservation_sync(&mut tasks, self);
        self.start_async_invocation_worker(&mut tasks);
        // HTTP/HTTPS subscriptions are delivered by every node: receives are atomic claims.
        self.start_http_delivery_worker(&mut tasks);
        // Event source mappings poll on every node: claims are atomic, no lease needed.
        tasks.spawn(self.clone().run_event_source_mappings());
        if let Some(wakeups) = self.store().subscribe_wakeups() {
            let engine = self.clone();
            tasks.spawn(async move { engine.relay_wakeups(wakeups).await });
        }
        if let Some(runner) = self.function_runner() {
            spawn_idle_environment_reaper(&mut tasks, self, runner.clone());
        }
        Workers { tasks }
    }

    /// One pass of every maintenance job, at the clock's current time.
    pub async fn run_maintenance(&self) -> Result<()> {
        self.expire_retained_messages().await?;
        self.expire_deduplication().await?;
        self.run_move_tasks(self.now()).await
    }

    /// Hands wake-ups from other nodes to the long polls waiting here, until shutdown.
    async fn relay_wakeups(&self, mut wakeups: tokio::sync::broadcast::Receiver<Wakeup>) {
        use tokio::sync::broadcast::error::RecvError;
        let shutdown = self.shutdown_token().clone();
        tracing::debug!(worker = "wakeups", "worker started");
        loop {
            let wakeup = tokio::select! {
                _ = shutdown.cancelled() => break,
                wakeup = wakeups.recv() => wakeup,
            };
            match wakeup {
                Ok(Wakeup::Queue { queue, messages: 0 }) => self.inner.sqs.wake(queue),
                Ok(Wakeup::Queue { queue, messages }) => {
                    self.inner.sqs.wake_for_messages(queue, messages as usize)
                }
                // Fell behind, or the store says wake-ups were lost: everyone looks again.
                Ok(Wakeup::All) | Err(RecvError::Lagged(_)) => self.inner.sqs.wake_all(),
                Err(RecvError::Closed) => break,
            }
        }
        tracing::debug!(worker = "wakeups", "worker stopped");
    }

    /// Whether this node should run job `name` now: always with a store that has no other
    /// writer, otherwise only while it holds the job's lease.
    async fn holds_lease(&self, name: &str, period: Duration) -> Result<bool> {
        if self.store().is_sole_writer() {
            return Ok(true);
        }
        let lease = (period * LEASE_PERIODS).max(MIN_LEASE);
        let ttl = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
        Ok(self
            .store()
            .acquire_lease(name, &self.inner.node, self.now(), ttl)
            .await?)
    }

    /// Deletes the messages of every queue that outlived its retention period.
    async fn expire_retained_messages(&self) -> Result<()> {
        let now = self.now();
        for queue in self.all_queues(None).await? {
            let expired = self
                .store()
                .expire_messages(queue.id, retention_cutoff(&queue, now))
                .await?;
            if expired > 0 {
                tracing::debug!(queue = %queue.name, expired, "expired messages past retention");
            }
        }
        Ok(())
    }

    /// Forgets FIFO deduplication ids and receive attempts older than their window.
    async fn expire_deduplication(&self) -> Result<()> {
        let forgotten = self.store().expire_deduplication(self.now()).await?;
        if forgotten > 0 {
            tracing::debug!(forgotten, "expired deduplication entries");
        }
        Ok(())
    }
}

/// Spawns `lambda-idle-environments`: stops this node's function environments idle for
/// the runner's idle timeout, checking a few times per timeout (between 100 ms and 10 s),
/// so one is stopped at most that much after its time. Environments are this node's own
/// processes, so every node runs this worker, without a lease.
fn spawn_idle_environment_reaper(
    tasks: &mut JoinSet<()>,
    engine: &Engine,
    runner: crate::lambda::FunctionRunner,
) {
    const NAME: &str = "lambda-idle-environments";
    let period = (runner.config().idle_timeout / 4)
        .clamp(Duration::from_millis(100), Duration::from_secs(10));
    let shutdown = engine.shutdown_token().clone();
    tasks.spawn(async move {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        tracing::debug!(worker = NAME, "worker started");
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = interval.tick() => {}
            }
            let stopped = runner.stop_idle_environments();
            if stopped > 0 {
                tracing::debug!(worker = NAME, stopped, "stopped idle environments");
            }
        }
        tracing::debug!(worker = NAME, "worker stopped");
    });
}

/// Spawns a worker that runs `pass` every `period` until shutdown. A failed pass is
/// logged and retried on the next tick: a worker never dies of a transient store error.
fn spawn_periodic<F, Fut>(
    tasks: &mut JoinSet<()>,
    engine: &Engine,
    name: &'static str,
    period: Duration,
    pass: F,
) where
    F: Fn(Engine) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let engine = engine.clone();
    tasks.spawn(async move {
        let shutdown = engine.shutdown_token().clone();
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        tracing::debug!(worker = name, "worker started");
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = interval.tick() => {}
            }
            let result = tokio::select! {
                _ = shutdown.cancelled() => break,
                result = async {
                    if engine.holds_lease(name, period).await? {
                        pass(engine.clone()).await
                    } else {
                        Ok(())
                    }
                } => result,
            };
            if let Err(error) = result {
                tracing::warn!(worker = name, %error, "worker pass failed");
            }
        }
        tracing::debug!(worker = name, "worker stopped");
    });
}
