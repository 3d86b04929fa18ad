//! Subscribe, ConfirmSubscription, Unsubscribe, ListSubscriptions(ByTopic) and
//! Get/SetSubscriptionAttributes.
//!
//! eddy delivers to `sqs`, `lambda`, `http` and `https` endpoints; the other protocols AWS
//! knows (email, SMS, mobile push, Firehose) are refused with a reason. SQS and Lambda
//! subscriptions are confirmed at once; HTTP/HTTPS ones wait for the endpoint to visit the
//! SubscribeURL of the SubscriptionConfirmation the delivery worker sends it.
//!
//! Subscription attributes are stored as set, normalised (`RawMessageDelivery` in lower
//! case), plus two eddy keeps for itself under AWS's names: `ConfirmationWasAuthenticated`
//! and `AuthenticateOnUnsubscribe`.

use std::collections::BTreeMap;

use store::ResourceCondition;

use super::SubscriptionRecord;
use super::TopicRecord;
use super::delivery_policy::SubscriptionDeliveryPolicy;
use super::filter_policy::{FilterPolicy, FilterPolicyScope};
use super::topics::{PAGE_SIZE, UPDATE_ATTEMPTS, decode_next_token, encode_next_token};
use super::types::{Page, SnsCaller, SubscribeInput, SubscriptionSummary};
use crate::{Engine, Error, Result};

/// What Subscribe answers for a subscription that waits for its endpoint to confirm.
const PENDING_ANSWER: &str = "pending confirmation";
/// What the listings show instead of the ARN of such a subscription.
const PENDING_LISTED: &str = "PendingConfirmation";
/// Random bytes in a confirmation token (AWS's tokens are 288 hex digits).
const TOKEN_BYTES: usize = 144;
/// The attributes a client may set on a subscription.
const SETTABLE: [&str; 6] = [
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "SubscriptionRoleArn",
];
/// Kept in the record's attributes, never set by a client.
const CONFIRMATION_WAS_AUTHENTICATED: &str = "ConfirmationWasAuthenticated";
const AUTHENTICATE_ON_UNSUBSCRIBE: &str = "AuthenticateOnUnsubscribe";

fn invalid(message: impl Into<String>) -> Error {
    Error::SnsInvalidParameter(message.into())
}

fn subscription_not_found() -> Error {
    Error::SnsNotFound("Subscription does not exist".to_string())
}

/// Where an attribute problem is reported: Subscribe carries attributes in a map, so
/// AWS prefixes its reasons with `Attributes Reason:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    Subscribe,
    SetAttributes,
}

impl Call {
    fn error(self, reason: &str) -> Error {
        match self {
            Call::Subscribe => invalid(format!("Invalid parameter: Attributes Reason: {reason}")),
            Call::SetAttributes => invalid(format!("Invalid parameter: {reason}")),
        }
    }
}

/// The endpoint a subscription delivers to, as eddy understands it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Sqs,
    Lambda,
    Http,
    Https,
}

impl Protocol {
    fn parse(protocol: &str) -> Result<Protocol> {
        match protocol {
            "sqs" => Ok(Protocol::Sqs),
            "lambda" => Ok(Protocol::Lambda),
            "http" => Ok(Protocol::Http),
            "https" => Ok(Protocol::Https),
            "email" | "email-json" | "sms" | "application" | "firehose" => Err(invalid(format!(
                "Invalid parameter: Protocol Reason: eddy does not deliver to {protocol} endpoints; it delivers to sqs, lambda, http and https endpoints"
            ))),
            _ => Err(invalid(format!(
                "Invalid parameter: Amazon SNS does not support this protocol string: {protocol}"
            ))),
        }
    }

    fn is_http(self) -> bool {
        matches!(self, Protocol::Http | Protocol::Https)
    }
}

