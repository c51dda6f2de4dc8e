//! The metrics registry of one application: an OpenTelemetry meter provider read by a
//! Prometheus registry (served as text at `/metrics`) and, when an OTLP endpoint is
//! configured, pushed to the collector as well. One registry per application rather than a
//! global one, so servers sharing a process (the system tests) keep their numbers apart.

use opentelemetry::metrics::{Meter, MeterProvider as _};
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::{
    Resource,
    metrics::{PeriodicReader, SdkMeterProvider},
};
use prometheus::{Encoder as _, TextEncoder};

use super::{TelemetryConfig, TelemetryError};

/// Prometheus text exposition format, version 0.0.4.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Bucket boundaries in seconds for request and fetch durations (the OpenTelemetry HTTP
/// semantic conventions' advice), instead of the SDK's millisecond-shaped defaults.
pub(crate) const DURATION_BUCKETS_SECONDS: [f64; 14] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 10.0];

pub struct Metrics {
    provider: SdkMeterProvider,
    registry: prometheus::Registry,
    meter: Meter,
    config: TelemetryConfig,
}

impl Metrics {
    pub fn new(service_name: &str, config: &TelemetryConfig) -> Result<Self, TelemetryError> {
        let failure = |error: &dyn std::fmt::Display| TelemetryError::Metrics(error.to_string());
        let registry = prometheus::Registry::new();
        let prometheus_reader = opentelemetry_prometheus::exporter()
            .with_registry(registry.clone())
            .scope_info_enabled(false)
            .build()
            .map_err(|error| failure(&error))?;
        let resource = Resource::builder().with_service_name(service_name.to_owned()).build();
        let mut builder = SdkMeterProvider::builder().with_resource(resource).with_reader(prometheus_reader);
        if let Some(url) = config.otlp_url("v1/metrics") {
            let exporter = opentelemetry_otlp::MetricExporter::builder()
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .with_endpoint(url)
                .build()
                .map_err(|error| TelemetryError::Exporter(error.to_string()))?;
            builder = builder.with_reader(PeriodicReader::builder(exporter).build());
        }
        let provider = builder.build();
        let meter = provider.meter("atrium");
        Ok(Metrics { provider, registry, meter, config: config.clone() })
    }

    /// A registry that only serves `/metrics` (tests, tools).
    pub fn local(service_name: &str) -> Self {
        Self::new(service_name, &TelemetryConfig::default())
            .unwrap_or_else(|error| unreachable!("a registry without exporters always builds: {error}"))
    }

    /// Where instruments are created.
    pub fn meter(&self) -> &Meter {
        &self.meter
    }

    pub fn config(&self) -> &TelemetryConfig {
        &self.config
    }

    /// The current values in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut text = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut text) {
            tracing::error!(%error, "cannot encode metrics");
        }
        String::from_utf8(text).unwrap_or_default()
    }
}

impl Drop for Metrics {
    fn drop(&mut self) {
        // Pushes the last values when OTLP export is on; nothing to report otherwise.
        let _ = self.provider.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::KeyValue;

    use super::*;

    #[test]
    fn renders_histograms_in_seconds_with_their_labels() {
        let metrics = Metrics::local("test");
        let histogram = metrics
            .meter()
            .f64_histogram("atrium.test.duration")
            .with_unit("s")
            .with_boundaries(DURATION_BUCKETS_SECONDS.to_vec())
            .build();
        histogram.record(0.02, &[KeyValue::new("tenant", "t1")]);
        let text = metrics.render();
        assert!(text.contains("# TYPE atrium_test_duration_seconds histogram"), "{text}");
        assert!(text.contains(r#"atrium_test_duration_seconds_bucket{tenant="t1",le="0.025"} 1"#), "{text}");
        assert!(text.contains(r#"atrium_test_duration_seconds_count{tenant="t1"} 1"#), "{text}");
    }

    #[test]
    fn applications_in_one_process_keep_separate_registries() {
        let first = Metrics::local("first");
        let second = Metrics::local("second");
        first.meter().u64_counter("atrium.test.only_first").build().add(1, &[]);
        assert!(first.render().contains("atrium_test_only_first_total 1"));
        assert!(!second.render().contains("atrium_test_only_first"));
    }
}
