//! Per-tenant rate limits through the gateway: one budget shared by gateway replicas
//! through Redis, tenants isolated from each other, and local limits when Redis is down.

use atrium_gateway::rate_limit::RateTier;
use atrium_system_tests::{Backend, Stack};

const QUERY: &str = "{ tenant { name } }";

fn tight_limits(config: &mut atrium_gateway::config::Config, redis_url: &str, prefix: &str) {
    config.rate_limits.enabled = true;
    config.redis.url = Some(redis_url.to_owned());
    config.redis.key_prefix = prefix.to_owned();
    // Three requests at once, then one every ten seconds: the test never waits for a refill.
    config.rate_limits.tiers.dashboard = RateTier { requests_per_second: 0.1, burst: 3 };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_one_budget_per_tenant_and_tenants_do_not_share_budgets() {
    let Some(redis_url) = atrium_kit::testing::redis_url().await else { return };
    let stack = Stack::start(Backend::Sqlite).await.expect("sqlite stack");
    let prefix = format!("atrium-test-{}", uuid::Uuid::new_v4().simple());
    let first = stack.start_gateway(|config| tight_limits(config, &redis_url, &prefix)).await;
    let second = stack.start_gateway(|config| tight_limits(config, &redis_url, &prefix)).await;
    let ridgeline = stack.token("ridgeline", &["csm"]);

    for url in [&first, &second, &first] {
        let (status, _, body) = stack.post_to(url, &ridgeline, QUERY).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, headers, body) = stack.post_to(&second, &ridgeline, QUERY).await;
    assert_eq!(status, 429, "the fourth request across both replicas exceeds the burst: {body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&retry_after), "Retry-After {retry_after}");

    let helix = stack.token("helix", &["csm"]);
    let (status, _, body) = stack.post_to(&second, &helix, QUERY).await;
    assert_eq!(status, 200, "tenant B keeps its own budget: {body}");
    assert_eq!(body["data"]["tenant"]["name"], "Helix Ledger");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_still_succeed_under_local_limits_when_redis_is_unreachable() {
    let stack = Stack::start(Backend::Sqlite).await.expect("sqlite stack");
    let prefix = format!("atrium-test-{}", uuid::Uuid::new_v4().simple());
    // Nothing listens on port 1: Redis is configured but down.
    let gateway = stack.start_gateway(|config| tight_limits(config, "redis://127.0.0.1:1/", &prefix)).await;
    let ridgeline = stack.token("ridgeline", &["csm"]);
    for _ in 0..3 {
        let (status, _, body) = stack.post_to(&gateway, &ridgeline, QUERY).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["tenant"]["name"], "Ridgeline Business Systems");
    }
    let (status, _, body) = stack.post_to(&gateway, &ridgeline, QUERY).await;
    assert_eq!(status, 429, "local limits still apply: {body}");
}
