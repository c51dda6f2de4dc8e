//! The `change_outbox` table: written by services inside their tenant transactions, read
//! and emptied by the relay across tenants.
//!
//! On PostgreSQL the table has the usual forced `tenant_isolation` policy, so services
//! insert (and could only ever see) their own tenant's events. The relay runs as the same
//! runtime role, which cannot bypass RLS; it reads and empties the outbox across tenants
//! only through four `SECURITY DEFINER` functions owned by the migration role
//! ([`secure_outbox_relay`]): the oldest events, delete these ids, count a failed attempt
//! on these ids, delete what is older than a cutoff. They never insert, take no SQL, and
//! refuse to run inside a tenant transaction, so a request (even one that could run SQL of
//! its choosing) cannot use them to see another tenant's events. No session setting opens
//! the table: an earlier version's `app.outbox_relay` flag, which any runtime session
//! could set, is gone with its policies.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
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

/// Policies of earlier versions that opened the outbox to any session setting
/// `app.outbox_relay`; [`secure_outbox_relay`] drops them.
const LEGACY_RELAY_POLICIES: [&str; 3] = ["outbox_relay_select", "outbox_relay_update", "outbox_relay_delete"];

/// The relay's functions on PostgreSQL (see [`secure_outbox_relay`]).
const PENDING_FUNCTION: &str = "outbox_relay_pending";
const DELETE_FUNCTION: &str = "outbox_relay_delete";
const FAILED_ATTEMPT_FUNCTION: &str = "outbox_relay_count_failed_attempt";
const DELETE_EXPIRED_FUNCTION: &str = "outbox_relay_delete_recorded_before";

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
    let rows = if is_postgres(database) {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        entity::Entity::find()
            .from_raw_sql(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                format!("SELECT * FROM {PENDING_FUNCTION}($1)"),
                [limit.into()],
            ))
            .all(database)
            .await?
    } else {
        entity::Entity::find().order_by_asc(entity::Column::Id).limit(limit).all(database).await?
    };
    rows.into_iter().map(pending_from_row).collect()
}

/// Deletes the events with these ids (delivered ones); returns how many were deleted.
pub async fn delete_changes(database: &DatabaseConnection, ids: &[Uuid]) -> Result<u64, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    if is_postgres(database) {
        return relay_function_count(database, DELETE_FUNCTION, uuid_array(ids)).await;
    }
    let deleted =
        entity::Entity::delete_many().filter(entity::Column::Id.is_in(ids.iter().copied())).exec(database).await?;
    Ok(deleted.rows_affected)
}

/// Counts one more failed delivery for the events with these ids.
pub(super) async fn count_failed_attempt(database: &DatabaseConnection, ids: &[Uuid]) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    if is_postgres(database) {
        return relay_function_count(database, FAILED_ATTEMPT_FUNCTION, uuid_array(ids)).await.map(|_| ());
    }
    entity::Entity::update_many()
        .col_expr(entity::Column::Attempts, Expr::col(entity::Column::Attempts).add(1))
        .filter(entity::Column::Id.is_in(ids.iter().copied()))
        .exec(database)
        .await?;
    Ok(())
}

/// Deletes every event recorded before `cutoff`, of every tenant; returns how many.
pub async fn delete_expired_changes(database: &DatabaseConnection, cutoff: DateTime<Utc>) -> Result<u64, DbErr> {
    if is_postgres(database) {
        return relay_function_count(database, DELETE_EXPIRED_FUNCTION, cutoff.into()).await;
    }
    let deleted = entity::Entity::delete_many().filter(entity::Column::OccurredAt.lt(cutoff)).exec(database).await?;
    Ok(deleted.rows_affected)
}

/// Whether the database has an outbox (only services whose migrations create it relay).
pub async fn has_outbox(database: &DatabaseConnection) -> Result<bool, DbErr> {
    SchemaManager::new(database).has_table(OUTBOX_TABLE).await
}

fn is_postgres(database: &DatabaseConnection) -> bool {
    database.get_database_backend() == DatabaseBackend::Postgres
}

/// A PostgreSQL `uuid[]` literal; the ids are formatted by us, never taken from input.
fn uuid_array(ids: &[Uuid]) -> sea_orm::Value {
    let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    format!("{{{}}}", ids.join(",")).into()
}

/// Calls one of the relay's functions with `argument`; returns the row count it reports.
async fn relay_function_count(
    database: &DatabaseConnection,
    function: &str,
    argument: sea_orm::Value,
) -> Result<u64, DbErr> {
    let cast = if matches!(argument, sea_orm::Value::String(_)) { "::uuid[]" } else { "" };
    let row = database
        .query_one_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            format!("SELECT {function}($1{cast}) AS affected"),
            [argument],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom(format!("{function} returned no row")))?;
    Ok(u64::try_from(row.try_get::<i64>("", "affected")?).unwrap_or_default())
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

/// Migration step: creates `change_outbox` with tenant RLS plus the relay's functions (see
/// the module docs and [`secure_outbox_relay`]) and grants the runtime role DML on it. The
/// role itself comes from the service's first migration ([`rls::grant_runtime_role`]); that
/// step is not repeated here because it re-grants UPDATE and DELETE on every table, the
/// append-only audit log too.
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
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON \"{OUTBOX_TABLE}\" TO {}",
                rls::RUNTIME_ROLE
            ))
            .await?;
    }
    secure_outbox_relay(manager).await
}

