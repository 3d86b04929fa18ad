//! IAM over the query protocol: form parameters into an [`Action`], outputs and errors
//! into XML in IAM's namespace. Lists are `member`-wrapped (`Tags.member.1.Key`,
//! `TagKeys.member.1`), and policy documents go out URL-encoded, as IAM sends them (the
//! SDKs decode them).

use engine::iam::{Listed, Page, Role};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::{Action, ActionName, NAMESPACE, Output};
use crate::error::{Error, Result, WireError};
use crate::sqs::query::Params;
use crate::xml::XmlWriter;

/// What stays unescaped in a URL-encoded document: RFC 3986's unreserved characters.
const DOCUMENT_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// IAM answers a missing required member with a `ValidationError` naming it in camel case.
fn required(params: &Params<'_>, name: &str) -> Result<String> {
    params.get(name).map(str::to_string).ok_or_else(|| {
        let mut field = name.to_string();
        if let Some(first) = field.get_mut(..1) {
            first.make_ascii_lowercase();
        }
        Error::Engine(engine::Error::ValidationError(format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
        )))
    })
}

fn optional(params: &Params<'_>, name: &str) -> Option<String> {
    params.get(name).map(str::to_string)
}

fn integer(params: &Params<'_>, name: &str) -> Result<Option<i64>> {
    match params.get(name) {
        None => Ok(None),
        Some(text) => text.trim().parse().map(Some).map_err(|_| {
            Error::Engine(engine::Error::ValidationError(format!(
                "1 validation error detected: Value '{text}' at '{name}' failed to satisfy constraint: Member must be an integer"
            )))
        }),
    }
}

fn page(params: &Params<'_>) -> Result<Page> {
    Ok(Page {
        marker: optional(params, "Marker"),
        max_items: integer(params, "MaxItems")?,
    })
}

/// `prefix.member.1`, `prefix.member.2`, … until the first gap.
fn members(params: &Params<'_>, prefix: &str) -> Vec<String> {
    (1..)
        .map_while(|index| params.get(&format!("{prefix}.member.{index}")))
        .map(str::to_string)
        .collect()
}

/// `Tags.member.N.Key` / `Tags.member.N.Value`, in order, until the first gap.
fn tags(params: &Params<'_>) -> Vec<(String, String)> {
    (1..)
        .map_while(|index| {
            let key = params.get(&format!("Tags.member.{index}.Key"))?;
            let value = params
                .get(&format!("Tags.member.{index}.Value"))
                .unwrap_or("");
            Some((key.to_string(), value.to_string()))
        })
        .collect()
}

pub fn decode(name: ActionName, params: &Params<'_>) -> Result<Action> {
    let role_name = || required(params, "RoleName");
    let action = match name {
        ActionName::AttachRolePolicy => Action::AttachRolePolicy {
            role_name: role_name()?,
            policy_arn: required(params, "PolicyArn")?,
        },
        ActionName::CreateRole => Action::CreateRole(engine::iam::CreateRoleInput {
            role_name: role_name()?,
            path: optional(params, "Path"),
            assume_role_policy_document: required(params, "AssumeRolePolicyDocument")?,
            description: optional(params, "Description"),
            max_session_duration: integer(params, "MaxSessionDuration")?,
            permissions_boundary: optional(params, "PermissionsBoundary"),
            tags: tags(params),
        }),
        ActionName::DeleteRole => Action::DeleteRole {
            role_name: role_name()?,
        },
        ActionName::DeleteRolePolicy => Action::DeleteRolePolicy {
            role_name: role_name()?,
            policy_name: required(params, "PolicyName")?,
        },
        ActionName::DetachRolePolicy => Action::DetachRolePolicy {
            role_name: role_name()?,
            policy_arn: required(params, "PolicyArn")?,
        },
        ActionName::GetRole => Action::GetRole {
            role_name: role_name()?,
        },
        ActionName::GetRolePolicy => Action::GetRolePolicy {
            role_name: role_name()?,
            policy_name: required(params, "PolicyName")?,
        },
        ActionName::ListAttachedRolePolicies => Action::ListAttachedRolePolicies {
            role_name: role_name()?,
            path_prefix: optional(params, "PathPrefix"),
            page: page(params)?,
        },
        ActionName::ListRolePolicies => Action::ListRolePolicies {
            role_name: role_name()?,
            page: page(params)?,
        },
        ActionName::ListRoleTags => Action::ListRoleTags {
            role_name: role_name()?,
            page: page(params)?,
        },
        ActionName::ListRoles => Action::ListRoles {
            path_prefix: optional(params, "PathPrefix"),
            page: page(params)?,
        },
        ActionName::PutRolePolicy => Action::PutRolePolicy {
            role_name: role_name()?,
            policy_name: required(params, "PolicyName")?,
            policy_document: required(params, "PolicyDocument")?,
        },
        ActionName::TagRole => Action::TagRole {
            role_name: role_name()?,
            tags: tags(params),
        },
        ActionName::UntagRole => Action::UntagRole {
            role_name: role_name()?,
            tag_keys: members(params, "TagKeys"),
        },
    };
    Ok(action)
}

