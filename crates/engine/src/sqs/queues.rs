//! Queue actions: CreateQueue, GetQueueUrl, ListQueues, DeleteQueue, Get/SetQueueAttributes,
//! PurgeQueue and ListDeadLetterSourceQueues.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use store::{CreateQueueOutcome, NewQueue, QueueRecord, QueueUpdate};

use super::attributes::{self as attrs, RedrivePolicy};
use super::types::{Caller, CreateQueueInput, ListQueuesInput, ListQueuesOutput, QueueRef};
use super::{arn, tags, validate};
use crate::{Engine, Error, Result};

/// SQS refuses to recreate a queue name within this long of its deletion.
const RECREATE_AFTER_DELETE_MS: i64 = 60_000;
/// One PurgeQueue per queue per this long.
const PURGE_INTERVAL_MS: i64 = 60_000;
const MAX_LIST_RESULTS: i64 = 1000;

impl Engine {
    pub async fn create_queue(&self, caller: &Caller, input: CreateQueueInput) -> Result<QueueRef> {
        let name = input.name;
        let fifo = match input.attributes.get(attrs::FIFO_QUEUE) {
            // `FifoQueue=true` makes this a FIFO queue, whose name must then end in
            // `.fifo` (checked below, with SQS's FIFO naming message). Any other value
            // is an attribute standard queues do not have.
            Some(value) if value.eq_ignore_ascii_case("true") => true,
            Some(_) => return Err(attrs::unknown_attribute(attrs::FIFO_QUEUE)),
            None => false,
        };
        validate::queue_name(&name, fifo)?;
        let mut requested = attrs::normalise(fifo, &input.attributes)?;
        // An empty Policy on create means "no policy", which is the default.
        requested.retain(|attribute, value| !(value.is_empty() && attribute == attrs::POLICY));
        let attributes = attrs::merge(&attrs::defaults(fifo), &requested)?;
        let source = QueueRef {
            account: caller.account.clone(),
            name: name.clone(),
        };
        self.check_redrive_target(&attributes, fifo, &self.queue_arn(&source))
            .await?;
        tags::validate_tags(&input.tags, &name, 0)?;

        let now = self.now();
        let outcome = self
            .store()
            .create_queue(NewQueue {
                account: caller.account.clone(),
                name: name.clone(),
                fifo,
                attributes,
                tags: input.tags,
                now,
                deleted_since: now - RECREATE_AFTER_DELETE_MS,
            })
            .await?;
        match outcome {
            CreateQueueOutcome::Created(record) => {
                tracing::debug!(queue = %record.name, id = record.id, fifo, "queue created");
                Ok(queue_ref(&record))
            }
            CreateQueueOutcome::Exists(existing) => {
                // Only the attributes the request names are compared, as SQS does.
                for (attribute, value) in &requested {
                    let current = existing.attributes.get(attribute);
                    let same = if value.is_empty() {
                        current.is_none()
                    } else {
                        current == Some(value)
                    };
                    if !same {
                        return Err(Error::QueueNameExists(format!(
                            "A queue already exists with the same name and a different value \
                             for attribute {attribute}"
                        )));
                    }
                }
                Ok(queue_ref(&existing))
            }
            CreateQueueOutcome::DeletedRecently(_) => Err(Error::QueueDeletedRecently(
                "You must wait 60 seconds after deleting a queue before you can create another \
                 with the same name."
                    .to_string(),
            )),
        }
    }

    /// `owner_account` is GetQueueUrl's `QueueOwnerAWSAccountId`.
    pub async fn get_queue_url(
        &self,
        caller: &Caller,
        name: &str,
        owner_account: Option<&str>,
    ) -> Result<QueueRef> {
        let queue = QueueRef {
            account: owner_account.unwrap_or(&caller.account).to_string(),
            name: name.to_string(),
        };
        let record = self.queue_record(&queue).await?;
        Ok(queue_ref(&record))
    }

    pub async fn list_queues(
        &self,
        caller: &Caller,
        input: ListQueuesInput,
    ) -> Result<ListQueuesOutput> {
        let limit = list_limit(input.max_results)?;
        let after = decode_token(input.next_token.as_deref())?;
        let prefix = input.prefix.unwrap_or_default();
        let mut records = self
            .store()
            .list_queues(Some(&caller.account), &prefix, after.as_deref(), limit + 1)
            .await?;
        Ok(paginate(&mut records, limit, input.max_results.is_some()))
    }

    pub async fn delete_queue(&self, queue: &QueueRef) -> Result<()> {
        let record = self.queue_record(queue).await?;
        if !self.store().delete_queue(record.id, self.now()).await? {
            return Err(Error::QueueDoesNotExist);
        }
        self.inner.sqs.forget(record.id);
        tracing::debug!(queue = %record.name, id = record.id, "queue deleted");
        Ok(())
    }

