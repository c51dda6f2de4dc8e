//! The pipeline of an admitted request: rate limit, then the APQ registration the request
//! proposed, then the response cache, de-duplication of identical in-flight queries and
//! the engine under the client kind's timeout; the answer is shaped by [`super::answer`].

use std::sync::Arc;

use axum::{http::StatusCode, response::Response};

use super::{
    GatewayState,
    answer::{rate_limited, reject, respond},
};
use crate::{
    authorization::AuthorizedOperation,
    engine::{ExecutionResponse, GraphQLRequest, OperationKind, Outcome},
    in_flight::TaskFailure,
    persisted::ApqRegistration,
    policy::{self, Admission},
    response_cache::Lookup,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbound_keys_match_only_for_the_same_caller_document_and_variables() {
        let context = atrium_contract::TenantContext {
            tenant_id: uuid::Uuid::nil(),
            subject: "user-1".into(),
            roles: vec!["csm".into()],
            client_kind: atrium_contract::ClientKind::Dashboard,
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
        let other_tenant = atrium_contract::TenantContext { tenant_id: uuid::Uuid::from_u128(1), ..context.clone() };
        let other_role = atrium_contract::TenantContext { roles: vec!["finance".into()], ..context.clone() };
        let other_user = atrium_contract::TenantContext { subject: "user-2".into(), ..context.clone() };
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
}
