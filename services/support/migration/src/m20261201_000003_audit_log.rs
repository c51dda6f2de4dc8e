//! The append-only `audit_log` of support mutations (`atrium_kit::audit`): tenant RLS and,
//! on PostgreSQL, no UPDATE or DELETE for the runtime role.

use atrium_kit::audit;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        audit::create_audit_table(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        audit::drop_audit_table(manager).await
    }
}