    pub async fn get_queue_attributes(
        &self,
        queue: &QueueRef,
        names: &[String],
    ) -> Result<BTreeMap<String, String>> {
        let record = self.queue_record(queue).await?;
        for name in names {
            let known = name == attrs::ALL
                || attrs::SETTABLE.contains(&name.as_str())
                || attrs::READ_ONLY.contains(&name.as_str());
            if !known {
                return Err(attrs::unknown_attribute(name));
            }
        }
        let all = names.iter().any(|n| n == attrs::ALL);
        let wanted = |name: &str| all || names.iter().any(|n| n == name);
        let mut result = BTreeMap::new();

        let counts_wanted = [
            attrs::APPROXIMATE_NUMBER_OF_MESSAGES,
            attrs::APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE,
            attrs::APPROXIMATE_NUMBER_OF_MESSAGES_DELAYED,
        ]
        .iter()
        .any(|n| wanted(n));
        if counts_wanted {
            let counts = self.store().message_counts(record.id, self.now()).await?;
            for (name, count) in [
                (attrs::APPROXIMATE_NUMBER_OF_MESSAGES, counts.visible),
                (
                    attrs::APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE,
                    counts.in_flight,
                ),
                (
                    attrs::APPROXIMATE_NUMBER_OF_MESSAGES_DELAYED,
                    counts.delayed,
                ),
            ] {
                if wanted(name) {
                    result.insert(name.to_string(), count.to_string());
                }
            }
        }
        if wanted(attrs::QUEUE_ARN) {
            result.insert(attrs::QUEUE_ARN.to_string(), self.queue_arn(queue));
        }
        if wanted(attrs::CREATED_TIMESTAMP) {
            result.insert(
                attrs::CREATED_TIMESTAMP.to_string(),
                (record.created_at / 1000).to_string(),
            );
        }
        if wanted(attrs::LAST_MODIFIED_TIMESTAMP) {
            result.insert(
                attrs::LAST_MODIFIED_TIMESTAMP.to_string(),
                (record.last_modified_at / 1000).to_string(),
            );
        }
        for name in attrs::SETTABLE {
            if wanted(name)
                && let Some(value) = record.attributes.get(name)
            {
                result.insert(name.to_string(), value.clone());
            }
        }
        Ok(result)
    }

    pub async fn set_queue_attributes(
        &self,
        queue: &QueueRef,
        attributes: BTreeMap<String, String>,
    ) -> Result<()> {
        let record = self.queue_record(queue).await?;
        let changes = attrs::normalise(record.fifo, &attributes)?;
        if changes.is_empty() {
            return Ok(());
        }
        let merged = attrs::merge(&record.attributes, &changes)?;
        if changes.contains_key(attrs::REDRIVE_POLICY) {
            self.check_redrive_target(&merged, record.fifo, &self.queue_arn(queue))
                .await?;
        }
        self.store()
            .update_queue(
                record.id,
                QueueUpdate {
                    attributes: Some(merged),
                    now: self.now(),
                    ..Default::default()
                },
            )
            .await?
            .ok_or(Error::QueueDoesNotExist)?;
        // A shorter visibility timeout or delay does not change stored messages, but a
        // changed wait time or redrive policy is worth a fresh look by waiting receives.
        self.inner.sqs.wake(record.id);
        Ok(())
    }

    pub async fn purge_queue(&self, queue: &QueueRef) -> Result<()> {
        let record = self.queue_record(queue).await?;
        let now = self.now();
        if let Some(purged_at) = record.purged_at
            && now - purged_at < PURGE_INTERVAL_MS
        {
            return Err(Error::PurgeQueueInProgress(format!(
                "Only one PurgeQueue operation on {} is allowed every 60 seconds.",
                record.name
            )));
        }
        self.store()
            .update_queue(
                record.id,
                QueueUpdate {
                    purged_at: Some(now),
                    now,
                    ..Default::default()
                },
            )
            .await?
            .ok_or(Error::QueueDoesNotExist)?;
        let purged = self.store().purge_queue(record.id, now).await?;
        tracing::debug!(queue = %record.name, purged, "queue purged");
        Ok(())
    }

    pub async fn list_dead_letter_source_queues(
        &self,
        queue: &QueueRef,
        max_results: Option<i64>,
        next_token: Option<String>,
    ) -> Result<ListQueuesOutput> {
        let record = self.queue_record(queue).await?;
        let limit = list_limit(max_results)?;
        let after = decode_token(next_token.as_deref())?;
        let target = self.queue_arn(queue);
        let mut sources: Vec<QueueRecord> = self
            .dead_letter_sources(&record.account, &target)
            .await?
            .into_iter()
            .filter(|source| after.as_deref().is_none_or(|a| source.name.as_str() > a))
            .take(limit + 1)
            .collect();
        Ok(paginate(&mut sources, limit, max_results.is_some()))
    }

    /// The queue a client names, or `QueueDoesNotExist`.
    pub(crate) async fn queue_record(&self, queue: &QueueRef) -> Result<QueueRecord> {
        self.store()
            .get_queue(&queue.account, &queue.name)
            .await?
            .ok_or(Error::QueueDoesNotExist)
    }

