//! One trace from a mutation through the outbox relay to a consumer's effect. A test
//! binary of its own: it installs a thread-local subscriber, and tracing caches whether a
//! span site is enabled across threads, so spans first met by other tests running without
//! one would stay disabled here.

use std::{sync::Arc, time::Duration};

use atrium_kit::{
    ContextKey, TenantContext, TenantTransaction,
    changes::{self, ChangeRelay, ChangesConfig, outbox::record_event},
    events::{self, DomainEvent, EventConsumer, EventHandler, EventsConfig, HandlerError, HttpTransport, Subject},
    migration_steps,
    startup::prepare_database,
    telemetry::Metrics,
    testing::{context_for, sqlite_url},
};
use futures::future::BoxFuture;
use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, MigratorTrait, SchemaManager};
use tokio::net::TcpListener;
use uuid::Uuid;

struct CreateTables;

impl MigrationName for CreateTables {
    fn name(&self) -> &str {
        "m20261214_000001_backbone"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for CreateTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        migration_steps::create_event_backbone_tables(manager).await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

struct Backbone;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Backbone {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateTables)]
    }
}

async fn produce_one(database: &DatabaseConnection, event: &DomainEvent) {
    let tx = TenantTransaction::begin(database, &TenantContext::automation(event.tenant_id, "test")).await.unwrap();
    record_event(&tx, event).await.unwrap();
    tx.commit().await.unwrap();
}

/// Records the trace the consumer's effect runs in.
#[derive(Default)]
struct TraceRecordingHandler {
    trace_ids: std::sync::Mutex<Vec<String>>,
}

impl EventHandler for TraceRecordingHandler {
    fn wants(&self, _event_type: &str) -> bool {
        true
    }

    fn handle<'t>(
        &'t self,
        _tx: &'t TenantTransaction,
        _event: &'t DomainEvent,
    ) -> BoxFuture<'t, Result<(), HandlerError>> {
        use opentelemetry::trace::TraceContextExt as _;
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
        let trace_id = tracing::Span::current().context().span().span_context().trace_id().to_string();
        self.trace_ids.lock().unwrap().push(trace_id);
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test(flavor = "current_thread")]
async fn one_trace_runs_from_the_mutation_through_the_relay_to_the_consumers_effect() {
    use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
    use tracing::Instrument as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    use tracing_subscriber::layer::SubscriberExt as _;

    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    // The test runs on one thread, so the relay, the server and the consumer all use it.
    let _guard = tracing::subscriber::set_default(subscriber);

    let database = prepare_database::<Backbone>(&sqlite_url("event-trace"), None, 2, None).await.unwrap();
    let handler = Arc::new(TraceRecordingHandler::default());
    let consumer = Arc::new(EventConsumer::new("tests", database.clone(), handler.clone()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let router = events::http::router(Some(consumer), vec![ContextKey::development()]);
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });

    let mutation = tracing::info_span!("mutation");
    let mutation_trace = mutation.context().span().span_context().trace_id().to_string();
    let context = context_for("ridgeline", "tenant_admin");
    let subject = Subject { entity_type: "Widget".into(), id: Uuid::now_v7(), version: 1 };
    let produced = DomainEvent::new(&context, "test.widget.moved", subject);
    async { produce_one(&database, &produced).await }.instrument(mutation).await;

    let pending = changes::pending_for(&database, "http:tests", true, 10).await.unwrap();
    let envelope: DomainEvent = serde_json::from_str(pending[0].envelope.as_deref().unwrap()).unwrap();
    let traceparent = envelope.traceparent.expect("the envelope carries the mutation's trace context");
    assert!(traceparent.contains(&mutation_trace), "{traceparent} vs {mutation_trace}");

    let subscriber = events::EventSubscriber { name: "tests".into(), url: format!("http://127.0.0.1:{port}") };
    let transport = Arc::new(HttpTransport::new(&[subscriber], ContextKey::development()).unwrap());
    let relay = ChangeRelay::new(
        database.clone(),
        &ChangesConfig::default(),
        &[ContextKey::development()],
        &Metrics::local("t"),
    )
    .unwrap()
    .with_event_transport(transport, &EventsConfig::default());
    for _ in 0..50 {
        relay.publish_events_once().await.unwrap();
        if changes::pending_changes(&database, 10).await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(*handler.trace_ids.lock().unwrap(), vec![mutation_trace]);
    server.abort();
}
