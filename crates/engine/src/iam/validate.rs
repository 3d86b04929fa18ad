//! IAM's input rules, with the messages IAM gives: `ValidationError` for values that
//! break a parameter's length or pattern, `MalformedPolicyDocument` for documents that
//! are not JSON objects, `InvalidInput` for ARNs that are not ARNs.

use crate::{Error, Result};

/// The longest policy document a request may carry (the API's length constraint).
pub(crate) const MAX_POLICY_DOCUMENT_CHARS: usize = 131_072;
pub(crate) const DEFAULT_MAX_SESSION_DURATION: i64 = 3600;
const MAX_SESSION_DURATION: i64 = 43_200;
pub(crate) const DEFAULT_MAX_ITEMS: usize = 100;
const MAX_ITEMS: i64 = 1000;
pub(crate) const MAX_TAGS_PER_ROLE: usize = 50;

fn constraint(value: &str, field: &str, rule: &str) -> Error {
    Error::ValidationError(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {rule}"
    ))
}

fn length(value: &str, field: &str, min: usize, max: usize) -> Result<()> {
    let count = value.chars().count();
    if count < min {
        return Err(constraint(
            value,
            field,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if count > max {
        return Err(constraint(
            value,
            field,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// Role and policy names: `[\w+=,.@-]+`.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

pub(crate) fn role_name(name: &str) -> Result<()> {
    length(name, "roleName", 1, 64)?;
    if !name.chars().all(is_name_char) {
        return Err(constraint(
            name,
            "roleName",
            r"Member must satisfy regular expression pattern: [\w+=,.@-]+",
        ));
    }
    Ok(())
}

pub(crate) fn policy_name(name: &str) -> Result<()> {
    length(name, "policyName", 1, 128)?;
    if !name.chars().all(is_name_char) {
        return Err(constraint(
            name,
            "policyName",
            r"Member must satisfy regular expression pattern: [\w+=,.@-]+",
        ));
    }
    Ok(())
}

/// A path is `/` or begins and ends with `/`, with characters `!` through DEL between.
pub(crate) fn path(path: &str) -> Result<()> {
    length(path, "path", 1, 512)?;
    let printable = path.chars().all(|c| ('\u{21}'..='\u{7f}').contains(&c));
    if !printable || !path.starts_with('/') || !path.ends_with('/') {
        return Err(constraint(
            path,
            "path",
            r"Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007F]+\u002F)",
        ));
    }
    Ok(())
}

/// A path prefix begins with `/`.
pub(crate) fn path_prefix(prefix: &str) -> Result<()> {
    length(prefix, "pathPrefix", 1, 512)?;
    let printable = prefix.chars().all(|c| ('\u{21}'..='\u{7f}').contains(&c));
    if !printable || !prefix.starts_with('/') {
        return Err(constraint(
            prefix,
            "pathPrefix",
            r"Member must satisfy regular expression pattern: \u002F[\u0021-\u007F]*",
        ));
    }
    Ok(())
}

pub(crate) fn description(description: &str) -> Result<()> {
    length(description, "description", 0, 1000)?;
    let allowed =
        |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a1}'..='\u{ff}');
    if !description.chars().all(allowed) {
        return Err(constraint(
            description,
            "description",
            r"Member must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*",
        ));
    }
    Ok(())
}

pub(crate) fn max_session_duration(seconds: i64) -> Result<()> {
    if !(DEFAULT_MAX_SESSION_DURATION..=MAX_SESSION_DURATION).contains(&seconds) {
        let rule = if seconds < DEFAULT_MAX_SESSION_DURATION {
            "Member must have value greater than or equal to 3600"
        } else {
            "Member must have value less than or equal to 43200"
        };
        return Err(constraint(&seconds.to_string(), "maxSessionDuration", rule));
    }
    Ok(())
}

/// A policy document: within the API's length and character rules, and a JSON object.
pub(crate) fn policy_document(document: &str, field: &str) -> Result<()> {
    let count = document.chars().count();
    if count == 0 || count > MAX_POLICY_DOCUMENT_CHARS {
        let rule = if count == 0 {
            "Member must have length greater than or equal to 1".to_string()
        } else {
            format!("Member must have length less than or equal to {MAX_POLICY_DOCUMENT_CHARS}")
        };
        // Echoing a 128 KiB document back is no help; IAM's own message names the field.
        return Err(Error::ValidationError(format!(
            "1 validation error detected: Value at '{field}' failed to satisfy constraint: {rule}"
        )));
    }
    let allowed = |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}');
    if !document.chars().all(allowed) {
        return Err(Error::ValidationError(format!(
            "1 validation error detected: Value at '{field}' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"
        )));
    }
    match serde_json::from_str::<serde_json::Value>(document) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        Ok(_) => Err(Error::MalformedPolicyDocument(
            "Syntax errors in policy.".to_string(),
        )),
        Err(_) => Err(Error::MalformedPolicyDocument(
            "This policy contains invalid Json".to_string(),
        )),
    }
}

/// A managed policy ARN: `arn:<partition>:iam::<account or aws>:policy/<path and name>`.
pub(crate) fn policy_arn(arn: &str) -> Result<()> {
    length(arn, "policyArn", 20, 2048)?;
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let valid = matches!(
        parts.as_slice(),
        ["arn", partition, "iam", "", account, resource]
            if !partition.is_empty() && !account.is_empty()
                && resource.strip_prefix("policy/").is_some_and(|rest| !rest.is_empty())
    );
    if !valid {
        return Err(Error::InvalidInput(format!("ARN {arn} is not valid.")));
    }
    Ok(())
}

/// The name part of a managed policy ARN (after its last `/`).
pub(crate) fn policy_name_of_arn(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

pub(crate) fn tags(tags: &[(String, String)]) -> Result<()> {
    if tags.len() > MAX_TAGS_PER_ROLE {
        return Err(constraint(
            "tags",
            "tags",
            "Member must have length less than or equal to 50",
        ));
    }
    for (key, value) in tags {
        length(key, "tags.member.key", 1, 128)?;
        length(value, "tags.member.value", 0, 256)?;
        let allowed = |c: char| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c);
        if !key.chars().all(allowed) || !value.chars().all(allowed) {
            return Err(constraint(
                key,
                "tags.member.key",
                r"Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+",
            ));
        }
    }
    Ok(())
}

pub(crate) fn tag_keys(keys: &[String]) -> Result<()> {
    if keys.len() > MAX_TAGS_PER_ROLE {
        return Err(constraint(
            "tagKeys",
            "tagKeys",
            "Member must have length less than or equal to 50",
        ));
    }
    for key in keys {
        length(key, "tagKeys.member", 1, 128)?;
    }
    Ok(())
}

/// `MaxItems`: 1 to 1000, 100 when absent.
pub(crate) fn max_items(max_items: Option<i64>) -> Result<usize> {
    match max_items {
        None => Ok(DEFAULT_MAX_ITEMS),
        Some(n) if (1..=MAX_ITEMS).contains(&n) => Ok(n as usize),
        Some(n) => Err(constraint(
            &n.to_string(),
            "maxItems",
            if n < 1 {
                "Member must have value greater than or equal to 1"
            } else {
                "Member must have value less than or equal to 1000"
            },
        )),
    }
}

pub(crate) fn marker(marker: &str) -> Result<()> {
    length(marker, "marker", 1, 320)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_follow_the_iam_pattern() {
        assert!(role_name("lambda-exec_role+=,.@1").is_ok());
        for bad in ["", "has space", "slash/", "é", &"x".repeat(65)] {
            assert!(
                matches!(role_name(bad), Err(Error::ValidationError(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn paths_begin_and_end_with_a_slash() {
        for good in ["/", "/a/", "/a/b-c/"] {
            assert!(path(good).is_ok(), "{good}");
        }
        for bad in ["", "a/", "/a", "/a b/"] {
            assert!(matches!(path(bad), Err(Error::ValidationError(_))), "{bad}");
        }
        assert!(path_prefix("/app").is_ok());
        assert!(path_prefix("app").is_err());
    }

    #[test]
    fn documents_must_be_json_objects() {
        assert!(policy_document(r#"{"Version":"2012-10-17"}"#, "policyDocument").is_ok());
        assert!(matches!(
            policy_document("not json", "policyDocument"),
            Err(Error::MalformedPolicyDocument(_))
        ));
        assert!(matches!(
            policy_document("[1]", "policyDocument"),
            Err(Error::MalformedPolicyDocument(_))
        ));
        assert!(matches!(
            policy_document("", "policyDocument"),
            Err(Error::ValidationError(_))
        ));
    }

    #[test]
    fn policy_arns_name_iam_policies() {
        assert!(
            policy_arn("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole").is_ok()
        );
        assert!(policy_arn("arn:aws:iam::123456789012:policy/mine").is_ok());
        for bad in [
            "arn:aws:s3:::bucket/some-object-key",
            "arn:aws:iam::aws:role/something",
        ] {
            assert!(
                matches!(policy_arn(bad), Err(Error::InvalidInput(_))),
                "{bad}"
            );
        }
        assert_eq!(
            policy_name_of_arn("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
            "AWSLambdaBasicExecutionRole"
        );
    }

    #[test]
    fn max_items_defaults_to_100_within_1_to_1000() {
        assert_eq!(max_items(None).ok(), Some(100));
        assert_eq!(max_items(Some(1000)).ok(), Some(1000));
        assert!(max_items(Some(0)).is_err());
        assert!(max_items(Some(1001)).is_err());
    }
}
