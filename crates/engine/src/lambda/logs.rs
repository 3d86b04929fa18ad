//! What functions print, kept in memory per node: each log group (`/aws/lambda/<name>`, or
//! the function's `LoggingConfig.LogGroup`, per account) holds timestamped events in log
//! streams, one stream per execution environment, for the CloudWatch Logs API to read; and,
//! per environment, the lines of the invocation in progress, from which Invoke's
//! `LogResult` tail (the last 4 KB, START to REPORT) is cut.
//!
//! Memory is bounded per group: [`LOG_GROUP_BYTES`] of events, counted as CloudWatch
//! counts a batch (message bytes plus 26 per event); the oldest events go first, and a
//! stream goes with its last event. Nothing is written to disk: logs do not survive a
//! restart, and each node keeps the logs of the environments it ran.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::clock::Clock;
use store::Millis;

/// How much of a log group is kept (message bytes plus [`EVENT_OVERHEAD_BYTES`] each).
pub const LOG_GROUP_BYTES: usize = 1024 * 1024;
/// What each event costs besides its message, as CloudWatch counts batch sizes.
pub const EVENT_OVERHEAD_BYTES: usize = 26;
/// Invoke's `X-Amz-Log-Result` carries the last 4 KB of the invocation's log.
pub const LOG_TAIL_BYTES: usize = 4 * 1024;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every change below is completed before anything that could panic, so the data
    // behind a poisoned lock is still whole.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    /// Position in the group, increasing by one per event; tokens point at it.
    pub sequence: u64,
    /// When the line was printed (milliseconds since the epoch).
    pub timestamp: Millis,
    /// When eddy stored it: the same instant, since lines are stored as they are read.
    pub ingestion_time: Millis,
    pub stream: Arc<str>,
    pub message: String,
}

impl LogEvent {
    /// A 56-digit id, unique in its group, as CloudWatch's event ids look.
    pub fn event_id(&self) -> String {
        format!(
            "{:020}{:036}",
            u64::try_from(self.timestamp).unwrap_or(0),
            self.sequence
        )
    }
}

/// One log stream's summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogStreamInfo {
    pub name: Arc<str>,
    pub creation_time: Millis,
    pub first_event_timestamp: Option<Millis>,
    pub last_event_timestamp: Option<Millis>,
    pub last_ingestion_time: Option<Millis>,
    /// Events of the stream still kept.
    pub events: usize,
    /// Their bytes, counted as [`LOG_GROUP_BYTES`] counts them.
    pub stored_bytes: u64,
}

/// A read-only view of a group, given to [`FunctionLog::read`].
#[derive(Debug)]
pub struct LogGroupView<'a> {
    pub creation_time: Millis,
    /// Oldest first; sequences increase.
    pub events: &'a VecDeque<LogEvent>,
    pub streams: &'a BTreeMap<Arc<str>, LogStreamInfo>,
    /// The sequence the next event will get.
    pub next_sequence: u64,
    pub stored_bytes: u64,
}

#[derive(Debug)]
struct GroupData {
    creation_time: Millis,
    events: VecDeque<LogEvent>,
    bytes: usize,
    next_sequence: u64,
    streams: BTreeMap<Arc<str>, LogStreamInfo>,
    limit_bytes: usize,
}

/// One log group: the events of every environment of the functions writing to it. Cheap
/// to clone.
#[derive(Debug, Clone)]
pub struct FunctionLog {
    data: Arc<Mutex<GroupData>>,
    clock: Arc<dyn Clock>,
}

impl FunctionLog {
    /// An empty group created now, keeping at most [`LOG_GROUP_BYTES`].
    pub fn new(clock: Arc<dyn Clock>) -> FunctionLog {
        FunctionLog::with_limit(clock, LOG_GROUP_BYTES)
    }

    /// An empty group keeping at most `limit_bytes` (tests use a small one).
    pub fn with_limit(clock: Arc<dyn Clock>, limit_bytes: usize) -> FunctionLog {
        FunctionLog {
            data: Arc::new(Mutex::new(GroupData {
                creation_time: clock.now(),
                events: VecDeque::new(),
                bytes: 0,
                next_sequence: 0,
                streams: BTreeMap::new(),
                limit_bytes,
            })),
            clock,
        }
    }

    /// Creates stream `name` (an environment starting) unless it exists.
    pub fn create_stream(&self, name: &Arc<str>) {
        let now = self.clock.now();
        lock(&self.data)
            .streams
            .entry(name.clone())
            .or_insert_with(|| empty_stream(name, now));
    }

