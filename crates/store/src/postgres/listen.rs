//! Notifications from other nodes: one dedicated connection listens on `eddy_wakeup` and
//! turns each notification into a [`Wakeup`] for the engine's long polls, and on
//! `eddy_queue`, where each notification drops this node's copy of a queue's record.
//!
//! Notifications are hints, never the only way a message is found: the engine's long polls
//! also look again on a slow timer. When the listening connection is lost (the database
//! restarted, the network broke), notifications sent meanwhile are gone, so after every
//! reconnect the listener sends [`Wakeup::All`] and every waiter looks once more, and
//! every cached queue record is dropped.

use std::time::Duration;

use tokio::sync::{broadcast, mpsc};
use tokio_postgres::{AsyncMessage, NoTls};

use super::QueueRecords;
use super::ops::{QUEUE_CHANNEL, WAKEUP_CHANNEL, parse_queue_changed, parse_wakeup};
use crate::Result;
use crate::model::Wakeup;

/// Delay before reconnecting after the connection was lost, doubling up to the maximum.
const RECONNECT_FIRST: Duration = Duration::from_millis(200);
const RECONNECT_MAX: Duration = Duration::from_secs(5);

/// Listens until the task is aborted (when the backend is dropped).
pub(crate) async fn run(
    config: tokio_postgres::Config,
    node: String,
    wakeups: broadcast::Sender<Wakeup>,
    queues: std::sync::Arc<QueueRecords>,
) {
    let mut delay = RECONNECT_FIRST;
    loop {
        match listen_once(&config, &node, &wakeups, &queues).await {
            Ok(()) => {
                tracing::warn!("the wake-up connection to PostgreSQL closed; reconnecting");
                delay = RECONNECT_FIRST;
            }
            Err(error) => {
                tracing::warn!(%error, "the wake-up connection to PostgreSQL failed; reconnecting");
            }
        }
        // Anything sent while the connection was down was missed.
        queues.invalidate_all();
        let _ = wakeups.send(Wakeup::All);
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(RECONNECT_MAX);
    }
}

/// One connection's life: LISTEN, then relay notifications until it ends.
async fn listen_once(
    config: &tokio_postgres::Config,
    node: &str,
    wakeups: &broadcast::Sender<Wakeup>,
    queues: &QueueRecords,
) -> Result<()> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let (payloads, mut received) = mpsc::unbounded_channel::<(String, String)>();
    // The connection object delivers notifications only while it is polled; a task of
    // its own keeps polling it while `client` sends LISTEN below.
    let driver = tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(notification))) => {
                    let message = (
                        notification.channel().to_string(),
                        notification.payload().to_string(),
                    );
                    if payloads.send(message).is_err() {
                        return Ok(());
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(error),
                None => return Ok(()),
            }
        }
    });
    client
        .batch_execute(&format!("LISTEN {WAKEUP_CHANNEL}; LISTEN {QUEUE_CHANNEL}"))
        .await?;
    tracing::debug!("listening for notifications from other nodes");
    // Connected (again): whatever happened before this point was not heard.
    queues.invalidate_all();
    let _ = wakeups.send(Wakeup::All);
    while let Some((channel, payload)) = received.recv().await {
        if channel == QUEUE_CHANNEL {
            match parse_queue_changed(&payload) {
                Some((from, _)) if from == node => {}
                Some((_, queue)) => queues.invalidate(queue),
                None => tracing::debug!(%payload, "ignoring a malformed queue notification"),
            }
            continue;
        }
        match parse_wakeup(&payload) {
            // This node's own commits already woke its waiters.
            Some((from, _)) if from == node => {}
            Some((_, wakeup)) => {
                let _ = wakeups.send(wakeup);
            }
            None => tracing::debug!(%payload, "ignoring a malformed wake-up"),
        }
    }
    drop(client);
    match driver.await {
        Ok(result) => Ok(result?),
        Err(join_error) => Err(crate::Error::Unavailable(join_error.to_string())),
    }
}
