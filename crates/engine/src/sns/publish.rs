//! Publish and PublishBatch: validation, filter policies and the one commit that stores
//! a delivery for every matching subscription.

use super::types::{PublishBatchEntry, PublishBatchOutput, PublishInput, PublishOutput, SnsCaller};
use crate::{Engine, Error, Result};

impl Engine {
    pub async fn publish(&self, caller: &SnsCaller, input: PublishInput) -> Result<PublishOutput> {
        let _ = (caller, input);
        Err(Error::SnsInvalidParameter(
            "not implemented yet".to_string(),
        ))
    }

    pub async fn publish_batch(
        &self,
        caller: &SnsCaller,
        topic_arn: &str,
        entries: Vec<PublishBatchEntry>,
    ) -> Result<PublishBatchOutput> {
        let _ = (caller, topic_arn, entries);
        Err(Error::SnsInvalidParameter(
            "not implemented yet".to_string(),
        ))
    }
}
