//! Per-tenant and per-client rate limits: a GCRA token bucket keyed by tenant + client
//! kind (+ API key), shared through Redis across gateway replicas, with an in-process
//! limiter when no Redis is configured.
//!
//! When Redis is configured but unreachable, the gateway degrades to its local limiter
//! and says so (a warning on every transition and the `degraded` flag): it neither fails
//! open silently nor turns requests into errors. Local limits then apply per replica.

mod config;
mod gcra;
mod local;
mod shared;

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use atrium_contract::{ClientKind, TenantContext};
pub use config::{RateLimitConfig, RateTier, TenantOverride};
pub use gcra::Decision;
use local::LocalLimiter;
use parking_lot::Mutex;
use shared::RedisLimiter;

/// How long to stay on local limits after a Redis failure before trying Redis again.
const REDIS_RETRY_AFTER: Duration = Duration::from_secs(5);

pub struct RateLimiter {
    config: RateLimitConfig,
    local: LocalLimiter,
    redis: Option<RedisLimiter>,
    degraded: AtomicBool,
    retry_redis_at: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// With `[redis] url` the buckets are shared by every replica; without it they live in
    /// this process.
    pub fn new(
        config: RateLimitConfig,
        redis: &crate::redis_connection::RedisConfig,
    ) -> Result<Self, redis::RedisError> {
        let redis = redis.url.as_deref().map(|url| RedisLimiter::new(url, redis.key_prefix.clone())).transpose()?;
        Ok(RateLimiter {
            config,
            local: LocalLimiter::default(),
            redis,
            degraded: AtomicBool::new(false),
            retry_redis_at: Mutex::new(None),
        })
    }

    /// Units a request of static `cost` spends (see `RateLimitConfig::cost_per_unit`).
    pub fn units_for(&self, cost: Option<u64>) -> u32 {
        self.config.units_for(cost)
    }

    /// True while Redis is configured but unusable and local limits apply.
    pub fn is_degraded(&self) -> bool {
        self.degraded.load(Ordering::Relaxed)
    }

    /// Charges `units` (1 per request, or the operation's cost units) to the caller's
    /// bucket. `api_key` narrows the bucket to one key of a service account.
    pub async fn check(&self, context: &TenantContext, api_key: Option<&str>, units: u32) -> Decision {
        if !self.config.enabled {
            return Decision::Allowed;
        }
        let tier = self.config.tier_for(context.tenant_id, context.client_kind);
        let key = bucket_key(context, api_key);
        let now = Instant::now();
        if let Some(redis) = &self.redis
            && self.retry_redis_at.lock().is_none_or(|at| now >= at)
        {
            match redis.charge(&key, tier, units).await {
                Ok(decision) => {
                    if self.degraded.swap(false, Ordering::Relaxed) {
                        tracing::warn!("rate limits: Redis reachable again, limits are global");
                    }
                    *self.retry_redis_at.lock() = None;
                    return decision;
                }
                Err(error) => {
                    if !self.degraded.swap(true, Ordering::Relaxed) {
                        tracing::warn!(%error, "rate limits: Redis unreachable, degrading to local limits per replica");
                    }
                    *self.retry_redis_at.lock() = Some(now + REDIS_RETRY_AFTER);
                }
            }
        }
        self.local.charge(&key, tier, units)
    }
}

fn bucket_key(context: &TenantContext, api_key: Option<&str>) -> String {
    let client = client_label(context.client_kind);
    match api_key {
        Some(key) => format!("{}:{client}:{key}", context.tenant_id),
        None => format!("{}:{client}", context.tenant_id),
    }
}

fn client_label(kind: ClientKind) -> &'static str {
    kind.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn context(tenant: Uuid) -> TenantContext {
        TenantContext {
            tenant_id: tenant,
            subject: "user".into(),
            roles: vec!["csm".into()],
            client_kind: ClientKind::Bi,
            channel_partner_id: None,
            customer_account_id: None,
        }
    }

    fn tight_config() -> RateLimitConfig {
        let mut config = RateLimitConfig::default();
        config.tiers.bi = RateTier { requests_per_second: 1.0, burst: 2 };
        config
    }

    /// Redis at `url` under a prefix of this test's own.
    fn redis_at(url: Option<&str>) -> crate::redis_connection::RedisConfig {
        crate::redis_connection::RedisConfig {
            url: url.map(str::to_owned),
            key_prefix: format!("atrium-test-{}", Uuid::new_v4().simple()),
        }
    }

    #[test]
    fn expensive_operations_spend_more_units() {
        let config = RateLimitConfig::default();
        assert_eq!(config.units_for(None), 1);
        assert_eq!(config.units_for(Some(99)), 1);
        assert_eq!(config.units_for(Some(250)), 3);
        let requests_only = RateLimitConfig { cost_per_unit: 0, ..RateLimitConfig::default() };
        assert_eq!(requests_only.units_for(Some(10_000)), 1);
    }

    #[tokio::test]
    async fn limits_each_tenant_separately_in_process() {
        let limiter = RateLimiter::new(tight_config(), &redis_at(None)).unwrap();
        let (a, b) = (context(Uuid::new_v4()), context(Uuid::new_v4()));
        assert_eq!(limiter.check(&a, None, 1).await, Decision::Allowed);
        assert_eq!(limiter.check(&a, None, 1).await, Decision::Allowed);
        assert!(matches!(limiter.check(&a, None, 1).await, Decision::Limited { .. }));
        assert_eq!(limiter.check(&b, None, 1).await, Decision::Allowed, "tenant B has its own budget");
    }

    #[tokio::test]
    async fn degrades_to_local_limits_when_redis_is_unreachable() {
        // Port 1 refuses connections: Redis configured but down.
        let limiter = RateLimiter::new(tight_config(), &redis_at(Some("redis://127.0.0.1:1/"))).unwrap();
        let a = context(Uuid::new_v4());
        assert_eq!(limiter.check(&a, None, 1).await, Decision::Allowed);
        assert!(limiter.is_degraded());
        assert_eq!(limiter.check(&a, None, 1).await, Decision::Allowed);
        assert!(matches!(limiter.check(&a, None, 1).await, Decision::Limited { .. }), "local limits still apply");
    }

    #[tokio::test]
    async fn shares_one_budget_across_limiters_through_redis() {
        let Some(url) = atrium_contract::testing::redis_url().await else { return };
        let config = tight_config();
        let redis = redis_at(Some(&url));
        let first = RateLimiter::new(config.clone(), &redis).unwrap();
        let second = RateLimiter::new(config, &redis).unwrap();
        let a = context(Uuid::new_v4());
        assert_eq!(first.check(&a, None, 1).await, Decision::Allowed);
        assert_eq!(second.check(&a, None, 1).await, Decision::Allowed);
        assert!(matches!(first.check(&a, None, 1).await, Decision::Limited { .. }), "the budget is global");
        assert!(!first.is_degraded());
        let b = context(Uuid::new_v4());
        assert_eq!(second.check(&b, None, 1).await, Decision::Allowed, "tenant B is unaffected");
    }
}
