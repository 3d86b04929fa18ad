//! The IAM role actions: create, read, list and delete roles, and their managed
//! (attached) and inline policies and tags. Stored, returned, never enforced.

use store::{
    CreateRoleOutcome, DeleteRoleOutcome, Millis, RoleChange, RoleChangeOutcome, RoleRecord,
};

use super::types::{AttachedPolicy, CreateRoleInput, Listed, Page, Role, RolePolicy};
use super::validate;
use crate::{Engine, Error, Result};

fn no_such_role(name: &str) -> Error {
    Error::NoSuchEntity(format!("The role with name {name} cannot be found."))
}

fn no_such_role_policy(name: &str) -> Error {
    Error::NoSuchEntity(format!("The role policy with name {name} cannot be found."))
}

/// A fresh role id: `AROA` and 17 characters of the base32 alphabet IAM ids use.
fn new_role_id() -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = uuid::Uuid::new_v4().as_u128();
    let mut id = String::with_capacity(21);
    id.push_str("AROA");
    for _ in 0..17 {
        id.push(char::from(ALPHABET[(bits & 31) as usize]));
        bits >>= 5;
    }
    id
}

/// `millis` as ISO 8601 in UTC to the second, e.g. `2023-11-14T22:13:20Z`.
pub(crate) fn iso8601(millis: Millis) -> String {
    let seconds = millis.div_euclid(1000);
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = crate::clock::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    )
}

fn role_of(record: RoleRecord) -> Role {
    Role {
        arn: format!(
            "arn:aws:iam::{}:role{}{}",
            record.account, record.path, record.name
        ),
        create_date: iso8601(record.created_at),
        name: record.name,
        path: record.path,
        role_id: record.role_id,
        assume_role_policy_document: record.assume_role_policy,
        description: record.description,
        max_session_duration: record.max_session_duration,
        tags: record.tags,
    }
}

/// One page of `items` (already sorted by `key`) after `marker`.
fn page_of<T>(items: Vec<T>, page: &Page, key: impl Fn(&T) -> &str) -> Result<Listed<T>> {
    let limit = validate::max_items(page.max_items)?;
    if let Some(marker) = &page.marker {
        validate::marker(marker)?;
    }
    let mut rest: Vec<T> = items
        .into_iter()
        .filter(|item| page.marker.as_deref().is_none_or(|m| key(item) > m))
        .collect();
    let truncated = rest.len() > limit;
    rest.truncate(limit);
    let marker = match rest.last() {
        Some(last) if truncated => Some(key(last).to_string()),
        _ => None,
    };
    Ok(Listed {
        items: rest,
        marker,
    })
}

impl Engine {
    /// CreateRole.
    pub async fn create_role(&self, account: &str, input: CreateRoleInput) -> Result<Role> {
        validate::role_name(&input.role_name)?;
        let path = input.path.unwrap_or_else(|| "/".to_string());
        validate::path(&path)?;
        validate::policy_document(
            &input.assume_role_policy_document,
            "assumeRolePolicyDocument",
        )?;
        if let Some(description) = &input.description {
            validate::description(description)?;
        }
        let max_session_duration = input
            .max_session_duration
            .unwrap_or(validate::DEFAULT_MAX_SESSION_DURATION);
        validate::max_session_duration(max_session_duration)?;
        if let Some(boundary) = &input.permissions_boundary {
            validate::policy_arn(boundary)?;
        }
        validate::tags(&input.tags)?;
        let mut tags: Vec<(String, String)> = Vec::with_capacity(input.tags.len());
        store::merge_role_tags(&mut tags, input.tags);
        let record = RoleRecord {
            account: account.to_string(),
            name: input.role_name,
            path,
            role_id: new_role_id(),
            assume_role_policy: input.assume_role_policy_document,
            description: input.description,
            max_session_duration,
            tags,
            // IAM reports creation to the second.
            created_at: self.now() / 1000 * 1000,
        };
        match self.store().create_role(record).await? {
            CreateRoleOutcome::Created(record) => Ok(role_of(record)),
            CreateRoleOutcome::Exists(existing) => Err(Error::EntityAlreadyExists(format!(
                "Role with name {} already exists.",
                existing.name
            ))),
        }
    }

    /// GetRole.
    pub async fn get_role(&self, account: &str, name: &str) -> Result<Role> {
        validate::role_name(name)?;
        match self.store().get_role(account, name).await? {
            Some(record) => Ok(role_of(record)),
            None => Err(no_such_role(name)),
        }
    }

