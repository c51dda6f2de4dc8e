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
    sea_query::{ColumnDef, ForeignKey, ForeignKeyAction, Index, Table},
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
const PENDING_FOR_FUNCTION: &str = "outbox_relay_pending_for";
const MARK_DELIVERED_FUNCTION: &str = "outbox_relay_mark_delivered";
const DELETE_COMPLETED_FUNCTION: &str = "outbox_relay_delete_completed";
const DELETE_EXPIRED_KEEPING_FUNCTION: &str = "outbox_relay_delete_expired";

/// Which destination has which outbox row already (see [`create_outbox_delivery_table`]).
pub const DELIVERIES_TABLE: &str = "outbox_deliveries";

/// The destination name of the gateway's cache invalidation.
pub const GATEWAY_DESTINATION: &str = "gateway";

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
    // The span writing the event (the mutation's) becomes the parent of the consumer's.
    let traced;
    let event = match (&event.traceparent, crate::events::trace::current_traceparent()) {
        (None, Some(traceparent)) => {
            traced = DomainEvent { traceparent: Some(traceparent), ..event.clone() };
            &traced
        }
        _ => event,
    };
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

/// Up to `limit` of the oldest rows `destination` has not received yet; with
/// `events_only`, only rows carrying a domain event envelope.
pub async fn pending_for(
    database: &DatabaseConnection,
    destination: &str,
    events_only: bool,
    limit: u64,
) -> Result<Vec<PendingRow>, DbErr> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let backend = database.get_database_backend();
    let sql = if is_postgres(database) {
        format!("SELECT * FROM {PENDING_FOR_FUNCTION}($1, $2, $3)")
    } else {
        format!(
            "SELECT o.* FROM {OUTBOX_TABLE} o WHERE (NOT $2 OR o.envelope IS NOT NULL) AND NOT EXISTS \
             (SELECT 1 FROM {DELIVERIES_TABLE} d WHERE d.event_id = o.id AND d.destination = $1) \
             ORDER BY o.id LIMIT $3"
        )
    };
    let rows = entity::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(
            backend,
            sql,
            [destination.into(), events_only.into(), limit.into()],
        ))
        .all(database)
        .await?;
    rows.into_iter()
        .map(|row| {
            let envelope = row.envelope.clone();
            Ok(PendingRow { change: pending_from_row(row)?, envelope })
        })
        .collect()
}

/// An outbox row with its domain event envelope (JSON), if it carries one.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingRow {
    pub change: PendingChange,
    pub envelope: Option<String>,
}

/// Records that `destination` has the rows with these ids.
pub async fn mark_delivered(database: &DatabaseConnection, destination: &str, ids: &[Uuid]) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    if is_postgres(database) {
        database
            .execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                format!("SELECT {MARK_DELIVERED_FUNCTION}($1, $2::uuid[])"),
                [destination.into(), uuid_array(ids)],
            ))
            .await?;
        return Ok(());
    }
    let now = Utc::now();
    for chunk in ids.chunks(200) {
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(chunk.len() + 2);
        values.push(destination.into());
        values.push(now.into());
        let rows: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(index, id)| {
                values.push((*id).into());
                format!("(${}, $1, $2)", index + 3)
            })
            .collect();
        database
            .execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Sqlite,
                format!(
                    "INSERT INTO {DELIVERIES_TABLE} (event_id, destination, delivered_at) \
                     SELECT v.column1, v.column2, v.column3 FROM (VALUES {}) v \
                     WHERE EXISTS (SELECT 1 FROM {OUTBOX_TABLE} o WHERE o.id = v.column1) \
                     ON CONFLICT DO NOTHING",
                    rows.join(", ")
                ),
                values,
            ))
            .await?;
    }
    Ok(())
}

