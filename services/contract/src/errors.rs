//! The closed set of client-visible error codes (`extensions.code`) and their HTTP
//! statuses. Internal detail never travels with them: it is logged where it happens.

use async_graphql::ErrorExtensions;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    BadUserInput,
    NotFound,
    /// A state change the entity's state machine does not permit from its current state.
    InvalidTransition,
    /// A write based on a state that changed concurrently.
    Conflict,
    InternalServerError,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::InvalidTransition => "INVALID_TRANSITION",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::InternalServerError => "INTERNAL_SERVER_ERROR",
        }
    }

    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::BadUserInput => 400,
            ErrorCode::NotFound => 404,
            ErrorCode::InvalidTransition | ErrorCode::Conflict => 409,
            ErrorCode::InternalServerError => 500,
        }
    }

    /// A GraphQL error carrying this code and a client-safe message.
    pub fn graphql_error(self, message: impl Into<String>) -> async_graphql::Error {
        async_graphql::Error::new(message).extend_with(|_, extensions| extensions.set("code", self.as_str()))
    }

    /// A complete GraphQL response body holding only this error (no `data`), for
    /// rejections that happen before execution.
    pub fn response_body(self, message: &str) -> serde_json::Value {
        serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": self.as_str() } }] })
    }
}

/// Turns a database error into a client-safe GraphQL error, logging the detail.
pub fn internal(error: impl std::fmt::Display) -> async_graphql::Error {
    tracing::error!(error = %error, "internal error while resolving a field");
    ErrorCode::InternalServerError.graphql_error("internal error")
}

/// Stored enum text that no variant matches: a data defect, reported, never defaulted.
#[derive(Debug, thiserror::Error)]
#[error("stored {kind} value `{value}` is not recognised")]
pub struct UnknownStoredValue {
    pub kind: &'static str,
    pub value: String,
}

/// Declares an enum stored as lower snake case text (docs/domain.md#conventions) with `as_str` and a
/// fallible `parse`.
#[macro_export]
macro_rules! stored_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Result<Self, $crate::errors::UnknownStoredValue> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::errors::UnknownStoredValue { kind: stringify!($name), value: other.to_owned() }),
                }
            }
        }
    };
}
