//! SNS: topics, subscriptions and durable fan-out of published messages.
//!
//! # Layout
//!
//! - `types.rs`: inputs and outputs of the actions, shared with the api crate.
//! - `records.rs`: how topics and subscriptions are stored (engine-owned documents in the
//!   store's resource table) and this node's cache of them for Publish.
//! - `topics.rs`: CreateTopic, DeleteTopic, ListTopics, Get/SetTopicAttributes.
//! - `subscriptions.rs`: Subscribe, ConfirmSubscription, Unsubscribe, the listings and
//!   Get/SetSubscriptionAttributes.
//! - `tags.rs`: TagResource, UntagResource, ListTagsForResource.
//! - `publish.rs`: Publish and PublishBatch: validation, filter policies and the one commit
//!   that stores a delivery for every matching subscription.
//! - `envelope.rs`: the exact JSON AWS delivers (SQS envelope, Lambda event, HTTP body).
//! - `http_delivery.rs`: the worker that POSTs to HTTP/HTTPS subscriptions, with the
//!   delivery retry policy and the subscription's dead-letter queue.
//! - `filter_policy.rs`: subscription filter policies, parsed and matched.
//! - `delivery_policy.rs`: HTTP/HTTPS delivery policies (retries, throttle, content type),
//!   checked, and the effective policy of a subscription.
//!
//! # Invariants
//!
//! - Publish answers only after the message is committed, in one transaction, into every
//!   matching SQS subscription's queue and into the internal queue of every other matching
//!   subscription (a function's asynchronous-invocation queue, an HTTP subscription's
//!   delivery queue). Workers drain the internal queues; each step writes what follows
//!   before deleting its own message, so delivery is at least once across crashes.
//! - Internal queues live in reserved accounts (`sns:…`, `lambda:async`) that no access
//!   key can name.

mod delivery_policy;
mod envelope;
pub mod filter_policy;
mod http_delivery;
mod keys;
mod publish;
mod records;
pub mod signing;
mod subscriptions;
mod tags;
mod topics;
pub mod types;

use std::sync::Arc;
use std::time::Duration;

pub(crate) use records::{SnsState, SubscriptionRecord, TopicRecord};

/// The account that owns the internal delivery queues of HTTP subscriptions.
pub(crate) const HTTP_QUEUE_ACCOUNT: &str = "sns:http";
/// The account that owns the deduplication guard queues of FIFO topics.
pub(crate) const GUARD_QUEUE_ACCOUNT: &str = "sns:fifo";

/// A queue name for an internal queue from `parts`: `<part>-<part>…<suffix>` when that is
/// a valid SQS name, else a readable prefix and a hash of the whole.
pub(crate) fn internal_queue_name(parts: &[&str], suffix: &str) -> String {
    use sha2::{Digest, Sha256};
    const LIMIT: usize = 80;
    let full = parts.join("-");
    let clean = full
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if clean && full.len() + suffix.len() <= LIMIT {
        return format!("{full}{suffix}");
    }
    let hash = hex::encode(Sha256::digest(full.as_bytes()));
    let prefix: String = full
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(LIMIT - 33 - suffix.len())
        .collect();
    format!("{prefix}-{}{suffix}", &hash[..32])
}

/// Sends an HTTP POST for the HTTP delivery worker. The engine knows no HTTP library; the
/// server installs an implementation (`SnsPlatform::http`).
#[async_trait::async_trait]
pub trait HttpNotifier: Send + Sync + std::fmt::Debug {
    /// POSTs `body` to `url` with `headers`; the response status, or why none arrived
    /// within `timeout`.
    async fn post(
        &self,
        url: &str,
        headers: Vec<(String, String)>,
        body: String,
        timeout: Duration,
    ) -> Result<u16, String>;
}

/// What SNS needs from the server it runs in; set once with `Engine::set_sns_platform`.
#[derive(Debug, Clone)]
pub struct SnsPlatform {
    /// Where clients reach this server (`http://127.0.0.1:4566`), for the SubscribeURL,
    /// UnsubscribeURL and SigningCertURL put in messages.
    pub public_url: String,
    /// Sends HTTP/HTTPS notifications.
    pub http: Arc<dyn HttpNotifier>,
}

impl crate::Engine {
    /// Installs the server's SNS platform; later calls are ignored.
    pub fn set_sns_platform(&self, platform: SnsPlatform) {
        let _ = self.inner.sns.platform.set(platform);
    }

    pub(crate) fn sns_platform(&self) -> Option<&SnsPlatform> {
        self.inner.sns.platform.get()
    }

    /// `arn:aws:sns:<region>:<account>:<topic>`.
    pub fn topic_arn(&self, account: &str, name: &str) -> String {
        format!("arn:aws:sns:{}:{account}:{name}", self.config().region)
    }

    /// `arn:aws:sns:<region>:<account>:<topic>:<id>`.
    pub fn subscription_arn(&self, account: &str, topic: &str, id: &str) -> String {
        format!(
            "arn:aws:sns:{}:{account}:{topic}:{id}",
            self.config().region
        )
    }
}

/// The (account, topic name) an SNS topic ARN names, if it is one.
pub(crate) fn parse_topic_arn(arn: &str) -> Option<(String, String)> {
    let parsed = crate::sqs::arn::parse(arn)?;
    if parsed.service != "sns" || parsed.account.is_empty() || parsed.resource.contains(':') {
        return None;
    }
    Some((parsed.account.to_string(), parsed.resource.to_string()))
}

/// The (account, topic name, subscription id) an SNS subscription ARN names, if it is one.
pub(crate) fn parse_subscription_arn(arn: &str) -> Option<(String, String, String)> {
    let parsed = crate::sqs::arn::parse(arn)?;
    if parsed.service != "sns" || parsed.account.is_empty() {
        return None;
    }
    let (topic, id) = parsed.resource.split_once(':')?;
    if topic.is_empty() || id.is_empty() || id.contains(':') {
        return None;
    }
    Some((
        parsed.account.to_string(),
        topic.to_string(),
        id.to_string(),
    ))
}
