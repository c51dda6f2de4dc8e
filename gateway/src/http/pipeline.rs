//! The pipeline of an admitted request: rate limit, then the APQ registration the request
//! proposed, then the response cache, de-duplication of identical in-flight queries and
//! the engine under the client kind's timeout; the answer is shaped by [`super::answer`].

use atrium_contract::ErrorCode;
use std::sync::Arc;

use axum::{http::StatusCode, response::Response};

use atrium_contract::telemetry::RequestOutcome;
use tracing::Instrument as _;

use super::answer::respond;
use crate::{
    authorization::AuthorizedOperation,
    engine::{ExecutionResponse, GraphQLRequest, OperationKind, Outcome, RemovedSelections, SubgraphTransport},
    inbound::InboundKey,
    persisted::ApqRegistration,
    policy::Admission,
    rejection::{rate_limited, reject},
    response_cache::Lookup,
    state::GatewayState,
};

pub(super) async fn execute(
    state: &Arc<GatewayState>,
    media: &'static str,
    context: &atrium_contract::TenantContext,
    request: GraphQLRequest,
    admission: Admission,
    authorized: AuthorizedOperation,
    registration: Option<ApqRegistration>,
) -> Response {
    atrium_contract::telemetry::record_caller(context);
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
            record_answered_elsewhere(state, &request, authorized.removed, &response).await;
            return respond(state, media, &admission, response, authorized.errors, (max_age, cache_label));
        }
        Lookup::Miss(pending) => Some(pending),
        Lookup::Uncached { .. } | Lookup::NotCacheable => None,
    };
    let signed = match state.signer.sign(context) {
        Ok(signed) => signed,
        Err(error) => {
            tracing::error!(%error, "cannot sign the tenant context");
            return reject(media, StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::InternalServerError, "internal error");
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
                let work = async move { execute_traced(&work_state, &work_request, work_removed, &transport).await };
                let response = inbound.run(key, tracing::Instrument::in_current_span(work)).await;
                record_answered_elsewhere(&shared_state, &request, removed, &response).await;
                response
            }
            None => execute_traced(&shared_state, &request, removed, &transport).await,
        }
    };
    let execution = tokio::time::timeout(admission.timeout(), run);
    let Ok(response) = execution.await else {
        tracing::warn!(timeout_ms = admission.limits.gateway_timeout_ms, "request exceeded the gateway timeout");
        return reject(media, StatusCode::GATEWAY_TIMEOUT, ErrorCode::GatewayTimeout, "the request took too long");
    };
    // Only a clean execution is reusable; an answer with errors may be transient.
    let clean = response.outcome == Outcome::Success;
    if let (Some(pending), true) = (pending, clean) {
        state.response_cache.store(pending, &response.body).await;
    }
    let max_age = if clean { max_age } else { 0 };
    respond(state, media, &admission, response, authorized.errors, (max_age, cache_label))
}

/// Records the operation and outcome of a request this task did not execute: it ran in a
/// shared task (inbound de-duplication) or came from the response cache. Request records
/// are task-local, so the answered request labels itself. Preparing is a plan-cache hit.
pub(super) async fn record_answered_elsewhere(
    state: &GatewayState,
    request: &GraphQLRequest,
    removed: Arc<RemovedSelections>,
    response: &ExecutionResponse,
) {
    if let Ok(prepared) = state.engine.prepare_restricted(request, removed).await {
        atrium_contract::telemetry::record_operation(prepared.kind().as_str(), prepared.operation_name());
    }
    atrium_contract::telemetry::record_outcome(outcome_label(response.outcome));
}

/// Prepares (span `graphql.prepare`), reports the operation to the request span, access
/// log and metrics, then executes (span `{type} {name}`, the GraphQL semantic conventions'
/// name) with the subgraph fetches below it. The plan leaves out the `removed` selections
/// (field authorization).
async fn execute_traced(
    state: &GatewayState,
    request: &GraphQLRequest,
    removed: Arc<RemovedSelections>,
    transport: &dyn SubgraphTransport,
) -> ExecutionResponse {
    if state.telemetry.record_document {
        atrium_contract::telemetry::record_document(&request.query);
    }
    let prepared = match state
        .engine
        .prepare_restricted(request, removed)
        .instrument(tracing::info_span!("graphql.prepare"))
        .await
    {
        Ok(prepared) => prepared,
        Err(error) => {
            let response = ExecutionResponse::from_request_error(&error);
            atrium_contract::telemetry::record_outcome(outcome_label(response.outcome));
            return response;
        }
    };
    let operation_type = prepared.kind().as_str();
    atrium_contract::telemetry::record_operation(operation_type, prepared.operation_name());
    let span_name = match prepared.operation_name() {
        Some(name) => format!("{operation_type} {name}"),
        None => operation_type.to_owned(),
    };
    let span = tracing::info_span!(
        "graphql.execute",
        otel.name = span_name.as_str(),
        graphql.operation.type = operation_type,
        graphql.operation.name = prepared.operation_name(),
    );
    let response = state.engine.execute_prepared(&prepared, request, transport).instrument(span).await;
    atrium_contract::telemetry::record_outcome(outcome_label(response.outcome));
    response
}

fn outcome_label(outcome: Outcome) -> RequestOutcome {
    match outcome {
        Outcome::Success => RequestOutcome::Success,
        Outcome::PartialSuccess => RequestOutcome::PartialSuccess,
        Outcome::RequestError => RequestOutcome::RequestError,
        Outcome::InternalError => RequestOutcome::InternalError,
    }
}
