//! How an environment's `MemorySize` is enforced.
//!
//! - With a cgroup v2 parent that has the memory controller and is writable
//!   ([`MemoryLimit::Cgroup`]), each environment gets a child cgroup with `memory.max` =
//!   MemorySize, `memory.swap.max` = 0 and `memory.oom.group` = 1, and its process is
//!   moved there before it runs its first instruction. Going over the limit is what it is
//!   in AWS: the kernel kills the processes, and `memory.events` says it was the OOM killer.
//! - Otherwise ([`MemoryLimit::AddressSpace`]) the process gets `RLIMIT_AS` = MemorySize +
//!   an allowance for its runtime family ([`address_space_allowance_mb`]). Address space
//!   is not resident memory: runtimes map code and reserve ranges they never touch, so the
//!   allowance is what a runtime needs to start, measured, and the limit is looser than
//!   MemorySize by about that much. An allocation beyond it fails inside the process
//!   (Python raises `MemoryError`, Rust's allocator aborts) rather than killing it; the
//!   runner recognises those and reports AWS's out-of-memory error.

use std::io::Write as _;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use super::spec::FunctionSpec;

/// How `MemorySize` is enforced on every environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemoryLimit {
    /// `RLIMIT_AS` = MemorySize + [`address_space_allowance_mb`].
    AddressSpace,
    /// A child of this cgroup v2 directory per environment, with `memory.max` = MemorySize.
    Cgroup(PathBuf),
}

impl MemoryLimit {
    /// [`MemoryLimit::Cgroup`] under `parent` when it is a usable cgroup v2 directory (see
    /// [`check_cgroup_parent`]); otherwise [`MemoryLimit::AddressSpace`], with the reason
    /// the cgroup could not be used.
    pub fn choose(parent: Option<&Path>) -> (MemoryLimit, Option<String>) {
        let Some(parent) = parent else {
            return (MemoryLimit::AddressSpace, None);
        };
        match check_cgroup_parent(parent) {
            Ok(()) => (MemoryLimit::Cgroup(parent.to_path_buf()), None),
            Err(reason) => (MemoryLimit::AddressSpace, Some(reason)),
        }
    }
}

/// The address space a runtime family gets beyond MemorySize under [`MemoryLimit::AddressSpace`].
///
/// Measured on x86_64 Linux (Debian 12): `python3 -m awslambdaric` (4.2.2, CPython 3.11)
/// waits for its first event at 18 MiB of address space and starts under a 24 MiB limit;
/// 112 MiB on top of MemorySize leaves the handler room for MemorySize and more, while a
/// 128 MB function allocating 256 MB fails (18 + 256 > 128 + 112). Node 20 maps 730 MiB
/// before running any code (it fails to start under 512 MiB), and a custom runtime may be
/// anything (Go and Java reserve large ranges up front), so those get 1 GiB: a guard
/// against runaway memory, not a precise limit.
pub fn address_space_allowance_mb(runtime: &str) -> u64 {
    if runtime.starts_with("python") {
        112
    } else {
        1024
    }
}

