//! Redis Streams transport: one stream per producer (`<prefix>events:<producer>`), one
//! consumer group per consuming service.
//!
//! The relay `XADD`s each envelope (field `envelope`, plus `type` and `tenant` for
//! operators) in one `MULTI` per batch and trims entries older than the retention with
//! `XTRIM MINID`. A service's [`RedisEventSource`] reads the streams of the producers it
//! consumes with `XREADGROUP` (group = consumer name, created with `MKSTREAM` from the
//! start of the stream) and `XACK`s the entries of a read only once its [`EventConsumer`]
//! committed or parked all of them. Entries another instance read but never acknowledged
//! (it crashed) are taken over with `XAUTOCLAIM` once idle for `reclaim_idle_ms`, at start
//! and periodically.

use std::{collections::HashMap, sync::Arc, time::Duration};

use futures::future::BoxFuture;
use opentelemetry::{KeyValue, metrics::Counter};
use redis::{Value, aio::ConnectionManager};
use tokio::{sync::watch, task::JoinHandle};

use super::{DomainEvent, EventConsumer, EventTransport, EventsConfig, EventsConfigError, TransportError};
use crate::telemetry::Metrics;

/// The transport's one destination name in the outbox progress.
pub const REDIS_DESTINATION: &str = "redis";

/// Longest wait for Redis to answer a command (besides a blocking read's own block).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest pause after a failing read before trying again.
const MAX_READ_BACKOFF: Duration = Duration::from_secs(5);

/// The stream a producer's events go to.
pub fn stream_key(key_prefix: &str, producer: &str) -> String {
    format!("{key_prefix}events:{producer}")
}

async fn connect(url: &str, response_timeout: Duration) -> Result<ConnectionManager, redis::RedisError> {
    let client = redis::Client::open(url)?;
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_response_timeout(Some(response_timeout))
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_secs(2));
    ConnectionManager::new_with_config(client, config).await
}

/// Publishes envelopes to the producers' streams.
pub struct RedisStreamsTransport {
    url: String,
    key_prefix: String,
    retention: Duration,
    connection: tokio::sync::Mutex<Option<ConnectionManager>>,
}

impl RedisStreamsTransport {
    /// A transport to the Redis at `config.redis_url` (connected on first use, so a Redis
    /// that is down at start only delays publication).
    pub fn new(config: &EventsConfig) -> Result<Self, EventsConfigError> {
        let url = config
            .redis_url()
            .ok_or_else(|| EventsConfigError::Invalid("the Redis transport needs events.redis_url".to_owned()))?;
        redis::Client::open(url)?;
        Ok(RedisStreamsTransport {
            url: url.to_owned(),
            key_prefix: config.key_prefix.clone(),
            retention: config.retention(),
            connection: tokio::sync::Mutex::new(None),
        })
    }

    async fn connection(&self) -> Result<ConnectionManager, redis::RedisError> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let connection = connect(&self.url, RESPONSE_TIMEOUT).await?;
        *slot = Some(connection.clone());
        Ok(connection)
    }

    async fn add(&self, events: &[DomainEvent]) -> Result<(), TransportError> {
        let mut connection = self.connection().await?;
        let mut pipe = redis::pipe();
        pipe.atomic();
        let mut streams: Vec<String> = Vec::new();
        for event in events {
            let key = stream_key(&self.key_prefix, &event.producer);
            pipe.cmd("XADD")
                .arg(&key)
                .arg("*")
                .arg("envelope")
                .arg(serde_json::to_string(event)?)
                .arg("type")
                .arg(&event.event_type)
                .arg("tenant")
                .arg(event.tenant_id.to_string())
                .ignore();
            if !streams.contains(&key) {
                streams.push(key);
            }
        }
        let retention_ms = u64::try_from(self.retention.as_millis()).unwrap_or(u64::MAX);
        let cutoff =
            u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or_default().saturating_sub(retention_ms);
        for key in &streams {
            pipe.cmd("XTRIM").arg(key).arg("MINID").arg("~").arg(format!("{cutoff}-0")).ignore();
        }
        pipe.query_async::<()>(&mut connection).await?;
        Ok(())
    }
}

impl EventTransport for RedisStreamsTransport {
    fn destinations(&self) -> Vec<String> {
        vec![REDIS_DESTINATION.to_owned()]
    }

    fn publish<'a>(
        &'a self,
        destination: &'a str,
        events: &'a [DomainEvent],
    ) -> BoxFuture<'a, Result<(), TransportError>> {
        Box::pin(async move {
            if destination != REDIS_DESTINATION {
                return Err(TransportError::UnknownDestination(destination.to_owned()));
            }
            self.add(events).await
        })
    }
}

/// One stream entry read for this consumer.
struct Entry {
    stream: String,
    id: String,
    envelope: Option<String>,
}