fn url_encoded(document: &str) -> String {
    utf8_percent_encode(document, DOCUMENT_ESCAPES).to_string()
}

fn write_tags(xml: &mut XmlWriter, tags: &[(String, String)]) {
    xml.open("Tags");
    for (key, value) in tags {
        xml.open("member");
        xml.element("Key", key);
        xml.element("Value", value);
        xml.close("member");
    }
    xml.close("Tags");
}

/// One role; `with_tags` is false in ListRoles, which IAM documents as leaving tags out.
fn write_role(xml: &mut XmlWriter, tag: &str, role: &Role, with_tags: bool) {
    xml.open(tag);
    xml.element("Path", &role.path);
    xml.element("RoleName", &role.name);
    xml.element("RoleId", &role.role_id);
    xml.element("Arn", &role.arn);
    xml.element("CreateDate", &role.create_date);
    xml.element(
        "AssumeRolePolicyDocument",
        &url_encoded(&role.assume_role_policy_document),
    );
    xml.optional_element("Description", role.description.as_deref());
    xml.number_element("MaxSessionDuration", role.max_session_duration);
    if with_tags && !role.tags.is_empty() {
        write_tags(xml, &role.tags);
    }
    xml.close(tag);
}

fn write_page_end<T>(xml: &mut XmlWriter, listed: &Listed<T>) {
    xml.element(
        "IsTruncated",
        if listed.is_truncated() {
            "true"
        } else {
            "false"
        },
    );
    xml.optional_element("Marker", listed.marker.as_deref());
}

pub fn encode(action: ActionName, output: &Output, request_id: &str) -> String {
    let name = action.as_str();
    let mut xml = XmlWriter::with_capacity(800);
    let response = format!("{name}Response");
    let result = format!("{name}Result");
    xml.open_with_namespace(&response, NAMESPACE);
    if !matches!(output, Output::Empty) {
        xml.open(&result);
    }
    match output {
        Output::Empty => {}
        Output::Role(role) => write_role(&mut xml, "Role", role, true),
        Output::Roles(roles) => {
            xml.open("Roles");
            for role in &roles.items {
                write_role(&mut xml, "member", role, false);
            }
            xml.close("Roles");
            write_page_end(&mut xml, roles);
        }
        Output::AttachedPolicies(policies) => {
            xml.open("AttachedPolicies");
            for policy in &policies.items {
                xml.open("member");
                xml.element("PolicyName", &policy.policy_name);
                xml.element("PolicyArn", &policy.policy_arn);
                xml.close("member");
            }
            xml.close("AttachedPolicies");
            write_page_end(&mut xml, policies);
        }
        Output::RolePolicy(policy) => {
            xml.element("RoleName", &policy.role_name);
            xml.element("PolicyName", &policy.policy_name);
            xml.element("PolicyDocument", &url_encoded(&policy.policy_document));
        }
        Output::PolicyNames(names) => {
            xml.open("PolicyNames");
            for name in &names.items {
                xml.element("member", name);
            }
            xml.close("PolicyNames");
            write_page_end(&mut xml, names);
        }
        Output::Tags(tags) => {
            write_tags(&mut xml, &tags.items);
            write_page_end(&mut xml, tags);
        }
    }
    if !matches!(output, Output::Empty) {
        xml.close(&result);
    }
    xml.open("ResponseMetadata");
    xml.element("RequestId", request_id);
    xml.close("ResponseMetadata");
    xml.close(&response);
    xml.finish()
}