/// Migration step (PostgreSQL; nothing on SQLite, which has no RLS): the relay's door to
/// the outbox across tenants. Drops the policies of earlier versions that opened the table
/// to any session setting `app.outbox_relay`, then creates the relay's `SECURITY DEFINER`
/// functions, owned by the migrating role and executable by the runtime role only. They
/// refuse to run while `app.tenant_id` is set, so no tenant transaction can use them.
/// Idempotent. When the owner is not a superuser, forced RLS binds it inside the functions
/// too, so it gets policies of its own for SELECT, UPDATE and DELETE (never INSERT), to
/// which the runtime role is not subject.
pub async fn secure_outbox_relay(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let table = format!("public.\"{OUTBOX_TABLE}\"");
    let runtime = rls::RUNTIME_ROLE;
    // Definer functions run with the owner's rights: a fixed search path keeps objects a
    // caller created elsewhere from being picked up instead of ours.
    let definer = "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp";
    let guard = "PERFORM public.outbox_relay_refuse_tenant_transactions();";
    let mut statements: Vec<String> =
        LEGACY_RELAY_POLICIES.iter().map(|policy| format!("DROP POLICY IF EXISTS {policy} ON {table}")).collect();
    statements.extend([
        format!("CREATE POLICY outbox_relay_select ON {table} FOR SELECT TO CURRENT_USER USING (true)"),
        format!(
            "CREATE POLICY outbox_relay_update ON {table} FOR UPDATE TO CURRENT_USER USING (true) WITH CHECK (true)"
        ),
        format!("CREATE POLICY outbox_relay_delete ON {table} FOR DELETE TO CURRENT_USER USING (true)"),
        "CREATE OR REPLACE FUNCTION public.outbox_relay_refuse_tenant_transactions() RETURNS void \
         LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$ BEGIN \
           IF NULLIF(current_setting('app.tenant_id', true), '') IS NOT NULL THEN \
             RAISE EXCEPTION 'the outbox relay cannot be used inside a tenant transaction' \
               USING ERRCODE = 'insufficient_privilege'; \
           END IF; \
         END $$"
            .to_owned(),
        format!(
            "CREATE OR REPLACE FUNCTION public.{PENDING_FUNCTION}(max_events bigint) RETURNS SETOF {table} \
             {definer} AS $$ BEGIN {guard} \
               RETURN QUERY SELECT * FROM {table} ORDER BY id LIMIT max_events; \
             END $$"
        ),
        format!(
            "CREATE OR REPLACE FUNCTION public.{DELETE_FUNCTION}(event_ids uuid[]) RETURNS bigint \
             {definer} AS $$ DECLARE affected bigint; BEGIN {guard} \
               DELETE FROM {table} WHERE id = ANY(event_ids); \
               GET DIAGNOSTICS affected = ROW_COUNT; RETURN affected; \
             END $$"
        ),
        format!(
            "CREATE OR REPLACE FUNCTION public.{FAILED_ATTEMPT_FUNCTION}(event_ids uuid[]) RETURNS bigint \
             {definer} AS $$ DECLARE affected bigint; BEGIN {guard} \
               UPDATE {table} SET attempts = attempts + 1 WHERE id = ANY(event_ids); \
               GET DIAGNOSTICS affected = ROW_COUNT; RETURN affected; \
             END $$"
        ),
        format!(
            "CREATE OR REPLACE FUNCTION public.{DELETE_EXPIRED_FUNCTION}(cutoff timestamptz) RETURNS bigint \
             {definer} AS $$ DECLARE affected bigint; BEGIN {guard} \
               DELETE FROM {table} WHERE occurred_at < cutoff; \
               GET DIAGNOSTICS affected = ROW_COUNT; RETURN affected; \
             END $$"
        ),
    ]);
    for signature in [
        format!("{PENDING_FUNCTION}(bigint)"),
        format!("{DELETE_FUNCTION}(uuid[])"),
        format!("{FAILED_ATTEMPT_FUNCTION}(uuid[])"),
        format!("{DELETE_EXPIRED_FUNCTION}(timestamptz)"),
    ] {
        statements.push(format!("REVOKE ALL ON FUNCTION public.{signature} FROM PUBLIC"));
        statements.push(format!("GRANT EXECUTE ON FUNCTION public.{signature} TO {runtime}"));
    }
    for statement in statements {
        manager.get_connection().execute_unprepared(&statement).await?;
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

/// Migration step undoing [`create_outbox_table`] (its policies go with the table, the
/// relay's functions with [`drop_outbox_relay_functions`]).
pub async fn drop_outbox_table(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    drop_outbox_relay_functions(manager).await?;
    manager.drop_table(Table::drop().table(OUTBOX_TABLE).to_owned()).await
}

/// Migration step undoing [`secure_outbox_relay`]: drops the relay's functions and the
/// owner's policies. The open policies of earlier versions are not restored, so an
/// earlier relay then sees no events (they wait, and expire) rather than every tenant's.
pub async fn drop_outbox_relay_functions(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let mut statements: Vec<String> = [
        format!("{PENDING_FUNCTION}(bigint)"),
        format!("{DELETE_FUNCTION}(uuid[])"),
        format!("{FAILED_ATTEMPT_FUNCTION}(uuid[])"),
        format!("{DELETE_EXPIRED_FUNCTION}(timestamptz)"),
        "outbox_relay_refuse_tenant_transactions()".to_owned(),
    ]
    .into_iter()
    .map(|signature| format!("DROP FUNCTION IF EXISTS public.{signature}"))
    .collect();
    statements.extend(
        LEGACY_RELAY_POLICIES.iter().map(|policy| format!("DROP POLICY IF EXISTS {policy} ON \"{OUTBOX_TABLE}\"")),
    );
    for statement in statements {
        manager.get_connection().execute_unprepared(&statement).await?;
    }
    Ok(())
}
