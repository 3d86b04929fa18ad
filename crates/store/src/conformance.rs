//! The behaviour every backend must show, as one suite run against each backend.
//!
//! Each test is a `pub async fn` over a [`Backing`]: something that opens a [`Store`] on
//! fresh storage and can open it again on the same data (to test what survives a restart).
//! [`crate::conformance_tests!`] turns the whole list into `#[tokio::test]`s for one
//! backend, so a new backend runs exactly the same suite:
//!
//! ```text
//! store::conformance_tests!(MyBacking::fresh());
//! ```
//!
//! Failures panic through `assert!`, like any test.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::future::Future;
use std::pin::Pin;

use crate::model::*;
use crate::{Result, Store};

/// Fresh storage for one test. `open` may be called several times; every call opens the
/// same data, and the test drops the previous [`Store`] before opening again.
pub trait Backing: Send + Sync {
    fn open(&self) -> Pin<Box<dyn Future<Output = Result<Store>> + Send + '_>>;

    /// Makes the database itself refuse, from now on, to insert any message whose body is
    /// `body` (a trigger that raises an error), so that tests can see a write fail halfway
    /// through an operation. Called after `open`, while the store is open.
    fn reject_message_body<'a>(
        &'a self,
        body: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;
}

/// Generates one `#[tokio::test]` per conformance test. `$backing` is an expression that
/// makes fresh storage (a [`Backing`]); it is evaluated once per test.
#[macro_export]
macro_rules! conformance_tests {
    ($backing:expr) => {
        $crate::conformance_tests!(@each $backing;
            send_then_claim_returns_messages_in_order,
            claim_hides_messages_until_visible_until,
            claim_with_zero_visibility_returns_each_message_once,
            delete_with_stale_receipt_keeps_the_message,
            delete_checks_the_message_belongs_to_the_queue,
            fifo_group_is_held_while_a_message_is_in_flight,
            fifo_claim_fills_the_batch_from_the_oldest_group_first,
            fifo_duplicate_returns_the_original_message_id,
            deduplication_scope_separates_equal_ids,
            deduplication_survives_reopen,
            expired_deduplication_is_forgotten,
            redrive_moves_message_after_max_receive_count,
            claim_deletes_messages_past_retention,
            expire_messages_deletes_messages_past_retention,
            purge_deletes_messages_sent_until_now,
            create_existing_queue_returns_the_existing_record,
            create_after_delete_within_window_is_deleted_recently,
            delete_queue_removes_its_messages,
            send_to_a_deleted_queue_stores_nothing,
            update_queue_replaces_only_given_fields,
            list_queues_pages_by_name_with_prefix,
            move_messages_returns_them_to_their_original_sources,
            move_messages_to_a_queue_moves_the_oldest_first,
            receive_attempt_returns_the_same_messages,
            change_visibility_reports_each_outcome,
            message_counts_split_visible_in_flight_and_delayed,
            move_tasks_are_listed_newest_first,
            move_task_update_applies_only_to_the_expected_status,
            lease_is_held_by_one_holder_until_it_expires,
            lookups_by_names_with_nul_find_nothing,
            start_move_task_allows_one_active_task_per_source,
            queues_after_visits_every_queue_by_id,
            concurrent_sends_are_all_committed_with_distinct_sequences,
            fan_out_lands_in_every_queue,
            fan_out_guard_duplicate_writes_none_of_the_sends,
            fan_out_drops_sends_to_a_deleted_queue,
            fan_outs_of_one_call_commit_in_order,
            concurrent_fan_outs_and_sends_all_land,
            fan_out_with_a_failing_insert_writes_nothing,
            data_survives_close_and_reopen,
            roles_are_unique_regardless_of_case_and_survive_reopen,
            list_roles_pages_by_name_with_path_prefix,
            delete_role_is_refused_while_policies_remain,
            role_changes_report_missing_roles_and_policies,
            role_tags_merge_and_untag,
            functions_are_unique_per_account_and_keep_their_code,
            list_functions_pages_by_name,
            update_function_replaces_given_parts_and_checks_revision,
            delete_function_removes_it_and_its_code,
            resource_writes_follow_their_condition,
            resources_list_by_prefix_and_page_by_key,
            resource_blob_survives_a_document_update_and_reopen,
            resource_creates_race_and_one_wins,
        );
    };
    (@each $backing:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() -> $crate::Result<()> {
                let backing = $backing;
                $crate::conformance::$name(&backing).await
            }
        )*
    };
}

const ACCOUNT: &str = "000000000000";
/// An arbitrary "now" for the tests; every instant is relative to it.
const T: Millis = 1_700_000_000_000;
const FIVE_MINUTES: Millis = 300_000;

async fn create(store: &Store, name: &str, fifo: bool) -> Result<QueueRecord> {
    create_in(store, ACCOUNT, name, fifo).await
}

async fn create_in(store: &Store, account: &str, name: &str, fifo: bool) -> Result<QueueRecord> {
    let outcome = store
        .create_queue(NewQueue {
            account: account.to_string(),
            name: name.to_string(),
            fifo,
            attributes: BTreeMap::from([("VisibilityTimeout".to_string(), "30".to_string())]),
            tags: BTreeMap::new(),
            now: T,
            deleted_since: T - 60_000,
        })
        .await?;
    match outcome {
        CreateQueueOutcome::Created(record) => Ok(record),
        other => panic!("creating {name} gave {other:?}"),
    }
}

fn message(id: &str, sent_at: Millis) -> NewMessage {
    NewMessage {
        message_id: id.to_string(),
        body: format!("body of {id}"),
        meta: format!("{{\"id\":\"{id}\"}}"),
        sent_at,
        visible_at: sent_at,
        group_id: None,
        deduplication: None,
    }
}

fn fifo_message(id: &str, group: &str, sent_at: Millis) -> NewMessage {
    NewMessage {
        group_id: Some(group.to_string()),
        deduplication: Some(Deduplication {
            scope: String::new(),
            id: format!("dedup-{id}"),
            expires_at: sent_at + FIVE_MINUTES,
        }),
        ..message(id, sent_at)
    }
}

fn claim(
    queue: &QueueRecord,
    max_messages: usize,
    now: Millis,
    visible_until: Millis,
) -> ClaimRequest {
    ClaimRequest {
        queue: queue.id,
        max_messages,
        now,
        visible_until,
        fifo: queue.fifo,
        retained_since: 0,
        redrive: None,
        attempt: None,
    }
}

fn ids(outcome: &ClaimOutcome) -> Vec<&str> {
    outcome
        .messages
        .iter()
        .map(|m| m.message_id.as_str())
        .collect()
}

pub async fn send_then_claim_returns_messages_in_order(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let queue = create(&store, "orders", false).await?;
    let sent = store
        .send_messages(
            queue.id,
            vec![message("m1", T), message("m2", T), message("m3", T)],
        )
        .await?;
    store
        .send_messages(queue.id, vec![message("m4", T + 1)])
        .await?;
    store
        .send_messages(queue.id, vec![message("m5", T + 2)])
        .await?;
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|s| !s.duplicate));
    assert!(sent[0].sequence < sent[1].sequence && sent[1].sequence < sent[2].sequence);

    let claimed = store
        .claim_messages(claim(&queue, 10, T + 10, T + 40))
        .await?;
    assert_eq!(ids(&claimed), ["m1", "m2", "m3", "m4", "m5"]);
    let first = &claimed.messages[0];
    assert_eq!(first.body, "body of m1");
    assert_eq!(first.meta, "{\"id\":\"m1\"}");
    assert_eq!(first.sent_at, T);
    assert_eq!(first.receive_count, 1);
    assert_eq!(first.first_received_at, T + 10);
    assert_eq!(first.receipt.sequence, sent[0].sequence);
    assert_eq!(first.group_id, None);
    assert_eq!(first.dead_letter_source_arn, None);
    assert_eq!(claimed.dead_lettered, 0);
    Ok(())
}

pub async fn claim_hides_messages_until_visible_until(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let queue = create(&store, "hide", false).await?;
    store
        .send_messages(queue.id, vec![message("m1", T)])
        .await?;

    let first = store.claim_messages(claim(&queue, 1, T, T + 30)).await?;
    assert_eq!(ids(&first), ["m1"]);
    let hidden = store
        .claim_messages(claim(&queue, 1, T + 29, T + 59))
        .await?;
    assert!(hidden.messages.is_empty());
    let again = store
        .claim_messages(claim(&queue, 1, T + 30, T + 60))
        .await?;
    assert_eq!(ids(&again), ["m1"]);
    assert_eq!(again.messages[0].receive_count, 2);
    assert_eq!(again.messages[0].first_received_at, T);
    assert_ne!(again.messages[0].receipt, first.messages[0].receipt);
    Ok(())
}

pub async fn claim_with_zero_visibility_returns_each_message_once(
    backing: &dyn Backing,
) -> Result<()> {
    let store = backing.open().await?;
    let queue = create(&store, "zero", false).await?;
    store
        .send_messages(queue.id, vec![message("m1", T), message("m2", T)])
        .await?;
    let claimed = store.claim_messages(claim(&queue, 10, T, T)).await?;
    assert_eq!(ids(&claimed), ["m1", "m2"]);
    let again = store.claim_messages(claim(&queue, 10, T, T)).await?;
    assert_eq!(again.messages.len(), 2);
    Ok(())
}

pub async fn delete_with_stale_receipt_keeps_the_message(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let queue = create(&store, "stale", false).await?;
    store
        .send_messages(queue.id, vec![message("m1", T)])
        .await?;
    let first = store
        .claim_messages(claim(&queue, 1, T, T + 30))
        .await?
        .messages[0]
        .receipt;
    let second = store
        .claim_messages(claim(&queue, 1, T + 30, T + 60))
        .await?
        .messages[0]
        .receipt;

    assert_eq!(
        store.delete_messages(queue.id, vec![first]).await?,
        [DeleteOutcome::Stale]
    );
    let counts = store.message_counts(queue.id, T + 31).await?;
    assert_eq!(counts.in_flight, 1);
    assert_eq!(
        store
            .delete_messages(queue.id, vec![second, second])
            .await?,
        [DeleteOutcome::Deleted, DeleteOutcome::AlreadyGone]
    );
    assert_eq!(
        store.message_counts(queue.id, T + 61).await?,
        MessageCounts::default()
    );
    Ok(())
}

