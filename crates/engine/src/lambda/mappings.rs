//! Event source mappings (queue → function), the control plane: CreateEventSourceMapping,
//! Get, List, Update and Delete as methods on [`Engine`], with Lambda's validation and
//! messages for SQS sources (reference §4.1). Each mapping is one store resource of kind
//! [`EVENT_SOURCE_MAPPING_KIND`] keyed by its UUID, holding [`StoredMapping`] as JSON; the
//! pollers (`poller.rs`) read the same documents.
//!
//! A queue and a function have at most one mapping. The store has no unique index over a
//! document's fields, so each mapping also holds a "pair" resource keyed by queue ARN and
//! function ARN whose document is the mapping's UUID; creating it only if absent is what
//! makes two concurrent creates (on one node or several) end with one mapping. A pair whose
//! mapping never appeared (a crash between the two writes) is taken over once it is a
//! minute old.
//!
//! States (reference §4.1): a create answers `Creating` (or `Disabled`); an update answers
//! `Enabling`, `Disabling` or `Updating`; the mapping worker settles them to `Enabled` or
//! `Disabled` once this node's pollers follow the new settings. A delete answers `Deleting`
//! and removes the mapping at once.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::{ResourceCondition, ResourceOutcome, ResourceRecord};

use super::filter::{INVALID_PATTERN, Pattern};
use crate::sqs::QueueRef;
use crate::{Engine, Error, Result};

/// The store kind of mapping documents.
pub const EVENT_SOURCE_MAPPING_KIND: &str = "event-source-mapping";
/// The store kind of the (queue ARN, function ARN) → UUID uniqueness records.
const MAPPING_PAIR_KIND: &str = "event-source-mapping-pair";
/// A pair record whose mapping does not exist is abandoned after this long.
const ABANDONED_PAIR_MS: i64 = 60_000;
/// ListEventSourceMappings returns at most this many mappings per page.
pub const MAX_LIST_MAPPINGS: usize = 100;
/// Filters per mapping (AWS's default quota).
pub const MAX_FILTERS: usize = 5;
const MAX_PATTERN_LENGTH: usize = 4096;
const DEFAULT_BATCH_SIZE: i64 = 10;
const MAX_BATCH_SIZE: i64 = 10_000;
const MAX_FIFO_BATCH_SIZE: i64 = 10;
const MAX_BATCHING_WINDOW: i64 = 300;
const MIN_MAXIMUM_CONCURRENCY: i64 = 2;
const MAX_MAXIMUM_CONCURRENCY: i64 = 1000;
/// The only `FunctionResponseTypes` value.
pub const REPORT_BATCH_ITEM_FAILURES: &str = "ReportBatchItemFailures";
/// Attempts of an update that lost a race with another write to the same mapping.
const UPDATE_ATTEMPTS: usize = 5;

const NONEXISTENT_QUEUE: &str = "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist for this wsdl version.";
const NOT_FOUND: &str = "The resource you requested does not exist.";

/// `ScalingConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScalingConfig {
    #[serde(
        rename = "MaximumConcurrency",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub maximum_concurrency: Option<i64>,
}

/// `FilterCriteria`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterCriteria {
    #[serde(rename = "Filters", default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
}

/// `FilterCriteria.Filters[]`: one pattern, a JSON document in a string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    #[serde(rename = "Pattern", default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
}

impl FilterCriteria {
    /// The patterns' sources, in order.
    pub fn patterns(&self) -> Vec<String> {
        self.filters
            .iter()
            .flatten()
            .filter_map(|filter| filter.pattern.clone())
            .collect()
    }
}

/// Members that apply only to stream and other sources: SQS mappings refuse them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamOnlyParameters {
    pub starting_position: Option<Value>,
    pub starting_position_timestamp: Option<Value>,
    pub bisect_batch_on_function_error: Option<Value>,
    pub maximum_retry_attempts: Option<Value>,
    pub maximum_record_age_in_seconds: Option<Value>,
    pub parallelization_factor: Option<Value>,
    pub tumbling_window_in_seconds: Option<Value>,
    pub destination_config: Option<Value>,
}

