//! The change outbox and its relay against real databases and a real HTTP receiver: events
//! exist exactly when their transaction commits, the relay delivers signed batches and
//! deletes only what the receiver accepted, and on PostgreSQL tenants cannot see each
//! other's events while the relay sees all of them, through functions a tenant
//! transaction cannot use (no session setting opens the table).

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU16, Ordering},
    },
    time::Duration,
};

use atrium_kit::{
    ContextKey, TenantTransaction,
    changes::{
        self, CHANGES_PATH, ChangeBatch, ChangeKind, ChangeRelay, ChangesConfig, RelayError, SIGNATURE_HEADER,
        verify_batch,
    },
    startup::prepare_database,
    telemetry::Metrics,
    testing::{TestDatabase, context_for, sqlite_url},
};
use axum::{Router, body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post};
use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement, TransactionTrait};
use sea_orm_migration::{MigrationName, MigrationTrait, MigratorTrait, SchemaManager};
use uuid::Uuid;

struct CreateOutbox;

impl MigrationName for CreateOutbox {
    fn name(&self) -> &str {
        "m20261205_000001_change_outbox"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for CreateOutbox {
    async fn up(&self, manager: &SchemaManager) -> Result<(), sea_orm::DbErr> {
        // What a service's first migration does before any later one adds the outbox.
        atrium_kit::rls::grant_runtime_role(manager).await?;
        changes::create_outbox_table(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), sea_orm::DbErr> {
        changes::drop_outbox_table(manager).await
    }
}

struct OutboxOnly;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for OutboxOnly {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateOutbox)]
    }
}

/// The runtime pool of a migrated database; PostgreSQL ones live as long as the guard.
async fn sqlite_outbox() -> DatabaseConnection {
    prepare_database::<OutboxOnly>(&sqlite_url("changes"), None, 4, None).await.expect("sqlite outbox")
}

async fn postgres_outbox(label: &str) -> Option<(TestDatabase, DatabaseConnection)> {
    let database = TestDatabase::create(label).await?;
    let runtime = prepare_database::<OutboxOnly>(&database.runtime_url, Some(&database.owner_url), 4, None)
        .await
        .expect("postgres outbox");
    Some((database, runtime))
}

async fn record(database: &DatabaseConnection, slug: &str, entity_id: &str, commit: bool) {
    let tx = TenantTransaction::begin(database, &context_for(slug, "support_agent")).await.expect("begin");
    changes::record_change(&tx, "support", "Ticket", entity_id, ChangeKind::Updated).await.expect("record");
    if commit {
        tx.commit().await.expect("commit");
    }
}

async fn pending_entity_ids(database: &DatabaseConnection) -> Vec<String> {
    let pending = changes::pending_changes(database, 1_000).await.expect("pending changes");
    pending.into_iter().map(|pending| pending.event.entity_id).collect()
}

async fn assert_events_exist_exactly_when_committed(database: &DatabaseConnection) {
    record(database, "ridgeline", "rolled-back", false).await;
    assert!(pending_entity_ids(database).await.is_empty(), "a rolled-back change left an event");

    let before = Utc::now();
    record(database, "ridgeline", "committed", true).await;
    let pending = changes::pending_changes(database, 10).await.unwrap();
    assert_eq!(pending.len(), 1);
    let event = &pending[0].event;
    assert_eq!(event.tenant_id, atrium_kit::demo::tenant_id("ridgeline"));
    assert_eq!((event.service.as_str(), event.entity_type.as_str()), ("support", "Ticket"));
    assert_eq!((event.entity_id.as_str(), event.change), ("committed", ChangeKind::Updated));
    assert_eq!(event.id.get_version_num(), 7);
    assert!(event.occurred_at >= before - chrono::Duration::seconds(1));
    assert_eq!(pending[0].attempts, 0);
}

#[tokio::test]
async fn a_recorded_change_exists_only_after_commit_on_sqlite() {
    assert_events_exist_exactly_when_committed(&sqlite_outbox().await).await;
}

#[tokio::test]
async fn a_recorded_change_exists_only_after_commit_on_postgres() {
    let Some((_guard, database)) = postgres_outbox("changes_commit").await else { return };
    assert_events_exist_exactly_when_committed(&database).await;
}

