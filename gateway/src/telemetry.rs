//! Gateway telemetry: the spans between the request span and the subgraphs (prepare —
//! with parse, validate and plan inside the engine — then execute), the per-subgraph fetch
//! span that carries `traceparent` to the subgraph, the fetch and plan-cache metrics, and
//! the gateway's readiness checks (Redis only degrades it: see [`readiness_checks`]). The
//! request span, access log and request metrics are the kit's (`atrium_contract::telemetry`),
//! shared with the subgraphs.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Instant,
};

use atrium_contract::{
    TenantContext,
    telemetry::{Metrics, ReadinessCheck},
};
use opentelemetry::{
    KeyValue,
    metrics::{Counter, Histogram},
};
use tracing::{Instrument as _, Span, field::Empty};

use crate::engine::{PlanCacheStats, TransportError};

/// Bucket boundaries in seconds for subgraph fetches.
const FETCH_BUCKETS_SECONDS: [f64; 14] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 10.0];

/// What the request path needs from telemetry configuration.
pub struct GatewayTelemetry {
    pub metrics: Arc<Metrics>,
    /// Whether the client's document may be put on spans (`telemetry.record_document`).
    pub record_document: bool,
}

impl GatewayTelemetry {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        let record_document = metrics.config().record_document;
        GatewayTelemetry { metrics, record_document }
    }
}

/// Who a subgraph fetch is made for, as span attributes.
#[derive(Debug, Clone, Copy)]
pub struct FetchCaller {
    tenant_id: uuid::Uuid,
    client_kind: &'static str,
}

impl FetchCaller {
    pub fn of(context: &TenantContext) -> Self {
        FetchCaller { tenant_id: context.tenant_id, client_kind: context.client_kind.as_str() }
    }
}

/// Subgraph fetch latency (by subgraph and outcome) and failures (by subgraph and kind).
pub struct FetchMetrics {
    duration: Histogram<f64>,
    errors: Counter<u64>,
}

impl FetchMetrics {
    pub fn new(metrics: &Metrics) -> Self {
        FetchMetrics {
            duration: metrics
                .meter()
                .f64_histogram("atrium.subgraph.fetch.duration")
                .with_description("Subgraph requests made by the gateway, by subgraph and outcome")
                .with_unit("s")
                .with_boundaries(FETCH_BUCKETS_SECONDS.to_vec())
                .build(),
            errors: metrics
                .meter()
                .u64_counter("atrium.subgraph.fetch.errors")
                .with_description("Subgraph requests that failed (unreachable, timed out, not a GraphQL answer)")
                .build(),
        }
    }
}

/// The client span of one subgraph fetch (HTTP client semantic conventions plus the
/// subgraph and the caller). The request inside it carries the span as `traceparent`.
pub fn fetch_span(subgraph: &str, url: Option<&hyper::Uri>, caller: Option<FetchCaller>) -> Span {
    let span = tracing::info_span!(
        "subgraph.fetch",
        otel.name = format!("POST {subgraph}").as_str(),
        otel.kind = "client",
        otel.status_code = Empty,
        http.request.method = "POST",
        server.address = Empty,
        server.port = Empty,
        url.full = Empty,
        http.response.status_code = Empty,
        error.type = Empty,
        subgraph.name = subgraph,
        tenant.id = Empty,
        client.kind = Empty,
    );
    if let Some(url) = url {
        span.record("url.full", tracing::field::display(url));
        if let Some(host) = url.host() {
            span.record("server.address", host);
        }
        if let Some(port) = url.port_u16() {
            span.record("server.port", i64::from(port));
        }
    }
    if let Some(caller) = caller {
        span.record("tenant.id", tracing::field::display(caller.tenant_id));
        span.record("client.kind", caller.client_kind);
    }
    span
}

/// Runs one fetch inside `span`, recording its latency, its failure kind and, on failure,
/// the error status of the span.
pub async fn observe_fetch<F>(
    metrics: Option<&FetchMetrics>,
    subgraph: &str,
    span: Span,
    fetch: F,
) -> Result<bytes::Bytes, TransportError>
where
    F: Future<Output = Result<bytes::Bytes, TransportError>>,
{
    let started = Instant::now();
    let result = fetch.instrument(span.clone()).await;
    let outcome = if result.is_ok() { "ok" } else { "error" };
    if let Err(error) = &result {
        span.record("otel.status_code", "ERROR");
        span.record("error.type", failure_kind(error));
    }
    if let Some(metrics) = metrics {
        let subgraph_label = KeyValue::new("subgraph", subgraph.to_owned());
        metrics
            .duration
            .record(started.elapsed().as_secs_f64(), &[subgraph_label.clone(), KeyValue::new("outcome", outcome)]);
        if let Err(error) = &result {
            metrics.errors.add(1, &[subgraph_label, KeyValue::new("error_type", failure_kind(error))]);
        }
    }
    result
}