/// CreateEventSourceMapping's members (the ones eddy reads).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateEventSourceMappingInput {
    pub event_source_arn: Option<String>,
    pub function_name: Option<String>,
    pub enabled: Option<bool>,
    pub batch_size: Option<i64>,
    pub maximum_batching_window_in_seconds: Option<i64>,
    pub function_response_types: Option<Vec<String>>,
    pub scaling_config: Option<ScalingConfig>,
    pub filter_criteria: Option<FilterCriteria>,
    #[serde(flatten)]
    pub stream_only: StreamOnlyParameters,
}

/// UpdateEventSourceMapping's members: absent ones are left as they are.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateEventSourceMappingInput {
    pub function_name: Option<String>,
    pub enabled: Option<bool>,
    pub batch_size: Option<i64>,
    pub maximum_batching_window_in_seconds: Option<i64>,
    pub function_response_types: Option<Vec<String>>,
    /// `{}` removes the limit.
    pub scaling_config: Option<ScalingConfig>,
    /// `{}` or `{"Filters": []}` removes the filters.
    pub filter_criteria: Option<FilterCriteria>,
    #[serde(flatten)]
    pub stream_only: StreamOnlyParameters,
}

/// EventSourceMappingConfiguration as Lambda returns it for an SQS source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventSourceMappingConfiguration {
    #[serde(rename = "UUID")]
    pub uuid: String,
    pub batch_size: i64,
    pub maximum_batching_window_in_seconds: i64,
    pub event_source_arn: String,
    pub function_arn: String,
    pub function_response_types: Vec<String>,
    /// Epoch seconds (a JSON number with a fraction, as Lambda sends it).
    pub last_modified: f64,
    pub state: String,
    pub state_transition_reason: String,
    pub event_source_mapping_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling_config: Option<ScalingConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_criteria: Option<FilterCriteria>,
}

/// What the store holds for one mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredMapping {
    pub configuration: EventSourceMappingConfiguration,
    /// Whether the mapping should poll (`Enabled`); `configuration.state` is what the
    /// caller sees.
    pub enabled: bool,
}

impl StoredMapping {
    pub(crate) fn from_record(record: &ResourceRecord) -> Result<StoredMapping> {
        serde_json::from_str(&record.document).map_err(|error| {
            Error::LambdaService(format!(
                "event source mapping {} is unreadable: {error}",
                record.key
            ))
        })
    }

    /// Whether the function's response is read for `batchItemFailures`.
    pub fn reports_batch_item_failures(&self) -> bool {
        self.configuration
            .function_response_types
            .iter()
            .any(|kind| kind == REPORT_BATCH_ITEM_FAILURES)
    }
}

/// One page of ListEventSourceMappings.
#[derive(Debug, Clone)]
pub struct EventSourceMappingPage {
    pub event_source_mappings: Vec<EventSourceMappingConfiguration>,
    pub next_marker: Option<String>,
}

/// The settings validated together (create, or an update merged with what is stored).
struct BatchSettings {
    batch_size: i64,
    window: i64,
    function_response_types: Vec<String>,
    scaling_config: Option<ScalingConfig>,
    filter_criteria: Option<FilterCriteria>,
}

/// An SQS queue ARN: `arn:<partition>:sqs:<region>:<account>:<name>`.
pub(crate) fn queue_of_arn(arn: &str) -> Option<QueueRef> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "sqs", _, account, name]
            if partition.starts_with("aws") && !account.is_empty() && !name.is_empty() =>
        {
            Some(QueueRef {
                account: account.to_string(),
                name: name.to_string(),
            })
        }
        _ => None,
    }
}

/// The qualifier an identifier carries (`name:q`, `account:function:name:q`, an ARN with
/// `:q`), if any.
fn qualifier_of(identifier: &str) -> Option<&str> {
    let parts: Vec<&str> = identifier.split(':').collect();
    match parts.as_slice() {
        [_, qualifier]
        | [_, "function", _, qualifier]
        | ["arn", _, "lambda", _, _, "function", _, qualifier] => Some(qualifier),
        _ => None,
    }
}

