//! The kit's command pattern against real databases: a command's change, its audit entry,
//! its events and its idempotency record commit together or not at all; refusals leave
//! nothing but a `REJECTED` audit entry; retries with the same idempotency key write
//! nothing; concurrent first runs with one key produce one effect.

use atrium_kit::{
    ErrorCode, TenantContext, TenantTransaction,
    command::{self, Command, CommandError, Outcome, StateMachine, guard_transition},
    events::{DomainEvent, Subject},
    startup::prepare_database,
    testing::{TestDatabase, context_for, sqlite_url},
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};
use sea_orm_migration::{MigrationName, MigrationTrait, MigratorTrait, SchemaManager};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A minimal stateful entity: `draft → submitted → approved`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum WidgetStatus {
    Draft,
    Submitted,
    Approved,
}

impl StateMachine for WidgetStatus {
    const ENTITY: &'static str = "Widget";
    fn allowed_next(self) -> &'static [Self] {
        match self {
            WidgetStatus::Draft => &[WidgetStatus::Submitted],
            WidgetStatus::Submitted => &[WidgetStatus::Approved, WidgetStatus::Draft],
            WidgetStatus::Approved => &[],
        }
    }
    fn name(self) -> &'static str {
        match self {
            WidgetStatus::Draft => "draft",
            WidgetStatus::Submitted => "submitted",
            WidgetStatus::Approved => "approved",
        }
    }
}

impl WidgetStatus {
    fn parse(text: &str) -> Self {
        [WidgetStatus::Draft, WidgetStatus::Submitted, WidgetStatus::Approved]
            .into_iter()
            .find(|status| status.name() == text)
            .expect("stored widget status")
    }
}

struct CreateTables;

impl MigrationName for CreateTables {
    fn name(&self) -> &str {
        "m20261206_000001_widgets"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for CreateTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE TABLE widget (tenant_id uuid NOT NULL, id uuid NOT NULL, status text NOT NULL, \
                 version bigint NOT NULL, PRIMARY KEY (tenant_id, id))",
            )
            .await?;
        atrium_kit::rls::enable_tenant_isolation(manager, "widget").await?;
        atrium_kit::rls::grant_runtime_role(manager).await?;
        command::create_command_tables(manager).await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

struct Widgets;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Widgets {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateTables)]
    }
}

async fn sqlite() -> DatabaseConnection {
    prepare_database::<Widgets>(&sqlite_url("command"), None, 4, None).await.expect("sqlite")
}

async fn postgres(label: &str) -> Option<(TestDatabase, DatabaseConnection)> {
    let database = TestDatabase::create(label).await?;
    let runtime =
        prepare_database::<Widgets>(&database.runtime_url, Some(&database.owner_url), 4, None).await.expect("postgres");
    Some((database, runtime))
}

fn statement(database: &impl ConnectionTrait, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(database.get_database_backend(), sql, values)
}