/// Checks a subscription's endpoint for its protocol and topic.
fn check_endpoint(protocol: Protocol, endpoint: &str, topic: &TopicRecord) -> Result<()> {
    match protocol {
        Protocol::Sqs => {
            if crate::sqs::arn::queue_ref(endpoint).is_none() {
                return Err(invalid("Invalid parameter: SQS endpoint ARN"));
            }
            if endpoint.ends_with(".fifo") && !topic.fifo {
                return Err(invalid(
                    "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics",
                ));
            }
        }
        Protocol::Lambda => {
            let valid = crate::sqs::arn::parse(endpoint).is_some_and(|arn| {
                let mut parts = arn.resource.split(':');
                arn.service == "lambda"
                    && !arn.account.is_empty()
                    && parts.next() == Some("function")
                    && parts.next().is_some_and(|name| !name.is_empty())
                    && parts.next().is_none_or(|qualifier| !qualifier.is_empty())
                    && parts.next().is_none()
            });
            if !valid {
                return Err(invalid("Invalid parameter: Lambda endpoint ARN"));
            }
        }
        Protocol::Http | Protocol::Https => {
            let scheme = if protocol == Protocol::Http {
                "http://"
            } else {
                "https://"
            };
            let Some(rest) = endpoint
                .get(..scheme.len())
                .filter(|prefix| prefix.eq_ignore_ascii_case(scheme))
                .map(|_| &endpoint[scheme.len()..])
            else {
                return Err(invalid(
                    "Invalid parameter: Endpoint must match the specified protocol",
                ));
            };
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            if host.is_empty() || host.contains(char::is_whitespace) {
                return Err(invalid(
                    "Invalid parameter: Endpoint Reason: not a valid URL",
                ));
            }
        }
    }
    if topic.fifo && protocol != Protocol::Sqs {
        return Err(invalid(
            "Invalid parameter: Endpoint Reason: FIFO topics deliver only to SQS queues",
        ));
    }
    Ok(())
}

/// Checks one subscription attribute a client sets; the value to store.
fn check_attribute(
    call: Call,
    name: &str,
    value: &str,
    protocol: Protocol,
    endpoint: &str,
    topic: &TopicRecord,
    scope: FilterPolicyScope,
) -> Result<String> {
    match name {
        "RawMessageDelivery" => {
            let normalized = value.to_ascii_lowercase();
            if normalized != "true" && normalized != "false" {
                return Err(call.error(&format!(
                    "RawMessageDelivery: Invalid value [{value}]. Must be true or false."
                )));
            }
            if normalized == "true" && protocol == Protocol::Lambda {
                return Err(call.error(
                    "Delivery protocol [lambda] does not support raw message delivery.",
                ));
            }
            Ok(normalized)
        }
        "FilterPolicyScope" => match FilterPolicyScope::from_attribute(value) {
            Some(_) => Ok(value.to_string()),
            None => Err(call.error(&format!(
                "FilterPolicyScope: Invalid value [{value}]. Please use either MessageBody or MessageAttributes"
            ))),
        },
        "FilterPolicy" => {
            if !value.trim().is_empty()
                && let Err(error) = FilterPolicy::parse(value, scope)
            {
                return Err(invalid(match call {
                    Call::Subscribe => error.subscribe_message(),
                    Call::SetAttributes => error.message(),
                }));
            }
            Ok(value.to_string())
        }
        "RedrivePolicy" => {
            if value.trim().is_empty() {
                return Ok(String::new());
            }
            let policy: serde_json::Value = serde_json::from_str(value)
                .map_err(|_| call.error("RedrivePolicy: failed to parse JSON."))?;
            let target = policy
                .get("deadLetterTargetArn")
                .and_then(|target| target.as_str())
                .unwrap_or("");
            let Some(queue) = crate::sqs::arn::queue_ref(target) else {
                return Err(call.error("RedrivePolicy: deadLetterTargetArn is an invalid arn"));
            };
            if topic.fifo && endpoint.ends_with(".fifo") && !queue.name.ends_with(".fifo") {
                return Err(call.error(
                    "RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic.",
                ));
            }
            Ok(value.to_string())
        }
        "DeliveryPolicy" => {
            if value.trim().is_empty() {
                return Ok(String::new());
            }
            if !protocol.is_http() {
                let name = match protocol {
                    Protocol::Sqs => "sqs",
                    _ => "lambda",
                };
                return Err(call.error(&format!(
                    "DeliveryPolicy: Delivery protocol [{name}] does not support delivery policies."
                )));
            }
            SubscriptionDeliveryPolicy::parse(value)
                .map_err(|reason| call.error(&format!("DeliveryPolicy: {reason}")))?;
            Ok(value.to_string())
        }
        "SubscriptionRoleArn" => Ok(value.to_string()),
        _ => Err(call.error("AttributeName")),
    }
}