/// IAM's error document: like SQS's, without the `Detail` element.
pub fn error_body(error: &WireError, request_id: &str) -> String {
    crate::xml::error_document(NAMESPACE, error, request_id)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn decoded(form: &str) -> Result<Action> {
        let params = Params::parse(&[form.as_bytes()])?;
        let name = ActionName::parse(params.get("Action").unwrap()).unwrap();
        decode(name, &params)
    }

    #[test]
    fn create_role_decodes_documents_and_tags_in_order() {
        let action = decoded(
            "Action=CreateRole&Version=2010-05-08&RoleName=r&Path=%2Fapp%2F\
             &AssumeRolePolicyDocument=%7B%7D&MaxSessionDuration=7200\
             &Tags.member.1.Key=z&Tags.member.1.Value=1&Tags.member.2.Key=a&Tags.member.2.Value=2",
        )
        .unwrap();
        assert_eq!(
            action,
            Action::CreateRole(engine::iam::CreateRoleInput {
                role_name: "r".into(),
                path: Some("/app/".into()),
                assume_role_policy_document: "{}".into(),
                max_session_duration: Some(7200),
                tags: vec![("z".into(), "1".into()), ("a".into(), "2".into())],
                ..Default::default()
            })
        );
    }

    #[test]
    fn missing_role_name_is_a_validation_error() {
        let error = decoded("Action=GetRole").unwrap_err();
        let wire = error.wire();
        assert_eq!(wire.query_code, "ValidationError");
        assert!(wire.message.contains("'roleName'"), "{}", wire.message);
    }

    #[test]
    fn every_action_name_decodes() {
        for name in ActionName::ALL {
            let form = format!(
                "Action={}&RoleName=r&PolicyArn=a&PolicyName=p&PolicyDocument=d&AssumeRolePolicyDocument=d",
                name.as_str()
            );
            assert!(decoded(&form).is_ok(), "{form}");
        }
    }

    #[test]
    fn role_xml_url_encodes_the_trust_policy() {
        let role = Role {
            name: "r".into(),
            path: "/".into(),
            role_id: "AROAAAAAAAAAAAAAAAAAA".into(),
            arn: "arn:aws:iam::000000000000:role/r".into(),
            create_date: "2023-11-14T22:13:20Z".into(),
            assume_role_policy_document: r#"{"a": "b c"}"#.into(),
            description: None,
            max_session_duration: 3600,
            tags: vec![("k".into(), "v".into())],
        };
        let xml = encode(ActionName::GetRole, &Output::Role(role), "rid");
        assert_eq!(
            xml,
            concat!(
                "<?xml version=\"1.0\"?>",
                "<GetRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">",
                "<GetRoleResult><Role><Path>/</Path><RoleName>r</RoleName>",
                "<RoleId>AROAAAAAAAAAAAAAAAAAA</RoleId><Arn>arn:aws:iam::000000000000:role/r</Arn>",
                "<CreateDate>2023-11-14T22:13:20Z</CreateDate>",
                "<AssumeRolePolicyDocument>%7B%22a%22%3A%20%22b%20c%22%7D</AssumeRolePolicyDocument>",
                "<MaxSessionDuration>3600</MaxSessionDuration>",
                "<Tags><member><Key>k</Key><Value>v</Value></member></Tags>",
                "</Role></GetRoleResult>",
                "<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata>",
                "</GetRoleResponse>"
            )
        );
    }

    #[test]
    fn error_xml_has_type_code_message_and_request_id() {
        let wire = Error::Engine(engine::Error::NoSuchEntity(
            "The role with name r cannot be found.".into(),
        ))
        .wire();
        assert_eq!(wire.status, http::StatusCode::NOT_FOUND);
        assert_eq!(
            error_body(&wire, "rid"),
            concat!(
                "<?xml version=\"1.0\"?>",
                "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error>",
                "<Type>Sender</Type><Code>NoSuchEntity</Code>",
                "<Message>The role with name r cannot be found.</Message></Error>",
                "<RequestId>rid</RequestId></ErrorResponse>"
            )
        );
    }
}
