//! Observability shared by every binary: the global `tracing` subscriber (JSON or pretty
//! log lines carrying `trace_id`/`span_id`, plus an OpenTelemetry layer), OTLP/HTTP export
//! of traces and metrics when an endpoint is configured, W3C trace-context propagation,
//! the per-application metrics registry behind `/metrics`, the HTTP server span and access
//! log, GraphQL and SQL spans, and the `/health` + `/ready` endpoints.
//!
//! Traces always get ids (so logs can be correlated and `traceparent` flows to subgraphs);
//! they are only recorded and exported when `telemetry.otlp_endpoint` is set. Metrics are
//! always served at `/metrics`; OTLP push is added when the endpoint is set.

mod endpoints;
mod graphql;
mod http;
mod logs;
mod metrics;
mod propagation;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::{
    Resource,
    trace::{Sampler, SdkTracerProvider},
};
use serde::Deserialize;
use tracing_subscriber::{
    EnvFilter, Layer as _, fmt::MakeWriter, layer::SubscriberExt as _, util::SubscriberInitExt as _,
};

pub use endpoints::{ReadinessCheck, health_routes, metrics_routes, operational_routes};
pub use graphql::GraphQLSpans;
pub use http::{
    OperationLabels, RequestOutcome, RequestSpanOptions, record_caller, record_document, record_operation,
    record_outcome, track_requests,
};
pub use logs::LogFormat;
pub use metrics::{METRICS_CONTENT_TYPE, Metrics};
pub use propagation::{extract_context, inject_context};

/// `[telemetry]` in every binary's configuration. Everything that costs or leaves the
/// process is off by default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// OTLP/HTTP (protobuf) collector base URL, e.g. `http://otel-collector:4318`; traces go
    /// to `/v1/traces`, metrics to `/v1/metrics`. Default: none, nothing is exported.
    #[serde(default)]
    pub otlp_endpoint: Option<String>,
    /// Fraction of new traces recorded, 0.0 to 1.0. Default 1.0. Subgraphs follow the
    /// gateway's decision carried in `traceparent`.
    #[serde(default = "default_sampling_ratio")]
    pub sampling_ratio: f64,
    /// Label request metrics with the tenant id. Default true: tenants are a bounded,
    /// registered set; turn it off when they number in the thousands.
    #[serde(default = "default_tenant_label")]
    pub tenant_label: bool,
    /// Put the GraphQL document text on spans (`graphql.document`). Default false: documents
    /// can carry literal arguments a client typed in.
    #[serde(default)]
    pub record_document: bool,
    /// Distinct operation names kept as metric labels; later names are counted as `other`.
    /// Default 200.
    #[serde(default = "default_max_operation_labels")]
    pub max_operation_labels: usize,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            otlp_endpoint: None,
            sampling_ratio: default_sampling_ratio(),
            tenant_label: default_tenant_label(),
            record_document: false,
            max_operation_labels: default_max_operation_labels(),
        }
    }
}

fn default_sampling_ratio() -> f64 {
    1.0
}
fn default_tenant_label() -> bool {
    true
}
fn default_max_operation_labels() -> usize {
    200
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("telemetry.sampling_ratio must be between 0 and 1, got {0}")]
    SamplingRatio(f64),
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(String),
    #[error("cannot build the metrics registry: {0}")]
    Metrics(String),
}

impl TelemetryConfig {
    fn otlp_url(&self, signal_path: &str) -> Option<String> {
        // An empty value (an unset variable in a compose file) means no export.
        let base = self.otlp_endpoint.as_deref().map(str::trim).filter(|base| !base.is_empty())?;
        Some(format!("{}/{signal_path}", base.trim_end_matches('/')))
    }

    fn check(&self) -> Result<(), TelemetryError> {
        if (0.0..=1.0).contains(&self.sampling_ratio) {
            Ok(())
        } else {
            Err(TelemetryError::SamplingRatio(self.sampling_ratio))
        }
    }
}

/// Flushes and stops trace export when dropped (end of `main`).
#[must_use = "dropping the guard stops trace export"]
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Err(error) = self.provider.shutdown() {
            eprintln!("telemetry: flushing traces at shutdown failed: {error}");
        }
    }
}