/// Feeds a service's [`EventConsumer`] from the streams of the producers it consumes.
pub struct RedisEventSource {
    url: String,
    streams: Vec<String>,
    group: String,
    /// This instance within the group; unique per process so a restarted instance's
    /// predecessor's unacknowledged entries are reclaimed rather than forgotten.
    instance: String,
    consumer: Arc<EventConsumer>,
    batch_size: u64,
    block: Duration,
    reclaim_idle: Duration,
    unreadable: Counter<u64>,
}

impl RedisEventSource {
    pub fn new(
        config: &EventsConfig,
        consumer: Arc<EventConsumer>,
        metrics: &Metrics,
    ) -> Result<Self, EventsConfigError> {
        let url = config
            .redis_url()
            .ok_or_else(|| EventsConfigError::Invalid("the Redis event source needs events.redis_url".to_owned()))?;
        redis::Client::open(url)?;
        let group = consumer.name().to_owned();
        Ok(RedisEventSource {
            url: url.to_owned(),
            streams: config.consume_from.iter().map(|producer| stream_key(&config.key_prefix, producer)).collect(),
            instance: format!("{group}:{}", uuid::Uuid::new_v4().simple()),
            group,
            consumer,
            batch_size: config.batch_size,
            block: config.poll_interval(),
            reclaim_idle: config.reclaim_idle(),
            unreadable: metrics
                .meter()
                .u64_counter("atrium.events.unreadable")
                .with_description("Stream entries without a readable envelope (acknowledged and skipped)")
                .build(),
        })
    }

    /// Reads and applies until [`EventSourceHandle::stop`].
    pub fn spawn(self) -> EventSourceHandle {
        let (stop, stopped) = watch::channel(false);
        EventSourceHandle { stop, task: tokio::spawn(self.run(stopped)) }
    }

    async fn run(self, mut stopped: watch::Receiver<bool>) {
        tracing::info!(group = %self.group, streams = ?self.streams, "consuming events from Redis Streams");
        let mut connection: Option<ConnectionManager> = None;
        let mut groups_ready = false;
        let mut next_reclaim = tokio::time::Instant::now();
        let mut failures = 0u32;
        // After a failure this instance holds entries it read but did not acknowledge:
        // they are applied before anything newer, so a database hiccup does not reorder.
        let mut own_pending = false;
        loop {
            let round = async {
                let connection = match &mut connection {
                    Some(connection) => connection,
                    None => connection.insert(connect(&self.url, self.block + RESPONSE_TIMEOUT).await?),
                };
                if !groups_ready {
                    self.create_groups(connection).await?;
                    groups_ready = true;
                }
                if tokio::time::Instant::now() >= next_reclaim {
                    self.reclaim(connection).await?;
                    next_reclaim = tokio::time::Instant::now() + (self.reclaim_idle / 2).max(Duration::from_millis(10));
                }
                if own_pending {
                    let reread = self.read(connection, "0").await?;
                    own_pending = reread > 0;
                    Ok(())
                } else {
                    self.read(connection, ">").await.map(|_| ())
                }
            };
            let outcome = tokio::select! {
                _ = stopped.changed() => break,
                outcome = round => outcome,
            };
            match outcome {
                Ok(()) => failures = 0,
                Err(error) => {
                    failures = failures.saturating_add(1);
                    own_pending = true;
                    if is_missing_group(&error) {
                        groups_ready = false;
                    }
                    if failures == 1 || failures.is_multiple_of(50) {
                        tracing::warn!(%error, failures, "reading events from Redis failed; retrying");
                    }
                    let pause = self.block.saturating_mul(1u32 << failures.min(8)).min(MAX_READ_BACKOFF);
                    tokio::select! {
                        _ = stopped.changed() => break,
                        () = tokio::time::sleep(super::transport::jittered(pause)) => {}
                    }
                }
            }
        }
    }

    async fn create_groups(&self, connection: &mut ConnectionManager) -> Result<(), redis::RedisError> {
        for stream in &self.streams {
            let created: Result<(), redis::RedisError> = redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(stream)
                .arg(&self.group)
                .arg("0")
                .arg("MKSTREAM")
                .query_async(connection)
                .await;
            match created {
                Err(error) if error.code() == Some("BUSYGROUP") => {}
                other => other?,
            }
        }
        Ok(())
    }

    /// Takes over entries of this group idle longer than `reclaim_idle` and applies them.
    async fn reclaim(&self, connection: &mut ConnectionManager) -> Result<(), redis::RedisError> {
        let idle = u64::try_from(self.reclaim_idle.as_millis()).unwrap_or(u64::MAX);
        for stream in &self.streams {
            let mut cursor = "0-0".to_owned();
            loop {
                let reply: Value = redis::cmd("XAUTOCLAIM")
                    .arg(stream)
                    .arg(&self.group)
                    .arg(&self.instance)
                    .arg(idle)
                    .arg(&cursor)
                    .arg("COUNT")
                    .arg(self.batch_size)
                    .query_async(connection)
                    .await?;
                let (next, entries) = parse_autoclaim(stream, reply)?;
                if !entries.is_empty() {
                    tracing::info!(stream, reclaimed = entries.len(), "reclaimed unacknowledged events");
                }
                self.apply(connection, entries).await?;
                if next == "0-0" {
                    break;
                }
                cursor = next;
            }
        }
        Ok(())
    }