pub async fn delete_checks_the_message_belongs_to_the_queue(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let queue = create(&store, "mine", false).await?;
    let other = create(&store, "other", false).await?;
    store
        .send_messages(queue.id, vec![message("m1", T)])
        .await?;
    let receipt = store
        .claim_messages(claim(&queue, 1, T, T + 30))
        .await?
        .messages[0]
        .receipt;

    assert_eq!(
        store.delete_messages(other.id, vec![receipt]).await?,
        [DeleteOutcome::AlreadyGone]
    );
    // A handle for a message that was never received cannot delete it.
    store
        .send_messages(queue.id, vec![message("m2", T)])
        .await?;
    let never_received = Receipt {
        sequence: receipt.sequence + 1,
        nonce: 0,
    };
    assert_eq!(
        store
            .delete_messages(queue.id, vec![never_received])
            .await?,
        [DeleteOutcome::Stale]
    );
    assert_eq!(
        store.delete_messages(queue.id, vec![receipt]).await?,
        [DeleteOutcome::Deleted]
    );
    Ok(())
}

pub async fn fifo_group_is_held_while_a_message_is_in_flight(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let queue = create(&store, "held.fifo", true).await?;
    store
        .send_messages(
            queue.id,
            vec![
                fifo_message("a1", "a", T),
                fifo_message("a2", "a", T),
                fifo_message("b1", "b", T),
            ],
        )
        .await?;

    let first = store.claim_messages(claim(&queue, 1, T, T + 30)).await?;
    assert_eq!(ids(&first), ["a1"]);
    assert_eq!(first.messages[0].group_id.as_deref(), Some("a"));
    assert_eq!(
        first.messages[0].deduplication_id.as_deref(),
        Some("dedup-a1")
    );
    let second = store.claim_messages(claim(&queue, 10, T, T + 30)).await?;
    assert_eq!(
        ids(&second),
        ["b1"],
        "group a is held while a1 is in flight"
    );
    let none = store
        .claim_messages(claim(&queue, 10, T + 1, T + 30))
        .await?;
    assert!(none.messages.is_empty());

    store
        .delete_messages(queue.id, vec![first.messages[0].receipt])
        .await?;
    let third = store
        .claim_messages(claim(&queue, 10, T + 2, T + 30))
        .await?;
    assert_eq!(ids(&third), ["a2"]);
    Ok(())
}

pub async fn fifo_claim_fills_the_batch_from_the_oldest_group_first(
    backing: &dyn Backing,
) -> Result<()> {
    let store = backing.open().await?;
    let queue = create(&store, "groups.fifo", true).await?;
    store
        .send_messages(
            queue.id,
            vec![
                fifo_message("z1", "z", T),
                fifo_message("a1", "a", T),
                fifo_message("z2", "z", T),
                fifo_message("a2", "a", T),
                fifo_message("z3", "z", T),
            ],
        )
        .await?;
    let claimed = store.claim_messages(claim(&queue, 4, T, T + 30)).await?;
    assert_eq!(ids(&claimed), ["z1", "z2", "z3", "a1"]);
    Ok(())
}

pub async fn fifo_duplicate_returns_the_original_message_id(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let queue = create(&store, "dedup.fifo", true).await?;
    let original = store
        .send_messages(queue.id, vec![fifo_message("m1", "g", T)])
        .await?;
    let mut again = fifo_message("m2", "g", T + 1);
    again.deduplication = original_dedup(T);
    let duplicate = store.send_messages(queue.id, vec![again]).await?;
    assert_eq!(
        duplicate,
        [SendOutcome {
            message_id: "m1".to_string(),
            sequence: original[0].sequence,
            duplicate: true
        }]
    );
    let claimed = store
        .claim_messages(claim(&queue, 10, T + 2, T + 30))
        .await?;
    assert_eq!(ids(&claimed), ["m1"]);

    // After the window the same id is a new message.
    let mut later = fifo_message("m3", "g", T + FIVE_MINUTES);
    later.deduplication = original_dedup(T + FIVE_MINUTES);
    let stored = store.send_messages(queue.id, vec![later]).await?;
    assert!(!stored[0].duplicate);
    assert_eq!(stored[0].message_id, "m3");
    Ok(())
}

fn original_dedup(sent_at: Millis) -> Option<Deduplication> {
    Some(Deduplication {
        scope: String::new(),
        id: "dedup-m1".to_string(),
        expires_at: sent_at + FIVE_MINUTES,
    })
}

pub async fn deduplication_scope_separates_equal_ids(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let queue = create(&store, "scope.fifo", true).await?;
    let in_group = |id: &str, group: &str| NewMessage {
        deduplication: Some(Deduplication {
            scope: group.to_string(),
            id: "same".to_string(),
            expires_at: T + FIVE_MINUTES,
        }),
        ..fifo_message(id, group, T)
    };
    let sent = store
        .send_messages(
            queue.id,
            vec![
                in_group("m1", "a"),
                in_group("m2", "b"),
                in_group("m3", "a"),
            ],
        )
        .await?;
    let duplicates: Vec<bool> = sent.iter().map(|s| s.duplicate).collect();
    assert_eq!(duplicates, [false, false, true]);
    assert_eq!(sent[2].message_id, "m1");
    Ok(())
}

pub async fn deduplication_survives_reopen(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let queue = create(&store, "reopen.fifo", true).await?;
    store
        .send_messages(queue.id, vec![fifo_message("m1", "g", T)])
        .await?;
    drop(store);

    let store = backing.open().await?;
    let mut again = fifo_message("m2", "g", T + 10);
    again.deduplication = original_dedup(T + 10);
    let sent = store.send_messages(queue.id, vec![again]).await?;
    assert!(sent[0].duplicate);
    assert_eq!(sent[0].message_id, "m1");
    Ok(())
}

pub async fn expired_deduplication_is_forgotten(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let queue = create(&store, "forget.fifo", true).await?;
    store
        .send_messages(queue.id, vec![fifo_message("m1", "g", T)])
        .await?;
    assert_eq!(store.expire_deduplication(T + 1).await?, 0);
    assert_eq!(store.expire_deduplication(T + FIVE_MINUTES).await?, 1);
    Ok(())
}

pub async fn redrive_moves_message_after_max_receive_count(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let source = create(&store, "source", false).await?;
    let dead = create(&store, "dead", false).await?;
    let sent = store
        .send_messages(source.id, vec![message("m1", T)])
        .await?;
    let redrive = Some(Redrive {
        dead_letter_queue: dead.id,
        max_receive_count: 2,
        source_arn: "arn:aws:sqs:us-east-1:000000000000:source".to_string(),
    });
    let with_redrive = |now: Millis| ClaimRequest {
        redrive: redrive.clone(),
        ..claim(&source, 10, now, now + 1)
    };

    assert_eq!(
        store.claim_messages(with_redrive(T)).await?.messages[0].receive_count,
        1
    );
    assert_eq!(
        store.claim_messages(with_redrive(T + 1)).await?.messages[0].receive_count,
        2
    );
    let third = store.claim_messages(with_redrive(T + 2)).await?;
    assert!(third.messages.is_empty());
    assert_eq!(third.dead_lettered, 1);
    assert_eq!(
        store.message_counts(source.id, T + 3).await?,
        MessageCounts::default()
    );

    let moved = store
        .claim_messages(claim(&dead, 10, T + 3, T + 30))
        .await?;
    assert_eq!(ids(&moved), ["m1"]);
    let message = &moved.messages[0];
    assert_eq!(message.body, "body of m1");
    assert_eq!(message.sent_at, T);
    assert_eq!(message.receive_count, 1);
    assert_eq!(message.first_received_at, T + 3);
    assert_ne!(message.receipt.sequence, sent[0].sequence);
    assert_eq!(
        message.dead_letter_source_arn.as_deref(),
        Some("arn:aws:sqs:us-east-1:000000000000:source")
    );
    Ok(())
}

pub async fn claim_deletes_messages_past_retention(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let queue = create(&store, "retention", false).await?;
    store
        .send_messages(queue.id, vec![message("old", T), message("new", T + 100)])
        .await?;
    let request = ClaimRequest {
        retained_since: T + 50,
        ..claim(&queue, 10, T + 200, T + 230)
    };
    let claimed = store.claim_messages(request).await?;
    assert_eq!(ids(&claimed), ["new"]);
    let counts = store.message_counts(queue.id, T + 201).await?;
    assert_eq!(
        counts,
        MessageCounts {
            visible: 0,
            in_flight: 1,
            delayed: 0
        }
    );
    Ok(())
}

pub async fn expire_messages_deletes_messages_past_retention(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let queue = create(&store, "expire", false).await?;
    store
        .send_messages(queue.id, vec![message("old", T), message("new", T + 100)])
        .await?;
    assert_eq!(store.expire_messages(queue.id, T + 50).await?, 1);
    assert_eq!(store.count_messages_before(queue.id, T + 1000).await?, 1);
    Ok(())
}

pub async fn purge_deletes_messages_sent_until_now(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let queue = create(&store, "purge", false).await?;
    store
        .send_messages(
            queue.id,
            vec![
                message("m1", T),
                message("m2", T + 5),
                message("later", T + 10),
            ],
        )
        .await?;
    store
        .claim_messages(claim(&queue, 1, T + 5, T + 60))
        .await?;
    assert_eq!(store.purge_queue(queue.id, T + 5).await?, 2);
    let claimed = store
        .claim_messages(claim(&queue, 10, T + 20, T + 60))
        .await?;
    assert_eq!(ids(&claimed), ["later"]);
    Ok(())
}

