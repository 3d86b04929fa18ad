//! What functions print: a bounded in-memory ring per function (every line of every
//! environment) and, per environment, the lines of the invocation in progress, from which
//! Invoke's `LogResult` tail (the last 4 KB, START to REPORT) is cut.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

/// How much of a function's log the ring keeps.
const FUNCTION_LOG_BYTES: usize = 256 * 1024;
/// Invoke's `X-Amz-Log-Result` carries the last 4 KB of the invocation's log.
pub const LOG_TAIL_BYTES: usize = 4 * 1024;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every change below is completed before anything that could panic, so the data
    // behind a poisoned lock is still whole.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The log of one function: the last [`FUNCTION_LOG_BYTES`] of lines. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct FunctionLog {
    ring: Arc<Mutex<Ring>>,
}

#[derive(Debug, Default)]
struct Ring {
    lines: VecDeque<String>,
    bytes: usize,
}

impl FunctionLog {
    fn push(&self, line: &str) {
        let mut ring = lock(&self.ring);
        ring.bytes += line.len() + 1;
        ring.lines.push_back(line.to_string());
        while ring.bytes > FUNCTION_LOG_BYTES {
            match ring.lines.pop_front() {
                Some(dropped) => ring.bytes -= dropped.len() + 1,
                None => break,
            }
        }
    }

    /// The whole ring, one line per entry, oldest first.
    pub fn lines(&self) -> Vec<String> {
        lock(&self.ring).lines.iter().cloned().collect()
    }
}

/// The log of one environment: lines go to the function's ring and, between
/// [`EnvironmentLog::start_invocation`] and [`EnvironmentLog::finish_invocation`], to the
/// invocation's own buffer. Cheap to clone (the reader tasks hold clones).
#[derive(Debug, Clone)]
pub(crate) struct EnvironmentLog {
    function: FunctionLog,
    invocation: Arc<Mutex<Option<String>>>,
}

impl EnvironmentLog {
    pub(crate) fn new(function: FunctionLog) -> EnvironmentLog {
        EnvironmentLog {
            function,
            invocation: Arc::new(Mutex::new(None)),
        }
    }

    /// One line printed by the process (or written by the platform).
    pub(crate) fn line(&self, line: &str) {
        let mut invocation = lock(&self.invocation);
        self.function.push(line);
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

    #[test]
    fn tail_keeps_last_four_kilobytes_of_the_invocation() {
        let log = EnvironmentLog::new(FunctionLog::default());
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
}
