//! The Lambda control plane: CreateFunction, GetFunction(Configuration), ListFunctions,
//! UpdateFunctionCode/Configuration, DeleteFunction and Invoke, as methods on
//! [`crate::Engine`]. Functions are stored with their configuration (the JSON of
//! [`FunctionConfiguration`], which only the engine reads) and their zip; Invoke unpacks
//! the zip once per code version under the data directory and runs it through the
//! [`FunctionRunner`]. Qualifiers (versions, aliases) are resolved in one place,
//! [`Engine::find_function`]; versions, aliases, tags and reserved concurrency live in
//! their own modules.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::{CreateFunctionOutcome, FunctionRecord, FunctionUpdate, UpdateFunctionOutcome};

use super::aliases::{ALIAS_KIND, AliasConfiguration, routed_version};
use super::async_invoke::MAX_ASYNC_PAYLOAD_BYTES;
use super::concurrency_settings::CONCURRENCY_KIND;
use super::tags::{TAGS_KIND, validate_tags};
use super::targets::{DeadLetterConfig, dead_letter_target};
use super::versions::{PublishVersionInput, VERSION_COUNTER_KIND, VERSION_KIND, is_version_number};
use super::{ConcurrencyGate, FunctionRunner, FunctionSpec, InvocationResult, InvokeRequest};
use crate::{Engine, Error, Result};

/// Largest synchronous Invoke payload (6 MB).
pub const MAX_INVOKE_PAYLOAD_BYTES: usize = 6_291_456;
/// Largest zip accepted directly in a request (50 MB).
pub const MAX_ZIPPED_BYTES: usize = 52_428_800;
/// Largest total unzipped size (250 MB).
pub const MAX_UNZIPPED_BYTES: u64 = 262_144_000;
/// ListFunctions returns at most this many functions per page.
pub const MAX_LIST_ITEMS: usize = 50;
const MAX_ENVIRONMENT_BYTES: usize = 4096;

/// Variables the platform sets itself; a function may not set them.
const RESERVED_VARIABLES: &[&str] = &[
    "_HANDLER",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
    "TZ",
];

/// The runtimes eddy can start (the `Runtime` enum of the API model, minus retired ones).
const RUNTIMES: &[&str] = &[
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "provided",
    "provided.al2",
    "provided.al2023",
];

/// What the execution layer needs besides the store: the runner and where code is unpacked.
#[derive(Debug, Clone)]
pub struct FunctionPlatform {
    pub runner: FunctionRunner,
    /// Code is unpacked into `<data_dir>/functions/<account>/<name>/<code sha, hex>/`.
    pub data_dir: PathBuf,
    /// Every invocation (synchronous, asynchronous, from a mapping) passes this gate.
    pub concurrency: ConcurrencyGate,
}

/// `Code` of CreateFunction and the code members of UpdateFunctionCode.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionCode {
    /// The zip, already base64-decoded by the api.
    #[serde(skip)]
    pub zip_file: Option<Vec<u8>>,
    #[serde(rename = "S3Bucket")]
    pub s3_bucket: Option<String>,
    #[serde(rename = "S3Key")]
    pub s3_key: Option<String>,
    pub image_uri: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct EnvironmentInput {
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

/// CreateFunction's members (the ones eddy reads).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateFunctionInput {
    pub function_name: String,
    pub runtime: Option<String>,
    pub role: Option<String>,
    pub handler: Option<String>,
    #[serde(default)]
    pub code: FunctionCode,
    pub description: Option<String>,
    pub timeout: Option<i64>,
    pub memory_size: Option<i64>,
    pub environment: Option<EnvironmentInput>,
    pub package_type: Option<String>,
    pub architectures: Option<Vec<String>>,
    /// Tags of the new function (see `tags.rs`).
    pub tags: Option<BTreeMap<String, String>>,
    /// Also publish version 1 (see `versions.rs`).
    #[serde(default)]
    pub publish: bool,
    pub dead_letter_config: Option<DeadLetterConfig>,
    pub logging_config: Option<LoggingConfigInput>,
}

/// UpdateFunctionConfiguration's members: absent ones are left as they are.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateFunctionConfigurationInput {
    pub runtime: Option<String>,
    pub role: Option<String>,
    pub handler: Option<String>,
    pub description: Option<String>,
    pub timeout: Option<i64>,
    pub memory_size: Option<i64>,
    pub environment: Option<EnvironmentInput>,
    pub revision_id: Option<String>,
    pub dead_letter_config: Option<DeadLetterConfig>,
    pub logging_config: Option<LoggingConfigInput>,
}