pub async fn create_existing_queue_returns_the_existing_record(
    backing: &dyn Backing,
) -> Result<()> {
    let store = backing.open().await?;
    let record = create(&store, "twice", false).await?;
    let outcome = store
        .create_queue(NewQueue {
            account: ACCOUNT.to_string(),
            name: "twice".to_string(),
            fifo: false,
            attributes: BTreeMap::new(),
            tags: BTreeMap::new(),
            now: T + 1,
            deleted_since: T - 60_000,
        })
        .await?;
    assert_eq!(outcome, CreateQueueOutcome::Exists(record.clone()));
    assert_eq!(
        store.get_queue(ACCOUNT, "twice").await?,
        Some(record.clone())
    );
    assert_eq!(
        store.get_queue_by_id(record.id).await?,
        Some(record.clone())
    );
    assert_eq!(store.get_queue("111111111111", "twice").await?, None);
    assert_eq!(
        record
            .attributes
            .get("VisibilityTimeout")
            .map(String::as_str),
        Some("30")
    );
    assert_eq!(
        (record.created_at, record.last_modified_at, record.purged_at),
        (T, T, None)
    );
    Ok(())
}

pub async fn create_after_delete_within_window_is_deleted_recently(
    backing: &dyn Backing,
) -> Result<()> {
    let store = backing.open().await?;
    let old = create(&store, "again", false).await?;
    assert!(store.delete_queue(old.id, T + 100).await?);
    assert!(!store.delete_queue(old.id, T + 101).await?);
    assert_eq!(store.get_queue(ACCOUNT, "again").await?, None);
    assert_eq!(store.get_queue_by_id(old.id).await?, None);

    let new_queue = |deleted_since: Millis| NewQueue {
        account: ACCOUNT.to_string(),
        name: "again".to_string(),
        fifo: false,
        attributes: BTreeMap::new(),
        tags: BTreeMap::new(),
        now: T + 200,
        deleted_since,
    };
    assert_eq!(
        store.create_queue(new_queue(T + 50)).await?,
        CreateQueueOutcome::DeletedRecently(T + 100)
    );
    match store.create_queue(new_queue(T + 101)).await? {
        CreateQueueOutcome::Created(record) => {
            assert_ne!(record.id, old.id, "queue ids are never reused")
        }
        other => panic!("expected Created, got {other:?}"),
    }
    Ok(())
}

pub async fn delete_queue_removes_its_messages(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let queue = create(&store, "doomed", false).await?;
    store
        .send_messages(queue.id, vec![message("m1", T)])
        .await?;
    assert!(store.delete_queue(queue.id, T + 1).await?);
    assert_eq!(
        store.message_counts(queue.id, T + 2).await?,
        MessageCounts::default()
    );
    assert!(
        store
            .claim_messages(claim(&queue, 10, T + 2, T + 30))
            .await?
            .messages
            .is_empty()
    );
    Ok(())
}

pub async fn send_to_a_deleted_queue_stores_nothing(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let queue = create(&store, "late", false).await?;
    store.delete_queue(queue.id, T).await?;
    let sent = store
        .send_messages(queue.id, vec![message("m1", T + 1)])
        .await?;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].message_id, "m1");
    assert_eq!(
        store.message_counts(queue.id, T + 2).await?,
        MessageCounts::default()
    );
    Ok(())
}

pub async fn update_queue_replaces_only_given_fields(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let queue = create(&store, "update", false).await?;
    let tags = BTreeMap::from([("team".to_string(), "eddy".to_string())]);
    let tagged = store
        .update_queue(
            queue.id,
            QueueUpdate {
                tags: Some(tags.clone()),
                now: T + 5,
                ..Default::default()
            },
        )
        .await?;
    let Some(tagged) = tagged else {
        panic!("the queue exists")
    };
    assert_eq!(tagged.tags, tags);
    assert_eq!(tagged.attributes, queue.attributes);

    let attributes = BTreeMap::from([("DelaySeconds".to_string(), "5".to_string())]);
    let updated = store
        .update_queue(
            queue.id,
            QueueUpdate {
                attributes: Some(attributes.clone()),
                purged_at: Some(T + 9),
                now: T + 10,
                tags: None,
            },
        )
        .await?;
    let Some(updated) = updated else {
        panic!("the queue exists")
    };
    assert_eq!(updated.attributes, attributes);
    assert_eq!(updated.tags, tags);
    assert_eq!(updated.last_modified_at, T + 10);
    assert_eq!(updated.purged_at, Some(T + 9));
    assert_eq!(store.get_queue(ACCOUNT, "update").await?, Some(updated));
    assert_eq!(
        store
            .update_queue(queue.id + 1000, QueueUpdate::default())
            .await?,
        None
    );
    Ok(())
}

pub async fn list_queues_pages_by_name_with_prefix(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    for name in ["beta", "alpha-2", "alpha_1", "alpha-1", "gamma.fifo"] {
        create(&store, name, name.ends_with(".fifo")).await?;
    }
    create_in(&store, "111111111111", "alpha-0", false).await?;
    let names = |records: Vec<QueueRecord>| records.into_iter().map(|r| r.name).collect::<Vec<_>>();

    let first = store.list_queues(Some(ACCOUNT), "", None, 2).await?;
    assert_eq!(names(first), ["alpha-1", "alpha-2"]);
    let rest = store
        .list_queues(Some(ACCOUNT), "", Some("alpha-2"), 10)
        .await?;
    assert_eq!(names(rest), ["alpha_1", "beta", "gamma.fifo"]);
    let alphas = store
        .list_queues(Some(ACCOUNT), "alpha", Some("alpha-1"), 10)
        .await?;
    assert_eq!(names(alphas), ["alpha-2", "alpha_1"]);
    let underscore = store.list_queues(Some(ACCOUNT), "alpha_", None, 10).await?;
    assert_eq!(names(underscore), ["alpha_1"]);
    let everyone = store.list_queues(None, "alpha-", None, 10).await?;
    assert_eq!(names(everyone), ["alpha-0", "alpha-1", "alpha-2"]);
    assert!(
        store
            .list_queues(Some("222222222222"), "", None, 10)
            .await?
            .is_empty()
    );
    Ok(())
}

pub async fn move_messages_returns_them_to_their_original_sources(
    backing: &dyn Backing,
) -> Result<()> {
    let store = backing.open().await?;
    let first = create(&store, "first", false).await?;
    let second = create(&store, "second", false).await?;
    let dead = create(&store, "dead", false).await?;
    let arn = |name: &str| format!("arn:aws:sqs:us-east-1:000000000000:{name}");
    for (queue, id) in [(&first, "m1"), (&second, "m2")] {
        store.send_messages(queue.id, vec![message(id, T)]).await?;
        let redrive = Some(Redrive {
            dead_letter_queue: dead.id,
            max_receive_count: 1,
            source_arn: arn(&queue.name),
        });
        store
            .claim_messages(ClaimRequest {
                redrive: redrive.clone(),
                ..claim(queue, 1, T, T + 1)
            })
            .await?;
        let moved = store
            .claim_messages(ClaimRequest {
                redrive,
                ..claim(queue, 1, T + 1, T + 2)
            })
            .await?;
        assert_eq!(moved.dead_lettered, 1);
    }
    // A message whose source the engine could not resolve stays in the dead-letter queue.
    store
        .send_messages(dead.id, vec![message("stray", T)])
        .await?;

    let sources = BTreeMap::from([(arn("first"), first.id), (arn("second"), second.id)]);
    let request = MoveRequest {
        from: dead.id,
        to: MoveDestination::OriginalSources(sources),
        max_messages: 10,
        sent_before: T + 1000,
        now: T + 2000,
    };
    assert_eq!(store.move_messages(request).await?, 2);
    for (queue, id) in [(&first, "m1"), (&second, "m2")] {
        let claimed = store
            .claim_messages(claim(queue, 10, T + 2000, T + 2030))
            .await?;
        assert_eq!(ids(&claimed), [id]);
        assert_eq!(claimed.messages[0].receive_count, 1);
        assert_eq!(claimed.messages[0].dead_letter_source_arn, None);
    }
    let left = store
        .claim_messages(claim(&dead, 10, T + 2000, T + 2030))
        .await?;
    assert_eq!(ids(&left), ["stray"]);
    Ok(())
}

pub async fn move_messages_to_a_queue_moves_the_oldest_first(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let from = create(&store, "from", false).await?;
    let to = create(&store, "to", false).await?;
    store
        .send_messages(
            from.id,
            vec![
                message("m1", T),
                message("m2", T + 1),
                message("m3", T + 2),
                message("m4", T + 3),
            ],
        )
        .await?;
    // m1 is in flight and stays; m4 was sent after the cut-off.
    store
        .claim_messages(claim(&from, 1, T + 10, T + 1000))
        .await?;
    assert_eq!(store.count_messages_before(from.id, T + 3).await?, 3);
    let request = |max_messages| MoveRequest {
        from: from.id,
        to: MoveDestination::Queue(to.id),
        max_messages,
        sent_before: T + 3,
        now: T + 20,
    };
    assert_eq!(store.move_messages(request(1)).await?, 1);
    assert_eq!(store.move_messages(request(10)).await?, 1);
    assert_eq!(store.move_messages(request(10)).await?, 0);
    let moved = store.claim_messages(claim(&to, 10, T + 20, T + 50)).await?;
    assert_eq!(ids(&moved), ["m2", "m3"]);
    assert_eq!(moved.messages[0].sent_at, T + 1);
    assert_eq!(moved.messages[0].receive_count, 1);
    Ok(())
}

