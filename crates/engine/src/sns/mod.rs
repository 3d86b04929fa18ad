//! SNS lives here. For now only the subscription filter-policy engine, which is not yet
//! wired to any API: SNS topics come with issue 4.

pub mod filter_policy;
pub mod signing;
