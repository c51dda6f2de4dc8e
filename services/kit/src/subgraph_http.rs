//! The GraphQL-over-HTTP endpoint every subgraph serves.
//!
//! Order of checks: method and content type, body shape (single request object, no
//! batches), then the gateway-signed tenant context (fail closed with 401), then a
//! tenant-scoped read transaction that resolvers and DataLoaders share for the request.
//! Mutations open their own write transaction and commit it themselves. Responses follow
//! the GraphQL-over-HTTP media types: `application/graphql-response+json` by default,
//! `application/json` when that is all the client accepts.

use std::sync::Arc;

use async_graphql::{Executor, parser::types::OperationType};
use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use sea_orm::DatabaseConnection;
use serde::Deserialize;

use crate::{
    context_token::{CONTEXT_HEADER, ContextVerifier},
    db::TenantTransaction,
    errors::ErrorCode,
    graphql_http::{APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, has_json_content_type, negotiate},
    telemetry::{self, RequestOutcome},
    tenant::TenantContext,
};

/// Largest request body a subgraph accepts (the gateway's own limit is the same).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Puts per-request data (the tenant transaction, DataLoaders over it) into a request.
pub type RequestDataInstaller =
    Arc<dyn Fn(async_graphql::Request, Arc<TenantTransaction>) -> async_graphql::Request + Send + Sync>;

struct SubgraphState<E> {
    executor: E,
    verifier: ContextVerifier,
    database: DatabaseConnection,
    install: RequestDataInstaller,
}

