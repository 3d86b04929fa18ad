//! Message move tasks (StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask)
//! and the pass the move worker runs: move the dead-letter queue's messages in chunks at
//! the task's rate, recording progress in the task's record.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use store::{Millis, MoveDestination, MoveRequest, MoveTaskRecord};

use super::arn;
use super::types::{Caller, MessageMoveTask, StartMessageMoveTaskInput};
use crate::{Engine, Error, Result};

const RUNNING: &str = "RUNNING";
const COMPLETED: &str = "COMPLETED";
const CANCELLING: &str = "CANCELLING";
const CANCELLED: &str = "CANCELLED";
const FAILED: &str = "FAILED";
const MAX_RATE: i64 = 500;
/// Messages one pass moves for a task without a rate (the worker runs a pass per second).
const UNLIMITED_CHUNK: usize = 1000;

/// What a task handle encodes, as SQS does: base64 of `{"taskId":…,"sourceArn":…}`.
#[derive(Debug, Serialize, Deserialize)]
struct TaskHandle {
    #[serde(rename = "taskId")]
    task_id: String,
    #[serde(rename = "sourceArn")]
    source_arn: String,
}

impl Engine {
    /// Returns the task handle.
    pub async fn start_message_move_task(
        &self,
        caller: &Caller,
        input: StartMessageMoveTaskInput,
    ) -> Result<String> {
        let _ = caller;
        let source = self.source_queue(&input.source_arn).await?;
        let rate = match input.max_number_of_messages_per_second {
            Some(rate) if (1..=MAX_RATE).contains(&rate) => Some(rate as u32),
            Some(rate) => {
                return Err(Error::InvalidParameterValue(format!(
                    "Value {rate} for parameter MaxNumberOfMessagesPerSecond is invalid. \
                     Reason: You must enter a number that's between 1 and 500."
                )));
            }
            None => None,
        };
        let sources = self
            .dead_letter_sources(&source.account, &input.source_arn)
            .await?;
        if sources.is_empty() {
            return Err(Error::InvalidParameterValue(
                "Source queue must be configured as a Dead Letter Queue.".to_string(),
            ));
        }
        let destination_arn = input.destination_arn.filter(|d| !d.is_empty());
        if let Some(destination) = &destination_arn
            && self.queue_by_arn(destination).await?.is_none()
        {
            return Err(Error::ResourceNotFound(
                "The resource that you specified for the DestinationArn parameter doesn't \
                     exist."
                    .to_string(),
            ));
        }

        let now = self.now();
        let handle = encode_handle(&TaskHandle {
            task_id: uuid::Uuid::new_v4().to_string(),
            source_arn: input.source_arn.clone(),
        });
        let to_move = self.store().count_messages_before(source.id, now).await?;
        // The store refuses a second active task for the source atomically, so two nodes
        // (or two requests) starting one at the same moment cannot both succeed.
        let started = self
            .store()
            .start_move_task(MoveTaskRecord {
                handle: handle.clone(),
                source_arn: input.source_arn.clone(),
                destination_arn,
                max_per_second: rate,
                status: RUNNING.to_string(),
                moved: 0,
                to_move,
                failure_reason: None,
                started_at: now,
            })
            .await?;
        if !started {
            return Err(Error::InvalidParameterValue(
                "There is already a task running. Only one active task is allowed for a source \
                 queue arn at a given time."
                    .to_string(),
            ));
        }
        tracing::info!(source = %input.source_arn, to_move, "message move task started");
        Ok(handle)
    }

    pub async fn list_message_move_tasks(
        &self,
        caller: &Caller,
        source_arn: &str,
        max_results: Option<i64>,
    ) -> Result<Vec<MessageMoveTask>> {
        let _ = caller;
        self.source_queue(source_arn).await?;
        let limit = match max_results {
            None => 1,
            Some(n) if (1..=10).contains(&n) => n as usize,
            Some(n) => {
                return Err(Error::InvalidParameterValue(format!(
                    "Value {n} for parameter MaxResults is invalid. Reason: You must enter a \
                     number that's between 1 and 10."
                )));
            }
        };
        let mut tasks = self.store().list_move_tasks(Some(source_arn)).await?;
        tasks.sort_by_key(|task| std::cmp::Reverse(task.started_at));
        Ok(tasks.into_iter().take(limit).map(task_entry).collect())
    }

    /// Returns the approximate number of messages moved so far.
    pub async fn cancel_message_move_task(
        &self,
        caller: &Caller,
        task_handle: &str,
    ) -> Result<i64> {
        let _ = caller;
        let decoded = decode_handle(task_handle).ok_or_else(|| {
            Error::InvalidParameterValue("Value for parameter TaskHandle is invalid.".to_string())
        })?;
        self.source_queue(&decoded.source_arn).await?;
        let tasks = self
            .store()
            .list_move_tasks(Some(&decoded.source_arn))
            .await?;
        let not_found = || Error::ResourceNotFound("Task does not exist.".to_string());
        let Some(mut task) = tasks
            .into_iter()
            .find(|t| t.handle == task_handle && t.status == RUNNING)
        else {
            return Err(not_found());
        };
        task.status = CANCELLING.to_string();
        let moved = task.moved;
        // Conditional on the task still running: a worker on any node that finishes or
        // fails the task at the same moment wins, and the cancel then finds no task.
        if !self.store().update_move_task(task, RUNNING).await? {
            return Err(not_found());
        }
        tracing::info!(source = %decoded.source_arn, moved, "message move task cancelling");
        Ok(i64::try_from(moved).unwrap_or(i64::MAX))
    }

