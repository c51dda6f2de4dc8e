//! The `change_outbox` table: written by services inside their tenant transactions, read
//! and emptied by the relay across tenants.
//!
//! On PostgreSQL the table has the usual forced `tenant_isolation` policy, so services
//! insert (and could only ever see) their own tenant's events. The relay runs as the same
//! runtime role, which cannot bypass RLS, so three permissive policies open SELECT, UPDATE
//! and DELETE — never INSERT — to a transaction that set [`RELAY_SETTING`] to `on`
//! transaction-locally. Only this module sets it, and only in its relay transactions.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use sea_orm_migration::{
    SchemaManager,
    sea_query::{ColumnDef, Index, Table},
};
use uuid::Uuid;

use super::{ChangeEvent, ChangeKind};
use crate::{TenantTransaction, events::DomainEvent, rls};

/// The table name every service uses for its outbox.
pub const OUTBOX_TABLE: &str = "change_outbox";

/// Transaction-local setting that opens the outbox to the relay on PostgreSQL.
const RELAY_SETTING: &str = "app.outbox_relay";

mod entity {
    //! The `change_outbox` row, private to this module.

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "change_outbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub service: String,
        pub entity_type: String,
        pub entity_id: String,
        pub change: String,
        pub occurred_at: DateTimeUtc,
        pub attempts: i32,
        /// Set for domain events: their type and full envelope (JSON).
        pub event_type: Option<String>,
        pub envelope: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An event waiting in the outbox, with the number of failed deliveries so far.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingChange {
    pub event: ChangeEvent,
    pub attempts: i32,
}

/// Records a change of `entity_type` `entity_id` for the tenant of `tx`, inside `tx`: the
/// event is delivered only if the change it describes commits.
pub async fn record_change(
    tx: &TenantTransaction,
    service: &str,
    entity_type: &str,
    entity_id: &str,
    change: ChangeKind,
) -> Result<(), DbErr> {
    let row = entity::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tx.tenant_id()),
        service: Set(service.to_owned()),
        entity_type: Set(entity_type.to_owned()),
        entity_id: Set(entity_id.to_owned()),
        change: Set(change.as_str().to_owned()),
        occurred_at: Set(Utc::now()),
        attempts: Set(0),
        event_type: Set(None),
        envelope: Set(None),
    };
    entity::Entity::insert(row).exec_without_returning(tx.connection()).await?;
    Ok(())
}

/// Records a domain event for the tenant of `tx`, inside `tx`. The outbox is the one queue
/// of everything a service announces: the event's subject doubles as the change the
/// gateway's cache invalidation consumes.
pub async fn record_event(tx: &TenantTransaction, event: &DomainEvent) -> Result<(), DbErr> {
    if event.tenant_id != tx.tenant_id() {
        return Err(DbErr::Custom(format!("event {} belongs to another tenant than its transaction", event.id)));
    }
    let envelope = serde_json::to_string(event).map_err(|error| DbErr::Custom(error.to_string()))?;
    let row = entity::ActiveModel {
        id: Set(event.id),
        tenant_id: Set(event.tenant_id),
        service: Set(event.producer.clone()),
        entity_type: Set(event.subject.entity_type.clone()),
        entity_id: Set(event.subject.id.to_string()),
        change: Set(ChangeKind::Updated.as_str().to_owned()),
        occurred_at: Set(event.occurred_at),
        attempts: Set(0),
        event_type: Set(Some(event.event_type.clone())),
        envelope: Set(Some(envelope)),
    };
    entity::Entity::insert(row).exec_without_returning(tx.connection()).await?;
    Ok(())
}

/// Up to `limit` of the oldest events of every tenant (UUIDv7 ids, so id order is
/// recording order). The read transaction is committed before this returns.
pub async fn pending_changes(database: &DatabaseConnection, limit: u64) -> Result<Vec<PendingChange>, DbErr> {
    let tx = relay_transaction(database).await?;
    let rows = entity::Entity::find().order_by_asc(entity::Column::Id).limit(limit).all(&tx).await?;
    tx.commit().await?;
    rows.into_iter().map(pending_from_row).collect()
}

/// Deletes the events with these ids (delivered ones); returns how many were deleted.
pub async fn delete_changes(database: &DatabaseConnection, ids: &[Uuid]) -> Result<u64, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    let tx = relay_transaction(database).await?;
    let deleted = entity::Entity::delete_many().filter(entity::Column::Id.is_in(ids.iter().copied())).exec(&tx).await?;
    tx.commit().await?;
    Ok(deleted.rows_affected)
}

/// Counts one more failed delivery for the events with these ids.
pub(super) async fn count_failed_attempt(database: &DatabaseConnection, ids: &[Uuid]) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    let tx = relay_transaction(database).await?;
    entity::Entity::update_many()
        .col_expr(entity::Column::Attempts, Expr::col(entity::Column::Attempts).add(1))
        .filter(entity::Column::Id.is_in(ids.iter().copied()))
        .exec(&tx)
        .await?;
    tx.commit().await
}

