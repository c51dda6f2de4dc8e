//! The gateway's GraphQL-over-HTTP endpoint.
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

use std::sync::Arc;

use atrium_kit::{
    ContextSigner,
    errors::ErrorCode,
    graphql_http::{APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, has_json_content_type, negotiate},
};
use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, RawQuery, Request, State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;

use crate::{
    auth::{AuthError, Authenticator},
    authorization::AuthorizedOperation,
    config::Profile,
    engine::{Engine, ExecutionResponse, GraphQLRequest, OperationKind, Outcome},
    graphiql,
    in_flight::{InFlight, TaskFailure},
    persisted::{ApqRegistration, IncomingRequest, ResolvedDocument},
    policy::{self, Admission, OperationPolicy},
    response_cache::Lookup,
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
    pub change_keys: Vec<atrium_kit::ContextKey>,
    /// Which tenants' portals may call from which browser origins (`crate::cors`).
    pub cors: crate::cors::CorsPolicy,
}

/// The public GraphQL endpoints: `/graphql` and `/admin/graphql`.
pub fn router(state: Arc<GatewayState>) -> Router {
    let mut endpoints =
        Router::new().route("/graphql", get(graphql_get).post(graphql_post)).merge(crate::admin::router(state.clone()));
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
) -> Result<(atrium_kit::TenantContext, serde_json::Value), Response> {
    let body = body.map_err(|rejection| body_rejected(media, &rejection))?;
    if let Some(response) = csrf_rejection(state, media, headers) {
        return Err(response);
    }
    let context = authenticate(state, media, headers).await?;
    if !has_json_content_type(headers) {
        let message = "POST bodies must be application/json";
        return Err(reject(media, StatusCode::UNSUPPORTED_MEDIA_TYPE, "BAD_REQUEST", message));
    }
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| reject(media, StatusCode::BAD_REQUEST, "BAD_REQUEST", "the body is not valid JSON"))?;
    if value.is_array() {
        let message = "batched requests are not accepted";
        return Err(reject(media, StatusCode::BAD_REQUEST, "BATCHING_NOT_SUPPORTED", message));
    }
    Ok((context, value))
}

/// The caller, from verified credentials; then a browser request from a portal origin of
/// another tenant is refused before anything runs (`crate::cors`).
pub(crate) async fn authenticate(
    state: &GatewayState,
    media: &'static str,
    headers: &HeaderMap,
) -> Result<atrium_kit::TenantContext, Response> {
    let context = state.authenticator.authenticate(headers).await.map_err(|error| unauthenticated(media, &error))?;
    match state.cors.refusal(media, headers, context.tenant_id) {
        Some(refusal) => Err(refusal),
        None => Ok(context),
    }
}

async fn graphql_post(
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
        Err(_) => return reject(media, StatusCode::BAD_REQUEST, "BAD_REQUEST", "the body is not a GraphQL request"),
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
        return reject(media, StatusCode::PAYLOAD_TOO_LARGE, policy::codes::PAYLOAD_TOO_LARGE, "the body is too large");
    }
    tracing::info!(%rejection, "could not read a request body");
    reject(media, StatusCode::BAD_REQUEST, "BAD_REQUEST", "the body could not be read")
}

/// The rejection of a request a foreign web page could have sent without a CORS preflight.
pub(crate) fn csrf_rejection(state: &GatewayState, media: &'static str, headers: &HeaderMap) -> Option<Response> {
    if policy::is_csrf_safe(headers, &state.policy.config().csrf_preflight_headers) {
        return None;
    }
    Some(reject(
        media,
        StatusCode::BAD_REQUEST,
        policy::codes::CSRF_PREVENTED,
        "this request needs a JSON content type or a preflight header such as x-atrium-preflight",
    ))
}

