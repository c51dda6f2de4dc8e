//! The `change_outbox` of support (`atrium_kit::changes`): change events recorded with
//! ticket changes, relayed to the gateway for cache invalidation. Tenant RLS plus the
//! relay's cross-tenant read/delete policies on PostgreSQL.

use atrium_kit::changes;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        changes::create_outbox_table(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        changes::drop_outbox_table(manager).await
    }
}