/// Deletes every row each of its destinations has: the gateway's (when `gateway_required`)
/// and, for rows carrying an envelope, every one of `event_destinations`. Returns how many.
pub async fn delete_completed(
    database: &DatabaseConnection,
    gateway_required: bool,
    event_destinations: &[String],
) -> Result<u64, DbErr> {
    if is_postgres(database) {
        let destinations = format!(
            "{{{}}}",
            event_destinations
                .iter()
                .map(|name| format!("\"{}\"", name.replace(['"', '\\'], "")))
                .collect::<Vec<_>>()
                .join(",")
        );
        let row = database
            .query_one_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                format!("SELECT {DELETE_COMPLETED_FUNCTION}($1, $2::text[]) AS affected"),
                [gateway_required.into(), destinations.into()],
            ))
            .await?
            .ok_or_else(|| DbErr::Custom(format!("{DELETE_COMPLETED_FUNCTION} returned no row")))?;
        return Ok(u64::try_from(row.try_get::<i64>("", "affected")?).unwrap_or_default());
    }
    let delivered_to = |placeholder: &str| {
        format!("EXISTS (SELECT 1 FROM {DELIVERIES_TABLE} d WHERE d.event_id = o.id AND d.destination = {placeholder})")
    };
    let mut values: Vec<sea_orm::Value> = vec![GATEWAY_DESTINATION.into()];
    let mut conditions = vec![if gateway_required { delivered_to("$1") } else { "$1 IS NOT NULL".to_owned() }];
    let mut event_conditions = Vec::new();
    for destination in event_destinations {
        values.push(destination.as_str().into());
        event_conditions.push(delivered_to(&format!("${}", values.len())));
    }
    if !event_conditions.is_empty() {
        conditions.push(format!("(o.envelope IS NULL OR ({}))", event_conditions.join(" AND ")));
    }
    let deleted = database
        .execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Sqlite,
            format!(
                "DELETE FROM {OUTBOX_TABLE} WHERE id IN (SELECT o.id FROM {OUTBOX_TABLE} o WHERE {})",
                conditions.join(" AND ")
            ),
            values,
        ))
        .await?;
    Ok(deleted.rows_affected())
}

/// Deletes rows recorded before `cutoff`, except (with `keep_events`) rows carrying a
/// domain event, which wait for their transport however long it is down.
pub async fn delete_expired_rows(
    database: &DatabaseConnection,
    cutoff: DateTime<Utc>,
    keep_events: bool,
) -> Result<u64, DbErr> {
    if is_postgres(database) {
        let row = database
            .query_one_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                format!("SELECT {DELETE_EXPIRED_KEEPING_FUNCTION}($1, $2) AS affected"),
                [cutoff.into(), keep_events.into()],
            ))
            .await?
            .ok_or_else(|| DbErr::Custom(format!("{DELETE_EXPIRED_KEEPING_FUNCTION} returned no row")))?;
        return Ok(u64::try_from(row.try_get::<i64>("", "affected")?).unwrap_or_default());
    }
    let mut delete = entity::Entity::delete_many().filter(entity::Column::OccurredAt.lt(cutoff));
    if keep_events {
        delete = delete.filter(entity::Column::Envelope.is_null());
    }
    Ok(delete.exec(database).await?.rows_affected)
}

/// When the oldest row still in the outbox was recorded (`None` when it is empty): every
/// row still there waits for at least one destination.
pub async fn oldest_pending(database: &DatabaseConnection) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(pending_changes(database, 1).await?.into_iter().next().map(|pending| pending.event.occurred_at))
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
    secure_outbox_relay(manager).await?;
    create_outbox_delivery_table(manager).await
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
    manager.drop_table(Table::drop().table(DELIVERIES_TABLE).if_exists().to_owned()).await?;
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
        format!("{PENDING_FOR_FUNCTION}(text, boolean, bigint)"),
        format!("{MARK_DELIVERED_FUNCTION}(text, uuid[])"),
        format!("{DELETE_COMPLETED_FUNCTION}(boolean, text[])"),
        format!("{DELETE_EXPIRED_KEEPING_FUNCTION}(timestamptz, boolean)"),
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

