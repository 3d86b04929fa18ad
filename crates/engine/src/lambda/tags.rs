//! Function tags: TagResource, UntagResource and ListTags (on function ARNs), the `Tags`
//! of CreateFunction and GetFunction, as methods on [`crate::Engine`].
//!
//! A function's tags are one store resource of kind `tags` under the function's name, its
//! document the JSON map. Changes are read-modify-writes conditional on the resource's
//! revision, so two TagResource calls at once both land.

use std::collections::BTreeMap;

use store::{ResourceCondition, ResourceOutcome, ResourceRecord};

use super::functions::{constraint, internal, new_revision_id, not_found};
use crate::{Engine, Error, Result};

/// Store kind of function tags.
pub(crate) const TAGS_KIND: &str = "tags";
/// Lambda's limit of tags per function.
const MAX_TAGS: usize = 50;
const MAX_KEY_CHARS: usize = 128;
const MAX_VALUE_CHARS: usize = 256;
/// Attempts of a read-modify-write that others keep changing under it.
const MAX_ATTEMPTS: usize = 20;

/// Checks tag keys and values against Lambda's limits, and the count.
pub(crate) fn validate_tags(tags: &BTreeMap<String, String>) -> Result<()> {
    for (key, value) in tags {
        let key_chars = key.chars().count();
        if key_chars == 0 || key_chars > MAX_KEY_CHARS {
            return Err(constraint(
                format!("{{{key}={value}}}"),
                "tags",
                "Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]",
            ));
        }
        if value.chars().count() > MAX_VALUE_CHARS {
            return Err(constraint(
                format!("{{{key}={value}}}"),
                "tags",
                "Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 0]",
            ));
        }
    }
    check_tag_count(tags)
}

fn check_tag_count(tags: &BTreeMap<String, String>) -> Result<()> {
    if tags.len() > MAX_TAGS {
        return Err(Error::LambdaInvalidParameterValue(
            "Number of tags exceeds function tag limit.".to_string(),
        ));
    }
    Ok(())
}

impl Engine {
    /// The function a tagging call names: a function ARN, unqualified, of a function that
    /// exists. Returns (account, name); the account is the ARN's.
    async fn tagged_function(&self, resource: &str) -> Result<(String, String)> {
        let parts: Vec<&str> = resource.split(':').collect();
        let (resource_account, name, qualifier) = match parts.as_slice() {
            ["arn", _, "lambda", _, account, "function", name] => (*account, *name, None),
            ["arn", _, "lambda", _, account, "function", name, qualifier] => {
                (*account, *name, Some(*qualifier))
            }
            _ => {
                return Err(constraint(
                    resource,
                    "resource",
                    "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:\\d{12}:function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
                ));
            }
        };
        if qualifier.is_some() {
            return Err(Error::LambdaInvalidParameterValue(
                "Tagging operations are permitted on Lambda functions only. Tags on aliases and versions are not supported. Please specify either a function name or a function ARN."
                    .to_string(),
            ));
        }
        if self
            .store()
            .get_function(resource_account, name)
            .await?
            .is_none()
        {
            return Err(not_found(&self.function_arn(resource_account, name)));
        }
        Ok((resource_account.to_string(), name.to_string()))
    }

    /// The tags of function `name` (empty when it has none).
    pub(crate) async fn read_tags(
        &self,
        account: &str,
        name: &str,
    ) -> Result<BTreeMap<String, String>> {
        Ok(self.tags_with_revision(account, name).await?.0)
    }

    async fn tags_with_revision(
        &self,
        account: &str,
        name: &str,
    ) -> Result<(BTreeMap<String, String>, Option<String>)> {
        match self.store().get_resource(account, TAGS_KIND, name).await? {
            None => Ok((BTreeMap::new(), None)),
            Some(resource) => Ok((
                serde_json::from_str(&resource.document).map_err(internal)?,
                Some(resource.revision_id),
            )),
        }
    }

