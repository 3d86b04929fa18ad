//! TagResource, UntagResource and ListTagsForResource for topics.
//!
//! Tags live in the topic's record; AWS's limits apply: at most 50 per topic, keys of 1–128
//! characters not starting with `aws:`, values of at most 256.

use std::collections::BTreeMap;

use store::ResourceCondition;

use super::TopicRecord;
use super::topics::{UPDATE_ATTEMPTS, check_tag_count, check_tags};
use super::types::SnsCaller;
use crate::{Engine, Error, Result};

fn resource_not_found() -> Error {
    Error::SnsResourceNotFound("Resource does not exist".to_string())
}

impl Engine {
    /// The (account, name) of the topic a tagged resource ARN names.
    fn tagged_topic(&self, resource_arn: &str) -> Result<(String, String)> {
        let elements = resource_arn.split(':').count();
        if elements < 6 {
            return Err(Error::SnsInvalidParameter(format!(
                "Invalid parameter: ResourceArn Reason: An ARN must have at least 6 elements, not {elements}"
            )));
        }
        self.topic_of_arn(resource_arn, "ResourceArn")
            .map_err(|_| resource_not_found())
    }

    /// Rewrites a topic's tags with `change`, retrying when another write got in first.
    async fn update_topic_tags(
        &self,
        resource_arn: &str,
        change: impl Fn(&mut TopicRecord) -> Result<()>,
    ) -> Result<()> {
        let (account, name) = self.tagged_topic(resource_arn)?;
        for _ in 0..UPDATE_ATTEMPTS {
            let Some((mut topic, revision)) = self.load_topic_revision(&account, &name).await?
            else {
                return Err(resource_not_found());
            };
            change(&mut topic)?;
            if self
                .save_topic(&topic, ResourceCondition::Revision(revision))
                .await?
            {
                return Ok(());
            }
        }
        Err(Error::Store(store::Error::Corrupt(format!(
            "topic {resource_arn} kept changing while its tags were updated"
        ))))
    }

    pub async fn tag_sns_resource(
        &self,
        caller: &SnsCaller,
        resource_arn: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<()> {
        let _ = caller;
        check_tags(&tags)?;
        self.update_topic_tags(resource_arn, |topic| {
            let added = tags
                .keys()
                .filter(|key| !topic.tags.contains_key(*key))
                .count();
            check_tag_count(topic.tags.len() + added)?;
            topic
                .tags
                .extend(tags.iter().map(|(key, value)| (key.clone(), value.clone())));
            Ok(())
        })
        .await
    }

    pub async fn untag_sns_resource(
        &self,
        caller: &SnsCaller,
        resource_arn: &str,
        tag_keys: Vec<String>,
    ) -> Result<()> {
        let _ = caller;
        self.update_topic_tags(resource_arn, |topic| {
            for key in &tag_keys {
                topic.tags.remove(key);
            }
            Ok(())
        })
        .await
    }

    pub async fn list_sns_tags(
        &self,
        caller: &SnsCaller,
        resource_arn: &str,
    ) -> Result<BTreeMap<String, String>> {
        let _ = caller;
        let (account, name) = self.tagged_topic(resource_arn)?;
        self.load_topic(&account, &name)
            .await?
            .map(|topic| topic.tags)
            .ok_or_else(resource_not_found)
    }
}
