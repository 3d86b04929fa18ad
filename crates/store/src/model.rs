//! The records the store keeps and the operations' inputs and outcomes.
//!
//! These types know timestamps, ids and opaque payloads, never SQS semantics: the engine
//! decides what a visibility timeout or a redrive policy means and hands the store plain
//! numbers ("claim up to n messages visible at `now`, hide them until `visible_until`").

use std::collections::BTreeMap;

/// Milliseconds since the Unix epoch. Every timestamp in the store is one of these.
pub type Millis = i64;

/// Store-assigned id of a queue. Never reused, so a message of a deleted queue can
/// never resurface in a new queue of the same name.
pub type QueueId = i64;

/// A queue as stored. `attributes` holds the settable SQS attributes exactly as the engine
/// normalised them (for example `"VisibilityTimeout" → "30"`); the store does not interpret them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRecord {
    pub id: QueueId,
    pub account: String,
    pub name: String,
    pub fifo: bool,
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub created_at: Millis,
    pub last_modified_at: Millis,
    /// When the last PurgeQueue started, if ever; the engine enforces one purge per 60 s.
    pub purged_at: Option<Millis>,
}

/// Input of [`crate::Store::create_queue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQueue {
    pub account: String,
    pub name: String,
    pub fifo: bool,
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub now: Millis,
    /// A queue of the same account and name deleted at or after this instant blocks the
    /// create (SQS: "wait 60 seconds after deleting a queue before creating one with the same name").
    pub deleted_since: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateQueueOutcome {
    Created(QueueRecord),
    /// A live queue of that name exists; the engine compares attributes.
    Exists(QueueRecord),
    /// A queue of that name was deleted at the given instant, after `deleted_since`.
    DeletedRecently(Millis),
}

/// Which fields of a queue an update replaces; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueUpdate {
    pub attributes: Option<BTreeMap<String, String>>,
    pub tags: Option<BTreeMap<String, String>>,
    pub purged_at: Option<Millis>,
    pub now: Millis,
}

/// FIFO deduplication key of a message: a send with the same `scope` and `id` while an
/// earlier entry is unexpired is a duplicate, acknowledged but not enqueued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deduplication {
    /// The message group for `DeduplicationScope=messageGroup`, empty for `queue` scope.
    pub scope: String,
    pub id: String,
    pub expires_at: Millis,
}

/// One message to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub message_id: String,
    pub body: String,
    /// Engine-owned serialised metadata (message attributes, system attributes, digests).
    pub meta: String,
    pub sent_at: Millis,
    /// `sent_at` plus the message's delay.
    pub visible_at: Millis,
    pub group_id: Option<String>,
    pub deduplication: Option<Deduplication>,
}

/// What a send did with one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendOutcome {
    /// The id of the stored message; for a duplicate, the id of the original.
    pub message_id: String,
    /// Monotonic per store, assigned at commit; for a duplicate, the original's.
    pub sequence: i64,
    pub duplicate: bool,
}

/// Messages for one queue inside a [`FanOut`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSend {
    pub queue: QueueId,
    pub messages: Vec<NewMessage>,
}

/// One published event (see [`crate::Store::fan_out`]): an optional guard (a message,
/// normally carrying a [`Deduplication`], into a FIFO queue) and the sends it causes.
/// When any guard message is a duplicate, none of the sends is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FanOut {
    pub guard: Option<QueueSend>,
    pub sends: Vec<QueueSend>,
}

/// What a [`FanOut`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FanOutOutcome {
    /// The guard's outcomes (`None` when there was no guard).
    pub guard: Option<Vec<SendOutcome>>,
    /// One `Vec` per [`QueueSend`], in order; empty (nothing written) when any guard
    /// message was a duplicate.
    pub sends: Vec<Vec<SendOutcome>>,
}

impl FanOutOutcome {
    /// Whether the guard reported a duplicate, so that none of the sends was written.
    pub fn guard_was_duplicate(&self) -> bool {
        self.guard
            .as_ref()
            .is_some_and(|guard| guard.iter().any(|outcome| outcome.duplicate))
    }
}

/// Names one receive of one message. Opaque to clients once the engine encodes it.
/// A re-delivery gets a new nonce, so a handle from an earlier receive is recognisably stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Receipt {
    pub sequence: i64,
    pub nonce: i64,
}

impl Receipt {
    /// The receipts of a receive, as stored with its `ReceiveRequestAttemptId`:
    /// `seq:nonce` pairs separated by commas, in the order they were returned.
    pub(crate) fn encode_list(messages: &[ClaimedMessage]) -> String {
        messages
            .iter()
            .map(|m| format!("{}:{}", m.receipt.sequence, m.receipt.nonce))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reads what [`Receipt::encode_list`] wrote; `None` if it is malformed.
    pub(crate) fn decode_list(text: &str) -> Option<Vec<Receipt>> {
        text.split(',')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (sequence, nonce) = pair.split_once(':')?;
                Some(Receipt {
                    sequence: sequence.parse().ok()?,
                    nonce: nonce.parse().ok()?,
                })
            })
            .collect()
    }
}

