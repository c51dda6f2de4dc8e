//! The server side of every request: one span per request (`POST /graphql`, kind server,
//! HTTP semantic-convention attributes plus `tenant.id`, `client.kind` and the GraphQL
//! operation), one access-log line, and the request-duration histogram by tenant, client
//! kind, operation and outcome.
//!
//! Handlers learn the caller and the operation after the span starts; they report them
//! with [`record_caller`], [`record_operation`] and [`record_outcome`], which reach the
//! request's record through a task-local, so no handler signature has to change.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex, RwLock},
    time::Instant,
};

use axum::{
    Router,
    extract::{Request, State},
    middleware::{self, Next},
    response::Response,
};
use opentelemetry::{KeyValue, metrics::Histogram};
use tracing::{Instrument as _, Span, field::Empty};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use super::{
    metrics::{DURATION_BUCKETS_SECONDS, Metrics},
    propagation::extract_context,
};
use crate::tenant::{ClientKind, TenantContext};

/// How an answered request went, as a bounded metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOutcome {
    Success,
    /// Executed with errors (partial data or null).
    PartialSuccess,
    /// Rejected before execution: parse, validation, variables, body shape.
    RequestError,
    Unauthenticated,
    RateLimited,
    /// The server's own failure.
    InternalError,
}

impl RequestOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestOutcome::Success => "success",
            RequestOutcome::PartialSuccess => "partial_success",
            RequestOutcome::RequestError => "request_error",
            RequestOutcome::Unauthenticated => "unauthenticated",
            RequestOutcome::RateLimited => "rate_limited",
            RequestOutcome::InternalError => "internal_error",
        }
    }

    fn from_status(status: axum::http::StatusCode) -> Self {
        match status.as_u16() {
            401 => RequestOutcome::Unauthenticated,
            429 => RequestOutcome::RateLimited,
            400..=499 => RequestOutcome::RequestError,
            500..=599 => RequestOutcome::InternalError,
            _ => RequestOutcome::Success,
        }
    }

    /// Whether the operation ran, so its name may become a metric label.
    fn executed(self) -> bool {
        matches!(self, RequestOutcome::Success | RequestOutcome::PartialSuccess)
    }
}

/// What the request span of a binary looks like.
#[derive(Debug, Clone, Copy)]
pub struct RequestSpanOptions {
    /// Continue a trace whose `traceparent` arrives with the request. True for subgraphs
    /// (their caller is the gateway); false at the public edge, where a client must not
    /// choose trace ids or sampling decisions.
    pub continue_remote_trace: bool,
}

/// Wraps `router` (the GraphQL routes) in request spans, access logs and request metrics.
pub fn track_requests(router: Router, metrics: &Metrics, options: RequestSpanOptions) -> Router {
    let tracker = Arc::new(RequestTracker {
        duration: metrics
            .meter()
            .f64_histogram("atrium.graphql.request.duration")
            .with_description("GraphQL requests served, by tenant, client kind, operation and outcome")
            .with_unit("s")
            .with_boundaries(DURATION_BUCKETS_SECONDS.to_vec())
            .build(),
        operations: OperationLabels::new(metrics.config().max_operation_labels),
        tenant_label: metrics.config().tenant_label,
        options,
    });
    router.layer(middleware::from_fn_with_state(tracker, track))
}

struct RequestTracker {
    duration: Histogram<f64>,
    operations: OperationLabels,
    tenant_label: bool,
    options: RequestSpanOptions,
}

#[derive(Debug)]
struct RequestRecord {
    span: Span,
    tenant: Option<uuid::Uuid>,
    client_kind: Option<ClientKind>,
    operation_name: Option<String>,
    operation_type: Option<&'static str>,
    outcome: Option<RequestOutcome>,
}

tokio::task_local! {
    static CURRENT_REQUEST: Arc<Mutex<RequestRecord>>;
}

