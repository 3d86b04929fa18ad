//! STS `GetCallerIdentity`: who the request's signature says the caller is.

use crate::xml::XmlWriter;

pub const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
pub const VERSION: &str = "2011-06-15";
/// The `X-Amz-Target` prefix of STS over JSON (AWS JSON 1.1).
pub const TARGET_PREFIX: &str = "AWSSecurityTokenServiceV20110615.";
pub const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The one STS action eddy serves.
pub const GET_CALLER_IDENTITY: &str = "GetCallerIdentity";

/// The identity of the caller: the account root, as for a root access key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

impl CallerIdentity {
    pub fn of_account(account: &str) -> CallerIdentity {
        CallerIdentity {
            account: account.to_string(),
            arn: format!("arn:aws:iam::{account}:root"),
            user_id: account.to_string(),
        }
    }
}

pub fn encode_xml(identity: &CallerIdentity, request_id: &str) -> String {
    let mut xml = XmlWriter::with_capacity(400);
    xml.open_with_namespace("GetCallerIdentityResponse", NAMESPACE);
    xml.open("GetCallerIdentityResult");
    xml.element("Arn", &identity.arn);
    xml.element("UserId", &identity.user_id);
    xml.element("Account", &identity.account);
    xml.close("GetCallerIdentityResult");
    xml.open("ResponseMetadata");
    xml.element("RequestId", request_id);
    xml.close("ResponseMetadata");
    xml.close("GetCallerIdentityResponse");
    xml.finish()
}

pub fn encode_json(identity: &CallerIdentity) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "Account": identity.account,
        "Arn": identity.arn,
        "UserId": identity.user_id,
    }))
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_names_the_account_root() {
        let xml = encode_xml(&CallerIdentity::of_account("000000000000"), "rid");
        assert_eq!(
            xml,
            concat!(
                "<?xml version=\"1.0\"?>",
                "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">",
                "<GetCallerIdentityResult><Arn>arn:aws:iam::000000000000:root</Arn>",
                "<UserId>000000000000</UserId><Account>000000000000</Account>",
                "</GetCallerIdentityResult><ResponseMetadata><RequestId>rid</RequestId>",
                "</ResponseMetadata></GetCallerIdentityResponse>"
            )
        );
    }
}
