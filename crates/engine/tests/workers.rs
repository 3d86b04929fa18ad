//! The background workers start under the engine's shutdown token and stop with it.

mod common;

use std::time::Duration;

use common::{Harness, TestResult};

#[tokio::test]
async fn workers_stop_when_the_shutdown_token_is_cancelled() -> TestResult {
    let h = Harness::new().await?;
    h.queue("watched", &[]).await?;
    let workers = h.engine.start_workers();
    // Let every worker run its first pass.
    tokio::time::sleep(Duration::from_millis(100)).await;
    h.shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), workers.join()).await?;
    Ok(())
}