    /// The queue an ARN names, if it is a queue ARN and the queue exists.
    pub(crate) async fn queue_by_arn(&self, queue_arn: &str) -> Result<Option<QueueRecord>> {
        let Some(queue) = arn::queue_ref(queue_arn) else {
            return Ok(None);
        };
        Ok(self.store().get_queue(&queue.account, &queue.name).await?)
    }

    /// Every queue of `account` (in name order), or of all accounts (in id order) when
    /// `None`.
    pub(crate) async fn all_queues(&self, account: Option<&str>) -> Result<Vec<QueueRecord>> {
        const PAGE: usize = 1000;
        let mut queues: Vec<QueueRecord> = Vec::new();
        loop {
            // Names are unique within an account, so a name cursor is exact there; across
            // accounts the same name repeats, so the id is the cursor.
            let page = match account {
                Some(account) => {
                    let after = queues.last().map(|q| q.name.clone());
                    self.store()
                        .list_queues(Some(account), "", after.as_deref(), PAGE)
                        .await?
                }
                None => {
                    let after = queues.last().map(|q| q.id);
                    self.store().queues_after(after, PAGE).await?
                }
            };
            let done = page.len() < PAGE;
            queues.extend(page);
            if done {
                return Ok(queues);
            }
        }
    }

    /// Queues of `account` whose redrive policy targets `target_arn`, in name order.
    pub(crate) async fn dead_letter_sources(
        &self,
        account: &str,
        target_arn: &str,
    ) -> Result<Vec<QueueRecord>> {
        let queues = self.all_queues(Some(account)).await?;
        Ok(queues
            .into_iter()
            .filter(|q| {
                q.attributes
                    .get(attrs::REDRIVE_POLICY)
                    .and_then(|raw| RedrivePolicy::parse(raw).ok())
                    .is_some_and(|p| p.dead_letter_target_arn == target_arn)
            })
            .collect())
    }

    /// A redrive policy's dead-letter queue must exist and be of the source's type.
    /// Checks a queue's RedrivePolicy: the dead-letter queue exists, is of the same type,
    /// and its RedriveAllowPolicy lets `source_arn` use it.
    async fn check_redrive_target(
        &self,
        attributes: &BTreeMap<String, String>,
        fifo: bool,
        source_arn: &str,
    ) -> Result<()> {
        let Some(raw) = attributes.get(attrs::REDRIVE_POLICY) else {
            return Ok(());
        };
        let policy = RedrivePolicy::parse(raw)?;
        let invalid = |reason: &str| {
            Error::InvalidParameterValue(format!(
                "Value {raw} for parameter RedrivePolicy is invalid. Reason: {reason}"
            ))
        };
        let Some(target) = self.queue_by_arn(&policy.dead_letter_target_arn).await? else {
            return Err(invalid("Dead letter target does not exist."));
        };
        if target.fifo != fifo {
            return Err(invalid(
                "Dead-letter queue must be same type of queue as the source..",
            ));
        }
        let allowed = target
            .attributes
            .get(attrs::REDRIVE_ALLOW_POLICY)
            .is_none_or(|allow| attrs::redrive_allowed(allow, source_arn));
        if !allowed {
            return Err(invalid(&format!(
                "The RedriveAllowPolicy of {} does not allow this queue to use it as a \
                 dead-letter queue.",
                policy.dead_letter_target_arn
            )));
        }
        Ok(())
    }
}

pub(crate) fn queue_ref(record: &QueueRecord) -> QueueRef {
    QueueRef {
        account: record.account.clone(),
        name: record.name.clone(),
    }
}

fn list_limit(max_results: Option<i64>) -> Result<usize> {
    match max_results {
        None => Ok(MAX_LIST_RESULTS as usize),
        Some(n) if (1..=MAX_LIST_RESULTS).contains(&n) => Ok(n as usize),
        Some(n) => Err(Error::InvalidParameterValue(format!(
            "Value {n} for parameter MaxResults is invalid. Reason: MaxResults must be an \
             integer between 1 and 1000."
        ))),
    }
}

/// Trims `records` (fetched with one extra) to `limit` and issues a token for the rest,
/// only when the client asked for pages with MaxResults (SQS's rule).
fn paginate(records: &mut Vec<QueueRecord>, limit: usize, paged: bool) -> ListQueuesOutput {
    let more = records.len() > limit;
    records.truncate(limit);
    let next_token = (more && paged)
        .then(|| {
            records
                .last()
                .map(|last| URL_SAFE_NO_PAD.encode(&last.name))
        })
        .flatten();
    ListQueuesOutput {
        queues: records.iter().map(queue_ref).collect(),
        next_token,
    }
}

fn decode_token(token: Option<&str>) -> Result<Option<String>> {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .map(Some)
        .ok_or_else(|| Error::InvalidParameterValue("Invalid NextToken value.".to_string()))
}
