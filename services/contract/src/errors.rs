//! The closed set of client-visible error codes (`extensions.code`) and their HTTP
//! statuses. Internal detail never travels with them: it is logged where it happens.

use async_graphql::ErrorExtensions;

/// Declares the closed set: each code with its text, the HTTP status of a response that
/// carries it (see [`ErrorCode::http_status`]) and when it is used. docs/conformance.md's
/// "Error codes" table is checked against this list.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident => $text:literal, $status:literal, $when:literal;)+) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode { $($(#[$doc])* $variant),+ }

        impl ErrorCode {
            /// Every code a client can meet, in the order of docs/conformance.md.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $text),+ }
            }

            /// The HTTP status of an answer carrying this code under
            /// `application/graphql-response+json`: the status of a request refused before
            /// execution, or 200 for an error inside an executed response (field errors,
            /// refused writes: the response still carries `data`). Under `application/json`
            /// GraphQL request errors answer 200, as the GraphQL-over-HTTP spec asks.
            pub const fn http_status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status),+ }
            }

            /// When the code is used (the "When" column of docs/conformance.md).
            pub const fn when(self) -> &'static str {
                match self { $(ErrorCode::$variant => $when),+ }
            }
        }
    };
}

error_codes! {
    // Protocol and credentials.
    /// The HTTP request is not a GraphQL request this endpoint takes (body, method, media
    /// type); 405 for a mutation over GET, 406/415 for media types.
    BadRequest => "BAD_REQUEST", 400, "the HTTP request is not a GraphQL request the endpoint takes (unreadable body, missing query, wrong method or media type: 405, 406 or 415 then)";
    Unauthenticated => "UNAUTHENTICATED", 401, "no credentials, or a token or API key that does not verify";
    AuthKeysUnavailable => "AUTH_KEYS_UNAVAILABLE", 503, "the gateway cannot vouch for its key material (no usable JWKS keys, or API keys not reloaded within the staleness bound)";
    OriginNotAllowed => "ORIGIN_NOT_ALLOWED", 403, "a preflight from an origin no tenant lists, or a token used from another tenant's portal origin";
    CsrfPrevented => "CSRF_PREVENTED", 400, "a request without a JSON content type and without a preflight-only header";
    BatchingNotSupported => "BATCHING_NOT_SUPPORTED", 400, "a JSON array (batched) body";
    PayloadTooLarge => "PAYLOAD_TOO_LARGE", 413, "the body exceeds `max_body_bytes`";
    RequestHeaderFieldsTooLarge => "REQUEST_HEADER_FIELDS_TOO_LARGE", 431, "the headers exceed `max_header_bytes`";
    RateLimited => "RATE_LIMITED", 429, "the tenant's budget for its client kind is spent; `Retry-After` says when to come back";
    // Persisted documents.
    PersistedQueryIdRequired => "PERSISTED_QUERY_ID_REQUIRED", 403, "the client kind may run only published documents, by id";
    PersistedQueryNotInList => "PERSISTED_QUERY_NOT_IN_LIST", 404, "the document is not published for the client kind";
    PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND", 200, "an APQ hash the gateway does not know: send the query with its hash";
    PersistedQueryHashMismatch => "PERSISTED_QUERY_HASH_MISMATCH", 400, "the query does not hash to the sent APQ hash";
    PersistedQueryStoreUnavailable => "PERSISTED_QUERY_STORE_UNAVAILABLE", 503, "the persisted-document store cannot be read; retry later";
    PersistedDocumentInvalid => "PERSISTED_DOCUMENT_INVALID", 200, "admin API: a document to publish does not validate against the supergraph";
    // The document.
    GraphqlParseFailed => "GRAPHQL_PARSE_FAILED", 400, "the document does not parse";
    GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED", 400, "the document does not validate against the API schema";
    OperationNameInvalid => "OPERATION_NAME_INVALID", 400, "`operationName` names no operation of the document, or is missing with several";
    MaxTokensExceeded => "MAX_TOKENS_EXCEEDED", 400, "the document has more lexical tokens than `max_tokens`";
    MaxDepthExceeded => "MAX_DEPTH_EXCEEDED", 400, "the selection (or the parser's bracket nesting) is deeper than allowed";
    MaxAliasesExceeded => "MAX_ALIASES_EXCEEDED", 400, "more aliases than `max_aliases`";
    MaxRootFieldsExceeded => "MAX_ROOT_FIELDS_EXCEEDED", 400, "more root fields than `max_root_fields`";
    CostEstimatedTooExpensive => "COST_ESTIMATED_TOO_EXPENSIVE", 400, "the static cost is over budget in `enforce` mode";
    IntrospectionDisabled => "INTROSPECTION_DISABLED", 400, "`__schema`/`__type` while introspection is off";
    SubscriptionsNotSupported => "SUBSCRIPTIONS_NOT_SUPPORTED", 400, "a subscription operation";
    DeferNotSupported => "DEFER_NOT_SUPPORTED", 400, "`@defer` or `@stream`";
    QueryPlanningFailed => "QUERY_PLANNING_FAILED", 500, "the gateway could not plan a valid operation (its fault, logged)";
    GatewayTimeout => "GATEWAY_TIMEOUT", 504, "the request ran longer than `gateway_timeout_ms`";
    // Execution (errors inside an executed response).
    /// A user role may not see a field or type; it answers `null` at that path.
    UnauthorizedFieldOrType => "UNAUTHORIZED_FIELD_OR_TYPE", 200, "a selected field or type the caller's roles may not see: `null` at its path";
    SubgraphRequestFailed => "SUBGRAPH_REQUEST_FAILED", 200, "a subgraph could not be reached or timed out: `null` on the paths it serves";
    InvalidSubgraphResponse => "INVALID_SUBGRAPH_RESPONSE", 200, "a subgraph answered something that is not a GraphQL response";
    DownstreamServiceError => "DOWNSTREAM_SERVICE_ERROR", 200, "a subgraph error without a code of this list (its message masked)";
    NonNullViolation => "NON_NULL_VIOLATION", 200, "a null where the schema promises a value; the null propagates to the nearest nullable parent";
    UnrepresentableValue => "UNREPRESENTABLE_VALUE", 200, "a subgraph value the API schema cannot show (an inaccessible enum value or type)";
    // Domain (from the subgraphs, passed through unmasked).
    BadUserInput => "BAD_USER_INPUT", 400, "variables that do not fit their types (400, before execution), or an argument the domain refuses (inside the response, 200: invalid amount, unknown reference, malformed cursor); the message says which";
    Forbidden => "FORBIDDEN", 200, "the caller's role may not run this operation";
    NotFound => "NOT_FOUND", 200, "the entity does not exist for this tenant (another tenant's id included)";
    /// A state change the entity's state machine does not permit from its current state.
    InvalidTransition => "INVALID_TRANSITION", 200, "a state change the entity's lifecycle does not permit; `extensions.current` and `extensions.allowed` name the current and permitted next states";
    /// A write based on a state that changed concurrently.
    Conflict => "CONFLICT", 200, "the state a write was decided on changed concurrently; read again and retry";
    ServiceUnavailable => "SERVICE_UNAVAILABLE", 503, "an internal endpoint's backing store is down (change receiver without its cache)";
    InternalServerError => "INTERNAL_SERVER_ERROR", 500, "anything else; the detail is logged with the trace id, never sent";
}