/// The scope a filter policy is checked for: the one set alongside it, else the stored one.
fn scope_of(attributes: &BTreeMap<String, String>) -> FilterPolicyScope {
    attributes
        .get("FilterPolicyScope")
        .and_then(|scope| FilterPolicyScope::from_attribute(scope))
        .unwrap_or_default()
}

/// A token for a SubscriptionConfirmation: long, random, hex.
fn new_token() -> String {
    let bytes: Vec<u8> = (0..TOKEN_BYTES).map(|_| rand::random::<u8>()).collect();
    hex::encode(bytes)
}

/// Whether a subscription id looks like one eddy hands out (a UUID).
fn is_subscription_id(id: &str) -> bool {
    uuid::Uuid::try_parse(id).is_ok()
}

impl Engine {
    /// The (topic account, topic name, id) a subscription ARN names, with AWS's errors.
    fn subscription_of_arn(&self, arn: &str) -> Result<(String, String, String)> {
        if arn.is_empty() {
            return Err(invalid(
                "Invalid parameter: SubscriptionArn Reason: no value for required parameter",
            ));
        }
        let elements = arn.split(':').count();
        if elements < 6 {
            return Err(invalid(format!(
                "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not {elements}"
            )));
        }
        match super::parse_subscription_arn(arn) {
            Some((account, topic, id)) if is_subscription_id(&id) => Ok((account, topic, id)),
            _ => Err(invalid("Invalid parameter: SubscriptionId")),
        }
    }

    fn subscription_record_arn(&self, subscription: &SubscriptionRecord) -> String {
        self.subscription_arn(&subscription.account, &subscription.topic, &subscription.id)
    }

    fn summary(&self, subscription: &SubscriptionRecord) -> SubscriptionSummary {
        SubscriptionSummary {
            subscription_arn: if subscription.pending_confirmation {
                PENDING_LISTED.to_string()
            } else {
                self.subscription_record_arn(subscription)
            },
            owner: subscription.owner.clone(),
            protocol: subscription.protocol.clone(),
            endpoint: subscription.endpoint.clone(),
            topic_arn: self.topic_arn(&subscription.account, &subscription.topic),
        }
    }

    /// What Subscribe answers for `subscription`.
    fn subscribe_answer(&self, subscription: &SubscriptionRecord, return_arn: bool) -> String {
        if subscription.pending_confirmation && !return_arn {
            PENDING_ANSWER.to_string()
        } else {
            self.subscription_record_arn(subscription)
        }
    }

