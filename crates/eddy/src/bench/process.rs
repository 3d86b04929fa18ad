//! CPU time and memory of this process and of the server under test, read from the kernel.
//!
//! This is the only module of the bench that needs `unsafe`: `getrusage` and `sysconf` are plain
//! libc calls with no Rust wrapper in our dependencies. Each call is confined to one function.

use std::time::Duration;

/// CPU time (user + system) this process has used so far, all threads included.
#[allow(unsafe_code)]
pub fn own_cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` points to writable memory the size of a `rusage`; RUSAGE_SELF is valid.
    let status = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if status != 0 {
        return Duration::ZERO;
    }
    // SAFETY: getrusage returned 0, so it filled the whole struct (and zeroed() made it valid anyway).
    let usage = unsafe { usage.assume_init() };
    timeval(usage.ru_utime) + timeval(usage.ru_stime)
}

fn timeval(value: libc::timeval) -> Duration {
    Duration::from_secs(u64::try_from(value.tv_sec).unwrap_or(0))
        + Duration::from_micros(u64::try_from(value.tv_usec).unwrap_or(0))
}

/// Clock ticks per second, the unit of the CPU times in `/proc/<pid>/stat`.
#[allow(unsafe_code)]
fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf has no preconditions; it only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks)
        .ok()
        .filter(|ticks| *ticks > 0)
        .unwrap_or(100)
}

/// One reading of another process's counters.
#[derive(Debug, Clone, Copy)]
pub struct ProcessSample {
    /// utime + stime of all its threads.
    pub cpu_time: Duration,
    /// Resident set size in KiB (VmRSS).
    pub rss_kib: u64,
}

/// Reads CPU time and RSS of `pid`; `None` if the process is gone or /proc is unreadable.
pub fn sample_process(pid: u32) -> Option<ProcessSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(ProcessSample {
        cpu_time: parse_stat_cpu_ticks(&stat)
            .map(|ticks| Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second() as f64))?,
        rss_kib: parse_status_kib(&status, "VmRSS:").unwrap_or(0),
    })
}

/// utime + stime, in clock ticks, from the text of `/proc/<pid>/stat`.
fn parse_stat_cpu_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) is in parentheses and may itself contain spaces or ')', so
    // count fields from the last ')'. After it come field 3 (state) ... field 14 utime, 15 stime.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// A `Name:   1234 kB` line of `/proc/<pid>/status`, in KiB.
fn parse_status_kib(status: &str, name: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_cpu_ticks_are_counted_after_a_command_name_with_spaces() {
        let stat = "4242 (tokio (x) y) S 1 4242 4242 0 -1 4194560 500 0 0 0 37 5 0 0 20 0 9 0 1000 2000000 300 18446744073709551615";
        assert_eq!(parse_stat_cpu_ticks(stat), Some(42));
    }

    #[test]
    fn status_rss_is_read_in_kib() {
        let status = "Name:\teddy\nVmHWM:\t   20000 kB\nVmRSS:\t   12345 kB\nThreads:\t9\n";
        assert_eq!(parse_status_kib(status, "VmRSS:"), Some(12345));
    }

    #[test]
    fn own_process_can_be_sampled() {
        let sample = sample_process(std::process::id());
        assert!(sample.is_some_and(|sample| sample.rss_kib > 0));
    }
}
