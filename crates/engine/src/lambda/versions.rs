//! Published versions: PublishVersion, ListVersionsByFunction and deleting one version
//! (DeleteFunction with a version qualifier), as methods on [`crate::Engine`].
//!
//! A version is a snapshot of `$LATEST`'s configuration and code. Each is a store resource
//! of kind `version` under `<function>/<number, 10 digits>` (so keys sort by number): the
//! document is the version's [`FunctionConfiguration`] (qualified `FunctionArn`, `Version`
//! the number), the blob its own copy of the zip. Numbers are never reused, even after a
//! version is deleted: the highest number handed out is kept under kind `version-counter`,
//! key `<function>`. Two publishes at once never get the same number: a version is written
//! only if its key is absent, and the loser takes the next number (or, if the winner
//! published the same snapshot, answers with it).

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use store::{FunctionRecord, ResourceCondition, ResourceOutcome, ResourceRecord};

use super::functions::{
    FunctionConfiguration, MAX_LIST_ITEMS, as_pending, check_revision, configuration_of,
    constraint, internal, new_revision_id, not_found, parse_function_identifier, sha256_base64,
};
use crate::{Engine, Error, Result};

/// Store kind of published versions.
pub(crate) const VERSION_KIND: &str = "version";
/// Store kind of each function's highest version number handed out.
pub(crate) const VERSION_COUNTER_KIND: &str = "version-counter";
/// How many numbers a publish tries when others publish at the same moment.
const MAX_PUBLISH_ATTEMPTS: usize = 20;

/// PublishVersion's members.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublishVersionInput {
    /// Publish only if `$LATEST`'s code has this hash.
    pub code_sha256: Option<String>,
    /// The version's description (default: the function's).
    pub description: Option<String>,
    /// Publish only if `$LATEST` has this revision.
    pub revision_id: Option<String>,
}

/// One page of ListVersionsByFunction.
#[derive(Debug, Clone)]
pub struct VersionPage {
    pub versions: Vec<FunctionConfiguration>,
    pub next_marker: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VersionCounter {
    last_version: u64,
}

/// Whether a qualifier names a version (digits, as Lambda writes them: no leading zero).
pub(crate) fn is_version_number(qualifier: &str) -> bool {
    qualifier
        .parse::<u64>()
        .is_ok_and(|number| number.to_string() == qualifier)
}

fn version_key(function: &str, number: u64) -> String {
    format!("{function}/{number:010}")
}

/// What makes two versions the same snapshot: everything but the identity, the times,
/// the states and the description.
fn snapshot_of(configuration: &FunctionConfiguration) -> FunctionConfiguration {
    let mut snapshot = configuration.clone();
    snapshot.function_arn = String::new();
    snapshot.version = String::new();
    snapshot.last_modified = String::new();
    snapshot.revision_id = String::new();
    snapshot.description = String::new();
    snapshot.state = None;
    snapshot.state_reason = None;
    snapshot.state_reason_code = None;
    snapshot.last_update_status = None;
    snapshot.last_update_status_reason = None;
    snapshot.last_update_status_reason_code = None;
    snapshot
}

/// ListVersionsByFunction items carry no state fields.
fn for_listing(mut configuration: FunctionConfiguration) -> FunctionConfiguration {
    configuration.state = None;
    configuration.state_reason = None;
    configuration.state_reason_code = None;
    configuration.last_update_status = None;
    configuration.last_update_status_reason = None;
    configuration.last_update_status_reason_code = None;
    configuration
}

fn encode_marker(position: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(position.as_bytes())
}

fn decode_marker(marker: Option<&str>) -> Result<Option<String>> {
    match marker {
        None | Some("") => Ok(None),
        Some(marker) => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(marker)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .map(Some)
            .ok_or_else(|| {
                Error::LambdaInvalidParameterValue("Invalid value for marker parameter".to_string())
            }),
    }
}

/// A list operation's `MaxItems` (1–10000) as a page size (at most 50, as Lambda pages).
pub(crate) fn page_size(max_items: Option<i64>) -> Result<usize> {
    match max_items {
        None => Ok(MAX_LIST_ITEMS),
        Some(items) if items < 1 => Err(constraint(
            items,
            "maxItems",
            "Member must have value greater than or equal to 1",
        )),
        Some(items) if items > 10_000 => Err(constraint(
            items,
            "maxItems",
            "Member must have value less than or equal to 10000",
        )),
        Some(items) => Ok(usize::try_from(items)
            .unwrap_or(MAX_LIST_ITEMS)
            .min(MAX_LIST_ITEMS)),
    }
}

impl Engine {
    /// The function record named by `identifier`, whatever qualifier the identifier has
    /// (the operations on a whole function ignore it, as Lambda's do).
    pub(crate) async fn find_function_record(
        &self,
        account: &str,
        identifier: &str,
    ) -> Result<FunctionRecord> {
        let (account, name, _) = parse_function_identifier(identifier, account, None)?;
        self.store()
            .get_function(&account, &name)
            .await?
            .ok_or_else(|| not_found(&self.function_arn(&account, &name)))
    }