    /// Subscribes an endpoint; answers the subscription ARN, or `pending confirmation`
    /// for an HTTP/HTTPS endpoint that must confirm first (unless
    /// `return_subscription_arn`).
    pub async fn subscribe(&self, caller: &SnsCaller, input: SubscribeInput) -> Result<String> {
        let topic = self.existing_topic(&input.topic_arn, "TopicArn").await?;
        let protocol = Protocol::parse(&input.protocol)?;
        let endpoint = input
            .endpoint
            .filter(|endpoint| !endpoint.is_empty())
            .ok_or_else(|| {
                invalid("Invalid parameter: Endpoint Reason: no value for required parameter")
            })?;
        check_endpoint(protocol, &endpoint, &topic)?;
        let scope = scope_of(&input.attributes);
        let mut attributes = BTreeMap::new();
        for (name, value) in &input.attributes {
            let stored = check_attribute(
                Call::Subscribe,
                name,
                value,
                protocol,
                &endpoint,
                &topic,
                scope,
            )?;
            if !stored.is_empty() {
                attributes.insert(name.clone(), stored);
            }
        }

        let pending = protocol.is_http();
        attributes.insert(
            CONFIRMATION_WAS_AUTHENTICATED.to_string(),
            (!pending).to_string(),
        );
        let subscription = SubscriptionRecord {
            account: topic.account.clone(),
            topic: topic.name.clone(),
            id: uuid::Uuid::new_v4().to_string(),
            protocol: input.protocol.clone(),
            endpoint: endpoint.clone(),
            owner: if caller.is_anonymous() {
                topic.account.clone()
            } else {
                caller.account.clone()
            },
            attributes,
            pending_confirmation: pending,
            token: pending.then(new_token),
            created_at: self.now(),
        };
        // One subscription per protocol and endpoint, named by the endpoint's claim: a
        // repeat answers the claimed subscription. A new one is written first, then
        // claimed; of two concurrent Subscribes one claims, the other removes its own and
        // answers the claimed one. A claim whose subscription is gone (a crash in the
        // middle of an Unsubscribe) is stale and released.
        for _ in 0..UPDATE_ATTEMPTS {
            if let Some((claimed_id, claim_revision)) = self
                .endpoint_claim(&topic.account, &topic.name, &input.protocol, &endpoint)
                .await?
            {
                match self
                    .load_subscription(&topic.account, &topic.name, &claimed_id)
                    .await?
                {
                    Some(claimed) => {
                        return self
                            .repeat_subscribe(
                                &claimed,
                                &subscription.attributes,
                                input.return_subscription_arn,
                            )
                            .await;
                    }
                    None => {
                        self.release_endpoint(
                            &topic.account,
                            &topic.name,
                            &input.protocol,
                            &endpoint,
                            claim_revision,
                        )
                        .await?;
                        continue;
                    }
                }
            }
            self.save_subscription(&subscription, ResourceCondition::Absent)
                .await?;
            if self.claim_endpoint(&subscription).await? {
                // Subscriptions of this endpoint that never got the claim: racers about to
                // remove their own, or one a crash left between its two writes.
                for other in self
                    .topic_subscriptions(&topic.account, &topic.name)
                    .await?
                {
                    if other.id != subscription.id
                        && other.protocol == subscription.protocol
                        && other.endpoint == subscription.endpoint
                    {
                        self.remove_subscription(&other.account, &other.topic, &other.id)
                            .await?;
                    }
                }
                if pending {
                    self.send_subscription_confirmation(&subscription).await?;
                }
                return Ok(self.subscribe_answer(&subscription, input.return_subscription_arn));
            }
            self.remove_subscription(&subscription.account, &subscription.topic, &subscription.id)
                .await?;
        }
        Err(Error::Store(store::Error::Corrupt(format!(
            "the subscriptions of {} kept changing during Subscribe",
            input.topic_arn
        ))))
    }

    /// Subscribe of an endpoint that is already subscribed.
    async fn repeat_subscribe(
        &self,
        existing: &SubscriptionRecord,
        requested: &BTreeMap<String, String>,
        return_arn: bool,
    ) -> Result<String> {
        let conflicting = requested.iter().any(|(name, value)| {
            SETTABLE.contains(&name.as_str()) && existing.attributes.get(name) != Some(value)
        });
        if conflicting {
            return Err(invalid(
                "Invalid parameter: Attributes Reason: Subscription already exists with different attributes",
            ));
        }
        if existing.pending_confirmation {
            // The endpoint may have missed the first confirmation request.
            self.send_subscription_confirmation(existing).await?;
        }
        Ok(self.subscribe_answer(existing, return_arn))
    }

