//! Decoding of the Lambda paths outside `/2015-03-31/functions`: reserved concurrency
//! (`/2017-10-31/functions/{name}/concurrency`, read at `/2019-09-30/…`), account settings
//! (`/2016-08-19/account-settings`) and tags (`/2017-03-31/tags/{ARN}`), each into an
//! [`Action`].

use std::collections::BTreeMap;

use http::Method;
use serde::Deserialize;

use super::{Action, json_body, path_segments};
use crate::error::{Error, Result};

const CONCURRENCY_PREFIX: &str = "/2017-10-31/functions/";
const CONCURRENCY_READ_PREFIX: &str = "/2019-09-30/functions/";
const ACCOUNT_SETTINGS_PATH: &str = "/2016-08-19/account-settings";
const TAGS_PREFIX: &str = "/2017-03-31/tags/";

/// Whether a path is one of these Lambda paths.
pub fn is_settings_path(path: &str) -> bool {
    path.starts_with(CONCURRENCY_PREFIX)
        || path.starts_with(CONCURRENCY_READ_PREFIX)
        || path.trim_end_matches('/') == ACCOUNT_SETTINGS_PATH
        || path.starts_with(TAGS_PREFIX)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutConcurrencyBody {
    reserved_concurrent_executions: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagResourceBody {
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

/// The action of a request on one of these paths; `None` for any other path.
pub fn decode(
    method: &Method,
    path: &str,
    query: Option<&str>,
    body: &[u8],
) -> Result<Option<Action>> {
    if path.trim_end_matches('/') == ACCOUNT_SETTINGS_PATH {
        return match *method {
            Method::GET => Ok(Some(Action::GetAccountSettings)),
            _ => Err(Error::InvalidAction),
        };
    }
    if let Some(rest) = path.strip_prefix(TAGS_PREFIX) {
        let segments = path_segments(rest);
        let [resource] = segments.as_slice() else {
            return Err(Error::InvalidAction);
        };
        let resource = resource.clone();
        return match *method {
            Method::GET => Ok(Some(Action::ListTags { resource })),
            Method::POST => {
                let body: TagResourceBody = json_body(body)?;
                Ok(Some(Action::TagResource {
                    resource,
                    tags: body.tags,
                }))
            }
            Method::DELETE => Ok(Some(Action::UntagResource {
                resource,
                tag_keys: form_urlencoded::parse(query.unwrap_or("").as_bytes())
                    .filter(|(key, _)| key == "tagKeys")
                    .map(|(_, value)| value.into_owned())
                    .collect(),
            })),
            _ => Err(Error::InvalidAction),
        };
    }
    let (rest, read_only) = if let Some(rest) = path.strip_prefix(CONCURRENCY_PREFIX) {
        (rest, false)
    } else if let Some(rest) = path.strip_prefix(CONCURRENCY_READ_PREFIX) {
        (rest, true)
    } else {
        return Ok(None);
    };
    let segments = path_segments(rest);
    let [function_name, concurrency] = segments.as_slice() else {
        return Err(Error::InvalidAction);
    };
    if concurrency != "concurrency" {
        return Err(Error::InvalidAction);
    }
    let function_name = function_name.clone();
    match (method, read_only) {
        (&Method::GET, true) => Ok(Some(Action::GetFunctionConcurrency { function_name })),
        (&Method::PUT, false) => {
            let body: PutConcurrencyBody = json_body(body)?;
            Ok(Some(Action::PutFunctionConcurrency {
                function_name,
                reserved_concurrent_executions: body.reserved_concurrent_executions,
            }))
        }
        (&Method::DELETE, false) => Ok(Some(Action::DeleteFunctionConcurrency { function_name })),
        _ => Err(Error::InvalidAction),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn settings_paths_decode_into_actions() -> Result<()> {
        assert!(matches!(
            decode(&Method::GET, "/2016-08-19/account-settings/", None, b"")?,
            Some(Action::GetAccountSettings)
        ));
        assert!(matches!(
            decode(
                &Method::PUT,
                "/2017-10-31/functions/f/concurrency",
                None,
                br#"{"ReservedConcurrentExecutions": 3}"#
            )?,
            Some(Action::PutFunctionConcurrency { function_name, reserved_concurrent_executions: Some(3) })
                if function_name == "f"
        ));
        assert!(matches!(
            decode(
                &Method::GET,
                "/2019-09-30/functions/f/concurrency",
                None,
                b""
            )?,
            Some(Action::GetFunctionConcurrency { .. })
        ));
        assert!(matches!(
            decode(
                &Method::DELETE,
                "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af",
                Some("tagKeys=a&tagKeys=b"),
                b""
            )?,
            Some(Action::UntagResource { resource, tag_keys })
                if resource == "arn:aws:lambda:us-east-1:000000000000:function:f" && tag_keys == ["a", "b"]
        ));
        assert!(decode(&Method::GET, "/2015-03-31/functions", None, b"")?.is_none());
        Ok(())
    }
}
