//! IAM roles: the calls deployment tools make before they create a Lambda function
//! (create an execution role, attach or put its policies, read it back, tear it down).
//!
//! Roles and their policies are stored and returned as AWS would, but nothing enforces
//! them: every signed (or, without configured keys, unsigned) request may do anything.
//!
//! # Layout
//!
//! - `types.rs`: inputs and outputs shared with the api crate.
//! - `roles.rs`: every role action as a method on [`crate::Engine`].
//! - `validate.rs`: names, paths, documents, tags and page sizes with IAM's messages.
//!
//! # Invariants
//!
//! - Role names are unique in an account regardless of ASCII case, and found by any case.
//! - A role with attached or inline policies is never deleted (`DeleteConflict`); the
//!   check and the delete are one store operation.

mod roles;
mod types;
mod validate;

pub use types::*;
