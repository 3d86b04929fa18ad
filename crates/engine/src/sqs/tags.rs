//! Tags (TagQueue, UntagQueue, ListQueueTags) and permissions (AddPermission,
//! RemovePermission), which edit the queue's `Policy` document.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use store::QueueUpdate;

use super::attributes as attrs;
use super::types::{AddPermissionInput, QueueRef};
use crate::{Engine, Error, Result};

const MAX_TAGS: usize = 50;
const MAX_TAG_KEY_LEN: usize = 128;
const MAX_TAG_VALUE_LEN: usize = 256;

/// Actions a permission may grant (SQS's list for AddPermission), plus `*`.
const GRANTABLE_ACTIONS: [&str; 10] = [
    "*",
    "SendMessage",
    "ReceiveMessage",
    "DeleteMessage",
    "ChangeMessageVisibility",
    "GetQueueAttributes",
    "GetQueueUrl",
    "ListDeadLetterSourceQueues",
    "PurgeQueue",
    "ListQueueTags",
];

/// Checks tag keys and values, and that `existing` plus the new keys stay within 50.
pub(crate) fn validate_tags(
    tags: &BTreeMap<String, String>,
    queue_name: &str,
    existing: usize,
) -> Result<()> {
    for (key, value) in tags {
        if key.is_empty() || key.chars().count() > MAX_TAG_KEY_LEN {
            return Err(Error::InvalidParameterValue(
                "Tag keys must be between 1 and 128 characters in length.".to_string(),
            ));
        }
        if value.chars().count() > MAX_TAG_VALUE_LEN {
            return Err(Error::InvalidParameterValue(
                "Tag values must be less than 256 characters in length.".to_string(),
            ));
        }
    }
    if existing + tags.len() > MAX_TAGS {
        return Err(Error::InvalidParameterValue(format!(
            "Too many tags added for queue {queue_name}."
        )));
    }
    Ok(())
}

impl Engine {
    pub async fn tag_queue(&self, queue: &QueueRef, tags: BTreeMap<String, String>) -> Result<()> {
        let record = self.queue_record(queue).await?;
        if tags.is_empty() {
            return Err(Error::MissingParameter(
                "The request must contain the parameter Tags.".to_string(),
            ));
        }
        let kept = record
            .tags
            .keys()
            .filter(|key| !tags.contains_key(*key))
            .count();
        validate_tags(&tags, &record.name, kept)?;
        let mut merged = record.tags.clone();
        merged.extend(tags);
        self.update_tags(record.id, merged).await
    }

    pub async fn untag_queue(&self, queue: &QueueRef, keys: Vec<String>) -> Result<()> {
        let record = self.queue_record(queue).await?;
        if keys.is_empty() {
            return Err(Error::MissingParameter(
                "The request must contain the parameter TagKeys.".to_string(),
            ));
        }
        let mut remaining = record.tags.clone();
        for key in &keys {
            remaining.remove(key);
        }
        if remaining == record.tags {
            return Ok(());
        }
        self.update_tags(record.id, remaining).await
    }

    pub async fn list_queue_tags(&self, queue: &QueueRef) -> Result<BTreeMap<String, String>> {
        Ok(self.queue_record(queue).await?.tags)
    }

