//! Aliases: CreateAlias, GetAlias, ListAliases, UpdateAlias and DeleteAlias, as methods on
//! [`crate::Engine`], with Lambda's rules and messages.
//!
//! An alias names a version (`$LATEST` or a number) and may send a share of its
//! invocations to one more version (`RoutingConfig.AdditionalVersionWeights`, a weight in
//! [0, 1)). Each is a store resource of kind `alias` under `<function>/<alias>`, whose
//! document is the [`AliasConfiguration`] returned to clients; its revision id is the
//! alias's `RevisionId`, so UpdateAlias with a `RevisionId` is a conditional write. Invoke
//! resolves an alias through [`crate::Engine::find_function_to_invoke`], which draws the
//! version with [`routed_version`].

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use store::{FunctionRecord, ResourceCondition, ResourceOutcome, ResourceRecord};

use super::functions::{constraint, internal, new_revision_id, not_found, revision_mismatch};
use super::versions::{is_version_number, page_size};
use crate::{Engine, Error, Result};

/// Store kind of aliases.
pub(crate) const ALIAS_KIND: &str = "alias";
const MAX_ALIAS_NAME_CHARS: usize = 128;
const MAX_DESCRIPTION_CHARS: usize = 256;
/// ListAliases reads at most this many aliases of a function.
const MAX_ALIASES: usize = 10_000;

/// `RoutingConfig`: the one additional version and the share of invocations it gets.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct AliasRoutingConfiguration {
    #[serde(default)]
    pub additional_version_weights: BTreeMap<String, f64>,
}

/// An alias as Lambda returns it; also what is stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct AliasConfiguration {
    pub alias_arn: String,
    pub name: String,
    pub function_version: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing_config: Option<AliasRoutingConfiguration>,
    pub revision_id: String,
}

/// CreateAlias's members.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateAliasInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub function_version: String,
    pub description: Option<String>,
    pub routing_config: Option<AliasRoutingConfiguration>,
}

/// UpdateAlias's members: absent ones are left as they are.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateAliasInput {
    pub function_version: Option<String>,
    pub description: Option<String>,
    pub routing_config: Option<AliasRoutingConfiguration>,
    pub revision_id: Option<String>,
}

/// One page of ListAliases.
#[derive(Debug, Clone)]
pub struct AliasPage {
    pub aliases: Vec<AliasConfiguration>,
    pub next_marker: Option<String>,
}

/// The version an invocation of `alias` runs, given a uniform draw in [0, 1): the
/// additional version with its weight's probability, else the alias's own version.
pub(crate) fn routed_version(alias: &AliasConfiguration, draw: f64) -> Option<&str> {
    let (version, weight) = alias
        .routing_config
        .as_ref()?
        .additional_version_weights
        .iter()
        .next()?;
    Some(if draw < *weight {
        version
    } else {
        &alias.function_version
    })
}

fn alias_key(function: &str, alias: &str) -> String {
    format!("{function}/{alias}")
}

fn validate_alias_name(name: &str) -> Result<()> {
    if name.chars().count() > MAX_ALIAS_NAME_CHARS {
        return Err(constraint(
            name,
            "name",
            "Member must have length less than or equal to 128",
        ));
    }
    let well_formed = !name.is_empty()
        && !name.bytes().all(|byte| byte.is_ascii_digit())
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if !well_formed {
        return Err(constraint(
            name,
            "name",
            "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
        ));
    }
    Ok(())
}

fn validate_function_version(version: &str) -> Result<()> {
    if version == "$LATEST" || is_version_number(version) {
        return Ok(());
    }
    Err(constraint(
        version,
        "functionVersion",
        "Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)",
    ))
}

fn validate_description(description: &str) -> Result<()> {
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(constraint(
            description,
            "description",
            "Member must have length less than or equal to 256",
        ));
    }
    Ok(())
}

fn alias_not_found(alias_arn: &str) -> Error {
    Error::FunctionNotFound(format!("Cannot find alias arn: {alias_arn}"))
}

impl Engine {
    fn alias_arn(&self, record: &FunctionRecord, alias: &str) -> String {
        format!(
            "{}:{alias}",
            self.function_arn(&record.account, &record.name)
        )
    }

    /// The alias `alias` of function `name`, if it exists.
    pub(crate) async fn stored_alias(
        &self,
        account: &str,
        name: &str,
        alias: &str,
    ) -> Result<Option<AliasConfiguration>> {
        let resource = self
            .store()
            .get_resource(account, ALIAS_KIND, &alias_key(name, alias))
            .await?;
        resource.map(|resource| alias_of(&resource)).transpose()
    }

    /// The names of the aliases that send invocations to `version` (as their version or
    /// as their additional one).
    pub(crate) async fn aliases_referencing(
        &self,
        account: &str,
        name: &str,
        version: &str,
    ) -> Result<Vec<String>> {
        Ok(self
            .all_aliases(account, name)
            .await?
            .into_iter()
            .filter(|alias| {
                alias.function_version == version
                    || alias.routing_config.as_ref().is_some_and(|routing| {
                        routing.additional_version_weights.contains_key(version)
                    })
            })
            .map(|alias| alias.name)
            .collect())
    }