async fn assert_only_expired_events_are_deleted(database: &DatabaseConnection) {
    record(database, "ridgeline", "a", true).await;
    record(database, "helix", "b", true).await;
    let past = Utc::now() - chrono::Duration::hours(1);
    assert_eq!(changes::delete_expired_changes(database, past).await.unwrap(), 0);
    assert_eq!(pending_entity_ids(database).await, ["a", "b"]);
    let future = Utc::now() + chrono::Duration::seconds(1);
    assert_eq!(changes::delete_expired_changes(database, future).await.unwrap(), 2);
    assert!(pending_entity_ids(database).await.is_empty());
}

#[tokio::test]
async fn retention_deletes_only_events_older_than_the_cutoff_on_sqlite() {
    assert_only_expired_events_are_deleted(&sqlite_outbox().await).await;
}

#[tokio::test]
async fn retention_deletes_only_events_older_than_the_cutoff_on_postgres() {
    let Some((_guard, database)) = postgres_outbox("changes_retention").await else { return };
    assert_only_expired_events_are_deleted(&database).await;
}

/// A gateway stand-in: answers with the status set in `status`, keeps what it received.
#[derive(Clone)]
struct Receiver {
    status: Arc<AtomicU16>,
    received: Arc<Mutex<Vec<(String, Bytes)>>>,
    arrived: Arc<tokio::sync::Notify>,
    url: String,
}

