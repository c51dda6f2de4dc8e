//! The outbox relay reads and empties `change_outbox` through `SECURITY DEFINER` functions
//! that refuse tenant transactions, instead of through policies that opened the table to
//! any session setting `app.outbox_relay` (`atrium_kit::changes::secure_outbox_relay`).

use atrium_kit::changes;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        changes::secure_outbox_relay(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        changes::drop_outbox_relay_functions(manager).await
    }
}