    /// The configuration of published version `version` (a number) of the function, if it
    /// exists.
    pub(crate) async fn version_configuration(
        &self,
        record: &FunctionRecord,
        version: &str,
    ) -> Result<Option<FunctionConfiguration>> {
        let Ok(number) = version.parse::<u64>() else {
            return Ok(None);
        };
        let resource = self
            .store()
            .get_resource(
                &record.account,
                VERSION_KIND,
                &version_key(&record.name, number),
            )
            .await?;
        resource
            .map(|resource| serde_json::from_str(&resource.document).map_err(internal))
            .transpose()
    }

    /// The zip of published version `version`.
    pub(crate) async fn version_code(
        &self,
        account: &str,
        name: &str,
        version: &str,
    ) -> Result<Option<Vec<u8>>> {
        let Ok(number) = version.parse::<u64>() else {
            return Ok(None);
        };
        Ok(self
            .store()
            .resource_blob(account, VERSION_KIND, &version_key(name, number))
            .await?)
    }

    /// PublishVersion: a new version from `$LATEST`'s configuration and code, or, when
    /// neither changed since the last version published, that version (as AWS does).
    pub async fn publish_version(
        &self,
        account: &str,
        identifier: &str,
        input: PublishVersionInput,
    ) -> Result<FunctionConfiguration> {
        let record = self.find_function_record(account, identifier).await?;
        let latest = configuration_of(&record)?;
        check_revision(&record, input.revision_id.as_deref())?;
        if let Some(expected) = &input.code_sha256
            && *expected != latest.code_sha256
        {
            return Err(Error::LambdaInvalidParameterValue(format!(
                "CodeSHA256 ({expected}) is different from current CodeSHA256 in $LATEST ({}). Please try again with the CodeSHA256 in $LATEST.",
                latest.code_sha256
            )));
        }
        let snapshot = snapshot_of(&latest);
        let (account, name) = (record.account.clone(), record.name.clone());
        let counter = self.version_counter(&account, &name).await?;
        let mut last = counter
            .as_ref()
            .map_or(0, |(counter, _)| counter.last_version);
        if last > 0
            && let Some(previous) = self
                .version_configuration(&record, &last.to_string())
                .await?
            && snapshot_of(&previous) == snapshot
        {
            return Ok(previous);
        }
        let Some(zip) = self.store().function_code(&account, &name).await? else {
            return Err(not_found(&self.function_arn(&account, &name)));
        };
        if sha256_base64(&zip) != latest.code_sha256 {
            // An update landed between reading the configuration and the code.
            return Err(Error::ResourceConflict(format!(
                "The operation cannot be performed at this time. An update is in progress for resource: {}",
                latest.function_arn
            )));
        }
        for _ in 0..MAX_PUBLISH_ATTEMPTS {
            let number = last + 1;
            let now = self.now();
            let mut version = latest.clone();
            version.function_arn = format!("{}:{number}", latest.function_arn);
            version.version = number.to_string();
            version.revision_id = new_revision_id();
            version.last_modified = super::format_last_modified(now);
            if let Some(description) = &input.description {
                version.description = description.clone();
            }
            version.state = Some("Active".to_string());
            version.last_update_status = None;
            let resource = ResourceRecord {
                account: account.clone(),
                kind: VERSION_KIND.to_string(),
                key: version_key(&name, number),
                document: serde_json::to_string(&version).map_err(internal)?,
                revision_id: version.revision_id.clone(),
                modified_at: now,
            };
            match self
                .store()
                .put_resource(resource, Some(zip.clone()), ResourceCondition::Absent)
                .await?
            {
                ResourceOutcome::Done => {
                    self.raise_version_counter(&account, &name, number).await?;
                    return Ok(as_pending(version));
                }
                ResourceOutcome::ConditionFailed => {
                    // Another publish took this number; if it published this very
                    // snapshot, that is the answer.
                    if let Some(taken) = self
                        .version_configuration(&record, &number.to_string())
                        .await?
                        && snapshot_of(&taken) == snapshot
                    {
                        return Ok(taken);
                    }
                    last = number;
                }
            }
        }
        Err(Error::ResourceConflict(format!(
            "The operation cannot be performed at this time. An update is in progress for resource: {}",
            latest.function_arn
        )))
    }

    async fn version_counter(
        &self,
        account: &str,
        name: &str,
    ) -> Result<Option<(VersionCounter, String)>> {
        let Some(resource) = self
            .store()
            .get_resource(account, VERSION_COUNTER_KIND, name)
            .await?
        else {
            return Ok(None);
        };
        let counter: VersionCounter = serde_json::from_str(&resource.document).map_err(internal)?;
        Ok(Some((counter, resource.revision_id)))
    }