/// (account, name, qualifier) of a function ARN, partial ARN or name.
fn function_parts<'a>(
    identifier: &'a str,
    default_account: &'a str,
) -> (&'a str, &'a str, Option<&'a str>) {
    let parts: Vec<&str> = identifier.split(':').collect();
    match parts.as_slice() {
        [name] => (default_account, name, None),
        [name, qualifier] => (default_account, name, Some(qualifier)),
        [account, "function", name] => (account, name, None),
        [account, "function", name, qualifier] => (account, name, Some(qualifier)),
        ["arn", _, "lambda", _, account, "function", name] => (account, name, None),
        ["arn", _, "lambda", _, account, "function", name, qualifier] => {
            (account, name, Some(qualifier))
        }
        _ => (default_account, identifier, None),
    }
}

fn constraint(value: impl std::fmt::Display, member: &str, rule: &str) -> Error {
    Error::LambdaValidation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {rule}"
    ))
}

fn invalid(message: impl Into<String>) -> Error {
    Error::LambdaInvalidParameterValue(message.into())
}

fn not_found() -> Error {
    Error::FunctionNotFound(NOT_FOUND.to_string())
}

fn refuse_stream_only(parameters: &StreamOnlyParameters) -> Result<()> {
    if parameters.starting_position.is_some() {
        return Err(invalid(
            "StartingPosition is not valid for SQS event sources.",
        ));
    }
    let unsupported = [
        (
            "StartingPositionTimestamp",
            &parameters.starting_position_timestamp,
        ),
        (
            "BisectBatchOnFunctionError",
            &parameters.bisect_batch_on_function_error,
        ),
        ("MaximumRetryAttempts", &parameters.maximum_retry_attempts),
        (
            "MaximumRecordAgeInSeconds",
            &parameters.maximum_record_age_in_seconds,
        ),
        ("ParallelizationFactor", &parameters.parallelization_factor),
        (
            "TumblingWindowInSeconds",
            &parameters.tumbling_window_in_seconds,
        ),
        ("DestinationConfig", &parameters.destination_config),
    ];
    for (name, value) in unsupported {
        if value.is_some() {
            return Err(invalid(format!(
                "Unsupported {name} parameter for given event source mapping type."
            )));
        }
    }
    Ok(())
}

fn validate_batch_settings(settings: &BatchSettings, fifo: bool) -> Result<()> {
    if settings.batch_size < 1 {
        return Err(constraint(
            settings.batch_size,
            "batchSize",
            "Member must have value greater than or equal to 1",
        ));
    }
    if settings.batch_size > MAX_BATCH_SIZE {
        return Err(constraint(
            settings.batch_size,
            "batchSize",
            "Member must have value less than or equal to 10000",
        ));
    }
    if settings.window < 0 {
        return Err(constraint(
            settings.window,
            "maximumBatchingWindowInSeconds",
            "Member must have value greater than or equal to 0",
        ));
    }
    if settings.window > MAX_BATCHING_WINDOW {
        return Err(constraint(
            settings.window,
            "maximumBatchingWindowInSeconds",
            "Member must have value less than or equal to 300",
        ));
    }
    if fifo && settings.batch_size > MAX_FIFO_BATCH_SIZE {
        return Err(invalid(
            "Maximum batch size must be between 1 and 10 inclusive for FIFO queues",
        ));
    }
    if fifo && settings.window > 0 {
        return Err(invalid("Batching window is not supported for FIFO queues"));
    }
    if settings.batch_size > 10 && settings.window == 0 {
        return Err(invalid(
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
        ));
    }
    if let Some(maximum) = settings
        .scaling_config
        .as_ref()
        .and_then(|config| config.maximum_concurrency)
    {
        if maximum < MIN_MAXIMUM_CONCURRENCY {
            return Err(constraint(
                maximum,
                "scalingConfig.maximumConcurrency",
                "Member must have value greater than or equal to 2",
            ));
        }
        if maximum > MAX_MAXIMUM_CONCURRENCY {
            return Err(constraint(
                maximum,
                "scalingConfig.maximumConcurrency",
                "Member must have value less than or equal to 1000",
            ));
        }
    }
    if settings.function_response_types.len() > 1
        || settings
            .function_response_types
            .iter()
            .any(|kind| kind != REPORT_BATCH_ITEM_FAILURES)
    {
        return Err(constraint(
            format!("[{}]", settings.function_response_types.join(", ")),
            "functionResponseTypes",
            "Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]",
        ));
    }
    if let Some(criteria) = &settings.filter_criteria {
        validate_filter_criteria(criteria)?;
    }
    Ok(())
}

