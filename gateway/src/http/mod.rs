//! The gateway's GraphQL-over-HTTP endpoint, read in request order: [`front_door`]
//! (what is read and refused before anything runs), [`pipeline`] (rate limit, cache,
//! de-duplication, the engine) and [`answer`] (response shaping and rejections); this
//! file holds the shared state and the routes.
//!
//! Order of checks, cheapest and least revealing first: header size (431), body size
//! (413), `Accept` negotiation (406), CSRF (400: a JSON content type or a preflight
//! header), authentication (401: nothing about the schema leaks to anonymous callers),
//! the caller's portal origin (403 `ORIGIN_NOT_ALLOWED` from another tenant's portal,
//! `crate::cors`), content type (415), body shape (400; JSON-array batches are refused),
//! persisted-document resolution, the caller's operation policy (`crate::policy`: tokens,
//! depth, aliases, root fields, cost), field authorization (`crate::authorization`:
//! unauthorized selections are left out of the plan, or 403 under `reject`), the rate limit
//! (429), only then the APQ registration the request proposed, then the engine (validate,
//! plan, execute) under the client kind's timeout (504). GET never runs a mutation (405 +
//! `Allow: POST`). Subgraph errors
//! leave masked to their code and path.

mod answer;
mod front_door;
mod get_parameters;
mod pipeline;

use std::sync::Arc;

use atrium_contract::{
    ContextSigner,
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

pub use answer::CACHE_STATUS_HEADER;
#[cfg(test)]
pub(crate) use answer::unauthenticated;
pub(crate) use answer::{not_acceptable, rate_limited, reject};
pub(crate) use front_door::{authenticate, authenticated_json_body, csrf_rejection};
pub(crate) use get_parameters::parse_get_parameters;
pub use pipeline::InboundKey;

use crate::{
    auth::Authenticator,
    config::Profile,
    engine::{Engine, ExecutionResponse},
    in_flight::InFlight,
    policy::{self, OperationPolicy},
    subgraph_client::SubgraphClient,
};

pub struct GatewayState {
    pub engine: Engine,
    pub authenticator: Authenticator,
    pub signer: ContextSigner,
    pub subgraphs: Arc<SubgraphClient>,
    pub profile: Profile,
    pub rate_limiter: crate::rate_limit::RateLimiter,
    pub documents: Arc<crate::persisted::PersistedDocuments>,
    /// Identical client queries in flight, collapsed into one execution (off: `None`).
    pub(crate) inbound: Option<Arc<InFlight<InboundKey, ExecutionResponse>>>,
    pub policy: OperationPolicy,
    /// Field- and type-level authorization (`@requiresScopes`), applied before planning.
    pub authorizer: crate::authorization::Authorizer,
    pub telemetry: crate::telemetry::GatewayTelemetry,
    /// Query answers reused within their `@cacheControl` lifetime, per tenant and scope.
    pub response_cache: Arc<crate::response_cache::ResponseCache>,
    /// Keys services' change batches may be signed with.
    pub change_keys: Vec<atrium_contract::ContextKey>,
    /// Which tenants' portals may call from which browser origins (`crate::cors`).
    pub cors: crate::cors::CorsPolicy,
}

/// The public GraphQL endpoints: `/graphql` and `/admin/graphql`.
pub fn router(state: Arc<GatewayState>) -> Router {
    let mut endpoints = Router::new()
        .route("/graphql", get(front_door::graphql_get).post(front_door::graphql_post))
        .merge(crate::admin::router(state.clone()));
    if state.cors.is_enabled() {
        endpoints = endpoints.layer(middleware::from_fn_with_state(state.clone(), crate::cors::apply));
    }
    with_request_limits(endpoints, state)
}

/// The platform's own endpoints (`POST /internal/changes`), for the internal listener
/// (or the public one in the dev profile without one).
pub fn internal_router(state: Arc<GatewayState>) -> Router {
    with_request_limits(crate::response_cache::router(), state)
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
            policy::codes::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "the request headers are too large",
        );
    }
    next.run(request).await
}
