//! Event invoke configurations: how asynchronous invocations of a function, version or
//! alias are retried and where their outcomes go. Put (replaces the whole configuration),
//! Update (merges the given members), Get, Delete and List, as methods on [`Engine`].
//!
//! Each configuration is a store resource of kind [`EVENT_INVOKE_CONFIG_KIND`] under
//! `<function name>/<qualifier>` (`$LATEST` for an unqualified function); the document is
//! [`StoredEventInvokeConfig`] as JSON. Deleting a function deletes its configurations.

use serde::{Deserialize, Serialize};
use store::{ResourceCondition, ResourceOutcome, ResourceRecord};

use super::targets::{DestinationKind, Target};
use crate::{Engine, Error, Result};

/// The store kind of event invoke configurations.
pub const EVENT_INVOKE_CONFIG_KIND: &str = "event-invoke-config";
/// Retries after a function error when nothing is configured.
pub const DEFAULT_MAXIMUM_RETRY_ATTEMPTS: i64 = 2;
/// How long an event may wait when nothing is configured (6 hours).
pub const DEFAULT_MAXIMUM_EVENT_AGE_SECONDS: i64 = 21_600;
/// ListFunctionEventInvokeConfigs returns at most this many a page.
pub const MAX_EVENT_INVOKE_CONFIG_ITEMS: usize = 50;

/// One destination (`OnSuccess` or `OnFailure`): an ARN, or nothing.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct OnDestination {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
}

/// `DestinationConfig`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct DestinationConfig {
    #[serde(default)]
    pub on_success: OnDestination,
    #[serde(default)]
    pub on_failure: OnDestination,
}

/// The members Put and Update take.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct EventInvokeConfigInput {
    pub maximum_retry_attempts: Option<i64>,
    pub maximum_event_age_in_seconds: Option<i64>,
    pub destination_config: Option<DestinationConfig>,
}

/// `FunctionEventInvokeConfig` as Lambda returns it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionEventInvokeConfig {
    /// Epoch seconds (a JSON number with a fraction), as Lambda sends it.
    pub last_modified: f64,
    /// Qualified: `…:function:<name>:<qualifier>`.
    pub function_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_retry_attempts: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_event_age_in_seconds: Option<i64>,
    pub destination_config: DestinationConfig,
}

/// One page of ListFunctionEventInvokeConfigs.
#[derive(Debug, Clone)]
pub struct EventInvokeConfigPage {
    pub configs: Vec<FunctionEventInvokeConfig>,
    pub next_marker: Option<String>,
}

/// What is stored for one function and qualifier.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StoredEventInvokeConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_retry_attempts: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_event_age_in_seconds: Option<i64>,
    #[serde(default)]
    pub destination_config: DestinationConfig,
}

/// What asynchronous invocation uses for one function and qualifier: the configuration
/// with defaults filled in and destinations resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AsyncPolicy {
    pub maximum_retry_attempts: i64,
    pub maximum_event_age_seconds: i64,
    pub on_success: Option<String>,
    pub on_failure: Option<String>,
}

impl Default for AsyncPolicy {
    fn default() -> Self {
        AsyncPolicy {
            maximum_retry_attempts: DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
            maximum_event_age_seconds: DEFAULT_MAXIMUM_EVENT_AGE_SECONDS,
            on_success: None,
            on_failure: None,
        }
    }
}

fn config_key(name: &str, qualifier: &str) -> String {
    format!("{name}/{qualifier}")
}

/// Range checks, reported together as the API's validation does.
fn validate_ranges(input: &EventInvokeConfigInput) -> Result<()> {
    let mut problems = Vec::new();
    if let Some(retries) = input.maximum_retry_attempts {
        if retries < 0 {
            problems.push(format!("Value '{retries}' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value greater than or equal to 0"));
        } else if retries > 2 {
            problems.push(format!("Value '{retries}' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2"));
        }
    }
    if let Some(age) = input.maximum_event_age_in_seconds {
        if age < 60 {
            problems.push(format!("Value '{age}' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60"));
        } else if age > 21_600 {
            problems.push(format!("Value '{age}' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value less than or equal to 21600"));
        }
    }
    match problems.len() {
        0 => Ok(()),
        1 => Err(Error::LambdaValidation(format!(
            "1 validation error detected: {}",
            problems.join("; ")
        ))),
        count => Err(Error::LambdaValidation(format!(
            "{count} validation errors detected: {}",
            problems.join("; ")
        ))),
    }
}

fn nothing_to_configure() -> Error {
    Error::LambdaInvalidParameterValue(
        "You must specify at least one of error handling or destination setting.".to_string(),
    )
}

fn function_missing() -> Error {
    Error::FunctionNotFound("The function doesn't exist.".to_string())
}

