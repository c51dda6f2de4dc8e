//! Observability end to end: one connected trace from the gateway's request span through
//! the subgraph fetches and the subgraphs' own spans down to each SQL statement; request
//! and fetch metrics at `/metrics`; access-log lines that carry the request's trace id; and
//! a failing subgraph whose real error reaches the log while the client sees a masked one.
//!
//! Spans and log lines are captured by one global subscriber (an in-memory span exporter
//! and an in-memory log writer) shared by the tests of this module; each test finds its
//! own request by a unique operation name.

use std::{
    collections::HashMap,
    io::Write,
    sync::{Arc, Mutex, OnceLock},
};

use atrium_kit::telemetry::{LogFormat, SpanDetail};
use atrium_system_tests::{Backend, Stack};
use opentelemetry::{
    Value as AttributeValue,
    trace::{SpanId, SpanKind},
};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde_json::Value;

#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    fn lines(&self) -> Vec<Value> {
        let bytes = self.0.lock().expect("log buffer").clone();
        String::from_utf8_lossy(&bytes).lines().filter_map(|line| serde_json::from_str(line).ok()).collect()
    }
}

struct Captured {
    spans: InMemorySpanExporter,
    logs: LogBuffer,
}

/// Installs the capturing subscriber once for this test binary; every span is sampled.
fn captured() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let spans = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
        let logs = LogBuffer::default();
        let writer = logs.clone();
        let installed =
            atrium_kit::telemetry::install(provider, SpanDetail::Full, "info,sqlx=warn", LogFormat::Json, move || {
                writer.clone()
            });
        assert!(installed, "no other test in this binary installs a global subscriber");
        Captured { spans, logs }
    })
}

fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a AttributeValue> {
    span.attributes.iter().find(|pair| pair.key.as_str() == key).map(|pair| &pair.value)
}

fn attribute_text(span: &SpanData, key: &str) -> Option<String> {
    attribute(span, key).map(|value| value.as_str().into_owned())
}

fn tenant_id(slug: &str) -> String {
    atrium_kit::demo::tenant_id(slug).to_string()
}

