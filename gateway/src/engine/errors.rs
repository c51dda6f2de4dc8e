//! Error types of the engine layer and the GraphQL error objects it puts in
//! responses. Every error that reaches a client carries a stable
//! `extensions.code` from [`codes`].

use serde_json::{Map, Value, json};

/// Stable, upper snake case values of `extensions.code`.
pub mod codes {
    pub const GRAPHQL_PARSE_FAILED: &str = atrium_contract::ErrorCode::GraphqlParseFailed.as_str();
    pub const GRAPHQL_VALIDATION_FAILED: &str = atrium_contract::ErrorCode::GraphqlValidationFailed.as_str();
    /// The document nests selections or values deeper than the engine accepts.
    pub const MAX_DEPTH_EXCEEDED: &str = atrium_contract::ErrorCode::MaxDepthExceeded.as_str();
    pub const OPERATION_NAME_INVALID: &str = atrium_contract::ErrorCode::OperationNameInvalid.as_str();
    pub const BAD_USER_INPUT: &str = atrium_contract::ErrorCode::BadUserInput.as_str();
    pub const INTROSPECTION_DISABLED: &str = atrium_contract::ErrorCode::IntrospectionDisabled.as_str();
    pub const QUERY_PLANNING_FAILED: &str = atrium_contract::ErrorCode::QueryPlanningFailed.as_str();
    pub const SUBSCRIPTIONS_NOT_SUPPORTED: &str = atrium_contract::ErrorCode::SubscriptionsNotSupported.as_str();
    pub const DEFER_NOT_SUPPORTED: &str = atrium_contract::ErrorCode::DeferNotSupported.as_str();
    pub const SUBGRAPH_REQUEST_FAILED: &str = atrium_contract::ErrorCode::SubgraphRequestFailed.as_str();
    pub const INVALID_SUBGRAPH_RESPONSE: &str = atrium_contract::ErrorCode::InvalidSubgraphResponse.as_str();
    /// Default code for subgraph errors that arrive without one.
    pub const DOWNSTREAM_SERVICE_ERROR: &str = atrium_contract::ErrorCode::DownstreamServiceError.as_str();
    /// A null (or missing) value at a non-null position of the response.
    pub const NON_NULL_VIOLATION: &str = atrium_contract::ErrorCode::NonNullViolation.as_str();
    /// A subgraph answered a value the API schema cannot represent: an enum
    /// value or a runtime object type that is `@inaccessible` (or unknown).
    pub const UNREPRESENTABLE_VALUE: &str = atrium_contract::ErrorCode::UnrepresentableValue.as_str();
    pub const INTERNAL_SERVER_ERROR: &str = atrium_contract::ErrorCode::InternalServerError.as_str();
}

/// Failures of building an engine: a supergraph that cannot be parsed or planned for.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("supergraph SDL does not parse: {0}")]
    SupergraphParse(String),
    #[error("invalid supergraph: {0}")]
    InvalidSupergraph(String),
    #[error("query planner rejected the supergraph: {0}")]
    Planner(String),
}

/// A request that was rejected before any subgraph was called. The caller
/// answers these with HTTP 400 (see [`RequestError::is_client_error`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct RequestError {
    pub code: &'static str,
    pub message: String,
    /// `(line, column)`, 1-based, in the client's document.
    pub locations: Vec<(usize, usize)>,
}

impl RequestError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), locations: Vec::new() }
    }

    pub fn with_location(mut self, line: usize, column: usize) -> Self {
        self.locations.push((line, column));
        self
    }

    /// False for the few rejections that are the gateway's fault (planning).
    pub fn is_client_error(&self) -> bool {
        !matches!(self.code, codes::QUERY_PLANNING_FAILED | codes::INTERNAL_SERVER_ERROR)
    }

    /// The error as one entry of a GraphQL `errors` array.
    pub fn to_graphql_error(&self) -> Value {
        let mut error = Map::with_capacity(3);
        error.insert("message".into(), Value::String(self.message.clone()));
        if !self.locations.is_empty() {
            error.insert(
                "locations".into(),
                Value::Array(
                    self.locations.iter().map(|(line, column)| json!({ "line": line, "column": column })).collect(),
                ),
            );
        }
        error.insert("extensions".into(), json!({ "code": self.code }));
        Value::Object(error)
    }

    /// A whole response body: `{"errors": [...]}` without a `data` key, as the
    /// GraphQL over HTTP spec asks for request errors.
    pub fn to_response(&self) -> Value {
        json!({ "errors": [self.to_graphql_error()] })
    }
}

/// A subgraph could not be reached or did not answer usably. The gateway logs
/// the message; the client only sees `SUBGRAPH_REQUEST_FAILED`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    pub message: String,
}

impl TransportError {
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }
}

/// Builds a GraphQL error object with `extensions.code` (and optionally a path).
pub(crate) fn graphql_error(message: impl Into<String>, code: &str, path: Option<Value>) -> Value {
    let mut error = Map::with_capacity(3);
    error.insert("message".into(), Value::String(message.into()));
    if let Some(path) = path {
        error.insert("path".into(), path);
    }
    let mut extensions = Map::with_capacity(1);
    extensions.insert("code".into(), Value::String(code.to_owned()));
    error.insert("extensions".into(), Value::Object(extensions));
    Value::Object(error)
}

/// Like [`graphql_error`], naming the subgraph the error is about.
pub(crate) fn subgraph_error(message: impl Into<String>, code: &str, service: &str) -> Value {
    let mut error = graphql_error(message, code, None);
    if let Some(extensions) = error.get_mut("extensions").and_then(Value::as_object_mut) {
        extensions.insert("serviceName".into(), Value::String(service.to_owned()));
    }
    error
}
