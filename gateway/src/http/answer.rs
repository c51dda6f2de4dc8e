//! Everything the gateway answers with: the GraphQL response and its status for each
//! outcome and media type, per-caller response policy (masking, suggestions, cost),
//! authorization errors, cache headers, and the protocol rejections (401, 406, 429 …) with
//! their stable `extensions.code`.

use atrium_contract::{errors::ErrorCode, graphql_http::GRAPHQL_RESPONSE_JSON};
use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{
    auth::AuthError,
    engine::{ExecutionResponse, Outcome},
    policy::{self, Admission},
    rejection::reject,
    state::GatewayState,
};

/// The client's answer: per-caller response policy and authorization errors on top of
/// the execution's (or the cache's) body, with the cache headers. `Cache-Control` is
/// `private`: every answer belongs to one tenant and scope, so no shared HTTP cache may
/// keep it, while the caller's own client (a BI tool, a browser) may, for `max-age`.
pub(super) fn respond(
    state: &GatewayState,
    media: &'static str,
    admission: &Admission,
    mut response: ExecutionResponse,
    authorization_errors: Vec<serde_json::Value>,
    (max_age, cache_label): (u32, &'static str),
) -> Response {
    apply_response_policy(state, admission, response.outcome, &mut response.body);
    let outcome = add_authorization_errors(response.outcome, &mut response.body, authorization_errors);
    let mut http_response = graphql_response(media, outcome, response.body);
    let cache_control = match max_age {
        0 => HeaderValue::from_static("no-store"),
        seconds => HeaderValue::from_str(&format!("private, max-age={seconds}"))
            .unwrap_or(HeaderValue::from_static("no-store")),
    };
    let headers = http_response.headers_mut();
    headers.insert(header::CACHE_CONTROL, cache_control);
    headers.insert(header::VARY, HeaderValue::from_static("authorization"));
    headers.insert(CACHE_STATUS_HEADER, HeaderValue::from_static(cache_label));
    http_response
}

/// `hit`, `miss` or `bypass`: whether the gateway's response cache answered.
pub const CACHE_STATUS_HEADER: &str = "x-atrium-cache";

/// Adds one error per selection authorization removed, when the operation executed.
pub(super) fn add_authorization_errors(
    outcome: Outcome,
    body: &mut serde_json::Value,
    errors: Vec<serde_json::Value>,
) -> Outcome {
    let executed = matches!(outcome, Outcome::Success | Outcome::PartialSuccess);
    let Some(body) = body.as_object_mut().filter(|_| executed && !errors.is_empty()) else {
        return outcome;
    };
    match body.entry("errors").or_insert_with(|| serde_json::json!([])) {
        serde_json::Value::Array(existing) => {
            existing.splice(0..0, errors);
        }
        _ => return outcome,
    }
    Outcome::PartialSuccess
}

/// Masks subgraph errors, hides suggestions while introspection is off, and reports the
/// operation's static cost in `extensions.cost`.
pub(super) fn apply_response_policy(
    state: &GatewayState,
    admission: &Admission,
    outcome: Outcome,
    body: &mut serde_json::Value,
) {
    let config = state.policy.config();
    if config.mask_subgraph_errors {
        policy::mask_subgraph_errors(body);
    }
    if outcome == Outcome::RequestError && !config.introspection_enabled(state.profile) {
        policy::strip_suggestions(body);
    }
    if let (Some(cost), Some(body)) = (admission.cost_extension(), body.as_object_mut()) {
        let extensions = body.entry("extensions").or_insert_with(|| serde_json::json!({}));
        if let Some(extensions) = extensions.as_object_mut() {
            extensions.insert("cost".into(), cost);
        }
    }
}

pub(super) fn graphql_response(media: &'static str, outcome: Outcome, body: serde_json::Value) -> Response {
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

pub(crate) fn unauthenticated(media: &'static str, error: &AuthError) -> Response {
    if error.is_keys_unavailable() {
        tracing::warn!(reason = %error, "cannot verify credentials: no usable keys");
        return reject(
            media,
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::AuthKeysUnavailable,
            "credentials cannot be verified right now; retry later",
        );
    }
    tracing::info!(reason = %error, "rejected an unauthenticated request");
    let mut response = reject(media, StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated, "authentication required");
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}