pub async fn receive_attempt_returns_the_same_messages(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let queue = create(&store, "attempt.fifo", true).await?;
    store
        .send_messages(
            queue.id,
            vec![fifo_message("m1", "g", T), fifo_message("m2", "g", T)],
        )
        .await?;
    let with_attempt = |id: &str, now: Millis| ClaimRequest {
        attempt: Some(ReceiveAttempt {
            id: id.to_string(),
            expires_at: T + FIVE_MINUTES,
        }),
        ..claim(&queue, 10, now, T + 30)
    };
    let first = store.claim_messages(with_attempt("x", T)).await?;
    assert_eq!(ids(&first), ["m1", "m2"]);
    let retried = store.claim_messages(with_attempt("x", T + 1)).await?;
    assert_eq!(retried, first);
    let other = store.claim_messages(with_attempt("y", T + 1)).await?;
    assert!(other.messages.is_empty());

    // Once a message of the attempt is gone, the attempt cannot be replayed.
    store
        .delete_messages(queue.id, vec![first.messages[0].receipt])
        .await?;
    let after_delete = store.claim_messages(with_attempt("x", T + 2)).await?;
    assert!(after_delete.messages.is_empty());
    Ok(())
}

pub async fn change_visibility_reports_each_outcome(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let queue = create(&store, "visibility", false).await?;
    store
        .send_messages(queue.id, vec![message("m1", T)])
        .await?;
    let first = store
        .claim_messages(claim(&queue, 1, T, T + 30))
        .await?
        .messages[0]
        .receipt;

    assert_eq!(
        store
            .change_visibility(queue.id, vec![(first, T + 100)], T + 1)
            .await?,
        [VisibilityChange::Changed]
    );
    assert!(
        store
            .claim_messages(claim(&queue, 1, T + 50, T + 80))
            .await?
            .messages
            .is_empty()
    );
    let second = store
        .claim_messages(claim(&queue, 1, T + 100, T + 130))
        .await?
        .messages[0]
        .receipt;
    assert_eq!(
        store
            .change_visibility(queue.id, vec![(first, T + 200), (second, T + 110)], T + 101)
            .await?,
        [VisibilityChange::Unknown, VisibilityChange::Changed]
    );
    assert_eq!(
        store
            .change_visibility(queue.id, vec![(second, T + 300)], T + 120)
            .await?,
        [VisibilityChange::NotInFlight]
    );
    let gone = Receipt {
        sequence: second.sequence + 999,
        nonce: second.nonce,
    };
    assert_eq!(
        store
            .change_visibility(queue.id, vec![(gone, T + 300)], T + 120)
            .await?,
        [VisibilityChange::Unknown]
    );
    // Hiding a message until `now` makes it visible at once.
    let third = store
        .claim_messages(claim(&queue, 1, T + 120, T + 150))
        .await?
        .messages[0]
        .receipt;
    store
        .change_visibility(queue.id, vec![(third, T + 121)], T + 121)
        .await?;
    assert_eq!(
        store
            .claim_messages(claim(&queue, 1, T + 121, T + 150))
            .await?
            .messages
            .len(),
        1
    );
    Ok(())
}

pub async fn message_counts_split_visible_in_flight_and_delayed(
    backing: &dyn Backing,
) -> Result<()> {
    let store = backing.open().await?;
    let queue = create(&store, "counts", false).await?;
    let delayed = NewMessage {
        visible_at: T + 100,
        ..message("delayed", T)
    };
    store
        .send_messages(
            queue.id,
            vec![message("taken", T), message("waiting", T), delayed],
        )
        .await?;
    store.claim_messages(claim(&queue, 1, T, T + 30)).await?;
    assert_eq!(
        store.message_counts(queue.id, T + 1).await?,
        MessageCounts {
            visible: 1,
            in_flight: 1,
            delayed: 1
        }
    );
    assert_eq!(store.next_visible_at(queue.id, T + 1).await?, Some(T + 30));
    assert_eq!(
        store.next_visible_at(queue.id, T + 30).await?,
        Some(T + 100)
    );
    assert_eq!(store.next_visible_at(queue.id, T + 100).await?, None);
    assert_eq!(
        store.message_counts(queue.id, T + 100).await?,
        MessageCounts {
            visible: 3,
            in_flight: 0,
            delayed: 0
        }
    );
    Ok(())
}

pub async fn move_tasks_are_listed_newest_first(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let task = |handle: &str, source: &str, started_at: Millis| MoveTaskRecord {
        handle: handle.to_string(),
        source_arn: source.to_string(),
        destination_arn: None,
        max_per_second: Some(10),
        status: "RUNNING".to_string(),
        moved: 0,
        to_move: 5,
        failure_reason: None,
        started_at,
    };
    // A source has at most one active task (`start_move_task` enforces it; PostgreSQL
    // also by an index), so h1 completes before h2 starts.
    store.put_move_task(task("h1", "arn:a", T)).await?;
    let done = MoveTaskRecord {
        status: "COMPLETED".to_string(),
        moved: 5,
        ..task("h1", "arn:a", T)
    };
    store.put_move_task(done.clone()).await?;
    store.put_move_task(task("h2", "arn:a", T + 10)).await?;
    store.put_move_task(task("h3", "arn:b", T + 5)).await?;

    let of_a = store.list_move_tasks(Some("arn:a")).await?;
    assert_eq!(of_a, [task("h2", "arn:a", T + 10), done]);
    let all: Vec<String> = store
        .list_move_tasks(None)
        .await?
        .into_iter()
        .map(|t| t.handle)
        .collect();
    assert_eq!(all, ["h2", "h3", "h1"]);
    Ok(())
}

pub async fn move_task_update_applies_only_to_the_expected_status(
    backing: &dyn Backing,
) -> Result<()> {
    let store = backing.open().await?;
    let running = MoveTaskRecord {
        handle: "h1".to_string(),
        source_arn: "arn:a".to_string(),
        destination_arn: None,
        max_per_second: None,
        status: "RUNNING".to_string(),
        moved: 0,
        to_move: 5,
        failure_reason: None,
        started_at: T,
    };
    store.put_move_task(running.clone()).await?;
    let cancelling = MoveTaskRecord {
        status: "CANCELLING".to_string(),
        ..running.clone()
    };
    assert!(
        store
            .update_move_task(cancelling.clone(), "RUNNING")
            .await?
    );
    // A progress update written on the belief that the task still runs must not undo
    // the cancel.
    let progressed = MoveTaskRecord {
        moved: 3,
        ..running.clone()
    };
    assert!(!store.update_move_task(progressed, "RUNNING").await?);
    assert_eq!(store.list_move_tasks(Some("arn:a")).await?, [cancelling]);
    assert!(!store.update_move_task(running, "RUNNING").await?);
    Ok(())
}

pub async fn lease_is_held_by_one_holder_until_it_expires(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    assert!(store.acquire_lease("job", "node-a", T, 1_000).await?);
    assert!(!store.acquire_lease("job", "node-b", T + 500, 1_000).await?);
    // The holder renews; the lease now runs until T + 1_600.
    assert!(store.acquire_lease("job", "node-a", T + 600, 1_000).await?);
    assert!(
        !store
            .acquire_lease("job", "node-b", T + 1_500, 1_000)
            .await?
    );
    // Leases are independent of each other.
    assert!(
        store
            .acquire_lease("other", "node-b", T + 1_500, 1_000)
            .await?
    );
    // Once it runs out, another holder takes over, and the old one is refused.
    assert!(
        store
            .acquire_lease("job", "node-b", T + 1_600, 1_000)
            .await?
    );
    assert!(
        !store
            .acquire_lease("job", "node-a", T + 1_700, 1_000)
            .await?
    );
    Ok(())
}

/// No stored name contains NUL (PostgreSQL text cannot), but clients can send one.
pub async fn lookups_by_names_with_nul_find_nothing(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    create(&store, "q", false).await?;
    assert_eq!(store.get_queue(ACCOUNT, "q\0").await?, None);
    assert_eq!(store.get_queue("0\0", "q").await?, None);
    assert!(
        store
            .list_queues(Some(ACCOUNT), "\0", None, 10)
            .await?
            .is_empty()
    );
    assert!(store.list_move_tasks(Some("arn:\0")).await?.is_empty());
    Ok(())
}

pub async fn start_move_task_allows_one_active_task_per_source(
    backing: &dyn Backing,
) -> Result<()> {
    let store = backing.open().await?;
    let task = |handle: &str, source: &str| MoveTaskRecord {
        handle: handle.to_string(),
        source_arn: source.to_string(),
        destination_arn: None,
        max_per_second: None,
        status: "RUNNING".to_string(),
        moved: 0,
        to_move: 1,
        failure_reason: None,
        started_at: T,
    };
    assert!(store.start_move_task(task("h1", "arn:a")).await?);
    assert!(!store.start_move_task(task("h2", "arn:a")).await?);
    assert!(store.start_move_task(task("h3", "arn:b")).await?);
    // A cancelling task still blocks; a finished one does not.
    let cancelling = MoveTaskRecord {
        status: "CANCELLING".to_string(),
        ..task("h1", "arn:a")
    };
    assert!(
        store
            .update_move_task(cancelling.clone(), "RUNNING")
            .await?
    );
    assert!(!store.start_move_task(task("h4", "arn:a")).await?);
    let cancelled = MoveTaskRecord {
        status: "CANCELLED".to_string(),
        ..cancelling
    };
    assert!(store.update_move_task(cancelled, "CANCELLING").await?);
    assert!(store.start_move_task(task("h5", "arn:a")).await?);
    let handles: Vec<String> = store
        .list_move_tasks(Some("arn:a"))
        .await?
        .into_iter()
        .map(|t| t.handle)
        .collect();
    assert_eq!(handles.len(), 2);
    assert!(handles.contains(&"h1".to_string()) && handles.contains(&"h5".to_string()));
    Ok(())
}

pub async fn queues_after_visits_every_queue_by_id(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    // The same name in several accounts: a cursor by name alone could skip some.
    let mut created = Vec::new();
    for account in ["111111111111", "222222222222", "333333333333"] {
        for name in ["a", "b"] {
            created.push(create_in(&store, account, name, false).await?.id);
        }
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.queues_after(after, 2).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        seen.extend(page.iter().map(|q| q.id));
    }
    created.sort_unstable();
    assert_eq!(seen, created);
    Ok(())
}

