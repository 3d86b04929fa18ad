//! `eddy logs <function> [--follow] [--since 10m]`: prints a function's log events from a
//! running server through its public CloudWatch Logs API (FilterLogEvents), as
//! `aws logs tail` does: one line per event, `<timestamp> <log stream> <message>`. With
//! `--follow` it keeps polling for new events until interrupted.

use std::collections::HashSet;
use std::io::Write as _;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use serde_json::{Value, json};

use crate::client::{AwsClient, ClientArgs, epoch_millis};

/// How often `--follow` asks for new events.
const FOLLOW_POLL_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, clap::Args)]
pub struct LogsArgs {
    /// The function (name or ARN); or a log group, when it starts with `/`.
    pub function: String,
    /// Keep printing new events until interrupted (Ctrl-C).
    #[arg(long)]
    pub follow: bool,
    /// How far back to start: a number and a unit, s, m, h, d or w (`30s`, `10m`, `2h`).
    #[arg(long, default_value = "10m")]
    pub since: String,
    /// Only events matching this CloudWatch filter pattern (terms and quoted phrases).
    #[arg(long)]
    pub filter_pattern: Option<String>,
    #[command(flatten)]
    pub client: ClientArgs,
}

pub async fn run(args: LogsArgs) -> anyhow::Result<()> {
    let since = parse_since(&args.since)?;
    let client = AwsClient::new(&args.client)?;
    let log_group = log_group_of(&client, &args.function).await?;
    let start_time = epoch_millis(SystemTime::now()) - i64::try_from(since.as_millis())?;
    let mut tail = Tail {
        client,
        log_group,
        filter_pattern: args.filter_pattern,
        start_time,
        seen: HashSet::new(),
    };
    if !args.follow {
        tail.print_new_events().await?;
        return Ok(());
    }
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        tail.print_new_events().await?;
        tokio::select! {
            _ = &mut interrupted => return Ok(()),
            () = tokio::time::sleep(FOLLOW_POLL_INTERVAL) => {}
        }
    }
}

/// `30s`, `10m`, `2h`, `1d`, `1w`.
fn parse_since(text: &str) -> anyhow::Result<Duration> {
    let invalid = || {
        anyhow::anyhow!("--since {text:?} is not a number with a unit (s, m, h, d, w), like 10m")
    };
    let unit_at = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(invalid)?;
    let (number, unit) = text.split_at(unit_at);
    let number: u64 = number.parse().map_err(|_| invalid())?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(invalid()),
    };
    Ok(Duration::from_secs(number.saturating_mul(seconds)))
}

/// The log group of `function`: its `LoggingConfig.LogGroup` (which also checks that it
/// exists), or `function` itself when it is a log group name.
async fn log_group_of(client: &AwsClient, function: &str) -> anyhow::Result<String> {
    if function.starts_with('/') {
        return Ok(function.to_string());
    }
    let encoded: String = function
        .chars()
        .map(|c| match c {
            ':' => "%3A".to_string(),
            '$' => "%24".to_string(),
            other => other.to_string(),
        })
        .collect();
    let configuration = client
        .get_rest(
            "lambda",
            &format!("/2015-03-31/functions/{encoded}/configuration"),
        )
        .await
        .with_context(|| format!("cannot look up function {function}"))?;
    Ok(configuration
        .pointer("/LoggingConfig/LogGroup")
        .and_then(Value::as_str)
        .map_or_else(|| format!("/aws/lambda/{function}"), str::to_string))
}

/// The position of a tail: what it asks for next and which events it printed already.
struct Tail {
    client: AwsClient,
    log_group: String,
    filter_pattern: Option<String>,
    /// Events before this are never asked for again.
    start_time: i64,
    /// Ids of printed events at `start_time` or later: the next poll starts at the newest
    /// timestamp printed, and may see those events again.
    seen: HashSet<(i64, String)>,
}

impl Tail {
    /// Prints every event from `start_time` on that was not printed yet, following
    /// `nextToken` to the end, then moves `start_time` to the newest event printed.
    async fn print_new_events(&mut self) -> anyhow::Result<()> {
        let mut next_token: Option<String> = None;
        let mut newest = self.start_time;
        loop {
            let mut request = json!({
                "logGroupName": self.log_group,
                "startTime": self.start_time,
            });
            if let Some(pattern) = &self.filter_pattern {
                request["filterPattern"] = json!(pattern);
            }
            if let Some(token) = &next_token {
                request["nextToken"] = json!(token);
            }
            let page = match self
                .client
                .call_json("logs", "Logs_20140328.FilterLogEvents", &request)
                .await
            {
                Ok(page) => page,
                // The function has not run on this server yet: nothing to print so far.
                Err(error) if error.code() == Some("ResourceNotFoundException") => return Ok(()),
                Err(error) => return Err(anyhow::Error::new(error).context("FilterLogEvents")),
            };
            let mut stdout = std::io::stdout().lock();
            for event in page
                .get("events")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let timestamp = event.get("timestamp").and_then(Value::as_i64).unwrap_or(0);
                let id = event
                    .get("eventId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                if !self.seen.insert((timestamp, id)) {
                    continue;
                }
                newest = newest.max(timestamp);
                let line = format!(
                    "{} {} {}\n",
                    format_timestamp(timestamp),
                    event
                        .get("logStreamName")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                    event
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .trim_end_matches('\n'),
                );
                if let Err(error) = stdout.write_all(line.as_bytes()) {
                    return exit_quietly_on_broken_pipe(error);
                }
            }
            if let Err(error) = stdout.flush() {
                return exit_quietly_on_broken_pipe(error);
            }
            next_token = page
                .get("nextToken")
                .and_then(Value::as_str)
                .map(str::to_string);
            if next_token.is_none() {
                break;
            }
        }
        self.start_time = newest;
        self.seen.retain(|(timestamp, _)| *timestamp >= newest);
        Ok(())
    }
}

/// A reader that went away (`eddy logs f | head`) is a normal end.
fn exit_quietly_on_broken_pipe(error: std::io::Error) -> anyhow::Result<()> {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    Err(error.into())
}

/// `2026-01-31T12:34:56.789000+00:00`, as `aws logs tail` prints timestamps.
fn format_timestamp(millis: i64) -> String {
    // `2026-01-31T12:34:56.789+0000`
    let formatted = engine::lambda::format_last_modified(millis);
    format!("{}000+00:00", formatted.get(..23).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn since_takes_a_number_and_a_unit() {
        assert_eq!(parse_since("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_since("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_since("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_since("1w").unwrap(), Duration::from_secs(604_800));
        for bad in ["10", "m", "10y", "-5m", ""] {
            assert!(parse_since(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps_print_as_aws_logs_tail_does() {
        assert_eq!(
            format_timestamp(1_769_862_896_789),
            "2026-01-31T12:34:56.789000+00:00"
        );
    }
}
