//! The event backbone against real databases and a real Redis, with faults: a consumer
//! that is down while 500 events are produced, a relay killed around publication, replayed
//! deliveries, Redis cut off behind a TCP proxy, poison events and out-of-order subjects.
//! Effects are rows of a table without any uniqueness, so a double effect would be counted.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use atrium_kit::{
    ContextKey, TenantContext, TenantTransaction,
    changes::{self, ChangeRelay, ChangesConfig, outbox::record_event},
    events::{
        self, DomainEvent, EventConsumer, EventHandler, EventTransport, EventsConfig, HandlerError, HttpTransport,
        Processed, Subject, TransportError,
        http::EVENTS_PATH,
        redis_streams::{RedisEventSource, RedisStreamsTransport, stream_key},
    },
    migration_steps,
    startup::prepare_database,
    telemetry::Metrics,
    testing::{TestDatabase, context_for, redis_url, sqlite_url},
};
use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};
use sea_orm_migration::{MigrationName, MigrationTrait, MigratorTrait, SchemaManager};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

struct CreateTables;

impl MigrationName for CreateTables {
    fn name(&self) -> &str {
        "m20261214_000001_effects"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for CreateTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE TABLE effect (tenant_id uuid NOT NULL, event_id uuid NOT NULL, version bigint NOT NULL)",
            )
            .await?;
        atrium_kit::rls::enable_tenant_isolation(manager, "effect").await?;
        atrium_kit::rls::grant_runtime_role(manager).await?;
        migration_steps::create_event_backbone_tables(manager).await?;
        // Idempotent: a second run changes nothing.
        migration_steps::create_event_backbone_tables(manager).await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

struct Effects;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Effects {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateTables)]
    }
}

/// A database with the outbox (producer side) and the consumer tables and effects.
struct Fixture {
    database: DatabaseConnection,
    _postgres: Option<TestDatabase>,
}

async fn sqlite() -> Fixture {
    let database = prepare_database::<Effects>(&sqlite_url("events"), None, 4, None).await.expect("sqlite");
    Fixture { database, _postgres: None }
}

async fn postgres(label: &str) -> Option<Fixture> {
    let postgres = TestDatabase::create(label).await?;
    let database =
        prepare_database::<Effects>(&postgres.runtime_url, Some(&postgres.owner_url), 4, None).await.expect("postgres");
    Some(Fixture { database, _postgres: Some(postgres) })
}

/// Applies `test.*` events as one effect row each; `data.behaviour` makes an event
/// poison, always failing, or failing a few times first.
struct CountingHandler {
    flaky_failures: AtomicUsize,
    /// Calls of `handle`, whatever became of them.
    calls: AtomicUsize,
}

impl CountingHandler {
    fn new() -> Arc<Self> {
        Arc::new(CountingHandler { flaky_failures: AtomicUsize::new(0), calls: AtomicUsize::new(0) })
    }
}

impl EventHandler for CountingHandler {
    fn wants(&self, event_type: &str) -> bool {
        event_type.starts_with("test.")
    }

    fn handle<'t>(
        &'t self,
        tx: &'t TenantTransaction,
        event: &'t DomainEvent,
    ) -> BoxFuture<'t, Result<(), HandlerError>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            match event.data.get("behaviour").and_then(serde_json::Value::as_str) {
                Some("poison") => return Err(HandlerError::Poison("unreadable widget".into())),
                Some("failing") => return Err(HandlerError::Retryable("widget service unavailable".into())),
                Some("flaky") if self.flaky_failures.fetch_add(1, Ordering::SeqCst) < 2 => {
                    return Err(HandlerError::Retryable("not yet".into()));
                }
                _ => {}
            }
            let sql = "INSERT INTO effect (tenant_id, event_id, version) VALUES ($1, $2, $3)";
            let values = vec![tx.tenant_id().into(), event.id.into(), event.subject.version.into()];
            tx.connection()
                .execute_raw(Statement::from_sql_and_values(tx.connection().get_database_backend(), sql, values))
                .await?;
            Ok(())
        })
    }
}

fn consumer(database: &DatabaseConnection, metrics: &Metrics) -> Arc<EventConsumer> {
    consumer_with(database, metrics, CountingHandler::new())
}

fn consumer_with(
    database: &DatabaseConnection,
    metrics: &Metrics,
    handler: Arc<CountingHandler>,
) -> Arc<EventConsumer> {
    Arc::new(
        EventConsumer::new("tests", database.clone(), handler)
            .with_max_attempts(3)
            .with_retry_delay(Duration::from_millis(5))
            .with_metrics(metrics),
    )
}

const TENANTS: [&str; 2] = ["ridgeline", "helix"];

fn event(context: &TenantContext, subject_id: Uuid, version: i64, data: serde_json::Value) -> DomainEvent {
    let subject = Subject { entity_type: "Widget".into(), id: subject_id, version };
    let mut event = DomainEvent::new(context, "test.widget.moved", subject).with_data(data);
    event.producer = "tests".into();
    event
}