/// UpdateFunctionCode's members.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateFunctionCodeInput {
    #[serde(flatten)]
    pub code: FunctionCode,
    pub architectures: Option<Vec<String>>,
    pub revision_id: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
    /// Also publish a version of the updated code (see `versions.rs`).
    #[serde(default)]
    pub publish: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TracingConfig {
    #[serde(rename = "Mode")]
    pub mode: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EphemeralStorage {
    #[serde(rename = "Size")]
    pub size: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfig {
    pub log_format: String,
    /// Only with the JSON format (Lambda then defaults both levels to `INFO`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_log_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_log_level: Option<String>,
    pub log_group: String,
}

/// `LoggingConfig` as CreateFunction and UpdateFunctionConfiguration take it: absent members
/// keep their value (Text, `/aws/lambda/<name>` for a new function).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfigInput {
    pub log_format: Option<String>,
    pub application_log_level: Option<String>,
    pub system_log_level: Option<String>,
    pub log_group: Option<String>,
}

const APPLICATION_LOG_LEVELS: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
const SYSTEM_LOG_LEVELS: [&str; 3] = ["DEBUG", "INFO", "WARN"];

impl LoggingConfig {
    /// The default of a new function: Text to `/aws/lambda/<name>`.
    fn for_function(name: &str) -> LoggingConfig {
        LoggingConfig {
            log_format: "Text".to_string(),
            application_log_level: None,
            system_log_level: None,
            log_group: format!("/aws/lambda/{name}"),
        }
    }

    /// This configuration with `input` applied, checked as Lambda checks it.
    fn merged(&self, input: LoggingConfigInput) -> Result<LoggingConfig> {
        if let Some(format) = &input.log_format
            && format != "JSON"
            && format != "Text"
        {
            return Err(constraint(
                format,
                "loggingConfig.logFormat",
                "Member must satisfy enum value set: [JSON, Text]",
            ));
        }
        let level = |value: &Option<String>, member: &str, allowed: &[&str]| -> Result<()> {
            match value {
                Some(level) if !allowed.contains(&level.as_str()) => Err(constraint(
                    level,
                    member,
                    &format!(
                        "Member must satisfy enum value set: [{}]",
                        allowed.join(", ")
                    ),
                )),
                _ => Ok(()),
            }
        };
        level(
            &input.application_log_level,
            "loggingConfig.applicationLogLevel",
            &APPLICATION_LOG_LEVELS,
        )?;
        level(
            &input.system_log_level,
            "loggingConfig.systemLogLevel",
            &SYSTEM_LOG_LEVELS,
        )?;
        if let Some(group) = &input.log_group {
            let valid = !group.is_empty()
                && group.len() <= 512
                && group
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-/#".contains(&b));
            if !valid {
                return Err(constraint(
                    group,
                    "loggingConfig.logGroup",
                    "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+",
                ));
            }
        }
        let request_sets_levels =
            input.application_log_level.is_some() || input.system_log_level.is_some();
        let log_format = input.log_format.unwrap_or_else(|| self.log_format.clone());
        let mut merged = LoggingConfig {
            log_group: input.log_group.unwrap_or_else(|| self.log_group.clone()),
            application_log_level: input
                .application_log_level
                .or_else(|| self.application_log_level.clone()),
            system_log_level: input
                .system_log_level
                .or_else(|| self.system_log_level.clone()),
            log_format,
        };
        if merged.log_format == "Text" {
            // Levels kept from an earlier JSON configuration go quietly when the format
            // changes back to Text; levels in this request are an error.
            if request_sets_levels {
                return Err(Error::LambdaInvalidParameterValue(
                    "LogLevel is not supported when LogFormat is set to \"Text\". Remove LogLevel from your request or change the LogFormat to \"JSON\" and try again."
                        .to_string(),
                ));
            }
            merged.application_log_level = None;
            merged.system_log_level = None;
        } else {
            merged
                .application_log_level
                .get_or_insert_with(|| "INFO".to_string());
            merged
                .system_log_level
                .get_or_insert_with(|| "INFO".to_string());
        }
        Ok(merged)
    }
}

/// FunctionConfiguration as Lambda returns it (reference §2.4); also what is stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionConfiguration {
    pub function_name: String,
    pub function_arn: String,
    pub runtime: String,
    pub role: String,
    pub handler: String,
    pub code_size: u64,
    pub description: String,
    pub timeout: i64,
    pub memory_size: i64,
    pub last_modified: String,
    pub code_sha256: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<EnvironmentInput>,
    pub tracing_config: TracingConfig,
    pub revision_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_reason_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_status_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_status_reason_code: Option<String>,
    pub package_type: String,
    pub architectures: Vec<String>,
    pub ephemeral_storage: EphemeralStorage,
    pub logging_config: LoggingConfig,
    /// Where asynchronous events go when every attempt failed (absent when not set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_config: Option<DeadLetterConfig>,
}

/// GetFunction's answer.
#[derive(Debug, Clone)]
pub struct FunctionDetails {
    pub configuration: FunctionConfiguration,
    /// Where the code could be downloaded (`Code.Location`).
    pub code_location: String,
    /// The function's tags (`Tags`, present only when there are some).
    pub tags: BTreeMap<String, String>,
    /// Reserved concurrency (`Concurrency`, present only when set).
    pub reserved_concurrency: Option<u32>,
}

/// What a qualified function identifier names (see [`Engine::find_function`]).
#[derive(Debug, Clone)]
struct ResolvedFunction {
    record: FunctionRecord,
    configuration: FunctionConfiguration,
    /// The alias, when the qualifier was one.
    alias: Option<AliasConfiguration>,
}

/// One page of ListFunctions.
#[derive(Debug, Clone)]
pub struct FunctionPage {
    pub functions: Vec<FunctionConfiguration>,
    pub next_marker: Option<String>,
}

/// How Invoke was asked to run (`X-Amz-Invocation-Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

/// Invoke's input once decoded from the wire.
#[derive(Debug, Clone)]
pub struct InvokeInput {
    pub function_name: String,
    pub qualifier: Option<String>,
    pub invocation_type: InvocationType,
    pub payload: Vec<u8>,
    /// Decoded `X-Amz-Client-Context`.
    pub client_context: Option<String>,
}

/// A function identifier from a path: name, `name:qualifier`, `account:function:name[:q]`
/// or a full ARN, resolved to (account, name, qualifier).
pub(crate) fn parse_function_identifier(
    identifier: &str,
    default_account: &str,
    qualifier: Option<&str>,
) -> Result<(String, String, Option<String>)> {
    let parts: Vec<&str> = identifier.split(':').collect();
    let (account, name, derived) = match parts.as_slice() {
        [name] => (default_account, *name, None),
        [name, q] => (default_account, *name, Some(*q)),
        [account, "function", name] => (*account, *name, None),
        [account, "function", name, q] => (*account, *name, Some(*q)),
        ["arn", _, "lambda", _, account, "function", name] => (*account, *name, None),
        ["arn", _, "lambda", _, account, "function", name, q] => (*account, *name, Some(*q)),
        _ => return Err(invalid_name(identifier)),
    };
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
    {
        return Err(invalid_name(identifier));
    }
    let qualifier = match (derived, qualifier) {
        (Some(derived), Some(given)) if derived != given => {
            return Err(Error::LambdaInvalidParameterValue(
                "The derived qualifier from the function name does not match the specified qualifier."
                    .to_string(),
            ));
        }
        (Some(derived), _) => Some(derived.to_string()),
        (None, given) => given.map(str::to_string),
    };
    Ok((account.to_string(), name.to_string(), qualifier))
}

