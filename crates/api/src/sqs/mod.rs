//! SQS over both wire protocols. Each protocol decodes its request into the shared
//! [`Input`] (the union of every action's members, named as in the model), which becomes
//! one typed [`Action`]; [`dispatch`] runs it against the engine in one `match`; the
//! protocol then encodes the [`Output`].
//!
//! - `json.rs`: AWS JSON 1.0 (`X-Amz-Target: AmazonSQS.<Action>`).
//! - `query.rs`: the form-encoded query protocol with XML responses.
//! - `queue_url.rs`: queue URLs in and out.

pub mod json;
pub mod query;
pub mod queue_url;

use std::collections::BTreeMap;

use engine::Engine;
use engine::sqs::{
    AddPermissionInput, BatchEntry, BatchOutput, Caller, ChangeVisibilityInput, CreateQueueInput,
    ListQueuesInput, ListQueuesOutput, MessageAttributeValue, MessageAttributes, MessageMoveTask,
    QueueRef, ReceiveMessageInput, ReceivedMessage, SendMessageInput, SendMessageOutput,
    StartMessageMoveTaskInput,
};
use serde::Deserialize;

use crate::error::{Error, Result};

action_names!(
    "The name of an SQS action, as in `X-Amz-Target` and the form's `Action`.";
    AddPermission,
    CancelMessageMoveTask,
    ChangeMessageVisibility,
    ChangeMessageVisibilityBatch,
    CreateQueue,
    DeleteMessage,
    DeleteMessageBatch,
    DeleteQueue,
    GetQueueAttributes,
    GetQueueUrl,
    ListDeadLetterSourceQueues,
    ListMessageMoveTasks,
    ListQueueTags,
    ListQueues,
    PurgeQueue,
    ReceiveMessage,
    RemovePermission,
    SendMessage,
    SendMessageBatch,
    SetQueueAttributes,
    StartMessageMoveTask,
    TagQueue,
    UntagQueue,
);

/// One decoded SQS request, ready for the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    AddPermission {
        queue: QueueRef,
        input: AddPermissionInput,
    },
    CancelMessageMoveTask {
        task_handle: String,
    },
    ChangeMessageVisibility {
        queue: QueueRef,
        input: ChangeVisibilityInput,
    },
    ChangeMessageVisibilityBatch {
        queue: QueueRef,
        entries: Vec<BatchEntry<ChangeVisibilityInput>>,
    },
    CreateQueue(CreateQueueInput),
    DeleteMessage {
        queue: QueueRef,
        receipt_handle: String,
    },
    DeleteMessageBatch {
        queue: QueueRef,
        entries: Vec<BatchEntry<String>>,
    },
    DeleteQueue {
        queue: QueueRef,
    },
    GetQueueAttributes {
        queue: QueueRef,
        names: Vec<String>,
    },
    GetQueueUrl {
        name: String,
        owner_account: Option<String>,
    },
    ListDeadLetterSourceQueues {
        queue: QueueRef,
        max_results: Option<i64>,
        next_token: Option<String>,
    },
    ListMessageMoveTasks {
        source_arn: String,
        max_results: Option<i64>,
    },
    ListQueueTags {
        queue: QueueRef,
    },
    ListQueues(ListQueuesInput),
    PurgeQueue {
        queue: QueueRef,
    },
    ReceiveMessage {
        queue: QueueRef,
        input: ReceiveMessageInput,
    },
    RemovePermission {
        queue: QueueRef,
        label: String,
    },
    SendMessage {
        queue: QueueRef,
        input: SendMessageInput,
    },
    SendMessageBatch {
        queue: QueueRef,
        entries: Vec<BatchEntry<SendMessageInput>>,
    },
    SetQueueAttributes {
        queue: QueueRef,
        attributes: BTreeMap<String, String>,
    },
    StartMessageMoveTask(StartMessageMoveTaskInput),
    TagQueue {
        queue: QueueRef,
        tags: BTreeMap<String, String>,
    },
    UntagQueue {
        queue: QueueRef,
        keys: Vec<String>,
    },
}

/// What an action returns, before encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Actions whose response has no result members.
    Empty,
    QueueUrl(QueueRef),
    Queues(ListQueuesOutput),
    Attributes(BTreeMap<String, String>),
    Tags(BTreeMap<String, String>),
    SendMessage(SendMessageOutput),
    SendMessageBatch(BatchOutput<SendMessageOutput>),
    Messages(Vec<ReceivedMessage>),
    /// DeleteMessageBatch and ChangeMessageVisibilityBatch.
    IdBatch(BatchOutput<()>),
    TaskHandle(String),
    MoveTasks(Vec<MessageMoveTask>),
    MessagesMoved(i64),
}