/// Commits `count` events (alternating tenants, each about its own widget) to the outbox.
async fn produce(database: &DatabaseConnection, count: usize) -> Vec<DomainEvent> {
    let mut produced = Vec::with_capacity(count);
    for index in 0..count {
        let context = context_for(TENANTS[index % 2], "tenant_admin");
        let event = event(&context, Uuid::now_v7(), 1, serde_json::json!({ "n": index }));
        produce_one(database, &event).await;
        produced.push(event);
    }
    produced
}

async fn produce_one(database: &DatabaseConnection, event: &DomainEvent) {
    let tx = TenantTransaction::begin(database, &TenantContext::automation(event.tenant_id, "test")).await.unwrap();
    record_event(&tx, event).await.unwrap();
    tx.commit().await.unwrap();
}

/// Effect rows of every tenant (counted tenant by tenant, as RLS requires).
async fn effects(database: &DatabaseConnection) -> i64 {
    let mut total = 0;
    for slug in TENANTS {
        let tx = TenantTransaction::begin(database, &context_for(slug, "tenant_admin")).await.unwrap();
        let row = tx
            .connection()
            .query_one_raw(Statement::from_sql_and_values(
                tx.connection().get_database_backend(),
                "SELECT COUNT(*) AS n FROM effect WHERE tenant_id = $1",
                vec![tx.tenant_id().into()],
            ))
            .await
            .unwrap()
            .unwrap();
        total += row.try_get::<i64>("", "n").unwrap();
    }
    total
}

async fn outbox_rows(database: &DatabaseConnection) -> usize {
    changes::pending_changes(database, 100_000).await.unwrap().len()
}

/// Runs `round` until the outbox is empty (or fails the test after a while).
async fn drain(relay: &ChangeRelay, database: &DatabaseConnection) {
    for _ in 0..200 {
        if let Err(error) = relay.publish_events_once().await {
            panic!("publication failed: {error}");
        }
        if outbox_rows(database).await == 0 {
            return;
        }
    }
    panic!("the outbox did not drain");
}

async fn wait_for_effects(database: &DatabaseConnection, expected: i64) {
    for _ in 0..600 {
        if effects(database).await >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A moment longer, so a double effect would have time to show.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(effects(database).await, expected);
}

fn relay(database: &DatabaseConnection, transport: Arc<dyn EventTransport>, metrics: &Metrics) -> ChangeRelay {
    let config = ChangesConfig { batch_size: 100, poll_interval_ms: 20, ..ChangesConfig::default() };
    ChangeRelay::new(database.clone(), &config, &[ContextKey::development()], metrics)
        .expect("relay")
        .with_event_transport(transport, &EventsConfig::default())
}

/// Serves the [`EVENTS_PATH`] route on `listener`.
fn serve_events(listener: TcpListener, consumer: Option<Arc<EventConsumer>>) -> tokio::task::JoinHandle<()> {
    let router = events::http::router(consumer, vec![ContextKey::development()]);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    })
}

/// A port nothing listens on yet (bound, noted, released).
async fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port()
}

fn http_transport(port: u16) -> Arc<HttpTransport> {
    let subscriber = events::EventSubscriber { name: "tests".into(), url: format!("http://127.0.0.1:{port}") };
    Arc::new(HttpTransport::new(&[subscriber], ContextKey::development()).unwrap())
}

// ---------------------------------------------------------------------------------------
// HTTP transport

