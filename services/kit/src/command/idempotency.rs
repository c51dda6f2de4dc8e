//! Idempotency keys of commands: the first successful run of a command with a key stores
//! its answer under (tenant, key) in the same transaction as its effect; a retry with the
//! same key answers that stored result and writes nothing. Two concurrent first runs race
//! on the primary key: one commits, the other rolls back and answers the winner's result.

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, DatabaseBackend, DbErr, EntityTrait, QueryFilter, RuntimeErr,
    sea_query::{Expr, Index},
};
use sea_orm_migration::{
    SchemaManager,
    sea_query::{ColumnDef, Table},
};

use super::CommandError;
use crate::{TenantTransaction, rls};

pub const IDEMPOTENCY_TABLE: &str = "command_idempotency";

/// Longest key a client may send; keys are opaque (a UUID or `rule:subject:event`).
pub const MAX_KEY_LENGTH: usize = 200;

mod entity {
    //! The `command_idempotency` row, private to this module.

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "command_idempotency")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub idempotency_key: String,
        pub operation: String,
        pub result: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The stored answer of the first run with `key`, if there was one. The same key used for
/// another operation is a client error, not a replay.
pub(super) async fn first_result(
    tx: &TenantTransaction,
    operation: &str,
    key: &str,
) -> Result<Option<String>, CommandError> {
    if key.is_empty() || key.len() > MAX_KEY_LENGTH {
        return Err(CommandError::Invalid(format!("idempotencyKey must have 1 to {MAX_KEY_LENGTH} characters")));
    }
    let Some(row) = entity::Entity::find_by_id((tx.tenant_id(), key.to_owned())).one(tx.connection()).await? else {
        return Ok(None);
    };
    if row.operation != operation {
        return Err(CommandError::Invalid(format!(
            "idempotencyKey was already used for {}; use a new key for {operation}",
            row.operation
        )));
    }
    Ok(Some(row.result))
}

/// Takes `key` for this run, with no result yet; a concurrent run holding it makes this
/// wait (PostgreSQL) and then fail with a duplicate key.
pub(super) async fn claim(tx: &TenantTransaction, operation: &str, key: &str) -> Result<(), DbErr> {
    let row = entity::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        idempotency_key: Set(key.to_owned()),
        operation: Set(operation.to_owned()),
        result: Set(String::new()),
        created_at: Set(chrono::Utc::now()),
    };
    entity::Entity::insert(row).exec_without_returning(tx.connection()).await.map(|_| ())
}

/// Stores the answer under the claimed key, in the transaction of the effect.
pub(super) async fn store_result(tx: &TenantTransaction, key: &str, result: String) -> Result<(), DbErr> {
    entity::Entity::update_many()
        .col_expr(entity::Column::Result, Expr::value(result))
        .filter(entity::Column::TenantId.eq(tx.tenant_id()))
        .filter(entity::Column::IdempotencyKey.eq(key))
        .exec(tx.connection())
        .await
        .map(|_| ())
}

/// True when `error` is a unique-key violation (a concurrent run stored the key first).
pub(super) fn is_duplicate_key(error: &DbErr) -> bool {
    let (DbErr::Exec(RuntimeErr::SqlxError(error)) | DbErr::Query(RuntimeErr::SqlxError(error))) = error else {
        return false;
    };
    error.as_database_error().is_some_and(|error| error.is_unique_violation())
}

/// Migration step: creates the table with tenant RLS and grants the runtime role DML.
pub async fn create_idempotency_table(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(IDEMPOTENCY_TABLE)
                .col(ColumnDef::new("tenant_id").uuid().not_null())
                .col(ColumnDef::new("idempotency_key").string().not_null())
                .col(ColumnDef::new("operation").string().not_null())
                .col(ColumnDef::new("result").text().not_null())
                .col(ColumnDef::new("created_at").timestamp_with_time_zone().not_null())
                .primary_key(Index::create().col("tenant_id").col("idempotency_key"))
                .to_owned(),
        )
        .await?;
    rls::enable_tenant_isolation(manager, IDEMPOTENCY_TABLE).await?;
    if manager.get_database_backend() == DatabaseBackend::Postgres {
        use sea_orm::ConnectionTrait;
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON \"{IDEMPOTENCY_TABLE}\" TO {}",
                rls::RUNTIME_ROLE
            ))
            .await?;
    }
    Ok(())
}

/// Migration step undoing [`create_idempotency_table`].
pub async fn drop_idempotency_table(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager.drop_table(Table::drop().table(IDEMPOTENCY_TABLE).to_owned()).await
}