fn with_current_request(update: impl FnOnce(&mut RequestRecord)) {
    let _ = CURRENT_REQUEST.try_with(|record| {
        if let Ok(mut record) = record.lock() {
            update(&mut record);
        }
    });
}

/// Records the verified caller on the request span, access log and metrics.
pub fn record_caller(context: &TenantContext) {
    with_current_request(|record| {
        record.span.record("tenant.id", tracing::field::display(context.tenant_id));
        record.span.record("client.kind", context.client_kind.as_str());
        record.tenant = Some(context.tenant_id);
        record.client_kind = Some(context.client_kind);
    });
}

/// Records the operation being served: its type (`query`, `mutation`, `subscription`) and
/// its name when it has one.
pub fn record_operation(operation_type: &'static str, operation_name: Option<&str>) {
    with_current_request(|record| {
        record.span.record("graphql.operation.type", operation_type);
        if let Some(name) = operation_name {
            record.span.record("graphql.operation.name", name);
        }
        // The semantic conventions name a GraphQL span `{type} {name}`; the HTTP server span
        // keeps its HTTP name, so the operation shows as attributes here.
        record.operation_type = Some(operation_type);
        record.operation_name = operation_name.map(str::to_owned);
    });
}

/// Records the client's document (`graphql.document`) on the request span. Callers do this
/// only where `telemetry.record_document` allows it.
pub fn record_document(document: &str) {
    with_current_request(|record| {
        record.span.record("graphql.document", document);
    });
}

/// Records how the request went when the HTTP status alone does not say (a 200 with errors).
pub fn record_outcome(outcome: RequestOutcome) {
    with_current_request(|record| record.outcome = Some(outcome));
}

async fn track(State(tracker): State<Arc<RequestTracker>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let span_name = format!("{method} {path}");
    let span = tracing::info_span!(
        "request",
        otel.name = span_name.as_str(),
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = method.as_str(),
        http.route = path.as_str(),
        url.path = path.as_str(),
        url.scheme = "http",
        http.response.status_code = Empty,
        tenant.id = Empty,
        client.kind = Empty,
        graphql.operation.type = Empty,
        graphql.operation.name = Empty,
        graphql.document = Empty,
    );
    if tracker.options.continue_remote_trace {
        let _ = span.set_parent(extract_context(request.headers()));
    }
    let record = Arc::new(Mutex::new(RequestRecord {
        span: span.clone(),
        tenant: None,
        client_kind: None,
        operation_name: None,
        operation_type: None,
        outcome: None,
    }));
    let response = CURRENT_REQUEST.scope(Arc::clone(&record), next.run(request)).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status();
    span.record("http.response.status_code", i64::from(status.as_u16()));
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
    }

    let Ok(record) = record.lock() else { return response };
    let outcome = record.outcome.unwrap_or_else(|| RequestOutcome::from_status(status));
    let operation = tracker.operations.label(record.operation_name.as_deref(), outcome.executed());
    let client_kind = record.client_kind.map_or("unknown", ClientKind::as_str);
    let tenant = record.tenant.map(|tenant| tenant.to_string());
    let mut labels = Vec::with_capacity(4);
    if tracker.tenant_label {
        labels.push(KeyValue::new("tenant", tenant.clone().unwrap_or_else(|| "unknown".to_owned())));
    }
    labels.push(KeyValue::new("client_kind", client_kind));
    labels.push(KeyValue::new("operation", Arc::clone(&operation).to_string()));
    labels.push(KeyValue::new("outcome", outcome.as_str()));
    tracker.duration.record(elapsed.as_secs_f64(), &labels);

    span.in_scope(|| {
        tracing::info!(
            target: "atrium::access",
            method = method.as_str(),
            path = path.as_str(),
            status = status.as_u16(),
            outcome = outcome.as_str(),
            tenant = tenant.as_deref().unwrap_or("-"),
            client_kind,
            operation_type = record.operation_type.unwrap_or("-"),
            operation = record.operation_name.as_deref().unwrap_or("-"),
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            "request served"
        );
    });
    response
}