impl ErrorCode {
    /// The code for its text, if it is one of the set.
    pub fn parse(text: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|code| code.as_str() == text)
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

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    /// The table docs/conformance.md must hold under "## Error codes", from the code.
    fn expected_table() -> String {
        let mut table = String::from("| Code | HTTP | When |\n|---|---|---|\n");
        for code in ErrorCode::ALL {
            table.push_str(&format!("| `{}` | {} | {} |\n", code.as_str(), code.http_status(), code.when()));
        }
        table
    }

    #[test]
    fn the_conformance_document_lists_exactly_the_closed_set() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/conformance.md");
        let document = std::fs::read_to_string(path).expect("docs/conformance.md");
        let section =
            document.split("\n## Error codes\n").nth(1).expect("docs/conformance.md has a `## Error codes` section");
        let table: String = section
            .lines()
            .skip_while(|line| !line.starts_with('|'))
            .take_while(|line| line.starts_with('|'))
            .map(|line| format!("{line}\n"))
            .collect();
        assert!(
            table == expected_table(),
            "docs/conformance.md's error-code table differs from ErrorCode; replace it with:\n{}",
            expected_table()
        );
    }

    #[test]
    fn codes_are_unique_upper_snake_case_and_parse_back() {
        for (index, code) in ErrorCode::ALL.iter().enumerate() {
            let text = code.as_str();
            assert!(text.chars().all(|c| c.is_ascii_uppercase() || c == '_'), "{text}");
            assert_eq!(ErrorCode::parse(text), Some(*code));
            assert!(!ErrorCode::ALL[..index].iter().any(|earlier| earlier.as_str() == text), "{text} twice");
            assert!((200..600).contains(&code.http_status()), "{text}");
        }
        assert_eq!(ErrorCode::parse("NOT_A_CODE"), None);
    }
}
