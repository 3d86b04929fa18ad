//! `eddy serve` settings: command-line flags and `EDDY_*` variables, over an optional
//! `eddy.toml`, over built-in defaults — in that order of precedence.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

/// Flags of `eddy serve`. Every flag also reads an `EDDY_*` variable; a flag left unset
/// falls back to `eddy.toml`, then to the default shown.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:4566].
    #[arg(long, env = "EDDY_BIND")]
    pub bind: Option<String>,
    /// Directory of the embedded database [default: ./.eddy].
    #[arg(long, env = "EDDY_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Store URL; overrides --data-dir: `sqlite:<dir>`, or `postgres://user@host/db` for
    /// several nodes sharing one PostgreSQL database.
    #[arg(long = "store", env = "EDDY_STORE_URL")]
    pub store_url: Option<String>,
    /// PostgreSQL connections this node keeps open [default: 16].
    #[arg(long, env = "EDDY_STORE_POOL_SIZE")]
    pub store_pool_size: Option<usize>,
    /// Configuration file [default: ./eddy.toml when it exists].
    #[arg(long, env = "EDDY_CONFIG")]
    pub config: Option<PathBuf>,
    /// Account id of unsigned requests and of keys without their own [default: 000000000000].
    #[arg(long, env = "EDDY_ACCOUNT_ID")]
    pub account_id: Option<String>,
    /// Region shown in ARNs [default: us-east-1].
    #[arg(long, env = "EDDY_REGION")]
    pub region: Option<String>,
    /// Access key id that requests must be signed with (SigV4).
    #[arg(long, env = "EDDY_ACCESS_KEY_ID")]
    pub access_key_id: Option<String>,
    /// Secret of --access-key-id.
    #[arg(long, env = "EDDY_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub secret_access_key: Option<String>,
    /// TOML file with `[[access_keys]]` entries (id, secret, optional account).
    #[arg(long, env = "EDDY_CREDENTIALS_FILE")]
    pub credentials_file: Option<PathBuf>,
    /// Allow a non-loopback address without credentials.
    #[arg(long, env = "EDDY_INSECURE")]
    pub insecure: bool,
    /// Log format: `text` or `json` [default: text].
    #[arg(long, env = "EDDY_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Python interpreter of `python3.*` functions; it must have `awslambdaric`
    /// [default: python3].
    #[arg(long = "python", env = "EDDY_LAMBDA_PYTHON")]
    pub lambda_python: Option<String>,
    /// Invocations this node runs at once across all functions (AWS's account
    /// concurrency); reserved concurrency is carved out of it [default: 1000].
    #[arg(long, env = "EDDY_CONCURRENCY_LIMIT")]
    pub concurrency_limit: Option<u32>,
    /// Seconds a function environment may stay idle before it is stopped [default: 300].
    #[arg(long, env = "EDDY_FUNCTION_IDLE_TIMEOUT")]
    pub function_idle_timeout: Option<u64>,
    /// A cgroup v2 directory with the memory controller, under which each function
    /// environment gets a child cgroup limited to its MemorySize; without one (or if it is
    /// unusable) MemorySize is enforced with RLIMIT_AS.
    #[arg(long, env = "EDDY_FUNCTION_CGROUP")]
    pub function_cgroup: Option<PathBuf>,
    /// Seconds an asynchronous event waits before its second attempt after a function
    /// error; the third waits twice as long (Lambda: one and two minutes) [default: 60].
    #[arg(long, env = "EDDY_FUNCTION_RETRY_DELAY")]
    pub function_retry_delay: Option<u64>,
    /// Sign the SNS envelopes delivered to queues and functions with the topic's key, as
    /// AWS does (an RSA signature per publish, about a millisecond of CPU). HTTP/HTTPS
    /// deliveries are always signed. Without it those envelopes carry an empty Signature.
    #[arg(long, env = "EDDY_SNS_SIGN_ENVELOPES")]
    pub sns_sign_envelopes: bool,
}

/// The contents of `eddy.toml` (and of a credentials file, which uses only `access_keys`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub bind: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub store: Option<String>,
    pub store_pool_size: Option<usize>,
    pub concurrency_limit: Option<u32>,
    pub function_retry_delay: Option<u64>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub log_format: Option<String>,
    #[serde(default)]
    pub access_keys: Vec<AccessKeyConfig>,
    #[serde(default)]
    pub queues: Vec<QueueConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessKeyConfig {
    pub id: String,
    pub secret: String,
    /// The account this key acts in; the server's account when absent.
    pub account: Option<String>,
}

