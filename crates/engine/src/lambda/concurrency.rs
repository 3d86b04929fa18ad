//! How many invocations may run at once on this node: a server-wide limit (AWS's account
//! concurrency limit) shared by every function, and per-function reserved concurrency,
//! which both caps a function and sets its share aside from the others.
//!
//! AWS's rule: a function with reserved concurrency R runs at most R invocations at once
//! and always has R available; every other function shares what is left of the limit
//! once all reservations are taken out. An invocation that finds no room is throttled
//! (`TooManyRequestsException` for a synchronous Invoke; pollers back off and retry).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// AWS's default account concurrency limit, and eddy's default server-wide limit.
pub const DEFAULT_CONCURRENCY_LIMIT: u32 = 1000;

/// A function across accounts: (account, function name).
pub type FunctionKey = (String, String);

/// Why an invocation was refused. The names are AWS's `Reason` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttled {
    /// The function's reserved concurrency is in use (or is 0).
    ReservedFunctionConcurrentInvocationLimitExceeded,
    /// The unreserved share of the server-wide limit is in use.
    ConcurrentInvocationLimitExceeded,
}

impl Throttled {
    pub fn reason(self) -> &'static str {
        match self {
            Throttled::ReservedFunctionConcurrentInvocationLimitExceeded => {
                "ReservedFunctionConcurrentInvocationLimitExceeded"
            }
            Throttled::ConcurrentInvocationLimitExceeded => "ConcurrentInvocationLimitExceeded",
        }
    }
}

/// The gate every invocation passes. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ConcurrencyGate {
    inner: Arc<GateInner>,
}

#[derive(Debug)]
struct GateInner {
    limit: u32,
    state: Mutex<GateState>,
}

#[derive(Debug, Default)]
struct GateState {
    /// Reserved concurrency by function; absent means unreserved.
    reservations: HashMap<FunctionKey, u32>,
    /// Sum of `reservations`.
    reserved_total: u64,
    /// Invocations running, by function.
    running: HashMap<FunctionKey, u32>,
    /// Invocations running of functions without a reservation.
    unreserved_running: u64,
    /// Counts calls of `set_reservation`, so a reload from the store can tell that a
    /// reservation changed while it was reading (see `replace_reservations`).
    changes: u64,
}

impl GateState {
    fn set_reservation(&mut self, function: FunctionKey, reserved: Option<u32>) {
        let previous = match reserved {
            Some(reserved) => self.reservations.insert(function.clone(), reserved),
            None => self.reservations.remove(&function),
        };
        self.reserved_total = self
            .reserved_total
            .saturating_sub(u64::from(previous.unwrap_or(0)))
            .saturating_add(u64::from(reserved.unwrap_or(0)));
        // Running invocations move between the shared pool and the function's own share.
        let running = u64::from(self.running.get(&function).copied().unwrap_or(0));
        match (previous.is_some(), reserved.is_some()) {
            (false, true) => {
                self.unreserved_running = self.unreserved_running.saturating_sub(running)
            }
            (true, false) => self.unreserved_running += running,
            _ => {}
        }
    }
}

impl ConcurrencyGate {
    pub fn new(limit: u32) -> ConcurrencyGate {
        ConcurrencyGate {
            inner: Arc::new(GateInner {
                limit,
                state: Mutex::new(GateState::default()),
            }),
        }
    }

    /// The server-wide limit.
    pub fn limit(&self) -> u32 {
        self.inner.limit
    }

    fn state(&self) -> MutexGuard<'_, GateState> {
        // Never held across an await; every change completes before anything can panic.
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sets (`Some`) or removes (`None`) a function's reserved concurrency. Invocations
    /// already running keep running; the new figure applies to the next ones.
    pub fn set_reservation(&self, function: FunctionKey, reserved: Option<u32>) {
        let mut state = self.state();
        state.changes += 1;
        state.set_reservation(function, reserved);
    }

    /// A token for [`ConcurrencyGate::replace_reservations`]: take it before reading the
    /// reservations to replace the gate's with.
    pub fn changes_seen(&self) -> u64 {
        self.state().changes
    }

    /// Makes the reservations exactly `reservations` (functions absent from it lose
    /// theirs), unless [`ConcurrencyGate::set_reservation`] was called since `seen` was
    /// taken with [`ConcurrencyGate::changes_seen`]: then `reservations` may predate that
    /// change, and nothing is replaced (returns false). How a node takes on what the store
    /// holds (see `concurrency_settings.rs`).
    pub fn replace_reservations(&self, reservations: HashMap<FunctionKey, u32>, seen: u64) -> bool {
        let mut state = self.state();
        if state.changes != seen {
            return false;
        }
        let dropped: Vec<FunctionKey> = state
            .reservations
            .keys()
            .filter(|function| !reservations.contains_key(*function))
            .cloned()
            .collect();
        for function in dropped {
            state.set_reservation(function, None);
        }
        for (function, reserved) in reservations {
            if state.reservations.get(&function) != Some(&reserved) {
                state.set_reservation(function, Some(reserved));
            }
        }
        true
    }

    /// A function's reserved concurrency, if it has one.
    pub fn reservation(&self, function: &FunctionKey) -> Option<u32> {
        self.state().reservations.get(function).copied()
    }

    /// The sum of every function's reservation.
    pub fn reserved_total(&self) -> u64 {
        self.state().reserved_total
    }

    /// How many invocations of `function` run now.
    pub fn running(&self, function: &FunctionKey) -> u32 {
        self.state().running.get(function).copied().unwrap_or(0)
    }

