//! CPU time and memory of this process, of the servers under test and of a database server
//! behind them, read from the kernel.
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

/// Reads every process of `pids` and adds their CPU times and RSS up; `None` if there are
/// none or any one of them cannot be read (a total that silently left out a server would mislead).
pub fn sample_processes(pids: &[u32]) -> Option<ProcessSample> {
    if pids.is_empty() {
        return None;
    }
    sum_samples(pids.iter().map(|pid| sample_process(*pid)))
}

fn sum_samples(samples: impl IntoIterator<Item = Option<ProcessSample>>) -> Option<ProcessSample> {
    samples.into_iter().try_fold(
        ProcessSample {
            cpu_time: Duration::ZERO,
            rss_kib: 0,
        },
        |total, sample| {
            let sample = sample?;
            Some(ProcessSample {
                cpu_time: total.cpu_time + sample.cpu_time,
                rss_kib: total.rss_kib + sample.rss_kib,
            })
        },
    )
}

/// CPU time of `root` and all its descendants, including descendants that have already exited
/// and been waited for (their time is in their parent's cutime/cstime). This is the CPU of a
/// server that forks a process per connection, like PostgreSQL's postmaster: the difference of
/// two readings is what the whole tree used in between, even if backends came and went.
/// `None` if `root` cannot be read.
pub fn process_tree_cpu_time(root: u32) -> Option<Duration> {
    let processes = read_all_stats();
    let root_stat = processes.iter().find(|stat| stat.pid == root)?;
    let mut tree = vec![root_stat];
    let mut next = 0;
    while let Some(parent) = tree.get(next).map(|stat| stat.pid) {
        tree.extend(processes.iter().filter(|stat| stat.parent == parent));
        next += 1;
    }
    let ticks: u64 = tree
        .iter()
        .map(|stat| stat.own_ticks + stat.waited_children_ticks)
        .sum();
    Some(Duration::from_secs_f64(
        ticks as f64 / clock_ticks_per_second() as f64,
    ))
}

/// Every process in /proc that could be read (processes vanish while we look; they are skipped).
fn read_all_stats() -> Vec<StatFields> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            parse_stat(pid, &stat)
        })
        .collect()
}

/// The fields of `/proc/<pid>/stat` the bench uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StatFields {
    pid: u32,
    parent: u32,
    /// utime + stime, in clock ticks.
    own_ticks: u64,
    /// cutime + cstime: children that exited and were waited for, in clock ticks.
    waited_children_ticks: u64,
}

fn parse_stat(pid: u32, stat: &str) -> Option<StatFields> {
    // The command name (field 2) is in parentheses and may itself contain spaces or ')', so
    // count fields from the last ')'. After it come field 3 (state), 4 (ppid) ... 14 utime,
    // 15 stime, 16 cutime, 17 cstime.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().take(15).collect();
    let number = |index: usize| fields.get(index)?.parse::<u64>().ok();
    Some(StatFields {
        pid,
        parent: u32::try_from(number(1)?).ok()?,
        own_ticks: number(11)? + number(12)?,
        // Negative only in theory (the kernel reports clock_t); treat that as nothing.
        waited_children_ticks: number(13).unwrap_or(0) + number(14).unwrap_or(0),
    })
}

/// utime + stime, in clock ticks, from the text of `/proc/<pid>/stat`.
fn parse_stat_cpu_ticks(stat: &str) -> Option<u64> {
    parse_stat(0, stat).map(|fields| fields.own_ticks)
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
    fn stat_gives_the_parent_and_the_time_of_waited_children() {
        let stat =
            "4242 (postgres) S 17 4242 4242 0 -1 4194560 500 0 0 0 37 5 100 20 20 0 9 0 1000";
        assert_eq!(
            parse_stat(4242, stat),
            Some(StatFields {
                pid: 4242,
                parent: 17,
                own_ticks: 42,
                waited_children_ticks: 120,
            })
        );
    }

    #[test]
    fn samples_of_several_processes_are_added_up() {
        let sample = |seconds, rss_kib| {
            Some(ProcessSample {
                cpu_time: Duration::from_secs(seconds),
                rss_kib,
            })
        };
        let total = sum_samples([sample(1, 100), sample(2, 50)]);
        assert_eq!(
            total.map(|total| total.cpu_time),
            Some(Duration::from_secs(3))
        );
        assert_eq!(total.map(|total| total.rss_kib), Some(150));
        assert!(sum_samples([sample(1, 100), None]).is_none());
    }

    #[test]
    fn a_process_tree_includes_a_live_child() -> std::io::Result<()> {
        let mut child = std::process::Command::new("sleep").arg("30").spawn()?;
        let tree_has_child = read_all_stats()
            .iter()
            .any(|stat| stat.pid == child.id() && stat.parent == std::process::id());
        let own_tree = process_tree_cpu_time(std::process::id());
        child.kill()?;
        child.wait()?;
        assert!(tree_has_child);
        assert!(own_tree.is_some());
        Ok(())
    }

    #[test]
    fn a_missing_process_has_no_tree() {
        // Above the kernel's largest pid (4194304), so no process can have it.
        assert_eq!(process_tree_cpu_time(u32::MAX), None);
    }

    #[test]
    fn own_process_can_be_sampled() {
        let sample = sample_process(std::process::id());
        assert!(sample.is_some_and(|sample| sample.rss_kib > 0));
    }
}