pub async fn concurrent_sends_are_all_committed_with_distinct_sequences(
    backing: &dyn Backing,
) -> Result<()> {
    const TASKS: usize = 16;
    const SENDS: usize = 25;
    let store = backing.open().await?;
    let queue = create(&store, "busy", false).await?;
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let mut sequences = Vec::new();
            for send in 0..SENDS {
                let sent = store
                    .send_messages(queue.id, vec![message(&format!("m{task}-{send}"), T)])
                    .await?;
                sequences.push(sent[0].sequence);
            }
            Ok::<_, crate::Error>(sequences)
        }));
    }
    let mut sequences = HashSet::new();
    for handle in handles {
        let task_sequences = handle
            .await
            .map_err(|e| crate::Error::Io(std::io::Error::other(e)))??;
        assert!(
            task_sequences.windows(2).all(|w| w[0] < w[1]),
            "one caller's sends commit in order"
        );
        sequences.extend(task_sequences);
    }
    assert_eq!(sequences.len(), TASKS * SENDS);

    let mut received = BTreeSet::new();
    loop {
        let claimed = store.claim_messages(claim(&queue, 10, T, T + 30)).await?;
        if claimed.messages.is_empty() {
            break;
        }
        received.extend(claimed.messages.into_iter().map(|m| m.message_id));
    }
    assert_eq!(received.len(), TASKS * SENDS);
    Ok(())
}

fn queue_send(queue: &QueueRecord, messages: Vec<NewMessage>) -> QueueSend {
    QueueSend {
        queue: queue.id,
        messages,
    }
}

/// A guard message: into a FIFO queue, deduplicated by `dedup_id` over the whole queue.
fn guard_message(id: &str, dedup_id: &str, sent_at: Millis) -> NewMessage {
    NewMessage {
        group_id: Some("topic".to_string()),
        deduplication: Some(Deduplication {
            scope: String::new(),
            id: dedup_id.to_string(),
            expires_at: sent_at + FIVE_MINUTES,
        }),
        ..message(id, sent_at)
    }
}

fn join_error(error: tokio::task::JoinError) -> crate::Error {
    crate::Error::Io(std::io::Error::other(error))
}

fn message_ids(outcomes: &[SendOutcome]) -> Vec<&str> {
    outcomes.iter().map(|o| o.message_id.as_str()).collect()
}

pub async fn fan_out_lands_in_every_queue(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let first = create(&store, "first", false).await?;
    let second = create(&store, "second", false).await?;
    let ordered = create(&store, "ordered.fifo", true).await?;
    let outcomes = store
        .fan_out(vec![FanOut {
            guard: None,
            sends: vec![
                queue_send(&first, vec![message("m1", T), message("m2", T)]),
                queue_send(&second, vec![message("m3", T)]),
                queue_send(&ordered, vec![fifo_message("m4", "g", T)]),
            ],
        }])
        .await?;
    assert_eq!(outcomes.len(), 1);
    let outcome = &outcomes[0];
    assert_eq!(outcome.guard, None);
    assert!(!outcome.guard_was_duplicate());
    assert_eq!(outcome.sends.len(), 3);
    assert_eq!(message_ids(&outcome.sends[0]), ["m1", "m2"]);
    assert_eq!(message_ids(&outcome.sends[1]), ["m3"]);
    assert_eq!(message_ids(&outcome.sends[2]), ["m4"]);
    let sequences: Vec<i64> = outcome.sends.iter().flatten().map(|o| o.sequence).collect();
    assert!(outcome.sends.iter().flatten().all(|o| !o.duplicate));
    assert!(sequences.iter().all(|sequence| *sequence > 0));
    assert_eq!(sequences.iter().collect::<HashSet<_>>().len(), 4);
    assert!(outcome.sends[0][0].sequence < outcome.sends[0][1].sequence);

    let claimed = store
        .claim_messages(claim(&first, 10, T + 1, T + 30))
        .await?;
    assert_eq!(ids(&claimed), ["m1", "m2"]);
    assert_eq!(
        claimed.messages[0].receipt.sequence,
        outcome.sends[0][0].sequence
    );
    assert_eq!(
        claimed.messages[1].receipt.sequence,
        outcome.sends[0][1].sequence
    );
    assert_eq!(claimed.messages[1].body, "body of m2");
    let claimed = store
        .claim_messages(claim(&second, 10, T + 1, T + 30))
        .await?;
    assert_eq!(ids(&claimed), ["m3"]);
    assert_eq!(
        claimed.messages[0].receipt.sequence,
        outcome.sends[1][0].sequence
    );
    let claimed = store
        .claim_messages(claim(&ordered, 10, T + 1, T + 30))
        .await?;
    assert_eq!(ids(&claimed), ["m4"]);
    assert_eq!(claimed.messages[0].group_id.as_deref(), Some("g"));
    assert_eq!(
        claimed.messages[0].deduplication_id.as_deref(),
        Some("dedup-m4")
    );
    assert_eq!(
        claimed.messages[0].receipt.sequence,
        outcome.sends[2][0].sequence
    );

    // Per queue the semantics are those of a send: a FIFO duplicate is reported (with the
    // original's id and sequence) and not stored, while the other queues still get theirs.
    let again = store
        .fan_out(vec![FanOut {
            guard: None,
            sends: vec![
                queue_send(&first, vec![message("m5", T + 1)]),
                queue_send(
                    &ordered,
                    vec![NewMessage {
                        message_id: "m6".to_string(),
                        ..fifo_message("m4", "g", T + 1)
                    }],
                ),
            ],
        }])
        .await?;
    assert_eq!(
        again[0].sends[1],
        [SendOutcome {
            message_id: "m4".to_string(),
            sequence: outcome.sends[2][0].sequence,
            duplicate: true,
        }]
    );
    assert!(!again[0].sends[0][0].duplicate);
    assert_eq!(store.message_counts(first.id, T + 2).await?.visible, 1);
    assert_eq!(store.message_counts(ordered.id, T + 2).await?.in_flight, 1);
    assert_eq!(store.message_counts(ordered.id, T + 2).await?.visible, 0);
    Ok(())
}

pub async fn fan_out_guard_duplicate_writes_none_of_the_sends(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let guard = create(&store, "topic-guard.fifo", true).await?;
    let first = create(&store, "first", false).await?;
    let second = create(&store, "second.fifo", true).await?;
    let publish = |guard_id: &str, dedup_id: &str, sent_at: Millis| FanOut {
        guard: Some(queue_send(
            &guard,
            vec![guard_message(guard_id, dedup_id, sent_at)],
        )),
        sends: vec![
            queue_send(&first, vec![message(&format!("{guard_id}-a"), sent_at)]),
            queue_send(
                &second,
                vec![fifo_message(&format!("{guard_id}-b"), "g", sent_at)],
            ),
        ],
    };

    let original = store.fan_out(vec![publish("p1", "publish-1", T)]).await?;
    let Some(original_guard) = &original[0].guard else {
        panic!("a guarded fan-out reports its guard");
    };
    assert_eq!(message_ids(original_guard), ["p1"]);
    assert!(!original[0].guard_was_duplicate());
    assert_eq!(original[0].sends.len(), 2);
    assert_eq!(message_ids(&original[0].sends[0]), ["p1-a"]);
    assert_eq!(message_ids(&original[0].sends[1]), ["p1-b"]);

    let repeated = store
        .fan_out(vec![publish("p2", "publish-1", T + 1_000)])
        .await?;
    assert_eq!(
        repeated[0],
        FanOutOutcome {
            guard: Some(vec![SendOutcome {
                message_id: "p1".to_string(),
                sequence: original_guard[0].sequence,
                duplicate: true,
            }]),
            sends: Vec::new(),
        }
    );
    assert!(repeated[0].guard_was_duplicate());
    for queue in [&guard, &first, &second] {
        let counts = store.message_counts(queue.id, T + 2_000).await?;
        assert_eq!(
            counts.visible, 1,
            "queue {} holds only the original",
            queue.name
        );
    }

    // Another deduplication id is a new event.
    let next = store
        .fan_out(vec![publish("p3", "publish-2", T + 2_000)])
        .await?;
    assert!(!next[0].guard_was_duplicate());
    assert_eq!(next[0].sends.len(), 2);
    assert_eq!(store.message_counts(first.id, T + 3_000).await?.visible, 2);
    Ok(())
}

pub async fn fan_out_drops_sends_to_a_deleted_queue(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let first = create(&store, "first", false).await?;
    let gone = create(&store, "gone", false).await?;
    let gone_guard = create(&store, "gone-guard.fifo", true).await?;
    let last = create(&store, "last", false).await?;
    assert!(store.delete_queue(gone.id, T).await?);
    assert!(store.delete_queue(gone_guard.id, T).await?);

    let outcomes = store
        .fan_out(vec![FanOut {
            guard: None,
            sends: vec![
                queue_send(&first, vec![message("m1", T + 1)]),
                queue_send(&gone, vec![message("m2", T + 1), message("m3", T + 1)]),
                queue_send(&last, vec![message("m4", T + 1)]),
            ],
        }])
        .await?;
    assert_eq!(outcomes[0].sends.len(), 3);
    assert_eq!(message_ids(&outcomes[0].sends[1]), ["m2", "m3"]);
    assert!(outcomes[0].sends[1].iter().all(|o| !o.duplicate));
    assert_eq!(store.message_counts(first.id, T + 2).await?.visible, 1);
    assert_eq!(store.message_counts(last.id, T + 2).await?.visible, 1);
    assert_eq!(
        store.message_counts(gone.id, T + 2).await?,
        MessageCounts::default()
    );

    // A guard into a queue that is gone is acknowledged and dropped too; it is no
    // duplicate, so the sends go ahead.
    let guarded = store
        .fan_out(vec![FanOut {
            guard: Some(queue_send(
                &gone_guard,
                vec![guard_message("g1", "publish-1", T + 3)],
            )),
            sends: vec![queue_send(&last, vec![message("m5", T + 3)])],
        }])
        .await?;
    assert_eq!(
        guarded[0].guard.as_deref().map(message_ids),
        Some(vec!["g1"])
    );
    assert!(!guarded[0].guard_was_duplicate());
    assert_eq!(message_ids(&guarded[0].sends[0]), ["m5"]);
    assert_eq!(store.message_counts(last.id, T + 4).await?.visible, 2);
    assert_eq!(
        store.message_counts(gone_guard.id, T + 4).await?,
        MessageCounts::default()
    );
    Ok(())
}