/// An empty destination ARN means "none".
fn normalise(config: &mut DestinationConfig) {
    for destination in [&mut config.on_success, &mut config.on_failure] {
        if destination.destination.as_deref() == Some("") {
            destination.destination = None;
        }
    }
}

/// `DestinationConfig(onSuccess=…, onFailure=…)`, as Lambda names a config in messages.
fn describe(config: &DestinationConfig) -> String {
    let part = |name: &str, destination: &OnDestination| match &destination.destination {
        Some(arn) => format!("{name}(destination={arn})"),
        None => "null".to_string(),
    };
    format!(
        "DestinationConfig(onSuccess={}, onFailure={})",
        part("OnSuccess", &config.on_success),
        part("OnFailure", &config.on_failure)
    )
}

impl Engine {
    /// The function named by `identifier` and the qualifier the configuration is kept
    /// under (`$LATEST` when none). Fails with `missing` when the function (or the
    /// version or alias) does not exist.
    async fn event_invoke_config_owner(
        &self,
        account: &str,
        identifier: &str,
        qualifier: Option<&str>,
        missing: impl Fn(&str) -> Error,
    ) -> Result<(String, String, String)> {
        let (account, name, qualifier) =
            super::functions::parse_function_identifier(identifier, account, qualifier)?;
        let qualifier = qualifier.unwrap_or_else(|| "$LATEST".to_string());
        let qualified_arn = format!("{}:{qualifier}", self.function_arn(&account, &name));
        match self
            .find_function(&account, &name, Some(qualifier.as_str()))
            .await
        {
            Ok(_) => Ok((account, name, qualifier)),
            Err(Error::FunctionNotFound(_)) => Err(missing(&qualified_arn)),
            Err(error) => Err(error),
        }
    }

    async fn check_destinations(
        &self,
        account: &str,
        name: &str,
        config: &DestinationConfig,
    ) -> Result<()> {
        let whole = describe(config);
        for (kind, destination) in [
            (DestinationKind::OnSuccess, &config.on_success),
            (DestinationKind::OnFailure, &config.on_failure),
        ] {
            if let Some(arn) = &destination.destination {
                self.destination_target((account, name), kind, arn, &whole)
                    .await?;
            }
        }
        Ok(())
    }

    async fn stored_event_invoke_config(
        &self,
        account: &str,
        name: &str,
        qualifier: &str,
    ) -> Result<Option<(StoredEventInvokeConfig, ResourceRecord)>> {
        let Some(record) = self
            .inner
            .store
            .get_resource(
                account,
                EVENT_INVOKE_CONFIG_KIND,
                &config_key(name, qualifier),
            )
            .await?
        else {
            return Ok(None);
        };
        let stored = serde_json::from_str(&record.document).map_err(|error| {
            Error::LambdaService(format!("stored event invoke config is unreadable: {error}"))
        })?;
        Ok(Some((stored, record)))
    }

    fn event_invoke_config_output(
        &self,
        account: &str,
        name: &str,
        qualifier: &str,
        stored: StoredEventInvokeConfig,
        modified_at: store::Millis,
    ) -> FunctionEventInvokeConfig {
        FunctionEventInvokeConfig {
            last_modified: modified_at as f64 / 1000.0,
            function_arn: format!("{}:{qualifier}", self.function_arn(account, name)),
            maximum_retry_attempts: stored.maximum_retry_attempts,
            maximum_event_age_in_seconds: stored.maximum_event_age_in_seconds,
            destination_config: stored.destination_config,
        }
    }

    async fn write_event_invoke_config(
        &self,
        account: &str,
        name: &str,
        qualifier: &str,
        stored: StoredEventInvokeConfig,
        condition: ResourceCondition,
    ) -> Result<Option<FunctionEventInvokeConfig>> {
        let now = self.now();
        let document = serde_json::to_string(&stored)
            .map_err(|error| Error::LambdaService(error.to_string()))?;
        let outcome = self
            .inner
            .store
            .put_resource(
                ResourceRecord {
                    account: account.to_string(),
                    kind: EVENT_INVOKE_CONFIG_KIND.to_string(),
                    key: config_key(name, qualifier),
                    document,
                    revision_id: uuid::Uuid::new_v4().to_string(),
                    modified_at: now,
                },
                None,
                condition,
            )
            .await?;
        Ok(match outcome {
            ResourceOutcome::Done => {
                Some(self.event_invoke_config_output(account, name, qualifier, stored, now))
            }
            ResourceOutcome::ConditionFailed => None,
        })
    }

