//! How the outbox relay hands envelopes on: an [`EventTransport`] publishes a batch to one
//! of its destinations and answers `Ok` only once the destination holds it durably. The
//! relay tracks progress per destination, so one that is down neither blocks nor repeats
//! deliveries to the others. [`HttpTransport`] has one destination per subscriber;
//! [`super::redis_streams::RedisStreamsTransport`] has one, the streams.

use std::time::Duration;

use chrono::Utc;
use futures::future::BoxFuture;
use reqwest::Url;
use serde::{Deserialize, Serialize};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use super::{DomainEvent, EventSubscriber, EventsConfigError, http::EVENTS_PATH};
use crate::{
    ContextKey,
    changes::{SIGNATURE_HEADER, sign_batch},
};

/// Longest wait for a subscriber's answer: it applies the whole batch, retries included,
/// before answering.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Publishing envelopes to where consumers read them.
pub trait EventTransport: Send + Sync + 'static {
    /// The destinations, each tracked separately in the outbox (stable names).
    fn destinations(&self) -> Vec<String>;

    /// Publishes `events` (oldest first) to `destination`; `Ok` once it holds them durably.
    fn publish<'a>(
        &'a self,
        destination: &'a str,
        events: &'a [DomainEvent],
    ) -> BoxFuture<'a, Result<(), TransportError>>;
}

/// A publication that did not happen (the events stay in the outbox).
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("unknown event destination {0}")]
    UnknownDestination(String),
    #[error("cannot encode the event batch: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("cannot reach the subscriber: {0}")]
    Unreachable(#[from] reqwest::Error),
    #[error("the subscriber answered {status}")]
    Refused { status: u16 },
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// The body of one delivery to [`EVENTS_PATH`], signed like change batches.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventBatch {
    pub events: Vec<DomainEvent>,
}

/// Delivers signed [`EventBatch`]es to each subscriber's [`EVENTS_PATH`]; the destination
/// name of a subscriber is `http:<name>`.
pub struct HttpTransport {
    subscribers: Vec<(String, Url)>,
    client: reqwest::Client,
    key: ContextKey,
}

impl HttpTransport {
    /// A transport to `subscribers`, signing with `key` (the service's first context key).
    pub fn new(subscribers: &[EventSubscriber], key: ContextKey) -> Result<Self, EventsConfigError> {
        let subscribers = subscribers
            .iter()
            .map(|subscriber| Ok((format!("http:{}", subscriber.name), endpoint(&subscriber.url)?)))
            .collect::<Result<Vec<_>, EventsConfigError>>()?;
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|error| EventsConfigError::Invalid(error.to_string()))?;
        Ok(HttpTransport { subscribers, client, key })
    }

    /// Where each destination's batches go.
    pub fn endpoints(&self) -> impl Iterator<Item = (&str, &Url)> {
        self.subscribers.iter().map(|(destination, url)| (destination.as_str(), url))
    }

    async fn post(&self, url: &Url, events: &[DomainEvent]) -> Result<(), TransportError> {
        let body = serde_json::to_vec(&EventBatch { events: events.to_vec() })?;
        let signature = sign_batch(&self.key, &body, Utc::now());
        // The subscriber's request span joins the relay's publication span.
        let mut trace_headers = axum::http::HeaderMap::new();
        crate::telemetry::inject_context(&tracing::Span::current().context(), &mut trace_headers);
        let response = self
            .client
            .post(url.clone())
            .headers(trace_headers)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(TransportError::Refused { status: response.status().as_u16() });
        }
        Ok(())
    }
}

impl EventTransport for HttpTransport {
    fn destinations(&self) -> Vec<String> {
        self.subscribers.iter().map(|(destination, _)| destination.clone()).collect()
    }

    fn publish<'a>(
        &'a self,
        destination: &'a str,
        events: &'a [DomainEvent],
    ) -> BoxFuture<'a, Result<(), TransportError>> {
        Box::pin(async move {
            let (_, url) = self
                .subscribers
                .iter()
                .find(|(name, _)| name == destination)
                .ok_or_else(|| TransportError::UnknownDestination(destination.to_owned()))?;
            self.post(url, events).await
        })
    }
}

/// A subscriber's endpoint: a base URL gets [`EVENTS_PATH`], a URL with a path is kept.
fn endpoint(configured: &str) -> Result<Url, EventsConfigError> {
    let invalid = |reason: &str| EventsConfigError::Invalid(format!("events subscriber url {configured:?}: {reason}"));
    let mut url = Url::parse(configured.trim()).map_err(|error| invalid(&error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid("expected an http(s) URL"));
    }
    if url.path().is_empty() || url.path() == "/" {
        url.set_path(EVENTS_PATH);
    }
    Ok(url)
}

/// `pause` scaled by a random factor in [0.5, 1.0), so retries of many producers spread.
pub(crate) fn jittered(pause: Duration) -> Duration {
    let random = (uuid::Uuid::new_v4().as_u128() % 1_000) as u32;
    pause.mul_f64(0.5 + f64::from(random) / 2_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriber_urls_get_the_events_path() {
        assert_eq!(endpoint("http://127.0.0.1:4002").unwrap().as_str(), "http://127.0.0.1:4002/internal/events");
        assert_eq!(endpoint("http://proxy/x/events").unwrap().as_str(), "http://proxy/x/events");
        assert!(endpoint("ftp://x").is_err());
    }

    #[test]
    fn jitter_stays_between_half_and_the_whole_pause() {
        for _ in 0..100 {
            let pause = jittered(Duration::from_millis(1000));
            assert!(pause >= Duration::from_millis(500) && pause < Duration::from_millis(1000), "{pause:?}");
        }
    }
}