/// Move messages that were already received `max_receive_count` times to another queue
/// instead of delivering them again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redrive {
    pub dead_letter_queue: QueueId,
    pub max_receive_count: u32,
    /// Recorded on each moved message as its `DeadLetterQueueSourceArn`.
    pub source_arn: String,
}

/// Input of [`crate::Store::claim_messages`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRequest {
    pub queue: QueueId,
    pub max_messages: usize,
    pub now: Millis,
    /// The claimed messages stay invisible until this instant.
    pub visible_until: Millis,
    /// FIFO: a message group is offered only when its oldest message is visible, and then
    /// its messages in order; a group with a message in flight is held back.
    pub fifo: bool,
    /// Messages sent before this instant have outlived the retention period: never
    /// delivered, deleted by the claim.
    pub retained_since: Millis,
    pub redrive: Option<Redrive>,
    /// FIFO `ReceiveRequestAttemptId`: a retried receive with the same id, while its
    /// messages are still in flight under the handles it returned, gets the same messages
    /// and handles back.
    pub attempt: Option<ReceiveAttempt>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiveAttempt {
    pub id: String,
    pub expires_at: Millis,
}

/// A message handed out by a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedMessage {
    pub receipt: Receipt,
    pub message_id: String,
    pub body: String,
    pub meta: String,
    pub sent_at: Millis,
    /// Including this receive.
    pub receive_count: u32,
    pub first_received_at: Millis,
    pub group_id: Option<String>,
    pub deduplication_id: Option<String>,
    /// Set on messages that a redrive moved here.
    pub dead_letter_source_arn: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimOutcome {
    pub messages: Vec<ClaimedMessage>,
    /// How many messages this claim moved to the dead-letter queue.
    pub dead_lettered: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    Deleted,
    /// The message no longer exists (already deleted, expired or moved). SQS answers success.
    AlreadyGone,
    /// The message exists but was received again since this handle was issued; it is kept.
    Stale,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisibilityChange {
    Changed,
    /// The handle is current but the message is not in flight (its visibility expired).
    NotInFlight,
    /// The message is gone or the handle is stale.
    Unknown,
}

/// Message counts behind `ApproximateNumberOfMessages*`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageCounts {
    pub visible: u64,
    /// Received and not yet visible again.
    pub in_flight: u64,
    /// Never received and not yet visible (delay).
    pub delayed: u64,
}

/// Where a move takes messages: one destination queue, or for a dead-letter queue's
/// redrive back, each message's own source (its `dead_letter_source_arn`) resolved by the
/// engine to a queue id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveDestination {
    Queue(QueueId),
    /// Source ARN → queue id for every source the engine could resolve; messages whose
    /// source is not in the map stay where they are.
    OriginalSources(BTreeMap<String, QueueId>),
}

/// Input of [`crate::Store::move_messages`]: moves up to `max_messages` of the oldest
/// messages of `from` that were sent before `sent_before` and are not in flight. Moved
/// messages keep their id, body, metadata, group and sent time, and start with a receive
/// count of zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveRequest {
    pub from: QueueId,
    pub to: MoveDestination,
    pub max_messages: usize,
    pub sent_before: Millis,
    pub now: Millis,
}

/// A message move task (StartMessageMoveTask), as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveTaskRecord {
    pub handle: String,
    pub source_arn: String,
    pub destination_arn: Option<String>,
    pub max_per_second: Option<u32>,
    /// `RUNNING`, `COMPLETED`, `CANCELLING`, `CANCELLED` or `FAILED`.
    pub status: String,
    pub moved: u64,
    pub to_move: u64,
    pub failure_reason: Option<String>,
    pub started_at: Millis,
}

/// A change made by another node that may let a waiting receive find messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wakeup {
    /// `messages` messages of the queue became receivable (sent, moved in, made visible);
    /// 0 when the count is unknown, which should wake every waiter of the queue.
    Queue { queue: QueueId, messages: u32 },
    /// Wake-ups may have been missed (the connection that listens for them was lost):
    /// every waiter should look again.
    All,
}

/// An IAM role as stored. Role names are unique within an account regardless of ASCII
/// case (IAM's rule); lookups by name ignore ASCII case too. The documents are opaque
/// JSON text; the store does not interpret them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRecord {
    pub account: String,
    pub name: String,
    pub path: String,
    pub role_id: String,
    pub assume_role_policy: String,
    pub description: Option<String>,
    pub max_session_duration: i64,
    /// Tags in the order they were first set.
    pub tags: Vec<(String, String)>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateRoleOutcome {
    Created(RoleRecord),
    /// A role of that name (in any ASCII case) already exists.
    Exists(RoleRecord),
}

