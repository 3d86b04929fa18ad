//! SNS over the query protocol (`Action=…&Version=2010-03-31`, XML responses). The form
//! decodes into one typed [`Action`] (`query.rs`); [`dispatch`] runs it against the engine
//! in one `match`; `query.rs` encodes the [`Output`] and errors as XML. `http.rs` is the
//! HTTP client the engine's delivery worker POSTs notifications with.
//!
//! SMS, mobile push and the other SNS actions eddy does not serve answer an
//! `InvalidParameter` that says so ([`unsupported_action`]).

pub mod http;
pub mod query;

use std::collections::BTreeMap;

use engine::Engine;
use engine::sns::types::{
    CreateTopicInput, Page, PublishBatchEntry, PublishBatchOutput, PublishInput, PublishOutput,
    SnsCaller, SubscribeInput, SubscriptionSummary,
};

use crate::error::Result;

pub const NAMESPACE: &str = "http://sns.amazonaws.com/doc/2010-03-31/";
pub const VERSION: &str = "2010-03-31";
/// The SigV4 signing name of SNS.
pub const SIGNING_NAME: &str = "sns";
/// The file the signing certificate is served as starts with this (`/SimpleNotificationService-<hash>.pem`).
pub const CERTIFICATE_PREFIX: &str = "/SimpleNotificationService-";

action_names!(
    "The name of an SNS action eddy serves, as in the form's `Action`.";
    ConfirmSubscription,
    CreateTopic,
    DeleteTopic,
    GetSubscriptionAttributes,
    GetTopicAttributes,
    ListSubscriptions,
    ListSubscriptionsByTopic,
    ListTagsForResource,
    ListTopics,
    Publish,
    PublishBatch,
    SetSubscriptionAttributes,
    SetTopicAttributes,
    Subscribe,
    TagResource,
    Unsubscribe,
    UntagResource,
);

impl ActionName {
    /// Actions a SubscribeURL or UnsubscribeURL reaches with a plain, unsigned GET.
    pub fn allows_anonymous(self) -> bool {
        matches!(
            self,
            ActionName::ConfirmSubscription | ActionName::Unsubscribe
        )
    }
}

/// SNS actions eddy does not serve, each with what it belongs to.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("CheckIfPhoneNumberIsOptedOut", "SMS"),
    ("CreateSMSSandboxPhoneNumber", "SMS"),
    ("DeleteSMSSandboxPhoneNumber", "SMS"),
    ("GetSMSAttributes", "SMS"),
    ("GetSMSSandboxAccountStatus", "SMS"),
    ("ListOriginationNumbers", "SMS"),
    ("ListPhoneNumbersOptedOut", "SMS"),
    ("ListSMSSandboxPhoneNumbers", "SMS"),
    ("OptInPhoneNumber", "SMS"),
    ("SetSMSAttributes", "SMS"),
    ("VerifySMSSandboxPhoneNumber", "SMS"),
    ("CreatePlatformApplication", "mobile push"),
    ("CreatePlatformEndpoint", "mobile push"),
    ("DeleteEndpoint", "mobile push"),
    ("DeletePlatformApplication", "mobile push"),
    ("GetEndpointAttributes", "mobile push"),
    ("GetPlatformApplicationAttributes", "mobile push"),
    ("ListEndpointsByPlatformApplication", "mobile push"),
    ("ListPlatformApplications", "mobile push"),
    ("SetEndpointAttributes", "mobile push"),
    ("SetPlatformApplicationAttributes", "mobile push"),
    ("AddPermission", "topic permissions"),
    ("RemovePermission", "topic permissions"),
    ("GetDataProtectionPolicy", "data protection policies"),
    ("PutDataProtectionPolicy", "data protection policies"),
];

/// The error of an SNS action eddy does not serve; `None` for any other name.
pub fn unsupported_action(name: &str) -> Option<engine::Error> {
    let (action, feature) = UNSUPPORTED.iter().find(|(action, _)| *action == name)?;
    let reason = match *feature {
        "SMS" => "eddy does not send SMS messages".to_string(),
        "mobile push" => "eddy does not send mobile push notifications".to_string(),
        other => format!("eddy does not support {other}"),
    };
    Some(engine::Error::SnsInvalidParameter(format!(
        "Invalid parameter: {action} Reason: {reason}"
    )))
}

