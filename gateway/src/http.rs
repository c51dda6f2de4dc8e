//! The gateway's GraphQL-over-HTTP endpoint.
//!
//! Order of checks, cheapest and least revealing first: `Accept` negotiation (406),
//! authentication (401: nothing about the schema leaks to anonymous callers), method and
//! content type (415), body shape (400; JSON-array batches are refused), then the engine
//! (parse, validate, plan, execute). GET never runs a mutation (405 + `Allow: POST`).

use std::sync::Arc;

use atrium_kit::{
    ContextSigner,
    errors::ErrorCode,
    graphql_http::{APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, has_json_content_type, negotiate},
};
use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;

use crate::{
    auth::{AuthError, Authenticator},
    config::Profile,
    engine::{Engine, GraphQLRequest, OperationKind, Outcome},
    graphiql,
    subgraph_client::SubgraphClient,
};

/// Largest request body accepted (ENGINEERING.md §4).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

pub struct GatewayState {
    pub engine: Engine,
    pub authenticator: Authenticator,
    pub signer: ContextSigner,
    pub subgraphs: Arc<SubgraphClient>,
    pub profile: Profile,
    pub rate_limiter: crate::rate_limit::RateLimiter,
}

pub fn router(state: Arc<GatewayState>) -> Router {
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/health", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

#[derive(Deserialize)]
struct RequestBody {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    #[serde(default)]
    variables: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    extensions: Option<serde_json::Map<String, serde_json::Value>>,
}

async fn graphql_post(State(state): State<Arc<GatewayState>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(media) = negotiate(&headers) else { return not_acceptable() };
    let context = match state.authenticator.authenticate(&headers).await {
        Ok(context) => context,
        Err(error) => return unauthenticated(media, &error),
    };
    if !has_json_content_type(&headers) {
        return reject(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BAD_REQUEST",
            "POST bodies must be application/json",
        );
    }
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(_) => return reject(media, StatusCode::BAD_REQUEST, "BAD_REQUEST", "the body is not valid JSON"),
    };
    if value.is_array() {
        return reject(media, StatusCode::BAD_REQUEST, "BATCHING_NOT_SUPPORTED", "batched requests are not accepted");
    }
    let request = match serde_json::from_value::<RequestBody>(value) {
        Ok(RequestBody { query: Some(query), operation_name, variables, extensions }) => GraphQLRequest {
            query,
            operation_name,
            variables: variables.unwrap_or_default(),
            extensions: extensions.unwrap_or_default(),
        },
        _ => return reject(media, StatusCode::BAD_REQUEST, "BAD_REQUEST", "the body must hold a `query` string"),
    };
    execute(&state, media, &context, request).await
}

async fn graphql_get(State(state): State<Arc<GatewayState>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if raw.is_none() && wants_html && state.profile == Profile::Dev {
        return Html(graphiql::PAGE).into_response();
    }
    let Some(media) = negotiate(&headers) else { return not_acceptable() };
    let context = match state.authenticator.authenticate(&headers).await {
        Ok(context) => context,
        Err(error) => return unauthenticated(media, &error),
    };
    let request = match parse_get_parameters(raw.as_deref().unwrap_or("")) {
        Ok(request) => request,
        Err(message) => return reject(media, StatusCode::BAD_REQUEST, "BAD_REQUEST", message),
    };
    // GET must be safe: find the operation kind before anything reaches a subgraph.
    match state.engine.prepare(&request).await {
        Ok(prepared) if prepared.kind() == OperationKind::Mutation => {
            let mut response =
                reject(media, StatusCode::METHOD_NOT_ALLOWED, "BAD_REQUEST", "mutations are only accepted over POST");
            response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
        Ok(_) => {}
        Err(error) => {
            let outcome = if error.is_client_error() { Outcome::RequestError } else { Outcome::InternalError };
            return graphql_response(media, outcome, error.to_response());
        }
    }
    execute(&state, media, &context, request).await
}

fn parse_get_parameters(raw: &str) -> Result<GraphQLRequest, &'static str> {
    let mut request = GraphQLRequest {
        query: String::new(),
        operation_name: None,
        variables: Default::default(),
        extensions: Default::default(),
    };
    let mut has_query = false;
    for (key, value) in form_urlencoded_pairs(raw) {
        match key.as_str() {
            "query" => {
                request.query = value;
                has_query = true;
            }
            "operationName" => request.operation_name = Some(value).filter(|name| !name.is_empty()),
            "variables" if !value.is_empty() => {
                request.variables = serde_json::from_str(&value).map_err(|_| "`variables` must be a JSON object")?;
            }
            "extensions" if !value.is_empty() => {
                request.extensions = serde_json::from_str(&value).map_err(|_| "`extensions` must be a JSON object")?;
            }
            _ => {}
        }
    }
    if has_query { Ok(request) } else { Err("the `query` parameter is required") }
}

