//! eddy's wire formats: bytes in, engine call, bytes out.
//!
//! # Layout
//!
//! - `router.rs`: one HTTP entry point for every AWS API; reads which service a request is
//!   for from `X-Amz-Target`, the form's `Action`/`Version`, the SigV4 credential scope or
//!   the path, and hands it to that service's module.
//! - `error.rs`: the api's one error enum and its one exhaustive mapping to the wire.
//! - `iam/`: IAM's role actions over the query protocol.
//! - `lambda/`: the Lambda control plane (functions, Invoke) over REST-JSON.
//! - `logs/`: CloudWatch Logs (the read actions on function logs) over AWS JSON 1.1.
//! - `lambda_runtime.rs`: the Lambda Runtime API (`/2018-06-01/runtime/...`) served on
//!   each execution environment's own listener, over the engine's state machine.
//! - `sigv4.rs`: AWS Signature Version 4 verification.
//! - `sns/`: the SNS actions over the query protocol, and the HTTP client SNS notifications
//!   are POSTed with.
//! - `sqs/`: the SQS actions over AWS JSON 1.0 and the query protocol.
//! - `sts.rs`: STS `GetCallerIdentity`.
//! - `xml.rs`: the small XML writer of query-protocol responses.
//!
//! # Invariants
//!
//! - No SQS semantics here: validation of values and every state change is the engine's.
//! - Every error reaches the client as AWS would send it; internal details only reach the log.

/// Declares a service's `ActionName` enum (the names in `X-Amz-Target` or the form's
/// `Action`) with `ALL`, `parse` and `as_str`, one variant per listed name.
macro_rules! action_names {
    ($doc:literal; $($name:ident),* $(,)?) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ActionName { $($name),* }

        impl ActionName {
            pub const ALL: &'static [ActionName] = &[$(ActionName::$name),*];

            pub fn parse(name: &str) -> Option<ActionName> {
                match name {
                    $(stringify!($name) => Some(ActionName::$name),)*
                    _ => None,
                }
            }

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ActionName::$name => stringify!($name),)*
                }
            }
        }
    };
}

pub mod error;
pub mod iam;
pub mod lambda;
pub mod lambda_runtime;
pub mod logs;
mod router;
pub mod sigv4;
pub mod sns;
pub mod sqs;
pub mod sts;
mod xml;

use std::collections::BTreeMap;

use engine::Engine;

pub use error::{Error, WireError};
pub use router::DEFAULT_MAX_BODY_BYTES;

/// One access key eddy accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub secret_access_key: String,
    /// The account requests signed with this key act in.
    pub account: String,
}

/// Settings of the HTTP layer.
#[derive(Debug, Clone, Default)]
pub struct ApiConfig {
    /// Access key id → key. When empty, signatures are not checked (loopback development);
    /// otherwise every request must carry a valid SigV4 signature by one of these keys.
    pub access_keys: BTreeMap<String, AccessKey>,
}

/// The whole HTTP application for one engine.
pub fn app(engine: Engine, config: ApiConfig) -> axum::Router {
    router::app(engine, config, DEFAULT_MAX_BODY_BYTES)
}

/// [`app`] with another request body limit (tests of the limit use a small one).
pub fn app_with_body_limit(
    engine: Engine,
    config: ApiConfig,
    max_body_bytes: usize,
) -> axum::Router {
    router::app(engine, config, max_body_bytes)
}