/// The tracer provider a binary's configuration asks for: batch OTLP export with
/// parent-based ratio sampling, or — without an endpoint — a provider that records nothing
/// but still hands out trace and span ids for logs and propagation.
pub fn tracer_provider(service_name: &str, config: &TelemetryConfig) -> Result<SdkTracerProvider, TelemetryError> {
    config.check()?;
    let resource = Resource::builder().with_service_name(service_name.to_owned()).build();
    let builder = SdkTracerProvider::builder().with_resource(resource);
    let Some(url) = config.otlp_url("v1/traces") else {
        return Ok(builder.with_sampler(Sampler::AlwaysOff).build());
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(url)
        .build()
        .map_err(|error| TelemetryError::Exporter(error.to_string()))?;
    Ok(builder
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(config.sampling_ratio))))
        .with_batch_exporter(exporter)
        .build())
}

static SERVICE_NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The `service.name` this process reports: the one given to [`init`], or
/// `atrium-subgraph` where nothing initialised telemetry (tests).
pub fn service_name() -> &'static str {
    SERVICE_NAME.get().map_or("atrium-subgraph", String::as_str)
}

/// Installs the global subscriber and tracer provider from configuration, logging to
/// stdout. A second call in one process (tests starting several servers) changes nothing.
pub fn init(
    service_name: &str,
    default_filter: &str,
    format: LogFormat,
    config: &TelemetryConfig,
) -> Result<TelemetryGuard, TelemetryError> {
    let _ = SERVICE_NAME.set(service_name.to_owned());
    let provider = tracer_provider(service_name, config)?;
    let filter = std::env::var("RUST_LOG").ok().filter(|filter| !filter.is_empty());
    let detail = if config.otlp_url("v1/traces").is_some() { SpanDetail::Full } else { SpanDetail::IdsOnly };
    install(provider.clone(), detail, filter.as_deref().unwrap_or(default_filter), format, std::io::stdout);
    Ok(TelemetryGuard { provider })
}

/// Which `tracing` spans become OpenTelemetry spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanDetail {
    /// Every span the log filter enables: requests, GraphQL stages, resolvers, DataLoader
    /// batches, fetches (and SQL statements below them). For exporting.
    Full,
    /// Only request and fetch spans: enough for trace ids in logs and `traceparent` to the
    /// subgraphs, at a fraction of the cost when nothing is exported.
    IdsOnly,
}

static DETAILED_SPANS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Whether spans below the request (GraphQL stages, resolvers) are worth creating: false
/// under [`SpanDetail::IdsOnly`], where nothing would receive them.
pub(crate) fn detailed_spans() -> bool {
    DETAILED_SPANS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Spans kept by [`SpanDetail::IdsOnly`]: the request span and the subgraph fetch span.
const ID_CARRYING_SPANS: [&str; 2] = ["request", "subgraph.fetch"];

/// Installs `provider` as the global tracer provider and a subscriber writing log lines to
/// `writer`, keeping what `filter` (an `EnvFilter` directive such as `info,sqlx=warn`)
/// enables. Tests pass an in-memory span exporter and a capturing writer here. Returns
/// false when a global subscriber was already installed (nothing changes then).
pub fn install<W>(provider: SdkTracerProvider, detail: SpanDetail, filter: &str, format: LogFormat, writer: W) -> bool
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let filter = EnvFilter::new(filter);
    let tracer = provider.tracer("atrium");
    // Source locations, thread names, targets and busy/idle timings would ride on every span
    // without helping anyone read a trace.
    let spans = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_target(false)
        .with_tracked_inactivity(false)
        .with_filter(tracing_subscriber::filter::filter_fn(move |metadata| match detail {
            SpanDetail::Full => true,
            SpanDetail::IdsOnly => metadata.is_span() && ID_CARRYING_SPANS.contains(&metadata.name()),
        }));
    let installed =
        tracing_subscriber::registry().with(filter).with(logs::layer(format, writer)).with(spans).try_init().is_ok();
    if installed {
        DETAILED_SPANS.store(detail == SpanDetail::Full, std::sync::atomic::Ordering::Relaxed);
        opentelemetry::global::set_tracer_provider(provider);
    }
    installed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_urls_hang_off_the_configured_base_and_an_empty_base_exports_nothing() {
        let mut config =
            TelemetryConfig { otlp_endpoint: Some("http://collector:4318/".to_owned()), ..Default::default() };
        assert_eq!(config.otlp_url("v1/traces").as_deref(), Some("http://collector:4318/v1/traces"));
        config.otlp_endpoint = Some("  ".to_owned());
        assert_eq!(config.otlp_url("v1/traces"), None);
        assert_eq!(TelemetryConfig::default().otlp_url("v1/metrics"), None);
    }

    #[test]
    fn rejects_a_sampling_ratio_outside_zero_to_one() {
        let config = TelemetryConfig { sampling_ratio: 1.5, ..Default::default() };
        assert!(matches!(tracer_provider("test", &config), Err(TelemetryError::SamplingRatio(_))));
    }
}
