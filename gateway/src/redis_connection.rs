//! One way to open Redis connections for every gateway feature that shares state
//! (rate limits, persisted documents, readiness): short connect and response timeouts and
//! few retries, because every caller has a local fallback and must not hold requests (or
//! startup) hostage to an unreachable Redis.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

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
