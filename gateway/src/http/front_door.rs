//! The front door of `/graphql`: what the gateway reads from a request before anything
//! runs — body and CSRF checks, the caller (authentication, then the portal origin), the
//! GraphQL request from a POST body or GET parameters, the persisted-document decision,
//! the caller's operation policy and field authorization — in the order of
//! [`crate::http`]'s module docs. It hands an admitted request to [`super::pipeline`].

use atrium_contract::ErrorCode;
use std::sync::Arc;

use atrium_contract::graphql_http::{has_json_content_type, negotiate};
use axum::{
    body::Bytes,
    extract::{RawQuery, State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use serde::Deserialize;

use atrium_contract::config::Profile;

use super::{
    answer::{graphql_response, unauthenticated},
    get_parameters::parse_get_parameters,
    pipeline::execute,
};
use crate::{
    authorization::AuthorizedOperation,
    engine::{GraphQLRequest, OperationKind, Outcome},
    graphiql,
    persisted::{IncomingRequest, ResolvedDocument},
    policy::{self, Admission},
    rejection::{not_acceptable, reject},
    state::GatewayState,
};

#[derive(Deserialize)]
struct RequestBody {
    query: Option<String>,
    /// A persisted document's id (GraphQL-over-HTTP persisted documents).
    #[serde(rename = "documentId")]
    document_id: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    #[serde(default)]
    variables: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    extensions: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The checks every GraphQL POST endpoint of the gateway makes before reading the
/// request (body size, CSRF, authentication, JSON content type, no batches), in the
/// module's order: the caller and the body as JSON, or the rejection to send.
pub(crate) async fn authenticated_json_body(
    state: &GatewayState,
    media: &'static str,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(atrium_contract::TenantContext, serde_json::Value), Response> {
    let body = body.map_err(|rejection| body_rejected(media, &rejection))?;
    if let Some(response) = csrf_rejection(state, media, headers) {
        return Err(response);
    }
    let context = authenticate(state, media, headers).await?;
    if !has_json_content_type(headers) {
        let message = "POST bodies must be application/json";
        return Err(reject(media, StatusCode::UNSUPPORTED_MEDIA_TYPE, ErrorCode::BadRequest, message));
    }
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| reject(media, StatusCode::BAD_REQUEST, ErrorCode::BadRequest, "the body is not valid JSON"))?;
    if value.is_array() {
        let message = "batched requests are not accepted";
        return Err(reject(media, StatusCode::BAD_REQUEST, ErrorCode::BatchingNotSupported, message));
    }
    Ok((context, value))
}

/// The caller, from verified credentials; then a browser request from a portal origin of
/// another tenant is refused before anything runs (`crate::cors`).
pub(crate) async fn authenticate(
    state: &GatewayState,
    media: &'static str,
    headers: &HeaderMap,
) -> Result<atrium_contract::TenantContext, Response> {
    let context = state.authenticator.authenticate(headers).await.map_err(|error| unauthenticated(media, &error))?;
    match state.cors.refusal(media, headers, context.tenant_id) {
        Some(refusal) => Err(refusal),
        None => Ok(context),
    }
}

pub(crate) async fn graphql_post(
    State(state): State<Arc<GatewayState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(media) = negotiate(&headers) else { return not_acceptable() };
    let (context, value) = match authenticated_json_body(&state, media, &headers, body).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let incoming = match serde_json::from_value::<RequestBody>(value) {
        Ok(RequestBody { query, document_id, operation_name, variables, extensions }) => IncomingRequest {
            query,
            document_id,
            operation_name,
            variables: variables.unwrap_or_default(),
            extensions: extensions.unwrap_or_default(),
        },
        Err(_) => {
            return reject(media, StatusCode::BAD_REQUEST, ErrorCode::BadRequest, "the body is not a GraphQL request");
        }
    };
    let ResolvedDocument { request, registration } = match resolve_document(&state, media, &context, incoming).await {
        Ok(resolved) => resolved,
        Err(response) => return response,
    };
    let admission = match admit(&state, media, &context, &request) {
        Ok(admission) => admission,
        Err(response) => return *response,
    };
    let authorized = match authorize(&state, media, &context, &request) {
        Ok(authorized) => authorized,
        Err(response) => return *response,
    };
    execute(&state, media, &context, request, admission, authorized, registration).await
}

/// 413 with a GraphQL error body when the body exceeds `policy.max_body_bytes`.
pub(crate) fn body_rejected(media: &'static str, rejection: &BytesRejection) -> Response {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return reject(media, StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge, "the body is too large");
    }
    tracing::info!(%rejection, "could not read a request body");
    reject(media, StatusCode::BAD_REQUEST, ErrorCode::BadRequest, "the body could not be read")
}

/// The rejection of a request a foreign web page could have sent without a CORS preflight.
pub(crate) fn csrf_rejection(state: &GatewayState, media: &'static str, headers: &HeaderMap) -> Option<Response> {
    if policy::is_csrf_safe(headers, &state.policy.config().csrf_preflight_headers) {
        return None;
    }
    Some(reject(
        media,
        StatusCode::BAD_REQUEST,
        ErrorCode::CsrfPrevented,
        "this request needs a JSON content type or a preflight header such as x-atrium-preflight",
    ))
}

/// The caller's operation policy (limits, cost), applied before anything is planned.
pub(super) fn admit(
    state: &GatewayState,
    media: &'static str,
    context: &atrium_contract::TenantContext,
    request: &GraphQLRequest,
) -> Result<Admission, Box<Response>> {
    state.policy.admit(context.client_kind, request).map_err(|error| {
        let outcome = if error.is_client_error() { Outcome::RequestError } else { Outcome::InternalError };
        Box::new(graphql_response(media, outcome, error.to_response()))
    })
}

pub(crate) async fn graphql_get(
    State(state): State<Arc<GatewayState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if raw.is_none() && wants_html && state.profile == Profile::Dev {
        return Html(graphiql::PAGE).into_response();
    }
    let Some(media) = negotiate(&headers) else { return not_acceptable() };
    if let Some(response) = csrf_rejection(&state, media, &headers) {
        return response;
    }
    let context = match authenticate(&state, media, &headers).await {
        Ok(context) => context,
        Err(response) => return response,
    };
    let incoming = match parse_get_parameters(raw.as_deref().unwrap_or("")) {
        Ok(incoming) => incoming,
        Err(message) => return reject(media, StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message),
    };
    let ResolvedDocument { request, registration } = match resolve_document(&state, media, &context, incoming).await {
        Ok(resolved) => resolved,
        Err(response) => return response,
    };
    let admission = match admit(&state, media, &context, &request) {
        Ok(admission) => admission,
        Err(response) => return *response,
    };
    // GET must be safe. The document alone says whether a mutation is selected, so this
    // holds before validation and for schemas without any mutation.
    if admission.operation_kind == Some(OperationKind::Mutation) {
        let mut response = reject(
            media,
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::BadRequest,
            "mutations are only accepted over POST",
        );
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let authorized = match authorize(&state, media, &context, &request) {
        Ok(authorized) => authorized,
        Err(response) => return *response,
    };
    execute(&state, media, &context, request, admission, authorized, registration).await
}

/// Runs the caller's persisted-document policy: which document runs, or why none may.
pub(super) async fn resolve_document(
    state: &GatewayState,
    media: &'static str,
    context: &atrium_contract::TenantContext,
    incoming: IncomingRequest,
) -> Result<ResolvedDocument, Response> {
    state
        .documents
        .resolve(context, incoming)
        .await
        .map_err(|rejection| reject(media, rejection.status(), rejection.code(), rejection.message()))
}

/// Field authorization for the caller (`crate::authorization`): what to leave out of the
/// plan, or 403 when the client kind's policy is `reject`. Nothing has been fetched yet.
pub(super) fn authorize(
    state: &GatewayState,
    media: &'static str,
    context: &atrium_contract::TenantContext,
    request: &GraphQLRequest,
) -> Result<AuthorizedOperation, Box<Response>> {
    state.authorizer.authorize(context, request).map_err(|rejection| {
        tracing::info!(errors = rejection.errors.len(), "refused an operation selecting unauthorized fields");
        let body = serde_json::json!({ "errors": rejection.errors });
        Box::new((StatusCode::FORBIDDEN, [(header::CONTENT_TYPE, media)], body.to_string()).into_response())
    })
}
