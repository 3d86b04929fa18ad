//! How topics and subscriptions are stored, and this node's cache of them for Publish.
//!
//! Both are engine-owned JSON documents in the store's resource table, in the topic
//! owner's account: a topic under kind `sns-topic` and key `<name>`, a subscription under
//! kind `sns-subscription` and key `<topic name>:<id>`, so a topic's subscriptions are one
//! prefix listing.
//!
//! Publish reads a topic and its subscriptions (with their filter policies parsed) from a
//! per-node cache. Every change made through this node drops the topic's entry. With a
//! store shared by several nodes an entry also expires after [`SHARED_CACHE_TTL`], so a
//! change made on another node reaches this node's publishes within that time (AWS
//! documents that subscription changes can take minutes to apply).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use store::{ResourceCondition, ResourceOutcome, ResourceRecord};

use super::SnsPlatform;
use super::delivery_policy::EffectiveHttpPolicy;
use super::filter_policy::{FilterPolicy, FilterPolicyScope};
use crate::{Engine, Error, Result};

pub(crate) const TOPIC_KIND: &str = "sns-topic";
pub(crate) const SUBSCRIPTION_KIND: &str = "sns-subscription";
/// One per subscribed (protocol, endpoint) of a topic, naming its subscription, so two
/// concurrent Subscribes of one endpoint agree on one subscription. Key
/// `<topic name>:<sha-256 of protocol and endpoint>`.
pub(crate) const ENDPOINT_KIND: &str = "sns-endpoint";
/// How long a cached topic is trusted when other nodes may change it.
const SHARED_CACHE_TTL: Duration = Duration::from_secs(1);
/// The most subscriptions one topic listing reads per page.
const PAGE: usize = 1000;

/// A topic as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TopicRecord {
    pub account: String,
    pub name: String,
    pub fifo: bool,
    /// The attributes a client set (DisplayName, Policy, DeliveryPolicy,
    /// ContentBasedDeduplication, SignatureVersion, …), as given.
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub data_protection_policy: Option<String>,
    pub created_at: store::Millis,
}

/// A subscription as stored, in the topic owner's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SubscriptionRecord {
    /// The topic owner's account.
    pub account: String,
    pub topic: String,
    pub id: String,
    /// `sqs`, `lambda`, `http`, `https`.
    pub protocol: String,
    pub endpoint: String,
    /// The subscriber's account (`Owner`).
    pub owner: String,
    /// RawMessageDelivery, FilterPolicy, FilterPolicyScope, RedrivePolicy, DeliveryPolicy,
    /// SubscriptionRoleArn, as set.
    pub attributes: BTreeMap<String, String>,
    /// HTTP/HTTPS subscriptions wait for the endpoint to confirm.
    pub pending_confirmation: bool,
    /// The token a SubscriptionConfirmation carries.
    pub token: Option<String>,
    pub created_at: store::Millis,
}

impl TopicRecord {
    /// FIFO topics only: whether a message without a deduplication id is deduplicated by
    /// the SHA-256 of its body (the attribute is stored as `true` or `false`).
    pub(crate) fn content_based_deduplication(&self) -> bool {
        self.fifo
            && self
                .attributes
                .get("ContentBasedDeduplication")
                .is_some_and(|value| value == "true")
    }

    /// `1` (SHA1withRSA, the default) or `2` (SHA256withRSA).
    pub(crate) fn signature_version(&self) -> &str {
        self.attributes
            .get("SignatureVersion")
            .map_or("1", String::as_str)
    }
}

impl SubscriptionRecord {
    pub(crate) fn key(&self) -> String {
        subscription_key(&self.topic, &self.id)
    }

    pub(crate) fn raw_message_delivery(&self) -> bool {
        self.attributes
            .get("RawMessageDelivery")
            .is_some_and(|value| value.eq_ignore_ascii_case("true"))
    }

    /// The parsed filter policy, `None` when there is none (everything passes).
    pub(crate) fn filter_policy(&self) -> Option<FilterPolicy> {
        let policy = self.attributes.get("FilterPolicy")?;
        if policy.trim().is_empty() {
            return None;
        }
        let scope = self
            .attributes
            .get("FilterPolicyScope")
            .and_then(|scope| FilterPolicyScope::from_attribute(scope))
            .unwrap_or_default();
        // Stored policies were validated when set; one that no longer parses (a stricter
        // eddy) blocks nothing rather than everything.
        FilterPolicy::parse(policy, scope).ok()
    }

