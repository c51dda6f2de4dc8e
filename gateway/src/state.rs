//! What every request of the gateway shares: the engine, the authenticator, policies,
//! limits, caches and the subgraph client, built once by `startup.rs`.

use std::sync::Arc;

use atrium_contract::{ContextKey, ContextSigner, config::Profile};

use crate::{
    auth::Authenticator,
    authorization::Authorizer,
    cors::CorsPolicy,
    engine::{Engine, ExecutionResponse},
    in_flight::InFlight,
    inbound::InboundKey,
    persisted::PersistedDocuments,
    policy::OperationPolicy,
    rate_limit::RateLimiter,
    response_cache::ResponseCache,
    subgraph_client::SubgraphClient,
    telemetry::GatewayTelemetry,
};

pub struct GatewayState {
    pub engine: Engine,
    pub authenticator: Authenticator,
    pub signer: ContextSigner,
    pub subgraphs: Arc<SubgraphClient>,
    pub profile: Profile,
    pub rate_limiter: RateLimiter,
    pub documents: Arc<PersistedDocuments>,
    /// Identical client queries in flight, collapsed into one execution (off: `None`).
    pub(crate) inbound: Option<Arc<InFlight<InboundKey, ExecutionResponse>>>,
    pub policy: OperationPolicy,
    /// Field- and type-level authorization (`@requiresScopes`), applied before planning.
    pub authorizer: Authorizer,
    pub telemetry: GatewayTelemetry,
    /// Query answers reused within their `@cacheControl` lifetime, per tenant and scope.
    pub response_cache: Arc<ResponseCache>,
    /// Keys services' change batches may be signed with.
    pub change_keys: Vec<ContextKey>,
    /// Which tenants' portals may call from which browser origins (`crate::cors`).
    pub cors: Arc<CorsPolicy>,
}