/// One decoded SNS request, ready for the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    ConfirmSubscription {
        topic_arn: String,
        token: String,
        authenticate_on_unsubscribe: Option<String>,
    },
    CreateTopic(CreateTopicInput),
    DeleteTopic {
        topic_arn: String,
    },
    GetSubscriptionAttributes {
        subscription_arn: String,
    },
    GetTopicAttributes {
        topic_arn: String,
    },
    ListSubscriptions {
        next_token: Option<String>,
    },
    ListSubscriptionsByTopic {
        topic_arn: String,
        next_token: Option<String>,
    },
    ListTagsForResource {
        resource_arn: String,
    },
    ListTopics {
        next_token: Option<String>,
    },
    Publish(PublishInput),
    PublishBatch {
        topic_arn: String,
        entries: Vec<PublishBatchEntry>,
    },
    SetSubscriptionAttributes {
        subscription_arn: String,
        attribute_name: String,
        attribute_value: Option<String>,
    },
    SetTopicAttributes {
        topic_arn: String,
        attribute_name: String,
        attribute_value: Option<String>,
    },
    Subscribe(SubscribeInput),
    TagResource {
        resource_arn: String,
        tags: BTreeMap<String, String>,
    },
    Unsubscribe {
        subscription_arn: String,
    },
    UntagResource {
        resource_arn: String,
        tag_keys: Vec<String>,
    },
}

/// What an action returns, before encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Actions whose response has no result element (DeleteTopic, Unsubscribe, …).
    Empty,
    /// Actions whose result element is empty (TagResource, UntagResource).
    EmptyResult,
    TopicArn(String),
    Topics(Page<String>),
    Attributes(BTreeMap<String, String>),
    SubscriptionArn(String),
    Subscriptions(Page<SubscriptionSummary>),
    Published(PublishOutput),
    PublishedBatch(PublishBatchOutput),
    Tags(BTreeMap<String, String>),
}

/// Runs one action for `caller`.
pub async fn dispatch(engine: &Engine, caller: &SnsCaller, action: Action) -> Result<Output> {
    let output = match action {
        Action::ConfirmSubscription {
            topic_arn,
            token,
            authenticate_on_unsubscribe,
        } => Output::SubscriptionArn(
            engine
                .confirm_subscription(caller, &topic_arn, &token, authenticate_on_unsubscribe)
                .await?,
        ),
        Action::CreateTopic(input) => Output::TopicArn(engine.create_topic(caller, input).await?),
        Action::DeleteTopic { topic_arn } => {
            engine.delete_topic(caller, &topic_arn).await?;
            Output::Empty
        }
        Action::GetSubscriptionAttributes { subscription_arn } => Output::Attributes(
            engine
                .get_subscription_attributes(caller, &subscription_arn)
                .await?,
        ),
        Action::GetTopicAttributes { topic_arn } => {
            Output::Attributes(engine.get_topic_attributes(caller, &topic_arn).await?)
        }
        Action::ListSubscriptions { next_token } => {
            Output::Subscriptions(engine.list_subscriptions(caller, next_token).await?)
        }
        Action::ListSubscriptionsByTopic {
            topic_arn,
            next_token,
        } => Output::Subscriptions(
            engine
                .list_subscriptions_by_topic(caller, &topic_arn, next_token)
                .await?,
        ),
        Action::ListTagsForResource { resource_arn } => {
            Output::Tags(engine.list_sns_tags(caller, &resource_arn).await?)
        }
        Action::ListTopics { next_token } => {
            Output::Topics(engine.list_topics(caller, next_token).await?)
        }
        Action::Publish(input) => Output::Published(engine.publish(caller, input).await?),
        Action::PublishBatch { topic_arn, entries } => {
            Output::PublishedBatch(engine.publish_batch(caller, &topic_arn, entries).await?)
        }
        Action::SetSubscriptionAttributes {
            subscription_arn,
            attribute_name,
            attribute_value,
        } => {
            engine
                .set_subscription_attributes(
                    caller,
                    &subscription_arn,
                    &attribute_name,
                    attribute_value,
                )
                .await?;
            Output::Empty
        }
        Action::SetTopicAttributes {
            topic_arn,
            attribute_name,
            attribute_value,
        } => {
            engine
                .set_topic_attributes(caller, &topic_arn, &attribute_name, attribute_value)
                .await?;
            Output::Empty
        }
        Action::Subscribe(input) => Output::SubscriptionArn(engine.subscribe(caller, input).await?),
        Action::TagResource { resource_arn, tags } => {
            engine.tag_sns_resource(caller, &resource_arn, tags).await?;
            Output::EmptyResult
        }
        Action::Unsubscribe { subscription_arn } => {
            engine.unsubscribe(caller, &subscription_arn).await?;
            Output::Empty
        }
        Action::UntagResource {
            resource_arn,
            tag_keys,
        } => {
            engine
                .untag_sns_resource(caller, &resource_arn, tag_keys)
                .await?;
            Output::EmptyResult
        }
    };
    Ok(output)
}