impl Receiver {
    async fn start() -> Self {
        let status = Arc::new(AtomicU16::new(200));
        let received = Arc::new(Mutex::new(Vec::new()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let receiver = Receiver { status, received, arrived: Arc::new(tokio::sync::Notify::new()), url };
        let router = Router::new().route(CHANGES_PATH, post(receive)).with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        receiver
    }

    fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    fn received(&self) -> Vec<(String, Bytes)> {
        self.received.lock().unwrap().clone()
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let signature = headers.get(SIGNATURE_HEADER).and_then(|value| value.to_str().ok()).unwrap_or_default();
    receiver.received.lock().unwrap().push((signature.to_owned(), body));
    receiver.arrived.notify_one();
    StatusCode::from_u16(receiver.status.load(Ordering::SeqCst)).unwrap()
}

/// Verifies a received delivery like the gateway would and returns its entity ids.
fn verified_entity_ids(signature: &str, body: &[u8]) -> Vec<String> {
    verify_batch(&[ContextKey::development()], signature, body, Utc::now(), Duration::from_secs(300))
        .expect("a valid signature under the development key");
    let batch: ChangeBatch = serde_json::from_slice(body).expect("a change batch");
    batch.events.into_iter().map(|event| event.entity_id).collect()
}

fn relay_to(database: &DatabaseConnection, receiver: &Receiver, metrics: &Metrics) -> ChangeRelay {
    let config = ChangesConfig { gateway_url: Some(receiver.url.clone()), batch_size: 2, ..ChangesConfig::default() };
    ChangeRelay::new(database.clone(), &config, &[ContextKey::development()], metrics).expect("relay")
}

async fn attempts(database: &DatabaseConnection) -> Vec<i32> {
    changes::pending_changes(database, 100).await.unwrap().into_iter().map(|pending| pending.attempts).collect()
}

async fn assert_the_relay_delivers_signed_batches_and_keeps_what_failed(database: &DatabaseConnection) {
    let receiver = Receiver::start().await;
    let metrics = Metrics::local("changes-test");
    let relay = relay_to(database, &receiver, &metrics);
    assert_eq!(relay.endpoint().unwrap().path(), CHANGES_PATH);
    for entity_id in ["first", "second", "third"] {
        record(database, "ridgeline", entity_id, true).await;
    }

    receiver.answer(500);
    let failed = relay.deliver_once().await;
    assert!(matches!(failed, Err(RelayError::Refused { status: 500 })), "{failed:?}");
    assert_eq!(pending_entity_ids(database).await, ["first", "second", "third"]);
    assert_eq!(attempts(database).await, [1, 1, 0]);

    receiver.answer(200);
    assert_eq!(relay.deliver_once().await.unwrap(), 2);
    assert_eq!(pending_entity_ids(database).await, ["third"]);
    assert_eq!(relay.deliver_once().await.unwrap(), 1);
    assert!(pending_entity_ids(database).await.is_empty());
    assert_eq!(relay.deliver_once().await.unwrap(), 0, "an empty outbox sends nothing");

    let received = receiver.received();
    assert_eq!(received.len(), 3, "one refused and two accepted deliveries");
    let batches: Vec<Vec<String>> =
        received.iter().map(|(signature, body)| verified_entity_ids(signature, body)).collect();
    assert_eq!(batches, [vec!["first", "second"], vec!["first", "second"], vec!["third"]]);

    let rendered = metrics.render();
    assert!(rendered.contains("atrium_changes_delivered_total 3"), "{rendered}");
    assert!(rendered.contains("atrium_changes_failed_total 2"), "{rendered}");
}

#[tokio::test]
async fn the_relay_delivers_signed_batches_and_retries_refused_ones_on_sqlite() {
    assert_the_relay_delivers_signed_batches_and_keeps_what_failed(&sqlite_outbox().await).await;
}

#[tokio::test]
async fn the_relay_delivers_signed_batches_and_retries_refused_ones_on_postgres() {
    let Some((_guard, database)) = postgres_outbox("changes_relay").await else { return };
    assert_the_relay_delivers_signed_batches_and_keeps_what_failed(&database).await;
}

#[tokio::test]
async fn an_unreachable_gateway_keeps_the_events() {
    let database = sqlite_outbox().await;
    // A port that was just free: nothing listens there.
    let port = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let config = ChangesConfig { gateway_url: Some(format!("http://127.0.0.1:{port}")), ..ChangesConfig::default() };
    let relay =
        ChangeRelay::new(database.clone(), &config, &[ContextKey::development()], &Metrics::local("t")).expect("relay");
    record(&database, "helix", "kept", true).await;
    assert!(matches!(relay.deliver_once().await, Err(RelayError::Unreachable(_))));
    assert_eq!(pending_entity_ids(&database).await, ["kept"]);
    assert_eq!(attempts(&database).await, [1]);
}

#[tokio::test]
async fn the_spawned_relay_delivers_until_stopped() {
    let database = sqlite_outbox().await;
    let receiver = Receiver::start().await;
    let metrics = Metrics::local("changes-spawned");
    let handle = relay_to(&database, &receiver, &metrics).spawn();
    record(&database, "veritas", "spawned", true).await;
    // The bound only keeps a broken relay from hanging the suite.
    tokio::time::timeout(Duration::from_secs(30), receiver.arrived.notified())
        .await
        .expect("the relay delivered within 30 s");
    handle.stop().await;
    let received = receiver.received();
    assert_eq!(verified_entity_ids(&received[0].0, &received[0].1), ["spawned"]);
}

#[tokio::test]
async fn a_relay_without_a_signing_key_or_with_a_bad_url_is_refused() {
    let database = sqlite_outbox().await;
    let metrics = Metrics::local("changes-config");
    let config = ChangesConfig { gateway_url: Some("http://127.0.0.1:4000".into()), ..ChangesConfig::default() };
    assert!(matches!(ChangeRelay::new(database.clone(), &config, &[], &metrics), Err(RelayError::NoSigningKey)));
    let bad = ChangesConfig { gateway_url: Some("127.0.0.1:4000".into()), ..ChangesConfig::default() };
    let refused = ChangeRelay::new(database.clone(), &bad, &[ContextKey::development()], &metrics);
    assert!(matches!(refused, Err(RelayError::InvalidConfig(_))));
    let off = ChangeRelay::new(database, &ChangesConfig::default(), &[], &metrics).expect("no delivery, no key needed");
    assert!(off.endpoint().is_none());
    assert_eq!(off.deliver_once().await.unwrap(), 0);
}

async fn count(connection: &impl ConnectionTrait, sql: &str) -> i64 {
    let row = connection
        .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, sql))
        .await
        .expect(sql)
        .expect("one row");
    row.try_get::<i64>("", "n").expect("n")
}

#[tokio::test]
async fn tenants_cannot_see_each_others_events_but_the_relay_sees_all_on_postgres() {
    let Some((_guard, database)) = postgres_outbox("changes_rls").await else { return };
    record(&database, "ridgeline", "ridgeline-ticket", true).await;
    record(&database, "helix", "helix-ticket", true).await;
    let helix = atrium_kit::demo::tenant_id("helix");

    let ridgeline = TenantTransaction::begin(&database, &context_for("ridgeline", "tenant_admin")).await.unwrap();
    let connection = ridgeline.connection();
    assert_eq!(count(connection, "SELECT count(*) AS n FROM change_outbox").await, 1);
    let foreign = format!("SELECT count(*) AS n FROM change_outbox WHERE tenant_id = '{helix}'");
    assert_eq!(count(connection, &foreign).await, 0, "another tenant's events are visible");
    let deleted =
        connection.execute_unprepared(&format!("DELETE FROM change_outbox WHERE tenant_id = '{helix}'")).await;
    assert_eq!(deleted.unwrap().rows_affected(), 0, "another tenant's events were deleted");
    drop(ridgeline);

    // The runtime role without tenant or relay flag sees nothing.
    assert_eq!(count(&database, "SELECT count(*) AS n FROM change_outbox").await, 0);

    // The relay flag opens reading (and deleting) across tenants…
    let mut visible = pending_entity_ids(&database).await;
    visible.sort();
    assert_eq!(visible, ["helix-ticket", "ridgeline-ticket"]);

    // A session setting the relay flag of earlier versions cannot forge events either.
    let relay = database.begin().await.unwrap();
    relay.execute_unprepared("SELECT set_config('app.outbox_relay', 'on', true)").await.unwrap();
    let forged = relay
        .execute_unprepared(&format!(
            "INSERT INTO change_outbox (id, tenant_id, service, entity_type, entity_id, change, occurred_at) \
             VALUES ('{}', '{helix}', 'support', 'Ticket', 'forged', 'updated', now())",
            Uuid::now_v7()
        ))
        .await;
    assert!(forged.is_err(), "the relay flag allowed an insert");
    drop(relay);

    let ids: Vec<Uuid> =
        changes::pending_changes(&database, 10).await.unwrap().into_iter().map(|pending| pending.event.id).collect();
    assert_eq!(changes::delete_changes(&database, &ids).await.unwrap(), 2);
    assert!(pending_entity_ids(&database).await.is_empty());
}

#[tokio::test]
async fn a_tenant_transaction_setting_the_relay_flag_still_sees_only_its_own_events_on_postgres() {
    let Some((_guard, database)) = postgres_outbox("changes_relay_flag").await else { return };
    record(&database, "ridgeline", "ridgeline-ticket", true).await;
    record(&database, "helix", "helix-ticket", true).await;

    let ridgeline = TenantTransaction::begin(&database, &context_for("ridgeline", "support_agent")).await.unwrap();
    let connection = ridgeline.connection();
    connection.execute_unprepared("SELECT set_config('app.outbox_relay', 'on', true)").await.unwrap();
    assert_eq!(count(connection, "SELECT count(*) AS n FROM change_outbox").await, 1, "another tenant's events");
    let deleted = connection.execute_unprepared("DELETE FROM change_outbox").await.unwrap();
    assert_eq!(deleted.rows_affected(), 1, "another tenant's events were deleted");
    drop(ridgeline);

    // The relay's own door is closed to tenant transactions as well.
    let ridgeline = TenantTransaction::begin(&database, &context_for("ridgeline", "support_agent")).await.unwrap();
    let refused = ridgeline
        .connection()
        .query_all_raw(Statement::from_string(DatabaseBackend::Postgres, "SELECT * FROM outbox_relay_pending(100)"))
        .await
        .expect_err("a tenant transaction read the relay's view of the outbox");
    assert!(refused.to_string().contains("tenant transaction"), "{refused}");
    drop(ridgeline);

    let mut visible = pending_entity_ids(&database).await;
    visible.sort();
    assert_eq!(visible, ["helix-ticket", "ridgeline-ticket"], "the relay still sees every tenant's events");
}