    /// PutFunctionEventInvokeConfig: replaces the whole configuration.
    pub async fn put_function_event_invoke_config(
        &self,
        account: &str,
        identifier: &str,
        qualifier: Option<&str>,
        mut input: EventInvokeConfigInput,
    ) -> Result<FunctionEventInvokeConfig> {
        validate_ranges(&input)?;
        if input.maximum_retry_attempts.is_none()
            && input.maximum_event_age_in_seconds.is_none()
            && input.destination_config.is_none()
        {
            return Err(nothing_to_configure());
        }
        let (account, name, qualifier) = self
            .event_invoke_config_owner(account, identifier, qualifier, |_| function_missing())
            .await?;
        let mut destination_config = input.destination_config.take().unwrap_or_default();
        normalise(&mut destination_config);
        self.check_destinations(&account, &name, &destination_config)
            .await?;
        let stored = StoredEventInvokeConfig {
            maximum_retry_attempts: input.maximum_retry_attempts,
            maximum_event_age_in_seconds: input.maximum_event_age_in_seconds,
            destination_config,
        };
        self.write_event_invoke_config(&account, &name, &qualifier, stored, ResourceCondition::Any)
            .await?
            .ok_or_else(|| Error::LambdaService("unconditional write refused".to_string()))
    }

    /// UpdateFunctionEventInvokeConfig: changes only the members given.
    pub async fn update_function_event_invoke_config(
        &self,
        account: &str,
        identifier: &str,
        qualifier: Option<&str>,
        input: EventInvokeConfigInput,
    ) -> Result<FunctionEventInvokeConfig> {
        validate_ranges(&input)?;
        if input.maximum_retry_attempts.is_none()
            && input.maximum_event_age_in_seconds.is_none()
            && input.destination_config.is_none()
        {
            return Err(nothing_to_configure());
        }
        let (account, name, qualifier) = self
            .event_invoke_config_owner(account, identifier, qualifier, |_| function_missing())
            .await?;
        let doesnt_have = |arn: &str| {
            Error::FunctionNotFound(format!(
                "The function {arn} doesn't have an EventInvokeConfig"
            ))
        };
        let arn = format!("{}:{qualifier}", self.function_arn(&account, &name));
        let Some((mut stored, record)) = self
            .stored_event_invoke_config(&account, &name, &qualifier)
            .await?
        else {
            return Err(doesnt_have(&arn));
        };
        if let Some(retries) = input.maximum_retry_attempts {
            stored.maximum_retry_attempts = Some(retries);
        }
        if let Some(age) = input.maximum_event_age_in_seconds {
            stored.maximum_event_age_in_seconds = Some(age);
        }
        if let Some(mut destinations) = input.destination_config {
            normalise(&mut destinations);
            self.check_destinations(&account, &name, &destinations)
                .await?;
            stored.destination_config = destinations;
        }
        // Conditional on the revision read, so a concurrent Put or Delete is not undone.
        self.write_event_invoke_config(
            &account,
            &name,
            &qualifier,
            stored,
            ResourceCondition::Revision(record.revision_id),
        )
        .await?
        .ok_or_else(|| {
            Error::ResourceConflict(
                "The operation cannot be performed at this time. The event invoke configuration changed while it was being updated."
                    .to_string(),
            )
        })
    }

