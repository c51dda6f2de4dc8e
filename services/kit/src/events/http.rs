//! The receiving end of HTTP event delivery: `POST` [`EVENTS_PATH`] with a signed
//! [`EventBatch`]. The batch goes through the service's [`EventConsumer`]
//! ([`EventConsumer::process_batch`]: one transaction per tenant); the answer is 2xx only once every event is committed (applied, known, stale, unwanted) or
//! parked, so the producer's relay may forget the batch. Anything else — a bad signature,
//! a database that cannot record outcomes, a service without a handler — is refused and
//! nothing is kept: the relay delivers again.

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, StatusCode},
    routing::post,
};

use super::{EventBatch, EventConsumer};
use crate::{
    ContextKey,
    changes::{SIGNATURE_HEADER, verify_batch},
};

/// Path on every service that receives event batches.
pub const EVENTS_PATH: &str = "/internal/events";

/// Accepted clock difference between the signing relay and this service.
const SIGNATURE_TOLERANCE: Duration = Duration::from_secs(300);

/// Largest accepted batch body (blueprint events carry their whole template).
const MAX_BATCH_BYTES: usize = 32 * 1024 * 1024;

struct Receiver {
    consumer: Option<Arc<EventConsumer>>,
    keys: Vec<ContextKey>,
}

/// The [`EVENTS_PATH`] route, verifying signatures with `keys` and applying through
/// `consumer` (`None`: every batch is answered 503).
pub fn router(consumer: Option<Arc<EventConsumer>>, keys: Vec<ContextKey>) -> Router {
    Router::new()
        .route(EVENTS_PATH, post(receive))
        .layer(DefaultBodyLimit::max(MAX_BATCH_BYTES))
        .with_state(Arc::new(Receiver { consumer, keys }))
}

async fn receive(State(receiver): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    let Some(signature) = headers.get(SIGNATURE_HEADER).and_then(|value| value.to_str().ok()) else {
        return (StatusCode::UNAUTHORIZED, "missing signature".to_owned());
    };
    if let Err(error) = verify_batch(&receiver.keys, signature, &body, chrono::Utc::now(), SIGNATURE_TOLERANCE) {
        tracing::warn!(%error, "refused an event batch");
        return (StatusCode::UNAUTHORIZED, error.to_string());
    }
    let Some(consumer) = &receiver.consumer else {
        return (StatusCode::SERVICE_UNAVAILABLE, "this service consumes no events".to_owned());
    };
    let batch: EventBatch = match serde_json::from_slice(&body) {
        Ok(batch) => batch,
        Err(error) => return (StatusCode::BAD_REQUEST, format!("unreadable event batch: {error}")),
    };
    if let Err(error) = consumer.process_batch(&batch.events).await {
        tracing::warn!(%error, events = batch.events.len(), "cannot record the events' outcomes; the batch will be redelivered");
        return (StatusCode::SERVICE_UNAVAILABLE, "events could not be recorded".to_owned());
    }
    (StatusCode::OK, format!("{} events", batch.events.len()))
}