/// Routes: `POST|GET /graphql`. `/health`, `/ready` and `/metrics` come from
/// `telemetry::operational_routes`.
pub fn router<E>(
    executor: E,
    verifier: ContextVerifier,
    database: DatabaseConnection,
    install: RequestDataInstaller,
) -> Router
where
    E: Executor + Clone,
{
    let state = Arc::new(SubgraphState { executor, verifier, database, install });
    Router::new()
        .route("/graphql", get(graphql_get::<E>).post(graphql_post::<E>))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

#[derive(Deserialize)]
struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

async fn graphql_get<E: Executor>(
    State(state): State<Arc<SubgraphState<E>>>,
    headers: HeaderMap,
    Query(params): Query<GetParams>,
) -> Response {
    let Some(media) = negotiate(&headers) else { return not_acceptable() };
    let Some(query) = params.query else {
        return reject(media, StatusCode::BAD_REQUEST, ErrorCode::BadRequest, "missing `query` parameter");
    };
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    for (raw, target) in [(params.variables, "variables"), (params.extensions, "extensions")] {
        let Some(raw) = raw else { continue };
        match serde_json::from_str::<serde_json::Value>(&raw) {
            Ok(value @ serde_json::Value::Object(_)) if target == "variables" => {
                request.variables = async_graphql::Variables::from_json(value);
            }
            Ok(serde_json::Value::Object(_)) => {}
            _ => {
                return reject(
                    media,
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadRequest,
                    "`variables`/`extensions` must be JSON objects",
                );
            }
        }
    }
    // GET must never change state: a mutation over GET is refused before anything runs.
    if selected_operation_type(&request) == Some(OperationType::Mutation) {
        let mut response = reject(
            media,
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::BadRequest,
            "mutations are only accepted over POST",
        );
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    execute(&state, &headers, media, request).await
}

async fn graphql_post<E: Executor>(
    State(state): State<Arc<SubgraphState<E>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(media) = negotiate(&headers) else { return not_acceptable() };
    if !has_json_content_type(&headers) {
        return reject(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::BadRequest,
            "POST bodies must be application/json",
        );
    }
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(_) => return reject(media, StatusCode::BAD_REQUEST, ErrorCode::BadRequest, "the body is not valid JSON"),
    };
    if value.is_array() {
        return reject(
            media,
            StatusCode::BAD_REQUEST,
            ErrorCode::BatchingNotSupported,
            "batched requests are not accepted",
        );
    }
    let request: async_graphql::Request = match serde_json::from_value(value) {
        Ok(request) => request,
        Err(_) => {
            return reject(media, StatusCode::BAD_REQUEST, ErrorCode::BadRequest, "the body is not a GraphQL request");
        }
    };
    execute(&state, &headers, media, request).await
}

async fn execute<E: Executor>(
    state: &SubgraphState<E>,
    headers: &HeaderMap,
    media: &'static str,
    request: async_graphql::Request,
) -> Response {
    let token = headers.get(CONTEXT_HEADER).and_then(|value| value.to_str().ok());
    let context: TenantContext = match state.verifier.verify(token) {
        Ok(context) => {
            telemetry::record_caller(&context);
            context
        }
        Err(error) => {
            tracing::warn!(%error, "rejected a subgraph request without a valid tenant context");
            return reject(
                media,
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated,
                "a valid gateway-signed tenant context is required",
            );
        }
    };
    let transaction = match TenantTransaction::begin(&state.database, &context).await {
        Ok(transaction) => Arc::new(transaction),
        Err(error) => {
            tracing::error!(%error, "could not open a tenant transaction");
            return reject(
                media,
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::InternalServerError,
                "the service is unavailable",
            );
        }
    };
    // Mutations take the pool from the request data to open their own write transaction.
    let request = (state.install)(request.data(context).data(state.database.clone()), transaction);
    let response = state.executor.execute(request).await;
    // Parse and validation errors carry no path; resolver errors always do. Only the
    // former make the whole request a client error.
    let is_request_error = response.data == async_graphql::Value::Null
        && response.is_err()
        && response.errors.iter().all(|error| error.path.is_empty());
    telemetry::record_outcome(match (is_request_error, response.is_err()) {
        (true, _) => RequestOutcome::RequestError,
        (false, true) => RequestOutcome::PartialSuccess,
        (false, false) => RequestOutcome::Success,
    });
    let status =
        if media == GRAPHQL_RESPONSE_JSON && is_request_error { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let body = if is_request_error {
        // A request that never executed has no `data` entry (GraphQL over HTTP).
        serde_json::to_vec(&serde_json::json!({ "errors": response.errors }))
    } else {
        serde_json::to_vec(&response)
    };
    match body {
        Ok(body) => (status, [(header::CONTENT_TYPE, media)], body).into_response(),
        Err(error) => {
            tracing::error!(%error, "could not serialise a response");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn selected_operation_type(request: &async_graphql::Request) -> Option<OperationType> {
    let document = async_graphql::parser::parse_query(&request.query).ok()?;
    match (&request.operation_name, document.operations) {
        (None, async_graphql::parser::types::DocumentOperations::Single(operation)) => Some(operation.node.ty),
        (Some(name), operations) => operations
            .iter()
            .find(|(op_name, _)| op_name.map(|n| n.as_str()) == Some(name.as_str()))
            .map(|(_, op)| op.node.ty),
        (None, async_graphql::parser::types::DocumentOperations::Multiple(operations)) => {
            // An unnamed pick among several operations is a validation error later; refuse
            // GET if any of them mutates.
            operations
                .values()
                .map(|op| op.node.ty)
                .find(|ty| *ty == OperationType::Mutation)
                .or(Some(OperationType::Query))
        }
    }
}

fn not_acceptable() -> Response {
    (
        StatusCode::NOT_ACCEPTABLE,
        [(header::CONTENT_TYPE, APPLICATION_JSON)],
        ErrorCode::BadRequest
            .response_body("acceptable media types: application/graphql-response+json, application/json")
            .to_string(),
    )
        .into_response()
}

fn reject(media: &'static str, status: StatusCode, code: ErrorCode, message: &str) -> Response {
    // Under application/json the spec expects 200 for GraphQL-level failures, but
    // authentication, method and media-type failures are HTTP-level and keep their status.
    (status, [(header::CONTENT_TYPE, media)], code.response_body(message).to_string()).into_response()
}

/// The request's tenant transaction, as the handler installed it for resolvers and
/// DataLoaders.
pub fn request_transaction(ctx: &async_graphql::Context<'_>) -> async_graphql::Result<Arc<TenantTransaction>> {
    Ok(ctx.data::<Arc<TenantTransaction>>()?.clone())
}

/// Parses an id argument or entity key; a malformed id simply matches nothing.
pub fn uuid_of(id: &async_graphql::ID) -> Option<uuid::Uuid> {
    uuid::Uuid::parse_str(id.as_str()).ok()
}