/// One message attribute as both protocols spell it (binary already decoded).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase", default)]
pub struct WireAttributeValue {
    pub data_type: Option<String>,
    pub string_value: Option<String>,
    #[serde(deserialize_with = "json::optional_base64")]
    pub binary_value: Option<Vec<u8>>,
    pub string_list_values: Option<Vec<String>>,
    #[serde(deserialize_with = "json::optional_base64_list")]
    pub binary_list_values: Option<Vec<Vec<u8>>>,
}

/// One entry of any batch request.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase", default)]
pub struct WireEntry {
    pub id: Option<String>,
    pub message_body: Option<String>,
    pub delay_seconds: Option<i64>,
    pub message_attributes: Option<BTreeMap<String, WireAttributeValue>>,
    pub message_system_attributes: Option<BTreeMap<String, WireAttributeValue>>,
    pub message_deduplication_id: Option<String>,
    pub message_group_id: Option<String>,
    pub receipt_handle: Option<String>,
    pub visibility_timeout: Option<i64>,
}

/// The members of every SQS request, as the JSON model names them; the query decoder
/// fills the same struct from its flattened form names.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase", default)]
pub struct Input {
    pub queue_url: Option<String>,
    pub queue_name: Option<String>,
    pub attributes: Option<BTreeMap<String, String>>,
    /// `tags` in CreateQueue, `Tags` in TagQueue.
    #[serde(alias = "tags")]
    pub tags: Option<BTreeMap<String, String>>,
    pub tag_keys: Option<Vec<String>>,
    pub attribute_names: Option<Vec<String>>,
    pub message_system_attribute_names: Option<Vec<String>>,
    pub message_attribute_names: Option<Vec<String>>,
    pub message_body: Option<String>,
    pub delay_seconds: Option<i64>,
    pub message_attributes: Option<BTreeMap<String, WireAttributeValue>>,
    pub message_system_attributes: Option<BTreeMap<String, WireAttributeValue>>,
    pub message_deduplication_id: Option<String>,
    pub message_group_id: Option<String>,
    pub entries: Option<Vec<WireEntry>>,
    pub max_number_of_messages: Option<i64>,
    pub visibility_timeout: Option<i64>,
    pub wait_time_seconds: Option<i64>,
    pub receive_request_attempt_id: Option<String>,
    pub receipt_handle: Option<String>,
    pub queue_name_prefix: Option<String>,
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
    #[serde(rename = "QueueOwnerAWSAccountId")]
    pub queue_owner_aws_account_id: Option<String>,
    pub source_arn: Option<String>,
    pub destination_arn: Option<String>,
    pub max_number_of_messages_per_second: Option<i64>,
    pub task_handle: Option<String>,
    pub label: Option<String>,
    #[serde(rename = "AWSAccountIds")]
    pub aws_account_ids: Option<Vec<String>>,
    pub actions: Option<Vec<String>>,
}

/// What decoding needs to know about the request beyond its members.
#[derive(Debug, Clone, Copy)]
pub struct DecodeContext<'a> {
    /// The caller's account: a bare queue name lives there.
    pub account: &'a str,
    /// `/<account>/<queue>` from the request path, for query requests posted to the
    /// queue URL itself without a `QueueUrl` member.
    pub path_queue: Option<&'a QueueRef>,
}

fn required<T>(value: Option<T>, name: &str) -> Result<T> {
    value.ok_or_else(|| Error::MissingParameter(name.to_string()))
}

impl Input {
    fn queue(&mut self, context: &DecodeContext<'_>) -> Result<QueueRef> {
        let queue = match self.queue_url.take() {
            Some(url) if !url.is_empty() => queue_url::resolve(&url, context.account)?,
            _ => match context.path_queue {
                Some(queue) => queue.clone(),
                None => return Err(Error::MissingParameter("QueueUrl".to_string())),
            },
        };
        // Asynchronous invocation's internal queues belong to eddy, not to any client.
        if queue.account == engine::lambda::ASYNC_QUEUE_ACCOUNT {
            return Err(Error::Engine(engine::Error::QueueDoesNotExist));
        }
        Ok(queue)
    }
}

fn attribute_values(map: Option<BTreeMap<String, WireAttributeValue>>) -> MessageAttributes {
    map.unwrap_or_default()
        .into_iter()
        .map(|(name, value)| {
            let value = MessageAttributeValue {
                // A missing DataType is the engine's to reject with AWS's message.
                data_type: value.data_type.unwrap_or_default(),
                string_value: value.string_value,
                binary_value: value.binary_value,
                string_list_values: value.string_list_values.unwrap_or_default(),
                binary_list_values: value.binary_list_values.unwrap_or_default(),
            };
            (name, value)
        })
        .collect()
}