    /// What an HTTP/HTTPS delivery follows: retries, throttle and content type from the
    /// topic's and this subscription's delivery policies.
    pub(crate) fn effective_delivery_policy(&self, topic: &TopicRecord) -> EffectiveHttpPolicy {
        EffectiveHttpPolicy::of(
            topic.attributes.get("DeliveryPolicy").map(String::as_str),
            self.attributes.get("DeliveryPolicy").map(String::as_str),
        )
    }
}

pub(crate) fn subscription_key(topic: &str, id: &str) -> String {
    format!("{topic}:{id}")
}

fn endpoint_key(topic: &str, protocol: &str, endpoint: &str) -> String {
    use sha2::Digest;
    let mut digest = sha2::Sha256::new();
    digest.update(protocol.as_bytes());
    digest.update(b"\n");
    digest.update(endpoint.as_bytes());
    format!("{topic}:{}", hex::encode(digest.finalize()))
}

/// A topic with its subscriptions, as Publish needs them.
#[derive(Debug)]
pub(crate) struct TopicView {
    pub topic: TopicRecord,
    pub subscriptions: Vec<SubscriptionView>,
}

#[derive(Debug)]
pub(crate) struct SubscriptionView {
    pub record: SubscriptionRecord,
    pub filter: Option<FilterPolicy>,
}

/// (account, topic name).
type TopicKey = (String, String);
/// A cached view and when it was read.
type CachedTopic = (Instant, Arc<TopicView>);

/// SNS state that lives only in this process.
#[derive(Debug, Default)]
pub(crate) struct SnsState {
    pub(crate) platform: OnceLock<SnsPlatform>,
    /// The signing key pair, loaded from the store on first use.
    pub(crate) keys: tokio::sync::OnceCell<Arc<super::signing::SigningKeys>>,
    /// The last FIFO sequence number this node handed out.
    pub(crate) last_sequence: std::sync::atomic::AtomicI64,
    /// Whether SQS and Lambda deliveries carry real signatures (HTTP ones always do).
    pub(crate) sign_envelopes: std::sync::atomic::AtomicBool,
    /// Asks the `sns-http` worker for the poller of an HTTP delivery queue.
    pub(crate) http_poller_requests:
        OnceLock<tokio::sync::mpsc::UnboundedSender<crate::sqs::QueueRef>>,
    topics: Mutex<HashMap<TopicKey, CachedTopic>>,
    /// Bumped by every invalidation, so a view read before one is not cached after it.
    generation: Mutex<u64>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn decode<T: for<'de> Deserialize<'de>>(resource: &ResourceRecord) -> Result<T> {
    serde_json::from_str(&resource.document).map_err(|error| {
        Error::Store(store::Error::Corrupt(format!(
            "{} {}: {error}",
            resource.kind, resource.key
        )))
    })
}

fn encode<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|error| Error::Store(store::Error::Corrupt(error.to_string())))
}

impl Engine {
    pub(crate) async fn load_topic(
        &self,
        account: &str,
        name: &str,
    ) -> Result<Option<TopicRecord>> {
        match self.store().get_resource(account, TOPIC_KIND, name).await? {
            Some(resource) => Ok(Some(decode(&resource)?)),
            None => Ok(None),
        }
    }

    /// A topic and the revision it was read at, for a conditional rewrite.
    pub(crate) async fn load_topic_revision(
        &self,
        account: &str,
        name: &str,
    ) -> Result<Option<(TopicRecord, String)>> {
        match self.store().get_resource(account, TOPIC_KIND, name).await? {
            Some(resource) => Ok(Some((decode(&resource)?, resource.revision_id))),
            None => Ok(None),
        }
    }

