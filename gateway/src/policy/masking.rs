//! What leaves the gateway in `errors`: subgraph errors lose their message and every
//! extension but `code` (the full error is logged, in the request's span so it carries
//! the trace id) — except the domain refusals of the command pattern, whose message and
//! documented extensions are written for the client (a refused transition must say which
//! states are allowed) — and validation messages lose "Did you mean" suggestions while
//! introspection is off, so the schema cannot be guessed field by field.

use atrium_contract::ErrorCode;
use serde_json::{Map, Value};

/// The one message a client sees for any subgraph error; `extensions.code` says which.
pub const MASKED_SUBGRAPH_MESSAGE: &str = "A service could not complete this part of the request.";

/// Codes of a write the domain refused (docs/conformance.md#error-codes): services build
/// their message from the request and the entity's state only, never from internals, so
/// it passes, with the extensions listed in [`CLIENT_EXTENSIONS`].
const CLIENT_SAFE_CODES: [ErrorCode; 5] = [
    ErrorCode::BadUserInput,
    ErrorCode::NotFound,
    ErrorCode::Forbidden,
    ErrorCode::InvalidTransition,
    ErrorCode::Conflict,
];

/// Extensions of a client-safe error that pass besides `code`: an invalid transition's
/// current state and the states allowed from it.
const CLIENT_EXTENSIONS: [&str; 2] = ["current", "allowed"];

/// Masks every error that came from (or is about) a subgraph, recognised by the
/// `serviceName` extension the engine puts on them. Returns how many were masked.
pub fn mask_subgraph_errors(body: &mut Value) -> usize {
    let Some(errors) = body.get_mut("errors").and_then(Value::as_array_mut) else { return 0 };
    let mut masked = 0;
    for error in errors.iter_mut() {
        let Some(service) = error.pointer("/extensions/serviceName").and_then(Value::as_str) else { continue };
        tracing::warn!(subgraph = service, error = %error, "masked a subgraph error");
        let code = error.pointer("/extensions/code").cloned().filter(Value::is_string);
        let path = error.get("path").cloned().filter(Value::is_array);
        let client_safe = code
            .as_ref()
            .and_then(Value::as_str)
            .is_some_and(|code| CLIENT_SAFE_CODES.iter().any(|safe| safe.as_str() == code));
        let message = match error.get("message") {
            Some(Value::String(message)) if client_safe => message.clone(),
            _ => MASKED_SUBGRAPH_MESSAGE.to_owned(),
        };
        let mut replacement = Map::with_capacity(3);
        replacement.insert("message".into(), Value::String(message));
        if let Some(path) = path {
            replacement.insert("path".into(), path);
        }
        let mut extensions = Map::with_capacity(1);
        if client_safe {
            for key in CLIENT_EXTENSIONS {
                if let Some(value) = error.pointer(&format!("/extensions/{key}")) {
                    extensions.insert(key.into(), value.clone());
                }
            }
        }
        extensions.insert(
            "code".into(),
            code.unwrap_or_else(|| Value::String(crate::engine::codes::DOWNSTREAM_SERVICE_ERROR.to_owned())),
        );
        replacement.insert("extensions".into(), Value::Object(extensions));
        *error = Value::Object(replacement);
        masked += 1;
    }
    masked
}

/// Drops "Did you mean …" suggestions from every error message of a response body.
pub fn strip_suggestions(body: &mut Value) {
    let Some(errors) = body.get_mut("errors").and_then(Value::as_array_mut) else { return };
    for error in errors {
        if let Some(Value::String(message)) = error.get_mut("message")
            && let Some(start) = message.find(" Did you mean")
        {
            message.truncate(start);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_only_the_code_and_path_of_subgraph_errors() {
        let mut body = json!({
            "data": { "invoices": null },
            "errors": [
                {
                    "message": "relation \"invoice\" does not exist at 10.0.3.7",
                    "path": ["invoices"],
                    "extensions": { "code": "INTERNAL_SERVER_ERROR", "serviceName": "finance", "stack": ["..."] }
                },
                { "message": "Request to subgraph \"support\" failed", "extensions": { "serviceName": "support" } },
                { "message": "Cannot return null for non-nullable field", "path": ["a"],
                  "extensions": { "code": "NON_NULL_VIOLATION" } }
            ]
        });
        assert_eq!(mask_subgraph_errors(&mut body), 2);
        assert_eq!(
            body["errors"][0],
            json!({ "message": MASKED_SUBGRAPH_MESSAGE, "path": ["invoices"],
                    "extensions": { "code": "INTERNAL_SERVER_ERROR" } })
        );
        assert_eq!(
            body["errors"][1],
            json!({ "message": MASKED_SUBGRAPH_MESSAGE, "extensions": { "code": "DOWNSTREAM_SERVICE_ERROR" } })
        );
        assert_eq!(body["errors"][2]["message"], "Cannot return null for non-nullable field", "gateway errors stay");
    }

    #[test]
    fn domain_refusals_keep_their_message_and_documented_extensions() {
        let mut body = json!({
            "data": null,
            "errors": [
                {
                    "message": "Contract cannot move from SIGNED to SIGNED",
                    "path": ["signContract"],
                    "extensions": { "code": "INVALID_TRANSITION", "serviceName": "finance",
                                    "current": "SIGNED", "allowed": ["ACTIVE"], "detail": "internal" }
                },
                {
                    "message": "no Contract with this id",
                    "path": ["approveContract"],
                    "extensions": { "code": "NOT_FOUND", "serviceName": "finance" }
                },
                {
                    "message": "pool timed out at 10.0.3.7",
                    "extensions": { "code": "SOMETHING_ELSE", "serviceName": "finance", "current": "x" }
                }
            ]
        });
        assert_eq!(mask_subgraph_errors(&mut body), 3);
        assert_eq!(
            body["errors"][0],
            json!({ "message": "Contract cannot move from SIGNED to SIGNED", "path": ["signContract"],
                    "extensions": { "code": "INVALID_TRANSITION", "current": "SIGNED", "allowed": ["ACTIVE"] } })
        );
        assert_eq!(body["errors"][1]["message"], "no Contract with this id");
        assert_eq!(
            body["errors"][2],
            json!({ "message": MASKED_SUBGRAPH_MESSAGE, "extensions": { "code": "SOMETHING_ELSE" } }),
            "other codes stay masked, with no extension but the code"
        );
    }

    #[test]
    fn removes_suggestions_from_messages() {
        let mut body = json!({ "errors": [
            { "message": "Cannot query field \"nmae\" on type \"Tenant\". Did you mean \"name\"?" },
            { "message": "Syntax error" }
        ] });
        strip_suggestions(&mut body);
        assert_eq!(body["errors"][0]["message"], "Cannot query field \"nmae\" on type \"Tenant\".");
        assert_eq!(body["errors"][1]["message"], "Syntax error");
    }
}