    /// How many more invocations of `function` could start now.
    pub fn available(&self, function: &FunctionKey) -> u32 {
        let state = self.state();
        let running = state.running.get(function).copied().unwrap_or(0);
        match state.reservations.get(function).copied() {
            Some(reserved) => reserved.saturating_sub(running),
            None => {
                let unreserved = u64::from(self.inner.limit).saturating_sub(state.reserved_total);
                u32::try_from(unreserved.saturating_sub(state.unreserved_running))
                    .unwrap_or(u32::MAX)
            }
        }
    }

    /// Takes room for one invocation of `function`, released when the permit is dropped.
    pub fn try_acquire(&self, function: &FunctionKey) -> Result<ConcurrencyPermit, Throttled> {
        let mut state = self.state();
        let running = state.running.get(function).copied().unwrap_or(0);
        match state.reservations.get(function).copied() {
            Some(reserved) => {
                if running >= reserved {
                    return Err(Throttled::ReservedFunctionConcurrentInvocationLimitExceeded);
                }
            }
            None => {
                let unreserved = u64::from(self.inner.limit).saturating_sub(state.reserved_total);
                if state.unreserved_running >= unreserved {
                    return Err(Throttled::ConcurrentInvocationLimitExceeded);
                }
                state.unreserved_running += 1;
            }
        }
        *state.running.entry(function.clone()).or_insert(0) += 1;
        Ok(ConcurrencyPermit {
            gate: self.clone(),
            function: function.clone(),
        })
    }

    fn release(&self, function: &FunctionKey) {
        let mut state = self.state();
        let reserved = state.reservations.contains_key(function);
        if let Some(running) = state.running.get_mut(function) {
            *running = running.saturating_sub(1);
            if *running == 0 {
                state.running.remove(function);
            }
            if !reserved {
                state.unreserved_running = state.unreserved_running.saturating_sub(1);
            }
        }
    }
}

/// Room for one running invocation; dropping it gives the room back.
#[derive(Debug)]
pub struct ConcurrencyPermit {
    gate: ConcurrencyGate,
    function: FunctionKey,
}

impl Drop for ConcurrencyPermit {
    fn drop(&mut self) {
        self.gate.release(&self.function);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> FunctionKey {
        ("000000000000".to_string(), name.to_string())
    }

    #[test]
    fn reserved_function_runs_at_most_its_reservation() {
        let gate = ConcurrencyGate::new(10);
        gate.set_reservation(key("a"), Some(2));
        let first = gate.try_acquire(&key("a"));
        let second = gate.try_acquire(&key("a"));
        assert!(first.is_ok() && second.is_ok());
        assert_eq!(
            gate.try_acquire(&key("a")).err(),
            Some(Throttled::ReservedFunctionConcurrentInvocationLimitExceeded)
        );
        drop(first);
        assert!(gate.try_acquire(&key("a")).is_ok());
    }

    #[test]
    fn available_counts_what_is_left_of_a_share() {
        let gate = ConcurrencyGate::new(4);
        gate.set_reservation(key("a"), Some(2));
        let held = gate.try_acquire(&key("a"));
        assert!(held.is_ok());
        assert_eq!(gate.available(&key("a")), 1);
        assert_eq!(gate.available(&key("b")), 2);
    }

    #[test]
    fn zero_reservation_throttles_every_invocation() {
        let gate = ConcurrencyGate::new(10);
        gate.set_reservation(key("a"), Some(0));
        assert_eq!(
            gate.try_acquire(&key("a")).err(),
            Some(Throttled::ReservedFunctionConcurrentInvocationLimitExceeded)
        );
    }

    #[test]
    fn unreserved_functions_share_what_reservations_leave() {
        let gate = ConcurrencyGate::new(4);
        gate.set_reservation(key("reserved"), Some(3));
        let held = gate.try_acquire(&key("b"));
        assert!(held.is_ok());
        assert_eq!(
            gate.try_acquire(&key("c")).err(),
            Some(Throttled::ConcurrentInvocationLimitExceeded)
        );
        // The reservation is still there for its function.
        let reserved: Vec<_> = (0..3).map(|_| gate.try_acquire(&key("reserved"))).collect();
        assert!(reserved.iter().all(Result::is_ok));
        drop(held);
        assert!(gate.try_acquire(&key("c")).is_ok());
    }

    #[test]
    fn replacing_reservations_drops_the_ones_not_given() {
        let gate = ConcurrencyGate::new(10);
        gate.set_reservation(key("a"), Some(2));
        gate.set_reservation(key("b"), Some(3));
        let seen = gate.changes_seen();
        gate.set_reservation(key("d"), Some(1));
        // A reload read before that change would undo it: refused.
        assert!(!gate.replace_reservations(HashMap::new(), seen));
        assert_eq!(gate.reservation(&key("d")), Some(1));
        let seen = gate.changes_seen();
        assert!(gate.replace_reservations(HashMap::from([(key("b"), 1), (key("c"), 4)]), seen));
        assert_eq!(gate.reservation(&key("d")), None);
        assert_eq!(gate.reservation(&key("a")), None);
        assert_eq!(gate.reservation(&key("b")), Some(1));
        assert_eq!(gate.reservation(&key("c")), Some(4));
        assert_eq!(gate.reserved_total(), 5);
    }

    #[test]
    fn changing_a_reservation_moves_running_invocations_between_pools() {
        let gate = ConcurrencyGate::new(2);
        let running = gate.try_acquire(&key("a"));
        assert!(running.is_ok());
        gate.set_reservation(key("a"), Some(1));
        // `a` now holds its own share: the pool of 1 left is free for others.
        assert!(gate.try_acquire(&key("b")).is_ok());
        gate.set_reservation(key("a"), None);
        drop(running);
        assert_eq!(gate.running(&key("a")), 0);
        let both: Vec<_> = (0..2).map(|_| gate.try_acquire(&key("b"))).collect();
        assert!(both.iter().all(Result::is_ok));
    }
}
