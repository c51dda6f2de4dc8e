//! The gateway's admin endpoint, `/admin/graphql`: a small GraphQL schema of its own
//! (`schema`), separate from the federated supergraph, through which tenant admins publish
//! persisted documents for their tenant.
//!
//! It shares the public endpoint's front door: the header- and body-size limits, `Accept`
//! negotiation, the CSRF rule and authentication (401 with the same error body), then a
//! JSON content type for POST. Mutations run only over POST (GET: 405, `Allow: POST`).
//! Refusals inside the schema (FORBIDDEN, BAD_USER_INPUT, PERSISTED_DOCUMENT_INVALID) are
//! execution errors of an executed request: HTTP 200 with `data: null` and the code, as
//! GraphQL over HTTP prescribes; documents that do not parse or validate against the
//! admin schema are request errors (400 under `application/graphql-response+json`).

mod schema;

use atrium_contract::ErrorCode;
use std::sync::Arc;

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use atrium_contract::graphql_http::{GRAPHQL_RESPONSE_JSON, negotiate};
use axum::{
    Router,
    body::Bytes,
    extract::{RawQuery, State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
pub use schema::{AdminSchema, PERSISTED_DOCUMENT_INVALID, PUBLISHER_ROLE};

/// The admin endpoint's schema as SDL (`schema/admin.graphql`, for operators' tooling).
pub fn sdl() -> String {
    schema::build(true).sdl()
}

use crate::{
    engine::codes,
    http,
    rejection::{not_acceptable, rate_limited, reject},
    state::GatewayState,
};

pub const ADMIN_PATH: &str = "/admin/graphql";

struct AdminEndpoint {
    gateway: Arc<GatewayState>,
    schema: AdminSchema,
}

/// `GET|POST /admin/graphql`, for merging into the gateway's router before its limits are
/// layered on.
pub(crate) fn router<S: Clone + Send + Sync + 'static>(gateway: Arc<GatewayState>) -> Router<S> {
    let introspection = gateway.policy.config().introspection_enabled(gateway.profile);
    let endpoint = Arc::new(AdminEndpoint { gateway, schema: schema::build(introspection) });
    Router::new().route(ADMIN_PATH, get(admin_get).post(admin_post)).with_state(endpoint)
}

async fn admin_post(
    State(endpoint): State<Arc<AdminEndpoint>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(media) = negotiate(&headers) else { return not_acceptable() };
    let (context, value) = match http::authenticated_json_body(&endpoint.gateway, media, &headers, body).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let request: async_graphql::Request = match serde_json::from_value(value) {
        Ok(request) => request,
        Err(_) => {
            return reject(media, StatusCode::BAD_REQUEST, ErrorCode::BadRequest, "the body is not a GraphQL request");
        }
    };
    execute(&endpoint, media, context, request).await
}

async fn admin_get(
    State(endpoint): State<Arc<AdminEndpoint>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(media) = negotiate(&headers) else { return not_acceptable() };
    if let Some(response) = http::csrf_rejection(&endpoint.gateway, media, &headers) {
        return response;
    }
    let context = match http::authenticate(&endpoint.gateway, media, &headers).await {
        Ok(context) => context,
        Err(response) => return response,
    };
    let incoming = match http::parse_get_parameters(raw.as_deref().unwrap_or("")) {
        Ok(incoming) => incoming,
        Err(message) => return reject(media, StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message),
    };
    // The admin schema has no persisted documents of its own.
    let Some(query) = incoming.query.filter(|_| incoming.document_id.is_none()) else {
        return reject(media, StatusCode::BAD_REQUEST, ErrorCode::BadRequest, "the admin endpoint takes a `query`");
    };
    let mut request = async_graphql::Request::new(query)
        .variables(async_graphql::Variables::from_json(serde_json::Value::Object(incoming.variables)));
    if let Some(name) = &incoming.operation_name {
        request = request.operation_name(name.clone());
    }
    // GET must be safe: a mutation is refused before anything runs. A document that does
    // not parse is answered by `execute`.
    if let Ok(document) = request.parsed_query()
        && selects_mutation(document, incoming.operation_name.as_deref())
    {
        let mut response = reject(
            media,
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::BadRequest,
            "mutations are only accepted over POST",
        );
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    execute(&endpoint, media, context, request).await
}

async fn execute(
    endpoint: &AdminEndpoint,
    media: &'static str,
    context: atrium_contract::TenantContext,
    mut request: async_graphql::Request,
) -> Response {
    atrium_contract::telemetry::record_caller(&context);
    // Admin calls draw on the caller's own tenant and client budget, like any request:
    // publishing validates whole manifests and must not be a way around the limits.
    let limiter = &endpoint.gateway.rate_limiter;
    if let crate::rate_limit::Decision::Limited { retry_after } =
        limiter.check(&context, context.subject.strip_prefix("apikey:"), limiter.units_for(None)).await
    {
        return rate_limited(media, retry_after);
    }
    if let Err(error) = request.parsed_query() {
        let body = serde_json::json!({ "errors": [{
            "message": error.message,
            "locations": error.locations,
            "extensions": { "code": codes::GRAPHQL_PARSE_FAILED },
        }] });
        return respond(media, request_error_status(media), &body);
    }
    let request = request.data(context).data(Arc::clone(&endpoint.gateway));
    let mut response = endpoint.schema.execute(request).await;
    // Resolver errors always carry a path; errors without one mean the request never ran.
    let never_ran = response.data == async_graphql::Value::Null
        && response.is_err()
        && response.errors.iter().all(|error| error.path.is_empty());
    if never_ran {
        for error in &mut response.errors {
            let extensions = error.extensions.get_or_insert_with(Default::default);
            if extensions.get("code").is_none() {
                extensions.set("code", codes::GRAPHQL_VALIDATION_FAILED);
            }
        }
        // A request that never executed has no `data` entry (GraphQL over HTTP).
        let body = serde_json::json!({ "errors": response.errors });
        return respond(media, request_error_status(media), &body);
    }
    match serde_json::to_value(&response) {
        Ok(body) => respond(media, StatusCode::OK, &body),
        Err(error) => {
            tracing::error!(%error, "cannot serialise an admin response");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Under `application/json` the spec asks for 200 even for request errors.
fn request_error_status(media: &'static str) -> StatusCode {
    if media == GRAPHQL_RESPONSE_JSON { StatusCode::BAD_REQUEST } else { StatusCode::OK }
}

fn respond(media: &'static str, status: StatusCode, body: &serde_json::Value) -> Response {
    (status, [(header::CONTENT_TYPE, media)], body.to_string()).into_response()
}

/// Whether the operation a request selects is a mutation. An unnamed pick among several
/// operations fails validation later; it counts as a mutation if any of them is one, so
/// GET never gets that far with one.
fn selects_mutation(document: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => operation.node.ty == OperationType::Mutation,
        (operations, Some(name)) => operations
            .iter()
            .find(|(candidate, _)| candidate.map(|candidate| candidate.as_str()) == Some(name))
            .is_some_and(|(_, operation)| operation.node.ty == OperationType::Mutation),
        (DocumentOperations::Multiple(operations), None) => {
            operations.values().any(|operation| operation.node.ty == OperationType::Mutation)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selects(query: &str, operation_name: Option<&str>) -> bool {
        selects_mutation(&async_graphql::parser::parse_query(query).unwrap(), operation_name)
    }

    #[test]
    fn recognises_the_mutation_a_request_selects() {
        assert!(selects("mutation { publishPersistedDocuments }", None));
        assert!(!selects("{ persistedDocuments { version } }", None));
        let both = "query List { persistedDocuments { version } } mutation Publish { publishPersistedDocuments }";
        assert!(selects(both, Some("Publish")));
        assert!(!selects(both, Some("List")));
        assert!(selects(both, None));
    }
}
