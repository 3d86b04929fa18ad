//! Decoding of the version and alias paths under a function
//! (`/2015-03-31/functions/{name}/versions`, `…/aliases[/{alias}]`) into an [`Action`].

use http::Method;

use super::{Action, json_body, max_items};
use crate::error::{Error, Result};

/// The action of `method` on `/2015-03-31/functions/{function_name}/{rest…}`, where
/// `rest` starts with `versions` or `aliases`; `parameter` reads the query string.
pub fn decode(
    method: &Method,
    function_name: &str,
    rest: &[&str],
    parameter: &dyn Fn(&str) -> Option<String>,
    body: &[u8],
) -> Result<Action> {
    let function_name = function_name.to_string();
    match (method, rest) {
        (&Method::POST, ["versions"]) => Ok(Action::PublishVersion {
            function_name,
            input: json_body(body)?,
        }),
        (&Method::GET, ["versions"]) => Ok(Action::ListVersionsByFunction {
            function_name,
            marker: parameter("Marker"),
            max_items: max_items(parameter("MaxItems"))?,
        }),
        (&Method::POST, ["aliases"]) => Ok(Action::CreateAlias {
            function_name,
            input: json_body(body)?,
        }),
        (&Method::GET, ["aliases"]) => Ok(Action::ListAliases {
            function_name,
            function_version: parameter("FunctionVersion"),
            marker: parameter("Marker"),
            max_items: max_items(parameter("MaxItems"))?,
        }),
        (&Method::GET, ["aliases", name]) => Ok(Action::GetAlias {
            function_name,
            name: name.to_string(),
        }),
        (&Method::PUT, ["aliases", name]) => Ok(Action::UpdateAlias {
            function_name,
            name: name.to_string(),
            input: json_body(body)?,
        }),
        (&Method::DELETE, ["aliases", name]) => Ok(Action::DeleteAlias {
            function_name,
            name: name.to_string(),
        }),
        _ => Err(Error::InvalidAction),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_and_alias_paths_decode_into_actions() -> Result<()> {
        let none = |_: &str| None;
        assert!(matches!(
            decode(&Method::POST, "f", &["versions"], &none, br#"{"Description":"d"}"#)?,
            Action::PublishVersion { function_name, input } if function_name == "f" && input.description.as_deref() == Some("d")
        ));
        assert!(matches!(
            decode(&Method::PUT, "f", &["aliases", "live"], &none, br#"{"FunctionVersion":"2"}"#)?,
            Action::UpdateAlias { name, input, .. } if name == "live" && input.function_version.as_deref() == Some("2")
        ));
        assert!(matches!(
            decode(&Method::PATCH, "f", &["aliases"], &none, b""),
            Err(Error::InvalidAction)
        ));
        Ok(())
    }
}
