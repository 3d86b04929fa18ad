//! HTTP/HTTPS delivery policies: a topic's `DeliveryPolicy` (`{"http": {…}}`) and a
//! subscription's (`{"healthyRetryPolicy": …}`), checked as AWS checks them, and the
//! effective policy the two make together (what GetTopicAttributes and
//! GetSubscriptionAttributes report as `EffectiveDeliveryPolicy`, and what the HTTP
//! delivery worker follows).
//!
//! Validation errors are reasons without AWS's prefix (`healthyRetryPolicy.minDelayTarget
//! must be greater than or equal to 1`); the caller adds `Invalid parameter: [Attributes
//! Reason: ]DeliveryPolicy: `.

use serde_json::{Map, Value};

/// The longest a retry policy may take, all delays together.
pub(crate) const MAX_TOTAL_RETRY_SECONDS: u64 = 3600;
/// The content type of notification POSTs unless a policy names another.
pub(crate) const DEFAULT_CONTENT_TYPE: &str = "text/plain; charset=UTF-8";
const MAX_RETRIES: i64 = 100;
const MAX_DELAY_TARGET: i64 = 3600;

/// How the delays of the backoff phase grow from `minDelayTarget` to `maxDelayTarget`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum BackoffFunction {
    #[default]
    Linear,
    Arithmetic,
    Geometric,
    Exponential,
}

impl BackoffFunction {
    fn parse(name: &str) -> Option<BackoffFunction> {
        match name {
            "linear" => Some(BackoffFunction::Linear),
            "arithmetic" => Some(BackoffFunction::Arithmetic),
            "geometric" => Some(BackoffFunction::Geometric),
            "exponential" => Some(BackoffFunction::Exponential),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            BackoffFunction::Linear => "linear",
            BackoffFunction::Arithmetic => "arithmetic",
            BackoffFunction::Geometric => "geometric",
            BackoffFunction::Exponential => "exponential",
        }
    }

    /// Where step `step` of `steps` lies between the minimum (0) and maximum (1) delay.
    fn fraction(self, step: u32, steps: u32) -> f64 {
        let t = f64::from(step) / f64::from(steps.max(1));
        match self {
            BackoffFunction::Linear => t,
            BackoffFunction::Arithmetic => t * t,
            BackoffFunction::Geometric => t * t * t,
            BackoffFunction::Exponential => (2f64.powf(10.0 * t) - 1.0) / 1023.0,
        }
    }
}

/// A healthy retry policy with every field known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    pub min_delay_target: u32,
    pub max_delay_target: u32,
    pub num_retries: u32,
    pub num_max_delay_retries: u32,
    pub num_no_delay_retries: u32,
    pub num_min_delay_retries: u32,
    pub backoff_function: BackoffFunction,
}

impl Default for RetryPolicy {
    /// AWS's default for HTTP/HTTPS: three retries 20 seconds apart.
    fn default() -> RetryPolicy {
        RetryPolicy {
            min_delay_target: 20,
            max_delay_target: 20,
            num_retries: 3,
            num_max_delay_retries: 0,
            num_no_delay_retries: 0,
            num_min_delay_retries: 0,
            backoff_function: BackoffFunction::Linear,
        }
    }
}

impl RetryPolicy {
    /// The delay in seconds before each retry, in order: the no-delay retries, the
    /// minimum-delay retries, the backoff phase, then the maximum-delay retries.
    pub(crate) fn retry_delays(&self) -> Vec<u32> {
        let phases =
            self.num_no_delay_retries + self.num_min_delay_retries + self.num_max_delay_retries;
        let backoff_steps = self.num_retries.saturating_sub(phases);
        let mut delays = Vec::with_capacity(self.num_retries as usize);
        delays.extend(std::iter::repeat_n(0, self.num_no_delay_retries as usize));
        delays.extend(std::iter::repeat_n(
            self.min_delay_target,
            self.num_min_delay_retries as usize,
        ));
        let span = f64::from(self.max_delay_target.saturating_sub(self.min_delay_target));
        for step in 1..=backoff_steps {
            let fraction = self.backoff_function.fraction(step, backoff_steps);
            delays.push(self.min_delay_target + (span * fraction).round() as u32);
        }
        delays.extend(std::iter::repeat_n(
            self.max_delay_target,
            self.num_max_delay_retries as usize,
        ));
        delays
    }

    /// The policy as JSON, in AWS's field order (serde_json's maps would sort the keys).
    fn to_json(self) -> String {
        format!(
            r#"{{"minDelayTarget":{},"maxDelayTarget":{},"numRetries":{},"numMaxDelayRetries":{},"numNoDelayRetries":{},"numMinDelayRetries":{},"backoffFunction":"{}"}}"#,
            self.min_delay_target,
            self.max_delay_target,
            self.num_retries,
            self.num_max_delay_retries,
            self.num_no_delay_retries,
            self.num_min_delay_retries,
            self.backoff_function.as_str(),
        )
    }