    /// GetFunctionEventInvokeConfig.
    pub async fn get_function_event_invoke_config(
        &self,
        account: &str,
        identifier: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionEventInvokeConfig> {
        let doesnt_have = |arn: &str| {
            Error::FunctionNotFound(format!(
                "The function {arn} doesn't have an EventInvokeConfig"
            ))
        };
        let (account, name, qualifier) = self
            .event_invoke_config_owner(account, identifier, qualifier, doesnt_have)
            .await?;
        let arn = format!("{}:{qualifier}", self.function_arn(&account, &name));
        let Some((stored, record)) = self
            .stored_event_invoke_config(&account, &name, &qualifier)
            .await?
        else {
            return Err(doesnt_have(&arn));
        };
        Ok(
            self.event_invoke_config_output(
                &account,
                &name,
                &qualifier,
                stored,
                record.modified_at,
            ),
        )
    }

    /// DeleteFunctionEventInvokeConfig.
    pub async fn delete_function_event_invoke_config(
        &self,
        account: &str,
        identifier: &str,
        qualifier: Option<&str>,
    ) -> Result<()> {
        let doesnt_have = |arn: &str| {
            Error::FunctionNotFound(format!(
                "The function {arn} doesn't have an EventInvokeConfig"
            ))
        };
        let (account, name, qualifier) = self
            .event_invoke_config_owner(account, identifier, qualifier, doesnt_have)
            .await?;
        let arn = format!("{}:{qualifier}", self.function_arn(&account, &name));
        match self
            .inner
            .store
            .delete_resource(
                &account,
                EVENT_INVOKE_CONFIG_KIND,
                &config_key(&name, &qualifier),
                ResourceCondition::Exists,
            )
            .await?
        {
            ResourceOutcome::Done => Ok(()),
            ResourceOutcome::ConditionFailed => Err(doesnt_have(&arn)),
        }
    }

    /// ListFunctionEventInvokeConfigs: at most 50 a page; the marker is the last
    /// qualifier returned.
    pub async fn list_function_event_invoke_configs(
        &self,
        account: &str,
        identifier: &str,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<EventInvokeConfigPage> {
        let limit = match max_items {
            None => MAX_EVENT_INVOKE_CONFIG_ITEMS,
            Some(items) if !(1..=50).contains(&items) => {
                let rule = if items < 1 {
                    "Member must have value greater than or equal to 1"
                } else {
                    "Member must have value less than or equal to 50"
                };
                return Err(Error::LambdaValidation(format!(
                    "1 validation error detected: Value '{items}' at 'maxItems' failed to satisfy constraint: {rule}"
                )));
            }
            Some(items) => usize::try_from(items).unwrap_or(MAX_EVENT_INVOKE_CONFIG_ITEMS),
        };
        let (account, name, _) = self
            .event_invoke_config_owner(account, identifier, None, |_| function_missing())
            .await?;
        let prefix = config_key(&name, "");
        let after = marker
            .filter(|marker| !marker.is_empty())
            .map(|marker| config_key(&name, marker));
        let mut records = self
            .inner
            .store
            .list_resources(
                &account,
                EVENT_INVOKE_CONFIG_KIND,
                &prefix,
                after.as_deref(),
                limit + 1,
            )
            .await?;
        let next_marker = if records.len() > limit {
            records.truncate(limit);
            records
                .last()
                .and_then(|record| record.key.strip_prefix(&prefix))
                .map(str::to_string)
        } else {
            None
        };
        let mut configs = Vec::with_capacity(records.len());
        for record in records {
            let qualifier = record.key.strip_prefix(&prefix).unwrap_or_default();
            let stored: StoredEventInvokeConfig =
                serde_json::from_str(&record.document).map_err(|error| {
                    Error::LambdaService(format!(
                        "stored event invoke config is unreadable: {error}"
                    ))
                })?;
            configs.push(self.event_invoke_config_output(
                &account,
                &name,
                qualifier,
                stored,
                record.modified_at,
            ));
        }
        Ok(EventInvokeConfigPage {
            configs,
            next_marker,
        })
    }

    /// The retry and destination policy asynchronous invocation follows for one function
    /// and qualifier (`$LATEST` when none), with Lambda's defaults for what is not set.
    pub(crate) async fn async_policy(
        &self,
        account: &str,
        name: &str,
        qualifier: &str,
    ) -> Result<AsyncPolicy> {
        let Some((stored, _)) = self
            .stored_event_invoke_config(account, name, qualifier)
            .await?
        else {
            return Ok(AsyncPolicy::default());
        };
        Ok(AsyncPolicy {
            maximum_retry_attempts: stored
                .maximum_retry_attempts
                .unwrap_or(DEFAULT_MAXIMUM_RETRY_ATTEMPTS),
            maximum_event_age_seconds: stored
                .maximum_event_age_in_seconds
                .unwrap_or(DEFAULT_MAXIMUM_EVENT_AGE_SECONDS),
            on_success: stored.destination_config.on_success.destination,
            on_failure: stored.destination_config.on_failure.destination,
        })
    }

    /// Forgets every event invoke configuration of a deleted function.
    pub(crate) async fn delete_event_invoke_configs(
        &self,
        account: &str,
        name: &str,
    ) -> Result<()> {
        self.inner
            .store
            .delete_resources(account, EVENT_INVOKE_CONFIG_KIND, &config_key(name, ""))
            .await?;
        Ok(())
    }

    /// Resolves a stored destination ARN for delivery. `Ok(None)` when it is no longer
    /// valid (the function it names was deleted since): the record is then dropped, as
    /// Lambda drops records it cannot deliver. A store failure is an error, to try again.
    pub(crate) async fn resolved_destination(
        &self,
        function: (&str, &str),
        kind: DestinationKind,
        arn: &str,
    ) -> Result<Option<Target>> {
        match self.destination_target(function, kind, arn, arn).await {
            Ok(target) => Ok(Some(target)),
            Err(Error::Store(error)) => Err(Error::Store(error)),
            Err(error) => {
                tracing::warn!(destination = arn, %error, "asynchronous invocation destination is no longer valid; record dropped");
                Ok(None)
            }
        }
    }
}

impl Engine {
    /// Drops the event invoke configuration of one version or alias (it went with it, as
    /// on Lambda). Nothing to drop is fine.
    pub(crate) async fn forget_event_invoke_config(
        &self,
        account: &str,
        name: &str,
        qualifier: &str,
    ) -> Result<()> {
        self.inner
            .store
            .delete_resource(
                account,
                EVENT_INVOKE_CONFIG_KIND,
                &config_key(name, qualifier),
                store::ResourceCondition::Any,
            )
            .await?;
        Ok(())
    }
}