impl Action {
    /// Builds the typed action from decoded members, checking required ones.
    pub fn from_input(
        name: ActionName,
        mut input: Input,
        context: &DecodeContext<'_>,
    ) -> Result<Action> {
        use ActionName as N;
        let action = match name {
            N::AddPermission => {
                let queue = input.queue(context)?;
                Action::AddPermission {
                    queue,
                    input: AddPermissionInput {
                        label: required(input.label, "Label")?,
                        aws_account_ids: required(input.aws_account_ids, "AWSAccountIds")?,
                        actions: required(input.actions, "Actions")?,
                    },
                }
            }
            N::CancelMessageMoveTask => Action::CancelMessageMoveTask {
                task_handle: required(input.task_handle, "TaskHandle")?,
            },
            N::ChangeMessageVisibility => {
                let queue = input.queue(context)?;
                Action::ChangeMessageVisibility {
                    queue,
                    input: ChangeVisibilityInput {
                        receipt_handle: required(input.receipt_handle, "ReceiptHandle")?,
                        visibility_timeout: required(
                            input.visibility_timeout,
                            "VisibilityTimeout",
                        )?,
                    },
                }
            }
            N::ChangeMessageVisibilityBatch => {
                let queue = input.queue(context)?;
                let entries = input
                    .entries
                    .unwrap_or_default()
                    .into_iter()
                    .map(|entry| BatchEntry {
                        id: entry.id.unwrap_or_default(),
                        input: ChangeVisibilityInput {
                            receipt_handle: entry.receipt_handle.unwrap_or_default(),
                            visibility_timeout: entry.visibility_timeout.unwrap_or(0),
                        },
                    })
                    .collect();
                Action::ChangeMessageVisibilityBatch { queue, entries }
            }
            N::CreateQueue => Action::CreateQueue(CreateQueueInput {
                name: required(input.queue_name, "QueueName")?,
                attributes: input.attributes.unwrap_or_default(),
                tags: input.tags.unwrap_or_default(),
            }),
            N::DeleteMessage => {
                let queue = input.queue(context)?;
                Action::DeleteMessage {
                    queue,
                    receipt_handle: required(input.receipt_handle, "ReceiptHandle")?,
                }
            }
            N::DeleteMessageBatch => {
                let queue = input.queue(context)?;
                let entries = input
                    .entries
                    .unwrap_or_default()
                    .into_iter()
                    .map(|entry| BatchEntry {
                        id: entry.id.unwrap_or_default(),
                        input: entry.receipt_handle.unwrap_or_default(),
                    })
                    .collect();
                Action::DeleteMessageBatch { queue, entries }
            }
            N::DeleteQueue => Action::DeleteQueue {
                queue: input.queue(context)?,
            },
            N::GetQueueAttributes => Action::GetQueueAttributes {
                queue: input.queue(context)?,
                names: input.attribute_names.unwrap_or_default(),
            },
            N::GetQueueUrl => Action::GetQueueUrl {
                name: required(input.queue_name, "QueueName")?,
                owner_account: input.queue_owner_aws_account_id,
            },
            N::ListDeadLetterSourceQueues => Action::ListDeadLetterSourceQueues {
                queue: input.queue(context)?,
                max_results: input.max_results,
                next_token: input.next_token,
            },
            N::ListMessageMoveTasks => Action::ListMessageMoveTasks {
                source_arn: required(input.source_arn, "SourceArn")?,
                max_results: input.max_results,
            },
            N::ListQueueTags => Action::ListQueueTags {
                queue: input.queue(context)?,
            },
            N::ListQueues => Action::ListQueues(ListQueuesInput {
                prefix: input.queue_name_prefix,
                max_results: input.max_results,
                next_token: input.next_token,
            }),
            N::PurgeQueue => Action::PurgeQueue {
                queue: input.queue(context)?,
            },
            N::ReceiveMessage => {
                let queue = input.queue(context)?;
                Action::ReceiveMessage {
                    queue,
                    input: ReceiveMessageInput {
                        max_number_of_messages: input.max_number_of_messages,
                        visibility_timeout: input.visibility_timeout,
                        wait_time_seconds: input.wait_time_seconds,
                        attribute_names: input.attribute_names.unwrap_or_default(),
                        message_system_attribute_names: input
                            .message_system_attribute_names
                            .unwrap_or_default(),
                        message_attribute_names: input.message_attribute_names.unwrap_or_default(),
                        receive_request_attempt_id: input.receive_request_attempt_id,
                    },
                }
            }
            N::RemovePermission => {
                let queue = input.queue(context)?;
                Action::RemovePermission {
                    queue,
                    label: required(input.label, "Label")?,
                }
            }
            N::SendMessage => {
                let queue = input.queue(context)?;
                Action::SendMessage {
                    queue,
                    input: SendMessageInput {
                        body: required(input.message_body, "MessageBody")?,
                        delay_seconds: input.delay_seconds,
                        message_attributes: attribute_values(input.message_attributes),
                        message_system_attributes: attribute_values(
                            input.message_system_attributes,
                        ),
                        message_deduplication_id: input.message_deduplication_id,
                        message_group_id: input.message_group_id,
                    },
                }
            }
            N::SendMessageBatch => {
                let queue = input.queue(context)?;
                let entries = input
                    .entries
                    .unwrap_or_default()
                    .into_iter()
                    .map(|entry| BatchEntry {
                        id: entry.id.unwrap_or_default(),
                        input: SendMessageInput {
                            body: entry.message_body.unwrap_or_default(),
                            delay_seconds: entry.delay_seconds,
                            message_attributes: attribute_values(entry.message_attributes),
                            message_system_attributes: attribute_values(
                                entry.message_system_attributes,
                            ),
                            message_deduplication_id: entry.message_deduplication_id,
                            message_group_id: entry.message_group_id,
                        },
                    })
                    .collect();
                Action::SendMessageBatch { queue, entries }
            }
            N::SetQueueAttributes => {
                let queue = input.queue(context)?;
                Action::SetQueueAttributes {
                    queue,
                    attributes: required(input.attributes, "Attributes")?,
                }
            }
            N::StartMessageMoveTask => Action::StartMessageMoveTask(StartMessageMoveTaskInput {
                source_arn: required(input.source_arn, "SourceArn")?,
                destination_arn: input.destination_arn,
                max_number_of_messages_per_second: input.max_number_of_messages_per_second,
            }),
            N::TagQueue => {
                let queue = input.queue(context)?;
                Action::TagQueue {
                    queue,
                    tags: required(input.tags, "Tags")?,
                }
            }
            N::UntagQueue => {
                let queue = input.queue(context)?;
                Action::UntagQueue {
                    queue,
                    keys: required(input.tag_keys, "TagKeys")?,
                }
            }
        };
        Ok(action)
    }