pub async fn fan_outs_of_one_call_commit_in_order(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let guard = create(&store, "topic-guard.fifo", true).await?;
    let first = create(&store, "first", false).await?;
    let second = create(&store, "second", false).await?;
    let plain = |sends: Vec<QueueSend>| FanOut { guard: None, sends };
    let guarded = |guard_id: &str, dedup_id: &str, sends: Vec<QueueSend>| FanOut {
        guard: Some(queue_send(
            &guard,
            vec![guard_message(guard_id, dedup_id, T)],
        )),
        sends,
    };
    let outcomes = store
        .fan_out(vec![
            plain(vec![queue_send(&first, vec![message("f1", T)])]),
            plain(vec![
                queue_send(&second, vec![message("s1", T)]),
                queue_send(&first, vec![message("f2", T)]),
            ]),
            guarded(
                "g1",
                "publish-1",
                vec![queue_send(&first, vec![message("f3", T)])],
            ),
            // The same deduplication id as the fan-out before it, in the same call: a
            // duplicate of that one.
            guarded(
                "g2",
                "publish-1",
                vec![queue_send(&first, vec![message("f4", T)])],
            ),
            plain(vec![queue_send(&first, vec![message("f5", T)])]),
        ])
        .await?;
    assert_eq!(outcomes.len(), 5);
    let first_sequences: Vec<i64> = [
        &outcomes[0].sends[0],
        &outcomes[1].sends[1],
        &outcomes[2].sends[0],
        &outcomes[4].sends[0],
    ]
    .iter()
    .map(|send| send[0].sequence)
    .collect();
    assert!(
        first_sequences.windows(2).all(|w| w[0] < w[1]),
        "sequences follow the order of the fan-outs: {first_sequences:?}"
    );
    assert_eq!(message_ids(&outcomes[1].sends[0]), ["s1"]);
    let Some(original_guard) = &outcomes[2].guard else {
        panic!("a guarded fan-out reports its guard");
    };
    assert!(!outcomes[2].guard_was_duplicate());
    assert!(outcomes[3].guard_was_duplicate());
    assert_eq!(
        outcomes[3].guard.as_ref(),
        Some(&vec![SendOutcome {
            duplicate: true,
            ..original_guard[0].clone()
        }])
    );
    assert!(outcomes[3].sends.is_empty());

    let claimed = store
        .claim_messages(claim(&first, 10, T + 1, T + 30))
        .await?;
    assert_eq!(ids(&claimed), ["f1", "f2", "f3", "f5"]);
    let claimed = store
        .claim_messages(claim(&second, 10, T + 1, T + 30))
        .await?;
    assert_eq!(ids(&claimed), ["s1"]);
    Ok(())
}

pub async fn concurrent_fan_outs_and_sends_all_land(backing: &dyn Backing) -> Result<()> {
    const TASKS: usize = 8;
    const ROUNDS: usize = 10;
    let store = backing.open().await?;
    let guard = create(&store, "topic-guard.fifo", true).await?;
    let first = create(&store, "first", false).await?;
    let second = create(&store, "second", false).await?;
    let ordered = create(&store, "ordered.fifo", true).await?;
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let store = store.clone();
        let (guard, first, second, ordered) = (
            guard.clone(),
            first.clone(),
            second.clone(),
            ordered.clone(),
        );
        handles.push(tokio::spawn(async move {
            let mut sequences = Vec::new();
            for round in 0..ROUNDS {
                let id = format!("t{task}-r{round}");
                if task % 2 == 0 {
                    let outcomes = store
                        .fan_out(vec![FanOut {
                            guard: Some(queue_send(
                                &guard,
                                vec![guard_message(&format!("{id}-guard"), &id, T)],
                            )),
                            sends: vec![
                                queue_send(&first, vec![message(&format!("{id}-a"), T)]),
                                queue_send(&second, vec![message(&format!("{id}-b"), T)]),
                                queue_send(
                                    &ordered,
                                    vec![fifo_message(&format!("{id}-c"), &id, T)],
                                ),
                            ],
                        }])
                        .await?;
                    let outcome = outcomes
                        .into_iter()
                        .next()
                        .ok_or_else(|| crate::Error::Corrupt("no fan-out outcome".into()))?;
                    assert!(!outcome.guard_was_duplicate());
                    assert_eq!(outcome.sends.len(), 3);
                    sequences.extend(outcome.guard.into_iter().flatten().map(|o| o.sequence));
                    sequences.extend(outcome.sends.into_iter().flatten().map(|o| o.sequence));
                } else {
                    let sent = store
                        .send_messages(first.id, vec![message(&format!("{id}-a"), T)])
                        .await?;
                    sequences.extend(sent.into_iter().map(|o| o.sequence));
                }
            }
            Ok::<_, crate::Error>(sequences)
        }));
    }
    let mut sequences = HashSet::new();
    for handle in handles {
        sequences.extend(handle.await.map_err(join_error)??);
    }
    let fan_outs = TASKS / 2 * ROUNDS;
    let plain_sends = (TASKS - TASKS / 2) * ROUNDS;
    assert_eq!(sequences.len(), fan_outs * 4 + plain_sends);
    assert!(!sequences.contains(&0));
    let visible = |queue: QueueId| {
        let store = store.clone();
        async move { Ok::<_, crate::Error>(store.message_counts(queue, T + 1).await?.visible) }
    };
    assert_eq!(visible(guard.id).await?, fan_outs as u64);
    assert_eq!(visible(first.id).await?, (fan_outs + plain_sends) as u64);
    assert_eq!(visible(second.id).await?, fan_outs as u64);
    assert_eq!(visible(ordered.id).await?, fan_outs as u64);
    Ok(())
}

/// A fan-out is one transaction: when one of its inserts fails (here the database refuses
/// a body), none of it is visible, deduplication entries included, and sends committed
/// beside it (possibly in the same group commit) are not affected.
pub async fn fan_out_with_a_failing_insert_writes_nothing(backing: &dyn Backing) -> Result<()> {
    const POISON: &str = "refused by the database";
    const TASKS: usize = 8;
    let store = backing.open().await?;
    let guard = create(&store, "topic-guard.fifo", true).await?;
    let first = create(&store, "first", false).await?;
    let ordered = create(&store, "ordered.fifo", true).await?;
    let refusing = create(&store, "refusing", false).await?;
    backing.reject_message_body(POISON).await?;

    let failing = FanOut {
        guard: Some(queue_send(
            &guard,
            vec![guard_message("g1", "publish-1", T)],
        )),
        sends: vec![
            queue_send(&first, vec![message("m1", T), message("m2", T)]),
            queue_send(&ordered, vec![fifo_message("m3", "g", T)]),
            queue_send(
                &refusing,
                vec![
                    message("m4", T),
                    NewMessage {
                        body: POISON.to_string(),
                        ..message("m5", T)
                    },
                ],
            ),
        ],
    };
    // Plain sends run at the same time, so that on a backend with group commit they may
    // share the failing fan-out's batch.
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let store = store.clone();
        let queue = if task % 2 == 0 { first.id } else { refusing.id };
        handles.push(tokio::spawn(async move {
            store
                .send_messages(queue, vec![message(&format!("plain-{task}"), T)])
                .await
        }));
    }
    let failed = store.fan_out(vec![failing.clone()]).await;
    assert!(
        failed.is_err(),
        "the refused insert fails the fan-out: {failed:?}"
    );
    for handle in handles {
        let sent = handle.await.map_err(join_error)??;
        assert!(sent[0].sequence > 0);
    }
    assert_eq!(
        store.message_counts(first.id, T + 1).await?.visible,
        (TASKS / 2) as u64
    );
    assert_eq!(
        store.message_counts(refusing.id, T + 1).await?.visible,
        (TASKS / 2) as u64
    );
    for queue in [&guard, &ordered] {
        assert_eq!(
            store.message_counts(queue.id, T + 1).await?,
            MessageCounts::default(),
            "queue {} got nothing",
            queue.name
        );
    }
    // Several fan-outs in one call fail together.
    let with_a_good_one = store
        .fan_out(vec![
            FanOut {
                guard: None,
                sends: vec![queue_send(&first, vec![message("m6", T)])],
            },
            failing.clone(),
        ])
        .await;
    assert!(with_a_good_one.is_err());
    assert_eq!(
        store.message_counts(first.id, T + 1).await?.visible,
        (TASKS / 2) as u64
    );

    // The deduplication ids of the failed fan-outs were not remembered.
    let retried = store
        .fan_out(vec![FanOut {
            guard: failing.guard.clone(),
            sends: failing.sends[..2].to_vec(),
        }])
        .await?;
    assert!(!retried[0].guard_was_duplicate());
    assert_eq!(retried[0].sends.len(), 2);
    assert!(!retried[0].sends[1][0].duplicate);
    assert_eq!(store.message_counts(ordered.id, T + 1).await?.visible, 1);
    Ok(())
}