/// Checks that `parent` is a cgroup v2 directory whose children can get a memory limit:
/// `memory` is among its controllers and enabled for its children (enabling it if needed),
/// and a child can be created, limited and removed.
pub fn check_cgroup_parent(parent: &Path) -> Result<(), String> {
    let controllers = std::fs::read_to_string(parent.join("cgroup.controllers"))
        .map_err(|error| format!("{} is not a cgroup v2 directory: {error}", parent.display()))?;
    if !controllers.split_whitespace().any(|name| name == "memory") {
        return Err(format!(
            "the memory controller is not available in {} (cgroup.controllers: {:?}); \
             delegate it from the parent cgroup",
            parent.display(),
            controllers.trim()
        ));
    }
    let subtree =
        std::fs::read_to_string(parent.join("cgroup.subtree_control")).map_err(|error| {
            format!(
                "cannot read {}/cgroup.subtree_control: {error}",
                parent.display()
            )
        })?;
    if !subtree.split_whitespace().any(|name| name == "memory") {
        write_file(&parent.join("cgroup.subtree_control"), "+memory").map_err(|error| {
            format!(
                "cannot enable the memory controller for the children of {}: {error} \
                 (a cgroup with processes of its own cannot; give eddy an empty one)",
                parent.display()
            )
        })?;
    }
    let probe = parent.join(format!("eddy-probe-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir(&probe)
        .map_err(|error| format!("cannot create a cgroup in {}: {error}", parent.display()))?;
    let limited = write_file(&probe.join("memory.max"), "max");
    let _ = std::fs::remove_dir(&probe);
    limited.map_err(|error| {
        format!(
            "cannot set memory.max in a child of {}: {error}",
            parent.display()
        )
    })
}

fn write_file(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)?
        .write_all(contents.as_bytes())
}

/// The memory limit of one environment, from before its process starts until it is gone.
#[derive(Debug)]
pub(crate) struct EnvironmentMemory {
    /// The environment's own cgroup (cgroup mode).
    cgroup: Option<PathBuf>,
    /// `cgroup.procs` of that cgroup, opened before the fork; the child writes itself in.
    cgroup_procs: Option<OwnedFd>,
    /// `RLIMIT_AS` in bytes (address-space mode).
    address_space_bytes: Option<u64>,
}

impl EnvironmentMemory {
    /// Sets up the limit of an environment of `spec` (a cgroup is created now).
    pub(crate) fn prepare(
        limit: &MemoryLimit,
        spec: &FunctionSpec,
    ) -> Result<EnvironmentMemory, String> {
        let memory_bytes = u64::from(spec.memory_mb) * 1024 * 1024;
        match limit {
            MemoryLimit::AddressSpace => Ok(EnvironmentMemory {
                cgroup: None,
                cgroup_procs: None,
                address_space_bytes: Some(
                    memory_bytes + address_space_allowance_mb(&spec.runtime) * 1024 * 1024,
                ),
            }),
            MemoryLimit::Cgroup(parent) => {
                let cgroup = parent.join(format!("eddy-{}", uuid::Uuid::new_v4().simple()));
                std::fs::create_dir(&cgroup).map_err(|error| {
                    format!("cannot create cgroup {}: {error}", cgroup.display())
                })?;
                let configured = (|| {
                    write_file(&cgroup.join("memory.max"), &memory_bytes.to_string())?;
                    // Absent without swap accounting; there is no swap to limit then.
                    match write_file(&cgroup.join("memory.swap.max"), "0") {
                        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                            return Err(error);
                        }
                        _ => {}
                    }
                    // One process over the limit takes the whole environment with it, as a
                    // Lambda sandbox dies whole.
                    let _ = write_file(&cgroup.join("memory.oom.group"), "1");
                    let procs = std::fs::OpenOptions::new()
                        .write(true)
                        .open(cgroup.join("cgroup.procs"))?;
                    Ok(OwnedFd::from(procs))
                })();
                match configured {
                    Ok(procs) => Ok(EnvironmentMemory {
                        cgroup: Some(cgroup),
                        cgroup_procs: Some(procs),
                        address_space_bytes: None,
                    }),
                    Err(error) => {
                        let _ = std::fs::remove_dir(&cgroup);
                        Err(format!(
                            "cannot set the memory limit in cgroup {}: {error}",
                            cgroup.display()
                        ))
                    }
                }
            }
        }
    }

    /// Makes `command`'s process enter the limit between fork and exec.
    pub(crate) fn apply(&mut self, command: &mut tokio::process::Command) {
        let address_space = self.address_space_bytes;
        let procs = self.cgroup_procs.take();
        if address_space.is_none() && procs.is_none() {
            return;
        }
        let enter = move || -> std::io::Result<()> {
            if let Some(procs) = &procs {
                // "0" names the writing process: the child moves itself into the cgroup.
                rustix::io::write(procs, b"0")?;
            }
            if let Some(bytes) = address_space {
                rustix::process::setrlimit(
                    rustix::process::Resource::As,
                    rustix::process::Rlimit {
                        current: Some(bytes),
                        maximum: Some(bytes),
                    },
                )?;
            }
            Ok(())
        };
        // SAFETY: `pre_exec` runs the closure in the child between fork and exec, where a
        // multi-threaded parent's child may only do async-signal-safe work. The closure
        // allocates nothing, takes no lock and touches no shared state: it makes at most
        // two system calls (write(2) on a descriptor opened before the fork, setrlimit(2))
        // through rustix, which issues them directly, and returns their errors, which
        // makes the spawn fail.
        #[allow(unsafe_code)]
        unsafe {
            command.pre_exec(enter);
        }
    }

    /// Whether the limit is enforced through `RLIMIT_AS` (allocations fail in the process).
    pub(crate) fn by_address_space(&self) -> bool {
        self.address_space_bytes.is_some()
    }

    /// Whether the kernel's OOM killer killed a process of this environment's cgroup.
    pub(crate) fn oom_killed(&self) -> bool {
        let Some(cgroup) = &self.cgroup else {
            return false;
        };
        std::fs::read_to_string(cgroup.join("memory.events"))
            .ok()
            .is_some_and(|events| oom_kills(&events) > 0)
    }

    /// The cgroup's peak memory (`memory.peak`), in MB rounded up.
    pub(crate) fn peak_mb(&self) -> Option<u64> {
        let cgroup = self.cgroup.as_ref()?;
        std::fs::read_to_string(cgroup.join("memory.peak"))
            .ok()?
            .trim()
            .parse::<u64>()
            .ok()
            .map(|bytes| bytes.div_ceil(1024 * 1024))
    }

    /// Removes the cgroup once its processes are gone (retrying briefly while the kernel
    /// finishes tearing them down).
    pub(crate) async fn remove(&self) {
        let Some(cgroup) = &self.cgroup else {
            return;
        };
        // Anything left in the cgroup (a process that left the process group) goes too.
        let _ = write_file(&cgroup.join("cgroup.kill"), "1");
        for _ in 0..20 {
            match std::fs::remove_dir(cgroup) {
                Ok(()) => return,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => return,
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
        tracing::warn!(cgroup = %cgroup.display(), "cannot remove an environment's cgroup");
    }
}

/// The `oom_kill` count of a `memory.events` file.
fn oom_kills(events: &str) -> u64 {
    events
        .lines()
        .find_map(|line| line.strip_prefix("oom_kill "))
        .and_then(|count| count.trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn oom_kill_count_is_read_from_memory_events() {
        let events = "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 1\n";
        assert_eq!(oom_kills(events), 1);
        assert_eq!(oom_kills("low 0\n"), 0);
    }

    #[test]
    fn a_directory_without_the_memory_controller_falls_back_to_address_space() {
        let directory = tempfile::tempdir().unwrap();
        std::fs::write(directory.path().join("cgroup.controllers"), "cpu pids\n").unwrap();
        let (limit, reason) = MemoryLimit::choose(Some(directory.path()));
        assert_eq!(limit, MemoryLimit::AddressSpace);
        assert!(reason.unwrap().contains("memory controller"));
        let (limit, reason) = MemoryLimit::choose(None);
        assert_eq!(limit, MemoryLimit::AddressSpace);
        assert!(reason.is_none());
    }

    #[test]
    fn a_cgroup_that_cannot_be_limited_is_removed_and_refused() {
        // A plain directory has none of the interface files the kernel creates.
        let parent = tempfile::tempdir().unwrap();
        let spec = FunctionSpec::new("f", "python3.12", "app.handler", "/code");
        let limit = MemoryLimit::Cgroup(parent.path().to_path_buf());
        let error = EnvironmentMemory::prepare(&limit, &spec).unwrap_err();
        assert!(error.contains("cannot set the memory limit"), "{error}");
        assert_eq!(std::fs::read_dir(parent.path()).unwrap().count(), 0);
    }

    #[test]
    fn address_space_limit_is_memory_size_plus_the_runtime_allowance() {
        let mut spec = FunctionSpec::new("f", "python3.12", "app.handler", "/code");
        spec.memory_mb = 128;
        let memory = EnvironmentMemory::prepare(&MemoryLimit::AddressSpace, &spec).unwrap();
        assert_eq!(memory.address_space_bytes, Some((128 + 112) << 20));
        assert!(memory.by_address_space());
        spec.runtime = "provided.al2023".to_string();
        let memory = EnvironmentMemory::prepare(&MemoryLimit::AddressSpace, &spec).unwrap();
        assert_eq!(memory.address_space_bytes, Some((128 + 1024) << 20));
    }
}