/// At most [`MAX_FILTERS`] patterns, each a valid pattern of at most 4096 characters.
pub fn validate_filter_criteria(criteria: &FilterCriteria) -> Result<()> {
    let filters = criteria.filters.as_deref().unwrap_or_default();
    if filters.len() > MAX_FILTERS {
        return Err(invalid(format!(
            "The number of filters ({}) exceeds the maximum of {MAX_FILTERS} for an event source mapping.",
            filters.len()
        )));
    }
    for (index, filter) in filters.iter().enumerate() {
        let Some(pattern) = &filter.pattern else {
            return Err(invalid(INVALID_PATTERN));
        };
        if pattern.chars().count() > MAX_PATTERN_LENGTH {
            return Err(constraint(
                pattern,
                &format!("filterCriteria.filters.{}.member.pattern", index + 1),
                "Member must have length less than or equal to 4096",
            ));
        }
        Pattern::parse(pattern).map_err(invalid)?;
    }
    Ok(())
}

/// Filter criteria as stored: `None` when there are no filters.
fn normalised_filter_criteria(criteria: Option<FilterCriteria>) -> Option<FilterCriteria> {
    criteria.filter(|criteria| criteria.filters.as_ref().is_some_and(|f| !f.is_empty()))
}

fn normalised_scaling_config(config: Option<ScalingConfig>) -> Option<ScalingConfig> {
    config.filter(|config| config.maximum_concurrency.is_some())
}

fn epoch_seconds(millis: store::Millis) -> f64 {
    millis as f64 / 1000.0
}

fn pair_key(queue_arn: &str, function_arn: &str) -> String {
    format!("{queue_arn} {function_arn}")
}

