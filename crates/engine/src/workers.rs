//! Named background workers under one shutdown signal: retention expiry, deduplication
//! expiry and message move tasks. Each runs a pass on its own period until the engine's
//! shutdown token is cancelled; [`Engine::run_maintenance`] runs one pass of each, so tests
//! drive them with a manual clock.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

use crate::sqs::retention_cutoff;
use crate::{Engine, Result};

const RETENTION_PERIOD: Duration = Duration::from_secs(5);
const DEDUPLICATION_PERIOD: Duration = Duration::from_secs(10);
/// Move tasks advance once per second: a task's rate is messages per second.
const MOVE_TASK_PERIOD: Duration = Duration::from_secs(1);

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
        Workers { tasks }
    }

    /// One pass of every maintenance job, at the clock's current time.
    pub async fn run_maintenance(&self) -> Result<()> {
        self.expire_retained_messages().await?;
        self.expire_deduplication().await?;
        self.run_move_tasks(self.now()).await
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

/// Spawns a worker that runs `pass` every `period` until shutdown. A failed pass is
/// logged and retried on the next tick: a worker never dies of a transient store error.
fn spawn_periodic<F, Fut>(
    tasks: &mut JoinSet<()>,
    engine: &Engine,
    name: &'static str,
    period: Duration,
    pass: F,
) where
    F: Fn(Engine) -> Fut + Send + 'static,
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
                result = pass(engine.clone()) => result,
            };
            if let Err(error) = result {
                tracing::warn!(worker = name, %error, "worker pass failed");
            }
        }
        tracing::debug!(worker = name, "worker stopped");
    });
}