    /// Appends one event to `stream` at the clock's time, dropping the oldest events while
    /// the group is over its bound.
    pub fn push(&self, stream: &Arc<str>, message: &str) {
        let now = self.clock.now();
        let mut data = lock(&self.data);
        let cost = message.len() + EVENT_OVERHEAD_BYTES;
        let sequence = data.next_sequence;
        data.next_sequence += 1;
        data.bytes += cost;
        let info = data
            .streams
            .entry(stream.clone())
            .or_insert_with(|| empty_stream(stream, now));
        info.first_event_timestamp.get_or_insert(now);
        info.last_event_timestamp = Some(now);
        info.last_ingestion_time = Some(now);
        info.events += 1;
        info.stored_bytes += cost as u64;
        data.events.push_back(LogEvent {
            sequence,
            timestamp: now,
            ingestion_time: now,
            stream: stream.clone(),
            message: message.to_string(),
        });
        while data.bytes > data.limit_bytes {
            let Some(dropped) = data.events.pop_front() else {
                break;
            };
            let cost = dropped.message.len() + EVENT_OVERHEAD_BYTES;
            data.bytes -= cost;
            let now_empty = match data.streams.get_mut(&dropped.stream) {
                Some(info) => {
                    info.events -= 1;
                    info.stored_bytes -= cost as u64;
                    info.events == 0
                }
                None => false,
            };
            if now_empty {
                data.streams.remove(&dropped.stream);
            }
        }
    }

    /// Runs `reader` over the group, under its lock (keep it short).
    pub fn read<R>(&self, reader: impl FnOnce(&LogGroupView<'_>) -> R) -> R {
        let data = lock(&self.data);
        reader(&LogGroupView {
            creation_time: data.creation_time,
            events: &data.events,
            streams: &data.streams,
            next_sequence: data.next_sequence,
            stored_bytes: data.bytes as u64,
        })
    }

    /// Every kept message, oldest first.
    pub fn lines(&self) -> Vec<String> {
        self.read(|group| {
            group
                .events
                .iter()
                .map(|event| event.message.clone())
                .collect()
        })
    }
}

fn empty_stream(name: &Arc<str>, now: Millis) -> LogStreamInfo {
    LogStreamInfo {
        name: name.clone(),
        creation_time: now,
        first_event_timestamp: None,
        last_event_timestamp: None,
        last_ingestion_time: None,
        events: 0,
        stored_bytes: 0,
    }
}

/// Every log group of this node, by account and name. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LogGroups {
    groups: Arc<Mutex<BTreeMap<(String, String), FunctionLog>>>,
    clock: Arc<dyn Clock>,
}

impl LogGroups {
    pub fn new(clock: Arc<dyn Clock>) -> LogGroups {
        LogGroups {
            groups: Arc::new(Mutex::new(BTreeMap::new())),
            clock,
        }
    }

    /// Group `name` of `account`, created now if it does not exist (as Lambda creates a
    /// function's group when it first writes to it).
    pub fn group(&self, account: &str, name: &str) -> FunctionLog {
        lock(&self.groups)
            .entry((account.to_string(), name.to_string()))
            .or_insert_with(|| FunctionLog::new(self.clock.clone()))
            .clone()
    }

    /// Group `name` of `account`, if it exists.
    pub fn find(&self, account: &str, name: &str) -> Option<FunctionLog> {
        lock(&self.groups)
            .get(&(account.to_string(), name.to_string()))
            .cloned()
    }

    /// Drops group `name` of `account` and its events (its function was deleted).
    pub fn remove(&self, account: &str, name: &str) {
        let removed = lock(&self.groups).remove(&(account.to_string(), name.to_string()));
        drop(removed);
    }

    /// The groups of `account` in name order, starting after `after`, at most `limit`
    /// of those `keep` accepts, and whether more follow.
    pub fn list(
        &self,
        account: &str,
        after: Option<&str>,
        limit: usize,
        keep: impl Fn(&str) -> bool,
    ) -> (Vec<(String, FunctionLog)>, bool) {
        let groups = lock(&self.groups);
        let mut page = Vec::new();
        let mut more = false;
        let matching = groups
            .range((account.to_string(), after.unwrap_or("").to_string())..)
            .take_while(|((owner, _), _)| owner == account)
            .filter(|((_, name), _)| after.is_none_or(|after| name.as_str() > after))
            .filter(|((_, name), _)| keep(name));
        for ((_, name), log) in matching {
            if page.len() == limit {
                more = true;
                break;
            }
            page.push((name.clone(), log.clone()));
        }
        (page, more)
    }
}

/// The log of one environment: lines go to its stream of the group and, between
/// [`EnvironmentLog::start_invocation`] and [`EnvironmentLog::finish_invocation`], to the
/// invocation's own buffer. Cheap to clone (the reader tasks hold clones).
#[derive(Debug, Clone)]
pub(crate) struct EnvironmentLog {
    group: FunctionLog,
    stream: Arc<str>,
    invocation: Arc<Mutex<Option<String>>>,
}

impl EnvironmentLog {
    /// The log of an environment writing to `stream` of `group` (created now).
    pub(crate) fn new(group: FunctionLog, stream: &str) -> EnvironmentLog {
        let stream: Arc<str> = Arc::from(stream);
        group.create_stream(&stream);
        EnvironmentLog {
            group,
            stream,
            invocation: Arc::new(Mutex::new(None)),
        }
    }

