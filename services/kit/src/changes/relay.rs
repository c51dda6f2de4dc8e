//! The relay: a background task that delivers a service's outbox to the gateway.
//!
//! Each round reads the oldest events (committing that read), POSTs them as one signed
//! [`ChangeBatch`] and, on a 2xx answer, deletes them in a new transaction, so no
//! transaction stays open while the request is in flight. A failed round keeps the
//! events, counts an attempt on them and backs off; the warning about it is logged at
//! most once a minute. Delivery is at least once: an answer lost after the gateway acted,
//! or a second replica reading the same rows, means the gateway sees an event twice.
//!
//! Without `changes.gateway_url` nothing is delivered; the relay only deletes events older
//! than `changes.retention_seconds`, so the outbox cannot grow without bound.
//!
//! With an event transport ([`ChangeRelay::with_event_transport`]) the rows carrying domain
//! events are also published to each of its destinations. Progress is recorded per
//! destination (`outbox_deliveries`), so a destination that is down neither blocks the
//! others nor makes them receive rows twice, and backs off on its own (jittered,
//! exponential); a row is deleted once every destination has it. Rows carrying domain
//! events never expire while a transport is configured: the outbox grows while a consumer
//! side is down and drains when it returns.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::Utc;
use opentelemetry::{
    KeyValue,
    metrics::{Counter, ObservableGauge},
    trace::TraceContextExt as _,
};
use reqwest::Url;
use sea_orm::{DatabaseConnection, DbErr};
use serde::Deserialize;
use tokio::{sync::watch, task::JoinHandle};
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use uuid::Uuid;

use super::{
    CHANGES_PATH, ChangeBatch, SIGNATURE_HEADER,
    outbox::{
        GATEWAY_DESTINATION, count_failed_attempt, delete_completed, delete_expired_changes, delete_expired_rows,
        mark_delivered, oldest_pending, pending_for,
    },
    sign_batch,
};
use crate::{
    ContextKey,
    events::{DomainEvent, EventTransport, EventsConfig, TransportError, transport::jittered},
    telemetry::Metrics,
};

/// Where `make run` serves the gateway; the default of [`ChangesConfig::with_local_default`].
pub const LOCAL_GATEWAY_URL: &str = "http://127.0.0.1:4000";

/// Longest wait for the gateway's answer to one batch.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest pause between attempts while deliveries fail (unless polling is slower).
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Shortest pause between two warnings about failing deliveries.
const WARNING_INTERVAL: Duration = Duration::from_secs(60);

/// Longest pause between two retention sweeps when delivery is off.
const MAX_SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// `[changes]`: delivery of change events to the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangesConfig {
    /// Gateway base URL (`http://gateway:4000`, [`CHANGES_PATH`] is appended) or full
    /// endpoint URL (used as given when it has a path). `None` or empty: no delivery.
    #[serde(default)]
    pub gateway_url: Option<String>,
    /// Pause between polls of the outbox. Default 200.
    #[serde(default = "default_poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// Most events per delivered batch. Default 100.
    #[serde(default = "default_batch_size")]
    pub batch_size: u64,
    /// Without delivery, events older than this are deleted. Default 86400 (a day).
    #[serde(default = "default_retention_seconds")]
    pub retention_seconds: u64,
}

fn default_poll_interval_ms() -> u64 {
    200
}

fn default_batch_size() -> u64 {
    100
}

fn default_retention_seconds() -> u64 {
    86_400
}

impl Default for ChangesConfig {
    fn default() -> Self {
        ChangesConfig {
            gateway_url: None,
            poll_interval_ms: default_poll_interval_ms(),
            batch_size: default_batch_size(),
            retention_seconds: default_retention_seconds(),
        }
    }
}

