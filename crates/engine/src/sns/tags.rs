//! TagResource, UntagResource and ListTagsForResource for topics.

use std::collections::BTreeMap;

use super::types::SnsCaller;
use crate::{Engine, Error, Result};

fn not_yet() -> Error {
    Error::SnsInvalidParameter("not implemented yet".to_string())
}

impl Engine {
    pub async fn tag_sns_resource(
        &self,
        caller: &SnsCaller,
        resource_arn: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<()> {
        let _ = (caller, resource_arn, tags);
        Err(not_yet())
    }

    pub async fn untag_sns_resource(
        &self,
        caller: &SnsCaller,
        resource_arn: &str,
        tag_keys: Vec<String>,
    ) -> Result<()> {
        let _ = (caller, resource_arn, tag_keys);
        Err(not_yet())
    }

    pub async fn list_sns_tags(
        &self,
        caller: &SnsCaller,
        resource_arn: &str,
    ) -> Result<BTreeMap<String, String>> {
        let _ = (caller, resource_arn);
        Err(not_yet())
    }
}