    pub fn name(&self) -> ActionName {
        match self {
            Action::AddPermission { .. } => ActionName::AddPermission,
            Action::CancelMessageMoveTask { .. } => ActionName::CancelMessageMoveTask,
            Action::ChangeMessageVisibility { .. } => ActionName::ChangeMessageVisibility,
            Action::ChangeMessageVisibilityBatch { .. } => ActionName::ChangeMessageVisibilityBatch,
            Action::CreateQueue(_) => ActionName::CreateQueue,
            Action::DeleteMessage { .. } => ActionName::DeleteMessage,
            Action::DeleteMessageBatch { .. } => ActionName::DeleteMessageBatch,
            Action::DeleteQueue { .. } => ActionName::DeleteQueue,
            Action::GetQueueAttributes { .. } => ActionName::GetQueueAttributes,
            Action::GetQueueUrl { .. } => ActionName::GetQueueUrl,
            Action::ListDeadLetterSourceQueues { .. } => ActionName::ListDeadLetterSourceQueues,
            Action::ListMessageMoveTasks { .. } => ActionName::ListMessageMoveTasks,
            Action::ListQueueTags { .. } => ActionName::ListQueueTags,
            Action::ListQueues(_) => ActionName::ListQueues,
            Action::PurgeQueue { .. } => ActionName::PurgeQueue,
            Action::ReceiveMessage { .. } => ActionName::ReceiveMessage,
            Action::RemovePermission { .. } => ActionName::RemovePermission,
            Action::SendMessage { .. } => ActionName::SendMessage,
            Action::SendMessageBatch { .. } => ActionName::SendMessageBatch,
            Action::SetQueueAttributes { .. } => ActionName::SetQueueAttributes,
            Action::StartMessageMoveTask(_) => ActionName::StartMessageMoveTask,
            Action::TagQueue { .. } => ActionName::TagQueue,
            Action::UntagQueue { .. } => ActionName::UntagQueue,
        }
    }
}