    /// One pass of the move worker over every unfinished task, at `now`.
    pub(crate) async fn run_move_tasks(&self, now: Millis) -> Result<()> {
        let tasks = self.store().list_move_tasks(None).await?;
        for task in tasks {
            if task.status != RUNNING && task.status != CANCELLING {
                continue;
            }
            let status = task.status.clone();
            let updated = self.advance_task(task, now).await?;
            // Written only if nobody changed the status meanwhile: a cancel that lands
            // during this pass is kept, and the next pass completes it.
            if !self.store().update_move_task(updated, &status).await? {
                tracing::debug!("a move task changed during its pass; the next pass resumes it");
            }
        }
        Ok(())
    }

    async fn advance_task(&self, mut task: MoveTaskRecord, now: Millis) -> Result<MoveTaskRecord> {
        if task.status == CANCELLING {
            task.status = CANCELLED.to_string();
            tracing::info!(source = %task.source_arn, moved = task.moved, "message move task cancelled");
            return Ok(task);
        }
        let Some(source) = self.queue_by_arn(&task.source_arn).await? else {
            return Ok(fail(task, "AWS.SimpleQueueService.NonExistentQueue"));
        };
        let destination = match &task.destination_arn {
            Some(destination_arn) => match self.queue_by_arn(destination_arn).await? {
                Some(queue) => MoveDestination::Queue(queue.id),
                None => return Ok(fail(task, "AWS.SimpleQueueService.NonExistentQueue")),
            },
            None => {
                let sources = self
                    .dead_letter_sources(&source.account, &task.source_arn)
                    .await?;
                let map: BTreeMap<String, store::QueueId> = sources
                    .iter()
                    .map(|q| (self.queue_arn(&super::queues::queue_ref(q)), q.id))
                    .collect();
                MoveDestination::OriginalSources(map)
            }
        };
        let chunk = task
            .max_per_second
            .map_or(UNLIMITED_CHUNK, |rate| rate as usize);
        let moved = self
            .store()
            .move_messages(MoveRequest {
                from: source.id,
                to: destination.clone(),
                max_messages: chunk,
                sent_before: task.started_at,
                now,
            })
            .await?;
        task.moved += moved;
        if moved > 0 {
            match &destination {
                MoveDestination::Queue(id) => self.inner.sqs.wake(*id),
                MoveDestination::OriginalSources(map) => {
                    for id in map.values() {
                        self.inner.sqs.wake(*id);
                    }
                }
            }
        }
        // A pass that moves fewer than it may have exhausted what the task had to move
        // (in-flight messages and messages with no resolvable source stay behind).
        if (moved as usize) < chunk {
            task.status = COMPLETED.to_string();
            tracing::info!(source = %task.source_arn, moved = task.moved, "message move task completed");
        }
        Ok(task)
    }

    /// The source of a move task, which must be an existing queue.
    async fn source_queue(&self, source_arn: &str) -> Result<store::QueueRecord> {
        if arn::parse(source_arn).is_none() {
            return Err(Error::InvalidParameterValue(
                "You must use this format to specify the SourceArn: \
                 arn:<partition>:<service>:<region>:<account-id>:<resource-id>"
                    .to_string(),
            ));
        }
        self.queue_by_arn(source_arn).await?.ok_or_else(|| {
            Error::ResourceNotFound(
                "The resource that you specified for the SourceArn parameter doesn't exist."
                    .to_string(),
            )
        })
    }
}

fn fail(mut task: MoveTaskRecord, reason: &str) -> MoveTaskRecord {
    tracing::warn!(source = %task.source_arn, reason, "message move task failed");
    task.status = FAILED.to_string();
    task.failure_reason = Some(reason.to_string());
    task
}

fn task_entry(task: MoveTaskRecord) -> MessageMoveTask {
    MessageMoveTask {
        task_handle: (task.status == RUNNING).then(|| task.handle.clone()),
        status: task.status,
        source_arn: task.source_arn,
        destination_arn: task.destination_arn,
        max_number_of_messages_per_second: task.max_per_second.map(i64::from),
        approximate_number_of_messages_moved: i64::try_from(task.moved).unwrap_or(i64::MAX),
        approximate_number_of_messages_to_move: Some(
            i64::try_from(task.to_move).unwrap_or(i64::MAX),
        ),
        failure_reason: task.failure_reason,
        started_timestamp: task.started_at,
    }
}

fn encode_handle(handle: &TaskHandle) -> String {
    STANDARD.encode(serde_json::to_string(handle).unwrap_or_default())
}

fn decode_handle(handle: &str) -> Option<TaskHandle> {
    let bytes = STANDARD.decode(handle).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_handles_are_base64_json_of_id_and_source() {
        let handle = encode_handle(&TaskHandle {
            task_id: "t1".to_string(),
            source_arn: "arn:aws:sqs:us-east-1:1:dlq".to_string(),
        });
        let decoded = decode_handle(&handle);
        assert_eq!(decoded.map(|h| h.task_id).as_deref(), Some("t1"));
        assert!(decode_handle("not base64!").is_none());
    }
}
