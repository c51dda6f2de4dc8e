//! What a client sends to the engine and what the engine answers.

use serde_json::{Map, Value};

use super::errors::RequestError;

/// A GraphQL request as received over HTTP.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphQLRequest {
    pub query: String,
    #[serde(default)]
    pub operation_name: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub variables: Map<String, Value>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub extensions: Map<String, Value>,
}

fn null_as_empty<'de, D>(deserializer: D) -> Result<Map<String, Value>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::Deserialize;
    Ok(Option::<Map<String, Value>>::deserialize(deserializer)?.unwrap_or_default())
}

impl GraphQLRequest {
    pub fn new(query: impl Into<String>) -> Self {
        Self { query: query.into(), ..Self::default() }
    }

    pub fn with_operation_name(mut self, name: impl Into<String>) -> Self {
        self.operation_name = Some(name.into());
        self
    }

    pub fn with_variables(mut self, variables: Map<String, Value>) -> Self {
        self.variables = variables;
        self
    }
}

/// How an execution went, for the caller's HTTP status and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Data without errors.
    Success,
    /// Executed, but `errors` is not empty (data may be partial or null).
    PartialSuccess,
    /// Rejected before execution (parse, validation, variables): HTTP 400.
    RequestError,
    /// Not executed because of the gateway's own failure (planning): HTTP 500.
    InternalError,
}

/// A GraphQL response body: `{"data": ..., "errors": [...]}` ("errors" omitted
/// when empty; "data" omitted for request errors).
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionResponse {
    pub body: Value,
    pub outcome: Outcome,
}

impl ExecutionResponse {
    pub(crate) fn from_request_error(error: &RequestError) -> Self {
        let outcome = if error.is_client_error() { Outcome::RequestError } else { Outcome::InternalError };
        Self { body: error.to_response(), outcome }
    }

    pub(crate) fn from_execution(data: Value, errors: Vec<Value>) -> Self {
        let mut body = Map::with_capacity(2);
        let outcome = if errors.is_empty() { Outcome::Success } else { Outcome::PartialSuccess };
        body.insert("data".into(), data);
        if !errors.is_empty() {
            body.insert("errors".into(), Value::Array(errors));
        }
        Self { body: Value::Object(body), outcome }
    }
}
