//! Log lines: JSON objects for machines, compact text for people in the dev profile. Both
//! carry the OpenTelemetry `trace_id` and `span_id` of the span the event happened in, so
//! a line found in the logs leads to its trace and back.

use std::fmt;

use opentelemetry::trace::{SpanId, TraceContextExt as _, TraceId};
use serde::Deserialize;
use serde_json::{Map, Value};
use tracing::{Event, Subscriber, field::Field};
use tracing_subscriber::{
    Layer,
    fmt::{
        FmtContext, FormatEvent, FormatFields, MakeWriter,
        format::{self, Writer},
    },
    registry::LookupSpan,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

pub(super) fn layer<S, W>(format: LogFormat, writer: W) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let base = tracing_subscriber::fmt::layer().with_writer(writer);
    match format {
        LogFormat::Pretty => base.event_format(WithTraceIds(format::format().compact())).boxed(),
        LogFormat::Json => base.event_format(JsonLines).boxed(),
    }
}

/// Ids of the OpenTelemetry span current on this thread (the entered `tracing` span).
pub(crate) fn current_trace_ids() -> Option<(TraceId, SpanId)> {
    opentelemetry::Context::map_current(|context| {
        let span = context.span();
        let span_context = span.span_context();
        span_context.is_valid().then(|| (span_context.trace_id(), span_context.span_id()))
    })
}

/// The compact text format with the ids in front, for reading in a terminal.
struct WithTraceIds<F>(F);

impl<S, N, F> FormatEvent<S, N> for WithTraceIds<F>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
    N: for<'writer> FormatFields<'writer> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(&self, context: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        if let Some((trace_id, span_id)) = current_trace_ids() {
            write!(writer, "trace_id={trace_id} span_id={span_id} ")?;
        }
        self.0.format_event(context, writer, event)
    }
}

/// One JSON object per line: timestamp, level, target, message, the event's fields, the
/// current span's name and the trace ids.
struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'span> LookupSpan<'span>,
    N: for<'writer> FormatFields<'writer> + 'static,
{
    fn format_event(&self, context: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let metadata = event.metadata();
        let mut line = Map::new();
        line.insert(
            "timestamp".into(),
            Value::String(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        );
        line.insert("level".into(), Value::String(metadata.level().as_str().to_owned()));
        line.insert("target".into(), Value::String(metadata.target().to_owned()));
        event.record(&mut JsonFields(&mut line));
        if let Some(span) = context.lookup_current() {
            line.insert("span".into(), Value::String(span.name().to_owned()));
        }
        if let Some((trace_id, span_id)) = current_trace_ids() {
            line.insert("trace_id".into(), Value::String(trace_id.to_string()));
            line.insert("span_id".into(), Value::String(span_id.to_string()));
        }
        let text = serde_json::to_string(&line).map_err(|_| fmt::Error)?;
        writeln!(writer, "{text}")
    }
}

struct JsonFields<'a>(&'a mut Map<String, Value>);

impl tracing::field::Visit for JsonFields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().to_owned(), Value::String(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), Value::String(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("log buffer").extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn capture(format: LogFormat, emit: impl FnOnce()) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        // Not sampled, as in `make run`: ids must exist all the same.
        let provider = SdkTracerProvider::builder().with_sampler(Sampler::AlwaysOff).build();
        let subscriber = tracing_subscriber::registry()
            .with(layer(format, move || writer.clone()))
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, emit);
        String::from_utf8(captured.0.lock().expect("log buffer").clone()).expect("utf-8 logs")
    }

    #[test]
    fn json_lines_carry_fields_and_the_ids_of_the_current_span() {
        let output = capture(LogFormat::Json, || {
            tracing::info_span!("request").in_scope(|| tracing::warn!(status = 502_u64, "subgraph failed"));
        });
        let line: Value = serde_json::from_str(output.trim()).expect("one JSON line");
        assert_eq!(line["message"], "subgraph failed");
        assert_eq!(line["status"], 502);
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["span"], "request");
        assert_eq!(line["trace_id"].as_str().map(str::len), Some(32), "{line}");
        assert_eq!(line["span_id"].as_str().map(str::len), Some(16), "{line}");
    }

    #[test]
    fn lines_outside_any_span_have_no_trace_ids() {
        let output = capture(LogFormat::Json, || tracing::info!("listening"));
        let line: Value = serde_json::from_str(output.trim()).expect("one JSON line");
        assert!(line.get("trace_id").is_none(), "{line}");
    }

    #[test]
    fn pretty_lines_start_with_the_trace_id() {
        let output = capture(LogFormat::Pretty, || {
            tracing::info_span!("request").in_scope(|| tracing::info!("answered"));
        });
        assert!(output.starts_with("trace_id="), "{output}");
        assert!(output.contains("answered"), "{output}");
    }
}