    /// Confirms a pending subscription with the token its SubscriptionConfirmation
    /// carried; answers the subscription ARN. Also reached without credentials through the
    /// SubscribeURL.
    pub async fn confirm_subscription(
        &self,
        caller: &SnsCaller,
        topic_arn: &str,
        token: &str,
        authenticate_on_unsubscribe: Option<String>,
    ) -> Result<String> {
        let Ok((account, topic)) = self.topic_of_arn(topic_arn, "Topic") else {
            return Err(invalid("Invalid parameter: Topic"));
        };
        if token.is_empty() || !token.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(invalid("Invalid token"));
        }
        let authenticate = match authenticate_on_unsubscribe.as_deref() {
            None | Some("") => false,
            Some(value) if value.eq_ignore_ascii_case("true") => true,
            Some(value) if value.eq_ignore_ascii_case("false") => false,
            Some(_) => return Err(invalid("Invalid parameter: AuthenticateOnUnsubscribe")),
        };
        for _ in 0..UPDATE_ATTEMPTS {
            let found = self
                .topic_subscriptions(&account, &topic)
                .await?
                .into_iter()
                .find(|subscription| subscription.token.as_deref() == Some(token));
            let Some(found) = found else {
                return Err(invalid("Invalid parameter: Token"));
            };
            let Some((mut subscription, revision)) = self
                .load_subscription_revision(&account, &topic, &found.id)
                .await?
            else {
                continue;
            };
            let arn = self.subscription_record_arn(&subscription);
            if !subscription.pending_confirmation {
                // Confirming twice answers the same ARN.
                return Ok(arn);
            }
            subscription.pending_confirmation = false;
            subscription.attributes.insert(
                CONFIRMATION_WAS_AUTHENTICATED.to_string(),
                (!caller.is_anonymous()).to_string(),
            );
            if authenticate && !caller.is_anonymous() {
                subscription
                    .attributes
                    .insert(AUTHENTICATE_ON_UNSUBSCRIBE.to_string(), "true".to_string());
            }
            if self
                .save_subscription(&subscription, ResourceCondition::Revision(revision))
                .await?
            {
                return Ok(arn);
            }
        }
        Err(Error::Store(store::Error::Corrupt(format!(
            "a subscription of {topic_arn} kept changing during ConfirmSubscription"
        ))))
    }

    pub async fn unsubscribe(&self, caller: &SnsCaller, subscription_arn: &str) -> Result<()> {
        let (account, topic, id) = self.subscription_of_arn(subscription_arn)?;
        let Some(subscription) = self.load_subscription(&account, &topic, &id).await? else {
            // Unsubscribing twice succeeds.
            return Ok(());
        };
        if caller.is_anonymous()
            && subscription
                .attributes
                .get(AUTHENTICATE_ON_UNSUBSCRIBE)
                .is_some_and(|value| value == "true")
        {
            return Err(Error::SnsAuthorizationError(format!(
                "User: anonymous is not authorized to perform: SNS:Unsubscribe on resource: {subscription_arn}"
            )));
        }
        self.remove_subscription(&account, &topic, &id).await?;
        if let Some((claimed_id, revision)) = self
            .endpoint_claim(
                &account,
                &topic,
                &subscription.protocol,
                &subscription.endpoint,
            )
            .await?
            && claimed_id == id
        {
            self.release_endpoint(
                &account,
                &topic,
                &subscription.protocol,
                &subscription.endpoint,
                revision,
            )
            .await?;
        }
        if matches!(subscription.protocol.as_str(), "http" | "https") {
            self.drop_http_delivery_queue(&subscription).await?;
        }
        Ok(())
    }

    /// The caller's subscriptions, 100 per page.
    pub async fn list_subscriptions(
        &self,
        caller: &SnsCaller,
        next_token: Option<String>,
    ) -> Result<Page<SubscriptionSummary>> {
        let after = decode_next_token(next_token)?;
        let subscriptions = self
            .account_subscriptions(&caller.account, after.as_deref(), PAGE_SIZE + 1)
            .await?;
        Ok(self.page_of(subscriptions))
    }

    /// A topic's subscriptions, 100 per page.
    pub async fn list_subscriptions_by_topic(
        &self,
        caller: &SnsCaller,
        topic_arn: &str,
        next_token: Option<String>,
    ) -> Result<Page<SubscriptionSummary>> {
        let _ = caller;
        let topic = self.existing_topic(topic_arn, "TopicArn").await?;
        let after = decode_next_token(next_token)?;
        // Keys are `<topic>:<id>`: a token from another topic's listing starts over.
        let prefix = format!("{}:", topic.name);
        let after = after.filter(|key| key.starts_with(&prefix));
        let subscriptions = self
            .topic_subscriptions_page(&topic.account, &topic.name, after.as_deref(), PAGE_SIZE + 1)
            .await?;
        Ok(self.page_of(subscriptions))
    }

    fn page_of(&self, mut subscriptions: Vec<SubscriptionRecord>) -> Page<SubscriptionSummary> {
        let next_token = if subscriptions.len() > PAGE_SIZE {
            subscriptions.truncate(PAGE_SIZE);
            subscriptions
                .last()
                .map(|subscription| encode_next_token(&subscription.key()))
        } else {
            None
        };
        Page {
            items: subscriptions
                .iter()
                .map(|subscription| self.summary(subscription))
                .collect(),
            next_token,
        }
    }

    async fn existing_subscription(&self, arn: &str) -> Result<SubscriptionRecord> {
        let (account, topic, id) = self.subscription_of_arn(arn)?;
        self.load_subscription(&account, &topic, &id)
            .await?
            .ok_or_else(subscription_not_found)
    }

    pub async fn get_subscription_attributes(
        &self,
        caller: &SnsCaller,
        subscription_arn: &str,
    ) -> Result<BTreeMap<String, String>> {
        let _ = caller;
        let subscription = self.existing_subscription(subscription_arn).await?;
        let arn = self.subscription_record_arn(&subscription);
        let mut attributes: BTreeMap<String, String> = subscription
            .attributes
            .iter()
            .filter(|(name, _)| SETTABLE.contains(&name.as_str()))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        attributes.insert("SubscriptionArn".to_string(), arn);
        attributes.insert(
            "TopicArn".to_string(),
            self.topic_arn(&subscription.account, &subscription.topic),
        );
        attributes.insert("Owner".to_string(), subscription.owner.clone());
        attributes.insert("Protocol".to_string(), subscription.protocol.clone());
        attributes.insert("Endpoint".to_string(), subscription.endpoint.clone());
        attributes.insert(
            "PendingConfirmation".to_string(),
            subscription.pending_confirmation.to_string(),
        );
        attributes.insert(
            CONFIRMATION_WAS_AUTHENTICATED.to_string(),
            subscription
                .attributes
                .get(CONFIRMATION_WAS_AUTHENTICATED)
                .cloned()
                .unwrap_or_else(|| (!subscription.pending_confirmation).to_string()),
        );
        attributes.insert(
            "SubscriptionPrincipal".to_string(),
            format!("arn:aws:iam::{}:root", subscription.owner),
        );
        attributes.insert(
            "RawMessageDelivery".to_string(),
            subscription.raw_message_delivery().to_string(),
        );
        if attributes.contains_key("FilterPolicy") {
            attributes
                .entry("FilterPolicyScope".to_string())
                .or_insert_with(|| FilterPolicyScope::MessageAttributes.as_str().to_string());
        } else {
            attributes.remove("FilterPolicyScope");
        }
        if matches!(subscription.protocol.as_str(), "http" | "https") {
            if let Some(policy) = subscription.attributes.get("DeliveryPolicy")
                && let Ok(policy) = SubscriptionDeliveryPolicy::parse(policy)
            {
                attributes.insert("DeliveryPolicy".to_string(), policy.to_json_string());
            }
            if let Some(topic) = self
                .load_topic(&subscription.account, &subscription.topic)
                .await?
            {
                attributes.insert(
                    "EffectiveDeliveryPolicy".to_string(),
                    subscription
                        .effective_delivery_policy(&topic)
                        .to_json_string(),
                );
            }
        }
        Ok(attributes)
    }

    pub async fn set_subscription_attributes(
        &self,
        caller: &SnsCaller,
        subscription_arn: &str,
        attribute_name: &str,
        attribute_value: Option<String>,
    ) -> Result<()> {
        let _ = caller;
        let (account, topic_name, id) = self.subscription_of_arn(subscription_arn)?;
        let value = attribute_value.unwrap_or_default();
        for _ in 0..UPDATE_ATTEMPTS {
            let Some((mut subscription, revision)) = self
                .load_subscription_revision(&account, &topic_name, &id)
                .await?
            else {
                return Err(subscription_not_found());
            };
            let Some(topic) = self.load_topic(&account, &topic_name).await? else {
                return Err(subscription_not_found());
            };
            let protocol = Protocol::parse(&subscription.protocol)?;
            let scope = if attribute_name == "FilterPolicyScope" {
                FilterPolicyScope::from_attribute(&value).unwrap_or_default()
            } else {
                scope_of(&subscription.attributes)
            };
            let stored = check_attribute(
                Call::SetAttributes,
                attribute_name,
                &value,
                protocol,
                &subscription.endpoint,
                &topic,
                scope,
            )?;
            if attribute_name == "FilterPolicyScope"
                && let Some(policy) = subscription.attributes.get("FilterPolicy")
                && let Err(error) = FilterPolicy::parse(policy, scope)
            {
                // The stored policy must hold in its new scope.
                return Err(invalid(error.message()));
            }
            if stored.is_empty() {
                subscription.attributes.remove(attribute_name);
            } else {
                subscription
                    .attributes
                    .insert(attribute_name.to_string(), stored);
            }
            if self
                .save_subscription(&subscription, ResourceCondition::Revision(revision))
                .await?
            {
                return Ok(());
            }
        }
        Err(Error::Store(store::Error::Corrupt(format!(
            "subscription {subscription_arn} kept changing during SetSubscriptionAttributes"
        ))))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::sns::types::CreateTopicInput;
    use crate::{CancellationToken, EngineConfig, ManualClock};

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    async fn engine(dir: &tempfile::TempDir) -> std::result::Result<Engine, store::Error> {
        let store = store::testing::open_test_store(dir.path()).await?;
        Ok(Engine::new(
            store,
            Arc::new(ManualClock::new(1_700_000_000_000)),
            EngineConfig::default(),
            CancellationToken::new(),
        ))
    }

    /// An HTTP subscription on a fresh topic: (topic ARN, subscription ARN, token).
    async fn pending_http(engine: &Engine) -> Result<(String, String, String)> {
        let owner = SnsCaller {
            account: "000000000000".to_string(),
        };
        let topic = engine
            .create_topic(
                &owner,
                CreateTopicInput {
                    name: "web".to_string(),
                    ..CreateTopicInput::default()
                },
            )
            .await?;
        let arn = engine
            .subscribe(
                &owner,
                SubscribeInput {
                    topic_arn: topic.clone(),
                    protocol: "http".to_string(),
                    endpoint: Some("http://127.0.0.1:9/".to_string()),
                    return_subscription_arn: true,
                    ..SubscribeInput::default()
                },
            )
            .await?;
        let token = engine
            .topic_subscriptions("000000000000", "web")
            .await?
            .into_iter()
            .find_map(|subscription| subscription.token)
            .unwrap_or_default();
        Ok((topic, arn, token))
    }

    #[tokio::test]
    async fn the_subscribe_url_token_confirms_once_and_repeats() -> TestResult {
        let dir = tempfile::tempdir()?;
        let engine = engine(&dir).await?;
        let (topic, arn, token) = pending_http(&engine).await?;
        let anonymous = SnsCaller::anonymous();
        let confirmed = engine
            .confirm_subscription(&anonymous, &topic, &token, None)
            .await?;
        assert_eq!(confirmed, arn);
        assert_eq!(
            engine
                .confirm_subscription(&anonymous, &topic, &token, None)
                .await?,
            arn
        );
        let attributes = engine.get_subscription_attributes(&anonymous, &arn).await?;
        assert_eq!(attributes["PendingConfirmation"], "false");
        assert_eq!(attributes["ConfirmationWasAuthenticated"], "false");
        let listed = engine
            .list_subscriptions_by_topic(&anonymous, &topic, None)
            .await?;
        assert_eq!(listed.items[0].subscription_arn, arn);
        engine.unsubscribe(&anonymous, &arn).await?;
        assert!(
            engine
                .get_subscription_attributes(&anonymous, &arn)
                .await
                .is_err()
        );
        Ok(())
    }

    #[tokio::test]
    async fn authenticate_on_unsubscribe_refuses_anonymous_unsubscribes() -> TestResult {
        let dir = tempfile::tempdir()?;
        let engine = engine(&dir).await?;
        let (topic, arn, token) = pending_http(&engine).await?;
        let owner = SnsCaller {
            account: "000000000000".to_string(),
        };
        engine
            .confirm_subscription(&owner, &topic, &token, Some("true".to_string()))
            .await?;
        let attributes = engine.get_subscription_attributes(&owner, &arn).await?;
        assert_eq!(attributes["ConfirmationWasAuthenticated"], "true");
        let refused = engine.unsubscribe(&SnsCaller::anonymous(), &arn).await;
        assert!(matches!(refused, Err(Error::SnsAuthorizationError(_))));
        engine.unsubscribe(&owner, &arn).await?;
        Ok(())
    }

    #[test]
    fn tokens_are_long_hex() {
        let token = new_token();
        assert_eq!(token.len(), 288);
        assert!(token.bytes().all(|byte| byte.is_ascii_hexdigit()));
        assert_ne!(token, new_token());
    }

    #[test]
    fn unknown_and_undelivered_protocols_are_told_apart() {
        let unknown = Protocol::parse("carrier-pigeon")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            unknown.as_deref(),
            Some(
                "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon"
            )
        );
        let email = Protocol::parse("email").err().map(|e| e.to_string());
        assert!(email.is_some_and(|m| m.contains("does not deliver to email")));
    }
}