    /// `base` with the fields `object` sets, checked; `path` names the object in reasons.
    fn parse(
        object: &Map<String, Value>,
        base: RetryPolicy,
        path: &str,
    ) -> Result<RetryPolicy, String> {
        let field = |name: &str, current: u32, min: i64, max: Option<i64>| -> Result<u32, String> {
            let Some(value) = object.get(name) else {
                return Ok(current);
            };
            let number = value
                .as_i64()
                .ok_or_else(|| format!("{path}.{name} must be an integer"))?;
            if number < min {
                return Err(format!(
                    "{path}.{name} must be greater than or equal to {min}"
                ));
            }
            if let Some(max) = max
                && number > max
            {
                return Err(format!("{path}.{name} must be less than or equal to {max}"));
            }
            u32::try_from(number).map_err(|_| format!("{path}.{name} is too large"))
        };
        let policy = RetryPolicy {
            min_delay_target: field(
                "minDelayTarget",
                base.min_delay_target,
                1,
                Some(MAX_DELAY_TARGET),
            )?,
            max_delay_target: field(
                "maxDelayTarget",
                base.max_delay_target,
                1,
                Some(MAX_DELAY_TARGET),
            )?,
            num_retries: field("numRetries", base.num_retries, 0, Some(MAX_RETRIES))?,
            num_max_delay_retries: field("numMaxDelayRetries", base.num_max_delay_retries, 0, None)?,
            num_no_delay_retries: field("numNoDelayRetries", base.num_no_delay_retries, 0, None)?,
            num_min_delay_retries: field("numMinDelayRetries", base.num_min_delay_retries, 0, None)?,
            backoff_function: match object.get("backoffFunction") {
                None => base.backoff_function,
                Some(value) => value
                    .as_str()
                    .and_then(BackoffFunction::parse)
                    .ok_or_else(|| {
                        format!(
                            "{path}.backoffFunction must be one of linear, arithmetic, geometric, exponential"
                        )
                    })?,
            },
        };
        if policy.min_delay_target > policy.max_delay_target {
            return Err(format!(
                "{path}.minDelayTarget must be less than or equal to maxDelayTarget"
            ));
        }
        let phases = u64::from(policy.num_no_delay_retries)
            + u64::from(policy.num_min_delay_retries)
            + u64::from(policy.num_max_delay_retries);
        if phases > u64::from(policy.num_retries) {
            return Err(format!(
                "{path}.numRetries must be greater than or equal to the sum of numNoDelayRetries, numMinDelayRetries and numMaxDelayRetries"
            ));
        }
        let total: u64 = policy.retry_delays().iter().map(|d| u64::from(*d)).sum();
        if total > MAX_TOTAL_RETRY_SECONDS {
            return Err(format!(
                "{path}: the delays of all retries together must be less than or equal to {MAX_TOTAL_RETRY_SECONDS} seconds"
            ));
        }
        Ok(policy)
    }
}

fn object_of<'a>(value: &'a Value, path: &str) -> Result<Option<&'a Map<String, Value>>, String> {
    match value {
        Value::Null => Ok(None),
        Value::Object(object) => Ok(Some(object)),
        _ => Err(format!("{path} must be a JSON object")),
    }
}

fn parse_json(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err("failed to parse JSON. The policy must be a JSON object".to_string()),
        Err(error) => Err(format!("failed to parse JSON. {error}")),
    }
}

fn throttle(object: &Map<String, Value>, path: &str) -> Result<Option<u32>, String> {
    let Some(value) = object.get("maxReceivesPerSecond") else {
        return Ok(None);
    };
    match value.as_i64() {
        Some(number) if number >= 1 => u32::try_from(number)
            .map(Some)
            .map_err(|_| format!("{path}.maxReceivesPerSecond is too large")),
        Some(_) => Err(format!(
            "{path}.maxReceivesPerSecond must be greater than or equal to 1"
        )),
        None => Err(format!("{path}.maxReceivesPerSecond must be an integer")),
    }
}

fn content_type(object: &Map<String, Value>, path: &str) -> Result<Option<String>, String> {
    match object.get("headerContentType") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(Some(text.clone())),
        Some(_) => Err(format!(
            "{path}.headerContentType must be a non-empty string"
        )),
    }
}

/// The HTTP part of a topic's delivery policy, defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TopicHttpPolicy {
    pub default_healthy_retry_policy: RetryPolicy,
    pub disable_subscription_overrides: bool,
    pub default_max_receives_per_second: Option<u32>,
    pub default_content_type: String,
}