/// A bounded name for a transport failure, from the subgraph client's messages.
fn failure_kind(error: &TransportError) -> &'static str {
    let message = error.message.as_str();
    if message.contains("did not answer within") {
        "timeout"
    } else if message.contains("without a GraphQL body") {
        "http_status"
    } else if message.contains("reading") {
        "response_body"
    } else {
        "connection"
    }
}

/// Plan cache lookups as a counter by `result` (`hit`/`miss`), read from the engine at
/// every collection.
pub fn observe_plan_cache(metrics: &Metrics, stats: impl Fn() -> Option<PlanCacheStats> + Send + Sync + 'static) {
    metrics
        .meter()
        .u64_observable_counter("atrium.plan_cache.lookups")
        .with_description("Plan cache lookups by result")
        .with_callback(move |observer| {
            if let Some(stats) = stats() {
                observer.observe(stats.hits, &[KeyValue::new("result", "hit")]);
                observer.observe(stats.misses, &[KeyValue::new("result", "miss")]);
            }
        })
        .build();
}

/// What readiness asks of the running gateway (read at every probe).
pub struct GatewayProbes {
    /// A supergraph with at least one subgraph is loaded.
    pub supergraph_loaded: Arc<dyn Fn() -> bool + Send + Sync>,
    /// The rate limiter fell back to per-replica buckets because Redis is unusable.
    pub rate_limits_degraded: Arc<dyn Fn() -> bool + Send + Sync>,
}

/// `/ready` for the gateway: the supergraph is loaded with at least one subgraph (else
/// 503), and the shared Redis answers when one is configured.
///
/// Every Redis user has a local fallback — rate limits apply per replica, answers run
/// uncached, persisted documents and API keys stay at the last set loaded — so an
/// unreachable Redis leaves the gateway ready but `degraded` rather than taking every
/// replica out of service at once. The change is logged, and the gauge
/// `atrium.gateway.degraded{component="redis"}` is 1 while the last readiness probe or
/// the rate limiter found Redis unusable.
pub fn readiness_checks(probes: GatewayProbes, redis_url: Option<String>, metrics: &Metrics) -> Vec<ReadinessCheck> {
    let GatewayProbes { supergraph_loaded, rate_limits_degraded } = probes;
    let mut checks = vec![ReadinessCheck::new("supergraph", move || {
        let loaded = supergraph_loaded();
        async move { if loaded { Ok(()) } else { Err("no supergraph with subgraphs is loaded".to_owned()) } }
    })];
    if let Some(url) = redis_url {
        let unreachable = Arc::new(AtomicBool::new(false));
        observe_redis_degradation(metrics, rate_limits_degraded, Arc::clone(&unreachable));
        checks.push(ReadinessCheck::degradable("redis", move || {
            let (url, unreachable) = (url.clone(), Arc::clone(&unreachable));
            async move {
                let outcome = ping_redis(&url).await.map_err(|error| error.to_string());
                let was_unreachable = unreachable.swap(outcome.is_err(), Ordering::Relaxed);
                match (&outcome, was_unreachable) {
                    (Err(error), false) => tracing::warn!(
                        %error,
                        "Redis unreachable: degraded to local rate limits, uncached answers and the last loaded documents and API keys"
                    ),
                    (Ok(()), true) => tracing::info!("Redis reachable again: no longer degraded"),
                    _ => {}
                }
                outcome
            }
        }));
    }
    checks
}

/// `atrium.gateway.degraded{component="redis"}`: 1 while Redis is configured but unusable.
fn observe_redis_degradation(
    metrics: &Metrics,
    rate_limits_degraded: Arc<dyn Fn() -> bool + Send + Sync>,
    unreachable: Arc<AtomicBool>,
) {
    metrics
        .meter()
        .u64_observable_gauge("atrium.gateway.degraded")
        .with_description("1 while a component is unusable and the gateway serves on local fallbacks, by component")
        .with_callback(move |observer| {
            let rate_limits_local = rate_limits_degraded();
            let degraded = unreachable.load(Ordering::Relaxed) || rate_limits_local;
            observer.observe(u64::from(degraded), &[KeyValue::new("component", "redis")]);
        })
        .build();
}

async fn ping_redis(url: &str) -> redis::RedisResult<()> {
    let client = redis::Client::open(url)?;
    let mut connection = crate::redis_connection::connect(&client).await?;
    redis::cmd("PING").query_async::<String>(&mut connection).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_failures_map_to_bounded_kinds() {
        let kind = |message: &str| failure_kind(&TransportError::new(message));
        assert_eq!(kind("`finance` did not answer within 10s"), "timeout");
        assert_eq!(kind("`finance` answered HTTP 502 without a GraphQL body: upstream reset"), "http_status");
        assert_eq!(kind("reading `finance` response: length limit exceeded"), "response_body");
        assert_eq!(kind("`finance`: client error (Connect)"), "connection");
    }
}