    /// Writes a topic if `condition` holds; false when it did not.
    pub(crate) async fn save_topic(
        &self,
        topic: &TopicRecord,
        condition: ResourceCondition,
    ) -> Result<bool> {
        let record = ResourceRecord {
            account: topic.account.clone(),
            kind: TOPIC_KIND.to_string(),
            key: topic.name.clone(),
            document: encode(topic)?,
            revision_id: uuid::Uuid::new_v4().to_string(),
            modified_at: self.now(),
        };
        let outcome = self.store().put_resource(record, None, condition).await?;
        self.forget_topic(&topic.account, &topic.name);
        Ok(outcome == ResourceOutcome::Done)
    }

    /// Deletes a topic and every subscription of it; false when the topic did not exist.
    pub(crate) async fn remove_topic(&self, account: &str, name: &str) -> Result<bool> {
        let outcome = self
            .store()
            .delete_resource(account, TOPIC_KIND, name, ResourceCondition::Any)
            .await?;
        self.store()
            .delete_resources(account, SUBSCRIPTION_KIND, &format!("{name}:"))
            .await?;
        self.store()
            .delete_resources(account, ENDPOINT_KIND, &format!("{name}:"))
            .await?;
        self.forget_topic(account, name);
        Ok(outcome == ResourceOutcome::Done)
    }

