//! What the execution layer is told: a function (`FunctionSpec`, a plain struct until the
//! control plane stores functions) and the platform's settings (`LambdaConfig`), including
//! the command that starts each runtime (`RuntimeCommands`).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::memory::MemoryLimit;
use crate::clock::{Clock, SystemClock};

/// The account of specs made by [`FunctionSpec::new`].
pub const DEFAULT_ACCOUNT: &str = "000000000000";

/// One function as the execution layer needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSpec {
    /// The owning account: functions of two accounts never share environments or logs.
    pub account: String,
    pub name: String,
    /// `$LATEST` or a published version number.
    pub version: String,
    /// `provided.al2023`, `python3.12`, `nodejs22.x`...
    pub runtime: String,
    /// `module.function` for managed runtimes; informational for `provided*`.
    pub handler: String,
    /// The unpacked code: the process's working directory and `LAMBDA_TASK_ROOT`.
    pub code_dir: PathBuf,
    pub memory_mb: u32,
    pub timeout: Duration,
    /// The user's `Environment.Variables`; reserved names are overridden by the platform's.
    pub environment: BTreeMap<String, String>,
    /// The log group its environments write to (`LoggingConfig.LogGroup`).
    pub log_group: String,
    /// With `LoggingConfig.LogFormat` JSON, the application log level; the runtime then
    /// gets `AWS_LAMBDA_LOG_FORMAT=JSON` and `AWS_LAMBDA_LOG_LEVEL`.
    pub json_log_level: Option<String>,
}

impl FunctionSpec {
    /// A spec with AWS's defaults: account [`DEFAULT_ACCOUNT`], `$LATEST`, 128 MB, 3 s, no
    /// variables, log group `/aws/lambda/<name>`.
    pub fn new(
        name: impl Into<String>,
        runtime: impl Into<String>,
        handler: impl Into<String>,
        code_dir: impl Into<PathBuf>,
    ) -> FunctionSpec {
        let name = name.into();
        FunctionSpec {
            account: DEFAULT_ACCOUNT.to_string(),
            log_group: format!("/aws/lambda/{name}"),
            name,
            version: "$LATEST".to_string(),
            runtime: runtime.into(),
            handler: handler.into(),
            code_dir: code_dir.into(),
            memory_mb: 128,
            timeout: Duration::from_secs(3),
            environment: BTreeMap::new(),
            json_log_level: None,
        }
    }
}

/// How a managed runtime's interface client is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeCommand {
    pub program: String,
    pub args: Vec<String>,
    /// Whether the handler goes last on the command line (the Python client reads it from
    /// `argv[1]`; the Node client reads `_HANDLER`, which is always set).
    pub handler_as_argument: bool,
}

/// The command of each runtime family. `provided*` always runs `<code>/bootstrap`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeCommands {
    /// `python3.x`: `python3 -m awslambdaric <handler>`.
    pub python: RuntimeCommand,
    /// `nodejs*`: the `aws-lambda-ric` executable from npm.
    pub nodejs: RuntimeCommand,
}

impl Default for RuntimeCommands {
    fn default() -> Self {
        RuntimeCommands {
            python: RuntimeCommand {
                program: "python3".to_string(),
                args: vec!["-m".to_string(), "awslambdaric".to_string()],
                handler_as_argument: true,
            },
            nodejs: RuntimeCommand {
                program: "aws-lambda-ric".to_string(),
                args: Vec::new(),
                handler_as_argument: false,
            },
        }
    }
}

impl RuntimeCommands {
    /// The program and arguments that start an environment of `spec`, or why there is none.
    pub fn command_for(&self, spec: &FunctionSpec) -> Result<(OsString, Vec<String>), String> {
        let managed = if spec.runtime.starts_with("provided") {
            return Ok((spec.code_dir.join("bootstrap").into_os_string(), Vec::new()));
        } else if spec.runtime.starts_with("python3") {
            &self.python
        } else if spec.runtime.starts_with("nodejs") {
            &self.nodejs
        } else {
            return Err(format!("Runtime {} is not supported", spec.runtime));
        };
        let mut args = managed.args.clone();
        if managed.handler_as_argument {
            args.push(spec.handler.clone());
        }
        Ok((OsString::from(&managed.program), args))
    }
}

/// Settings of the execution layer.
#[derive(Debug, Clone)]
pub struct LambdaConfig {
    pub region: String,
    pub account: String,
    /// `AWS_ENDPOINT_URL` given to functions: eddy's own address, so the SDKs inside a
    /// function talk to eddy. Not set when `None`.
    pub endpoint_url: Option<String>,
    /// The credentials functions get (eddy does not issue role credentials).
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub commands: RuntimeCommands,
    /// `PATH` of the processes unless the function sets its own; defaults to eddy's.
    pub path: String,
    /// How long initialisation may take before it counts against the first invocation's
    /// timeout instead (AWS: 10 s for on-demand environments).
    pub init_timeout: Duration,
    /// How long an invocation waits, after the reply, for the runtime to ask for the next
    /// one (where AWS ends an invocation and writes END/REPORT) before giving up on it.
    pub settle_timeout: Duration,
    /// How long an environment may stay idle before the idle worker stops it.
    pub idle_timeout: Duration,
    /// How `MemorySize` is enforced on each environment.
    pub memory_limit: MemoryLimit,
    /// Timestamps of log events and idle times (the engine's clock in a server).
    pub clock: Arc<dyn Clock>,
}

impl Default for LambdaConfig {
    fn default() -> Self {
        LambdaConfig {
            region: "us-east-1".to_string(),
            account: "000000000000".to_string(),
            endpoint_url: None,
            access_key_id: "test".to_string(),
            secret_access_key: "test".to_string(),
            session_token: "test".to_string(),
            commands: RuntimeCommands::default(),
            path: std::env::var("PATH")
                .unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".to_string()),
            init_timeout: Duration::from_secs(10),
            settle_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(300),
            memory_limit: MemoryLimit::AddressSpace,
            clock: Arc::new(SystemClock),
        }
    }
}
