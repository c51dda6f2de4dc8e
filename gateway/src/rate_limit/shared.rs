//! The Redis-backed limiter: the GCRA step runs as a Lua script so check-and-update is
//! atomic across gateway replicas; the server's clock is the only clock, so replicas with
//! skewed clocks still share one budget.

use std::time::Duration;

use redis::{Script, aio::ConnectionManager};
use tokio::sync::OnceCell;

use super::{Decision, RateTier, gcra};

/// A rate-limit check must never hold a request up for long: past this, local limits apply.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

const GCRA_SCRIPT: &str = r"
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + tonumber(now_parts[2]) / 1000
local emission = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local units = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + emission * units
local allowed_at = new_tat - tolerance
if allowed_at <= now then
  redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil(new_tat - now) + 1000)
  return {1, 0}
end
return {0, tostring(allowed_at - now)}
";

pub(super) struct RedisLimiter {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    script: Script,
    key_prefix: String,
}

impl RedisLimiter {
    pub(super) fn new(url: &str, key_prefix: String) -> Result<Self, redis::RedisError> {
        Ok(RedisLimiter {
            client: redis::Client::open(url)?,
            connection: OnceCell::new(),
            script: Script::new(GCRA_SCRIPT),
            key_prefix,
        })
    }

    pub(super) async fn charge(&self, key: &str, tier: RateTier, units: u32) -> Result<Decision, redis::RedisError> {
        let work = async {
            let connection = self.connection.get_or_try_init(|| crate::redis_connection::connect(&self.client)).await?;
            let (emission, tolerance) = gcra::parameters(tier);
            let (allowed, wait_ms): (i64, String) = self
                .script
                .key(format!("{}:rl:{key}", self.key_prefix))
                .arg(emission)
                .arg(tolerance)
                .arg(units.max(1))
                .invoke_async(&mut connection.clone())
                .await?;
            if allowed == 1 {
                Ok(Decision::Allowed)
            } else {
                let wait_ms: f64 = wait_ms.parse().unwrap_or(1000.0);
                Ok(Decision::Limited { retry_after: Duration::from_secs_f64(wait_ms.max(0.0) / 1000.0) })
            }
        };
        tokio::time::timeout(REDIS_TIMEOUT, work)
            .await
            .unwrap_or_else(|_| Err(redis::RedisError::from((redis::ErrorKind::Io, "rate-limit check timed out"))))
    }
}