    async fn all_aliases(&self, account: &str, name: &str) -> Result<Vec<AliasConfiguration>> {
        self.store()
            .list_resources(account, ALIAS_KIND, &format!("{name}/"), None, MAX_ALIASES)
            .await?
            .iter()
            .map(alias_of)
            .collect()
    }

    /// Checks that `version` exists for the function (`$LATEST` always does).
    async fn check_version_exists(&self, record: &FunctionRecord, version: &str) -> Result<()> {
        if version == "$LATEST" || self.version_configuration(record, version).await?.is_some() {
            return Ok(());
        }
        Err(not_found(&format!(
            "{}:{version}",
            self.function_arn(&record.account, &record.name)
        )))
    }

    /// The routing to store for an alias on `primary`: `None` for no weights; Lambda's
    /// errors for more than one version, a weight outside [0, 1), `$LATEST` or the alias's
    /// own version as the additional one, or a version that does not exist.
    async fn checked_routing(
        &self,
        record: &FunctionRecord,
        primary: &str,
        routing: Option<AliasRoutingConfiguration>,
    ) -> Result<Option<AliasRoutingConfiguration>> {
        let Some(routing) =
            routing.filter(|routing| !routing.additional_version_weights.is_empty())
        else {
            return Ok(None);
        };
        if routing.additional_version_weights.len() > 1 {
            return Err(Error::LambdaInvalidParameterValue(
                "Number of items in AdditionalVersionWeights cannot be greater than 1".to_string(),
            ));
        }
        for (version, weight) in &routing.additional_version_weights {
            if !(0.0..1.0).contains(weight) {
                return Err(constraint(
                    format!("{{{version}={weight}}}"),
                    "routingConfig.additionalVersionWeights",
                    "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]",
                ));
            }
            if version == primary {
                return Err(Error::LambdaInvalidParameterValue(format!(
                    "Invalid function version {primary}. Function version {primary} is already included in routing configuration."
                )));
            }
            if primary == "$LATEST" {
                return Err(Error::LambdaInvalidParameterValue(
                    "$LATEST is not supported for an alias pointing to more than 1 version"
                        .to_string(),
                ));
            }
            if !is_version_number(version) {
                return Err(constraint(
                    format!("{{{version}={weight}}}"),
                    "routingConfig.additionalVersionWeights",
                    "Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+, Member must not be null]",
                ));
            }
            self.check_version_exists(record, version).await?;
        }
        Ok(Some(routing))
    }

    async fn write_alias(
        &self,
        record: &FunctionRecord,
        alias: &AliasConfiguration,
        condition: ResourceCondition,
    ) -> Result<ResourceOutcome> {
        let resource = ResourceRecord {
            account: record.account.clone(),
            kind: ALIAS_KIND.to_string(),
            key: alias_key(&record.name, &alias.name),
            document: serde_json::to_string(alias).map_err(internal)?,
            revision_id: alias.revision_id.clone(),
            modified_at: self.now(),
        };
        Ok(self.store().put_resource(resource, None, condition).await?)
    }

    /// CreateAlias.
    pub async fn create_alias(
        &self,
        account: &str,
        identifier: &str,
        input: CreateAliasInput,
    ) -> Result<AliasConfiguration> {
        validate_alias_name(&input.name)?;
        validate_function_version(&input.function_version)?;
        let description = input.description.unwrap_or_default();
        validate_description(&description)?;
        let record = self.find_function_record(account, identifier).await?;
        self.check_version_exists(&record, &input.function_version)
            .await?;
        let routing_config = self
            .checked_routing(&record, &input.function_version, input.routing_config)
            .await?;
        let alias = AliasConfiguration {
            alias_arn: self.alias_arn(&record, &input.name),
            name: input.name,
            function_version: input.function_version,
            description,
            routing_config,
            revision_id: new_revision_id(),
        };
        match self
            .write_alias(&record, &alias, ResourceCondition::Absent)
            .await?
        {
            ResourceOutcome::Done => Ok(alias),
            ResourceOutcome::ConditionFailed => Err(Error::ResourceConflict(format!(
                "Alias already exists: {}",
                alias.alias_arn
            ))),
        }
    }

    /// GetAlias.
    pub async fn get_alias(
        &self,
        account: &str,
        identifier: &str,
        name: &str,
    ) -> Result<AliasConfiguration> {
        let record = self.find_function_record(account, identifier).await?;
        self.stored_alias(&record.account, &record.name, name)
            .await?
            .ok_or_else(|| alias_not_found(&self.alias_arn(&record, name)))
    }

