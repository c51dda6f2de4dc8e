//! The operational endpoints every binary serves next to `/graphql`: `/health` (liveness:
//! the process answers), `/ready` (readiness: every dependency the binary needs answers)
//! and `/metrics` (Prometheus text). Failing checks are named in the `/ready` body; their
//! details go to the log only. A dependency the binary can do without for a while (it has
//! a local fallback) is a degradable check: its failure answers 200 `degraded` rather
//! than taking the binary out of service.

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
    /// The binary keeps serving without it (on a local fallback).
    degradable: bool,
}

impl ReadinessCheck {
    pub fn new<F, Fut>(name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        ReadinessCheck { name, check: Arc::new(move || Box::pin(check())), degradable: false }
    }

    /// A dependency with a local fallback: while it fails, `/ready` answers 200 with
    /// status `degraded` (and the check `degraded`) instead of 503.
    pub fn degradable<F, Fut>(name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        ReadinessCheck { degradable: true, ..Self::new(name, check) }
    }
}

/// `/health`, `/ready` (running `checks`) and `/metrics` (rendering `metrics`).
pub fn operational_routes(metrics: Arc<Metrics>, checks: Vec<ReadinessCheck>) -> Router {
    health_routes(checks).merge(metrics_routes(metrics))
}

/// `/health` and `/ready` alone, for a listener that must not serve `/metrics`.
pub fn health_routes(checks: Vec<ReadinessCheck>) -> Router {
    Router::new().route("/health", get(|| async { "ok" })).route("/ready", get(ready)).with_state(Arc::new(checks))
}

/// `/metrics` alone.
pub fn metrics_routes(metrics: Arc<Metrics>) -> Router {
    Router::new().route("/metrics", get(render_metrics)).with_state(metrics)
}

async fn ready(State(readiness_checks): State<Arc<Vec<ReadinessCheck>>>) -> Response {
    let results = join_all(readiness_checks.iter().map(|check| async move {
        let outcome = tokio::time::timeout(READINESS_CHECK_TIMEOUT, (check.check)())
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {READINESS_CHECK_TIMEOUT:?}")));
        (check, outcome)
    }))
    .await;
    let mut checks = Map::new();
    let (mut unavailable, mut degraded) = (false, false);
    for (check, outcome) in results {
        let word = match &outcome {
            Ok(()) => "ok",
            Err(error) if check.degradable => {
                tracing::warn!(check = check.name, %error, "dependency unavailable; serving degraded on local fallbacks");
                degraded = true;
                "degraded"
            }
            Err(error) => {
                tracing::warn!(check = check.name, %error, "readiness check failed");
                unavailable = true;
                "failed"
            }
        };
        checks.insert(check.name.to_owned(), Value::from(word));
    }
    let (status, word) = match (unavailable, degraded) {
        (true, _) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        (false, true) => (StatusCode::OK, "degraded"),
        (false, false) => (StatusCode::OK, "ready"),
    };
    (status, Json(json!({ "status": word, "checks": checks }))).into_response()
}

async fn render_metrics(State(metrics): State<Arc<Metrics>>) -> Response {
    ([(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)], metrics.render()).into_response()
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
    async fn ready_answers_degraded_while_only_a_dependency_with_a_fallback_fails() {
        let failing = || async { Err("connection refused".to_owned()) };
        let degraded =
            vec![ReadinessCheck::new("supergraph", || async { Ok(()) }), ReadinessCheck::degradable("redis", failing)];
        let (status, body) = get_json(operational_routes(Arc::new(Metrics::local("test")), degraded), "/ready").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!({ "status": "degraded", "checks": { "supergraph": "ok", "redis": "degraded" } }));

        let down = vec![ReadinessCheck::new("supergraph", failing), ReadinessCheck::degradable("redis", failing)];
        let (status, body) = get_json(operational_routes(Arc::new(Metrics::local("test")), down), "/ready").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body, json!({ "status": "unavailable", "checks": { "supergraph": "failed", "redis": "degraded" } }));
    }

    #[tokio::test]
    async fn health_routes_leave_metrics_out() {
        let router = health_routes(vec![]);
        let (status, _) = get_json(router.clone(), "/metrics").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(get_json(router, "/ready").await.0, StatusCode::OK);
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