pub async fn data_survives_close_and_reopen(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let queue = create(&store, "durable", false).await?;
    let gone = create(&store, "gone", false).await?;
    store.delete_queue(gone.id, T).await?;
    store
        .send_messages(
            queue.id,
            vec![message("m1", T), message("m2", T), message("m3", T)],
        )
        .await?;
    let claimed = store.claim_messages(claim(&queue, 2, T, T + 1000)).await?;
    store
        .delete_messages(queue.id, vec![claimed.messages[0].receipt])
        .await?;
    drop(store);

    let store = backing.open().await?;
    assert_eq!(
        store.get_queue(ACCOUNT, "durable").await?,
        Some(queue.clone())
    );
    assert_eq!(store.get_queue(ACCOUNT, "gone").await?, None);
    assert_eq!(
        store.message_counts(queue.id, T + 1).await?,
        MessageCounts {
            visible: 1,
            in_flight: 1,
            delayed: 0
        }
    );
    // The receipt handed out before the restart still works.
    assert_eq!(
        store
            .delete_messages(queue.id, vec![claimed.messages[1].receipt])
            .await?,
        [DeleteOutcome::Deleted]
    );
    let rest = store
        .claim_messages(claim(&queue, 10, T + 2, T + 30))
        .await?;
    assert_eq!(ids(&rest), ["m3"]);
    // Sequences keep growing: nothing is reused after a restart.
    let next = store
        .send_messages(queue.id, vec![message("m4", T + 3)])
        .await?;
    assert!(next[0].sequence > rest.messages[0].receipt.sequence);
    Ok(())
}

fn role(name: &str, path: &str) -> RoleRecord {
    RoleRecord {
        account: ACCOUNT.to_string(),
        name: name.to_string(),
        path: path.to_string(),
        role_id: format!("AROA{:0>17}", name.len()),
        assume_role_policy: r#"{"Version":"2012-10-17","Statement":[]}"#.to_string(),
        description: Some(format!("role {name}")),
        max_session_duration: 3600,
        tags: vec![("team".to_string(), "a".to_string())],
        created_at: T,
    }
}

async fn create_role(store: &Store, name: &str, path: &str) -> Result<RoleRecord> {
    match store.create_role(role(name, path)).await? {
        CreateRoleOutcome::Created(record) => Ok(record),
        other => panic!("creating role {name} gave {other:?}"),
    }
}

pub async fn roles_are_unique_regardless_of_case_and_survive_reopen(
    backing: &dyn Backing,
) -> Result<()> {
    let store = backing.open().await?;
    let created = create_role(&store, "Lambda-Exec", "/service/").await?;
    assert_eq!(created, role("Lambda-Exec", "/service/"));
    let again = store.create_role(role("lambda-exec", "/")).await?;
    assert_eq!(again, CreateRoleOutcome::Exists(created.clone()));
    assert_eq!(
        store.get_role(ACCOUNT, "LAMBDA-EXEC").await?,
        Some(created.clone())
    );
    assert_eq!(store.get_role("111111111111", "Lambda-Exec").await?, None);
    assert_eq!(store.get_role(ACCOUNT, "Lambda-Exec\0").await?, None);
    store
        .change_role(
            ACCOUNT,
            "Lambda-Exec",
            RoleChange::PutInlinePolicy {
                name: "logs".to_string(),
                document: "{}".to_string(),
            },
        )
        .await?;
    drop(store);
    let store = backing.open().await?;
    assert_eq!(store.get_role(ACCOUNT, "Lambda-Exec").await?, Some(created));
    let policies = store.role_policies(ACCOUNT, "lambda-exec").await?;
    assert_eq!(
        policies.map(|p| p.inline),
        Some(vec![("logs".to_string(), "{}".to_string())])
    );
    Ok(())
}

pub async fn list_roles_pages_by_name_with_path_prefix(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    for (name, path) in [
        ("b", "/"),
        ("A", "/app/"),
        ("c", "/app/x/"),
        ("d", "/application/"),
        ("e", "/other/"),
    ] {
        create_role(&store, name, path).await?;
    }
    let names = |roles: Vec<RoleRecord>| roles.into_iter().map(|r| r.name).collect::<Vec<_>>();
    assert_eq!(
        names(store.list_roles(ACCOUNT, "/", None, 100).await?),
        ["A", "b", "c", "d", "e"]
    );
    assert_eq!(
        names(store.list_roles(ACCOUNT, "/", None, 2).await?),
        ["A", "b"]
    );
    assert_eq!(
        names(store.list_roles(ACCOUNT, "/", Some("B"), 2).await?),
        ["c", "d"]
    );
    assert_eq!(
        names(store.list_roles(ACCOUNT, "/app/", None, 100).await?),
        ["A", "c"]
    );
    assert_eq!(
        names(store.list_roles(ACCOUNT, "/app", None, 100).await?),
        ["A", "c", "d"]
    );
    assert!(
        store
            .list_roles("111111111111", "/", None, 100)
            .await?
            .is_empty()
    );
    Ok(())
}

pub async fn delete_role_is_refused_while_policies_remain(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    create_role(&store, "r", "/").await?;
    let arn = "arn:aws:iam::aws:policy/ReadOnlyAccess".to_string();
    let outcome = store
        .change_role(ACCOUNT, "r", RoleChange::AttachPolicy(arn.clone()))
        .await?;
    assert_eq!(outcome, RoleChangeOutcome::Changed);
    store
        .change_role(
            ACCOUNT,
            "r",
            RoleChange::PutInlinePolicy {
                name: "p".to_string(),
                document: "{}".to_string(),
            },
        )
        .await?;
    assert_eq!(
        store.delete_role(ACCOUNT, "r").await?,
        DeleteRoleOutcome::HasAttachedPolicies
    );
    store
        .change_role(ACCOUNT, "r", RoleChange::DetachPolicy(arn))
        .await?;
    assert_eq!(
        store.delete_role(ACCOUNT, "r").await?,
        DeleteRoleOutcome::HasInlinePolicies
    );
    store
        .change_role(
            ACCOUNT,
            "r",
            RoleChange::DeleteInlinePolicy("p".to_string()),
        )
        .await?;
    assert!(store.get_role(ACCOUNT, "r").await?.is_some());
    assert_eq!(
        store.delete_role(ACCOUNT, "R").await?,
        DeleteRoleOutcome::Deleted
    );
    assert_eq!(store.get_role(ACCOUNT, "r").await?, None);
    assert_eq!(
        store.delete_role(ACCOUNT, "r").await?,
        DeleteRoleOutcome::NoSuchRole
    );
    assert_eq!(store.role_policies(ACCOUNT, "r").await?, None);
    Ok(())
}

pub async fn role_changes_report_missing_roles_and_policies(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let outcome = store
        .change_role(ACCOUNT, "none", RoleChange::AttachPolicy("arn".to_string()))
        .await?;
    assert_eq!(outcome, RoleChangeOutcome::NoSuchRole);
    create_role(&store, "r", "/").await?;
    for change in [
        RoleChange::DetachPolicy("arn:aws:iam::aws:policy/X".to_string()),
        RoleChange::DeleteInlinePolicy("p".to_string()),
    ] {
        assert_eq!(
            store.change_role(ACCOUNT, "r", change).await?,
            RoleChangeOutcome::NoSuchPolicy
        );
    }
    // Attaching twice keeps one attachment; putting twice replaces the document.
    for arn in ["arn:b", "arn:a", "arn:b"] {
        store
            .change_role(ACCOUNT, "r", RoleChange::AttachPolicy(arn.to_string()))
            .await?;
    }
    for document in ["{\"v\":1}", "{\"v\":2}"] {
        store
            .change_role(
                ACCOUNT,
                "r",
                RoleChange::PutInlinePolicy {
                    name: "p".to_string(),
                    document: document.to_string(),
                },
            )
            .await?;
    }
    let policies = store.role_policies(ACCOUNT, "r").await?;
    assert_eq!(
        policies,
        Some(RolePolicies {
            attached: vec!["arn:a".to_string(), "arn:b".to_string()],
            inline: vec![("p".to_string(), "{\"v\":2}".to_string())],
        })
    );
    Ok(())
}

pub async fn role_tags_merge_and_untag(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    create_role(&store, "r", "/").await?;
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    store
        .change_role(
            ACCOUNT,
            "r",
            RoleChange::Tag(vec![pair("env", "dev"), pair("team", "b")]),
        )
        .await?;
    let tags = store.get_role(ACCOUNT, "r").await?.map(|r| r.tags);
    assert_eq!(tags, Some(vec![pair("team", "b"), pair("env", "dev")]));
    store
        .change_role(
            ACCOUNT,
            "r",
            RoleChange::Untag(vec!["team".to_string(), "absent".to_string()]),
        )
        .await?;
    let tags = store.get_role(ACCOUNT, "r").await?.map(|r| r.tags);
    assert_eq!(tags, Some(vec![pair("env", "dev")]));
    Ok(())
}

