//! CreateTopic, DeleteTopic, ListTopics, GetTopicAttributes and SetTopicAttributes.

use std::collections::BTreeMap;

use super::types::{CreateTopicInput, Page, SnsCaller};
use crate::{Engine, Error, Result};

fn not_yet() -> Error {
    Error::SnsInvalidParameter("not implemented yet".to_string())
}

impl Engine {
    /// Creates the topic (or returns the existing one with the same attributes); answers
    /// its ARN.
    pub async fn create_topic(
        &self,
        caller: &SnsCaller,
        input: CreateTopicInput,
    ) -> Result<String> {
        let _ = (caller, input);
        Err(not_yet())
    }

    /// Deletes the topic and its subscriptions; deleting a missing topic succeeds.
    pub async fn delete_topic(&self, caller: &SnsCaller, topic_arn: &str) -> Result<()> {
        let _ = (caller, topic_arn);
        Err(not_yet())
    }

    /// The caller's topic ARNs, 100 per page.
    pub async fn list_topics(
        &self,
        caller: &SnsCaller,
        next_token: Option<String>,
    ) -> Result<Page<String>> {
        let _ = (caller, next_token);
        Err(not_yet())
    }

    pub async fn get_topic_attributes(
        &self,
        caller: &SnsCaller,
        topic_arn: &str,
    ) -> Result<BTreeMap<String, String>> {
        let _ = (caller, topic_arn);
        Err(not_yet())
    }

    pub async fn set_topic_attributes(
        &self,
        caller: &SnsCaller,
        topic_arn: &str,
        attribute_name: &str,
        attribute_value: Option<String>,
    ) -> Result<()> {
        let _ = (caller, topic_arn, attribute_name, attribute_value);
        Err(not_yet())
    }
}