    /// Reads entries after `id` (`>`: never delivered; `0`: this instance's unacknowledged
    /// ones) and applies them; returns how many were read.
    async fn read(&self, connection: &mut ConnectionManager, id: &str) -> Result<usize, redis::RedisError> {
        let block = u64::try_from(self.block.as_millis()).unwrap_or(1).max(1);
        let mut command = redis::cmd("XREADGROUP");
        command
            .arg("GROUP")
            .arg(&self.group)
            .arg(&self.instance)
            .arg("COUNT")
            .arg(self.batch_size)
            .arg("BLOCK")
            .arg(block)
            .arg("STREAMS")
            .arg(&self.streams);
        for _ in &self.streams {
            command.arg(id);
        }
        let reply: Value = command.query_async(connection).await?;
        let entries = parse_read(reply)?;
        let read = entries.len();
        self.apply(connection, entries).await?;
        Ok(read)
    }

    /// Applies the entries as one batch ([`EventConsumer::process_batch`]) and acknowledges
    /// them once all are committed or parked. A database failure acknowledges none: they stay
    /// pending, are read again and what did commit is found in the inbox.
    async fn apply(&self, connection: &mut ConnectionManager, entries: Vec<Entry>) -> Result<(), redis::RedisError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut events = Vec::with_capacity(entries.len());
        for entry in &entries {
            match entry.envelope.as_deref().map(serde_json::from_str::<DomainEvent>) {
                Some(Ok(event)) => events.push(event),
                _ => {
                    tracing::error!(stream = %entry.stream, id = %entry.id, "stream entry without a readable envelope; skipped");
                    self.unreadable.add(1, &[KeyValue::new("stream", entry.stream.clone())]);
                }
            }
        }
        if let Err(error) = self.consumer.process_batch(&events).await {
            tracing::warn!(%error, events = events.len(), "cannot record the events' outcomes; left pending");
            return Err(redis::RedisError::from((redis::ErrorKind::Client, "event consumer database unavailable")));
        }
        let mut acknowledgements: Vec<(&str, Vec<&str>)> = Vec::new();
        for entry in &entries {
            match acknowledgements.iter_mut().find(|(stream, _)| *stream == entry.stream) {
                Some((_, ids)) => ids.push(&entry.id),
                None => acknowledgements.push((&entry.stream, vec![&entry.id])),
            }
        }
        let mut pipe = redis::pipe();
        for (stream, ids) in &acknowledgements {
            pipe.cmd("XACK").arg(*stream).arg(&self.group).arg(ids).ignore();
        }
        pipe.query_async::<()>(connection).await
    }
}

fn is_missing_group(error: &redis::RedisError) -> bool {
    error.code() == Some("NOGROUP")
}

fn parse_error(detail: &str) -> redis::RedisError {
    redis::RedisError::from((redis::ErrorKind::Parse, "unexpected stream reply", detail.to_owned()))
}

type RawEntry = (String, Option<HashMap<String, String>>);

fn entry(stream: &str, (id, fields): RawEntry) -> Entry {
    Entry { stream: stream.to_owned(), id, envelope: fields.and_then(|mut fields| fields.remove("envelope")) }
}

/// `XREADGROUP`'s reply: nil (nothing new) or `[[stream, [[id, [field, value, …]], …]], …]`.
fn parse_read(reply: Value) -> Result<Vec<Entry>, redis::RedisError> {
    let streams: Option<Vec<(String, Vec<RawEntry>)>> =
        redis::from_redis_value(reply).map_err(|error| parse_error(&error.to_string()))?;
    Ok(streams
        .unwrap_or_default()
        .into_iter()
        .flat_map(|(stream, entries)| entries.into_iter().map(move |raw| entry(&stream, raw)))
        .collect())
}

/// `XAUTOCLAIM`'s reply: `[next cursor, [[id, fields], …], (deleted ids)]`.
fn parse_autoclaim(stream: &str, reply: Value) -> Result<(String, Vec<Entry>), redis::RedisError> {
    let Value::Array(mut parts) = reply else { return Err(parse_error("XAUTOCLAIM reply is not an array")) };
    if parts.len() < 2 {
        return Err(parse_error("XAUTOCLAIM reply is too short"));
    }
    let entries = parts.swap_remove(1);
    let next: String =
        redis::from_redis_value(parts.swap_remove(0)).map_err(|error| parse_error(&error.to_string()))?;
    let entries: Vec<RawEntry> = redis::from_redis_value(entries).map_err(|error| parse_error(&error.to_string()))?;
    Ok((next, entries.into_iter().map(|raw| entry(stream, raw)).collect()))
}

/// A running [`RedisEventSource`].
pub struct EventSourceHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl EventSourceHandle {
    /// Stops reading and waits for the task; an entry being applied is finished or rolled
    /// back and, unacknowledged, delivered again later.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Ends the task at once, as a crash would (tests).
    pub fn abort(self) {
        self.task.abort();
    }
}