    /// ListAliases: by name, only those on `function_version` when given; the marker is
    /// opaque (base64 of the last name returned).
    pub async fn list_aliases(
        &self,
        account: &str,
        identifier: &str,
        function_version: Option<&str>,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<AliasPage> {
        let limit = page_size(max_items)?;
        let after = match marker {
            None | Some("") => None,
            Some(marker) => Some(
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(marker)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .ok_or_else(|| {
                        Error::LambdaInvalidParameterValue(
                            "Invalid value for marker parameter".to_string(),
                        )
                    })?,
            ),
        };
        let record = self.find_function_record(account, identifier).await?;
        let mut aliases: Vec<AliasConfiguration> = self
            .all_aliases(&record.account, &record.name)
            .await?
            .into_iter()
            .filter(|alias| {
                function_version.is_none_or(|version| alias.function_version == version)
            })
            .filter(|alias| after.as_ref().is_none_or(|after| alias.name > *after))
            .collect();
        let next_marker = if aliases.len() > limit {
            aliases.truncate(limit);
            aliases.last().map(|alias| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(alias.name.as_bytes())
            })
        } else {
            None
        };
        Ok(AliasPage {
            aliases,
            next_marker,
        })
    }

    /// UpdateAlias: absent members are kept; a `RoutingConfig` with no weights removes the
    /// routing. With a `RevisionId`, applies only while the alias still has that revision.
    pub async fn update_alias(
        &self,
        account: &str,
        identifier: &str,
        name: &str,
        input: UpdateAliasInput,
    ) -> Result<AliasConfiguration> {
        let record = self.find_function_record(account, identifier).await?;
        let Some(current) = self
            .stored_alias(&record.account, &record.name, name)
            .await?
        else {
            return Err(alias_not_found(&self.alias_arn(&record, name)));
        };
        if let Some(expected) = &input.revision_id
            && *expected != current.revision_id
        {
            return Err(revision_mismatch());
        }
        let mut alias = current.clone();
        if let Some(version) = input.function_version {
            validate_function_version(&version)?;
            self.check_version_exists(&record, &version).await?;
            alias.function_version = version;
        }
        if let Some(description) = input.description {
            validate_description(&description)?;
            alias.description = description;
        }
        let routing = input.routing_config.or(current.routing_config.clone());
        alias.routing_config = self
            .checked_routing(&record, &alias.function_version, routing)
            .await?;
        alias.revision_id = new_revision_id();
        match self
            .write_alias(
                &record,
                &alias,
                ResourceCondition::Revision(current.revision_id),
            )
            .await?
        {
            ResourceOutcome::Done => Ok(alias),
            // Changed or deleted since it was read.
            ResourceOutcome::ConditionFailed => Err(revision_mismatch()),
        }
    }

    /// DeleteAlias.
    pub async fn delete_alias(&self, account: &str, identifier: &str, name: &str) -> Result<()> {
        let record = self.find_function_record(account, identifier).await?;
        let outcome = self
            .store()
            .delete_resource(
                &record.account,
                ALIAS_KIND,
                &alias_key(&record.name, name),
                ResourceCondition::Exists,
            )
            .await?;
        match outcome {
            ResourceOutcome::Done => {
                self.forget_event_invoke_config(&record.account, &record.name, name)
                    .await
            }
            ResourceOutcome::ConditionFailed => {
                Err(alias_not_found(&self.alias_arn(&record, name)))
            }
        }
    }
}

fn alias_of(resource: &ResourceRecord) -> Result<AliasConfiguration> {
    let mut alias: AliasConfiguration =
        serde_json::from_str(&resource.document).map_err(internal)?;
    alias.revision_id = resource.revision_id.clone();
    Ok(alias)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alias(weights: &[(&str, f64)]) -> AliasConfiguration {
        AliasConfiguration {
            alias_arn: "arn:aws:lambda:us-east-1:000000000000:function:f:live".to_string(),
            name: "live".to_string(),
            function_version: "1".to_string(),
            description: String::new(),
            routing_config: Some(AliasRoutingConfiguration {
                additional_version_weights: weights
                    .iter()
                    .map(|(version, weight)| (version.to_string(), *weight))
                    .collect(),
            }),
            revision_id: String::new(),
        }
    }

    #[test]
    fn routing_sends_the_weighted_share_to_the_additional_version() {
        let weighted = alias(&[("2", 0.25)]);
        assert_eq!(routed_version(&weighted, 0.0), Some("2"));
        assert_eq!(routed_version(&weighted, 0.2499), Some("2"));
        assert_eq!(routed_version(&weighted, 0.25), Some("1"));
        assert_eq!(routed_version(&weighted, 0.99), Some("1"));
        assert_eq!(routed_version(&alias(&[]), 0.0), None);
    }

    #[test]
    fn alias_names_follow_lambdas_pattern() {
        assert!(validate_alias_name("live").is_ok());
        assert!(validate_alias_name("blue-green_2").is_ok());
        assert!(validate_alias_name("12").is_err());
        assert!(validate_alias_name("$LATEST").is_err());
        assert!(validate_alias_name("").is_err());
        assert!(validate_alias_name(&"a".repeat(129)).is_err());
    }
}
