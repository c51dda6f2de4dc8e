//! The operational endpoints every binary serves next to `/graphql`: `/health` (liveness:
//! the process answers), `/ready` (readiness: every dependency the binary needs answers)
//! and `/metrics` (Prometheus text). Failing checks are named in the `/ready` body; their
//! details go to the log only.

use std::{future::Future, sync::Arc, time::Duration};

use axum::{
    Json, Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use futures::future::{BoxFuture, join_all};
use serde_json::{Map, Value, json};

use super::metrics::{METRICS_CONTENT_TYPE, Metrics};

/// Longest a single readiness check may take before it counts as failed.
const READINESS_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

type CheckFn = dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync;

/// One named dependency `/ready` checks. The error text is logged, never served.
#[derive(Clone)]
pub struct ReadinessCheck {
    name: &'static str,
    check: Arc<CheckFn>,
}

impl ReadinessCheck {
    pub fn new<F, Fut>(name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        ReadinessCheck { name, check: Arc::new(move || Box::pin(check())) }
    }
}

struct Operational {
    metrics: Arc<Metrics>,
    checks: Vec<ReadinessCheck>,
}

/// `/health`, `/ready` (running `checks`) and `/metrics` (rendering `metrics`).
pub fn operational_routes(metrics: Arc<Metrics>, checks: Vec<ReadinessCheck>) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/ready", get(ready))
        .route("/metrics", get(render_metrics))
        .with_state(Arc::new(Operational { metrics, checks }))
}

async fn ready(State(operational): State<Arc<Operational>>) -> Response {
    let results = join_all(operational.checks.iter().map(|check| async move {
        let outcome = tokio::time::timeout(READINESS_CHECK_TIMEOUT, (check.check)())
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {READINESS_CHECK_TIMEOUT:?}")));
        (check.name, outcome)
    }))
    .await;
    let mut checks = Map::new();
    let mut all_ready = true;
    for (name, outcome) in results {
        if let Err(error) = &outcome {
            tracing::warn!(check = name, %error, "readiness check failed");
            all_ready = false;
        }
        checks.insert(name.to_owned(), Value::from(if outcome.is_ok() { "ok" } else { "failed" }));
    }
    let (status, word) =
        if all_ready { (StatusCode::OK, "ready") } else { (StatusCode::SERVICE_UNAVAILABLE, "unavailable") };
    (status, Json(json!({ "status": word, "checks": checks }))).into_response()
}

async fn render_metrics(State(operational): State<Arc<Operational>>) -> Response {
    ([(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)], operational.metrics.render()).into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use tower::ServiceExt as _;

    use super::*;

    async fn get_json(router: Router, path: &str) -> (StatusCode, Value) {
        let response = router
            .oneshot(axum::http::Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("router answers");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("body");
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    #[tokio::test]
    async fn ready_names_the_failing_check_without_its_details() {
        let checks = vec![
            ReadinessCheck::new("database", || async { Ok(()) }),
            ReadinessCheck::new("redis", || async { Err("connection refused by 10.0.0.7:6379".to_owned()) }),
        ];
        let router = operational_routes(Arc::new(Metrics::local("test")), checks);
        let (status, body) = get_json(router, "/ready").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body, json!({ "status": "unavailable", "checks": { "database": "ok", "redis": "failed" } }));
    }

    #[tokio::test]
    async fn ready_answers_ok_when_every_check_passes() {
        let router = operational_routes(
            Arc::new(Metrics::local("test")),
            vec![ReadinessCheck::new("database", || async { Ok(()) })],
        );
        let (status, body) = get_json(router, "/ready").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "ready");
    }
}