    /// ListRoles: ordered by name regardless of case; the marker is the last name returned.
    pub async fn list_roles(
        &self,
        account: &str,
        path_prefix: Option<&str>,
        page: &Page,
    ) -> Result<Listed<Role>> {
        let prefix = path_prefix.unwrap_or("/");
        validate::path_prefix(prefix)?;
        let limit = validate::max_items(page.max_items)?;
        if let Some(marker) = &page.marker {
            validate::marker(marker)?;
        }
        let mut records = self
            .store()
            .list_roles(account, prefix, page.marker.as_deref(), limit + 1)
            .await?;
        let truncated = records.len() > limit;
        records.truncate(limit);
        let marker = match records.last() {
            Some(last) if truncated => Some(last.name.clone()),
            _ => None,
        };
        Ok(Listed {
            items: records.into_iter().map(role_of).collect(),
            marker,
        })
    }

    /// DeleteRole: refused while managed policies are attached or inline policies exist.
    pub async fn delete_role(&self, account: &str, name: &str) -> Result<()> {
        validate::role_name(name)?;
        match self.store().delete_role(account, name).await? {
            DeleteRoleOutcome::Deleted => Ok(()),
            DeleteRoleOutcome::NoSuchRole => Err(no_such_role(name)),
            DeleteRoleOutcome::HasAttachedPolicies => Err(Error::DeleteConflict(
                "Cannot delete entity, must detach all policies first.".to_string(),
            )),
            DeleteRoleOutcome::HasInlinePolicies => Err(Error::DeleteConflict(
                "Cannot delete entity, must delete policies first.".to_string(),
            )),
        }
    }

    async fn change_role(&self, account: &str, name: &str, change: RoleChange) -> Result<bool> {
        match self.store().change_role(account, name, change).await? {
            RoleChangeOutcome::Changed => Ok(true),
            RoleChangeOutcome::NoSuchPolicy => Ok(false),
            RoleChangeOutcome::NoSuchRole => Err(no_such_role(name)),
        }
    }

    /// AttachRolePolicy. Any well-formed policy ARN is accepted: eddy keeps no catalogue
    /// of managed policies. Attaching one twice keeps one attachment.
    pub async fn attach_role_policy(&self, account: &str, name: &str, arn: &str) -> Result<()> {
        validate::role_name(name)?;
        validate::policy_arn(arn)?;
        self.change_role(account, name, RoleChange::AttachPolicy(arn.to_string()))
            .await?;
        Ok(())
    }

    /// DetachRolePolicy.
    pub async fn detach_role_policy(&self, account: &str, name: &str, arn: &str) -> Result<()> {
        validate::role_name(name)?;
        validate::policy_arn(arn)?;
        let detached = self
            .change_role(account, name, RoleChange::DetachPolicy(arn.to_string()))
            .await?;
        if !detached {
            return Err(Error::NoSuchEntity(format!("Policy {arn} was not found.")));
        }
        Ok(())
    }

    /// ListAttachedRolePolicies, ordered by ARN; the marker is the last ARN returned.
    pub async fn list_attached_role_policies(
        &self,
        account: &str,
        name: &str,
        path_prefix: Option<&str>,
        page: &Page,
    ) -> Result<Listed<AttachedPolicy>> {
        validate::role_name(name)?;
        let prefix = path_prefix.unwrap_or("/");
        validate::path_prefix(prefix)?;
        let policies = self
            .store()
            .role_policies(account, name)
            .await?
            .ok_or_else(|| no_such_role(name))?;
        let attached = policies
            .attached
            .into_iter()
            .filter(|arn| policy_path(arn).starts_with(prefix))
            .map(|arn| AttachedPolicy {
                policy_name: validate::policy_name_of_arn(&arn).to_string(),
                policy_arn: arn,
            })
            .collect();
        page_of(attached, page, |policy| &policy.policy_arn)
    }

    /// PutRolePolicy: adds or replaces an inline policy.
    pub async fn put_role_policy(
        &self,
        account: &str,
        name: &str,
        policy_name: &str,
        document: &str,
    ) -> Result<()> {
        validate::role_name(name)?;
        validate::policy_name(policy_name)?;
        validate::policy_document(document, "policyDocument")?;
        let change = RoleChange::PutInlinePolicy {
            name: policy_name.to_string(),
            document: document.to_string(),
        };
        self.change_role(account, name, change).await?;
        Ok(())
    }

