//! IAM's role actions over the query protocol (`Action=…&Version=2010-05-08`, XML
//! responses). The form decodes into one typed [`Action`]; [`dispatch`] runs it against
//! the engine in one `match`; `query.rs` encodes the [`Output`] and errors as XML.
//!
//! Roles and policies are stored and returned, not enforced (see `engine::iam`).

pub mod query;

use engine::Engine;
use engine::iam::{AttachedPolicy, CreateRoleInput, Listed, Page, Role, RolePolicy};

use crate::error::Result;

pub const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
pub const VERSION: &str = "2010-05-08";
/// The SigV4 signing name of IAM.
pub const SIGNING_NAME: &str = "iam";

action_names!(
    "The name of an IAM action eddy serves, as in the form's `Action`.";
    AttachRolePolicy,
    CreateRole,
    DeleteRole,
    DeleteRolePolicy,
    DetachRolePolicy,
    GetRole,
    GetRolePolicy,
    ListAttachedRolePolicies,
    ListRolePolicies,
    ListRoleTags,
    ListRoles,
    PutRolePolicy,
    TagRole,
    UntagRole,
);

/// One decoded IAM request, ready for the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    AttachRolePolicy {
        role_name: String,
        policy_arn: String,
    },
    CreateRole(CreateRoleInput),
    DeleteRole {
        role_name: String,
    },
    DeleteRolePolicy {
        role_name: String,
        policy_name: String,
    },
    DetachRolePolicy {
        role_name: String,
        policy_arn: String,
    },
    GetRole {
        role_name: String,
    },
    GetRolePolicy {
        role_name: String,
        policy_name: String,
    },
    ListAttachedRolePolicies {
        role_name: String,
        path_prefix: Option<String>,
        page: Page,
    },
    ListRolePolicies {
        role_name: String,
        page: Page,
    },
    ListRoleTags {
        role_name: String,
        page: Page,
    },
    ListRoles {
        path_prefix: Option<String>,
        page: Page,
    },
    PutRolePolicy {
        role_name: String,
        policy_name: String,
        policy_document: String,
    },
    TagRole {
        role_name: String,
        tags: Vec<(String, String)>,
    },
    UntagRole {
        role_name: String,
        tag_keys: Vec<String>,
    },
}

/// What an action returns, before encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Empty,
    Role(Role),
    Roles(Listed<Role>),
    AttachedPolicies(Listed<AttachedPolicy>),
    RolePolicy(RolePolicy),
    PolicyNames(Listed<String>),
    Tags(Listed<(String, String)>),
}

/// Runs one action for `account`.
pub async fn dispatch(engine: &Engine, account: &str, action: Action) -> Result<Output> {
    let output = match action {
        Action::AttachRolePolicy {
            role_name,
            policy_arn,
        } => {
            engine
                .attach_role_policy(account, &role_name, &policy_arn)
                .await?;
            Output::Empty
        }
        Action::CreateRole(input) => Output::Role(engine.create_role(account, input).await?),
        Action::DeleteRole { role_name } => {
            engine.delete_role(account, &role_name).await?;
            Output::Empty
        }
        Action::DeleteRolePolicy {
            role_name,
            policy_name,
        } => {
            engine
                .delete_role_policy(account, &role_name, &policy_name)
                .await?;
            Output::Empty
        }
        Action::DetachRolePolicy {
            role_name,
            policy_arn,
        } => {
            engine
                .detach_role_policy(account, &role_name, &policy_arn)
                .await?;
            Output::Empty
        }
        Action::GetRole { role_name } => Output::Role(engine.get_role(account, &role_name).await?),
        Action::GetRolePolicy {
            role_name,
            policy_name,
        } => Output::RolePolicy(
            engine
                .get_role_policy(account, &role_name, &policy_name)
                .await?,
        ),
        Action::ListAttachedRolePolicies {
            role_name,
            path_prefix,
            page,
        } => Output::AttachedPolicies(
            engine
                .list_attached_role_policies(account, &role_name, path_prefix.as_deref(), &page)
                .await?,
        ),
        Action::ListRolePolicies { role_name, page } => Output::PolicyNames(
            engine
                .list_role_policies(account, &role_name, &page)
                .await?,
        ),
        Action::ListRoleTags { role_name, page } => {
            Output::Tags(engine.list_role_tags(account, &role_name, &page).await?)
        }
        Action::ListRoles { path_prefix, page } => Output::Roles(
            engine
                .list_roles(account, path_prefix.as_deref(), &page)
                .await?,
        ),
        Action::PutRolePolicy {
            role_name,
            policy_name,
            policy_document,
        } => {
            engine
                .put_role_policy(account, &role_name, &policy_name, &policy_document)
                .await?;
            Output::Empty
        }
        Action::TagRole { role_name, tags } => {
            engine.tag_role(account, &role_name, tags).await?;
            Output::Empty
        }
        Action::UntagRole {
            role_name,
            tag_keys,
        } => {
            engine.untag_role(account, &role_name, tag_keys).await?;
            Output::Empty
        }
    };
    Ok(output)
}