/// Migration step: the table recording which destination (the gateway's invalidation,
/// each event transport destination) has which outbox row, so a destination that is down
/// neither blocks the others nor makes them receive rows twice; a row is deleted once all
/// its destinations have it. Runtime sessions never touch the table directly: on
/// PostgreSQL it is reached only through the relay's `SECURITY DEFINER` functions (which,
/// like the others, refuse to run inside a tenant transaction), so it needs no tenant
/// policy. Idempotent (run again by [`crate::command::create_command_tables`]).
pub async fn create_outbox_delivery_table(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    if !manager.has_table(DELIVERIES_TABLE).await? {
        manager
            .create_table(
                Table::create()
                    .table(DELIVERIES_TABLE)
                    .col(ColumnDef::new("event_id").uuid().not_null())
                    .col(ColumnDef::new("destination").string().not_null())
                    .col(ColumnDef::new("delivered_at").timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col("event_id").col("destination"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("outbox_deliveries_event")
                            .from(DELIVERIES_TABLE, "event_id")
                            .to(OUTBOX_TABLE, "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
    }
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let table = format!("public.\"{OUTBOX_TABLE}\"");
    let deliveries = format!("public.\"{DELIVERIES_TABLE}\"");
    let runtime = rls::RUNTIME_ROLE;
    let definer = "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp";
    let guard = "PERFORM public.outbox_relay_refuse_tenant_transactions();";
    let delivered = |destination: &str| {
        format!("EXISTS (SELECT 1 FROM {deliveries} d WHERE d.event_id = o.id AND d.destination = {destination})")
    };
    let mut statements = vec![
        // Default privileges would grant the runtime role DML on the new table.
        format!("REVOKE ALL ON {deliveries} FROM {runtime}"),
        format!(
            "CREATE OR REPLACE FUNCTION public.{PENDING_FOR_FUNCTION}(p_destination text, p_events_only boolean, \
             max_events bigint) RETURNS SETOF {table} {definer} AS $$ BEGIN {guard} \
               RETURN QUERY SELECT o.* FROM {table} o \
                 WHERE (NOT p_events_only OR o.envelope IS NOT NULL) AND NOT {} \
                 ORDER BY o.id LIMIT max_events; \
             END $$",
            delivered("p_destination")
        ),
        format!(
            "CREATE OR REPLACE FUNCTION public.{MARK_DELIVERED_FUNCTION}(p_destination text, event_ids uuid[]) \
             RETURNS bigint {definer} AS $$ DECLARE affected bigint; BEGIN {guard} \
               INSERT INTO {deliveries} (event_id, destination, delivered_at) \
                 SELECT o.id, p_destination, now() FROM {table} o WHERE o.id = ANY(event_ids) \
                 ON CONFLICT DO NOTHING; \
               GET DIAGNOSTICS affected = ROW_COUNT; RETURN affected; \
             END $$"
        ),
        format!(
            "CREATE OR REPLACE FUNCTION public.{DELETE_COMPLETED_FUNCTION}(p_gateway_required boolean, \
             p_event_destinations text[]) RETURNS bigint {definer} AS $$ DECLARE affected bigint; BEGIN {guard} \
               DELETE FROM {table} o \
                 WHERE (NOT p_gateway_required OR {}) \
                   AND (o.envelope IS NULL OR NOT EXISTS (SELECT 1 FROM unnest(p_event_destinations) AS wanted(name) \
                        WHERE NOT {})); \
               GET DIAGNOSTICS affected = ROW_COUNT; RETURN affected; \
             END $$",
            delivered(&format!("'{GATEWAY_DESTINATION}'")),
            delivered("wanted.name")
        ),
        format!(
            "CREATE OR REPLACE FUNCTION public.{DELETE_EXPIRED_KEEPING_FUNCTION}(cutoff timestamptz, \
             p_keep_events boolean) RETURNS bigint {definer} AS $$ DECLARE affected bigint; BEGIN {guard} \
               DELETE FROM {table} WHERE occurred_at < cutoff AND (NOT p_keep_events OR envelope IS NULL); \
               GET DIAGNOSTICS affected = ROW_COUNT; RETURN affected; \
             END $$"
        ),
    ];
    for signature in [
        format!("{PENDING_FOR_FUNCTION}(text, boolean, bigint)"),
        format!("{MARK_DELIVERED_FUNCTION}(text, uuid[])"),
        format!("{DELETE_COMPLETED_FUNCTION}(boolean, text[])"),
        format!("{DELETE_EXPIRED_KEEPING_FUNCTION}(timestamptz, boolean)"),
    ] {
        statements.push(format!("REVOKE ALL ON FUNCTION public.{signature} FROM PUBLIC"));
        statements.push(format!("GRANT EXECUTE ON FUNCTION public.{signature} TO {runtime}"));
    }
    for statement in statements {
        manager.get_connection().execute_unprepared(&statement).await?;
    }
    Ok(())
}
