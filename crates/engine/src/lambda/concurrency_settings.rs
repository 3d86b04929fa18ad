//! Reserved concurrency as clients set it: PutFunctionConcurrency, GetFunctionConcurrency,
//! DeleteFunctionConcurrency and GetAccountSettings, as methods on [`crate::Engine`], and
//! the worker that keeps this node's [`super::ConcurrencyGate`] in step with the store.
//!
//! A function's reservation is a store resource of kind `concurrency` under the function's
//! name. The gate enforces it: Put and Delete change this node's gate at once, and the
//! `lambda-reservations` worker reloads every reservation at start and then every few
//! seconds, so the nodes sharing a PostgreSQL store converge on what any of them was told.
//!
//! AWS keeps at least 100 of an account's default 1,000 concurrent executions unreserved,
//! a tenth; eddy keeps a tenth of its own limit (`--concurrency-limit`) unreserved, rounded
//! down, so the minimum is 100 at the default limit and 0 below a limit of 10. Like the
//! gate, the sum is server-wide (every account's reservations share the one limit).

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use store::{ResourceCondition, ResourceRecord};
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

use super::concurrency::{DEFAULT_CONCURRENCY_LIMIT, FunctionKey};
use super::functions::{
    FunctionConfiguration, MAX_UNZIPPED_BYTES, MAX_ZIPPED_BYTES, constraint, internal,
    new_revision_id, not_found, parse_function_identifier,
};
use super::versions::VERSION_KIND;
use crate::{Engine, Error, Result};

/// Store kind of reserved concurrency.
pub(crate) const CONCURRENCY_KIND: &str = "concurrency";
/// How often each node reloads every reservation from the store.
const RESERVATION_SYNC_PERIOD: Duration = Duration::from_secs(3);
/// Lambda's quota on all code stored in an account (75 GB).
const TOTAL_CODE_SIZE_LIMIT: u64 = 80_530_636_800;
/// Functions read per page while counting them.
const COUNT_PAGE: usize = 1000;

/// The stored document (also PutFunctionConcurrency's answer).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
struct Reservation {
    reserved_concurrent_executions: u32,
}

/// GetAccountSettings' `AccountLimit`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct AccountLimit {
    pub total_code_size: u64,
    pub code_size_unzipped: u64,
    pub code_size_zipped: u64,
    pub concurrent_executions: u32,
    pub unreserved_concurrent_executions: u64,
}

/// GetAccountSettings' `AccountUsage`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct AccountUsage {
    pub total_code_size: u64,
    pub function_count: u64,
}

/// GetAccountSettings' answer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct AccountSettings {
    pub account_limit: AccountLimit,
    pub account_usage: AccountUsage,
}

/// How much of `limit` must stay unreserved: a tenth, as AWS keeps 100 of 1,000.
pub fn minimum_unreserved_concurrency(limit: u32) -> u32 {
    limit / 10
}

/// Starts the `lambda-reservations` worker: loads every reservation into the gate now, then
/// again every few seconds, until shutdown. It runs on every node (each has its own gate),
/// so it takes no lease.
pub(crate) fn spawn_reservation_sync(tasks: &mut JoinSet<()>, engine: &Engine) {
    let engine = engine.clone();
    tasks.spawn(async move {
        let shutdown = engine.shutdown_token().clone();
        let mut interval = tokio::time::interval(RESERVATION_SYNC_PERIOD);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        tracing::debug!(worker = "lambda-reservations", "worker started");
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = interval.tick() => {}
            }
            let result = tokio::select! {
                _ = shutdown.cancelled() => break,
                result = engine.load_reservations() => result,
            };
            if let Err(error) = result {
                tracing::warn!(worker = "lambda-reservations", %error, "worker pass failed");
            }
        }
        tracing::debug!(worker = "lambda-reservations", "worker stopped");
    });
}

impl Engine {
    /// The server-wide concurrency limit the gate enforces.
    fn concurrency_limit(&self) -> u32 {
        self.inner
            .functions
            .get()
            .map_or(DEFAULT_CONCURRENCY_LIMIT, |platform| {
                platform.concurrency.limit()
            })
    }

    /// Every stored reservation, by function.
    async fn stored_reservations(&self) -> Result<HashMap<FunctionKey, u32>> {
        let mut reservations = HashMap::new();
        for resource in self.store().resources_of_kind(CONCURRENCY_KIND).await? {
            match serde_json::from_str::<Reservation>(&resource.document) {
                Ok(reservation) => {
                    reservations.insert(
                        (resource.account, resource.key),
                        reservation.reserved_concurrent_executions,
                    );
                }
                Err(error) => {
                    tracing::warn!(%error, function = %resource.key, "unreadable reservation")
                }
            }
        }
        Ok(reservations)
    }

    /// Makes this node's gate hold exactly the stored reservations (one pass of the
    /// `lambda-reservations` worker).
    pub async fn load_reservations(&self) -> Result<()> {
        let Some(platform) = self.inner.functions.get() else {
            return Ok(());
        };
        // A Put or Delete on this node while the store is read may not be in what is
        // read; the gate then keeps its own figures until the next pass.
        let seen = platform.concurrency.changes_seen();
        let reservations = self.stored_reservations().await?;
        platform
            .concurrency
            .replace_reservations(reservations, seen);
        Ok(())
    }

    /// The reserved concurrency of function `name`, if set.
    pub(crate) async fn stored_reservation(
        &self,
        account: &str,
        name: &str,
    ) -> Result<Option<u32>> {
        let Some(resource) = self
            .store()
            .get_resource(account, CONCURRENCY_KIND, name)
            .await?
        else {
            return Ok(None);
        };
        let reservation: Reservation =
            serde_json::from_str(&resource.document).map_err(internal)?;
        Ok(Some(reservation.reserved_concurrent_executions))
    }