/// One change to a role's policies or tags (see [`crate::Store::change_role`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleChange {
    /// Attaches a managed policy by ARN; attaching it again changes nothing.
    AttachPolicy(String),
    /// Detaches a managed policy; [`RoleChangeOutcome::NoSuchPolicy`] when not attached.
    DetachPolicy(String),
    /// Adds or replaces the inline policy of that name.
    PutInlinePolicy { name: String, document: String },
    /// Deletes an inline policy; [`RoleChangeOutcome::NoSuchPolicy`] when absent.
    DeleteInlinePolicy(String),
    /// Adds tags, replacing the values of keys already present.
    Tag(Vec<(String, String)>),
    /// Removes tags by key; absent keys are ignored.
    Untag(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleChangeOutcome {
    Changed,
    NoSuchRole,
    NoSuchPolicy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteRoleOutcome {
    Deleted,
    NoSuchRole,
    /// Managed policies are still attached; nothing was deleted.
    HasAttachedPolicies,
    /// Inline policies still exist; nothing was deleted.
    HasInlinePolicies,
}

/// The policies of one role: attached managed policy ARNs and inline policies (name and
/// document), each sorted by ARN or name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RolePolicies {
    pub attached: Vec<String>,
    pub inline: Vec<(String, String)>,
}

/// The key role names are unique under: IAM does not distinguish names by case.
pub fn role_name_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// `tags` with `new` added: a key already present keeps its place and takes the new value.
pub fn merge_role_tags(tags: &mut Vec<(String, String)>, new: Vec<(String, String)>) {
    for (key, value) in new {
        match tags.iter_mut().find(|(existing, _)| *existing == key) {
            Some(slot) => slot.1 = value,
            None => tags.push((key, value)),
        }
    }
}

/// A Lambda function as stored, without its code. `configuration` is a JSON document the
/// engine owns; the store does not interpret it. Names are unique within an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRecord {
    pub account: String,
    pub name: String,
    pub configuration: String,
    pub created_at: Millis,
    pub modified_at: Millis,
    /// Changes with every update; callers may make an update conditional on it.
    pub revision_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateFunctionOutcome {
    Created,
    /// A function of that name exists in the account; nothing was written.
    Exists,
}

/// A change to a function (see [`crate::Store::update_function`]): the configuration
/// and/or the code, with the new modification time and revision id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionUpdate {
    pub configuration: Option<String>,
    pub code: Option<Vec<u8>>,
    pub modified_at: Millis,
    pub revision_id: String,
    /// When set, the update applies only while the stored revision id is this one.
    pub expected_revision_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateFunctionOutcome {
    Updated(FunctionRecord),
    NoSuchFunction,
    /// The stored revision id was not the expected one; nothing was written.
    RevisionMismatch,
}

/// A document about a Lambda resource other than a function's own configuration: a
/// published version, an alias, an event source mapping, an event invoke configuration,
/// a concurrency setting. The engine owns `kind`, `key` and `document`; the store keeps
/// them under (account, kind, key) without interpreting them. A resource may also carry a
/// blob (a published version's code), written with it and read separately.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRecord {
    pub account: String,
    pub kind: String,
    pub key: String,
    pub document: String,
    /// Changes with every write; writes and deletes may be conditional on it.
    pub revision_id: String,
    pub modified_at: Millis,
}

/// When a resource write or delete applies (see [`crate::Store::put_resource`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceCondition {
    /// Always: an upsert, or an unconditional delete.
    Any,
    /// Only when no resource has this (account, kind, key): a create.
    Absent,
    /// Only when the resource exists (whatever its revision).
    Exists,
    /// Only when the resource exists with this revision id.
    Revision(String),
}

impl ResourceCondition {
    /// Whether a resource stored with `stored_revision` (`None`: no resource) satisfies
    /// the condition.
    pub fn holds(&self, stored_revision: Option<&str>) -> bool {
        match (self, stored_revision) {
            (ResourceCondition::Any, _) => true,
            (ResourceCondition::Absent, stored) => stored.is_none(),
            (ResourceCondition::Exists, stored) => stored.is_some(),
            (ResourceCondition::Revision(expected), Some(stored)) => expected == stored,
            (ResourceCondition::Revision(_), None) => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceOutcome {
    /// Written or deleted.
    Done,
    /// The condition did not hold; nothing changed. For [`ResourceCondition::Absent`] the
    /// resource exists; for the others it is missing or has another revision.
    ConditionFailed,
}
