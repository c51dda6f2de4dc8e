//! One way to open Redis connections for every gateway feature that shares state
//! (rate limits, persisted documents, readiness): short connect and response timeouts and
//! few retries, because every caller has a local fallback and must not hold requests (or
//! startup) hostage to an unreachable Redis; and `[redis]`, the one configuration they share.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Deserialize;

/// How long establishing a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// How long one command may take.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);

pub async fn connect(client: &redis::Client) -> redis::RedisResult<ConnectionManager> {
    let config = ConnectionManagerConfig::new()
        .set_number_of_retries(1)
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT));
    client.get_connection_manager_with_config(config).await
}

/// `[redis]` of the gateway configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// e.g. `redis://127.0.0.1:6379/`. Default: none (in-process state).
    #[serde(default)]
    pub url: Option<String>,
    /// Prefix of every key the gateway keeps in Redis (rate limits, persisted documents,
    /// API keys, the response cache), so several deployments can share one Redis.
    /// Default `atrium`.
    #[serde(default = "default_redis_key_prefix")]
    pub key_prefix: String,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig { url: None, key_prefix: default_redis_key_prefix() }
    }
}

fn default_redis_key_prefix() -> String {
    "atrium".to_owned()
}