/// Operation names as metric labels, bounded: the first `capacity` distinct names of
/// operations that executed keep their name; anything else is `other`, unnamed operations
/// are `anonymous`. A client sending random names can therefore add at most `capacity`
/// series, and malformed requests add none.
pub struct OperationLabels {
    capacity: usize,
    known: RwLock<HashSet<Arc<str>>>,
    other: Arc<str>,
    anonymous: Arc<str>,
}

/// Longest operation name kept as a label; longer ones are `other`.
const MAX_OPERATION_LABEL_LENGTH: usize = 100;

impl OperationLabels {
    pub fn new(capacity: usize) -> Self {
        OperationLabels {
            capacity,
            known: RwLock::new(HashSet::new()),
            other: Arc::from("other"),
            anonymous: Arc::from("anonymous"),
        }
    }

    /// The label for `name`; `admit` lets a new name in while there is room.
    pub fn label(&self, name: Option<&str>, admit: bool) -> Arc<str> {
        let Some(name) = name else { return Arc::clone(&self.anonymous) };
        if let Ok(known) = self.known.read()
            && let Some(label) = known.get(name)
        {
            return Arc::clone(label);
        }
        if !admit || !is_graphql_name(name) || name.len() > MAX_OPERATION_LABEL_LENGTH {
            return Arc::clone(&self.other);
        }
        let Ok(mut known) = self.known.write() else { return Arc::clone(&self.other) };
        if let Some(label) = known.get(name) {
            return Arc::clone(label);
        }
        if known.len() >= self.capacity {
            return Arc::clone(&self.other);
        }
        let label: Arc<str> = Arc::from(name);
        known.insert(Arc::clone(&label));
        label
    }
}

fn is_graphql_name(name: &str) -> bool {
    let mut characters = name.chars();
    characters.next().is_some_and(|first| first == '_' || first.is_ascii_alphabetic())
        && characters.all(|character| character == '_' || character.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_stop_growing_at_capacity() {
        let labels = OperationLabels::new(2);
        assert_eq!(&*labels.label(Some("First"), true), "First");
        assert_eq!(&*labels.label(Some("Second"), true), "Second");
        assert_eq!(&*labels.label(Some("Third"), true), "other");
        assert_eq!(&*labels.label(Some("First"), true), "First");
    }

    #[test]
    fn operation_labels_admit_only_executed_well_formed_names() {
        let labels = OperationLabels::new(10);
        assert_eq!(&*labels.label(Some("Rejected"), false), "other");
        assert_eq!(&*labels.label(Some("not a name"), true), "other");
        assert_eq!(&*labels.label(Some(&"a".repeat(101)), true), "other");
        assert_eq!(&*labels.label(None, true), "anonymous");
        // Once admitted, a name keeps its label even when a later request of it fails.
        assert_eq!(&*labels.label(Some("Portal"), true), "Portal");
        assert_eq!(&*labels.label(Some("Portal"), false), "Portal");
    }

    #[test]
    fn outcomes_follow_the_status_when_a_handler_did_not_say() {
        use axum::http::StatusCode;
        assert_eq!(RequestOutcome::from_status(StatusCode::UNAUTHORIZED), RequestOutcome::Unauthenticated);
        assert_eq!(RequestOutcome::from_status(StatusCode::TOO_MANY_REQUESTS), RequestOutcome::RateLimited);
        assert_eq!(RequestOutcome::from_status(StatusCode::UNSUPPORTED_MEDIA_TYPE), RequestOutcome::RequestError);
        assert_eq!(RequestOutcome::from_status(StatusCode::BAD_GATEWAY), RequestOutcome::InternalError);
        assert_eq!(RequestOutcome::from_status(StatusCode::OK), RequestOutcome::Success);
    }
}
