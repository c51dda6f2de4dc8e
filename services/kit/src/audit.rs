//! The audit trail of mutations: who (subject, client kind), which tenant, what (operation,
//! entity type and ids), when and with which outcome. Every service that changes data
//! keeps an append-only `audit_log` table in its own database.
//!
//! A successful change writes its entry with [`record`] inside the same
//! [`TenantTransaction`] as the change, so a write that fails or rolls back leaves neither
//! the change nor a success entry. A rejected attempt (validation failure) changes nothing;
//! [`record_rejection`] writes its entry in a small transaction of its own, after the
//! rejected one was dropped. On PostgreSQL the runtime role may only insert and read:
//! [`create_audit_table`] revokes UPDATE, DELETE and TRUNCATE from it.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use sea_orm_migration::{
    SchemaManager,
    sea_query::{ColumnDef, Index, Table},
};
use uuid::Uuid;

use crate::{ClientKind, TenantContext, TenantTransaction, errors::UnknownStoredValue, rls};

/// The table name every service uses for its audit trail.
pub const AUDIT_TABLE: &str = "audit_log";

/// How an audited attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditOutcome {
    Succeeded,
    /// Refused by a rule (a transition the state machine does not allow); nothing changed.
    Rejected,
    /// Broke off by an internal failure (database, storage); nothing changed.
    Failed,
}

impl AuditOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Succeeded => "succeeded",
            AuditOutcome::Rejected => "rejected",
            AuditOutcome::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Result<Self, UnknownStoredValue> {
        match text {
            "succeeded" => Ok(AuditOutcome::Succeeded),
            "rejected" => Ok(AuditOutcome::Rejected),
            "failed" => Ok(AuditOutcome::Failed),
            other => Err(UnknownStoredValue { kind: "AuditOutcome", value: other.to_owned() }),
        }
    }
}

/// What a mutation did or tried to do; the caller comes from the transaction's context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// The GraphQL mutation field, e.g. `changeTicketStatus`.
    pub operation: String,
    /// The entity type changed, e.g. `Ticket`.
    pub entity_type: String,
    pub entity_ids: Vec<Uuid>,
    /// Client-safe detail, e.g. `open -> solved` or the rejection reason.
    pub detail: Option<String>,
}

/// One stored audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub subject: String,
    pub client_kind: ClientKind,
    pub operation: String,
    pub entity_type: String,
    pub entity_ids: Vec<Uuid>,
    pub outcome: AuditOutcome,
    pub detail: Option<String>,
}

/// Reading an audit entry failed.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error(transparent)]
    CorruptValue(#[from] UnknownStoredValue),
    #[error("audit entry {id}: entity ids are not a JSON list of uuids")]
    CorruptEntityIds { id: Uuid },
}

