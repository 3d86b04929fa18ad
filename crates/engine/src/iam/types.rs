//! Inputs and outputs of the IAM role actions, shared with the api crate.

/// One role as the IAM API describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub name: String,
    pub path: String,
    /// `AROA` followed by 17 characters, fixed when the role is created.
    pub role_id: String,
    /// `arn:aws:iam::<account>:role<path><name>`.
    pub arn: String,
    /// ISO 8601, in UTC, to the second.
    pub create_date: String,
    /// The trust policy as given (JSON text; the query protocol URL-encodes it).
    pub assume_role_policy_document: String,
    pub description: Option<String>,
    pub max_session_duration: i64,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateRoleInput {
    pub role_name: String,
    pub path: Option<String>,
    pub assume_role_policy_document: String,
    pub description: Option<String>,
    pub max_session_duration: Option<i64>,
    /// Accepted and validated as an ARN, not stored: boundaries are not enforced either.
    pub permissions_boundary: Option<String>,
    pub tags: Vec<(String, String)>,
}

/// `Marker` and `MaxItems` of the IAM list actions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub marker: Option<String>,
    pub max_items: Option<i64>,
}

/// One page of a list: `marker` is set exactly when the list is truncated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub marker: Option<String>,
}

impl<T> Listed<T> {
    pub fn is_truncated(&self) -> bool {
        self.marker.is_some()
    }
}

/// A managed policy attached to a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedPolicy {
    pub policy_name: String,
    pub policy_arn: String,
}

/// An inline policy of a role, as GetRolePolicy returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolePolicy {
    pub role_name: String,
    pub policy_name: String,
    pub policy_document: String,
}