    /// GetRolePolicy.
    pub async fn get_role_policy(
        &self,
        account: &str,
        name: &str,
        policy_name: &str,
    ) -> Result<RolePolicy> {
        validate::role_name(name)?;
        validate::policy_name(policy_name)?;
        let role = self
            .store()
            .get_role(account, name)
            .await?
            .ok_or_else(|| no_such_role(name))?;
        let policies = self
            .store()
            .role_policies(account, name)
            .await?
            .ok_or_else(|| no_such_role(name))?;
        let (policy_name, policy_document) = policies
            .inline
            .into_iter()
            .find(|(stored, _)| stored == policy_name)
            .ok_or_else(|| no_such_role_policy(policy_name))?;
        Ok(RolePolicy {
            role_name: role.name,
            policy_name,
            policy_document,
        })
    }

    /// DeleteRolePolicy.
    pub async fn delete_role_policy(
        &self,
        account: &str,
        name: &str,
        policy_name: &str,
    ) -> Result<()> {
        validate::role_name(name)?;
        validate::policy_name(policy_name)?;
        let deleted = self
            .change_role(
                account,
                name,
                RoleChange::DeleteInlinePolicy(policy_name.to_string()),
            )
            .await?;
        if !deleted {
            return Err(no_such_role_policy(policy_name));
        }
        Ok(())
    }

    /// ListRolePolicies: inline policy names in order; the marker is the last name returned.
    pub async fn list_role_policies(
        &self,
        account: &str,
        name: &str,
        page: &Page,
    ) -> Result<Listed<String>> {
        validate::role_name(name)?;
        let policies = self
            .store()
            .role_policies(account, name)
            .await?
            .ok_or_else(|| no_such_role(name))?;
        let names = policies.inline.into_iter().map(|(name, _)| name).collect();
        page_of(names, page, String::as_str)
    }

    /// TagRole: adds tags, replacing the values of keys already present.
    pub async fn tag_role(
        &self,
        account: &str,
        name: &str,
        tags: Vec<(String, String)>,
    ) -> Result<()> {
        validate::role_name(name)?;
        validate::tags(&tags)?;
        let role = self.get_role(account, name).await?;
        let mut merged = role.tags;
        store::merge_role_tags(&mut merged, tags.clone());
        if merged.len() > validate::MAX_TAGS_PER_ROLE {
            return Err(Error::LimitExceeded(format!(
                "The number of tags has reached the maximum limit of {}.",
                validate::MAX_TAGS_PER_ROLE
            )));
        }
        self.change_role(account, name, RoleChange::Tag(tags))
            .await?;
        Ok(())
    }

    /// UntagRole: removes tags by key; keys the role does not have are ignored.
    pub async fn untag_role(&self, account: &str, name: &str, keys: Vec<String>) -> Result<()> {
        validate::role_name(name)?;
        validate::tag_keys(&keys)?;
        self.change_role(account, name, RoleChange::Untag(keys))
            .await?;
        Ok(())
    }

    /// ListRoleTags, in the order the tags were first set; the marker is the last key.
    pub async fn list_role_tags(
        &self,
        account: &str,
        name: &str,
        page: &Page,
    ) -> Result<Listed<(String, String)>> {
        let role = self.get_role(account, name).await?;
        let limit = validate::max_items(page.max_items)?;
        // Tags keep their insertion order, so the marker is a position, not a key.
        let start = match &page.marker {
            None => 0,
            Some(marker) => {
                validate::marker(marker)?;
                marker
                    .parse::<usize>()
                    .map_err(|_| Error::InvalidInput(format!("Invalid marker: {marker}")))?
            }
        };
        let items: Vec<(String, String)> = role.tags.into_iter().skip(start).collect();
        let truncated = items.len() > limit;
        let items: Vec<(String, String)> = items.into_iter().take(limit).collect();
        Ok(Listed {
            marker: truncated.then(|| (start + limit).to_string()),
            items,
        })
    }
}

/// The path of a managed policy ARN: what lies between `policy` and the name.
fn policy_path(arn: &str) -> &str {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or("");
    let after = resource.strip_prefix("policy").unwrap_or(resource);
    match after.rfind('/') {
        Some(end) => &after[..=end],
        None => "/",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats_utc_seconds() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_700_000_000_123), "2023-11-14T22:13:20Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn role_ids_are_aroa_and_17_base32_characters() {
        let id = new_role_id();
        assert_eq!(id.len(), 21);
        assert!(id.starts_with("AROA"));
        assert!(
            id.chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c))
        );
        assert_ne!(id, new_role_id());
    }

    #[test]
    fn policy_path_is_between_policy_and_the_name() {
        assert_eq!(
            policy_path("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
            "/service-role/"
        );
        assert_eq!(policy_path("arn:aws:iam::aws:policy/ReadOnlyAccess"), "/");
    }
}