mod entity {
    //! The `audit_log` row, private to this module: services go through its functions.

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_log")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub occurred_at: DateTimeUtc,
        pub subject: String,
        pub client_kind: String,
        pub operation: String,
        pub entity_type: String,
        pub entity_ids: String,
        pub outcome: String,
        pub detail: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Appends an entry for the caller of `tx`, inside `tx`: it commits or rolls back with
/// the change it describes.
pub async fn record(tx: &TenantTransaction, event: &AuditEvent, outcome: AuditOutcome) -> Result<Uuid, DbErr> {
    let context = tx.context();
    let id = Uuid::now_v7();
    let entity_ids = serde_json::to_string(&event.entity_ids).map_err(|error| DbErr::Custom(error.to_string()))?;
    let row = entity::ActiveModel {
        tenant_id: Set(context.tenant_id),
        id: Set(id),
        occurred_at: Set(Utc::now()),
        subject: Set(context.subject.clone()),
        client_kind: Set(context.client_kind.as_str().to_owned()),
        operation: Set(event.operation.clone()),
        entity_type: Set(event.entity_type.clone()),
        entity_ids: Set(entity_ids),
        outcome: Set(outcome.as_str().to_owned()),
        detail: Set(event.detail.clone()),
    };
    entity::Entity::insert(row).exec_without_returning(tx.connection()).await?;
    Ok(id)
}

/// Records a rejected attempt in a transaction of its own. Call it after the attempt's
/// transaction was dropped, so nothing of the attempt itself is committed.
pub async fn record_rejection(
    database: &DatabaseConnection,
    context: &TenantContext,
    event: &AuditEvent,
) -> Result<Uuid, DbErr> {
    record_alone(database, context, event, AuditOutcome::Rejected).await
}

/// Records an attempt that broke off on an internal failure, in a transaction of its own,
/// after the attempt's transaction rolled back. Best effort by nature: the failure may be
/// the database itself, so the caller logs when this fails too.
pub async fn record_failure(
    database: &DatabaseConnection,
    context: &TenantContext,
    event: &AuditEvent,
) -> Result<Uuid, DbErr> {
    record_alone(database, context, event, AuditOutcome::Failed).await
}

async fn record_alone(
    database: &DatabaseConnection,
    context: &TenantContext,
    event: &AuditEvent,
    outcome: AuditOutcome,
) -> Result<Uuid, DbErr> {
    let tx = TenantTransaction::begin_write(database, context).await?;
    let id = record(&tx, event, outcome).await?;
    tx.commit().await?;
    Ok(id)
}

/// The tenant's entries ordered by id (UUIDv7, so occurrence order), `limit` rows after
/// `after` (callers ask for `first + 1`, see `pagination::PageRequest::finish`).
pub async fn entries_page(
    tx: &TenantTransaction,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<AuditEntry>, AuditError> {
    let mut query = entity::Entity::find().filter(entity::Column::TenantId.eq(tx.tenant_id()));
    if let Some(after) = after {
        query = query.filter(entity::Column::Id.gt(after));
    }
    let rows = query.order_by_asc(entity::Column::Id).limit(limit).all(tx.connection()).await?;
    rows.into_iter().map(entry_from_row).collect()
}

fn entry_from_row(row: entity::Model) -> Result<AuditEntry, AuditError> {
    let client_kind = ClientKind::parse(&row.client_kind)
        .ok_or_else(|| UnknownStoredValue { kind: "ClientKind", value: row.client_kind.clone() })?;
    let entity_ids: Vec<Uuid> =
        serde_json::from_str(&row.entity_ids).map_err(|_| AuditError::CorruptEntityIds { id: row.id })?;
    Ok(AuditEntry {
        id: row.id,
        occurred_at: row.occurred_at,
        subject: row.subject,
        client_kind,
        operation: row.operation,
        entity_type: row.entity_type,
        entity_ids,
        outcome: AuditOutcome::parse(&row.outcome)?,
        detail: row.detail,
    })
}

/// Migration step: creates `audit_log` with tenant RLS and, on PostgreSQL, makes it
/// append-only for the runtime role. Grants run first because the default privileges of
/// [`rls::grant_runtime_role`] would otherwise hand UPDATE and DELETE back.
pub async fn create_audit_table(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(AUDIT_TABLE)
                .col(ColumnDef::new("tenant_id").uuid().not_null())
                .col(ColumnDef::new("id").uuid().not_null())
                .col(ColumnDef::new("occurred_at").timestamp_with_time_zone().not_null())
                .col(ColumnDef::new("subject").string().not_null())
                .col(ColumnDef::new("client_kind").string().not_null())
                .col(ColumnDef::new("operation").string().not_null())
                .col(ColumnDef::new("entity_type").string().not_null())
                .col(ColumnDef::new("entity_ids").text().not_null())
                .col(ColumnDef::new("outcome").string().not_null())
                .col(ColumnDef::new("detail").text().null())
                .primary_key(Index::create().col("tenant_id").col("id"))
                .to_owned(),
        )
        .await?;
    rls::enable_tenant_isolation(manager, AUDIT_TABLE).await?;
    rls::grant_runtime_role(manager).await?;
    if manager.get_database_backend() == DatabaseBackend::Postgres {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "REVOKE UPDATE, DELETE, TRUNCATE ON \"{AUDIT_TABLE}\" FROM {}",
                rls::RUNTIME_ROLE
            ))
            .await?;
    }
    Ok(())
}

/// Migration step undoing [`create_audit_table`].
pub async fn drop_audit_table(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager.drop_table(Table::drop().table(AUDIT_TABLE).to_owned()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_round_trip_through_their_stored_text() {
        for outcome in [AuditOutcome::Succeeded, AuditOutcome::Rejected, AuditOutcome::Failed] {
            assert_eq!(AuditOutcome::parse(outcome.as_str()).unwrap(), outcome);
        }
        assert!(AuditOutcome::parse("aborted").is_err());
    }
}