fn invalid_name(identifier: &str) -> Error {
    Error::LambdaValidation(format!(
        "1 validation error detected: Value '{identifier}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{{2}}(-gov)?-[a-z]+-\\d{{1}}:)?(\\d{{12}}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
    ))
}

fn validate_timeout(timeout: i64) -> Result<()> {
    if timeout < 1 {
        return Err(constraint(
            timeout,
            "timeout",
            "Member must have value greater than or equal to 1",
        ));
    }
    if timeout > 900 {
        return Err(constraint(
            timeout,
            "timeout",
            "Member must have value less than or equal to 900",
        ));
    }
    Ok(())
}

fn validate_memory(memory: i64) -> Result<()> {
    if memory < 128 {
        return Err(constraint(
            memory,
            "memorySize",
            "Member must have value greater than or equal to 128",
        ));
    }
    if memory > 10240 {
        return Err(constraint(
            memory,
            "memorySize",
            "Member must have value less than or equal to 10240",
        ));
    }
    Ok(())
}

pub(crate) fn constraint(value: impl std::fmt::Display, member: &str, rule: &str) -> Error {
    Error::LambdaValidation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {rule}"
    ))
}

fn validate_runtime(runtime: &str) -> Result<()> {
    if RUNTIMES.contains(&runtime) {
        return Ok(());
    }
    Err(Error::LambdaInvalidParameterValue(format!(
        "Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [{}] or be a valid ARN",
        RUNTIMES.join(", ")
    )))
}

fn validate_role(role: &str) -> Result<()> {
    let well_formed = role
        .strip_prefix("arn:")
        .and_then(|rest| rest.split_once(":iam::"))
        .and_then(|(partition, rest)| {
            partition
                .starts_with("aws")
                .then_some(rest)
                .or((partition.is_empty()).then_some(rest))
        })
        .and_then(|rest| rest.split_once(":role/"))
        .is_some_and(|(account, name)| {
            account.len() == 12
                && account.bytes().all(|byte| byte.is_ascii_digit())
                && !name.is_empty()
                && name
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || b"+=,.@-_/".contains(&byte))
        });
    if well_formed {
        return Ok(());
    }
    Err(constraint(
        role,
        "role",
        "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
    ))
}

fn validate_description(description: &str) -> Result<()> {
    if description.chars().count() > 256 {
        return Err(constraint(
            description,
            "description",
            "Member must have length less than or equal to 256",
        ));
    }
    Ok(())
}

fn validate_architectures(architectures: &[String]) -> Result<()> {
    match architectures {
        [one] if one == "x86_64" || one == "arm64" => Ok(()),
        [_] => Err(constraint(
            format!("[{}]", architectures.join(", ")),
            "architectures",
            "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]",
        )),
        _ => Err(constraint(
            format!("[{}]", architectures.join(", ")),
            "architectures",
            "Member must have length less than or equal to 1",
        )),
    }
}

fn validate_environment(environment: &EnvironmentInput) -> Result<()> {
    let reserved: Vec<&str> = environment
        .variables
        .keys()
        .filter(|key| RESERVED_VARIABLES.contains(&key.as_str()))
        .map(String::as_str)
        .collect();
    if !reserved.is_empty() {
        return Err(Error::LambdaInvalidParameterValue(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {}",
            reserved.join(", ")
        )));
    }
    for key in environment.variables.keys() {
        let mut bytes = key.bytes();
        let well_formed = bytes
            .next()
            .is_some_and(|first| first.is_ascii_alphabetic())
            && bytes.all(|byte| byte.is_ascii_alphanumeric() || byte == b'_');
        if !well_formed {
            return Err(constraint(
                "[sensitive]",
                "environment.variables",
                "Member must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]",
            ));
        }
    }
    let measured = serde_json::to_string(&environment.variables).unwrap_or_default();
    if measured.len() > MAX_ENVIRONMENT_BYTES {
        return Err(Error::LambdaInvalidParameterValue(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {measured}"
        )));
    }
    Ok(())
}

/// The zip from a `Code` member, checked to be a readable archive within the size limits.
fn zip_from(code: &FunctionCode) -> Result<Vec<u8>> {
    if code.image_uri.is_some() {
        return Err(image_not_supported());
    }
    let Some(zip) = &code.zip_file else {
        if code.s3_bucket.is_some() || code.s3_key.is_some() {
            return Err(Error::LambdaInvalidParameterValue(
                "eddy does not support code from S3 (S3Bucket/S3Key) yet; upload the zip as ZipFile."
                    .to_string(),
            ));
        }
        return Err(Error::LambdaInvalidParameterValue(
            "Please provide a source for function code.".to_string(),
        ));
    };
    if zip.len() > MAX_ZIPPED_BYTES {
        return Err(Error::LambdaRequestTooLarge(format!(
            "Zipped size must be smaller than {MAX_ZIPPED_BYTES} bytes"
        )));
    }
    let unreadable = || {
        Error::LambdaInvalidParameterValue(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
                .to_string(),
        )
    };
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(zip.as_slice())).map_err(|_| unreadable())?;
    let mut unzipped: u64 = 0;
    for index in 0..archive.len() {
        let entry = archive.by_index(index).map_err(|_| unreadable())?;
        unzipped = unzipped.saturating_add(entry.size());
    }
    if unzipped > MAX_UNZIPPED_BYTES {
        return Err(Error::LambdaInvalidParameterValue(format!(
            "Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
        )));
    }
    Ok(zip.clone())
}

fn image_not_supported() -> Error {
    Error::LambdaInvalidParameterValue(
        "eddy does not support container image functions (PackageType Image); package the function as a .zip file archive (PackageType Zip)."
            .to_string(),
    )
}

pub(crate) fn sha256_base64(zip: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(zip))
}

/// `2026-01-31T12:34:56.789+0000`.
pub fn format_last_modified(millis: store::Millis) -> String {
    let seconds = millis.div_euclid(1000);
    let (year, month, day) = crate::clock::civil_from_days(seconds.div_euclid(86_400));
    let of_day = seconds.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}+0000",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60,
        millis.rem_euclid(1000)
    )
}