/// A queue to create at start-up when it does not exist yet.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueConfig {
    pub name: String,
    /// SQS attributes as CreateQueue takes them, e.g. `{ VisibilityTimeout = "60" }`.
    /// Numbers and booleans are accepted and turned into strings.
    #[serde(default)]
    pub attributes: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The owning account; the server's account when absent.
    pub account: Option<String>,
}

impl QueueConfig {
    /// Attribute values as the strings SQS expects.
    pub fn attribute_strings(&self) -> BTreeMap<String, String> {
        self.attributes
            .iter()
            .map(|(name, value)| {
                let text = match value {
                    toml::Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                (name.clone(), text)
            })
            .collect()
    }
}

/// Everything `serve` needs, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    pub store_url: String,
    pub store_pool_size: usize,
    pub account_id: String,
    pub region: String,
    pub access_keys: BTreeMap<String, api::AccessKey>,
    pub insecure: bool,
    pub log_format: LogFormat,
    pub queues: Vec<QueueConfig>,
    /// Where function code is unpacked (`<data dir>/functions/`), whatever the store.
    pub data_dir: PathBuf,
    /// The Python interpreter functions run with, when not `python3`.
    pub lambda_python: Option<String>,
    /// Invocations that may run at once on this node.
    pub concurrency_limit: u32,
    /// How long a function environment may stay idle before it is stopped.
    pub function_idle_timeout: Duration,
    /// Where per-environment memory cgroups go, if anywhere.
    pub function_cgroup: Option<PathBuf>,
    /// Asynchronous invocation's wait before a second attempt (the third waits twice it).
    pub function_retry_delay: std::time::Duration,
    /// Whether SNS envelopes to queues and functions are signed.
    pub sns_sign_envelopes: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl Settings {
    /// Merges flags over the configuration file over defaults, and checks the result.
    pub fn resolve(args: &ServeArgs) -> anyhow::Result<Settings> {
        let file = match &args.config {
            Some(path) => read_file_config(path)?,
            None if Path::new("eddy.toml").exists() => read_file_config(Path::new("eddy.toml"))?,
            None => FileConfig::default(),
        };
        let bind_text = args
            .bind
            .clone()
            .or(file.bind.clone())
            .unwrap_or_else(|| "127.0.0.1:4566".to_string());
        let bind: SocketAddr = bind_text.parse().with_context(|| {
            format!("--bind {bind_text:?} is not an address like 127.0.0.1:4566")
        })?;
        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from(".eddy"));
        // Absolute from here on: function processes run in their code directory, so a
        // relative path to their `bootstrap` under the data directory would not resolve.
        let data_dir = std::path::absolute(&data_dir)
            .with_context(|| format!("--data-dir {}", data_dir.display()))?;
        let store_url = args
            .store_url
            .clone()
            .or(file.store.clone())
            .unwrap_or_else(|| format!("sqlite:{}", data_dir.display()));
        let store_pool_size = args
            .store_pool_size
            .or(file.store_pool_size)
            .unwrap_or(store::PostgresOptions::default().pool_size);
        if store_pool_size < 2 {
            bail!("the store pool size must be at least 2, not {store_pool_size}");
        }
        let concurrency_limit = args
            .concurrency_limit
            .or(file.concurrency_limit)
            .unwrap_or(engine::lambda::DEFAULT_CONCURRENCY_LIMIT);
        if concurrency_limit == 0 {
            bail!("the concurrency limit must be at least 1");
        }
        let function_retry_delay = std::time::Duration::from_secs(
            args.function_retry_delay
                .or(file.function_retry_delay)
                .unwrap_or(engine::lambda::DEFAULT_FUNCTION_RETRY_DELAY.as_secs()),
        );
        if function_retry_delay.as_secs() > 450 {
            bail!("the function retry delay must be at most 450 seconds (SQS delays end at 900)");
        }
        let account_id = args
            .account_id
            .clone()
            .or(file.account_id.clone())
            .unwrap_or_else(|| "000000000000".to_string());
        if account_id.len() != 12 || !account_id.bytes().all(|b| b.is_ascii_digit()) {
            bail!("account id {account_id:?} must be 12 digits");
        }
        let region = args
            .region
            .clone()
            .or(file.region.clone())
            .unwrap_or_else(|| "us-east-1".to_string());
        let log_format = match args
            .log_format
            .as_deref()
            .or(file.log_format.as_deref())
            .unwrap_or("text")
        {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => bail!("log format {other:?} is neither `text` nor `json`"),
        };

        let mut key_configs = file.access_keys.clone();
        if let Some(path) = &args.credentials_file {
            key_configs.extend(read_file_config(path)?.access_keys);
        }
        match (&args.access_key_id, &args.secret_access_key) {
            (Some(id), Some(secret)) => key_configs.push(AccessKeyConfig {
                id: id.clone(),
                secret: secret.clone(),
                account: None,
            }),
            (None, None) => {}
            _ => bail!("--access-key-id and --secret-access-key go together"),
        }
        let mut access_keys = BTreeMap::new();
        for key in key_configs {
            let account = key.account.unwrap_or_else(|| account_id.clone());
            access_keys.insert(
                key.id,
                api::AccessKey {
                    secret_access_key: key.secret,
                    account,
                },
            );
        }

        let function_idle_timeout = args.function_idle_timeout.unwrap_or(300);
        if function_idle_timeout == 0 {
            bail!("the function idle timeout must be at least 1 second");
        }

        if !bind.ip().is_loopback() && access_keys.is_empty() && !args.insecure {
            bail!(
                "refusing to listen on {bind} without credentials: set EDDY_ACCESS_KEY_ID and \
                 EDDY_SECRET_ACCESS_KEY (or --credentials-file), or pass --insecure"
            );
        }

        Ok(Settings {
            bind,
            store_url,
            store_pool_size,
            account_id,
            region,
            access_keys,
            insecure: args.insecure,
            log_format,
            queues: file.queues,
            data_dir,
            lambda_python: args.lambda_python.clone(),
            concurrency_limit,
            function_idle_timeout: Duration::from_secs(function_idle_timeout),
            function_cgroup: args.function_cgroup.clone(),
            function_retry_delay,
            sns_sign_envelopes: args.sns_sign_envelopes,
        })
    }
}

