//! The final report of `eddy bench sqs`: a human-readable block and, on request, one JSON line.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{Value, json};

use super::process::ProcessSample;
use super::sqs::{ErrorTally, Integrity, Mode, StopReason, WorkerStats};

/// This process's CPU time, in total and split at the end of the send phase. The split is only
/// meaningful in `--mode receive`, where the phases do not overlap.
pub struct CpuPhases {
    pub total: Duration,
    pub send_phase: Duration,
    pub receive_phase: Duration,
}

/// Readings of the server processes (`--server-pid`), summed over all of them; a reading is
/// `None` if /proc had none for one of them.
pub struct ServerFigures {
    pub pids: Vec<u32>,
    pub before: Option<ProcessSample>,
    pub after_send: Option<ProcessSample>,
    pub after: Option<ProcessSample>,
    pub peak_rss_kib: u64,
}

impl ServerFigures {
    /// `"pid": 42` for one server (as before several were possible), `"pids": [42, 43]` for more.
    fn pids_json(&self, value: &mut Value) {
        match self.pids.as_slice() {
            [pid] => value["pid"] = json!(pid),
            pids => value["pids"] = json!(pids),
        }
    }

    /// "pid 42" or "pids 42, 43".
    fn pids_text(&self) -> String {
        let list: Vec<String> = self.pids.iter().map(u32::to_string).collect();
        match list.len() {
            1 => format!("pid {}", list.join("")),
            _ => format!("pids {}", list.join(", ")),
        }
    }
}

/// CPU time of a database server and its children (`--database-pid`); `None` where /proc
/// had no reading.
pub struct DatabaseFigures {
    pub pid: u32,
    pub before: Option<Duration>,
    pub after_send: Option<Duration>,
    pub after: Option<Duration>,
}

/// Everything measured by one run.
pub struct Report {
    pub endpoints: Vec<String>,
    pub queue: String,
    pub mode: Mode,
    pub clients: u32,
    pub batch: u32,
    pub message_size: u32,
    pub fifo: bool,
    pub stats: WorkerStats,
    pub acknowledged: u64,
    pub attempted: u64,
    pub deleted: u64,
    pub send_seconds: f64,
    pub receive_seconds: f64,
    pub end_to_end_seconds: f64,
    pub integrity: Integrity,
    pub stop_reason: StopReason,
    pub errors: BTreeMap<String, ErrorTally>,
    pub client_cpu: CpuPhases,
    pub server: Option<ServerFigures>,
    pub database: Option<DatabaseFigures>,
}

pub(super) fn rate(count: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        count as f64 / seconds
    } else {
        0.0
    }
}

pub(super) fn micros_per(duration: Duration, count: u64) -> Option<f64> {
    (count > 0).then(|| duration.as_secs_f64() * 1e6 / count as f64)
}

fn latency_json(histogram: &Histogram<u64>) -> Value {
    if histogram.is_empty() {
        return Value::Null;
    }
    let millis = |micros: u64| micros as f64 / 1000.0;
    json!({
        "count": histogram.len(),
        "p50_ms": millis(histogram.value_at_quantile(0.5)),
        "p99_ms": millis(histogram.value_at_quantile(0.99)),
        "max_ms": millis(histogram.max()),
    })
}

fn latency_text(histogram: &Histogram<u64>) -> String {
    if histogram.is_empty() {
        return "no samples".to_owned();
    }
    let millis = |micros: u64| micros as f64 / 1000.0;
    format!(
        "p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        millis(histogram.value_at_quantile(0.5)),
        millis(histogram.value_at_quantile(0.99)),
        millis(histogram.max())
    )
}