    /// Records that `number` was handed out (the counter only ever grows).
    async fn raise_version_counter(&self, account: &str, name: &str, number: u64) -> Result<()> {
        for _ in 0..MAX_PUBLISH_ATTEMPTS {
            let current = self.version_counter(account, name).await?;
            let condition = match current {
                Some((counter, _)) if counter.last_version >= number => return Ok(()),
                Some((_, revision)) => ResourceCondition::Revision(revision),
                None => ResourceCondition::Absent,
            };
            let revision_id = new_revision_id();
            let resource = ResourceRecord {
                account: account.to_string(),
                kind: VERSION_COUNTER_KIND.to_string(),
                key: name.to_string(),
                document: serde_json::to_string(&VersionCounter {
                    last_version: number,
                })
                .map_err(internal)?,
                revision_id,
                modified_at: self.now(),
            };
            if self.store().put_resource(resource, None, condition).await? == ResourceOutcome::Done
            {
                return Ok(());
            }
        }
        // Publishes racing this hard each raise the counter themselves; a version's own
        // key already keeps its number from being handed out twice.
        tracing::warn!(function = name, number, "version counter not raised");
        Ok(())
    }

    /// ListVersionsByFunction: `$LATEST` first, then the published versions by number.
    pub async fn list_versions_by_function(
        &self,
        account: &str,
        identifier: &str,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<VersionPage> {
        let limit = page_size(max_items)?;
        let after = decode_marker(marker)?;
        let record = self.find_function_record(account, identifier).await?;
        let mut versions = Vec::new();
        let after_key = match after.as_deref() {
            None => {
                let mut latest = configuration_of(&record)?;
                latest.function_arn = format!("{}:$LATEST", latest.function_arn);
                versions.push(for_listing(latest));
                None
            }
            Some("$LATEST") => None,
            Some(key) => Some(key.to_string()),
        };
        let prefix = format!("{}/", record.name);
        let resources = self
            .store()
            .list_resources(
                &record.account,
                VERSION_KIND,
                &prefix,
                after_key.as_deref(),
                limit + 1,
            )
            .await?;
        let mut last_key = after.clone().unwrap_or_else(|| "$LATEST".to_string());
        for resource in resources {
            if versions.len() == limit {
                return Ok(VersionPage {
                    versions,
                    next_marker: Some(encode_marker(&last_key)),
                });
            }
            let configuration: FunctionConfiguration =
                serde_json::from_str(&resource.document).map_err(internal)?;
            versions.push(for_listing(configuration));
            last_key = resource.key;
        }
        Ok(VersionPage {
            versions,
            next_marker: None,
        })
    }

    /// DeleteFunction with a qualifier other than `$LATEST`: deletes that version, unless
    /// an alias points at it.
    pub(crate) async fn delete_version(
        &self,
        account: &str,
        name: &str,
        qualifier: &str,
    ) -> Result<()> {
        if self.store().get_function(account, name).await?.is_none() {
            return Err(not_found(&self.function_arn(account, name)));
        }
        if !is_version_number(qualifier) {
            return Err(Error::LambdaInvalidParameterValue(
                "Deletion of aliases is not supported.".to_string(),
            ));
        }
        let referencing = self.aliases_referencing(account, name, qualifier).await?;
        if !referencing.is_empty() {
            return Err(Error::ResourceConflict(format!(
                "Unable to delete version because the following aliases reference it: [{}]",
                referencing.join(", ")
            )));
        }
        let number = qualifier.parse::<u64>().unwrap_or(0);
        let outcome = self
            .store()
            .delete_resource(
                account,
                VERSION_KIND,
                &version_key(name, number),
                ResourceCondition::Exists,
            )
            .await?;
        if outcome == ResourceOutcome::ConditionFailed {
            return Err(not_found(&format!(
                "{}:{qualifier}",
                self.function_arn(account, name)
            )));
        }
        self.forget_event_invoke_config(account, name, qualifier)
            .await?;
        if let Some(platform) = self.inner.functions.get() {
            platform.runner.stop_environments(account, name);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_numbers_are_canonical_digits() {
        assert!(is_version_number("1"));
        assert!(is_version_number("42"));
        assert!(!is_version_number("01"));
        assert!(!is_version_number("$LATEST"));
        assert!(!is_version_number("live"));
        assert!(!is_version_number(""));
    }

    #[test]
    fn version_keys_sort_by_number() {
        let mut keys = [
            version_key("f", 10),
            version_key("f", 9),
            version_key("f", 100),
        ];
        keys.sort();
        assert_eq!(keys, ["f/0000000009", "f/0000000010", "f/0000000100"]);
    }
}
