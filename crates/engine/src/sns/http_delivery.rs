//! Delivery to HTTP/HTTPS subscriptions: each has an internal delivery queue (account
//! `sns:http`) that Publish writes into; the `sns-http` worker POSTs each message with the
//! `x-amz-sns-*` headers, retries by the subscription's delivery policy and, when retries
//! are exhausted, moves the message to the subscription's dead-letter queue.
//!
//! A message in a delivery queue is a [`HttpDeliveryRecord`]: what to send, not yet
//! signed. The worker signs at delivery time, so the RSA work is off the publish path.
//! A retry is the message made invisible for the delay the delivery policy
//! (`delivery_policy.rs`) gives; the attempt number is its receive count. Moving to the dead-letter queue writes the message there before
//! deleting it here, so a crash in between delivers it twice, never zero times.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::SubscriptionRecord;
use super::delivery_policy::EffectiveHttpPolicy;
use super::envelope::{self, ConfirmationJson, EnvelopeAttributes, Notification};
use crate::sqs::{ChangeVisibilityInput, QueueRef, ReceiveMessageInput, ReceivedMessage};
use crate::{Engine, Error, Result};

/// How often the worker lists the delivery queues again (queues made through other nodes).
const RESCAN_PERIOD: Duration = Duration::from_secs(10);
/// The longest a poller's receive waits.
const POLL_WAIT_SECONDS: i64 = 20;
/// How long one POST may take before it counts as failed.
const POST_TIMEOUT: Duration = Duration::from_secs(15);
/// A received message stays invisible this long while it is being POSTed.
const IN_FLIGHT_VISIBILITY_SECONDS: i64 = 60;
/// Deliveries one subscription runs at once, at most.
const MAX_IN_FLIGHT: usize = 10;
/// The pause after a failed receive.
const ERROR_PAUSE: Duration = Duration::from_secs(1);

/// One message waiting in a delivery queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub(crate) enum HttpDeliveryRecord {
    Notification {
        message_id: String,
        topic_arn: String,
        subject: Option<String>,
        message: String,
        timestamp: String,
        attributes: EnvelopeAttributes,
        raw: bool,
    },
    /// `SubscriptionConfirmation` (or `UnsubscribeConfirmation`).
    Confirmation {
        message_type: String,
        message_id: String,
        topic_arn: String,
        token: String,
        message: String,
        timestamp: String,
    },
}

impl HttpDeliveryRecord {
    pub(crate) fn encode(&self) -> Result<String> {
        serde_json::to_string(self)
            .map_err(|error| Error::Store(store::Error::Corrupt(error.to_string())))
    }
}

/// The subscription a delivery queue serves, from the queue's tags.
const TAG_ACCOUNT: &str = "eddy:sns-account";
const TAG_TOPIC: &str = "eddy:sns-topic";
const TAG_ID: &str = "eddy:sns-subscription";

/// The subscription a delivery queue serves (from the queue's tags).
struct QueueOwner {
    account: String,
    topic: String,
    id: String,
}

/// One POST of a delivery: what the endpoint did and what was sent.
struct HttpAttempt {
    outcome: std::result::Result<u16, String>,
    message_type: String,
    message_id: String,
    body: String,
    policy: EffectiveHttpPolicy,
}

/// Whether the endpoint answered with success.
fn delivered(status: u16) -> bool {
    (200..300).contains(&status)
}

impl Engine {
    /// Queues the SubscriptionConfirmation of a new HTTP/HTTPS subscription.
    pub(crate) async fn send_subscription_confirmation(
        &self,
        subscription: &SubscriptionRecord,
    ) -> Result<()> {
        let Some(token) = subscription.token.clone() else {
            return Ok(());
        };
        let topic_arn = self.topic_arn(&subscription.account, &subscription.topic);
        let record = HttpDeliveryRecord::Confirmation {
            message_type: "SubscriptionConfirmation".to_string(),
            message_id: uuid::Uuid::new_v4().to_string(),
            message: format!(
                "You have chosen to subscribe to the topic {topic_arn}.\nTo confirm the \
                 subscription, visit the SubscribeURL included in this message."
            ),
            topic_arn,
            token,
            timestamp: envelope::iso_timestamp(self.now()),
        };
        let (queue, _) = self.http_delivery_queue(subscription).await?;
        self.send_internal_message(&queue, record.encode()?, 0)
            .await?;
        self.request_http_poller(&queue);
        Ok(())
    }