/// The finished spans of the trace whose gateway request span served `operation`.
///
/// Spans are exported when they end, and a few end just after the response was sent (a
/// DataLoader's spawned batch task drops its span after handing over the rows), so this
/// waits — boundedly — until every span's parent has arrived too.
async fn trace_of(operation: &str) -> (SpanData, Vec<SpanData>) {
    let mut attempts = 0;
    loop {
        let spans = captured().spans.get_finished_spans().expect("finished spans");
        let root = spans.iter().find(|span| {
            span.span_kind == SpanKind::Server
                && span.parent_span_id == SpanId::INVALID
                && attribute_text(span, "graphql.operation.name").as_deref() == Some(operation)
        });
        if let Some(root) = root.cloned() {
            let trace: Vec<SpanData> =
                spans.into_iter().filter(|span| span.span_context.trace_id() == root.span_context.trace_id()).collect();
            let ids: Vec<SpanId> = trace.iter().map(|span| span.span_context.span_id()).collect();
            let closed =
                trace.iter().all(|span| span.parent_span_id == SpanId::INVALID || ids.contains(&span.parent_span_id));
            if closed || attempts == 200 {
                return (root, trace);
            }
        } else {
            assert!(attempts < 200, "no root request span for {operation}");
        }
        attempts += 1;
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// Whether `span` descends from a span satisfying `is_ancestor`, following parent ids.
fn descends_from(span: &SpanData, by_id: &HashMap<SpanId, &SpanData>, is_ancestor: impl Fn(&SpanData) -> bool) -> bool {
    let mut parent = span.parent_span_id;
    while let Some(current) = by_id.get(&parent) {
        if is_ancestor(current) {
            return true;
        }
        parent = current.parent_span_id;
    }
    false
}

/// A query named `operation` that crosses from finance to support.
fn tickets_probe(operation: &str) -> String {
    format!(
        "query {operation} {{ customerAccounts(first: 1) {{ nodes {{ name tickets {{ nodes {{ status }} }} }} }} }}"
    )
}

const TRACED_QUERY: &str = "query ObservabilityTraceProbe { customerAccounts(first: 2) { nodes { name \
    invoices { nodes { number } } tickets { nodes { priority } } } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_service_query_is_one_connected_trace_from_gateway_to_sql() {
    captured();
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let body = stack.query(&stack.token("ridgeline", &["csm"]), TRACED_QUERY).await;
    assert!(body.get("errors").is_none(), "{body:#}");

    let (root, trace) = trace_of("ObservabilityTraceProbe").await;
    let by_id: HashMap<SpanId, &SpanData> = trace.iter().map(|span| (span.span_context.span_id(), span)).collect();
    let ridgeline = tenant_id("ridgeline");
    assert_eq!(root.name, "POST /graphql");
    assert_eq!(attribute_text(&root, "tenant.id").as_deref(), Some(ridgeline.as_str()));
    assert_eq!(attribute_text(&root, "client.kind").as_deref(), Some("dashboard"));
    assert_eq!(attribute_text(&root, "graphql.operation.type").as_deref(), Some("query"));
    assert!(attribute(&root, "graphql.document").is_none(), "documents are recorded only when allowed");
    for stage in ["graphql.parse", "graphql.validate", "graphql.plan"] {
        assert!(trace.iter().any(|span| span.name == stage), "no {stage} span in the trace");
    }

    // Gateway → subgraph fetches, each naming its subgraph and the tenant.
    let fetches: Vec<&SpanData> = trace.iter().filter(|span| attribute(span, "subgraph.name").is_some()).collect();
    let mut fetched: Vec<String> = fetches.iter().filter_map(|span| attribute_text(span, "subgraph.name")).collect();
    fetched.sort();
    fetched.dedup();
    assert_eq!(fetched, ["finance", "support"]);
    for fetch in &fetches {
        assert_eq!(fetch.span_kind, SpanKind::Client);
        assert_eq!(attribute_text(fetch, "tenant.id").as_deref(), Some(ridgeline.as_str()));
        assert!(descends_from(fetch, &by_id, |span| span.span_context == root.span_context));
    }

    // Fetch → subgraph request span (continued from `traceparent`) → SQL statements.
    let fetch_ids: Vec<SpanId> = fetches.iter().map(|span| span.span_context.span_id()).collect();
    let subgraph_servers: Vec<&SpanData> = trace
        .iter()
        .filter(|span| span.span_kind == SpanKind::Server && fetch_ids.contains(&span.parent_span_id))
        .collect();
    assert_eq!(subgraph_servers.len(), fetches.len(), "every fetch continues in its subgraph");
    for server in &subgraph_servers {
        assert_eq!(attribute_text(server, "tenant.id").as_deref(), Some(ridgeline.as_str()));
        let sql_below = trace.iter().filter(|span| {
            attribute_text(span, "db.system.name").as_deref() == Some("sqlite")
                && descends_from(span, &by_id, |ancestor| ancestor.span_context == server.span_context)
        });
        let statements: Vec<String> = sql_below.filter_map(|span| attribute_text(span, "db.query.text")).collect();
        assert!(!statements.is_empty(), "no SQL span below {}", server.name);
        assert!(statements.iter().all(|sql| !sql.contains(&ridgeline)), "bound values stay out of spans");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_log_lines_carry_the_trace_id_of_their_request() {
    captured();
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let body = stack.query(&stack.token("ridgeline", &["csm"]), &tickets_probe("ObservabilityLogProbe")).await;
    assert!(body.get("errors").is_none(), "{body:#}");

    let (root, _) = trace_of("ObservabilityLogProbe").await;
    let trace_id = root.span_context.trace_id().to_string();
    let lines = captured().logs.lines();
    let access = lines
        .iter()
        .find(|line| line["target"] == "atrium::access" && line["operation"] == "ObservabilityLogProbe")
        .expect("the gateway's access-log line");
    assert_eq!(access["trace_id"], trace_id.as_str());
    assert_eq!(access["tenant"], tenant_id("ridgeline").as_str());
    assert_eq!(access["client_kind"], "dashboard");
    assert_eq!(access["status"], 200);
    assert_eq!(access["outcome"], "success");
    assert!(access["duration_ms"].is_number(), "{access}");
    // The subgraphs' access lines belong to the same trace.
    let subgraph_lines =
        lines.iter().filter(|line| line["target"] == "atrium::access" && line["trace_id"] == trace_id.as_str()).count();
    assert!(subgraph_lines >= 3, "gateway, finance and support each log the request ({subgraph_lines} lines)");
}

/// A subgraph that fails the way a broken deployment does: HTTP 502 with internal detail.
async fn failing_subgraph(detail: &'static str) -> String {
    let router = axum::Router::new()
        .route("/graphql", axum::routing::post(move || async move { (axum::http::StatusCode::BAD_GATEWAY, detail) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://127.0.0.1:{port}/graphql")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_subgraph_shows_its_real_error_in_the_log_and_a_masked_one_to_the_client() {
    captured();
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let detail = "upstream connect error: pg-primary-7.internal:5432 password authentication failed";
    let support = failing_subgraph(detail).await;
    let gateway = stack
        .start_gateway(|config| {
            config.subgraph_urls.insert("support".to_owned(), support);
        })
        .await;
    let query = &tickets_probe("ObservabilityFailureProbe");
    let (status, _, body) = stack.post_to(&gateway, &stack.token("ridgeline", &["csm"]), query).await;

    assert_eq!(status, 200, "{body:#}");
    let text = body.to_string();
    assert!(!text.contains("pg-primary-7") && !text.contains("password"), "internal detail leaked: {body:#}");
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|error| error["extensions"]["code"].as_str())
        .collect();
    assert!(!codes.is_empty(), "every error carries a code: {body:#}");

    let (root, trace) = trace_of("ObservabilityFailureProbe").await;
    let trace_id = root.span_context.trace_id().to_string();
    let logged =
        captured().logs.lines().into_iter().any(|line| {
            line["trace_id"] == trace_id.as_str() && line.to_string().contains("pg-primary-7.internal:5432")
        });
    assert!(logged, "the subgraph's real error is logged with the request's trace id");
    let failed_fetch = trace
        .iter()
        .find(|span| attribute_text(span, "subgraph.name").as_deref() == Some("support"))
        .expect("the support fetch span");
    assert_eq!(attribute_text(failed_fetch, "error.type").as_deref(), Some("http_status"));
    assert_eq!(
        attribute(failed_fetch, "http.response.status_code").and_then(|value| match value {
            AttributeValue::I64(code) => Some(*code),
            _ => None,
        }),
        Some(502)
    );
}

/// The `/metrics` text of the server whose GraphQL endpoint is `graphql_url`.
async fn scrape(stack: &Stack, graphql_url: &str) -> String {
    let url = graphql_url.replace("/graphql", "/metrics");
    let response = stack.client().get(&url).send().await.expect("metrics answer");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap_or_default().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    response.text().await.expect("metrics text")
}

/// Whether a sample line of `metric` carries every `key="value"` label of `labels`.
fn has_sample(text: &str, metric: &str, labels: &[(&str, &str)]) -> bool {
    text.lines().any(|line| {
        line.starts_with(&format!("{metric}{{"))
            && labels.iter().all(|(key, value)| line.contains(&format!(r#"{key}="{value}""#)))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_after_traffic_show_requests_by_tenant_and_operation_and_per_subgraph_latency() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let query = &tickets_probe("ObservabilityMetricsProbe");
    let token = stack.token("ridgeline", &["csm"]);
    stack.query(&token, query).await;
    stack.query(&token, query).await;

    let gateway = scrape(&stack, &stack.gateway_url).await;
    let ridgeline = tenant_id("ridgeline");
    let request_labels = [
        ("tenant", ridgeline.as_str()),
        ("client_kind", "dashboard"),
        ("operation", "ObservabilityMetricsProbe"),
        ("outcome", "success"),
    ];
    assert!(has_sample(&gateway, "atrium_graphql_request_duration_seconds_count", &request_labels), "{gateway}");
    assert!(has_sample(&gateway, "atrium_graphql_request_duration_seconds_bucket", &request_labels), "{gateway}");
    for subgraph in ["finance", "support"] {
        let labels = [("subgraph", subgraph), ("outcome", "ok")];
        assert!(has_sample(&gateway, "atrium_subgraph_fetch_duration_seconds_count", &labels), "{gateway}");
    }
    assert!(has_sample(&gateway, "atrium_plan_cache_lookups_total", &[("result", "hit")]), "{gateway}");
    assert!(has_sample(&gateway, "atrium_plan_cache_lookups_total", &[("result", "miss")]), "{gateway}");

    let finance_url = &stack.subgraph_urls.iter().find(|(name, _)| *name == "finance").expect("finance").1;
    let finance = scrape(&stack, finance_url).await;
    assert!(
        has_sample(&finance, "atrium_graphql_request_duration_seconds_count", &[("tenant", ridgeline.as_str())]),
        "{finance}"
    );
    assert!(has_sample(&finance, "db_client_connection_count", &[("db_client_connection_state", "idle")]), "{finance}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_binary_answers_health_and_readiness() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let urls =
        std::iter::once(stack.gateway_url.as_str()).chain(stack.subgraph_urls.iter().map(|(_, url)| url.as_str()));
    for graphql_url in urls {
        for (path, expected) in [("/health", None), ("/ready", Some("ready"))] {
            let url = graphql_url.replace("/graphql", path);
            let response = stack.client().get(&url).send().await.expect("answers");
            assert_eq!(response.status().as_u16(), 200, "{url}");
            if let Some(expected) = expected {
                let body: Value = response.json().await.expect("JSON readiness");
                assert_eq!(body["status"], expected, "{url}: {body}");
            }
        }
    }
}