impl Report {
    fn mode_name(&self) -> &'static str {
        match self.mode {
            Mode::Send => "send",
            Mode::Receive => "receive",
            Mode::Both => "both",
        }
    }

    fn has_consumers(&self) -> bool {
        self.mode != Mode::Send
    }

    /// Prints the report on stdout; with `json`, the last line is the JSON summary.
    pub fn print(&self, json: bool) {
        println!("{}", self.text());
        if json {
            println!("{}", self.json());
        }
    }

    pub(super) fn text(&self) -> String {
        let mut lines = Vec::new();
        let mut workers = match self.mode {
            Mode::Both => format!("{0} producers + {0} consumers", self.clients),
            Mode::Receive => format!("{0} producers, then {0} consumers", self.clients),
            Mode::Send => format!("{} producers", self.clients),
        };
        if self.endpoints.len() > 1 {
            workers.push_str(&format!(
                " round-robin over {} endpoints",
                self.endpoints.len()
            ));
        }
        lines.push(format!(
            "eddy bench sqs  {}  queue {}{}  mode {}  {}  batch {}  {}-byte messages",
            self.endpoints.join(", "),
            self.queue,
            if self.fifo { " (FIFO)" } else { "" },
            self.mode_name(),
            workers,
            self.batch,
            self.message_size
        ));
        let stats = &self.stats;
        lines.push(format!(
            "send          {:>9} msgs in {:>7.2} s = {:>9.0} msg/s   {} calls   latency {}",
            self.acknowledged,
            self.send_seconds,
            rate(self.acknowledged, self.send_seconds),
            stats.send_calls,
            latency_text(&stats.send_latency)
        ));
        if self.has_consumers() {
            lines.push(format!(
                "receive+del   {:>9} msgs in {:>7.2} s = {:>9.0} msg/s   {} receives ({} empty), {} deletes",
                self.deleted,
                self.receive_seconds,
                rate(self.deleted, self.receive_seconds),
                stats.receive_calls,
                stats.empty_receives,
                stats.delete_calls
            ));
            lines.push(format!(
                "  receive latency  {}",
                latency_text(&stats.receive_latency)
            ));
            lines.push(format!(
                "  delete latency   {}",
                latency_text(&stats.delete_latency)
            ));
        }
        if self.mode == Mode::Both {
            lines.push(format!(
                "end-to-end    {:>9} msgs in {:>7.2} s = {:>9.0} msg/s   send-to-receive latency {}",
                self.integrity.received_unique,
                self.end_to_end_seconds,
                rate(self.integrity.received_unique, self.end_to_end_seconds),
                latency_text(&stats.end_to_end_latency)
            ));
        }
        if self.has_consumers() {
            let integrity = &self.integrity;
            let unreceived_label = match self.stop_reason {
                StopReason::Deadline => "left unreceived at the drain deadline",
                _ => "MISSING (acknowledged, never received)",
            };
            lines.push(format!(
                "integrity     {} acknowledged, {} received once or more, {} duplicated ({} extra receives), {} {}",
                self.acknowledged,
                integrity.received_unique,
                integrity.duplicated_messages,
                integrity.extra_receives,
                integrity.unreceived,
                unreceived_label
            ));
            if integrity.duplicated_messages > 0 {
                lines.push(
                    "  note: a duplicate after a visibility timeout is legal at-least-once delivery, but should not happen at this load"
                        .to_owned(),
                );
            }
            if integrity.received_unacknowledged + integrity.foreign + integrity.corrupt > 0 {
                lines.push(format!(
                    "  also: {} received whose send was not acknowledged, {} from other runs, {} corrupt",
                    integrity.received_unacknowledged, integrity.foreign, integrity.corrupt
                ));
            }
            let stopped = match self.stop_reason {
                StopReason::AllReceived => "every acknowledged message was received",
                StopReason::Idle => "nothing new arrived within --idle-timeout",
                StopReason::Deadline => {
                    "the drain deadline (--duration after draining began) passed"
                }
                StopReason::NoConsumers => "there were no consumers",
            };
            lines.push(format!("  consumers stopped: {stopped}"));
        }
        if self.attempted > self.acknowledged {
            lines.push(format!(
                "unacknowledged sends: {} of {} attempted",
                self.attempted - self.acknowledged,
                self.attempted
            ));
        }
        if self.errors.is_empty() {
            lines.push("errors        none".to_owned());
        } else {
            lines.push("errors".to_owned());
            for (key, tally) in &self.errors {
                lines.push(format!(
                    "  {:>7} x {}  (e.g. {})",
                    tally.count,
                    key,
                    truncate(&tally.example, 160)
                ));
            }
        }
        lines.push(self.cpu_line(
            "client CPU",
            self.client_cpu.total,
            self.client_cpu_phases(),
        ));
        if let Some(server) = &self.server {
            match (server.before, server.after) {
                (Some(before), Some(after)) => {
                    let total = after.cpu_time.saturating_sub(before.cpu_time);
                    let phases = self.server_cpu_phases(server);
                    lines.push(format!(
                        "{} ({})",
                        self.cpu_line("server CPU", total, phases),
                        server.pids_text()
                    ));
                    lines.push(format!(
                        "server RSS    {:.1} MiB before, {:.1} MiB after, {:.1} MiB peak{}",
                        before.rss_kib as f64 / 1024.0,
                        after.rss_kib as f64 / 1024.0,
                        server.peak_rss_kib.max(after.rss_kib) as f64 / 1024.0,
                        if server.pids.len() > 1 {
                            format!(" (sum of {} servers)", server.pids.len())
                        } else {
                            String::new()
                        }
                    ));
                }
                _ => lines.push(format!(
                    "server        {} could not be read from /proc",
                    server.pids_text()
                )),
            }
        }
        if let Some(database) = &self.database {
            match (database.before, database.after) {
                (Some(before), Some(after)) => lines.push(format!(
                    "{} (pid {} and its children)",
                    self.cpu_line(
                        "database CPU",
                        after.saturating_sub(before),
                        self.database_cpu_phases(database)
                    ),
                    database.pid
                )),
                _ => lines.push(format!(
                    "database      pid {} could not be read from /proc",
                    database.pid
                )),
            }
        }
        lines.join("\n")
    }

    fn client_cpu_phases(&self) -> Option<(Duration, Duration)> {
        (self.mode == Mode::Receive)
            .then_some((self.client_cpu.send_phase, self.client_cpu.receive_phase))
    }

    fn server_cpu_phases(&self, server: &ServerFigures) -> Option<(Duration, Duration)> {
        if self.mode != Mode::Receive {
            return None;
        }
        let (before, middle, after) = (server.before?, server.after_send?, server.after?);
        Some((
            middle.cpu_time.saturating_sub(before.cpu_time),
            after.cpu_time.saturating_sub(middle.cpu_time),
        ))
    }

    fn database_cpu_phases(&self, database: &DatabaseFigures) -> Option<(Duration, Duration)> {
        if self.mode != Mode::Receive {
            return None;
        }
        let (before, middle, after) = (database.before?, database.after_send?, database.after?);
        Some((middle.saturating_sub(before), after.saturating_sub(middle)))
    }

    /// "CPU 1.23 s = 24.6 µs/message", per acknowledged message (its whole life in this run).
    fn cpu_line(
        &self,
        label: &str,
        total: Duration,
        phases: Option<(Duration, Duration)>,
    ) -> String {
        let per_message = |duration: Duration, count: u64| {
            micros_per(duration, count)
                .map_or_else(|| "-".to_owned(), |micros| format!("{micros:.1}"))
        };
        let mut line = format!(
            "{label:<13} {:.2} s = {} µs/message",
            total.as_secs_f64(),
            per_message(total, self.acknowledged)
        );
        if let Some((send, receive)) = phases {
            line.push_str(&format!(
                "  (send phase {} µs/msg, receive+delete phase {} µs/msg)",
                per_message(send, self.acknowledged),
                per_message(receive, self.deleted)
            ));
        }
        line
    }

    pub(super) fn json(&self) -> Value {
        let stats = &self.stats;
        let cpu_json = |total: Duration, phases: Option<(Duration, Duration)>| {
            let mut value = json!({
                "cpu_seconds": total.as_secs_f64(),
                "cpu_us_per_message": micros_per(total, self.acknowledged),
            });
            if let Some((send, receive)) = phases {
                value["send_phase_cpu_us_per_message"] = json!(micros_per(send, self.acknowledged));
                value["receive_phase_cpu_us_per_message"] =
                    json!(micros_per(receive, self.deleted));
            }
            value
        };
        let server = self
            .server
            .as_ref()
            .map(|server| match (server.before, server.after) {
                (Some(before), Some(after)) => {
                    let mut value = cpu_json(
                        after.cpu_time.saturating_sub(before.cpu_time),
                        self.server_cpu_phases(server),
                    );
                    server.pids_json(&mut value);
                    value["rss_before_kib"] = json!(before.rss_kib);
                    value["rss_after_kib"] = json!(after.rss_kib);
                    value["rss_peak_kib"] = json!(server.peak_rss_kib.max(after.rss_kib));
                    value
                }
                _ => {
                    let mut value = json!({ "unreadable": true });
                    server.pids_json(&mut value);
                    value
                }
            });
        let database =
            self.database
                .as_ref()
                .map(|database| match (database.before, database.after) {
                    (Some(before), Some(after)) => {
                        let mut value = cpu_json(
                            after.saturating_sub(before),
                            self.database_cpu_phases(database),
                        );
                        value["pid"] = json!(database.pid);
                        value
                    }
                    _ => json!({ "pid": database.pid, "unreadable": true }),
                });
        let errors: BTreeMap<&str, u64> = self
            .errors
            .iter()
            .map(|(key, tally)| (key.as_str(), tally.count))
            .collect();
        json!({
            "endpoint": self.endpoints.join(","),
            "queue": self.queue,
            "mode": self.mode,
            "clients": self.clients,
            "batch": self.batch,
            "message_size": self.message_size,
            "fifo": self.fifo,
            "send": {
                "messages": self.acknowledged,
                "attempted": self.attempted,
                "calls": stats.send_calls,
                "seconds": self.send_seconds,
                "messages_per_second": rate(self.acknowledged, self.send_seconds),
                "latency": latency_json(&stats.send_latency),
            },
            "receive": self.has_consumers().then(|| json!({
                "messages_deleted": self.deleted,
                "receive_calls": stats.receive_calls,
                "empty_receives": stats.empty_receives,
                "delete_calls": stats.delete_calls,
                "seconds": self.receive_seconds,
                "messages_per_second": rate(self.deleted, self.receive_seconds),
                "receive_latency": latency_json(&stats.receive_latency),
                "delete_latency": latency_json(&stats.delete_latency),
            })),
            "end_to_end": (self.mode == Mode::Both).then(|| json!({
                "messages": self.integrity.received_unique,
                "seconds": self.end_to_end_seconds,
                "messages_per_second": rate(self.integrity.received_unique, self.end_to_end_seconds),
                "latency": latency_json(&stats.end_to_end_latency),
            })),
            "integrity": self.has_consumers().then(|| json!({
                "acknowledged": self.acknowledged,
                "received_unique": self.integrity.received_unique,
                "duplicated_messages": self.integrity.duplicated_messages,
                "extra_receives": self.integrity.extra_receives,
                "unreceived": self.integrity.unreceived,
                "missing": if self.stop_reason == StopReason::Deadline { Value::Null } else { json!(self.integrity.unreceived) },
                "received_unacknowledged": self.integrity.received_unacknowledged,
                "foreign": self.integrity.foreign,
                "corrupt": self.integrity.corrupt,
                "stop_reason": self.stop_reason,
            })),
            "errors": errors,
            "error_count": self.errors.values().map(|tally| tally.count).sum::<u64>(),
            "client": cpu_json(self.client_cpu.total, self.client_cpu_phases()),
            "server": server,
            "database": database,
        })
    }
}

pub(super) fn truncate(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