/// Decodes `application/x-www-form-urlencoded` pairs (`+` is a space, `%XX` a byte).
fn form_urlencoded_pairs(raw: &str) -> impl Iterator<Item = (String, String)> + '_ {
    raw.split('&').filter(|pair| !pair.is_empty()).map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(key), percent_decode(value))
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => decoded.push(b' '),
            b'%' if index + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3])
                    .ok()
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok());
                match hex {
                    Some(byte) => {
                        decoded.push(byte);
                        index += 2;
                    }
                    None => decoded.push(b'%'),
                }
            }
            byte => decoded.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

async fn execute(
    state: &GatewayState,
    media: &'static str,
    context: &atrium_kit::TenantContext,
    request: GraphQLRequest,
) -> Response {
    if let crate::rate_limit::Decision::Limited { retry_after } = state.rate_limiter.check(context, None, 1).await {
        return rate_limited(media, retry_after);
    }
    let signed = match state.signer.sign(context) {
        Ok(signed) => signed,
        Err(error) => {
            tracing::error!(%error, "cannot sign the tenant context");
            return reject(media, StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_SERVER_ERROR", "internal error");
        }
    };
    let transport = state.subgraphs.for_request(signed);
    let response = state.engine.execute(&request, &transport).await;
    graphql_response(media, response.outcome, response.body)
}

/// 429 with `Retry-After` in whole seconds (rounded up, so a client that waits that long
/// is admitted).
fn rate_limited(media: &'static str, retry_after: std::time::Duration) -> Response {
    let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    let mut response =
        reject(media, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED", "rate limit exceeded for this tenant and client");
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

fn graphql_response(media: &'static str, outcome: Outcome, body: serde_json::Value) -> Response {
    // Under application/json the spec asks for 200 even for request errors; the GraphQL
    // media type uses 4xx for requests that never executed.
    let status = match outcome {
        Outcome::RequestError if media == GRAPHQL_RESPONSE_JSON => StatusCode::BAD_REQUEST,
        Outcome::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::OK,
    };
    match serde_json::to_vec(&body) {
        Ok(bytes) => (status, [(header::CONTENT_TYPE, media)], bytes).into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot serialise a response");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn unauthenticated(media: &'static str, error: &AuthError) -> Response {
    tracing::info!(reason = %error, "rejected an unauthenticated request");
    let mut response =
        reject(media, StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated.as_str(), "authentication required");
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

fn not_acceptable() -> Response {
    reject(
        APPLICATION_JSON,
        StatusCode::NOT_ACCEPTABLE,
        "BAD_REQUEST",
        "acceptable media types: application/graphql-response+json, application/json",
    )
}

fn reject(media: &'static str, status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, [(header::CONTENT_TYPE, media)], body.to_string()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_get_parameters_with_percent_and_plus_encoding() {
        let request =
            parse_get_parameters("query=%7B+tenant+%7B+name+%7D+%7D&operationName=&variables=%7B%22a%22%3A1%7D")
                .unwrap();
        assert_eq!(request.query, "{ tenant { name } }");
        assert_eq!(request.operation_name, None);
        assert_eq!(request.variables["a"], 1);
    }

    #[test]
    fn rejects_get_without_query_and_with_non_object_variables() {
        assert!(parse_get_parameters("operationName=x").is_err());
        assert!(parse_get_parameters("query=%7Ba%7D&variables=%5B1%5D").is_err());
    }

    #[test]
    fn keeps_a_trailing_percent_that_is_not_an_escape() {
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