async fn insert_widget(database: &DatabaseConnection, context: &TenantContext) -> Uuid {
    let id = Uuid::now_v7();
    let tx = TenantTransaction::begin(database, context).await.unwrap();
    let sql = "INSERT INTO widget (tenant_id, id, status, version) VALUES ($1, $2, 'draft', 1)";
    tx.connection()
        .execute_raw(statement(tx.connection(), sql, vec![context.tenant_id.into(), id.into()]))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn status_of(database: &DatabaseConnection, context: &TenantContext, id: Uuid) -> (WidgetStatus, i64) {
    let tx = TenantTransaction::begin(database, context).await.unwrap();
    let sql = "SELECT status, version FROM widget WHERE tenant_id = $1 AND id = $2";
    let row = tx
        .connection()
        .query_one_raw(statement(tx.connection(), sql, vec![context.tenant_id.into(), id.into()]))
        .await
        .unwrap()
        .unwrap();
    (WidgetStatus::parse(&row.try_get_by_index::<String>(0).unwrap()), row.try_get_by_index::<i64>(1).unwrap())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Moved {
    id: Uuid,
    status: WidgetStatus,
    version: i64,
}

/// The domain part of a `moveWidget` mutation: load, guard, conditional update, event.
async fn move_widget(
    database: &DatabaseConnection,
    context: &TenantContext,
    id: Uuid,
    next: WidgetStatus,
    idempotency_key: Option<&str>,
) -> Result<Moved, CommandError> {
    let command = Command {
        operation: "moveWidget",
        entity_type: "Widget",
        allowed_roles: &["finance", "tenant_admin"],
        target: Some(id),
    };
    command::execute_idempotent(database, context, command, idempotency_key.map(str::to_owned), |tx| {
        Box::pin(async move {
            let connection = tx.connection();
            let sql = "SELECT status, version FROM widget WHERE tenant_id = $1 AND id = $2";
            let row = connection
                .query_one_raw(statement(connection, sql, vec![tx.tenant_id().into(), id.into()]))
                .await?
                .ok_or(CommandError::NotFound("Widget"))?;
            let current = WidgetStatus::parse(&row.try_get_by_index::<String>(0)?);
            let version = row.try_get_by_index::<i64>(1)?;
            guard_transition(current, next)?;
            let update = "UPDATE widget SET status = $1, version = version + 1 \
                          WHERE tenant_id = $2 AND id = $3 AND version = $4";
            let values = vec![next.name().into(), tx.tenant_id().into(), id.into(), version.into()];
            if connection.execute_raw(statement(connection, update, values)).await?.rows_affected() != 1 {
                return Err(CommandError::stale("Widget"));
            }
            let subject = Subject { entity_type: "Widget".to_owned(), id, version: version + 1 };
            let event = DomainEvent::new(tx.context(), &format!("test.widget.{}", next.name()), subject);
            Ok(Outcome {
                value: Moved { id, status: next, version: version + 1 },
                entity_ids: vec![id],
                detail: format!("{} -> {}", current.name(), next.name()),
                events: vec![event],
            })
        })
    })
    .await
}

async fn events_of(database: &DatabaseConnection, context: &TenantContext) -> Vec<DomainEvent> {
    let tx = TenantTransaction::begin(database, context).await.unwrap();
    let sql = "SELECT envelope FROM change_outbox WHERE tenant_id = $1 AND envelope IS NOT NULL ORDER BY id";
    let rows =
        tx.connection().query_all_raw(statement(tx.connection(), sql, vec![context.tenant_id.into()])).await.unwrap();
    rows.iter().map(|row| serde_json::from_str(&row.try_get_by_index::<String>(0).unwrap()).unwrap()).collect()
}

async fn audit_outcomes(database: &DatabaseConnection, context: &TenantContext) -> Vec<String> {
    let tx = TenantTransaction::begin(database, context).await.unwrap();
    let sql = "SELECT outcome FROM audit_log WHERE tenant_id = $1 ORDER BY id";
    let rows =
        tx.connection().query_all_raw(statement(tx.connection(), sql, vec![context.tenant_id.into()])).await.unwrap();
    rows.iter().map(|row| row.try_get_by_index::<String>(0).unwrap()).collect()
}

async fn assert_a_command_commits_its_change_audit_and_event_together(database: &DatabaseConnection) {
    let finance = context_for("ridgeline", "finance");
    let id = insert_widget(database, &finance).await;
    let moved = move_widget(database, &finance, id, WidgetStatus::Submitted, None).await.expect("submit");
    assert_eq!(moved, Moved { id, status: WidgetStatus::Submitted, version: 2 });
    assert_eq!(status_of(database, &finance, id).await, (WidgetStatus::Submitted, 2));
    assert_eq!(audit_outcomes(database, &finance).await, ["succeeded"]);
    let events = events_of(database, &finance).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "test.widget.submitted");
    assert_eq!((events[0].subject.id, events[0].subject.version), (id, 2));
    assert_eq!(events[0].tenant_id, finance.tenant_id);
    assert_eq!(events[0].actor, format!("user:{}", finance.subject));
}

async fn assert_refusals_leave_only_a_rejected_audit_entry(database: &DatabaseConnection) {
    let finance = context_for("ridgeline", "finance");
    let id = insert_widget(database, &finance).await;
    let error = move_widget(database, &finance, id, WidgetStatus::Approved, None).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::InvalidTransition);
    let CommandError::InvalidTransition { current, allowed, .. } = &error else { panic!("{error:?}") };
    assert_eq!((current.as_str(), allowed.as_slice()), ("draft", ["submitted".to_owned()].as_slice()));
    assert_eq!(status_of(database, &finance, id).await, (WidgetStatus::Draft, 1));
    assert!(events_of(database, &finance).await.is_empty());
    assert_eq!(audit_outcomes(database, &finance).await, ["rejected"]);

    // Another tenant's widget does not exist for this caller.
    let helix = context_for("helix", "finance");
    let error = move_widget(database, &helix, id, WidgetStatus::Submitted, None).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::NotFound);
    assert_eq!(status_of(database, &finance, id).await, (WidgetStatus::Draft, 1));
    assert!(audit_outcomes(database, &helix).await.is_empty(), "another tenant's id left an audit entry");

    // A role without the right is refused before any transaction: nothing is recorded.
    let csm = context_for("ridgeline", "csm");
    let error = move_widget(database, &csm, id, WidgetStatus::Submitted, None).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::Forbidden);
    assert_eq!(audit_outcomes(database, &finance).await, ["rejected"]);
    assert!(events_of(database, &helix).await.is_empty());
}

