//! Subscribe, ConfirmSubscription, Unsubscribe, ListSubscriptions(ByTopic) and
//! Get/SetSubscriptionAttributes.

use std::collections::BTreeMap;

use super::types::{Page, SnsCaller, SubscribeInput, SubscriptionSummary};
use crate::{Engine, Error, Result};

fn not_yet() -> Error {
    Error::SnsInvalidParameter("not implemented yet".to_string())
}

impl Engine {
    /// Subscribes an endpoint; answers the subscription ARN, or `pending confirmation`
    /// for an HTTP/HTTPS endpoint that must confirm first (unless
    /// `return_subscription_arn`).
    pub async fn subscribe(&self, caller: &SnsCaller, input: SubscribeInput) -> Result<String> {
        let _ = (caller, input);
        Err(not_yet())
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
        let _ = (caller, topic_arn, token, authenticate_on_unsubscribe);
        Err(not_yet())
    }

    pub async fn unsubscribe(&self, caller: &SnsCaller, subscription_arn: &str) -> Result<()> {
        let _ = (caller, subscription_arn);
        Err(not_yet())
    }

    /// The caller's subscriptions, 100 per page.
    pub async fn list_subscriptions(
        &self,
        caller: &SnsCaller,
        next_token: Option<String>,
    ) -> Result<Page<SubscriptionSummary>> {
        let _ = (caller, next_token);
        Err(not_yet())
    }

    /// A topic's subscriptions, 100 per page.
    pub async fn list_subscriptions_by_topic(
        &self,
        caller: &SnsCaller,
        topic_arn: &str,
        next_token: Option<String>,
    ) -> Result<Page<SubscriptionSummary>> {
        let _ = (caller, topic_arn, next_token);
        Err(not_yet())
    }

    pub async fn get_subscription_attributes(
        &self,
        caller: &SnsCaller,
        subscription_arn: &str,
    ) -> Result<BTreeMap<String, String>> {
        let _ = (caller, subscription_arn);
        Err(not_yet())
    }

    pub async fn set_subscription_attributes(
        &self,
        caller: &SnsCaller,
        subscription_arn: &str,
        attribute_name: &str,
        attribute_value: Option<String>,
    ) -> Result<()> {
        let _ = (caller, subscription_arn, attribute_name, attribute_value);
        Err(not_yet())
    }
}
