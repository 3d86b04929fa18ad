//! An in-memory copy of queue records, which every request reads on its hot path.
//!
//! The SQLite backend is the only writer of its database, so it holds every queue record
//! here and serves `get_queue` and `list_queues` without touching SQLite; the writer
//! thread applies each committed queue change before it answers the caller, so a caller
//! never reads an older record than the one it wrote. The PostgreSQL backend keeps the
//! records it has read here, and drops them when any node changes the queue.

use std::collections::{BTreeMap, HashMap};

use crate::model::{QueueId, QueueRecord};

#[derive(Debug, Default)]
pub(crate) struct QueueCache {
    /// account → name → record; names ordered for listing.
    by_account: HashMap<String, BTreeMap<String, QueueRecord>>,
    /// id → (account, name).
    by_id: HashMap<QueueId, (String, String)>,
}

/// A committed change to a queue record.
#[derive(Debug)]
pub(crate) enum QueueChange {
    Upsert(QueueRecord),
    Remove(QueueId),
}

impl QueueCache {
    /// Forgets every record.
    pub(crate) fn clear(&mut self) {
        self.by_account.clear();
        self.by_id.clear();
    }

    pub(crate) fn apply(&mut self, change: QueueChange) {
        match change {
            QueueChange::Upsert(record) => {
                self.by_id
                    .insert(record.id, (record.account.clone(), record.name.clone()));
                self.by_account
                    .entry(record.account.clone())
                    .or_default()
                    .insert(record.name.clone(), record);
            }
            QueueChange::Remove(id) => {
                if let Some((account, name)) = self.by_id.remove(&id)
                    && let Some(names) = self.by_account.get_mut(&account)
                {
                    names.remove(&name);
                    if names.is_empty() {
                        self.by_account.remove(&account);
                    }
                }
            }
        }
    }

    pub(crate) fn get(&self, account: &str, name: &str) -> Option<QueueRecord> {
        self.by_account.get(account)?.get(name).cloned()
    }

    /// Records with an id above `after`, by id, at most `limit`.
    pub(crate) fn after_id(&self, after: Option<QueueId>, limit: usize) -> Vec<QueueRecord> {
        let mut ids: Vec<QueueId> = self
            .by_id
            .keys()
            .copied()
            .filter(|id| after.is_none_or(|after| *id > after))
            .collect();
        ids.sort_unstable();
        ids.into_iter()
            .take(limit)
            .filter_map(|id| self.get_by_id(id))
            .collect()
    }

    pub(crate) fn get_by_id(&self, id: QueueId) -> Option<QueueRecord> {
        let (account, name) = self.by_id.get(&id)?;
        self.get(account, name)
    }

    /// Queues whose name starts with `prefix` and sorts strictly after `after`, by name
    /// (then account, so that a listing across accounts is stable), at most `limit`.
    pub(crate) fn list(
        &self,
        account: Option<&str>,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Vec<QueueRecord> {
        let in_range = |name: &str| name.starts_with(prefix) && after.is_none_or(|a| name > a);
        let mut found: Vec<&QueueRecord> = match account {
            Some(account) => self
                .by_account
                .get(account)
                .map(|names| {
                    names
                        .range::<str, _>((
                            std::ops::Bound::Included(prefix),
                            std::ops::Bound::Unbounded,
                        ))
                        .map(|(_, record)| record)
                        .take_while(|record| record.name.starts_with(prefix))
                        .filter(|record| in_range(&record.name))
                        .take(limit)
                        .collect()
                })
                .unwrap_or_default(),
            None => self
                .by_account
                .values()
                .flat_map(|names| names.values())
                .filter(|record| in_range(&record.name))
                .collect(),
        };
        found.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.account.cmp(&b.account)));
        found.into_iter().take(limit).cloned().collect()
    }
}