/// CreateFunction's and PublishVersion's answer: the state AWS reports while it sets the
/// function up (eddy stores it `Active` at once).
pub(crate) fn as_pending(mut configuration: FunctionConfiguration) -> FunctionConfiguration {
    configuration.state = Some("Pending".to_string());
    configuration.state_reason = Some("The function is being created.".to_string());
    configuration.state_reason_code = Some("Creating".to_string());
    configuration.last_update_status = None;
    configuration
}

/// The answer to an update: AWS reports the update as in progress (eddy has applied it).
fn as_updating(mut configuration: FunctionConfiguration) -> FunctionConfiguration {
    configuration.last_update_status = Some("InProgress".to_string());
    configuration.last_update_status_reason = Some("The function is being created.".to_string());
    configuration.last_update_status_reason_code = Some("Creating".to_string());
    configuration
}

pub(crate) fn not_found(arn: &str) -> Error {
    Error::FunctionNotFound(format!("Function not found: {arn}"))
}

pub(crate) fn new_revision_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Engine {
    /// Gives the engine what Invoke needs to run code. Without it, Invoke fails.
    pub fn set_function_platform(&self, platform: FunctionPlatform) {
        // Set once at start-up; a second call keeps the first platform.
        let _ = self.inner.functions.set(platform);
    }

    /// The runner, if a platform is set (shutdown stops its environments).
    pub fn function_runner(&self) -> Option<&FunctionRunner> {
        self.inner.functions.get().map(|platform| &platform.runner)
    }

    pub(crate) fn function_arn(&self, account: &str, name: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{account}:function:{name}",
            self.inner.config.region
        )
    }

    /// The function named by `identifier` (a name, `name:qualifier`, a partial or a full
    /// ARN, possibly qualified) and `qualifier` (`?Qualifier=`): the function's record
    /// (always `$LATEST`'s: its account and name key everything about the function) and the
    /// configuration of the version named: `$LATEST`'s when unqualified, a published
    /// version's for a number, the version an alias points at for an alias (its primary
    /// version; weighted routing happens only on invoke, [`Engine::find_function_to_invoke`]).
    /// `FunctionArn` is qualified as the caller qualified it, so for an alias it is the
    /// alias's ARN. The one place qualifiers are resolved; everything else calls this.
    pub(crate) async fn find_function(
        &self,
        account: &str,
        identifier: &str,
        qualifier: Option<&str>,
    ) -> Result<(FunctionRecord, FunctionConfiguration)> {
        let resolved = self
            .resolve_function(account, identifier, qualifier)
            .await?;
        Ok((resolved.record, resolved.configuration))
    }

    /// [`Engine::find_function`] for running the function: an alias with an additional
    /// version weight picks one of its two versions at random by weight. Returns the
    /// record, the configuration of the version to run, and the ARN the caller invoked
    /// (the context's `invoked_function_arn`).
    pub(crate) async fn find_function_to_invoke(
        &self,
        account: &str,
        identifier: &str,
        qualifier: Option<&str>,
    ) -> Result<(FunctionRecord, FunctionConfiguration, String)> {
        let resolved = self
            .resolve_function(account, identifier, qualifier)
            .await?;
        let invoked_arn = resolved.configuration.function_arn.clone();
        let configuration = match &resolved.alias {
            Some(alias) => match routed_version(alias, rand::random::<f64>()) {
                Some(version) if version != resolved.configuration.version => self
                    .version_configuration(&resolved.record, version)
                    .await?
                    .ok_or_else(|| not_found(&invoked_arn))?,
                _ => resolved.configuration,
            },
            None => resolved.configuration,
        };
        Ok((resolved.record, configuration, invoked_arn))
    }

    /// `$LATEST` of the function named by `identifier`: a qualifier other than `$LATEST`
    /// (for the operations that only change `$LATEST`) is not found.
    async fn find_latest(
        &self,
        account: &str,
        identifier: &str,
    ) -> Result<(FunctionRecord, FunctionConfiguration)> {
        let (record, mut configuration) = self.find_function(account, identifier, None).await?;
        if configuration.version != "$LATEST" {
            return Err(not_found(&configuration.function_arn));
        }
        configuration.function_arn = self.function_arn(&record.account, &record.name);
        Ok((record, configuration))
    }

    async fn resolve_function(
        &self,
        account: &str,
        identifier: &str,
        qualifier: Option<&str>,
    ) -> Result<ResolvedFunction> {
        let (account, name, qualifier) = parse_function_identifier(identifier, account, qualifier)?;
        let arn = self.function_arn(&account, &name);
        let qualified_arn = match &qualifier {
            Some(qualifier) => format!("{arn}:{qualifier}"),
            None => arn.clone(),
        };
        let Some(record) = self.inner.store.get_function(&account, &name).await? else {
            return Err(not_found(&qualified_arn));
        };
        let latest = configuration_of(&record)?;
        let Some(qualifier) = qualifier else {
            return Ok(ResolvedFunction {
                record,
                configuration: latest,
                alias: None,
            });
        };
        if qualifier == "$LATEST" {
            let mut configuration = latest;
            configuration.function_arn = qualified_arn;
            return Ok(ResolvedFunction {
                record,
                configuration,
                alias: None,
            });
        }
        if is_version_number(&qualifier) {
            let configuration = self
                .version_configuration(&record, &qualifier)
                .await?
                .ok_or_else(|| not_found(&qualified_arn))?;
            return Ok(ResolvedFunction {
                record,
                configuration,
                alias: None,
            });
        }
        let Some(alias) = self.stored_alias(&account, &name, &qualifier).await? else {
            return Err(not_found(&qualified_arn));
        };
        let mut configuration = if alias.function_version == "$LATEST" {
            latest
        } else {
            self.version_configuration(&record, &alias.function_version)
                .await?
                .ok_or_else(|| not_found(&qualified_arn))?
        };
        configuration.function_arn = qualified_arn;
        Ok(ResolvedFunction {
            record,
            configuration,
            alias: Some(alias),
        })
    }

    /// A `DeadLetterConfig` as given, checked; `None` when its target is empty.
    fn checked_dead_letter_config(
        &self,
        config: Option<DeadLetterConfig>,
    ) -> Result<Option<DeadLetterConfig>> {
        let Some(target_arn) = config.and_then(|config| config.target_arn) else {
            return Ok(None);
        };
        Ok(
            dead_letter_target(&target_arn, &self.inner.config.region)?.map(|_| DeadLetterConfig {
                target_arn: Some(target_arn),
            }),
        )
    }

    /// CreateFunction.
    pub async fn create_function(
        &self,
        account: &str,
        input: CreateFunctionInput,
    ) -> Result<FunctionConfiguration> {
        let (account, name, qualifier) =
            parse_function_identifier(&input.function_name, account, None)?;
        if qualifier.is_some() {
            return Err(invalid_name(&input.function_name));
        }
        if input.package_type.as_deref() == Some("Image") {
            return Err(image_not_supported());
        }
        if let Some(package_type) = &input.package_type
            && package_type != "Zip"
        {
            return Err(constraint(
                package_type,
                "packageType",
                "Member must satisfy enum value set: [Image, Zip]",
            ));
        }
        let role = input.role.unwrap_or_default();
        validate_role(&role)?;
        let (Some(runtime), Some(handler)) = (input.runtime, input.handler) else {
            return Err(Error::LambdaInvalidParameterValue(
                "Runtime and Handler are mandatory parameters for functions created with deployment packages."
                    .to_string(),
            ));
        };
        validate_runtime(&runtime)?;
        let timeout = input.timeout.unwrap_or(3);
        validate_timeout(timeout)?;
        let memory_size = input.memory_size.unwrap_or(128);
        validate_memory(memory_size)?;
        let description = input.description.unwrap_or_default();
        validate_description(&description)?;
        let architectures = input
            .architectures
            .unwrap_or_else(|| vec!["x86_64".to_string()]);
        validate_architectures(&architectures)?;
        if let Some(environment) = &input.environment {
            validate_environment(environment)?;
        }
        if let Some(tags) = &input.tags {
            validate_tags(tags)?;
        }
        let dead_letter_config = self.checked_dead_letter_config(input.dead_letter_config)?;
        let logging_config =
            LoggingConfig::for_function(&name).merged(input.logging_config.unwrap_or_default())?;
        let zip = zip_from(&input.code)?;

        let now = self.now();
        let revision_id = new_revision_id();
        let configuration = FunctionConfiguration {
            function_arn: self.function_arn(&account, &name),
            function_name: name.clone(),
            runtime,
            role,
            handler,
            code_size: zip.len() as u64,
            description,
            timeout,
            memory_size,
            last_modified: format_last_modified(now),
            code_sha256: sha256_base64(&zip),
            version: "$LATEST".to_string(),
            environment: input.environment,
            tracing_config: TracingConfig {
                mode: "PassThrough".to_string(),
            },
            revision_id: revision_id.clone(),
            // Stored Active at once: nothing is provisioned, and the SDK waiters only poll.
            // The answer to CreateFunction says Pending, as AWS's does.
            state: Some("Active".to_string()),
            state_reason: None,
            state_reason_code: None,
            last_update_status: Some("Successful".to_string()),
            last_update_status_reason: None,
            last_update_status_reason_code: None,
            package_type: "Zip".to_string(),
            architectures,
            ephemeral_storage: EphemeralStorage { size: 512 },
            logging_config,
            dead_letter_config,
        };
        let record = FunctionRecord {
            account: account.clone(),
            name: name.clone(),
            configuration: serde_json::to_string(&configuration).map_err(internal)?,
            created_at: now,
            modified_at: now,
            revision_id,
        };
        match self.inner.store.create_function(record, zip).await? {
            CreateFunctionOutcome::Created => {}
            CreateFunctionOutcome::Exists => {
                return Err(Error::ResourceConflict(format!(
                    "Function already exist: {name}"
                )));
            }
        }
        // What a deletion of an earlier function of this name left behind (it was cut
        // short) must not come back as this function's.
        self.delete_function_resources(&account, &name).await?;
        if let Some(tags) = input.tags.filter(|tags| !tags.is_empty()) {
            self.write_tags(&account, &name, tags).await?;
        }
        let mut answer = configuration;
        if input.publish {
            answer = self
                .publish_version(&account, &name, PublishVersionInput::default())
                .await?;
            answer.function_arn = self.function_arn(&account, &name);
        }
        Ok(as_pending(answer))
    }

    /// GetFunction.
    pub async fn get_function(
        &self,
        account: &str,
        identifier: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionDetails> {
        let (record, configuration) = self.find_function(account, identifier, qualifier).await?;
        let code_location = format!(
            "{}/2015-03-31/functions/{}/code",
            self.inner
                .functions
                .get()
                .and_then(|platform| platform.runner.config().endpoint_url.clone())
                .unwrap_or_default(),
            record.name
        );
        let tags = self.read_tags(&record.account, &record.name).await?;
        let reserved_concurrency = self
            .stored_reservation(&record.account, &record.name)
            .await?;
        Ok(FunctionDetails {
            configuration,
            code_location,
            tags,
            reserved_concurrency,
        })
    }

    /// GetFunctionConfiguration.
    pub async fn get_function_configuration(
        &self,
        account: &str,
        identifier: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionConfiguration> {
        Ok(self.find_function(account, identifier, qualifier).await?.1)
    }

    /// ListFunctions: at most 50 a page; the marker is opaque (base64 of the last name).
    pub async fn list_functions(
        &self,
        account: &str,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<FunctionPage> {
        let limit = match max_items {
            None => MAX_LIST_ITEMS,
            Some(items) if items < 1 => {
                return Err(constraint(
                    items,
                    "maxItems",
                    "Member must have value greater than or equal to 1",
                ));
            }
            Some(items) => usize::try_from(items)
                .unwrap_or(MAX_LIST_ITEMS)
                .min(MAX_LIST_ITEMS),
        };
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
        let mut records = self
            .inner
            .store
            .list_functions(account, after.as_deref(), limit + 1)
            .await?;
        let next_marker = if records.len() > limit {
            records.truncate(limit);
            records.last().map(|record| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(record.name.as_bytes())
            })
        } else {
            None
        };
        let functions = records
            .iter()
            .map(|record| {
                let mut configuration = configuration_of(record)?;
                // ListFunctions returns no state fields.
                configuration.state = None;
                configuration.last_update_status = None;
                Ok(configuration)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(FunctionPage {
            functions,
            next_marker,
        })
    }

    /// DeleteFunction. Unqualified, the function goes with everything stored about it
    /// ([`Engine::delete_function_resources`]); with a version number as qualifier, only
    /// that version (see `versions.rs`).
    pub async fn delete_function(
        &self,
        account: &str,
        identifier: &str,
        qualifier: Option<&str>,
    ) -> Result<()> {
        let (account, name, qualifier) = parse_function_identifier(identifier, account, qualifier)?;
        match qualifier.as_deref() {
            None => {}
            Some("$LATEST") => {
                return Err(Error::LambdaInvalidParameterValue(
                    "$LATEST version cannot be deleted without deleting the function.".to_string(),
                ));
            }
            Some(qualifier) => return self.delete_version(&account, &name, qualifier).await,
        }
        let (record, configuration) = self.find_function(&account, &name, None).await?;
        if !self.inner.store.delete_function(&account, &name).await? {
            return Err(not_found(&self.function_arn(&account, &name)));
        }
        self.delete_function_resources(&account, &name).await?;
        self.delete_async_invocations(&record).await;
        if let Some(platform) = self.inner.functions.get() {
            platform.runner.stop_environments(&account, &name);
            // Its log group goes with it (logs live in memory with the environments).
            platform
                .runner
                .log_groups()
                .remove(&account, &configuration.logging_config.log_group);
            let directory = function_directory(&platform.data_dir, &account, &name);
            if let Err(error) = std::fs::remove_dir_all(&directory)
                && error.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(%error, directory = %directory.display(), "cannot remove unpacked code");
            }
        }
        Ok(())
    }

    /// Deletes everything stored about function `name` besides the function record itself:
    /// published versions (with their code), aliases, reserved concurrency and tags. The
    /// one place that knows what a function owns: whatever else is kept per function is
    /// deleted here too, so add it below.
    ///
    /// Runs after DeleteFunction removed the function, and again when CreateFunction made
    /// a new one (a deletion cut short by a crash must not hand its versions, aliases or
    /// settings to the next function of the same name). So every step is idempotent and
    /// touches only resources of this function.
    pub(crate) async fn delete_function_resources(&self, account: &str, name: &str) -> Result<()> {
        let store = &self.inner.store;
        let children = format!("{name}/");
        store
            .delete_resources(account, VERSION_KIND, &children)
            .await?;
        store
            .delete_resources(account, ALIAS_KIND, &children)
            .await?;
        for kind in [VERSION_COUNTER_KIND, CONCURRENCY_KIND, TAGS_KIND] {
            store
                .delete_resource(account, kind, name, store::ResourceCondition::Any)
                .await?;
        }
        if let Some(platform) = self.inner.functions.get() {
            platform
                .concurrency
                .set_reservation((account.to_string(), name.to_string()), None);
        }
        Ok(())
    }

    /// UpdateFunctionCode.
    pub async fn update_function_code(
        &self,
        account: &str,
        identifier: &str,
        input: UpdateFunctionCodeInput,
    ) -> Result<FunctionConfiguration> {
        let (record, mut configuration) = self.find_latest(account, identifier).await?;
        let zip = zip_from(&input.code)?;
        if let Some(architectures) = input.architectures {
            validate_architectures(&architectures)?;
            configuration.architectures = architectures;
        }
        check_revision(&record, input.revision_id.as_deref())?;
        configuration.code_size = zip.len() as u64;
        configuration.code_sha256 = sha256_base64(&zip);
        if input.dry_run {
            return Ok(configuration);
        }
        let (account, name) = (record.account.clone(), record.name.clone());
        let updated = self
            .write_function(record, configuration, Some(zip), input.revision_id)
            .await?;
        if input.publish {
            return self
                .publish_version(&account, &name, PublishVersionInput::default())
                .await;
        }
        Ok(as_updating(updated))
    }

    /// UpdateFunctionConfiguration: a partial update; `Environment` replaces the whole map.
    pub async fn update_function_configuration(
        &self,
        account: &str,
        identifier: &str,
        input: UpdateFunctionConfigurationInput,
    ) -> Result<FunctionConfiguration> {
        let (record, mut configuration) = self.find_latest(account, identifier).await?;
        if let Some(role) = input.role {
            validate_role(&role)?;
            configuration.role = role;
        }
        if let Some(runtime) = input.runtime {
            validate_runtime(&runtime)?;
            configuration.runtime = runtime;
        }
        if let Some(handler) = input.handler {
            configuration.handler = handler;
        }
        if let Some(description) = input.description {
            validate_description(&description)?;
            configuration.description = description;
        }
        if let Some(timeout) = input.timeout {
            validate_timeout(timeout)?;
            configuration.timeout = timeout;
        }
        if let Some(memory_size) = input.memory_size {
            validate_memory(memory_size)?;
            configuration.memory_size = memory_size;
        }
        if let Some(environment) = input.environment {
            validate_environment(&environment)?;
            configuration.environment = Some(environment);
        }
        if let Some(logging_config) = input.logging_config {
            configuration.logging_config = configuration.logging_config.merged(logging_config)?;
        }
        if input.dead_letter_config.is_some() {
            configuration.dead_letter_config =
                self.checked_dead_letter_config(input.dead_letter_config)?;
        }
        check_revision(&record, input.revision_id.as_deref())?;
        self.write_function(record, configuration, None, input.revision_id)
            .await
            .map(as_updating)
    }

    async fn write_function(
        &self,
        record: FunctionRecord,
        mut configuration: FunctionConfiguration,
        code: Option<Vec<u8>>,
        expected_revision_id: Option<String>,
    ) -> Result<FunctionConfiguration> {
        let now = self.now();
        let revision_id = new_revision_id();
        configuration.last_modified = format_last_modified(now);
        configuration.revision_id = revision_id.clone();
        configuration.state = Some("Active".to_string());
        configuration.last_update_status = Some("Successful".to_string());
        let update = FunctionUpdate {
            configuration: Some(serde_json::to_string(&configuration).map_err(internal)?),
            code,
            modified_at: now,
            revision_id,
            expected_revision_id,
        };
        match self
            .inner
            .store
            .update_function(&record.account, &record.name, update)
            .await?
        {
            UpdateFunctionOutcome::Updated(_) => {}
            UpdateFunctionOutcome::NoSuchFunction => {
                return Err(not_found(&configuration.function_arn));
            }
            UpdateFunctionOutcome::RevisionMismatch => return Err(revision_mismatch()),
        }
        if let Some(platform) = self.inner.functions.get() {
            platform
                .runner
                .stop_environments(&record.account, &record.name);
        }
        Ok(configuration)
    }

    /// Invoke. `RequestResponse` runs the function and returns its result (a function
    /// failure is a result, not an error); `Event` stores the event durably and returns an
    /// empty result with the event's request id (asynchronous invocation, 202); `DryRun`
    /// only checks that the function exists.
    pub async fn invoke(
        &self,
        account: &str,
        input: InvokeInput,
    ) -> Result<Option<InvocationResult>> {
        let limit = match input.invocation_type {
            InvocationType::Event => MAX_ASYNC_PAYLOAD_BYTES,
            _ => MAX_INVOKE_PAYLOAD_BYTES,
        };
        if input.payload.len() > limit {
            return Err(Error::LambdaRequestTooLarge(format!(
                "Request must be smaller than {limit} bytes for the InvokeFunction operation"
            )));
        }
        let payload = if input.payload.iter().all(u8::is_ascii_whitespace) {
            b"{}".to_vec()
        } else {
            if let Err(error) = serde_json::from_slice::<serde::de::IgnoredAny>(&input.payload) {
                return Err(Error::InvalidRequestContent(format!(
                    "Could not parse request body into json: Could not parse payload into json: {error}"
                )));
            }
            input.payload
        };
        let (record, configuration, invoked_arn) = self
            .find_function_to_invoke(account, &input.function_name, input.qualifier.as_deref())
            .await?;
        if configuration.state.as_deref() == Some("Pending") {
            return Err(Error::ResourceConflict(
                "The operation cannot be performed at this time. The function is currently in the following state: Pending"
                    .to_string(),
            ));
        }
        match input.invocation_type {
            InvocationType::DryRun => return Ok(None),
            InvocationType::Event => {
                let (_, _, qualifier) = parse_function_identifier(
                    &input.function_name,
                    account,
                    input.qualifier.as_deref(),
                )?;
                let request_id = self
                    .invoke_async(&record, qualifier, payload, input.client_context)
                    .await?;
                return Ok(Some(InvocationResult::accepted(
                    request_id,
                    configuration.version,
                )));
            }
            InvocationType::RequestResponse => {}
        }
        let request = InvokeRequest {
            payload,
            invoked_function_arn: Some(invoked_arn),
            client_context: input.client_context,
            trace_id: None,
            request_id: None,
        };
        self.run_function(&record, &configuration, request)
            .await
            .map(Some)
    }

    /// Runs one invocation of a stored function version now, on this node, if the
    /// concurrency gate lets it: the one path by which synchronous Invoke, asynchronous
    /// invocation and event source mappings run code. A function failure is a result;
    /// `Err` means it did not run ([`Error::TooManyRequests`] when throttled).
    pub async fn run_function(
        &self,
        record: &FunctionRecord,
        configuration: &FunctionConfiguration,
        request: InvokeRequest,
    ) -> Result<InvocationResult> {
        let Some(platform) = self.inner.functions.get() else {
            return Err(Error::LambdaService(
                "function execution is not configured on this server".to_string(),
            ));
        };
        let permit = platform
            .concurrency
            .try_acquire(&(record.account.clone(), record.name.clone()))
            .map_err(Error::TooManyRequests)?;
        let code_dir = self.unpacked_code(platform, record, configuration).await?;
        let spec = FunctionSpec {
            account: record.account.clone(),
            name: record.name.clone(),
            version: configuration.version.clone(),
            runtime: configuration.runtime.clone(),
            handler: configuration.handler.clone(),
            code_dir,
            memory_mb: u32::try_from(configuration.memory_size).unwrap_or(128),
            timeout: Duration::from_secs(u64::try_from(configuration.timeout).unwrap_or(3)),
            environment: configuration
                .environment
                .clone()
                .map(|environment| environment.variables)
                .unwrap_or_default(),
            log_group: configuration.logging_config.log_group.clone(),
            json_log_level: (configuration.logging_config.log_format == "JSON").then(|| {
                configuration
                    .logging_config
                    .application_log_level
                    .clone()
                    .unwrap_or_else(|| "INFO".to_string())
            }),
        };
        let result = platform.runner.invoke(&spec, request).await;
        drop(permit);
        Ok(result)
    }

    /// The directory holding this code version, unpacked on first use.
    async fn unpacked_code(
        &self,
        platform: &FunctionPlatform,
        record: &FunctionRecord,
        configuration: &FunctionConfiguration,
    ) -> Result<PathBuf> {
        let sha = base64::engine::general_purpose::STANDARD
            .decode(&configuration.code_sha256)
            .map(hex::encode)
            .map_err(internal)?;
        let directory =
            function_directory(&platform.data_dir, &record.account, &record.name).join(&sha);
        if directory.is_dir() {
            return Ok(directory);
        }
        // A published version's code is its own copy, kept with the version.
        let zip = if configuration.version == "$LATEST" {
            self.inner
                .store
                .function_code(&record.account, &record.name)
                .await?
        } else {
            self.version_code(&record.account, &record.name, &configuration.version)
                .await?
        };
        let Some(zip) = zip else {
            return Err(not_found(&configuration.function_arn));
        };
        if sha256_base64(&zip) != configuration.code_sha256 {
            // The code changed between reading the configuration and the code: the caller
            // raced an update. Run nothing rather than the wrong code.
            return Err(Error::ResourceConflict(format!(
                "The operation cannot be performed at this time. An update is in progress for resource: {}",
                configuration.function_arn
            )));
        }
        let target = directory.clone();
        tokio::task::spawn_blocking(move || unpack(&zip, &target))
            .await
            .map_err(internal)?
            .map_err(|error| {
                tracing::error!(%error, "cannot unpack function code");
                Error::LambdaService(format!("cannot unpack function code: {error}"))
            })?;
        Ok(directory)
    }
}

fn function_directory(data_dir: &Path, account: &str, name: &str) -> PathBuf {
    data_dir.join("functions").join(account).join(name)
}

pub(crate) fn configuration_of(record: &FunctionRecord) -> Result<FunctionConfiguration> {
    let mut configuration: FunctionConfiguration =
        serde_json::from_str(&record.configuration).map_err(internal)?;
    configuration.revision_id = record.revision_id.clone();
    Ok(configuration)
}

pub(crate) fn check_revision(record: &FunctionRecord, expected: Option<&str>) -> Result<()> {
    match expected {
        Some(expected) if expected != record.revision_id => Err(revision_mismatch()),
        _ => Ok(()),
    }
}

pub(crate) fn revision_mismatch() -> Error {
    Error::PreconditionFailed(
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
            .to_string(),
    )
}

pub(crate) fn internal(error: impl std::fmt::Display) -> Error {
    tracing::error!(%error, "lambda internal failure");
    Error::LambdaService(error.to_string())
}

/// Unpacks `zip` into `target`: first into a sibling temporary directory, then renamed into
/// place, so a half-unpacked directory is never used. Entries whose names would leave the
/// directory (absolute paths, `..`) are refused; Unix modes are kept, and `bootstrap` is
/// always executable.
fn unpack(zip: &[u8], target: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let invalid = |message: String| std::io::Error::new(std::io::ErrorKind::InvalidData, message);
    let parent = target
        .parent()
        .ok_or_else(|| invalid("code directory has no parent".to_string()))?;
    std::fs::create_dir_all(parent)?;
    let staging = parent.join(format!(".unpacking-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&staging)?;
    let result = (|| {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip))
            .map_err(|error| invalid(error.to_string()))?;
        for index in 0..archive.len() {
            let mut entry = archive
                .by_index(index)
                .map_err(|error| invalid(error.to_string()))?;
            let Some(relative) = entry.enclosed_name() else {
                return Err(invalid(format!(
                    "zip entry {:?} leaves the code directory",
                    entry.name()
                )));
            };
            let path = staging.join(&relative);
            if entry.is_dir() {
                std::fs::create_dir_all(&path)?;
                continue;
            }
            if let Some(directory) = path.parent() {
                std::fs::create_dir_all(directory)?;
            }
            let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
            entry.read_to_end(&mut bytes)?;
            std::fs::write(&path, &bytes)?;
            let mode = entry.unix_mode().map(|mode| mode & 0o777);
            let mode = if relative == Path::new("bootstrap") {
                Some(mode.unwrap_or(0o755) | 0o755)
            } else {
                mode.filter(|mode| *mode != 0).map(|mode| mode | 0o400)
            };
            if let Some(mode) = mode {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
            }
        }
        Ok(())
    })();
    if let Err(error) = result {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(error);
    }
    match std::fs::rename(&staging, target) {
        Ok(()) => Ok(()),
        // Another invocation unpacked the same version first: use theirs.
        Err(_) if target.is_dir() => {
            let _ = std::fs::remove_dir_all(&staging);
            Ok(())
        }
        Err(error) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn last_modified_has_milliseconds_and_offset() {
        assert_eq!(
            format_last_modified(1_769_862_896_789),
            "2026-01-31T12:34:56.789+0000"
        );
    }

    #[test]
    fn identifiers_resolve_in_every_form() -> Result<()> {
        let account = "000000000000";
        assert_eq!(
            parse_function_identifier("f", account, None)?,
            (account.to_string(), "f".to_string(), None)
        );
        assert_eq!(
            parse_function_identifier(
                "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST",
                account,
                None
            )?,
            (
                "123456789012".to_string(),
                "f".to_string(),
                Some("$LATEST".to_string())
            )
        );
        assert!(parse_function_identifier("f:1", account, Some("2")).is_err());
        assert!(parse_function_identifier("bad name", account, None).is_err());
        Ok(())
    }

    fn zip_of(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
        use std::io::Write;
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes, mode) in entries {
            let options = zip::write::SimpleFileOptions::default().unix_permissions(*mode);
            writer.start_file(*name, options).unwrap();
            writer.write_all(bytes).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn unpack_keeps_bootstrap_executable_and_nested_files() {
        use std::os::unix::fs::PermissionsExt;
        let directory = tempfile::tempdir().unwrap();
        let target = directory.path().join("code");
        let zip = zip_of(&[
            ("bootstrap", b"#!/bin/sh\n", 0o644),
            ("lib/module.py", b"x = 1\n", 0o644),
        ]);
        unpack(&zip, &target).unwrap();
        let mode = std::fs::metadata(target.join("bootstrap"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111);
        assert_eq!(
            std::fs::read(target.join("lib/module.py")).unwrap(),
            b"x = 1\n"
        );
    }

    #[test]
    fn unpack_refuses_entries_that_leave_the_directory() {
        let directory = tempfile::tempdir().unwrap();
        let target = directory.path().join("code");
        let zip = zip_of(&[("../escaped.txt", b"no", 0o644)]);
        assert!(unpack(&zip, &target).is_err());
        assert!(!directory.path().join("escaped.txt").exists());
        assert!(!target.exists());
    }

    #[test]
    fn environment_rejects_reserved_keys_and_size() {
        let reserved = EnvironmentInput {
            variables: BTreeMap::from([("AWS_REGION".to_string(), "x".to_string())]),
        };
        assert!(matches!(
            validate_environment(&reserved),
            Err(Error::LambdaInvalidParameterValue(message)) if message.ends_with("AWS_REGION")
        ));
        let big = EnvironmentInput {
            variables: BTreeMap::from([("BIG".to_string(), "x".repeat(5000))]),
        };
        assert!(matches!(
            validate_environment(&big),
            Err(Error::LambdaInvalidParameterValue(message)) if message.contains("4KB")
        ));
    }
}
