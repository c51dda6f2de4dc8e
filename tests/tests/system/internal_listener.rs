//! Internal endpoints off the public listener: with `internal_listen` set (the default
//! outside the dev profile) `/metrics` and `POST /internal/changes` answer 404 on the
//! public listener and are served on the internal one; and a gateway whose Redis is
//! unreachable stays in service, ready but degraded (its Redis users have local
//! fallbacks), and says so in `/ready`, its log and `atrium_gateway_degraded`.

use atrium_system_tests::{Backend, Stack};
use serde_json::Value;

fn base(graphql_url: &str) -> String {
    graphql_url.trim_end_matches("/graphql").to_owned()
}

async fn status_of(request: reqwest::RequestBuilder) -> u16 {
    request.send().await.expect("gateway answers").status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_change_events_are_served_only_on_the_internal_listener() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let gateway = stack
        .start_gateway_serving(|config| config.internal_listen = Some("127.0.0.1:0".parse().expect("address")))
        .await;
    let public = base(&gateway.graphql);
    let client = stack.client();
    let changes = atrium_kit::changes::CHANGES_PATH;

    let token = stack.token("ridgeline", &["csm"]);
    let (status, _, body) = stack.post_to(&gateway.graphql, &token, "{ tenant { name } }").await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(status_of(client.get(format!("{public}/metrics"))).await, 404);
    assert_eq!(status_of(client.post(format!("{public}{changes}")).body("{}")).await, 404);
    for path in ["/health", "/ready"] {
        assert_eq!(status_of(client.get(format!("{public}{path}"))).await, 200, "public {path}");
    }

    let internal = gateway.internal.expect("an internal listener");
    let metrics = client.get(format!("{internal}/metrics")).send().await.expect("internal listener answers");
    assert_eq!(metrics.status().as_u16(), 200);
    let text = metrics.text().await.expect("metrics text");
    assert!(text.contains("atrium_graphql_request_duration_seconds_count"), "{text}");
    // The change endpoint is there, and still demands a signed batch.
    assert_eq!(status_of(client.post(format!("{internal}{changes}")).body("{}")).await, 401);
    assert_eq!(status_of(client.get(format!("{internal}/ready"))).await, 200);
    // The internal listener serves no GraphQL.
    let graphql = client.post(format!("{internal}/graphql")).bearer_auth(&token).json(&serde_json::json!({}));
    assert_eq!(status_of(graphql).await, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_internal_listener_in_the_dev_profile_everything_stays_on_the_public_one() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let gateway = stack.start_gateway_serving(|_| {}).await;
    assert!(gateway.internal.is_none());
    let public = base(&gateway.graphql);
    assert_eq!(status_of(stack.client().get(format!("{public}/metrics"))).await, 200);
    let changes = stack.client().post(format!("{public}{}", atrium_kit::changes::CHANGES_PATH)).body("{}");
    assert_eq!(status_of(changes).await, 401);
}

/// `/ready` and the `atrium_gateway_degraded{component="redis"}` sample of a gateway in
/// the dev profile (both on its one listener).
async fn readiness(stack: &Stack, gateway: &str) -> (u16, Value, Option<f64>) {
    let response = stack.client().get(format!("{gateway}/ready")).send().await.expect("ready answers");
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("JSON readiness");
    let metrics = stack.client().get(format!("{gateway}/metrics")).send().await.unwrap().text().await.unwrap();
    let degraded = metrics
        .lines()
        .find(|line| line.starts_with("atrium_gateway_degraded{") && line.contains(r#"component="redis""#))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok());
    (status, body, degraded)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_whose_redis_is_unreachable_is_ready_but_degraded() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    // Nothing listens on port 1: Redis is configured but down.
    let gateway = stack.start_gateway(|config| config.redis.url = Some("redis://127.0.0.1:1/".to_owned())).await;
    let (status, body, degraded) = readiness(&stack, &base(&gateway)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["checks"]["redis"], "degraded", "{body}");
    assert_eq!(body["checks"]["supergraph"], "ok", "{body}");
    assert_eq!(degraded, Some(1.0));
    // And it serves: rate limits, documents and keys fall back to this process.
    let token = stack.token("ridgeline", &["csm"]);
    let (status, _, body) = stack.post_to(&gateway, &token, "{ tenant { name } }").await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["data"]["tenant"]["name"], "Ridgeline Business Systems");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_whose_redis_answers_is_ready_and_not_degraded() {
    let Some(redis_url) = atrium_kit::testing::redis_url().await else { return };
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let gateway = stack.start_gateway(|config| config.redis.url = Some(redis_url)).await;
    let (status, body, degraded) = readiness(&stack, &base(&gateway)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready", "{body}");
    assert_eq!(body["checks"]["redis"], "ok", "{body}");
    assert_eq!(degraded, Some(0.0));
}
