//! W3C trace context (`traceparent`, `tracestate`) over HTTP headers: the gateway injects
//! the current span into every subgraph request, subgraphs extract it so their spans join
//! the gateway's trace.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::{
    Context,
    propagation::{Extractor, Injector, TextMapPropagator as _},
};
use opentelemetry_sdk::propagation::TraceContextPropagator;

/// The trace context carried by `headers`, or an empty context when there is none (or it
/// does not parse).
pub fn extract_context(headers: &HeaderMap) -> Context {
    TraceContextPropagator::new().extract(&HeaderExtractor(headers))
}

/// Writes `traceparent` (and `tracestate` when set) for `context` into `headers`.
pub fn inject_context(context: &Context, headers: &mut HeaderMap) {
    TraceContextPropagator::new().inject_context(context, &mut HeaderInjector(headers));
}

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(key.as_bytes()), HeaderValue::from_str(&value)) {
            self.0.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState};

    use super::*;

    #[test]
    fn an_injected_context_is_extracted_with_the_same_ids_and_sampling_flag() {
        let span_context = SpanContext::new(
            TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736_u128),
            SpanId::from(0x00f0_67aa_0ba9_02b7_u64),
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        );
        let mut headers = HeaderMap::new();
        inject_context(&Context::new().with_remote_span_context(span_context.clone()), &mut headers);
        assert_eq!(headers["traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");

        let extracted = extract_context(&headers);
        let extracted_span = extracted.span();
        assert_eq!(extracted_span.span_context().trace_id(), span_context.trace_id());
        assert_eq!(extracted_span.span_context().span_id(), span_context.span_id());
        assert!(extracted_span.span_context().is_sampled());
    }

    #[test]
    fn a_malformed_traceparent_yields_no_parent() {
        let mut headers = HeaderMap::new();
        headers.insert("traceparent", HeaderValue::from_static("00-not-a-trace-01"));
        assert!(!extract_context(&headers).span().span_context().is_valid());
    }
}