    /// Topics of `account` by name, names after `after`, at most `limit`.
    pub(crate) async fn list_topic_records(
        &self,
        account: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<TopicRecord>> {
        self.store()
            .list_resources(account, TOPIC_KIND, "", after, limit)
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    pub(crate) async fn load_subscription(
        &self,
        account: &str,
        topic: &str,
        id: &str,
    ) -> Result<Option<SubscriptionRecord>> {
        match self
            .store()
            .get_resource(account, SUBSCRIPTION_KIND, &subscription_key(topic, id))
            .await?
        {
            Some(resource) => Ok(Some(decode(&resource)?)),
            None => Ok(None),
        }
    }

    /// A subscription and the revision it was read at, for a conditional rewrite.
    pub(crate) async fn load_subscription_revision(
        &self,
        account: &str,
        topic: &str,
        id: &str,
    ) -> Result<Option<(SubscriptionRecord, String)>> {
        match self
            .store()
            .get_resource(account, SUBSCRIPTION_KIND, &subscription_key(topic, id))
            .await?
        {
            Some(resource) => Ok(Some((decode(&resource)?, resource.revision_id))),
            None => Ok(None),
        }
    }

    /// Writes a subscription if `condition` holds; false when it did not.
    pub(crate) async fn save_subscription(
        &self,
        subscription: &SubscriptionRecord,
        condition: ResourceCondition,
    ) -> Result<bool> {
        let record = ResourceRecord {
            account: subscription.account.clone(),
            kind: SUBSCRIPTION_KIND.to_string(),
            key: subscription.key(),
            document: encode(subscription)?,
            revision_id: uuid::Uuid::new_v4().to_string(),
            modified_at: self.now(),
        };
        let outcome = self.store().put_resource(record, None, condition).await?;
        self.forget_topic(&subscription.account, &subscription.topic);
        Ok(outcome == ResourceOutcome::Done)
    }

    /// Deletes a subscription; false when it did not exist.
    pub(crate) async fn remove_subscription(
        &self,
        account: &str,
        topic: &str,
        id: &str,
    ) -> Result<bool> {
        let outcome = self
            .store()
            .delete_resource(
                account,
                SUBSCRIPTION_KIND,
                &subscription_key(topic, id),
                ResourceCondition::Any,
            )
            .await?;
        self.forget_topic(account, topic);
        Ok(outcome == ResourceOutcome::Done)
    }

    /// Records `subscription` as the one of its (protocol, endpoint) on its topic, unless
    /// another already is; false when another is.
    pub(crate) async fn claim_endpoint(&self, subscription: &SubscriptionRecord) -> Result<bool> {
        let record = ResourceRecord {
            account: subscription.account.clone(),
            kind: ENDPOINT_KIND.to_string(),
            key: endpoint_key(
                &subscription.topic,
                &subscription.protocol,
                &subscription.endpoint,
            ),
            document: encode(&subscription.id)?,
            revision_id: uuid::Uuid::new_v4().to_string(),
            modified_at: self.now(),
        };
        let outcome = self
            .store()
            .put_resource(record, None, ResourceCondition::Absent)
            .await?;
        Ok(outcome == ResourceOutcome::Done)
    }

    /// The id of the subscription recorded for (protocol, endpoint) on a topic, with the
    /// claim's revision.
    pub(crate) async fn endpoint_claim(
        &self,
        account: &str,
        topic: &str,
        protocol: &str,
        endpoint: &str,
    ) -> Result<Option<(String, String)>> {
        let key = endpoint_key(topic, protocol, endpoint);
        match self
            .store()
            .get_resource(account, ENDPOINT_KIND, &key)
            .await?
        {
            Some(resource) => Ok(Some((decode(&resource)?, resource.revision_id))),
            None => Ok(None),
        }
    }

    /// Drops the claim of (protocol, endpoint) on a topic if it is still at `revision`.
    pub(crate) async fn release_endpoint(
        &self,
        account: &str,
        topic: &str,
        protocol: &str,
        endpoint: &str,
        revision: String,
    ) -> Result<()> {
        let key = endpoint_key(topic, protocol, endpoint);
        self.store()
            .delete_resource(
                account,
                ENDPOINT_KIND,
                &key,
                ResourceCondition::Revision(revision),
            )
            .await?;
        Ok(())
    }

    /// Every subscription of a topic, by key.
    pub(crate) async fn topic_subscriptions(
        &self,
        account: &str,
        topic: &str,
    ) -> Result<Vec<SubscriptionRecord>> {
        let prefix = format!("{topic}:");
        let mut subscriptions = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .store()
                .list_resources(account, SUBSCRIPTION_KIND, &prefix, after.as_deref(), PAGE)
                .await?;
            let full = page.len() == PAGE;
            after = page.last().map(|resource| resource.key.clone());
            for resource in &page {
                subscriptions.push(decode(resource)?);
            }
            if !full {
                return Ok(subscriptions);
            }
        }
    }

    /// One page of a topic's subscriptions: keys after `after`, at most `limit`.
    pub(crate) async fn topic_subscriptions_page(
        &self,
        account: &str,
        topic: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SubscriptionRecord>> {
        self.store()
            .list_resources(
                account,
                SUBSCRIPTION_KIND,
                &format!("{topic}:"),
                after,
                limit,
            )
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    /// Subscriptions of `account`'s topics (all of them), keys after `after`.
    pub(crate) async fn account_subscriptions(
        &self,
        account: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SubscriptionRecord>> {
        self.store()
            .list_resources(account, SUBSCRIPTION_KIND, "", after, limit)
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    /// The topic and its subscriptions, from this node's cache when it is fresh; `None`
    /// when the topic does not exist.
    pub(crate) async fn topic_view(
        &self,
        account: &str,
        name: &str,
    ) -> Result<Option<Arc<TopicView>>> {
        let key = (account.to_string(), name.to_string());
        let sole_writer = self.store().is_sole_writer();
        if let Some((loaded_at, view)) = lock(&self.inner.sns.topics).get(&key)
            && (sole_writer || loaded_at.elapsed() < SHARED_CACHE_TTL)
        {
            return Ok(Some(view.clone()));
        }
        let generation = *lock(&self.inner.sns.generation);
        let Some(topic) = self.load_topic(account, name).await? else {
            return Ok(None);
        };
        let subscriptions = self
            .topic_subscriptions(account, name)
            .await?
            .into_iter()
            .map(|record| SubscriptionView {
                filter: record.filter_policy(),
                record,
            })
            .collect();
        let view = Arc::new(TopicView {
            topic,
            subscriptions,
        });
        let generation_now = lock(&self.inner.sns.generation);
        if *generation_now == generation {
            lock(&self.inner.sns.topics).insert(key, (Instant::now(), view.clone()));
        }
        drop(generation_now);
        Ok(Some(view))
    }

    /// Drops a topic from this node's cache (after any change to it or its subscriptions).
    pub(crate) fn forget_topic(&self, account: &str, name: &str) {
        let mut generation = lock(&self.inner.sns.generation);
        *generation += 1;
        lock(&self.inner.sns.topics).remove(&(account.to_string(), name.to_string()));
    }
}