/// Deletes every event recorded before `cutoff`, of every tenant; returns how many.
pub async fn delete_expired_changes(database: &DatabaseConnection, cutoff: DateTime<Utc>) -> Result<u64, DbErr> {
    let tx = relay_transaction(database).await?;
    let deleted = entity::Entity::delete_many().filter(entity::Column::OccurredAt.lt(cutoff)).exec(&tx).await?;
    tx.commit().await?;
    Ok(deleted.rows_affected)
}

/// Whether the database has an outbox (only services whose migrations create it relay).
pub async fn has_outbox(database: &DatabaseConnection) -> Result<bool, DbErr> {
    SchemaManager::new(database).has_table(OUTBOX_TABLE).await
}

/// A transaction in which the relay policies apply (PostgreSQL); a plain one on SQLite.
async fn relay_transaction(database: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let tx = database.begin().await?;
    if tx.get_database_backend() == DatabaseBackend::Postgres {
        tx.execute_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            format!("SELECT set_config('{RELAY_SETTING}', 'on', true)"),
        ))
        .await?;
    }
    Ok(tx)
}

fn pending_from_row(row: entity::Model) -> Result<PendingChange, DbErr> {
    let change = ChangeKind::parse(&row.change)
        .ok_or_else(|| DbErr::Custom(format!("change event {}: unknown change kind {:?}", row.id, row.change)))?;
    Ok(PendingChange {
        event: ChangeEvent {
            id: row.id,
            tenant_id: row.tenant_id,
            service: row.service,
            entity_type: row.entity_type,
            entity_id: row.entity_id,
            change,
            occurred_at: row.occurred_at,
        },
        attempts: row.attempts,
    })
}

/// Migration step: creates `change_outbox` with tenant RLS plus the relay policies (see
/// the module docs) and grants the runtime role DML on it. The role itself comes from the
/// service's first migration ([`rls::grant_runtime_role`]); that step is not repeated here
/// because it re-grants UPDATE and DELETE on every table, the append-only audit log too.
pub async fn create_outbox_table(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let kinds = [ChangeKind::Created, ChangeKind::Updated, ChangeKind::Deleted].map(ChangeKind::as_str);
    manager
        .create_table(
            Table::create()
                .table(OUTBOX_TABLE)
                .col(ColumnDef::new("id").uuid().not_null().primary_key())
                .col(ColumnDef::new("tenant_id").uuid().not_null())
                .col(ColumnDef::new("service").string().not_null())
                .col(ColumnDef::new("entity_type").string().not_null())
                .col(ColumnDef::new("entity_id").string().not_null())
                // An unknown kind would stop the relay at that row forever.
                .col(ColumnDef::new("change").string().not_null().check(Expr::col("change").is_in(kinds)))
                .col(ColumnDef::new("occurred_at").timestamp_with_time_zone().not_null())
                .col(ColumnDef::new("attempts").integer().not_null().default(0))
                .col(ColumnDef::new("event_type").text().null())
                .col(ColumnDef::new("envelope").text().null())
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create().name("change_outbox_occurred_at").table(OUTBOX_TABLE).col("occurred_at").to_owned(),
        )
        .await?;
    rls::enable_tenant_isolation(manager, OUTBOX_TABLE).await?;
    if manager.get_database_backend() == DatabaseBackend::Postgres {
        let relay = format!("current_setting('{RELAY_SETTING}', true) = 'on'");
        for statement in [
            format!("CREATE POLICY outbox_relay_select ON \"{OUTBOX_TABLE}\" FOR SELECT USING ({relay})"),
            format!(
                "CREATE POLICY outbox_relay_update ON \"{OUTBOX_TABLE}\" FOR UPDATE USING ({relay}) WITH CHECK ({relay})"
            ),
            format!("CREATE POLICY outbox_relay_delete ON \"{OUTBOX_TABLE}\" FOR DELETE USING ({relay})"),
        ] {
            manager.get_connection().execute_unprepared(&statement).await?;
        }
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON \"{OUTBOX_TABLE}\" TO {}",
                rls::RUNTIME_ROLE
            ))
            .await?;
    }
    Ok(())
}

/// Migration step for outboxes created before domain events: adds their type and envelope
/// columns (both empty for plain changes; [`create_outbox_table`] includes them).
pub async fn add_domain_event_columns(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    for column in ["event_type", "envelope"] {
        manager
            .alter_table(Table::alter().table(OUTBOX_TABLE).add_column(ColumnDef::new(column).text().null()).to_owned())
            .await?;
    }
    Ok(())
}

/// Migration step undoing [`create_outbox_table`] (its policies go with the table).
pub async fn drop_outbox_table(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager.drop_table(Table::drop().table(OUTBOX_TABLE).to_owned()).await
}