fn function(account: &str, name: &str, revision: &str) -> FunctionRecord {
    FunctionRecord {
        account: account.to_string(),
        name: name.to_string(),
        configuration: format!(r#"{{"FunctionName":"{name}"}}"#),
        created_at: T,
        modified_at: T,
        revision_id: revision.to_string(),
    }
}

pub async fn functions_are_unique_per_account_and_keep_their_code(
    backing: &dyn Backing,
) -> Result<()> {
    let code = vec![0u8, 1, 2, 255, 0, 80, 75];
    {
        let store = backing.open().await?;
        let created = store
            .create_function(function(ACCOUNT, "f", "r1"), code.clone())
            .await?;
        assert_eq!(created, CreateFunctionOutcome::Created);
        let again = store
            .create_function(function(ACCOUNT, "f", "r2"), vec![9])
            .await?;
        assert_eq!(again, CreateFunctionOutcome::Exists);
        let other = store
            .create_function(function("111111111111", "f", "r3"), vec![7])
            .await?;
        assert_eq!(other, CreateFunctionOutcome::Created);
        assert_eq!(store.get_function(ACCOUNT, "F").await?, None);
    }
    let store = backing.open().await?;
    assert_eq!(
        store.get_function(ACCOUNT, "f").await?,
        Some(function(ACCOUNT, "f", "r1"))
    );
    assert_eq!(store.function_code(ACCOUNT, "f").await?, Some(code));
    assert_eq!(
        store.function_code("111111111111", "f").await?,
        Some(vec![7])
    );
    assert_eq!(store.function_code(ACCOUNT, "missing").await?, None);
    assert_eq!(store.get_function(ACCOUNT, "f\0").await?, None);
    Ok(())
}

pub async fn list_functions_pages_by_name(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    for name in ["c", "a", "b", "d"] {
        store
            .create_function(function(ACCOUNT, name, "r"), vec![1])
            .await?;
    }
    store
        .create_function(function("111111111111", "aa", "r"), vec![1])
        .await?;
    let names = |records: Vec<FunctionRecord>| -> Vec<String> {
        records.into_iter().map(|record| record.name).collect()
    };
    assert_eq!(
        names(store.list_functions(ACCOUNT, None, 3).await?),
        ["a", "b", "c"]
    );
    assert_eq!(
        names(store.list_functions(ACCOUNT, Some("c"), 3).await?),
        ["d"]
    );
    assert!(
        store
            .list_functions(ACCOUNT, Some("d"), 3)
            .await?
            .is_empty()
    );
    Ok(())
}

pub async fn update_function_replaces_given_parts_and_checks_revision(
    backing: &dyn Backing,
) -> Result<()> {
    let store = backing.open().await?;
    store
        .create_function(function(ACCOUNT, "f", "r1"), vec![1, 2])
        .await?;
    let update = FunctionUpdate {
        configuration: Some("{}".to_string()),
        code: None,
        modified_at: T + 1,
        revision_id: "r2".to_string(),
        expected_revision_id: Some("r1".to_string()),
    };
    let UpdateFunctionOutcome::Updated(updated) =
        store.update_function(ACCOUNT, "f", update.clone()).await?
    else {
        panic!("the update with the current revision applies");
    };
    assert_eq!(updated.configuration, "{}");
    assert_eq!(updated.revision_id, "r2");
    assert_eq!(updated.created_at, T);
    assert_eq!(updated.modified_at, T + 1);
    assert_eq!(store.function_code(ACCOUNT, "f").await?, Some(vec![1, 2]));
    assert_eq!(
        store.update_function(ACCOUNT, "f", update.clone()).await?,
        UpdateFunctionOutcome::RevisionMismatch
    );
    let code_only = FunctionUpdate {
        configuration: None,
        code: Some(vec![3]),
        modified_at: T + 2,
        revision_id: "r3".to_string(),
        expected_revision_id: None,
    };
    store.update_function(ACCOUNT, "f", code_only).await?;
    assert_eq!(store.function_code(ACCOUNT, "f").await?, Some(vec![3]));
    let stored = store.get_function(ACCOUNT, "f").await?;
    assert_eq!(
        stored.as_ref().map(|f| f.configuration.as_str()),
        Some("{}")
    );
    assert_eq!(stored.map(|f| f.revision_id), Some("r3".to_string()));
    assert_eq!(
        store.update_function(ACCOUNT, "missing", update).await?,
        UpdateFunctionOutcome::NoSuchFunction
    );
    Ok(())
}

pub async fn delete_function_removes_it_and_its_code(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    store
        .create_function(function(ACCOUNT, "f", "r1"), vec![1])
        .await?;
    assert!(store.delete_function(ACCOUNT, "f").await?);
    assert!(!store.delete_function(ACCOUNT, "f").await?);
    assert_eq!(store.get_function(ACCOUNT, "f").await?, None);
    assert_eq!(store.function_code(ACCOUNT, "f").await?, None);
    assert_eq!(
        store
            .create_function(function(ACCOUNT, "f", "r2"), vec![2])
            .await?,
        CreateFunctionOutcome::Created
    );
    Ok(())
}

fn resource(
    account: &str,
    kind: &str,
    key: &str,
    document: &str,
    revision: &str,
) -> ResourceRecord {
    ResourceRecord {
        account: account.to_string(),
        kind: kind.to_string(),
        key: key.to_string(),
        document: document.to_string(),
        revision_id: revision.to_string(),
        modified_at: T,
    }
}

fn keys(resources: &[ResourceRecord]) -> Vec<&str> {
    resources.iter().map(|r| r.key.as_str()).collect()
}

pub async fn resource_writes_follow_their_condition(backing: &dyn Backing) -> Result<()> {
    use ResourceCondition::*;
    let store = backing.open().await?;
    let put = |document: &str, revision: &str, condition: ResourceCondition| {
        store.put_resource(
            resource(ACCOUNT, "alias", "f/live", document, revision),
            None,
            condition,
        )
    };
    assert_eq!(
        put("a", "r1", Exists).await?,
        ResourceOutcome::ConditionFailed
    );
    assert_eq!(
        put("a", "r1", Revision("r0".into())).await?,
        ResourceOutcome::ConditionFailed
    );
    assert_eq!(put("a", "r1", Absent).await?, ResourceOutcome::Done);
    assert_eq!(
        put("b", "r2", Absent).await?,
        ResourceOutcome::ConditionFailed
    );
    assert_eq!(
        put("b", "r2", Revision("r0".into())).await?,
        ResourceOutcome::ConditionFailed
    );
    assert_eq!(
        put("b", "r2", Revision("r1".into())).await?,
        ResourceOutcome::Done
    );
    assert_eq!(put("c", "r3", Exists).await?, ResourceOutcome::Done);
    assert_eq!(put("d", "r4", Any).await?, ResourceOutcome::Done);
    let stored = store.get_resource(ACCOUNT, "alias", "f/live").await?;
    assert_eq!(
        stored,
        Some(resource(ACCOUNT, "alias", "f/live", "d", "r4"))
    );
    // Kind and account are part of the key.
    assert_eq!(
        store.get_resource(ACCOUNT, "version", "f/live").await?,
        None
    );
    assert_eq!(
        store
            .get_resource("111111111111", "alias", "f/live")
            .await?,
        None
    );
    assert_eq!(
        store.get_resource(ACCOUNT, "alias", "f/live\0").await?,
        None
    );

    let delete =
        |condition: ResourceCondition| store.delete_resource(ACCOUNT, "alias", "f/live", condition);
    assert_eq!(delete(Absent).await?, ResourceOutcome::ConditionFailed);
    assert_eq!(
        delete(Revision("r3".into())).await?,
        ResourceOutcome::ConditionFailed
    );
    assert_eq!(delete(Revision("r4".into())).await?, ResourceOutcome::Done);
    assert_eq!(delete(Any).await?, ResourceOutcome::ConditionFailed);
    assert_eq!(store.get_resource(ACCOUNT, "alias", "f/live").await?, None);
    Ok(())
}

pub async fn resources_list_by_prefix_and_page_by_key(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    for key in ["f/1", "f/2", "f/10", "g/1", "fa/1"] {
        store
            .put_resource(
                resource(ACCOUNT, "version", key, "{}", "r"),
                None,
                ResourceCondition::Absent,
            )
            .await?;
    }
    store
        .put_resource(
            resource("111111111111", "version", "f/3", "{}", "r"),
            None,
            ResourceCondition::Absent,
        )
        .await?;
    store
        .put_resource(
            resource(ACCOUNT, "alias", "f/x", "{}", "r"),
            None,
            ResourceCondition::Absent,
        )
        .await?;
    let page = store
        .list_resources(ACCOUNT, "version", "f/", None, 2)
        .await?;
    assert_eq!(keys(&page), ["f/1", "f/10"]);
    let page = store
        .list_resources(ACCOUNT, "version", "f/", Some("f/10"), 2)
        .await?;
    assert_eq!(keys(&page), ["f/2"]);
    let all = store
        .list_resources(ACCOUNT, "version", "", None, 100)
        .await?;
    assert_eq!(keys(&all), ["f/1", "f/10", "f/2", "fa/1", "g/1"]);
    let every = store.resources_of_kind("version").await?;
    let pairs: Vec<(&str, &str)> = every
        .iter()
        .map(|r| (r.account.as_str(), r.key.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            (ACCOUNT, "f/1"),
            (ACCOUNT, "f/10"),
            (ACCOUNT, "f/2"),
            (ACCOUNT, "fa/1"),
            (ACCOUNT, "g/1"),
            ("111111111111", "f/3"),
        ]
    );
    assert_eq!(store.delete_resources(ACCOUNT, "version", "f/").await?, 3);
    let left = store
        .list_resources(ACCOUNT, "version", "", None, 100)
        .await?;
    assert_eq!(keys(&left), ["fa/1", "g/1"]);
    assert_eq!(
        store
            .list_resources(ACCOUNT, "alias", "", None, 100)
            .await?
            .len(),
        1
    );
    Ok(())
}

pub async fn resource_blob_survives_a_document_update_and_reopen(
    backing: &dyn Backing,
) -> Result<()> {
    let code = vec![80u8, 75, 3, 4, 0, 255];
    {
        let store = backing.open().await?;
        store
            .put_resource(
                resource(ACCOUNT, "version", "f/1", "{\"v\":1}", "r1"),
                Some(code.clone()),
                ResourceCondition::Absent,
            )
            .await?;
        store
            .put_resource(
                resource(ACCOUNT, "version", "f/1", "{\"v\":2}", "r2"),
                None,
                ResourceCondition::Revision("r1".to_string()),
            )
            .await?;
        assert_eq!(store.resource_blob(ACCOUNT, "version", "f/2").await?, None);
    }
    let store = backing.open().await?;
    assert_eq!(
        store.resource_blob(ACCOUNT, "version", "f/1").await?,
        Some(code)
    );
    let stored = store.get_resource(ACCOUNT, "version", "f/1").await?;
    assert_eq!(stored.map(|r| r.document), Some("{\"v\":2}".to_string()));
    Ok(())
}

pub async fn resource_creates_race_and_one_wins(backing: &dyn Backing) -> Result<()> {
    let store = backing.open().await?;
    let mut tasks = Vec::new();
    for writer in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .put_resource(
                    resource(ACCOUNT, "version", "f/1", &format!("{writer}"), "r"),
                    None,
                    ResourceCondition::Absent,
                )
                .await
        }));
    }
    let mut won = 0;
    for task in tasks {
        let outcome = task
            .await
            .map_err(|error| crate::Error::Unsupported(error.to_string()))??;
        if outcome == ResourceOutcome::Done {
            won += 1;
        }
    }
    assert_eq!(won, 1);
    Ok(())
}
