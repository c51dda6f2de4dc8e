//! `[events]`: how a service publishes its domain events and receives other services'.
//! With `redis_url` both sides use Redis Streams; without it the relay POSTs signed batches
//! to each subscriber's [`super::http::EVENTS_PATH`] and the service receives on its own.

use std::time::Duration;

use serde::Deserialize;

/// The services of `make run` and their ports.
pub const LOCAL_SERVICES: [(&str, u16); 5] =
    [("catalog", 4001), ("delivery", 4002), ("finance", 4003), ("support", 4004), ("analytics", 4005)];

/// The services that consume other services' events (docs/domain.md#event-delivery): the
/// default HTTP subscribers of a service started from its configuration without Redis.
/// A service without a consumer answers deliveries with 503, so sending it events would
/// only keep them in the producer's outbox.
pub const LOCAL_CONSUMERS: [&str; 4] = ["delivery", "finance", "support", "analytics"];

/// Consuming services that also react to events they produce themselves (analytics' rules
/// on its own health events, docs/domain.md#automation-rules): the local default
/// subscribes them to their own outbox too. Over Redis every service reads its own stream
/// already (`consume_from` lists all five).
pub const SELF_CONSUMERS: [&str; 1] = ["analytics"];

/// One service receiving this service's events over HTTP.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSubscriber {
    /// The subscriber's service name; also its destination name in the outbox progress.
    pub name: String,
    /// Base URL (`http://delivery:4002`, [`super::http::EVENTS_PATH`] is appended) or a full
    /// endpoint URL (used as given when it has a path).
    pub url: String,
}

/// `[events]` of a service's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsConfig {
    /// Redis Streams transport (`redis://host:6379/`); unset or empty: HTTP delivery.
    #[serde(default)]
    pub redis_url: Option<String>,
    /// Prefix of the stream keys (`<prefix>events:<producer>`). Default `atrium:`.
    #[serde(default = "default_key_prefix")]
    pub key_prefix: String,
    /// HTTP delivery targets. Unset: the other local consuming services of `make run` when loaded
    /// from configuration ([`EventsConfig::with_local_default`]); `[]`: no delivery.
    #[serde(default)]
    pub subscribers: Option<Vec<EventSubscriber>>,
    /// Producers whose streams this service reads (Redis). Default all five services.
    #[serde(default = "default_consume_from")]
    pub consume_from: Vec<String>,
    /// Pause between polls of the outbox, and the longest block on a stream read. Default 200.
    #[serde(default = "default_poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// Most events per published batch or stream read. Default 100.
    #[serde(default = "default_batch_size")]
    pub batch_size: u64,
    /// Attempts at a failing event before it is parked as a dead letter. Default 5.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Stream entries older than this are trimmed (Redis). Default 168 (a week).
    #[serde(default = "default_retention_hours")]
    pub retention_hours: u64,
    /// Entries a consumer left unacknowledged this long are taken over (Redis). Default 30000.
    #[serde(default = "default_reclaim_idle_ms")]
    pub reclaim_idle_ms: u64,
}

fn default_key_prefix() -> String {
    "atrium:".to_owned()
}

fn default_consume_from() -> Vec<String> {
    LOCAL_SERVICES.iter().map(|(name, _)| (*name).to_owned()).collect()
}

fn default_poll_interval_ms() -> u64 {
    200
}

fn default_batch_size() -> u64 {
    100
}

fn default_max_attempts() -> u32 {
    5
}

fn default_retention_hours() -> u64 {
    168
}

fn default_reclaim_idle_ms() -> u64 {
    30_000
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            redis_url: None,
            key_prefix: default_key_prefix(),
            subscribers: None,
            consume_from: default_consume_from(),
            poll_interval_ms: default_poll_interval_ms(),
            batch_size: default_batch_size(),
            max_attempts: default_max_attempts(),
            retention_hours: default_retention_hours(),
            reclaim_idle_ms: default_reclaim_idle_ms(),
        }
    }
}

/// A configuration the event backbone refuses.
#[derive(Debug, thiserror::Error)]
pub enum EventsConfigError {
    #[error("invalid [events] configuration: {0}")]
    Invalid(String),
    #[error("event delivery over HTTP needs a signing key, but no context key is configured")]
    NoSigningKey,
    #[error("cannot reach Redis for events: {0}")]
    Redis(#[from] redis::RedisError),
}

impl EventsConfig {
    /// For `service` started from its configuration: without Redis and without
    /// subscribers, HTTP delivery to the other services of `make run`, so the local platform
    /// exchanges events out of the box.
    pub fn with_local_default(mut self, service: &str) -> Self {
        if self.redis_url().is_none() && self.subscribers.is_none() {
            self.subscribers = Some(
                LOCAL_SERVICES
                    .iter()
                    .filter(|(name, _)| {
                        (*name != service || SELF_CONSUMERS.contains(name)) && LOCAL_CONSUMERS.contains(name)
                    })
                    .map(|(name, port)| EventSubscriber {
                        name: (*name).to_owned(),
                        url: format!("http://127.0.0.1:{port}"),
                    })
                    .collect(),
            );
        }
        self
    }