impl ChangesConfig {
    /// For a service started from its configuration: an unset `gateway_url` means the
    /// local gateway of `make run`, so the local platform invalidates out of the box; an
    /// explicitly empty one turns delivery off.
    pub fn with_local_default(mut self) -> Self {
        self.gateway_url = match self.gateway_url {
            None => Some(LOCAL_GATEWAY_URL.to_owned()),
            Some(url) if url.trim().is_empty() => None,
            Some(url) => Some(url),
        };
        self
    }

    /// The URL batches are POSTed to, `None` when delivery is off.
    pub fn endpoint(&self) -> Result<Option<Url>, RelayError> {
        let Some(configured) = self.gateway_url.as_deref().map(str::trim).filter(|url| !url.is_empty()) else {
            return Ok(None);
        };
        let invalid = |reason: &str| RelayError::InvalidConfig(format!("changes.gateway_url {configured:?}: {reason}"));
        let mut url = Url::parse(configured).map_err(|error| invalid(&error.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(invalid("expected an http(s) URL"));
        }
        if url.path().is_empty() || url.path() == "/" {
            url.set_path(CHANGES_PATH);
        }
        Ok(Some(url))
    }

    fn check(&self) -> Result<(), RelayError> {
        if self.poll_interval_ms == 0 || self.batch_size == 0 || self.retention_seconds == 0 {
            return Err(RelayError::InvalidConfig(
                "changes.poll_interval_ms, batch_size and retention_seconds must be positive".to_owned(),
            ));
        }
        Ok(())
    }
}

/// A relay round or the relay's setup failed.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("invalid change relay configuration: {0}")]
    InvalidConfig(String),
    #[error("change delivery needs a signing key, but no context key is configured")]
    NoSigningKey,
    #[error("outbox: {0}")]
    Database(#[from] DbErr),
    #[error("cannot encode the change batch: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("cannot reach the gateway: {0}")]
    Unreachable(#[from] reqwest::Error),
    #[error("the gateway answered {status}")]
    Refused { status: u16 },
    #[error("event transport: {0}")]
    Transport(#[from] TransportError),
}

/// The HTTP side of the relay: where to, signed with which key.
struct Delivery {
    endpoint: Url,
    client: reqwest::Client,
    key: ContextKey,
}

/// Event counters on the service's metrics registry.
struct Counters {
    delivered: Counter<u64>,
    failed: Counter<u64>,
    expired: Counter<u64>,
    published: Counter<u64>,
    publish_failed: Counter<u64>,
    /// Age of the oldest row still waiting for a destination, in seconds (f64 bits).
    lag: Arc<AtomicU64>,
    _lag_gauge: ObservableGauge<f64>,
}

impl Counters {
    fn new(metrics: &Metrics) -> Self {
        let counter = |name: &'static str, description: &'static str| {
            metrics.meter().u64_counter(name).with_description(description).build()
        };
        let lag = Arc::new(AtomicU64::new(0));
        let observed = Arc::clone(&lag);
        let service = KeyValue::new("service", crate::telemetry::service_name().to_owned());
        let lag_gauge = metrics
            .meter()
            .f64_observable_gauge("atrium.outbox.lag")
            .with_description("Age of the oldest outbox row not yet delivered to every destination")
            .with_unit("s")
            .with_callback(move |observer| {
                observer.observe(f64::from_bits(observed.load(Ordering::Relaxed)), std::slice::from_ref(&service));
            })
            .build();
        Counters {
            delivered: counter("atrium.changes.delivered", "Change events delivered to the gateway"),
            failed: counter("atrium.changes.failed", "Change events whose delivery attempt failed (retried)"),
            expired: counter("atrium.changes.expired", "Change events deleted undelivered after the retention"),
            published: counter("atrium.events.published", "Domain events published, by type and destination"),
            publish_failed: counter(
                "atrium.events.publish_failed",
                "Domain events whose publication attempt failed (retried), by destination",
            ),
            lag,
            _lag_gauge: lag_gauge,
        }
    }
}

/// Delivers (or, without any destination, expires) one service's outbox: change events to
/// the gateway, domain events through an [`EventTransport`], each destination at its own
/// pace; a row is deleted once every destination has it.
pub struct ChangeRelay {
    database: DatabaseConnection,
    delivery: Option<Delivery>,
    transport: Option<Arc<dyn EventTransport>>,
    event_destinations: Vec<String>,
    event_batch_size: u64,
    poll_interval: Duration,
    batch_size: u64,
    retention: Duration,
    counters: Counters,
}

impl ChangeRelay {
    /// A relay over `database`'s outbox, signing with the first of `keys`.
    pub fn new(
        database: DatabaseConnection,
        config: &ChangesConfig,
        keys: &[ContextKey],
        metrics: &Metrics,
    ) -> Result<Self, RelayError> {
        config.check()?;
        let delivery = match config.endpoint()? {
            Some(endpoint) => Some(Delivery {
                endpoint,
                client: reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build()?,
                key: keys.first().cloned().ok_or(RelayError::NoSigningKey)?,
            }),
            None => None,
        };
        Ok(ChangeRelay {
            database,
            delivery,
            transport: None,
            event_destinations: Vec::new(),
            event_batch_size: config.batch_size,
            poll_interval: Duration::from_millis(config.poll_interval_ms),
            batch_size: config.batch_size,
            retention: Duration::from_secs(config.retention_seconds),
            counters: Counters::new(metrics),
        })
    }

    /// Also publishes the rows carrying domain events through `transport`, in batches of
    /// `events.batch_size`, polling at least every `events.poll_interval_ms`; they stay in
    /// the outbox until each of its destinations has them.
    pub fn with_event_transport(mut self, transport: Arc<dyn EventTransport>, events: &EventsConfig) -> Self {
        self.event_destinations = transport.destinations();
        self.transport = Some(transport);
        self.event_batch_size = events.batch_size.max(1);
        self.poll_interval = self.poll_interval.min(events.poll_interval()).max(Duration::from_millis(1));
        self
    }

    /// Where batches go; `None` when delivery is off.
    pub fn endpoint(&self) -> Option<&Url> {
        self.delivery.as_ref().map(|delivery| &delivery.endpoint)
    }

    /// The event transport's destinations (empty without one).
    pub fn event_destinations(&self) -> &[String] {
        &self.event_destinations
    }

    /// One delivery round: the oldest batch the gateway has not received is read, POSTed
    /// and, when the gateway accepts it, marked delivered (and deleted once every other
    /// destination has it too). Returns how many events were delivered (0 when delivery is
    /// off or nothing waits). On failure the events stay, with one more attempt counted.
    pub async fn deliver_once(&self) -> Result<usize, RelayError> {
        let Some(delivery) = &self.delivery else { return Ok(0) };
        let pending = pending_for(&self.database, GATEWAY_DESTINATION, false, self.batch_size).await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let ids: Vec<Uuid> = pending.iter().map(|row| row.change.event.id).collect();
        let batch = ChangeBatch { events: pending.into_iter().map(|row| row.change.event).collect() };
        let outcome = self.post(delivery, &batch).await;
        let count = ids.len() as u64;
        if let Err(error) = outcome {
            self.counters.failed.add(count, &[]);
            if let Err(db_error) = count_failed_attempt(&self.database, &ids).await {
                tracing::debug!(error = %db_error, "cannot count the failed delivery attempt");
            }
            return Err(error);
        }
        self.counters.delivered.add(count, &[]);
        // A failure here only means the gateway sees these events again next round.
        mark_delivered(&self.database, GATEWAY_DESTINATION, &ids).await?;
        self.delete_completed().await?;
        Ok(ids.len())
    }

    /// One publication round to one event destination: the oldest domain events it has
    /// not received are published and marked delivered there. Returns how many.
    pub async fn publish_once(&self, destination: &str) -> Result<usize, RelayError> {
        let Some(transport) = &self.transport else { return Ok(0) };
        let pending = pending_for(&self.database, destination, true, self.event_batch_size).await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let mut ids = Vec::with_capacity(pending.len());
        let mut events = Vec::with_capacity(pending.len());
        for row in pending {
            let envelope = row.envelope.as_deref().unwrap_or_default();
            match serde_json::from_str::<DomainEvent>(envelope) {
                Ok(event) => events.push(event),
                // Written by this service's own code, so this is a bug; holding the row
                // back would stop the destination for good.
                Err(error) => {
                    tracing::error!(%error, id = %row.change.event.id, "unreadable envelope in the outbox; dropped")
                }
            }
            ids.push(row.change.event.id);
        }
        let destination_label = KeyValue::new("destination", destination.to_owned());
        // One span per batch, linked to the trace of every event in it (a batch spans
        // many mutations, so it cannot be the child of one).
        let span = tracing::info_span!("outbox.publish", destination, events = events.len());
        for traceparent in events.iter().filter_map(|event| event.traceparent.as_deref()) {
            let linked = crate::events::trace::context_of(traceparent).span().span_context().clone();
            if linked.is_valid() {
                span.add_link(linked);
            }
        }
        if let Err(error) = transport.publish(destination, &events).instrument(span).await {
            self.counters.publish_failed.add(events.len() as u64, &[destination_label]);
            return Err(RelayError::Transport(error));
        }
        for event in &events {
            self.counters
                .published
                .add(1, &[KeyValue::new("type", event.event_type.clone()), destination_label.clone()]);
        }
        mark_delivered(&self.database, destination, &ids).await?;
        self.delete_completed().await?;
        Ok(ids.len())
    }

    /// Publication rounds to every event destination; returns how many were published in
    /// all, or the first failure (after trying every destination).
    pub async fn publish_events_once(&self) -> Result<usize, RelayError> {
        let mut published = 0;
        let mut first_error = None;
        for destination in &self.event_destinations {
            match self.publish_once(destination).await {
                Ok(count) => published += count,
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        first_error.map_or(Ok(published), Err)
    }

    /// Deletes the rows every destination has.
    async fn delete_completed(&self) -> Result<u64, DbErr> {
        delete_completed(&self.database, self.delivery.is_some(), &self.event_destinations).await
    }

    /// Reads the age of the oldest waiting row into `atrium_outbox_lag_seconds`.
    pub async fn measure_lag(&self) -> Result<Duration, RelayError> {
        let lag = match oldest_pending(&self.database).await? {
            Some(oldest) => (Utc::now() - oldest).to_std().unwrap_or_default(),
            None => Duration::ZERO,
        };
        self.counters.lag.store(lag.as_secs_f64().to_bits(), Ordering::Relaxed);
        Ok(lag)
    }

    async fn post(&self, delivery: &Delivery, batch: &ChangeBatch) -> Result<(), RelayError> {
        let body = serde_json::to_vec(batch)?;
        let signature = sign_batch(&delivery.key, &body, Utc::now());
        let response = delivery
            .client
            .post(delivery.endpoint.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await?;
        let status = response.status();
        if status.is_success() { Ok(()) } else { Err(RelayError::Refused { status: status.as_u16() }) }
    }

    /// Deletes rows older than the retention that no destination will ever take (with an
    /// event transport, rows carrying domain events are kept however old); returns how many.
    pub async fn expire_once(&self) -> Result<u64, RelayError> {
        let retention = chrono::Duration::from_std(self.retention).unwrap_or(chrono::Duration::MAX);
        let cutoff = Utc::now().checked_sub_signed(retention).unwrap_or(chrono::DateTime::<Utc>::MIN_UTC);
        let expired = if self.transport.is_some() {
            delete_expired_rows(&self.database, cutoff, true).await?
        } else {
            delete_expired_changes(&self.database, cutoff).await?
        };
        self.counters.expired.add(expired, &[]);
        Ok(expired)
    }

    /// Runs the relay in the background until [`RelayHandle::stop`] (or until the handle
    /// is dropped).
    pub fn spawn(self) -> RelayHandle {
        let (stop, stopped) = watch::channel(false);
        RelayHandle { stop, task: tokio::spawn(self.run(stopped)) }
    }

    async fn run(self, mut stopped: watch::Receiver<bool>) {
        match &self.delivery {
            Some(delivery) => tracing::info!(endpoint = %delivery.endpoint, "delivering change events to the gateway"),
            None => tracing::info!(
                retention_seconds = self.retention.as_secs(),
                "change delivery is off (no changes.gateway_url); undelivered change events expire after the retention"
            ),
        }
        if !self.event_destinations.is_empty() {
            tracing::info!(destinations = ?self.event_destinations, "publishing domain events");
        }
        let mut gateway = Pacing::new("gateway");
        let mut destinations: Vec<Pacing> = self.event_destinations.iter().map(|name| Pacing::new(name)).collect();
        let mut next_sweep = Instant::now();
        loop {
            // Stopping mid-round is safe: uncommitted work rolls back, and an interrupted
            // delivery is repeated by the next start.
            let busy = tokio::select! {
                _ = stopped.changed() => break,
                busy = self.round(&mut gateway, &mut destinations, &mut next_sweep) => busy,
            };
            let pause = if busy { Duration::ZERO } else { self.poll_interval };
            tokio::select! {
                _ = stopped.changed() => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// One round over every destination that is not backing off; true when a full batch
    /// suggests a backlog to drain without waiting.
    async fn round(&self, gateway: &mut Pacing, destinations: &mut [Pacing], next_sweep: &mut Instant) -> bool {
        let mut busy = false;
        if self.delivery.is_some() && gateway.due() {
            let outcome = self.deliver_once().await;
            busy |= gateway.record(outcome, self.poll_interval, self.batch_size);
        }
        for pacing in destinations.iter_mut().filter(|pacing| pacing.due()) {
            let outcome = self.publish_once(&pacing.name).await;
            busy |= pacing.record(outcome, self.poll_interval, self.event_batch_size);
        }
        if Instant::now() >= *next_sweep {
            *next_sweep = Instant::now() + self.retention.min(MAX_SWEEP_INTERVAL);
            if self.delivery.is_none() {
                match self.expire_once().await {
                    Ok(expired) if expired > 0 => tracing::debug!(expired, "expired undelivered outbox rows"),
                    Ok(_) => {}
                    Err(error) => tracing::debug!(%error, "outbox retention sweep failed"),
                }
            }
            if self.delivery.is_some() || !self.event_destinations.is_empty() {
                // Rows no destination wants (changes without a gateway) go at once.
                if let Err(error) = self.delete_completed().await {
                    tracing::debug!(%error, "outbox completion sweep failed");
                }
            }
        }
        if let Err(error) = self.measure_lag().await {
            tracing::debug!(%error, "cannot measure the outbox lag");
        }
        busy
    }
}

/// One destination's retry state: after failures it is skipped until its jittered,
/// exponentially growing backoff has passed, while the others go on.
struct Pacing {
    name: String,
    failures: FailureLog,
    next_attempt: Instant,
}

impl Pacing {
    fn new(name: &str) -> Self {
        Pacing { name: name.to_owned(), failures: FailureLog::default(), next_attempt: Instant::now() }
    }

    fn due(&self) -> bool {
        Instant::now() >= self.next_attempt
    }

    /// Records a round's outcome; true when it moved a full batch.
    fn record(&mut self, outcome: Result<usize, RelayError>, poll_interval: Duration, batch_size: u64) -> bool {
        match outcome {
            Ok(moved) => {
                self.failures.succeeded(&self.name);
                moved as u64 >= batch_size
            }
            Err(error) => {
                self.failures.failed(&self.name, &error);
                self.next_attempt = Instant::now() + jittered(backoff(poll_interval, self.failures.consecutive));
                false
            }
        }
    }
}

/// The pause after `consecutive` failures: doubling from the poll interval, capped.
fn backoff(poll_interval: Duration, consecutive: u32) -> Duration {
    let cap = MAX_BACKOFF.max(poll_interval);
    poll_interval.saturating_mul(1u32 << consecutive.min(16)).min(cap)
}

/// Rate-limits the warnings of a relay that keeps failing.
#[derive(Default)]
struct FailureLog {
    consecutive: u32,
    last_warning: Option<Instant>,
}

impl FailureLog {
    fn failed(&mut self, destination: &str, error: &RelayError) {
        self.consecutive = self.consecutive.saturating_add(1);
        if self.last_warning.is_none_or(|warned| warned.elapsed() >= WARNING_INTERVAL) {
            self.last_warning = Some(Instant::now());
            tracing::warn!(
                %error,
                destination,
                consecutive_failures = self.consecutive,
                "outbox relay round failed; rows stay in the outbox and are retried"
            );
        }
    }

    fn succeeded(&mut self, destination: &str) {
        if self.consecutive > 0 {
            tracing::info!(destination, failed_rounds = self.consecutive, "outbox delivery recovered");
            self.consecutive = 0;
        }
    }
}

/// A running relay.
pub struct RelayHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RelayHandle {
    /// Stops the relay and waits for its task to end.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_url(url: Option<&str>) -> ChangesConfig {
        ChangesConfig { gateway_url: url.map(str::to_owned), ..ChangesConfig::default() }
    }

    #[test]
    fn a_base_url_gets_the_changes_path_and_a_full_url_is_kept() {
        let endpoint = |url| with_url(Some(url)).endpoint().unwrap().unwrap().to_string();
        assert_eq!(endpoint("http://127.0.0.1:4000"), "http://127.0.0.1:4000/internal/changes");
        assert_eq!(endpoint("https://gateway.internal/"), "https://gateway.internal/internal/changes");
        assert_eq!(endpoint("http://proxy:8080/atrium/changes"), "http://proxy:8080/atrium/changes");
    }

    #[test]
    fn no_or_an_empty_url_means_no_delivery_and_a_bad_one_is_refused() {
        assert_eq!(with_url(None).endpoint().unwrap(), None);
        assert_eq!(with_url(Some(" ")).endpoint().unwrap(), None);
        for bad in ["gateway:4000/x", "ftp://gateway", "not a url"] {
            assert!(matches!(with_url(Some(bad)).endpoint(), Err(RelayError::InvalidConfig(_))), "{bad}");
        }
    }

    #[test]
    fn the_local_default_applies_only_when_the_url_is_unset() {
        assert_eq!(with_url(None).with_local_default().gateway_url.as_deref(), Some(LOCAL_GATEWAY_URL));
        assert_eq!(with_url(Some("")).with_local_default().gateway_url, None);
        assert_eq!(
            with_url(Some("http://gw:4000")).with_local_default().gateway_url.as_deref(),
            Some("http://gw:4000")
        );
    }

    #[test]
    fn zero_sizes_and_intervals_are_refused() {
        let zero_batch = ChangesConfig { batch_size: 0, ..ChangesConfig::default() };
        assert!(matches!(zero_batch.check(), Err(RelayError::InvalidConfig(_))));
        assert!(ChangesConfig::default().check().is_ok());
    }

    #[test]
    fn backoff_doubles_from_the_poll_interval_up_to_the_cap() {
        let poll = Duration::from_millis(200);
        assert_eq!(backoff(poll, 1), Duration::from_millis(400));
        assert_eq!(backoff(poll, 3), Duration::from_millis(1600));
        assert_eq!(backoff(poll, 10), MAX_BACKOFF);
        assert_eq!(backoff(poll, u32::MAX), MAX_BACKOFF);
        assert_eq!(backoff(Duration::from_secs(30), 4), Duration::from_secs(30));
    }
}