/// The caller's operation policy (limits, cost), applied before anything is planned.
fn admit(
    state: &GatewayState,
    media: &'static str,
    context: &atrium_kit::TenantContext,
    request: &GraphQLRequest,
) -> Result<Admission, Box<Response>> {
    state.policy.admit(context.client_kind, request).map_err(|error| {
        let outcome = if error.is_client_error() { Outcome::RequestError } else { Outcome::InternalError };
        Box::new(graphql_response(media, outcome, error.to_response()))
    })
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
    if let Some(response) = csrf_rejection(&state, media, &headers) {
        return response;
    }
    let context = match authenticate(&state, media, &headers).await {
        Ok(context) => context,
        Err(response) => return response,
    };
    let incoming = match parse_get_parameters(raw.as_deref().unwrap_or("")) {
        Ok(incoming) => incoming,
        Err(message) => return reject(media, StatusCode::BAD_REQUEST, "BAD_REQUEST", message),
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
        let mut response =
            reject(media, StatusCode::METHOD_NOT_ALLOWED, "BAD_REQUEST", "mutations are only accepted over POST");
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
async fn resolve_document(
    state: &GatewayState,
    media: &'static str,
    context: &atrium_kit::TenantContext,
    incoming: IncomingRequest,
) -> Result<ResolvedDocument, Response> {
    state
        .documents
        .resolve(context, incoming)
        .await
        .map_err(|rejection| reject(media, rejection.status(), rejection.code(), rejection.message()))
}

pub(crate) fn parse_get_parameters(raw: &str) -> Result<IncomingRequest, &'static str> {
    let mut request = IncomingRequest::default();
    for (key, value) in form_urlencoded_pairs(raw) {
        match key.as_str() {
            "query" => request.query = Some(value),
            "documentId" => request.document_id = Some(value),
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
    if request.query.is_some() || request.document_id.is_some() || request.extensions.contains_key("persistedQuery") {
        Ok(request)
    } else {
        Err("the `query` (or `documentId`) parameter is required")
    }
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
    state: &Arc<GatewayState>,
    media: &'static str,
    context: &atrium_kit::TenantContext,
    request: GraphQLRequest,
    admission: Admission,
    authorized: AuthorizedOperation,
    registration: Option<ApqRegistration>,
) -> Response {
    atrium_kit::telemetry::record_caller(context);
    let units = state.rate_limiter.units_for(admission.measure.map(|measure| measure.cost));
    if let crate::rate_limit::Decision::Limited { retry_after } =
        state.rate_limiter.check(context, context.subject.strip_prefix("apikey:"), units).await
    {
        return rate_limited(media, retry_after);
    }
    // Registered only now, so neither an operation the policy refuses nor a client over its
    // limit can fill the APQ store.
    if let Some(registration) = registration {
        state.documents.register(registration).await;
    }
    let cache = match admission.operation_kind {
        Some(OperationKind::Query) => state.response_cache.lookup(context, &request, &authorized.removed).await,
        _ => Lookup::NotCacheable,
    };
    let cache_label = cache.label();
    let max_age = cache.max_age();
    let pending = match cache {
        Lookup::Hit { body, .. } => {
            let response = ExecutionResponse { body, outcome: Outcome::Success };
            crate::telemetry::record_answered_elsewhere(state, &request, authorized.removed, &response).await;
            return respond(state, media, &admission, response, authorized.errors, (max_age, cache_label));
        }
        Lookup::Miss(pending) => Some(pending),
        Lookup::Uncached { .. } | Lookup::NotCacheable => None,
    };
    let signed = match state.signer.sign(context) {
        Ok(signed) => signed,
        Err(error) => {
            tracing::error!(%error, "cannot sign the tenant context");
            return reject(media, StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_SERVER_ERROR", "internal error");
        }
    };
    let mut transport = state.subgraphs.for_request(signed).with_caller(context);
    if admission.operation_kind == Some(OperationKind::Query) {
        transport = transport.with_entity_cache(state.response_cache.entity_cache_for(context));
    }
    let inbound = match (&state.inbound, admission.operation_kind) {
        (Some(inbound), Some(OperationKind::Query)) => match InboundKey::new(context, &request) {
            Ok(key) => Some((Arc::clone(inbound), key)),
            Err(error) => {
                tracing::warn!(%error, "no de-duplication key could be built; the request executes alone");
                None
            }
        },
        _ => None,
    };
    let shared_state = Arc::clone(state);
    let removed = Arc::clone(&authorized.removed);
    let run = async move {
        match inbound {
            Some((inbound, key)) => {
                let (work_state, work_request) = (Arc::clone(&shared_state), request.clone());
                let work_removed = Arc::clone(&removed);
                let work = async move {
                    crate::telemetry::execute_traced(&work_state, &work_request, work_removed, &transport).await
                };
                let response = inbound.run(key, tracing::Instrument::in_current_span(work)).await;
                crate::telemetry::record_answered_elsewhere(&shared_state, &request, removed, &response).await;
                response
            }
            None => crate::telemetry::execute_traced(&shared_state, &request, removed, &transport).await,
        }
    };
    let execution = tokio::time::timeout(admission.timeout(), run);
    let Ok(response) = execution.await else {
        tracing::warn!(timeout_ms = admission.limits.gateway_timeout_ms, "request exceeded the gateway timeout");
        return reject(media, StatusCode::GATEWAY_TIMEOUT, policy::codes::GATEWAY_TIMEOUT, "the request took too long");
    };
    // Only a clean execution is reusable; an answer with errors may be transient.
    let clean = response.outcome == Outcome::Success;
    if let (Some(pending), true) = (pending, clean) {
        state.response_cache.store(pending, &response.body).await;
    }
    let max_age = if clean { max_age } else { 0 };
    respond(state, media, &admission, response, authorized.errors, (max_age, cache_label))
}

/// The client's answer: per-caller response policy and authorization errors on top of
/// the execution's (or the cache's) body, with the cache headers. `Cache-Control` is
/// `private`: every answer belongs to one tenant and scope, so no shared HTTP cache may
/// keep it, while the caller's own client (a BI tool, a browser) may, for `max-age`.
fn respond(
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

/// Field authorization for the caller (`crate::authorization`): what to leave out of the
/// plan, or 403 when the client kind's policy is `reject`. Nothing has been fetched yet.
fn authorize(
    state: &GatewayState,
    media: &'static str,
    context: &atrium_kit::TenantContext,
    request: &GraphQLRequest,
) -> Result<AuthorizedOperation, Box<Response>> {
    state.authorizer.authorize(context, request).map_err(|rejection| {
        tracing::info!(errors = rejection.errors.len(), "refused an operation selecting unauthorized fields");
        let body = serde_json::json!({ "errors": rejection.errors });
        Box::new((StatusCode::FORBIDDEN, [(header::CONTENT_TYPE, media)], body.to_string()).into_response())
    })
}

/// Adds one error per selection authorization removed, when the operation executed.
fn add_authorization_errors(outcome: Outcome, body: &mut serde_json::Value, errors: Vec<serde_json::Value>) -> Outcome {
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

/// What makes two client queries interchangeable: the same caller (tenant, subject, roles,
/// client kind, scopes) sending the same document, operation and variables. Anything less
/// could hand one caller another's data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InboundKey {
    caller: String,
    query: String,
    operation_name: Option<String>,
    variables: String,
    extensions: String,
}

impl InboundKey {
    /// The key for `caller` (the tenant context) sending `request`. A part that cannot be
    /// serialised is an error, and the request then executes alone: a stand-in such as an
    /// empty string would make unrelated callers' keys equal.
    fn new(caller: &impl serde::Serialize, request: &GraphQLRequest) -> Result<Self, serde_json::Error> {
        Ok(InboundKey {
            caller: serde_json::to_string(caller)?,
            query: request.query.clone(),
            operation_name: request.operation_name.clone(),
            variables: serde_json::to_string(&request.variables)?,
            extensions: serde_json::to_string(&request.extensions)?,
        })
    }
}

impl TaskFailure for ExecutionResponse {
    fn task_failed(message: String) -> Self {
        tracing::error!(%message, "a shared execution failed");
        ExecutionResponse {
            body: serde_json::json!({ "errors": [{ "message": "internal error", "extensions": { "code": "INTERNAL_SERVER_ERROR" } }] }),
            outcome: Outcome::InternalError,
        }
    }
}

/// Masks subgraph errors, hides suggestions while introspection is off, and reports the
/// operation's static cost in `extensions.cost`.
fn apply_response_policy(state: &GatewayState, admission: &Admission, outcome: Outcome, body: &mut serde_json::Value) {
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

/// 429 with `Retry-After` in whole seconds (rounded up, so a client that waits that long
/// is admitted).
pub(crate) fn rate_limited(media: &'static str, retry_after: std::time::Duration) -> Response {
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

pub(crate) fn unauthenticated(media: &'static str, error: &AuthError) -> Response {
    if error.is_keys_unavailable() {
        tracing::warn!(reason = %error, "cannot verify credentials: no usable keys");
        return reject(
            media,
            StatusCode::SERVICE_UNAVAILABLE,
            "AUTH_KEYS_UNAVAILABLE",
            "credentials cannot be verified right now; retry later",
        );
    }
    tracing::info!(reason = %error, "rejected an unauthenticated request");
    let mut response =
        reject(media, StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated.as_str(), "authentication required");
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

pub(crate) fn not_acceptable() -> Response {
    reject(
        APPLICATION_JSON,
        StatusCode::NOT_ACCEPTABLE,
        "BAD_REQUEST",
        "acceptable media types: application/graphql-response+json, application/json",
    )
}

pub(crate) fn reject(media: &'static str, status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, [(header::CONTENT_TYPE, media)], body.to_string()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbound_keys_match_only_for_the_same_caller_document_and_variables() {
        let context = atrium_kit::TenantContext {
            tenant_id: uuid::Uuid::nil(),
            subject: "user-1".into(),
            roles: vec!["csm".into()],
            client_kind: atrium_kit::ClientKind::Dashboard,
            channel_partner_id: None,
            customer_account_id: None,
        };
        let request = GraphQLRequest {
            query: "{ tenant { name } }".into(),
            operation_name: None,
            variables: Default::default(),
            extensions: Default::default(),
        };
        let key = InboundKey::new(&context, &request).unwrap();
        assert_eq!(key, InboundKey::new(&context.clone(), &request.clone()).unwrap());
        let other_tenant = atrium_kit::TenantContext { tenant_id: uuid::Uuid::from_u128(1), ..context.clone() };
        let other_role = atrium_kit::TenantContext { roles: vec!["finance".into()], ..context.clone() };
        let other_user = atrium_kit::TenantContext { subject: "user-2".into(), ..context.clone() };
        let mut other_variables = request.clone();
        other_variables.variables.insert("first".into(), 1.into());
        for different in [
            InboundKey::new(&other_tenant, &request).unwrap(),
            InboundKey::new(&other_role, &request).unwrap(),
            InboundKey::new(&other_user, &request).unwrap(),
            InboundKey::new(&context, &other_variables).unwrap(),
        ] {
            assert_ne!(key, different);
        }
    }

    #[test]
    fn no_inbound_key_is_built_for_a_caller_that_cannot_be_serialised() {
        // JSON object keys must be strings: a caller described by a map with other keys
        // cannot be written as JSON. An empty stand-in would give every such caller the
        // same key, and so one caller's answer to another.
        let caller_with_tuple_keys = |subject: &str| std::collections::BTreeMap::from([((subject.to_owned(), 1), 1)]);
        let request = GraphQLRequest { query: "{ tenant { name } }".into(), ..GraphQLRequest::default() };
        assert!(InboundKey::new(&caller_with_tuple_keys("user-1"), &request).is_err());
        assert!(InboundKey::new(&caller_with_tuple_keys("user-2"), &request).is_err());
    }

    #[test]
    fn decodes_get_parameters_with_percent_and_plus_encoding() {
        let request =
            parse_get_parameters("query=%7B+tenant+%7B+name+%7D+%7D&operationName=&variables=%7B%22a%22%3A1%7D")
                .unwrap();
        assert_eq!(request.query.as_deref(), Some("{ tenant { name } }"));
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