    /// The Redis URL when the Redis transport is on.
    pub fn redis_url(&self) -> Option<&str> {
        self.redis_url.as_deref().map(str::trim).filter(|url| !url.is_empty())
    }

    /// The HTTP subscribers (none with Redis).
    pub fn http_subscribers(&self) -> &[EventSubscriber] {
        if self.redis_url().is_some() { &[] } else { self.subscribers.as_deref().unwrap_or_default() }
    }

    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }

    pub fn reclaim_idle(&self) -> Duration {
        Duration::from_millis(self.reclaim_idle_ms)
    }

    pub fn retention(&self) -> Duration {
        Duration::from_secs(self.retention_hours.saturating_mul(3600))
    }

    /// Refuses zero sizes and intervals, and Redis together with HTTP subscribers.
    pub fn check(&self) -> Result<(), EventsConfigError> {
        if self.poll_interval_ms == 0
            || self.batch_size == 0
            || self.max_attempts == 0
            || self.retention_hours == 0
            || self.reclaim_idle_ms == 0
        {
            return Err(EventsConfigError::Invalid(
                "events.poll_interval_ms, batch_size, max_attempts, retention_hours and reclaim_idle_ms must be \
                 positive"
                    .to_owned(),
            ));
        }
        if self.redis_url().is_some() && self.subscribers.as_ref().is_some_and(|subscribers| !subscribers.is_empty()) {
            return Err(EventsConfigError::Invalid(
                "events.redis_url and events.subscribers are alternatives; set one".to_owned(),
            ));
        }
        let mut names: Vec<&str> = self.http_subscribers().iter().map(|subscriber| subscriber.name.as_str()).collect();
        names.sort_unstable();
        if names.windows(2).any(|pair| pair[0] == pair[1]) || names.iter().any(|name| name.is_empty()) {
            return Err(EventsConfigError::Invalid("events.subscribers need distinct, non-empty names".to_owned()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_default_subscribes_the_other_consuming_services() {
        let config = EventsConfig::default().with_local_default("finance");
        let names: Vec<&str> = config.http_subscribers().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["delivery", "support", "analytics"], "finance does not subscribe to itself");
        assert_eq!(config.http_subscribers()[0].url, "http://127.0.0.1:4002");
        let delivery = EventsConfig::default().with_local_default("delivery");
        let names: Vec<&str> = delivery.http_subscribers().iter().map(|subscriber| subscriber.name.as_str()).collect();
        assert_eq!(names, ["finance", "support", "analytics"], "delivery does not subscribe to itself");
        assert_eq!(delivery.http_subscribers()[0].url, "http://127.0.0.1:4003");
        config.check().unwrap();
        // Analytics' rules react to its own health events, so it receives its own outbox.
        let analytics = EventsConfig::default().with_local_default("analytics");
        let names: Vec<&str> = analytics.http_subscribers().iter().map(|subscriber| subscriber.name.as_str()).collect();
        assert_eq!(names, ["delivery", "finance", "support", "analytics"]);
        assert_eq!(analytics.http_subscribers()[3].url, "http://127.0.0.1:4005");
        analytics.check().unwrap();
    }

    #[test]
    fn redis_or_explicit_subscribers_keep_the_local_default_away() {
        let redis = EventsConfig { redis_url: Some("redis://r:6379/".into()), ..EventsConfig::default() };
        assert!(redis.with_local_default("finance").http_subscribers().is_empty());
        let none = EventsConfig { subscribers: Some(vec![]), ..EventsConfig::default() };
        assert!(none.with_local_default("finance").http_subscribers().is_empty());
        assert!(EventsConfig::default().http_subscribers().is_empty(), "tests deliver nothing");
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(EventsConfig { max_attempts: 0, ..EventsConfig::default() }.check().is_err());
        let both = EventsConfig {
            redis_url: Some("redis://r/".into()),
            subscribers: Some(vec![EventSubscriber { name: "a".into(), url: "http://a".into() }]),
            ..EventsConfig::default()
        };
        assert!(both.check().is_err());
        let twice = EventSubscriber { name: "a".into(), url: "http://a".into() };
        let duplicate = EventsConfig { subscribers: Some(vec![twice.clone(), twice]), ..EventsConfig::default() };
        assert!(duplicate.check().is_err());
    }
}