/// Runs one action against the engine: the one place every SQS action is handled.
pub async fn dispatch(engine: &Engine, caller: &Caller, action: Action) -> Result<Output> {
    let output = match action {
        Action::AddPermission { queue, input } => {
            engine.add_permission(&queue, input).await?;
            Output::Empty
        }
        Action::CancelMessageMoveTask { task_handle } => Output::MessagesMoved(
            engine
                .cancel_message_move_task(caller, &task_handle)
                .await?,
        ),
        Action::ChangeMessageVisibility { queue, input } => {
            engine.change_message_visibility(&queue, input).await?;
            Output::Empty
        }
        Action::ChangeMessageVisibilityBatch { queue, entries } => Output::IdBatch(
            engine
                .change_message_visibility_batch(&queue, entries)
                .await?,
        ),
        Action::CreateQueue(input) => Output::QueueUrl(engine.create_queue(caller, input).await?),
        Action::DeleteMessage {
            queue,
            receipt_handle,
        } => {
            engine.delete_message(&queue, &receipt_handle).await?;
            Output::Empty
        }
        Action::DeleteMessageBatch { queue, entries } => {
            Output::IdBatch(engine.delete_message_batch(&queue, entries).await?)
        }
        Action::DeleteQueue { queue } => {
            engine.delete_queue(&queue).await?;
            Output::Empty
        }
        Action::GetQueueAttributes { queue, names } => {
            Output::Attributes(engine.get_queue_attributes(&queue, &names).await?)
        }
        Action::GetQueueUrl {
            name,
            owner_account,
        } => {
            if owner_account.as_deref() == Some(engine::lambda::ASYNC_QUEUE_ACCOUNT) {
                return Err(Error::Engine(engine::Error::QueueDoesNotExist));
            }
            Output::QueueUrl(
                engine
                    .get_queue_url(caller, &name, owner_account.as_deref())
                    .await?,
            )
        }
        Action::ListDeadLetterSourceQueues {
            queue,
            max_results,
            next_token,
        } => Output::Queues(
            engine
                .list_dead_letter_source_queues(&queue, max_results, next_token)
                .await?,
        ),
        Action::ListMessageMoveTasks {
            source_arn,
            max_results,
        } => Output::MoveTasks(
            engine
                .list_message_move_tasks(caller, &source_arn, max_results)
                .await?,
        ),
        Action::ListQueueTags { queue } => Output::Tags(engine.list_queue_tags(&queue).await?),
        Action::ListQueues(input) => Output::Queues(engine.list_queues(caller, input).await?),
        Action::PurgeQueue { queue } => {
            engine.purge_queue(&queue).await?;
            Output::Empty
        }
        Action::ReceiveMessage { queue, input } => {
            Output::Messages(engine.receive_message(&queue, input).await?)
        }
        Action::RemovePermission { queue, label } => {
            engine.remove_permission(&queue, &label).await?;
            Output::Empty
        }
        Action::SendMessage { queue, input } => {
            Output::SendMessage(engine.send_message(caller, &queue, input).await?)
        }
        Action::SendMessageBatch { queue, entries } => {
            Output::SendMessageBatch(engine.send_message_batch(caller, &queue, entries).await?)
        }
        Action::SetQueueAttributes { queue, attributes } => {
            engine.set_queue_attributes(&queue, attributes).await?;
            Output::Empty
        }
        Action::StartMessageMoveTask(input) => {
            Output::TaskHandle(engine.start_message_move_task(caller, input).await?)
        }
        Action::TagQueue { queue, tags } => {
            engine.tag_queue(&queue, tags).await?;
            Output::Empty
        }
        Action::UntagQueue { queue, keys } => {
            engine.untag_queue(&queue, keys).await?;
            Output::Empty
        }
    };
    Ok(output)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_action_name_round_trips() {
        assert_eq!(ActionName::ALL.len(), 23);
        for name in ActionName::ALL {
            assert_eq!(ActionName::parse(name.as_str()), Some(*name));
        }
        assert_eq!(ActionName::parse("Frobnicate"), None);
        assert_eq!(ActionName::parse("sendmessage"), None);
    }

    #[test]
    fn missing_queue_url_is_missing_parameter_unless_path_names_queue() {
        let context = DecodeContext {
            account: "000000000000",
            path_queue: None,
        };
        let error =
            Action::from_input(ActionName::DeleteQueue, Input::default(), &context).unwrap_err();
        assert!(matches!(error, Error::MissingParameter(ref p) if p == "QueueUrl"));

        let queue = QueueRef {
            account: "1".into(),
            name: "q".into(),
        };
        let context = DecodeContext {
            account: "000000000000",
            path_queue: Some(&queue),
        };
        let action =
            Action::from_input(ActionName::DeleteQueue, Input::default(), &context).unwrap();
        assert_eq!(action, Action::DeleteQueue { queue });
    }
}