impl Default for TopicHttpPolicy {
    fn default() -> TopicHttpPolicy {
        TopicHttpPolicy {
            default_healthy_retry_policy: RetryPolicy::default(),
            disable_subscription_overrides: false,
            default_max_receives_per_second: None,
            default_content_type: DEFAULT_CONTENT_TYPE.to_string(),
        }
    }
}

impl TopicHttpPolicy {
    /// Checks a topic's `DeliveryPolicy` attribute; `None` (or empty) is AWS's default.
    pub(crate) fn parse(policy: Option<&str>) -> Result<TopicHttpPolicy, String> {
        let mut effective = TopicHttpPolicy::default();
        let Some(text) = policy.filter(|text| !text.trim().is_empty()) else {
            return Ok(effective);
        };
        let root = parse_json(text)?;
        let Some(http) = root.get("http") else {
            return Ok(effective);
        };
        let Some(http) = object_of(http, "http")? else {
            return Ok(effective);
        };
        if let Some(retry) = http.get("defaultHealthyRetryPolicy")
            && let Some(retry) = object_of(retry, "http.defaultHealthyRetryPolicy")?
        {
            effective.default_healthy_retry_policy = RetryPolicy::parse(
                retry,
                RetryPolicy::default(),
                "http.defaultHealthyRetryPolicy",
            )?;
        }
        match http.get("disableSubscriptionOverrides") {
            None | Some(Value::Null) => {}
            Some(Value::Bool(flag)) => effective.disable_subscription_overrides = *flag,
            Some(_) => {
                return Err("http.disableSubscriptionOverrides must be true or false".to_string());
            }
        }
        if let Some(throttle_policy) = http.get("defaultThrottlePolicy")
            && let Some(throttle_policy) = object_of(throttle_policy, "http.defaultThrottlePolicy")?
        {
            effective.default_max_receives_per_second =
                throttle(throttle_policy, "http.defaultThrottlePolicy")?;
        }
        if let Some(request) = http.get("defaultRequestPolicy")
            && let Some(request) = object_of(request, "http.defaultRequestPolicy")?
            && let Some(content) = content_type(request, "http.defaultRequestPolicy")?
        {
            effective.default_content_type = content;
        }
        Ok(effective)
    }

    /// The topic's `EffectiveDeliveryPolicy` attribute, in AWS's field order.
    pub(crate) fn to_json_string(&self) -> String {
        let throttle = self
            .default_max_receives_per_second
            .map(|rate| format!(r#""defaultThrottlePolicy":{{"maxReceivesPerSecond":{rate}}},"#))
            .unwrap_or_default();
        format!(
            r#"{{"http":{{"defaultHealthyRetryPolicy":{},"disableSubscriptionOverrides":{},{throttle}"defaultRequestPolicy":{{"headerContentType":{}}}}}}}"#,
            self.default_healthy_retry_policy.to_json(),
            self.disable_subscription_overrides,
            json_string(&self.default_content_type),
        )
    }
}

/// A subscription's own delivery policy, as set (fields it did not set are `None`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct SubscriptionDeliveryPolicy {
    pub healthy_retry_policy: Option<RetryPolicy>,
    pub max_receives_per_second: Option<u32>,
    pub content_type: Option<String>,
}

impl SubscriptionDeliveryPolicy {
    /// Checks a subscription's `DeliveryPolicy` attribute.
    pub(crate) fn parse(text: &str) -> Result<SubscriptionDeliveryPolicy, String> {
        let root = parse_json(text)?;
        let mut policy = SubscriptionDeliveryPolicy::default();
        if let Some(retry) = root.get("healthyRetryPolicy")
            && let Some(retry) = object_of(retry, "healthyRetryPolicy")?
        {
            policy.healthy_retry_policy = Some(RetryPolicy::parse(
                retry,
                RetryPolicy::default(),
                "healthyRetryPolicy",
            )?);
        }
        if let Some(throttle_policy) = root.get("throttlePolicy")
            && let Some(throttle_policy) = object_of(throttle_policy, "throttlePolicy")?
        {
            policy.max_receives_per_second = throttle(throttle_policy, "throttlePolicy")?;
        }
        if let Some(request) = root.get("requestPolicy")
            && let Some(request) = object_of(request, "requestPolicy")?
        {
            policy.content_type = content_type(request, "requestPolicy")?;
        }
        Ok(policy)
    }