    /// One line printed by the process (or written by the platform).
    pub(crate) fn line(&self, line: &str) {
        let mut invocation = lock(&self.invocation);
        self.group.push(&self.stream, line);
        if let Some(buffer) = invocation.as_mut() {
            buffer.push_str(line);
            buffer.push('\n');
            // Only the tail is ever read: keep at most twice its size.
            if buffer.len() > 2 * LOG_TAIL_BYTES {
                let cut = ceil_char_boundary(buffer, buffer.len() - LOG_TAIL_BYTES);
                buffer.drain(..cut);
            }
        }
    }

    pub(crate) fn start_invocation(&self, start_line: &str) {
        *lock(&self.invocation) = Some(String::new());
        self.line(start_line);
    }

    /// Whether the invocation in progress printed `needle` in its last few kilobytes.
    pub(crate) fn invocation_printed(&self, needle: &str) -> bool {
        lock(&self.invocation)
            .as_deref()
            .is_some_and(|buffer| buffer.contains(needle))
    }

    /// Writes the closing lines and returns the last 4 KB of the invocation's log.
    pub(crate) fn finish_invocation(&self, closing_lines: &[String]) -> String {
        for line in closing_lines {
            self.line(line);
        }
        let buffer = lock(&self.invocation).take().unwrap_or_default();
        let cut = ceil_char_boundary(&buffer, buffer.len().saturating_sub(LOG_TAIL_BYTES));
        buffer[cut..].to_string()
    }
}

/// The first char boundary of `text` at or after `index`, so a cut there never keeps more
/// than asked for.
fn ceil_char_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index += 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;

    fn clock() -> (ManualClock, Arc<dyn Clock>) {
        let clock = ManualClock::new(1_700_000_000_000);
        let shared: Arc<dyn Clock> = Arc::new(clock.clone());
        (clock, shared)
    }

    #[test]
    fn tail_keeps_last_four_kilobytes_of_the_invocation() {
        let (_, clock) = clock();
        let log = EnvironmentLog::new(FunctionLog::new(clock), "s");
        log.line("before the invocation");
        log.start_invocation("START");
        for _ in 0..1000 {
            log.line("héllo wörld");
        }
        let tail = log.finish_invocation(&["END".to_string()]);
        assert!(tail.len() <= LOG_TAIL_BYTES);
        assert!(tail.ends_with("héllo wörld\nEND\n"));
        assert!(!tail.contains("before"));
    }

    #[test]
    fn events_carry_clock_time_and_stream() {
        let (manual, clock) = clock();
        let group = FunctionLog::new(clock);
        let stream: Arc<str> = Arc::from("2026/01/31/[$LATEST]abc");
        group.create_stream(&stream);
        group.push(&stream, "one");
        manual.advance(5);
        group.push(&stream, "two");
        group.read(|view| {
            assert_eq!(view.events.len(), 2);
            assert_eq!(view.events[1].timestamp, 1_700_000_000_005);
            assert_eq!(view.events[1].sequence, 1);
            let info = &view.streams[&stream];
            assert_eq!(info.first_event_timestamp, Some(1_700_000_000_000));
            assert_eq!(info.last_event_timestamp, Some(1_700_000_000_005));
            assert_eq!(info.events, 2);
        });
        let id = group.read(|view| view.events[0].event_id());
        assert_eq!(id.len(), 56);
    }

    #[test]
    fn oldest_events_and_emptied_streams_are_dropped_past_the_bound() {
        let (_, clock) = clock();
        let group = FunctionLog::with_limit(clock, 3 * (10 + EVENT_OVERHEAD_BYTES));
        let old: Arc<str> = Arc::from("old");
        let new: Arc<str> = Arc::from("new");
        group.push(&old, "0123456789");
        for _ in 0..3 {
            group.push(&new, "abcdefghij");
        }
        group.read(|view| {
            assert_eq!(view.events.len(), 3);
            assert!(view.events.iter().all(|event| &*event.stream == "new"));
            assert!(!view.streams.contains_key(&old));
            assert_eq!(view.stored_bytes, 3 * (10 + EVENT_OVERHEAD_BYTES) as u64);
            assert_eq!(view.next_sequence, 4);
        });
    }

    #[test]
    fn groups_are_per_account_and_listed_in_name_order() {
        let (_, clock) = clock();
        let groups = LogGroups::new(clock);
        groups.group("111111111111", "/aws/lambda/b");
        groups.group("111111111111", "/aws/lambda/a");
        groups.group("222222222222", "/aws/lambda/a");
        let (page, more) = groups.list("111111111111", None, 1, |_| true);
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].0, "/aws/lambda/a");
        assert!(more);
        let (page, more) = groups.list("111111111111", Some("/aws/lambda/a"), 5, |_| true);
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].0, "/aws/lambda/b");
        assert!(!more);
        groups.remove("111111111111", "/aws/lambda/a");
        assert!(groups.find("111111111111", "/aws/lambda/a").is_none());
        assert!(groups.find("222222222222", "/aws/lambda/a").is_some());
    }
}