    /// Tells an HTTP/HTTPS endpoint that its subscription was deleted, as AWS does: one
    /// signed `UnsubscribeConfirmation` POST, in the background and not retried (the
    /// subscription, and with it its delivery queue, no longer exists).
    pub(crate) fn send_unsubscribe_confirmation(&self, subscription: SubscriptionRecord) {
        let engine = self.clone();
        tokio::spawn(async move {
            let topic_arn = engine.topic_arn(&subscription.account, &subscription.topic);
            let subscription_arn = engine.subscription_arn(
                &subscription.account,
                &subscription.topic,
                &subscription.id,
            );
            let record = HttpDeliveryRecord::Confirmation {
                message_type: "UnsubscribeConfirmation".to_string(),
                message_id: uuid::Uuid::new_v4().to_string(),
                message: format!(
                    "You have chosen to deactivate subscription {subscription_arn}.\nTo cancel \
                     this operation and restore the subscription, visit the SubscribeURL \
                     included in this message."
                ),
                topic_arn,
                token: subscription
                    .token
                    .clone()
                    .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()),
                timestamp: envelope::iso_timestamp(engine.now()),
            };
            let topic = engine
                .load_topic(&subscription.account, &subscription.topic)
                .await
                .ok()
                .flatten();
            match engine
                .post_http_delivery(&record, &subscription, topic.as_ref())
                .await
            {
                Ok(attempt) => {
                    tracing::debug!(subscription = %subscription_arn, outcome = ?attempt.outcome, "UnsubscribeConfirmation sent")
                }
                Err(error) => {
                    tracing::warn!(subscription = %subscription_arn, %error, "cannot send UnsubscribeConfirmation")
                }
            }
        });
    }

    /// Deletes the internal delivery queue of an HTTP/HTTPS subscription that is gone.
    pub(crate) async fn drop_http_delivery_queue(
        &self,
        subscription: &SubscriptionRecord,
    ) -> Result<()> {
        let queue = http_queue_ref(subscription);
        match self.delete_queue(&queue).await {
            Ok(()) | Err(Error::QueueDoesNotExist) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// The delivery queue of an HTTP/HTTPS subscription, created on first use.
    pub(crate) async fn http_delivery_queue(
        &self,
        subscription: &SubscriptionRecord,
    ) -> Result<(QueueRef, store::QueueRecord)> {
        let queue = http_queue_ref(subscription);
        if let Some(record) = self.existing_queue(&queue).await? {
            return Ok((queue, record));
        }
        let caller = crate::sqs::Caller {
            account: super::HTTP_QUEUE_ACCOUNT.to_string(),
            sender_id: super::HTTP_QUEUE_ACCOUNT.to_string(),
        };
        let input = crate::sqs::CreateQueueInput {
            name: queue.name.clone(),
            attributes: BTreeMap::from([(
                // SNS keeps retrying HTTP deliveries for at most an hour; keep them longer.
                "MessageRetentionPeriod".to_string(),
                (4 * 24 * 3600).to_string(),
            )]),
            tags: BTreeMap::from([
                (TAG_ACCOUNT.to_string(), subscription.account.clone()),
                (TAG_TOPIC.to_string(), subscription.topic.clone()),
                (TAG_ID.to_string(), subscription.id.clone()),
            ]),
        };
        match self.create_queue(&caller, input).await {
            Ok(_) | Err(Error::QueueNameExists(_)) => {}
            Err(error) => return Err(error),
        }
        let record = self.queue_record(&queue).await?;
        Ok((queue, record))
    }

    pub(crate) fn request_http_poller(&self, queue: &QueueRef) {
        if let Some(requests) = self.inner.sns.http_poller_requests.get() {
            // The worker is gone only at shutdown; the message waits in the store then.
            let _ = requests.send(queue.clone());
        }
    }

    /// Starts the `sns-http` worker in `tasks` (once per engine).
    pub(crate) fn start_http_delivery_worker(&self, tasks: &mut JoinSet<()>) {
        let (requests, receiver) = mpsc::unbounded_channel();
        if self.inner.sns.http_poller_requests.set(requests).is_err() {
            return;
        }
        let engine = self.clone();
        tasks.spawn(async move {
            engine.load_signing_keys().await;
            crate::workers::supervise_queue_pollers(
                engine,
                "sns-http",
                super::HTTP_QUEUE_ACCOUNT,
                RESCAN_PERIOD,
                receiver,
                |engine, queue| engine.poll_http_queue(queue),
            )
            .await
        });
    }

    /// Serves one delivery queue until shutdown, or until the queue is gone.
    async fn poll_http_queue(self, queue: QueueRef) {
        let shutdown = self.shutdown_token().clone();
        // The subscription a delivery queue serves never changes: read it once.
        let owner = match self.list_queue_tags(&queue).await {
            Ok(tags) => match (tags.get(TAG_ACCOUNT), tags.get(TAG_TOPIC), tags.get(TAG_ID)) {
                (Some(account), Some(topic), Some(id)) => std::sync::Arc::new(QueueOwner {
                    account: account.clone(),
                    topic: topic.clone(),
                    id: id.clone(),
                }),
                _ => {
                    tracing::warn!(queue = %queue.name, "delivery queue without its subscription's tags; not polled");
                    return;
                }
            },
            Err(Error::QueueDoesNotExist) => return,
            Err(error) => {
                // The rescan starts it again.
                tracing::warn!(queue = %queue.name, %error, "cannot read delivery queue");
                return;
            }
        };
        let mut in_flight: JoinSet<()> = JoinSet::new();
        loop {
            while let Some(ended) = in_flight.try_join_next() {
                if let Err(error) = ended {
                    tracing::error!(queue = %queue.name, %error, "HTTP delivery task failed");
                }
            }
            let room = MAX_IN_FLIGHT.saturating_sub(in_flight.len());
            if room == 0 {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = in_flight.join_next() => {}
                }
                continue;
            }
            let received = self
                .receive_message(
                    &queue,
                    ReceiveMessageInput {
                        max_number_of_messages: i64::try_from(room).ok(),
                        visibility_timeout: Some(IN_FLIGHT_VISIBILITY_SECONDS),
                        wait_time_seconds: Some(POLL_WAIT_SECONDS),
                        attribute_names: vec!["ApproximateReceiveCount".to_string()],
                        ..ReceiveMessageInput::default()
                    },
                )
                .await;
            if shutdown.is_cancelled() {
                break;
            }
            match received {
                Ok(messages) => {
                    for message in messages {
                        let engine = self.clone();
                        let queue = queue.clone();
                        let owner = owner.clone();
                        in_flight.spawn(async move {
                            if let Err(error) = engine.deliver_http(&queue, &owner, &message).await
                            {
                                tracing::warn!(queue = %queue.name, %error, "HTTP delivery left for a later try");
                            }
                        });
                    }
                }
                Err(Error::QueueDoesNotExist) => break,
                Err(error) => {
                    tracing::warn!(queue = %queue.name, %error, "cannot receive from delivery queue");
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(ERROR_PAUSE) => {}
                    }
                }
            }
        }
        in_flight.shutdown().await;
    }

    /// One attempt at one message: POST it; on success delete it; on failure schedule the
    /// retry, or dead-letter it when the policy's retries are used up.
    async fn deliver_http(
        &self,
        queue: &QueueRef,
        owner: &QueueOwner,
        received: &ReceivedMessage,
    ) -> Result<()> {
        let record: Option<HttpDeliveryRecord> = serde_json::from_str(&received.body).ok();
        let Some(record) = record else {
            tracing::warn!(queue = %queue.name, "unreadable HTTP delivery dropped");
            return self.delete_message(queue, &received.receipt_handle).await;
        };
        let (account, topic, id) = (&owner.account, &owner.topic, &owner.id);
        let Some(subscription) = self.load_subscription(account, topic, id).await? else {
            // Unsubscribed: nothing more goes to that endpoint.
            return self.delete_message(queue, &received.receipt_handle).await;
        };
        let topic_record = self.load_topic(account, topic).await?;
        let subscription_arn = self.subscription_arn(account, topic, id);
        let HttpAttempt {
            outcome,
            message_type,
            message_id,
            body,
            policy,
        } = self
            .post_http_delivery(&record, &subscription, topic_record.as_ref())
            .await?;
        let failure = match outcome {
            Ok(status) if delivered(status) => {
                tracing::debug!(subscription = %subscription_arn, %message_id, status, "HTTP notification delivered");
                return self.delete_message(queue, &received.receipt_handle).await;
            }
            Ok(status) => format!("endpoint answered {status}"),
            Err(reason) => reason,
        };
        let attempt: usize = received
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|count| count.parse().ok())
            .unwrap_or(1);
        if let Some(&delay) = policy.retry.retry_delays().get(attempt.saturating_sub(1)) {
            tracing::info!(subscription = %subscription_arn, %message_id, attempt, delay, %failure, "HTTP delivery failed; will retry");
            return self
                .change_message_visibility(
                    queue,
                    ChangeVisibilityInput {
                        receipt_handle: received.receipt_handle.clone(),
                        visibility_timeout: i64::from(delay),
                    },
                )
                .await;
        }
        tracing::warn!(subscription = %subscription_arn, %message_id, attempts = attempt, %failure, "HTTP delivery failed; retries exhausted");
        if message_type == "Notification" {
            self.dead_letter_http(&subscription, body).await?;
        }
        self.delete_message(queue, &received.receipt_handle).await
    }

    /// Renders one delivery (signing it now) and POSTs it once to the subscription's
    /// endpoint; answers what the endpoint did and the body sent (for a dead-letter
    /// queue).
    async fn post_http_delivery(
        &self,
        record: &HttpDeliveryRecord,
        subscription: &SubscriptionRecord,
        topic_record: Option<&super::TopicRecord>,
    ) -> Result<HttpAttempt> {
        let subscription_arn =
            self.subscription_arn(&subscription.account, &subscription.topic, &subscription.id);
        let (message_type, message_id, topic_arn, body, raw) = match record {
            HttpDeliveryRecord::Notification {
                message_id,
                topic_arn,
                subject,
                message,
                timestamp,
                attributes,
                raw,
            } => {
                let body = if *raw {
                    message.clone()
                } else {
                    let signature = match topic_record {
                        Some(topic_record) => {
                            self.sign_notification(
                                topic_record,
                                message,
                                message_id,
                                subject.as_deref(),
                                timestamp,
                                topic_arn,
                            )
                            .await?
                        }
                        None => None,
                    };
                    envelope::envelope_json(&Notification {
                        message_id,
                        sequence_number: None,
                        topic_arn,
                        subject: subject.as_deref(),
                        message,
                        timestamp,
                        signature: signature
                            .as_ref()
                            .map(|(v, s, c)| (v.as_str(), s.as_str(), c.as_str())),
                        unsubscribe_url: &self.unsubscribe_url(&subscription_arn),
                        attributes,
                    })
                };
                (
                    "Notification",
                    message_id.clone(),
                    topic_arn.clone(),
                    body,
                    *raw,
                )
            }
            HttpDeliveryRecord::Confirmation {
                message_type,
                message_id,
                topic_arn,
                token,
                message,
                timestamp,
            } => {
                let subscribe_url = format!(
                    "{}/?Action=ConfirmSubscription&TopicArn={topic_arn}&Token={token}",
                    self.public_url()
                );
                let (version, signature, cert) = self
                    .sign_confirmation(
                        topic_record,
                        message_type,
                        message,
                        message_id,
                        &subscribe_url,
                        timestamp,
                        token,
                        topic_arn,
                    )
                    .await?;
                let body = envelope::confirmation_json(&ConfirmationJson {
                    kind: message_type,
                    message_id,
                    token,
                    topic_arn,
                    message,
                    subscribe_url: &subscribe_url,
                    timestamp,
                    signature_version: &version,
                    signature: &signature,
                    signing_cert_url: &cert,
                });
                (
                    message_type.as_str(),
                    message_id.clone(),
                    topic_arn.clone(),
                    body,
                    false,
                )
            }
        };
        let policy = match topic_record {
            Some(topic) => subscription.effective_delivery_policy(topic),
            None => EffectiveHttpPolicy::of(
                None,
                subscription
                    .attributes
                    .get("DeliveryPolicy")
                    .map(String::as_str),
            ),
        };
        let mut headers = vec![
            (
                "x-amz-sns-message-type".to_string(),
                message_type.to_string(),
            ),
            ("x-amz-sns-message-id".to_string(), message_id.clone()),
            ("x-amz-sns-topic-arn".to_string(), topic_arn.clone()),
            ("Content-Type".to_string(), policy.content_type.clone()),
            (
                "User-Agent".to_string(),
                "Amazon Simple Notification Service Agent".to_string(),
            ),
        ];
        if message_type != "SubscriptionConfirmation" {
            headers.push((
                "x-amz-sns-subscription-arn".to_string(),
                subscription_arn.clone(),
            ));
        }
        if raw {
            headers.push(("x-amz-sns-rawdelivery".to_string(), "true".to_string()));
        }
        let outcome = match self.sns_platform() {
            Some(platform) => {
                platform
                    .http
                    .post(&subscription.endpoint, headers, body.clone(), POST_TIMEOUT)
                    .await
            }
            None => Err("this server cannot send HTTP requests".to_string()),
        };
        Ok(HttpAttempt {
            outcome,
            message_type: message_type.to_string(),
            message_id,
            body,
            policy,
        })
    }

    /// Sends an undeliverable notification to the subscription's dead-letter queue, if it
    /// has one that exists.
    async fn dead_letter_http(
        &self,
        subscription: &SubscriptionRecord,
        body: String,
    ) -> Result<()> {
        let Some(queue) = super::publish::subscription_dead_letter_queue(subscription) else {
            return Ok(());
        };
        let Some(record) = self.existing_queue(&queue).await? else {
            tracing::warn!(queue = %queue.name, "dead-letter queue of subscription does not exist; message dropped");
            return Ok(());
        };
        let message = super::publish::plain_delivery(&record, body, self.now());
        let outcomes = self.store().send_messages(record.id, vec![message]).await?;
        self.inner.sqs.wake_for_messages(record.id, outcomes.len());
        Ok(())
    }
}

/// The delivery queue of an HTTP/HTTPS subscription.
fn http_queue_ref(subscription: &SubscriptionRecord) -> QueueRef {
    QueueRef {
        account: super::HTTP_QUEUE_ACCOUNT.to_string(),
        name: super::internal_queue_name(
            &[&subscription.account, &subscription.topic, &subscription.id],
            "",
        ),
    }
}