async fn assert_http_consumer_down_then_back_applies_every_effect_once(fixture: Fixture) {
    let database = &fixture.database;
    let metrics = Metrics::local("events-test");
    let port = free_port().await;
    let transport = http_transport(port);
    let relay = relay(database, transport.clone(), &metrics);

    let produced = produce(database, 500).await;
    assert!(relay.publish_events_once().await.is_err(), "nobody listens yet");
    assert_eq!(outbox_rows(database).await, 500, "a relay that cannot deliver keeps the rows");
    assert!(relay.measure_lag().await.unwrap() > Duration::ZERO);

    let server =
        serve_events(TcpListener::bind(("127.0.0.1", port)).await.unwrap(), Some(consumer(database, &metrics)));
    drain(&relay, database).await;
    assert_eq!(effects(database).await, 500);
    assert_eq!(relay.measure_lag().await.unwrap(), Duration::ZERO);

    // A replay of everything (an answer lost after the consumer committed) changes nothing.
    for batch in produced.chunks(100) {
        transport.publish("http:tests", batch).await.unwrap();
    }
    assert_eq!(effects(database).await, 500);

    let text = metrics.render();
    assert!(
        text.contains("atrium_events_published_total{destination=\"http:tests\",type=\"test.widget.moved\"} 500"),
        "{text}"
    );
    assert!(
        text.contains("atrium_events_consumed_total{outcome=\"applied\",type=\"test.widget.moved\"} 500"),
        "{text}"
    );
    assert!(
        text.contains("atrium_events_consumed_total{outcome=\"duplicate\",type=\"test.widget.moved\"} 500"),
        "{text}"
    );
    assert!(text.contains("atrium_outbox_lag_seconds"), "{text}");
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_consumer_down_then_back_applies_every_effect_once_on_sqlite() {
    assert_http_consumer_down_then_back_applies_every_effect_once(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_consumer_down_then_back_applies_every_effect_once_on_postgres() {
    let Some(fixture) = postgres("events_http").await else { return };
    assert_http_consumer_down_then_back_applies_every_effect_once(fixture).await;
}

/// Publishes through `inner`, then never answers: a relay killed after the destination
/// took the batch but before it recorded that.
struct HangsAfterPublishing {
    inner: Arc<dyn EventTransport>,
    published: AtomicBool,
}

impl EventTransport for HangsAfterPublishing {
    fn destinations(&self) -> Vec<String> {
        self.inner.destinations()
    }

    fn publish<'a>(
        &'a self,
        destination: &'a str,
        events: &'a [DomainEvent],
    ) -> BoxFuture<'a, Result<(), TransportError>> {
        Box::pin(async move {
            self.inner.publish(destination, events).await?;
            self.published.store(true, Ordering::SeqCst);
            futures::future::pending::<()>().await;
            Ok(())
        })
    }
}

async fn assert_a_killed_relay_loses_nothing_and_duplicates_no_effect(fixture: Fixture) {
    let database = &fixture.database;
    let metrics = Metrics::local("events-test");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = serve_events(listener, Some(consumer(database, &metrics)));

    // Killed between commit and publish: the events are committed, no relay runs.
    produce(database, 20).await;
    assert_eq!(outbox_rows(database).await, 20);

    // Killed between publish and recording it.
    let hanging = Arc::new(HangsAfterPublishing { inner: http_transport(port), published: AtomicBool::new(false) });
    let handle = relay(database, hanging.clone(), &metrics).spawn();
    for _ in 0..200 {
        if hanging.published.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(hanging.published.load(Ordering::SeqCst));
    handle.stop().await;
    assert_eq!(effects(database).await, 20);
    assert_eq!(outbox_rows(database).await, 20, "unrecorded deliveries stay in the outbox");

    // The next relay delivers again; the consumer's inbox absorbs the repetition.
    let handle = relay(database, http_transport(port), &metrics).spawn();
    for _ in 0..200 {
        if outbox_rows(database).await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    handle.stop().await;
    assert_eq!(outbox_rows(database).await, 0);
    assert_eq!(effects(database).await, 20);
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_relay_loses_nothing_and_duplicates_no_effect_on_sqlite() {
    assert_a_killed_relay_loses_nothing_and_duplicates_no_effect(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_relay_loses_nothing_and_duplicates_no_effect_on_postgres() {
    let Some(fixture) = postgres("events_killed").await else { return };
    assert_a_killed_relay_loses_nothing_and_duplicates_no_effect(fixture).await;
}

// ---------------------------------------------------------------------------------------
// Consumer: poison events, retries, ordering

async fn assert_poison_events_are_parked_while_the_rest_flow(fixture: Fixture) {
    let database = &fixture.database;
    let metrics = Metrics::local("events-test");
    let consumer = consumer(database, &metrics);
    let context = context_for("ridgeline", "tenant_admin");
    let poison = event(&context, Uuid::now_v7(), 1, serde_json::json!({ "behaviour": "poison" }));
    let failing = event(&context, Uuid::now_v7(), 1, serde_json::json!({ "behaviour": "failing" }));
    let flaky = event(&context, Uuid::now_v7(), 1, serde_json::json!({ "behaviour": "flaky" }));
    let fine = event(&context, Uuid::now_v7(), 1, serde_json::json!({}));
    assert_eq!(consumer.process(&poison).await.unwrap(), Processed::Parked);
    assert_eq!(consumer.process(&failing).await.unwrap(), Processed::Parked);
    assert_eq!(consumer.process(&flaky).await.unwrap(), Processed::Applied, "retried until it succeeds");
    assert_eq!(consumer.process(&fine).await.unwrap(), Processed::Applied);
    assert_eq!(effects(database).await, 2);

    let tx = TenantTransaction::begin(database, &context).await.unwrap();
    let parked = events::list_dead_letters(&tx, None, 10).await.unwrap();
    drop(tx);
    let mut parked_ids: Vec<Uuid> = parked.iter().map(|letter| letter.event_id).collect();
    parked_ids.sort();
    let mut expected = vec![poison.id, failing.id];
    expected.sort();
    assert_eq!(parked_ids, expected);
    let failing_letter = parked.iter().find(|letter| letter.event_id == failing.id).unwrap();
    assert_eq!(failing_letter.attempts, 3, "parked after max_attempts");
    assert!(failing_letter.error.contains("widget service unavailable"));
    let poison_letter = parked.iter().find(|letter| letter.event_id == poison.id).unwrap();
    assert_eq!(poison_letter.attempts, 1, "poison is parked at once");
    assert_eq!(serde_json::from_str::<DomainEvent>(&poison_letter.envelope).unwrap(), poison);

    // Another tenant sees none of them.
    let other = TenantTransaction::begin(database, &context_for("helix", "tenant_admin")).await.unwrap();
    assert!(events::list_dead_letters(&other, None, 10).await.unwrap().is_empty());
    drop(other);

    assert_eq!(events::count_dead_letters(database).await.unwrap(), 2);
    assert!(metrics.render().contains("atrium_events_dead_letters{consumer=\"tests\"} 2"), "{}", metrics.render());

    // Unwanted types are acknowledged without a transaction or effect.
    let mut unwanted = fine.clone();
    unwanted.id = Uuid::now_v7();
    unwanted.event_type = "other.widget.moved".into();
    assert_eq!(consumer.process(&unwanted).await.unwrap(), Processed::Ignored);
    assert_eq!(effects(database).await, 2);
}

#[tokio::test]
async fn poison_events_are_parked_while_the_rest_flow_on_sqlite() {
    assert_poison_events_are_parked_while_the_rest_flow(sqlite().await).await;
}

#[tokio::test]
async fn poison_events_are_parked_while_the_rest_flow_on_postgres() {
    let Some(fixture) = postgres("events_poison").await else { return };
    assert_poison_events_are_parked_while_the_rest_flow(fixture).await;
}

async fn assert_older_subject_versions_are_skipped(fixture: Fixture) {
    let database = &fixture.database;
    let consumer = consumer(database, &Metrics::local("events-test"));
    let context = context_for("helix", "tenant_admin");
    let widget = Uuid::now_v7();
    let newer = event(&context, widget, 3, serde_json::json!({}));
    let older = event(&context, widget, 2, serde_json::json!({}));
    let same = event(&context, widget, 3, serde_json::json!({}));
    assert_eq!(consumer.process(&newer).await.unwrap(), Processed::Applied);
    assert_eq!(consumer.process(&older).await.unwrap(), Processed::Stale);
    assert_eq!(consumer.process(&older).await.unwrap(), Processed::Duplicate, "a stale event is recorded too");
    assert_eq!(consumer.process(&same).await.unwrap(), Processed::Applied, "one change may emit several events");
    assert_eq!(effects(database).await, 2);

    // Cross-service commands are idempotent on their key, not ordered by their subject.
    let subject = Subject { entity_type: "Widget".into(), id: widget, version: 1 };
    let mut command = DomainEvent::command(&context, "tests", "test", "do", subject, "k1", serde_json::json!({}));
    command.event_type = "test.command.do".into();
    assert_eq!(consumer.process(&command).await.unwrap(), Processed::Applied);
    assert_eq!(effects(database).await, 3);
}

#[tokio::test]
async fn older_subject_versions_are_skipped_on_sqlite() {
    assert_older_subject_versions_are_skipped(sqlite().await).await;
}

#[tokio::test]
async fn older_subject_versions_are_skipped_on_postgres() {
    let Some(fixture) = postgres("events_order").await else { return };
    assert_older_subject_versions_are_skipped(fixture).await;
}

async fn assert_a_poison_event_in_a_batch_is_parked_alone(fixture: Fixture) {
    let database = &fixture.database;
    let metrics = Metrics::local("events-test");
    let consumer = consumer(database, &metrics);
    let ridgeline = context_for("ridgeline", "tenant_admin");
    let helix = context_for("helix", "tenant_admin");
    let fine = |context: &TenantContext| event(context, Uuid::now_v7(), 1, serde_json::json!({}));
    let poison = event(&ridgeline, Uuid::now_v7(), 1, serde_json::json!({ "behaviour": "poison" }));
    let mut unwanted = fine(&helix);
    unwanted.event_type = "other.widget.moved".into();
    let batch = vec![
        fine(&ridgeline),
        fine(&helix),
        fine(&ridgeline),
        poison.clone(),
        unwanted,
        fine(&ridgeline),
        fine(&helix),
        fine(&ridgeline),
    ];
    let outcomes = consumer.process_batch(&batch).await.unwrap();
    use Processed::{Applied, Duplicate, Ignored, Parked};
    assert_eq!(outcomes, vec![Applied, Applied, Applied, Parked, Ignored, Applied, Applied, Applied]);
    assert_eq!(effects(database).await, 6, "every other event applied exactly once");
    let tx = TenantTransaction::begin(database, &ridgeline).await.unwrap();
    let parked = events::list_dead_letters(&tx, None, 10).await.unwrap();
    drop(tx);
    assert_eq!(parked.iter().map(|letter| letter.event_id).collect::<Vec<_>>(), vec![poison.id]);
    assert_eq!(parked[0].attempts, 1, "poison is parked at once");
    assert_eq!(events::count_dead_letters(database).await.unwrap(), 1);

    // Delivered again: the applied ones are known, the poison one is parked again.
    let outcomes = consumer.process_batch(&batch).await.unwrap();
    assert_eq!(outcomes, vec![Duplicate, Duplicate, Duplicate, Parked, Ignored, Duplicate, Duplicate, Duplicate]);
    assert_eq!(effects(database).await, 6);
    assert_eq!(events::count_dead_letters(database).await.unwrap(), 1);
}

#[tokio::test]
async fn a_poison_event_in_a_batch_is_parked_alone_on_sqlite() {
    assert_a_poison_event_in_a_batch_is_parked_alone(sqlite().await).await;
}

#[tokio::test]
async fn a_poison_event_in_a_batch_is_parked_alone_on_postgres() {
    let Some(fixture) = postgres("events_batch_poison").await else { return };
    assert_a_poison_event_in_a_batch_is_parked_alone(fixture).await;
}

async fn assert_a_batch_orders_by_subject_version_like_single_events(fixture: Fixture) {
    let database = &fixture.database;
    let handler = CountingHandler::new();
    let consumer = consumer_with(database, &Metrics::local("events-test"), handler.clone());
    let context = context_for("helix", "tenant_admin");
    let widget = Uuid::now_v7();
    let applied_before = event(&context, widget, 2, serde_json::json!({}));
    assert_eq!(consumer.process(&applied_before).await.unwrap(), Processed::Applied);

    let newer = event(&context, widget, 3, serde_json::json!({}));
    let older = event(&context, widget, 1, serde_json::json!({}));
    let same = event(&context, widget, 3, serde_json::json!({}));
    let older_than_this_batch = event(&context, widget, 2, serde_json::json!({}));
    let subject = Subject { entity_type: "Widget".into(), id: widget, version: 1 };
    let mut command = DomainEvent::command(&context, "tests", "test", "do", subject, "k1", serde_json::json!({}));
    command.event_type = "test.command.do".into();
    let batch = vec![applied_before.clone(), newer.clone(), older, same, newer, older_than_this_batch, command];
    use Processed::{Applied, Duplicate, Stale};
    assert_eq!(
        consumer.process_batch(&batch).await.unwrap(),
        vec![Duplicate, Applied, Stale, Applied, Duplicate, Stale, Applied]
    );
    assert_eq!(effects(database).await, 4);
    assert_eq!(handler.calls.load(Ordering::SeqCst), 4, "the batch committed as one, without falling back");
    // The version the batch applied holds for later events too.
    let late = event(&context, widget, 2, serde_json::json!({}));
    assert_eq!(consumer.process(&late).await.unwrap(), Processed::Stale);
    assert_eq!(consumer.process_batch(&batch).await.unwrap(), vec![Duplicate; batch.len()]);
    assert_eq!(effects(database).await, 4);
}

#[tokio::test]
async fn a_batch_orders_by_subject_version_like_single_events_on_sqlite() {
    assert_a_batch_orders_by_subject_version_like_single_events(sqlite().await).await;
}

#[tokio::test]
async fn a_batch_orders_by_subject_version_like_single_events_on_postgres() {
    let Some(fixture) = postgres("events_batch_order").await else { return };
    assert_a_batch_orders_by_subject_version_like_single_events(fixture).await;
}

#[tokio::test]
async fn the_events_route_refuses_unsigned_batches_and_answers_503_without_a_handler() {
    let database = sqlite().await.database;
    let body = serde_json::to_vec(&events::EventBatch { events: vec![] }).unwrap();
    let client = reqwest::Client::new();

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}{EVENTS_PATH}", listener.local_addr().unwrap());
    let server = serve_events(listener, Some(consumer(&database, &Metrics::local("t"))));
    let unsigned = client.post(&url).body(body.clone()).send().await.unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);
    let forged = atrium_kit::changes::sign_batch(
        &ContextKey { id: ContextKey::development().id, secret: "forged".into() },
        &body,
        chrono::Utc::now(),
    );
    let refused = client.post(&url).header(changes::SIGNATURE_HEADER, forged).body(body.clone()).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    server.abort();

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = serve_events(listener, None);
    let context = context_for("ridgeline", "tenant_admin");
    let one = event(&context, Uuid::now_v7(), 1, serde_json::json!({}));
    let answer = http_transport(port).publish("http:tests", &[one]).await;
    assert!(matches!(answer, Err(TransportError::Refused { status: 503 })), "{answer:?}");
    server.abort();
}

// ---------------------------------------------------------------------------------------
// Redis Streams

fn redis_config(url: &str, prefix: &str) -> EventsConfig {
    EventsConfig {
        redis_url: Some(url.to_owned()),
        key_prefix: prefix.to_owned(),
        consume_from: vec!["tests".into()],
        poll_interval_ms: 50,
        reclaim_idle_ms: 300,
        ..EventsConfig::default()
    }
}

fn unique_prefix() -> String {
    format!("atrium-test-{}:", Uuid::new_v4().simple())
}

async fn redis_command(url: &str, args: &[&str]) -> redis::Value {
    let client = redis::Client::open(url).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let mut command = redis::cmd(args[0]);
    for arg in &args[1..] {
        command.arg(*arg);
    }
    command.query_async(&mut connection).await.unwrap()
}

async fn assert_redis_consumer_stopped_then_restarted_applies_every_effect_once(fixture: Fixture, url: String) {
    let database = &fixture.database;
    let metrics = Metrics::local("events-test");
    let config = redis_config(&url, &unique_prefix());
    let relay = relay(database, Arc::new(RedisStreamsTransport::new(&config).unwrap()), &metrics);

    // The consumer is down (never started) while 500 events are produced and published.
    produce(database, 500).await;
    drain(&relay, database).await;
    assert_eq!(effects(database).await, 0);

    let source = RedisEventSource::new(&config, consumer(database, &metrics), &metrics).unwrap().spawn();
    wait_for_effects(database, 500).await;
    source.stop().await;

    // A replayed stream (the group rewound to its start) applies nothing twice.
    let stream = stream_key(&config.key_prefix, "tests");
    redis_command(&url, &["XGROUP", "SETID", &stream, "tests", "0"]).await;
    let source = RedisEventSource::new(&config, consumer(database, &metrics), &metrics).unwrap().spawn();
    for _ in 0..200 {
        if metrics
            .render()
            .contains("atrium_events_consumed_total{outcome=\"duplicate\",type=\"test.widget.moved\"} 500")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    source.stop().await;
    assert!(metrics.render().contains("outcome=\"duplicate\",type=\"test.widget.moved\"} 500"), "{}", metrics.render());
    assert_eq!(effects(database).await, 500);
    redis_command(&url, &["DEL", &stream]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_consumer_stopped_then_restarted_applies_every_effect_once_on_sqlite() {
    let Some(url) = redis_url().await else { return };
    assert_redis_consumer_stopped_then_restarted_applies_every_effect_once(sqlite().await, url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_consumer_stopped_then_restarted_applies_every_effect_once_on_postgres() {
    let Some(url) = redis_url().await else { return };
    let Some(fixture) = postgres("events_redis").await else { return };
    assert_redis_consumer_stopped_then_restarted_applies_every_effect_once(fixture, url).await;
}

async fn assert_entries_of_a_crashed_consumer_are_reclaimed(fixture: Fixture, url: String) {
    let database = &fixture.database;
    let metrics = Metrics::local("events-test");
    let config = redis_config(&url, &unique_prefix());
    let stream = stream_key(&config.key_prefix, "tests");
    let relay = relay(database, Arc::new(RedisStreamsTransport::new(&config).unwrap()), &metrics);
    produce(database, 30).await;
    drain(&relay, database).await;

    // Another instance of the group read everything, then crashed without acknowledging.
    redis_command(&url, &["XGROUP", "CREATE", &stream, "tests", "0", "MKSTREAM"]).await;
    redis_command(&url, &["XREADGROUP", "GROUP", "tests", "crashed", "COUNT", "100", "STREAMS", &stream, ">"]).await;

    let source = RedisEventSource::new(&config, consumer(database, &metrics), &metrics).unwrap().spawn();
    wait_for_effects(database, 30).await;
    source.stop().await;
    let pending = redis_command(&url, &["XPENDING", &stream, "tests"]).await;
    let redis::Value::Array(summary) = pending else { panic!("XPENDING: {pending:?}") };
    assert_eq!(summary[0], redis::Value::Int(0), "everything was acknowledged");
    redis_command(&url, &["DEL", &stream]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_of_a_crashed_consumer_are_reclaimed_on_sqlite() {
    let Some(url) = redis_url().await else { return };
    assert_entries_of_a_crashed_consumer_are_reclaimed(sqlite().await, url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_of_a_crashed_consumer_are_reclaimed_on_postgres() {
    let Some(url) = redis_url().await else { return };
    let Some(fixture) = postgres("events_reclaim").await else { return };
    assert_entries_of_a_crashed_consumer_are_reclaimed(fixture, url).await;
}

/// A TCP proxy in front of Redis that can be cut (every connection closed, new ones
/// refused) and restored.
struct CuttableProxy {
    port: u16,
    open: Arc<AtomicBool>,
    generation: Arc<AtomicUsize>,
}

impl CuttableProxy {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(AtomicBool::new(true));
        let generation = Arc::new(AtomicUsize::new(0));
        let (accept_open, accept_generation) = (open.clone(), generation.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else { return };
                if !accept_open.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                let generation = accept_generation.clone();
                let born = generation.load(Ordering::SeqCst);
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&target).await else { return };
                    let copy = tokio::io::copy_bidirectional(&mut inbound, &mut outbound);
                    let cut = async {
                        while generation.load(Ordering::SeqCst) == born {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    };
                    tokio::select! {
                        _ = copy => {}
                        () = cut => {}
                    }
                });
            }
        });
        CuttableProxy { port, open, generation }
    }

    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

async fn assert_writes_commit_while_redis_is_down_and_drain_after(fixture: Fixture, url: String) {
    let database = &fixture.database;
    let metrics = Metrics::local("events-test");
    let target = url.trim_start_matches("redis://").trim_end_matches('/').to_owned();
    let proxy = CuttableProxy::start(target).await;
    let proxied = format!("redis://127.0.0.1:{}/", proxy.port);
    let config = redis_config(&proxied, &unique_prefix());
    let handle = relay(database, Arc::new(RedisStreamsTransport::new(&config).unwrap()), &metrics).spawn();
    let source = RedisEventSource::new(&config, consumer(database, &metrics), &metrics).unwrap().spawn();

    produce(database, 10).await;
    wait_for_effects(database, 10).await;

    proxy.cut();
    // The proxy notices the cut on its open connections within 10 ms; writing before then
    // would let the relay publish a batch through a connection that is about to close.
    tokio::time::sleep(Duration::from_millis(200)).await;
    produce(database, 100).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let waiting = outbox_rows(database).await;
    assert_eq!(waiting, 100, "writes commit and the outbox grows while Redis is unreachable");
    assert_eq!(effects(database).await, 10);

    proxy.restore();
    wait_for_effects(database, 110).await;
    for _ in 0..200 {
        if outbox_rows(database).await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(outbox_rows(database).await, 0, "the outbox drains once Redis is back");
    handle.stop().await;
    source.stop().await;
    redis_command(&url, &["DEL", &stream_key(&config.key_prefix, "tests")]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_commit_while_redis_is_down_and_drain_after_on_sqlite() {
    let Some(url) = redis_url().await else { return };
    assert_writes_commit_while_redis_is_down_and_drain_after(sqlite().await, url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_commit_while_redis_is_down_and_drain_after_on_postgres() {
    let Some(url) = redis_url().await else { return };
    let Some(fixture) = postgres("events_redis_down").await else { return };
    assert_writes_commit_while_redis_is_down_and_drain_after(fixture, url).await;
}

// ---------------------------------------------------------------------------------------
// PostgreSQL confinement

#[tokio::test]
async fn the_runtime_role_reaches_delivery_progress_only_through_the_relay_functions_on_postgres() {
    let Some(fixture) = postgres("events_confined").await else { return };
    let database = &fixture.database;
    produce(database, 2).await;
    let direct = database
        .query_one_raw(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            format!("SELECT COUNT(*) AS n FROM {}", changes::DELIVERIES_TABLE),
        ))
        .await;
    assert!(direct.is_err(), "the runtime role must not read outbox_deliveries directly");
    // Inside a tenant transaction the relay's functions refuse to run.
    let tx = TenantTransaction::begin(database, &context_for("ridgeline", "tenant_admin")).await.unwrap();
    let inside = tx
        .connection()
        .query_all_raw(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT * FROM outbox_relay_pending_for('x', true, 10)",
        ))
        .await;
    assert!(inside.is_err(), "relay functions refuse tenant transactions");
    drop(tx);
    assert_eq!(changes::pending_for(database, "x", true, 10).await.unwrap().len(), 2);
}

// ---------------------------------------------------------------------------------------
// Wiring in the subgraph application

struct Query;

#[async_graphql::Object]
impl Query {
    async fn ping(&self) -> bool {
        true
    }
}

fn no_seed(_database: &DatabaseConnection) -> BoxFuture<'_, Result<(), String>> {
    Box::pin(async { Ok(()) })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_served_application_relays_its_events_to_subscribers_and_applies_what_it_receives() {
    use atrium_kit::service::{ServiceConfig, SubgraphApplication};

    // The application subscribes to itself: what its relay publishes comes back through
    // its own /internal/events into its consumer.
    let port = free_port().await;
    let mut config = ServiceConfig::for_tests(sqlite_url("events-app"), None);
    config.listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    config.service_name = "tests".into();
    config.changes.poll_interval_ms = 20;
    config.events.subscribers =
        Some(vec![events::EventSubscriber { name: "self".into(), url: format!("http://127.0.0.1:{port}") }]);
    let schema =
        async_graphql::Schema::build(Query, async_graphql::EmptyMutation, async_graphql::EmptySubscription).finish();
    let handler: Arc<dyn EventHandler> = CountingHandler::new();
    let application = SubgraphApplication::build::<Effects, _>(
        &config,
        None,
        no_seed,
        schema,
        Arc::new(|request, _tx| request),
        Some(handler),
    )
    .await
    .expect("application");
    assert_eq!(application.event_consumer().map(|consumer| consumer.name().to_owned()).as_deref(), Some("tests"));
    assert_eq!(application.relay().unwrap().event_destinations(), ["http:self"]);
    let database = application.database().clone();
    let metrics = Arc::clone(application.metrics());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(application.run_until(async move {
        let _ = stopped.await;
    }));

    produce(&database, 25).await;
    wait_for_effects(&database, 25).await;
    for _ in 0..100 {
        if outbox_rows(&database).await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(outbox_rows(&database).await, 0);
    let text = metrics.render();
    assert!(text.contains("atrium_events_consumed_total{outcome=\"applied\",type=\"test.widget.moved\"} 25"), "{text}");
    assert!(text.contains("atrium_outbox_lag_seconds"), "{text}");
    let _ = stop.send(());
    served.await.unwrap().unwrap();
}

// ---------------------------------------------------------------------------------------
// Destinations are independent

/// A gateway stand-in counting the change events it receives.
async fn counting_gateway() -> (String, Arc<AtomicUsize>) {
    use axum::{body::Bytes, extract::State, routing::post};
    let received = Arc::new(AtomicUsize::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new()
        .route(
            changes::CHANGES_PATH,
            post(|State(received): State<Arc<AtomicUsize>>, body: Bytes| async move {
                let batch: changes::ChangeBatch = serde_json::from_slice(&body).unwrap();
                received.fetch_add(batch.events.len(), Ordering::SeqCst);
                "ok"
            }),
        )
        .with_state(received.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, received)
}

async fn assert_a_down_destination_neither_blocks_nor_repeats_the_others(fixture: Fixture) {
    let database = &fixture.database;
    let metrics = Metrics::local("events-test");
    let (gateway_url, gateway_received) = counting_gateway().await;
    let up = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let up_port = up.local_addr().unwrap().port();
    let server = serve_events(up, Some(consumer(database, &metrics)));
    let down_port = free_port().await;
    let subscribers = [
        events::EventSubscriber { name: "up".into(), url: format!("http://127.0.0.1:{up_port}") },
        events::EventSubscriber { name: "down".into(), url: format!("http://127.0.0.1:{down_port}") },
    ];
    let transport = Arc::new(HttpTransport::new(&subscribers, ContextKey::development()).unwrap());
    let config = ChangesConfig { gateway_url: Some(gateway_url), ..ChangesConfig::default() };
    let relay = ChangeRelay::new(database.clone(), &config, &[ContextKey::development()], &metrics)
        .unwrap()
        .with_event_transport(transport, &EventsConfig::default());

    produce(database, 30).await;
    for _ in 0..3 {
        relay.deliver_once().await.unwrap();
        assert!(relay.publish_events_once().await.is_err(), "one subscriber is down");
    }
    assert_eq!(gateway_received.load(Ordering::SeqCst), 30, "the gateway got every row once");
    assert_eq!(effects(database).await, 30);
    assert!(!metrics.render().contains("outcome=\"duplicate\""), "nothing was sent twice to the live subscriber");
    assert_eq!(outbox_rows(database).await, 30, "rows wait for the subscriber that is down");

    let late =
        serve_events(TcpListener::bind(("127.0.0.1", down_port)).await.unwrap(), Some(consumer(database, &metrics)));
    assert_eq!(relay.publish_events_once().await.unwrap(), 30);
    assert_eq!(outbox_rows(database).await, 0, "deleted once every destination has them");
    assert_eq!(relay.deliver_once().await.unwrap(), 0);
    assert_eq!(gateway_received.load(Ordering::SeqCst), 30);
    server.abort();
    late.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_destination_neither_blocks_nor_repeats_the_others_on_sqlite() {
    assert_a_down_destination_neither_blocks_nor_repeats_the_others(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_destination_neither_blocks_nor_repeats_the_others_on_postgres() {
    let Some(fixture) = postgres("events_destinations").await else { return };
    assert_a_down_destination_neither_blocks_nor_repeats_the_others(fixture).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_a_consumer_cannot_record_stay_unacknowledged_and_are_applied_later_on_postgres() {
    let Some(url) = redis_url().await else { return };
    let Some(fixture) = postgres("events_db_outage").await else { return };
    let database = &fixture.database;
    let owner = sea_orm::Database::connect(&fixture._postgres.as_ref().unwrap().owner_url).await.unwrap();
    let metrics = Metrics::local("events-test");
    let config = redis_config(&url, &unique_prefix());
    let relay = relay(database, Arc::new(RedisStreamsTransport::new(&config).unwrap()), &metrics);

    // The consumer's database refuses inbox writes (as an outage would).
    owner.execute_unprepared("REVOKE INSERT ON event_inbox FROM atrium_app").await.unwrap();
    let source = RedisEventSource::new(&config, consumer(database, &metrics), &metrics).unwrap().spawn();
    produce(database, 40).await;
    drain(&relay, database).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(effects(database).await, 0, "nothing commits without its inbox entry");
    assert_eq!(events::count_dead_letters(database).await.unwrap(), 0, "an outage parks nothing");

    owner.execute_unprepared("GRANT INSERT ON event_inbox TO atrium_app").await.unwrap();
    wait_for_effects(database, 40).await;
    source.stop().await;
    let stream = stream_key(&config.key_prefix, "tests");
    let pending = redis_command(&url, &["XPENDING", &stream, "tests"]).await;
    let redis::Value::Array(summary) = pending else { panic!("XPENDING: {pending:?}") };
    assert_eq!(summary[0], redis::Value::Int(0), "everything was acknowledged");
    redis_command(&url, &["DEL", &stream]).await;
}
