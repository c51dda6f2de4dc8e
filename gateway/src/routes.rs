//! The gateway's routes: the public GraphQL endpoints (`/graphql`, `/admin/graphql`, with
//! CORS when configured) and the platform's internal ones (`POST /internal/changes`), each
//! behind the request-size limits of the operation policy.

use std::sync::Arc;

use atrium_contract::{
    ErrorCode,
    graphql_http::{APPLICATION_JSON, negotiate},
};
use axum::{
    Router,
    extract::{DefaultBodyLimit, Request, State},
    http::StatusCode,
    middleware::{self, Next},
    response::Response,
    routing::get,
};

use crate::{admin, cors, http, policy, rejection::reject, response_cache, state::GatewayState};

/// The public GraphQL endpoints: `/graphql` and `/admin/graphql`.
pub fn router(state: Arc<GatewayState>) -> Router {
    let mut endpoints = Router::new()
        .route("/graphql", get(http::graphql_get).post(http::graphql_post))
        .merge(admin::router(state.clone()));
    if state.cors.is_enabled() {
        endpoints = endpoints.layer(middleware::from_fn_with_state(Arc::clone(&state.cors), cors::apply));
    }
    with_request_limits(endpoints, state)
}

/// The platform's own endpoints (`POST /internal/changes`), for the internal listener
/// (or the public one in the dev profile without one).
pub fn internal_router(state: Arc<GatewayState>) -> Router {
    let receiver = response_cache::ChangeReceiver::new(Arc::clone(&state.response_cache), state.change_keys.clone());
    with_request_limits(response_cache::router(receiver), state)
}

fn with_request_limits(endpoints: Router<Arc<GatewayState>>, state: Arc<GatewayState>) -> Router {
    endpoints
        .layer(DefaultBodyLimit::max(state.policy.config().max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), limit_header_size))
        .with_state(state)
}

/// 431 before routing when the headers together exceed `policy.max_header_bytes`.
async fn limit_header_size(State(state): State<Arc<GatewayState>>, request: Request, next: Next) -> Response {
    if policy::header_bytes(request.headers()) > state.policy.config().max_header_bytes {
        let media = negotiate(request.headers()).unwrap_or(APPLICATION_JSON);
        return reject(
            media,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ErrorCode::RequestHeaderFieldsTooLarge,
            "the request headers are too large",
        );
    }
    next.run(request).await
}