    /// The `DeliveryPolicy` attribute as GetSubscriptionAttributes reports it.
    pub(crate) fn to_json_string(&self) -> String {
        subscription_policy_json(
            self.healthy_retry_policy,
            self.max_receives_per_second,
            self.content_type.as_deref(),
        )
    }
}

fn json_string(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

/// A subscription's policy as AWS reports it, in AWS's field order.
fn subscription_policy_json(
    retry: Option<RetryPolicy>,
    max_receives_per_second: Option<u32>,
    content_type: Option<&str>,
) -> String {
    let null = || "null".to_string();
    format!(
        r#"{{"healthyRetryPolicy":{},"sicklyRetryPolicy":null,"throttlePolicy":{},"requestPolicy":{},"guaranteed":false}}"#,
        retry.map_or_else(null, RetryPolicy::to_json),
        max_receives_per_second
            .map_or_else(null, |rate| format!(r#"{{"maxReceivesPerSecond":{rate}}}"#)),
        content_type.map_or_else(null, |content| format!(
            r#"{{"headerContentType":{}}}"#,
            json_string(content)
        )),
    )
}

/// What an HTTP/HTTPS subscription's deliveries follow: the topic's defaults, overridden
/// by the subscription's own policy unless the topic disables overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EffectiveHttpPolicy {
    pub retry: RetryPolicy,
    pub max_receives_per_second: Option<u32>,
    pub content_type: String,
}

impl EffectiveHttpPolicy {
    /// Stored policies were checked when set; one that no longer parses counts as unset.
    pub(crate) fn of(
        topic_policy: Option<&str>,
        subscription_policy: Option<&str>,
    ) -> EffectiveHttpPolicy {
        let topic = TopicHttpPolicy::parse(topic_policy).unwrap_or_default();
        let own = if topic.disable_subscription_overrides {
            SubscriptionDeliveryPolicy::default()
        } else {
            subscription_policy
                .filter(|text| !text.trim().is_empty())
                .and_then(|text| SubscriptionDeliveryPolicy::parse(text).ok())
                .unwrap_or_default()
        };
        EffectiveHttpPolicy {
            retry: own
                .healthy_retry_policy
                .unwrap_or(topic.default_healthy_retry_policy),
            max_receives_per_second: own
                .max_receives_per_second
                .or(topic.default_max_receives_per_second),
            content_type: own.content_type.unwrap_or(topic.default_content_type),
        }
    }

    /// The subscription's `EffectiveDeliveryPolicy` attribute.
    pub(crate) fn to_json_string(&self) -> String {
        subscription_policy_json(
            Some(self.retry),
            self.max_receives_per_second,
            Some(&self.content_type),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn default_topic_policy_matches_aws_effective_policy() {
        assert_eq!(
            TopicHttpPolicy::default().to_json_string(),
            r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}"#
        );
    }

    #[test]
    fn default_retry_policy_waits_twenty_seconds_three_times() {
        assert_eq!(RetryPolicy::default().retry_delays(), vec![20, 20, 20]);
    }

    #[test]
    fn retry_phases_come_in_order() {
        let policy = RetryPolicy {
            min_delay_target: 1,
            max_delay_target: 10,
            num_retries: 8,
            num_no_delay_retries: 2,
            num_min_delay_retries: 1,
            num_max_delay_retries: 2,
            backoff_function: BackoffFunction::Linear,
        };
        assert_eq!(policy.retry_delays(), vec![0, 0, 1, 4, 7, 10, 10, 10]);
    }

    #[test]
    fn min_delay_below_one_has_aws_reason() {
        let error = SubscriptionDeliveryPolicy::parse(
            r#"{"healthyRetryPolicy":{"minDelayTarget":0,"maxDelayTarget":5,"numRetries":1}}"#,
        )
        .unwrap_err();
        assert_eq!(
            error,
            "healthyRetryPolicy.minDelayTarget must be greater than or equal to 1"
        );
    }

    #[test]
    fn policies_longer_than_an_hour_are_refused() {
        let error = SubscriptionDeliveryPolicy::parse(
            r#"{"healthyRetryPolicy":{"minDelayTarget":3600,"maxDelayTarget":3600,"numRetries":2}}"#,
        )
        .unwrap_err();
        assert!(error.contains("3600 seconds"), "{error}");
    }

    #[test]
    fn subscription_policy_overrides_topic_defaults() {
        let effective = EffectiveHttpPolicy::of(
            Some(r#"{"http":{"defaultRequestPolicy":{"headerContentType":"application/json"}}}"#),
            Some(
                r#"{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":0},"throttlePolicy":{"maxReceivesPerSecond":1000}}"#,
            ),
        );
        assert_eq!(effective.retry.num_retries, 0);
        assert_eq!(effective.content_type, "application/json");
        assert_eq!(
            effective.to_json_string(),
            r#"{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":0,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"sicklyRetryPolicy":null,"throttlePolicy":{"maxReceivesPerSecond":1000},"requestPolicy":{"headerContentType":"application/json"},"guaranteed":false}"#
        );
    }
}