    /// The function an unqualified concurrency call names: (account, name).
    async fn concurrency_function(
        &self,
        account: &str,
        identifier: &str,
    ) -> Result<(String, String)> {
        let (account, name, qualifier) = parse_function_identifier(identifier, account, None)?;
        if qualifier.is_some() {
            return Err(Error::LambdaInvalidParameterValue(
                "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN."
                    .to_string(),
            ));
        }
        if self.store().get_function(&account, &name).await?.is_none() {
            return Err(not_found(&self.function_arn(&account, &name)));
        }
        Ok((account, name))
    }

    /// PutFunctionConcurrency: reserves `reserved` concurrent executions for the function
    /// (0 stops it from running at all), if that leaves the minimum unreserved.
    pub async fn put_function_concurrency(
        &self,
        account: &str,
        identifier: &str,
        reserved: Option<i64>,
    ) -> Result<u32> {
        let Some(reserved) = reserved else {
            return Err(Error::LambdaValidation(
                "1 validation error detected: Value null at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must not be null"
                    .to_string(),
            ));
        };
        if reserved < 0 {
            return Err(constraint(
                reserved,
                "reservedConcurrentExecutions",
                "Member must have value greater than or equal to 0",
            ));
        }
        let (account, name) = self.concurrency_function(account, identifier).await?;
        let limit = self.concurrency_limit();
        let minimum = minimum_unreserved_concurrency(limit);
        let key: FunctionKey = (account.clone(), name.clone());
        let others: u64 = self
            .stored_reservations()
            .await?
            .iter()
            .filter(|(function, _)| **function != key)
            .map(|(_, reserved)| u64::from(*reserved))
            .sum();
        let fits = u64::try_from(reserved)
            .ok()
            .and_then(|reserved| reserved.checked_add(others))
            .is_some_and(|total| total + u64::from(minimum) <= u64::from(limit));
        if !fits {
            return Err(Error::LambdaInvalidParameterValue(format!(
                "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [{minimum}]."
            )));
        }
        let reserved = u32::try_from(reserved).map_err(internal)?;
        let resource = ResourceRecord {
            account: account.clone(),
            kind: CONCURRENCY_KIND.to_string(),
            key: name.clone(),
            document: serde_json::to_string(&Reservation {
                reserved_concurrent_executions: reserved,
            })
            .map_err(internal)?,
            revision_id: new_revision_id(),
            modified_at: self.now(),
        };
        self.store()
            .put_resource(resource, None, ResourceCondition::Any)
            .await?;
        if let Some(platform) = self.inner.functions.get() {
            platform.concurrency.set_reservation(key, Some(reserved));
        }
        Ok(reserved)
    }

    /// GetFunctionConcurrency: `None` when the function has no reservation.
    pub async fn get_function_concurrency(
        &self,
        account: &str,
        identifier: &str,
    ) -> Result<Option<u32>> {
        let (account, name) = self.concurrency_function(account, identifier).await?;
        self.stored_reservation(&account, &name).await
    }

    /// DeleteFunctionConcurrency: the function shares the unreserved pool again.
    pub async fn delete_function_concurrency(&self, account: &str, identifier: &str) -> Result<()> {
        let (account, name) = self.concurrency_function(account, identifier).await?;
        self.store()
            .delete_resource(&account, CONCURRENCY_KIND, &name, ResourceCondition::Any)
            .await?;
        if let Some(platform) = self.inner.functions.get() {
            platform.concurrency.set_reservation((account, name), None);
        }
        Ok(())
    }

    /// GetAccountSettings: eddy's limits (the concurrency limit is the server's) and what
    /// `account` uses.
    pub async fn account_settings(&self, account: &str) -> Result<AccountSettings> {
        let mut function_count = 0u64;
        let mut total_code_size = 0u64;
        let mut after: Option<String> = None;
        loop {
            let page = self
                .store()
                .list_functions(account, after.as_deref(), COUNT_PAGE)
                .await?;
            for record in &page {
                function_count += 1;
                if let Ok(configuration) =
                    serde_json::from_str::<FunctionConfiguration>(&record.configuration)
                {
                    total_code_size += configuration.code_size;
                }
            }
            match page.last() {
                Some(last) if page.len() == COUNT_PAGE => after = Some(last.name.clone()),
                _ => break,
            }
        }
        let versions = self
            .store()
            .list_resources(account, VERSION_KIND, "", None, usize::MAX)
            .await?;
        for version in versions {
            if let Ok(configuration) =
                serde_json::from_str::<FunctionConfiguration>(&version.document)
            {
                total_code_size += configuration.code_size;
            }
        }
        let limit = self.concurrency_limit();
        let reserved: u64 = self
            .stored_reservations()
            .await?
            .values()
            .map(|reserved| u64::from(*reserved))
            .sum();
        Ok(AccountSettings {
            account_limit: AccountLimit {
                total_code_size: TOTAL_CODE_SIZE_LIMIT,
                code_size_unzipped: MAX_UNZIPPED_BYTES,
                code_size_zipped: MAX_ZIPPED_BYTES as u64,
                concurrent_executions: limit,
                unreserved_concurrent_executions: u64::from(limit).saturating_sub(reserved),
            },
            account_usage: AccountUsage {
                total_code_size,
                function_count,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenth_of_the_limit_stays_unreserved() {
        assert_eq!(minimum_unreserved_concurrency(1000), 100);
        assert_eq!(minimum_unreserved_concurrency(64), 6);
        assert_eq!(minimum_unreserved_concurrency(5), 0);
    }
}
