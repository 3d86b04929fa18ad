//! SQS semantics: queues, messages, FIFO groups and deduplication, dead-letter redrive and
//! message move tasks, on top of the store.
//!
//! Every public method here is one SQS action; both wire protocols call the same methods.

mod types;

pub use types::*;

use std::collections::BTreeMap;

use crate::{Engine, Error, Result};

impl Engine {
    pub async fn create_queue(&self, caller: &Caller, input: CreateQueueInput) -> Result<QueueRef> {
        let _ = (caller, input);
        Err(not_yet())
    }

    /// `owner_account` is GetQueueUrl's `QueueOwnerAWSAccountId`.
    pub async fn get_queue_url(
        &self,
        caller: &Caller,
        name: &str,
        owner_account: Option<&str>,
    ) -> Result<QueueRef> {
        let _ = (caller, name, owner_account);
        Err(not_yet())
    }

    pub async fn list_queues(
        &self,
        caller: &Caller,
        input: ListQueuesInput,
    ) -> Result<ListQueuesOutput> {
        let _ = (caller, input);
        Err(not_yet())
    }

    pub async fn delete_queue(&self, queue: &QueueRef) -> Result<()> {
        let _ = queue;
        Err(not_yet())
    }

    pub async fn get_queue_attributes(
        &self,
        queue: &QueueRef,
        names: &[String],
    ) -> Result<BTreeMap<String, String>> {
        let _ = (queue, names);
        Err(not_yet())
    }

    pub async fn set_queue_attributes(
        &self,
        queue: &QueueRef,
        attributes: BTreeMap<String, String>,
    ) -> Result<()> {
        let _ = (queue, attributes);
        Err(not_yet())
    }

    pub async fn send_message(
        &self,
        caller: &Caller,
        queue: &QueueRef,
        input: SendMessageInput,
    ) -> Result<SendMessageOutput> {
        let _ = (caller, queue, input);
        Err(not_yet())
    }

    /// Whole-request problems (empty, too many entries, ids not distinct or invalid, total
    /// size) fail the call; per-entry problems are reported in the output.
    pub async fn send_message_batch(
        &self,
        caller: &Caller,
        queue: &QueueRef,
        entries: Vec<BatchEntry<SendMessageInput>>,
    ) -> Result<BatchOutput<SendMessageOutput>> {
        let _ = (caller, queue, entries);
        Err(not_yet())
    }

    /// Long-polls up to the wait time (request, else the queue's
    /// `ReceiveMessageWaitTimeSeconds`), returning as soon as a message is available.
    pub async fn receive_message(
        &self,
        queue: &QueueRef,
        input: ReceiveMessageInput,
    ) -> Result<Vec<ReceivedMessage>> {
        let _ = (queue, input);
        Err(not_yet())
    }

    pub async fn delete_message(&self, queue: &QueueRef, receipt_handle: &str) -> Result<()> {
        let _ = (queue, receipt_handle);
        Err(not_yet())
    }

    /// Entries are receipt handles.
    pub async fn delete_message_batch(
        &self,
        queue: &QueueRef,
        entries: Vec<BatchEntry<String>>,
    ) -> Result<BatchOutput<()>> {
        let _ = (queue, entries);
        Err(not_yet())
    }

    pub async fn change_message_visibility(
        &self,
        queue: &QueueRef,
        input: ChangeVisibilityInput,
    ) -> Result<()> {
        let _ = (queue, input);
        Err(not_yet())
    }

    pub async fn change_message_visibility_batch(
        &self,
        queue: &QueueRef,
        entries: Vec<BatchEntry<ChangeVisibilityInput>>,
    ) -> Result<BatchOutput<()>> {
        let _ = (queue, entries);
        Err(not_yet())
    }

    pub async fn purge_queue(&self, queue: &QueueRef) -> Result<()> {
        let _ = queue;
        Err(not_yet())
    }

    pub async fn tag_queue(&self, queue: &QueueRef, tags: BTreeMap<String, String>) -> Result<()> {
        let _ = (queue, tags);
        Err(not_yet())
    }

    pub async fn untag_queue(&self, queue: &QueueRef, keys: Vec<String>) -> Result<()> {
        let _ = (queue, keys);
        Err(not_yet())
    }

    pub async fn list_queue_tags(&self, queue: &QueueRef) -> Result<BTreeMap<String, String>> {
        let _ = queue;
        Err(not_yet())
    }

    pub async fn list_dead_letter_source_queues(
        &self,
        queue: &QueueRef,
        max_results: Option<i64>,
        next_token: Option<String>,
    ) -> Result<ListQueuesOutput> {
        let _ = (queue, max_results, next_token);
        Err(not_yet())
    }

    /// Returns the task handle.
    pub async fn start_message_move_task(
        &self,
        caller: &Caller,
        input: StartMessageMoveTaskInput,
    ) -> Result<String> {
        let _ = (caller, input);
        Err(not_yet())
    }

    pub async fn list_message_move_tasks(
        &self,
        caller: &Caller,
        source_arn: &str,
        max_results: Option<i64>,
    ) -> Result<Vec<MessageMoveTask>> {
        let _ = (caller, source_arn, max_results);
        Err(not_yet())
    }

    /// Returns the approximate number of messages moved so far.
    pub async fn cancel_message_move_task(&self, caller: &Caller, task_handle: &str) -> Result<i64> {
        let _ = (caller, task_handle);
        Err(not_yet())
    }

    pub async fn add_permission(&self, queue: &QueueRef, input: AddPermissionInput) -> Result<()> {
        let _ = (queue, input);
        Err(not_yet())
    }

    pub async fn remove_permission(&self, queue: &QueueRef, label: &str) -> Result<()> {
        let _ = (queue, label);
        Err(not_yet())
    }

    /// `arn:aws:sqs:<region>:<account>:<name>`.
    pub fn queue_arn(&self, queue: &QueueRef) -> String {
        format!(
            "arn:aws:sqs:{}:{}:{}",
            self.config().region,
            queue.account,
            queue.name
        )
    }
}

fn not_yet() -> Error {
    Error::UnsupportedOperation("not implemented yet".to_string())
}
