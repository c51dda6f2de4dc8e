//! Refusals in the GraphQL response shape (`errors` with a stable `extensions.code`),
//! shared by every endpoint of the gateway: the public and admin GraphQL endpoints, CORS,
//! and the internal change receiver.

use atrium_contract::{ErrorCode, graphql_http::APPLICATION_JSON};
use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

/// 429 with `Retry-After` in whole seconds (rounded up, so a client that waits that long
/// is admitted).
pub(crate) fn rate_limited(media: &'static str, retry_after: std::time::Duration) -> Response {
    let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    let mut response = reject(
        media,
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::RateLimited,
        "rate limit exceeded for this tenant and client",
    );
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

pub(crate) fn not_acceptable() -> Response {
    reject(
        APPLICATION_JSON,
        StatusCode::NOT_ACCEPTABLE,
        ErrorCode::BadRequest,
        "acceptable media types: application/graphql-response+json, application/json",
    )
}

pub(crate) fn reject(media: &'static str, status: StatusCode, code: ErrorCode, message: &str) -> Response {
    let body = code.response_body(message);
    (status, [(header::CONTENT_TYPE, media)], body.to_string()).into_response()
}