    /// Replaces the tags of function `name` (CreateFunction's `Tags`).
    pub(crate) async fn write_tags(
        &self,
        account: &str,
        name: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<()> {
        self.put_tags(account, name, &tags, ResourceCondition::Any)
            .await
            .map(|_| ())
    }

    async fn put_tags(
        &self,
        account: &str,
        name: &str,
        tags: &BTreeMap<String, String>,
        condition: ResourceCondition,
    ) -> Result<ResourceOutcome> {
        if tags.is_empty() {
            if condition == ResourceCondition::Absent {
                return Ok(ResourceOutcome::Done);
            }
            return Ok(self
                .store()
                .delete_resource(account, TAGS_KIND, name, condition)
                .await?);
        }
        let resource = ResourceRecord {
            account: account.to_string(),
            kind: TAGS_KIND.to_string(),
            key: name.to_string(),
            document: serde_json::to_string(tags).map_err(internal)?,
            revision_id: new_revision_id(),
            modified_at: self.now(),
        };
        Ok(self.store().put_resource(resource, None, condition).await?)
    }

    /// Applies `change` to the stored tags, again if someone else changed them meanwhile.
    async fn change_tags(
        &self,
        account: &str,
        name: &str,
        change: impl Fn(&mut BTreeMap<String, String>) -> Result<()>,
    ) -> Result<()> {
        for _ in 0..MAX_ATTEMPTS {
            let (mut tags, revision) = self.tags_with_revision(account, name).await?;
            change(&mut tags)?;
            let condition = match revision {
                Some(revision) => ResourceCondition::Revision(revision),
                None => ResourceCondition::Absent,
            };
            if self.put_tags(account, name, &tags, condition).await? == ResourceOutcome::Done {
                return Ok(());
            }
        }
        Err(Error::ResourceConflict(
            "The operation cannot be performed at this time. The tags are being changed by another request."
                .to_string(),
        ))
    }

    /// TagResource: adds tags to a function (a key already present takes the new value).
    /// The ARN names the function's account; the caller's (`_account`) is not consulted,
    /// as nothing is authorised by account.
    pub async fn tag_resource(
        &self,
        _account: &str,
        resource: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<()> {
        if tags.is_empty() {
            return Err(Error::LambdaInvalidParameterValue(
                "An error occurred and the request cannot be processed.".to_string(),
            ));
        }
        validate_tags(&tags)?;
        let (account, name) = self.tagged_function(resource).await?;
        self.change_tags(&account, &name, |stored| {
            stored.extend(tags.clone());
            check_tag_count(stored)
        })
        .await
    }

    /// UntagResource: removes the keys given (absent ones are ignored).
    pub async fn untag_resource(
        &self,
        _account: &str,
        resource: &str,
        keys: Vec<String>,
    ) -> Result<()> {
        if keys.is_empty() {
            return Err(Error::LambdaValidation(
                "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null"
                    .to_string(),
            ));
        }
        let (account, name) = self.tagged_function(resource).await?;
        self.change_tags(&account, &name, |stored| {
            for key in &keys {
                stored.remove(key);
            }
            Ok(())
        })
        .await
    }

    /// ListTags.
    pub async fn list_tags(
        &self,
        _account: &str,
        resource: &str,
    ) -> Result<BTreeMap<String, String>> {
        let (account, name) = self.tagged_function(resource).await?;
        self.read_tags(&account, &name).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_checked_against_lambdas_limits() {
        let tag = |key: &str, value: &str| BTreeMap::from([(key.to_string(), value.to_string())]);
        assert!(validate_tags(&tag("team", "core")).is_ok());
        assert!(validate_tags(&tag("", "x")).is_err());
        assert!(validate_tags(&tag(&"k".repeat(129), "x")).is_err());
        assert!(validate_tags(&tag("k", &"v".repeat(257))).is_err());
        let many: BTreeMap<String, String> = (0..51)
            .map(|index| (format!("k{index}"), String::new()))
            .collect();
        assert!(matches!(
            validate_tags(&many),
            Err(Error::LambdaInvalidParameterValue(_))
        ));
    }
}