fn read_file_config(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read configuration file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid configuration file {}", path.display()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn defaults_listen_on_loopback_4566_with_the_default_account() {
        let settings = Settings::resolve(&ServeArgs {
            config: Some(PathBuf::from("/dev/null")),
            ..ServeArgs::default()
        })
        .unwrap();
        assert_eq!(settings.bind.to_string(), "127.0.0.1:4566");
        assert_eq!(settings.account_id, "000000000000");
        // `./.eddy`, made absolute against the working directory.
        let data_dir = std::env::current_dir().unwrap().join(".eddy");
        assert_eq!(settings.data_dir, data_dir);
        assert_eq!(settings.store_url, format!("sqlite:{}", data_dir.display()));
        assert!(settings.access_keys.is_empty());
        assert_eq!(settings.function_idle_timeout, Duration::from_secs(300));
        assert_eq!(settings.function_cgroup, None);
    }

    #[test]
    fn function_idle_timeout_is_seconds_and_never_zero() {
        let args = ServeArgs {
            config: Some(PathBuf::from("/dev/null")),
            function_idle_timeout: Some(2),
            ..ServeArgs::default()
        };
        let settings = Settings::resolve(&args).unwrap();
        assert_eq!(settings.function_idle_timeout, Duration::from_secs(2));
        let zero = ServeArgs {
            function_idle_timeout: Some(0),
            ..args
        };
        assert!(Settings::resolve(&zero).is_err());
    }

    #[test]
    fn non_loopback_bind_without_credentials_is_refused_unless_insecure() {
        let args = ServeArgs {
            bind: Some("0.0.0.0:4566".into()),
            config: Some(PathBuf::from("/dev/null")),
            ..ServeArgs::default()
        };
        assert!(Settings::resolve(&args).is_err());
        let insecure = ServeArgs {
            insecure: true,
            ..args.clone()
        };
        assert!(Settings::resolve(&insecure).is_ok());
        let with_key = ServeArgs {
            access_key_id: Some("AKID".into()),
            secret_access_key: Some("secret".into()),
            ..args
        };
        assert!(Settings::resolve(&with_key).is_ok());
    }

    #[test]
    fn file_declares_queues_and_keys_and_flags_win_over_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("eddy.toml");
        std::fs::write(
            &path,
            r#"
bind = "127.0.0.1:5000"
region = "eu-west-1"
[[access_keys]]
id = "AKIDA"
secret = "sa"
account = "111111111111"
[[queues]]
name = "orders"
attributes = { VisibilityTimeout = 60, FifoQueue = false }
"#,
        )
        .unwrap();
        let settings = Settings::resolve(&ServeArgs {
            config: Some(path),
            region: Some("us-west-2".into()),
            ..ServeArgs::default()
        })
        .unwrap();
        assert_eq!(settings.bind.port(), 5000);
        assert_eq!(settings.region, "us-west-2");
        assert_eq!(settings.access_keys["AKIDA"].account, "111111111111");
        let attributes = settings.queues[0].attribute_strings();
        assert_eq!(attributes["VisibilityTimeout"], "60");
        assert_eq!(attributes["FifoQueue"], "false");
    }
}