impl Engine {
    /// `arn:aws:lambda:<region>:<account>:event-source-mapping:<uuid>`.
    fn event_source_mapping_arn(&self, account: &str, uuid: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{account}:event-source-mapping:{uuid}",
            self.config().region
        )
    }

    /// The function a mapping names, resolved now, and the ARN the mapping records (with the
    /// caller's qualifier, if any). An unknown function is Lambda's "Function does not
    /// exist".
    async fn mapping_function(&self, account: &str, identifier: &str) -> Result<(String, i64)> {
        let (record, configuration) = match self.find_function(account, identifier, None).await {
            Ok(found) => found,
            Err(Error::FunctionNotFound(_)) => return Err(invalid("Function does not exist")),
            Err(error) => return Err(error),
        };
        let mut arn = format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.config().region,
            record.account,
            record.name
        );
        if let Some(qualifier) = qualifier_of(identifier) {
            arn = format!("{arn}:{qualifier}");
        }
        Ok((arn, configuration.timeout))
    }

    /// The queue's visibility timeout, checked against the function's timeout.
    async fn check_mapping_queue(&self, queue_arn: &str, function_timeout: i64) -> Result<()> {
        let Some(queue) = queue_of_arn(queue_arn) else {
            return Err(invalid(NONEXISTENT_QUEUE));
        };
        let attributes = match self
            .get_queue_attributes(&queue, &["VisibilityTimeout".to_string()])
            .await
        {
            Ok(attributes) => attributes,
            Err(Error::QueueDoesNotExist) => return Err(invalid(NONEXISTENT_QUEUE)),
            Err(error) => return Err(error),
        };
        let visibility: i64 = attributes
            .get("VisibilityTimeout")
            .and_then(|value| value.parse().ok())
            .unwrap_or(30);
        if visibility < function_timeout {
            return Err(invalid(format!(
                "Queue visibility timeout: {visibility} seconds is less than Function timeout: {function_timeout} seconds"
            )));
        }
        Ok(())
    }

    /// Records that (queue, function) belongs to mapping `uuid`, or answers AWS's conflict
    /// naming the mapping that holds it.
    async fn claim_mapping_pair(
        &self,
        account: &str,
        queue_arn: &str,
        function_arn: &str,
        uuid: &str,
    ) -> Result<()> {
        let key = pair_key(queue_arn, function_arn);
        for _ in 0..UPDATE_ATTEMPTS {
            let now = self.now();
            let record = ResourceRecord {
                account: account.to_string(),
                kind: MAPPING_PAIR_KIND.to_string(),
                key: key.clone(),
                document: uuid.to_string(),
                revision_id: uuid::Uuid::new_v4().to_string(),
                modified_at: now,
            };
            match self
                .store()
                .put_resource(record.clone(), None, ResourceCondition::Absent)
                .await?
            {
                ResourceOutcome::Done => return Ok(()),
                ResourceOutcome::ConditionFailed => {}
            }
            let Some(existing) = self
                .store()
                .get_resource(account, MAPPING_PAIR_KIND, &key)
                .await?
            else {
                continue;
            };
            if existing.document == uuid {
                return Ok(());
            }
            let owner_exists = self
                .store()
                .get_resource(account, EVENT_SOURCE_MAPPING_KIND, &existing.document)
                .await?
                .is_some();
            if owner_exists || now - existing.modified_at < ABANDONED_PAIR_MS {
                let (_, function_name, _) = function_parts(function_arn, account);
                return Err(Error::ResourceConflict(format!(
                    "An event source mapping with SQS arn (\" {queue_arn} \") and function (\" {function_name} \") already exists. Please update or delete the existing mapping with UUID {}",
                    existing.document
                )));
            }
            // Left behind by a create that never finished: take it over.
            if self
                .store()
                .put_resource(
                    record,
                    None,
                    ResourceCondition::Revision(existing.revision_id),
                )
                .await?
                == ResourceOutcome::Done
            {
                return Ok(());
            }
        }
        Err(Error::ResourceConflict(
            "The operation cannot be performed at this time. The event source mapping is being modified by another request."
                .to_string(),
        ))
    }

    /// Forgets that (queue, function) belongs to mapping `uuid` (if it still does).
    async fn release_mapping_pair(
        &self,
        account: &str,
        queue_arn: &str,
        function_arn: &str,
        uuid: &str,
    ) -> Result<()> {
        let key = pair_key(queue_arn, function_arn);
        if let Some(existing) = self
            .store()
            .get_resource(account, MAPPING_PAIR_KIND, &key)
            .await?
            && existing.document == uuid
        {
            self.store()
                .delete_resource(
                    account,
                    MAPPING_PAIR_KIND,
                    &key,
                    ResourceCondition::Revision(existing.revision_id),
                )
                .await?;
        }
        Ok(())
    }

    async fn mapping_record(
        &self,
        account: &str,
        uuid: &str,
    ) -> Result<(ResourceRecord, StoredMapping)> {
        let Some(record) = self
            .store()
            .get_resource(account, EVENT_SOURCE_MAPPING_KIND, uuid)
            .await?
        else {
            return Err(not_found());
        };
        let stored = StoredMapping::from_record(&record)?;
        Ok((record, stored))
    }

    /// CreateEventSourceMapping (SQS sources). Answers `Creating` (or `Disabled` when
    /// created with `Enabled: false`); the worker starts polling and settles the state.
    pub async fn create_event_source_mapping(
        &self,
        account: &str,
        input: CreateEventSourceMappingInput,
    ) -> Result<EventSourceMappingConfiguration> {
        let Some(event_source_arn) = input.event_source_arn else {
            return Err(invalid("Unrecognized event source."));
        };
        let Some(function_name) = input.function_name else {
            return Err(Error::LambdaValidation(
                "1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null".to_string(),
            ));
        };
        let Some(queue) = queue_of_arn(&event_source_arn) else {
            return Err(if event_source_arn.starts_with("arn:") {
                invalid(format!(
                    "eddy supports Amazon SQS event sources only; {event_source_arn} is not an SQS queue ARN."
                ))
            } else {
                constraint(
                    &event_source_arn,
                    "eventSourceArn",
                    "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)",
                )
            });
        };
        refuse_stream_only(&input.stream_only)?;
        let settings = BatchSettings {
            batch_size: input.batch_size.unwrap_or(DEFAULT_BATCH_SIZE),
            window: input.maximum_batching_window_in_seconds.unwrap_or(0),
            function_response_types: input.function_response_types.unwrap_or_default(),
            scaling_config: normalised_scaling_config(input.scaling_config),
            filter_criteria: normalised_filter_criteria(input.filter_criteria),
        };
        validate_batch_settings(&settings, queue.name.ends_with(".fifo"))?;
        let (function_arn, function_timeout) =
            self.mapping_function(account, &function_name).await?;
        self.check_mapping_queue(&event_source_arn, function_timeout)
            .await?;

        let uuid = uuid::Uuid::new_v4().to_string();
        let enabled = input.enabled.unwrap_or(true);
        let now = self.now();
        let configuration = EventSourceMappingConfiguration {
            uuid: uuid.clone(),
            batch_size: settings.batch_size,
            maximum_batching_window_in_seconds: settings.window,
            event_source_arn: event_source_arn.clone(),
            function_arn: function_arn.clone(),
            function_response_types: settings.function_response_types,
            last_modified: epoch_seconds(now),
            state: if enabled { "Creating" } else { "Disabled" }.to_string(),
            state_transition_reason: "USER_INITIATED".to_string(),
            event_source_mapping_arn: self.event_source_mapping_arn(account, &uuid),
            scaling_config: settings.scaling_config,
            filter_criteria: settings.filter_criteria,
        };
        self.claim_mapping_pair(account, &event_source_arn, &function_arn, &uuid)
            .await?;
        let stored = StoredMapping {
            configuration: configuration.clone(),
            enabled,
        };
        let written = self
            .put_mapping(account, &stored, ResourceCondition::Absent)
            .await;
        if !matches!(written, Ok(ResourceOutcome::Done)) {
            let _ = self
                .release_mapping_pair(account, &event_source_arn, &function_arn, &uuid)
                .await;
            written?;
            return Err(Error::LambdaService(format!(
                "event source mapping {uuid} exists already"
            )));
        }
        self.event_source_mappings_changed();
        Ok(configuration)
    }

    pub(crate) async fn put_mapping(
        &self,
        account: &str,
        stored: &StoredMapping,
        condition: ResourceCondition,
    ) -> Result<ResourceOutcome> {
        let document = serde_json::to_string(stored)
            .map_err(|error| Error::LambdaService(format!("cannot encode mapping: {error}")))?;
        Ok(self
            .store()
            .put_resource(
                ResourceRecord {
                    account: account.to_string(),
                    kind: EVENT_SOURCE_MAPPING_KIND.to_string(),
                    key: stored.configuration.uuid.clone(),
                    document,
                    revision_id: uuid::Uuid::new_v4().to_string(),
                    modified_at: self.now(),
                },
                None,
                condition,
            )
            .await?)
    }

    /// GetEventSourceMapping.
    pub async fn get_event_source_mapping(
        &self,
        account: &str,
        uuid: &str,
    ) -> Result<EventSourceMappingConfiguration> {
        Ok(self.mapping_record(account, uuid).await?.1.configuration)
    }

    /// ListEventSourceMappings, optionally only those of a queue and/or a function (a
    /// function name or ARN; with a qualifier, only mappings of that qualifier). At most
    /// 100 a page; the marker is opaque.
    pub async fn list_event_source_mappings(
        &self,
        account: &str,
        event_source_arn: Option<&str>,
        function_name: Option<&str>,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<EventSourceMappingPage> {
        let limit = match max_items {
            None => MAX_LIST_MAPPINGS,
            Some(items) if items < 1 => {
                return Err(constraint(
                    items,
                    "maxItems",
                    "Member must have value greater than or equal to 1",
                ));
            }
            Some(items) if items > 10_000 => {
                return Err(constraint(
                    items,
                    "maxItems",
                    "Member must have value less than or equal to 10000",
                ));
            }
            Some(items) => usize::try_from(items)
                .unwrap_or(MAX_LIST_MAPPINGS)
                .min(MAX_LIST_MAPPINGS),
        };
        let after = match marker {
            None | Some("") => None,
            Some(marker) => Some(
                {
                    use base64::Engine as _;
                    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(marker)
                }
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| invalid("Invalid value for marker parameter"))?,
            ),
        };
        let wanted_function = function_name.map(|name| function_parts(name, account));
        let mut matching = Vec::new();
        let mut cursor = after;
        'pages: loop {
            const PAGE: usize = 1000;
            let records = self
                .store()
                .list_resources(
                    account,
                    EVENT_SOURCE_MAPPING_KIND,
                    "",
                    cursor.as_deref(),
                    PAGE,
                )
                .await?;
            let full = records.len() == PAGE;
            cursor = records.last().map(|record| record.key.clone());
            for record in &records {
                let stored = StoredMapping::from_record(record)?;
                let configuration = stored.configuration;
                if event_source_arn.is_some_and(|arn| arn != configuration.event_source_arn) {
                    continue;
                }
                if let Some((wanted_account, wanted_name, wanted_qualifier)) = wanted_function {
                    let (mapped_account, mapped_name, mapped_qualifier) =
                        function_parts(&configuration.function_arn, account);
                    if mapped_account != wanted_account
                        || mapped_name != wanted_name
                        || (wanted_qualifier.is_some() && wanted_qualifier != mapped_qualifier)
                    {
                        continue;
                    }
                }
                matching.push(configuration);
                if matching.len() > limit {
                    break 'pages;
                }
            }
            if !full {
                break;
            }
        }
        let next_marker = if matching.len() > limit {
            matching.truncate(limit);
            matching.last().map(|configuration| {
                use base64::Engine as _;
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(configuration.uuid.as_bytes())
            })
        } else {
            None
        };
        Ok(EventSourceMappingPage {
            event_source_mappings: matching,
            next_marker,
        })
    }

    /// UpdateEventSourceMapping: a partial update, validated as a whole. Answers
    /// `Enabling`/`Disabling` when `Enabled` changes, `Updating` otherwise.
    pub async fn update_event_source_mapping(
        &self,
        account: &str,
        uuid: &str,
        input: UpdateEventSourceMappingInput,
    ) -> Result<EventSourceMappingConfiguration> {
        refuse_stream_only(&input.stream_only)?;
        let new_function = match &input.function_name {
            Some(name) => Some(self.mapping_function(account, name).await?),
            None => None,
        };
        for _ in 0..UPDATE_ATTEMPTS {
            let (record, stored) = self.mapping_record(account, uuid).await?;
            let current = &stored.configuration;
            let settings = BatchSettings {
                batch_size: input.batch_size.unwrap_or(current.batch_size),
                window: input
                    .maximum_batching_window_in_seconds
                    .unwrap_or(current.maximum_batching_window_in_seconds),
                function_response_types: input
                    .function_response_types
                    .clone()
                    .unwrap_or_else(|| current.function_response_types.clone()),
                scaling_config: match &input.scaling_config {
                    Some(config) => normalised_scaling_config(Some(config.clone())),
                    None => current.scaling_config.clone(),
                },
                filter_criteria: match &input.filter_criteria {
                    Some(criteria) => normalised_filter_criteria(Some(criteria.clone())),
                    None => current.filter_criteria.clone(),
                },
            };
            let fifo = queue_of_arn(&current.event_source_arn)
                .is_some_and(|queue| queue.name.ends_with(".fifo"));
            validate_batch_settings(&settings, fifo)?;
            let old_function_arn = current.function_arn.clone();
            let function_arn = match &new_function {
                Some((arn, timeout)) => {
                    self.check_mapping_queue(&current.event_source_arn, *timeout)
                        .await?;
                    arn.clone()
                }
                None => old_function_arn.clone(),
            };
            let enabled = input.enabled.unwrap_or(stored.enabled);
            let state = match input.enabled {
                Some(true) if !stored.enabled => "Enabling",
                Some(false) if stored.enabled => "Disabling",
                _ => "Updating",
            };
            let updated = StoredMapping {
                configuration: EventSourceMappingConfiguration {
                    batch_size: settings.batch_size,
                    maximum_batching_window_in_seconds: settings.window,
                    function_arn: function_arn.clone(),
                    function_response_types: settings.function_response_types,
                    last_modified: epoch_seconds(self.now()),
                    state: state.to_string(),
                    state_transition_reason: "USER_INITIATED".to_string(),
                    scaling_config: settings.scaling_config,
                    filter_criteria: settings.filter_criteria,
                    ..current.clone()
                },
                enabled,
            };
            let moves = function_arn != old_function_arn;
            if moves {
                self.claim_mapping_pair(account, &current.event_source_arn, &function_arn, uuid)
                    .await?;
            }
            match self
                .put_mapping(
                    account,
                    &updated,
                    ResourceCondition::Revision(record.revision_id.clone()),
                )
                .await?
            {
                ResourceOutcome::Done => {
                    if moves {
                        self.release_mapping_pair(
                            account,
                            &current.event_source_arn,
                            &old_function_arn,
                            uuid,
                        )
                        .await?;
                    }
                    self.event_source_mappings_changed();
                    return Ok(updated.configuration);
                }
                ResourceOutcome::ConditionFailed => {
                    // Another write (another update, or the worker settling the state) won:
                    // undo the claim and apply this update to what is there now.
                    if moves {
                        self.release_mapping_pair(
                            account,
                            &current.event_source_arn,
                            &function_arn,
                            uuid,
                        )
                        .await?;
                    }
                }
            }
        }
        Err(Error::ResourceConflict(
            "The operation cannot be performed at this time. The event source mapping is being modified by another request."
                .to_string(),
        ))
    }

    /// DeleteEventSourceMapping: answers the mapping with `State: Deleting`; polling stops
    /// and the mapping is gone.
    pub async fn delete_event_source_mapping(
        &self,
        account: &str,
        uuid: &str,
    ) -> Result<EventSourceMappingConfiguration> {
        let (_, stored) = self.mapping_record(account, uuid).await?;
        if self
            .store()
            .delete_resource(
                account,
                EVENT_SOURCE_MAPPING_KIND,
                uuid,
                ResourceCondition::Exists,
            )
            .await?
            != ResourceOutcome::Done
        {
            return Err(not_found());
        }
        let configuration = stored.configuration;
        self.release_mapping_pair(
            account,
            &configuration.event_source_arn,
            &configuration.function_arn,
            uuid,
        )
        .await?;
        self.event_source_mappings_changed();
        Ok(EventSourceMappingConfiguration {
            state: "Deleting".to_string(),
            last_modified: epoch_seconds(self.now()),
            ..configuration
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn queue_arns_resolve_and_others_do_not() {
        assert_eq!(
            queue_of_arn("arn:aws:sqs:us-east-1:000000000000:orders"),
            Some(QueueRef {
                account: "000000000000".to_string(),
                name: "orders".to_string()
            })
        );
        assert_eq!(
            queue_of_arn("arn:aws:kinesis:us-east-1:000000000000:stream/s"),
            None
        );
        assert_eq!(queue_of_arn("orders"), None);
    }

    #[test]
    fn qualifiers_are_read_from_every_identifier_form() {
        assert_eq!(qualifier_of("f"), None);
        assert_eq!(qualifier_of("f:live"), Some("live"));
        assert_eq!(qualifier_of("000000000000:function:f:3"), Some("3"));
        assert_eq!(
            qualifier_of("arn:aws:lambda:us-east-1:000000000000:function:f"),
            None
        );
        assert_eq!(
            qualifier_of("arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST"),
            Some("$LATEST")
        );
    }

    #[test]
    fn responses_use_lambdas_member_names() {
        let configuration = EventSourceMappingConfiguration {
            uuid: "u".to_string(),
            batch_size: 10,
            maximum_batching_window_in_seconds: 0,
            event_source_arn: "arn:aws:sqs:us-east-1:000000000000:q".to_string(),
            function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f".to_string(),
            function_response_types: Vec::new(),
            last_modified: 1_700_000_000.5,
            state: "Creating".to_string(),
            state_transition_reason: "USER_INITIATED".to_string(),
            event_source_mapping_arn: "arn".to_string(),
            scaling_config: None,
            filter_criteria: None,
        };
        let json = serde_json::to_value(&configuration).unwrap();
        assert_eq!(json["UUID"], "u");
        assert_eq!(json["MaximumBatchingWindowInSeconds"], 0);
        assert_eq!(json["LastModified"], 1_700_000_000.5);
        assert!(json.get("ScalingConfig").is_none());
        assert!(json.get("FilterCriteria").is_none());
    }
}