async fn assert_a_retry_with_the_same_key_answers_the_first_result(database: &DatabaseConnection) {
    let finance = context_for("ridgeline", "finance");
    let id = insert_widget(database, &finance).await;
    let first = move_widget(database, &finance, id, WidgetStatus::Submitted, Some("key-1")).await.unwrap();
    let retry = move_widget(database, &finance, id, WidgetStatus::Submitted, Some("key-1")).await.unwrap();
    assert_eq!(retry, first);
    assert_eq!(status_of(database, &finance, id).await, (WidgetStatus::Submitted, 2));
    assert_eq!(events_of(database, &finance).await.len(), 1);
    assert_eq!(audit_outcomes(database, &finance).await, ["succeeded"]);

    // The key belongs to its operation's first answer; the same key elsewhere is refused.
    let misuse = command::execute_idempotent(
        database,
        &finance,
        Command { operation: "otherWidgetCommand", entity_type: "Widget", allowed_roles: &["finance"], target: None },
        Some("key-1".to_owned()),
        |_| Box::pin(async { Err::<Outcome<()>, _>(CommandError::Invalid("unreachable".to_owned())) }),
    )
    .await
    .unwrap_err();
    assert_eq!(misuse.code(), ErrorCode::BadUserInput);
    assert!(misuse.to_string().contains("already used for moveWidget"), "{misuse}");

    // Keys are per tenant: another tenant's identical key is a first run of its own.
    let helix = context_for("helix", "finance");
    let helix_widget = insert_widget(database, &helix).await;
    let moved = move_widget(database, &helix, helix_widget, WidgetStatus::Submitted, Some("key-1")).await.unwrap();
    assert_eq!(moved.id, helix_widget);
}

#[tokio::test]
async fn a_command_commits_its_change_audit_and_event_together_on_sqlite() {
    assert_a_command_commits_its_change_audit_and_event_together(&sqlite().await).await;
}

#[tokio::test]
async fn a_command_commits_its_change_audit_and_event_together_on_postgres() {
    let Some((_guard, database)) = postgres("command_commit").await else { return };
    assert_a_command_commits_its_change_audit_and_event_together(&database).await;
}

#[tokio::test]
async fn refused_commands_leave_only_a_rejected_audit_entry_on_sqlite() {
    assert_refusals_leave_only_a_rejected_audit_entry(&sqlite().await).await;
}

#[tokio::test]
async fn refused_commands_leave_only_a_rejected_audit_entry_on_postgres() {
    let Some((_guard, database)) = postgres("command_refusal").await else { return };
    assert_refusals_leave_only_a_rejected_audit_entry(&database).await;
}

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_answers_the_first_result_on_sqlite() {
    assert_a_retry_with_the_same_key_answers_the_first_result(&sqlite().await).await;
}

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_answers_the_first_result_on_postgres() {
    let Some((_guard, database)) = postgres("command_idempotency").await else { return };
    assert_a_retry_with_the_same_key_answers_the_first_result(&database).await;
}

#[tokio::test]
async fn concurrent_transitions_from_one_state_let_exactly_one_win_on_postgres() {
    let Some((_guard, database)) = postgres("command_race").await else { return };
    let finance = context_for("ridgeline", "finance");
    for round in 0..10 {
        let id = insert_widget(&database, &finance).await;
        let (left, right) = tokio::join!(
            move_widget(&database, &finance, id, WidgetStatus::Submitted, None),
            move_widget(&database, &finance, id, WidgetStatus::Submitted, None),
        );
        let outcomes = [left.map_err(|error| error.code()), right.map_err(|error| error.code())];
        let winners = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
        assert_eq!(winners, 1, "round {round}: {outcomes:?}");
        assert!(
            outcomes
                .iter()
                .any(|outcome| matches!(outcome, Err(ErrorCode::Conflict) | Err(ErrorCode::InvalidTransition))),
            "round {round}: {outcomes:?}"
        );
        assert_eq!(status_of(&database, &finance, id).await, (WidgetStatus::Submitted, 2));
    }
    assert_eq!(events_of(&database, &finance).await.len(), 10);
}

#[tokio::test]
async fn concurrent_first_runs_with_one_idempotency_key_produce_one_effect_on_postgres() {
    let Some((_guard, database)) = postgres("command_key_race").await else { return };
    let finance = context_for("ridgeline", "finance");
    for round in 0..10 {
        let id = insert_widget(&database, &finance).await;
        let key = format!("race-{round}");
        let (left, right) = tokio::join!(
            move_widget(&database, &finance, id, WidgetStatus::Submitted, Some(&key)),
            move_widget(&database, &finance, id, WidgetStatus::Submitted, Some(&key)),
        );
        let (left, right) = (left.expect("left"), right.expect("right"));
        assert_eq!(left, right, "round {round}");
    }
    assert_eq!(events_of(&database, &finance).await.len(), 10);
}