    pub async fn add_permission(&self, queue: &QueueRef, input: AddPermissionInput) -> Result<()> {
        let record = self.queue_record(queue).await?;
        let label = input.label.as_str();
        let label_valid = !label.is_empty()
            && label.len() <= 80
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !label_valid {
            return Err(Error::InvalidParameterValue(format!(
                "Value {label} for parameter Label is invalid. Reason: Must be shorter than 80 \
                 chars and only contain alphanumeric characters, hyphens and underscores."
            )));
        }
        if input.aws_account_ids.is_empty() {
            return Err(Error::MissingParameter(
                "The request must contain the parameter AWSAccountIds.".to_string(),
            ));
        }
        if input.actions.is_empty() {
            return Err(Error::MissingParameter(
                "The request must contain the parameter Actions.".to_string(),
            ));
        }
        for action in &input.actions {
            if !GRANTABLE_ACTIONS.contains(&action.as_str()) {
                return Err(Error::InvalidParameterValue(format!(
                    "Value SQS:{action} for parameter ActionName is invalid. Reason: Please \
                     refer to the appropriate WSDL for a list of valid actions."
                )));
            }
        }
        let queue_arn = self.queue_arn(queue);
        let mut policy = match record.attributes.get(attrs::POLICY) {
            Some(raw) => serde_json::from_str::<Value>(raw)
                .ok()
                .filter(Value::is_object)
                .unwrap_or_else(|| default_policy(&queue_arn)),
            None => default_policy(&queue_arn),
        };
        let mut statements = take_statements(&mut policy);
        if statements
            .iter()
            .any(|s| s.get("Sid").and_then(Value::as_str) == Some(label))
        {
            return Err(Error::InvalidParameterValue(format!(
                "Value {label} for parameter Label is invalid. Reason: Already exists."
            )));
        }
        let principals: Vec<Value> = input
            .aws_account_ids
            .iter()
            .map(|account| Value::String(format!("arn:aws:iam::{account}:root")))
            .collect();
        let actions: Vec<Value> = input
            .actions
            .iter()
            .map(|action| Value::String(format!("SQS:{action}")))
            .collect();
        // SQS writes a single principal or action as a plain string, several as a list.
        let one_or_many = |mut items: Vec<Value>| {
            if items.len() == 1 {
                items.remove(0)
            } else {
                Value::Array(items)
            }
        };
        statements.push(json!({
            "Sid": label,
            "Effect": "Allow",
            "Principal": { "AWS": one_or_many(principals) },
            "Action": one_or_many(actions),
            "Resource": queue_arn,
        }));
        put_statements(&mut policy, statements);
        self.write_policy(record.id, &record.attributes, Some(policy))
            .await
    }

    pub async fn remove_permission(&self, queue: &QueueRef, label: &str) -> Result<()> {
        let record = self.queue_record(queue).await?;
        let not_found = || {
            Error::InvalidParameterValue(format!(
                "Value {label} for parameter Label is invalid. Reason: can't find label."
            ))
        };
        let Some(mut policy) = record
            .attributes
            .get(attrs::POLICY)
            .and_then(|raw| serde_json::from_str::<Value>(raw).ok())
            .filter(Value::is_object)
        else {
            return Err(not_found());
        };
        let mut statements = take_statements(&mut policy);
        let before = statements.len();
        statements.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(label));
        if statements.len() == before {
            return Err(not_found());
        }
        let keep = !statements.is_empty();
        put_statements(&mut policy, statements);
        self.write_policy(record.id, &record.attributes, keep.then_some(policy))
            .await
    }

    async fn write_policy(
        &self,
        queue: store::QueueId,
        current: &BTreeMap<String, String>,
        policy: Option<Value>,
    ) -> Result<()> {
        let mut attributes = current.clone();
        match policy {
            Some(policy) => {
                attributes.insert(attrs::POLICY.to_string(), policy.to_string());
            }
            None => {
                attributes.remove(attrs::POLICY);
            }
        }
        self.store()
            .update_queue(
                queue,
                QueueUpdate {
                    attributes: Some(attributes),
                    now: self.now(),
                    ..Default::default()
                },
            )
            .await?
            .ok_or(Error::QueueDoesNotExist)?;
        Ok(())
    }

    async fn update_tags(
        &self,
        queue: store::QueueId,
        tags: BTreeMap<String, String>,
    ) -> Result<()> {
        self.store()
            .update_queue(
                queue,
                QueueUpdate {
                    tags: Some(tags),
                    now: self.now(),
                    ..Default::default()
                },
            )
            .await?
            .ok_or(Error::QueueDoesNotExist)?;
        Ok(())
    }
}

fn default_policy(queue_arn: &str) -> Value {
    json!({
        "Version": "2008-10-17",
        "Id": format!("{queue_arn}/SQSDefaultPolicy"),
        "Statement": [],
    })
}

/// Takes the policy's statements out as a list (a lone statement object becomes a list of
/// one); the caller puts the edited list back with [`put_statements`].
fn take_statements(policy: &mut Value) -> Vec<Value> {
    match policy["Statement"].take() {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        single => vec![single],
    }
}

fn put_statements(policy: &mut Value, statements: Vec<Value>) {
    policy["Statement"] = Value::Array(statements);
}
