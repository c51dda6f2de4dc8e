//! `POST /internal/changes`: where services' outbox relays deliver change events. The
//! batch must carry a valid HMAC signature under a shared context key (the same keys the
//! gateway signs tenant contexts with), so nobody outside the platform can flush a
//! tenant's cache. 204 once applied; 503 when the shared store is unreachable, so the
//! relay keeps the events and retries (delivery is at least once, application
//! idempotent).

use std::sync::Arc;

use atrium_contract::{
    ContextKey, ErrorCode,
    changes::{CHANGES_PATH, ChangeBatch, SIGNATURE_HEADER, verify_batch},
    graphql_http::APPLICATION_JSON,
};
use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};

use super::ResponseCache;
use crate::rejection;

/// How far a batch's signing time may be from this gateway's clock.
const SIGNATURE_TOLERANCE: std::time::Duration = std::time::Duration::from_secs(300);

/// What the change receiver needs: the cache to invalidate and the keys batches may be
/// signed with.
#[derive(Clone)]
pub struct ChangeReceiver {
    response_cache: Arc<ResponseCache>,
    change_keys: Arc<Vec<ContextKey>>,
}

impl ChangeReceiver {
    pub fn new(response_cache: Arc<ResponseCache>, change_keys: Vec<ContextKey>) -> Self {
        ChangeReceiver { response_cache, change_keys: Arc::new(change_keys) }
    }
}

pub fn router<S: Clone + Send + Sync + 'static>(receiver: ChangeReceiver) -> Router<S> {
    Router::new().route(CHANGES_PATH, post(receive_changes)).with_state(receiver)
}

async fn receive_changes(State(state): State<ChangeReceiver>, headers: HeaderMap, body: Bytes) -> Response {
    let signature = headers.get(SIGNATURE_HEADER).and_then(|value| value.to_str().ok()).unwrap_or_default();
    if let Err(error) = verify_batch(&state.change_keys, signature, &body, chrono::Utc::now(), SIGNATURE_TOLERANCE) {
        tracing::warn!(%error, "refused a change batch");
        return reject(StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated, "the change batch signature is not valid");
    }
    let batch: ChangeBatch = match serde_json::from_slice(&body) {
        Ok(batch) => batch,
        Err(error) => {
            tracing::warn!(%error, "refused an unreadable change batch");
            return reject(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, "the body is not a change batch");
        }
    };
    match state.response_cache.invalidate(&batch.events).await {
        Ok(()) => {
            tracing::debug!(events = batch.events.len(), "applied change events to the response cache");
            StatusCode::NO_CONTENT.into_response()
        }
        Err(error) => {
            tracing::warn!(%error, events = batch.events.len(), "could not apply change events; the sender retries");
            reject(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::ServiceUnavailable, "the response cache is unavailable")
        }
    }
}

fn reject(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    rejection::reject(APPLICATION_JSON, status, code, message)
}
