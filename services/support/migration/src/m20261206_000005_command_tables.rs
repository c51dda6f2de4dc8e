//! Everything the kit's command pattern writes to (`atrium_kit::command`): domain-event
//! columns on the outbox and the idempotency table (the audit log and outbox exist
//! already), and the ticket version that domain events carry.

use atrium_kit::command;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        command::create_command_tables(manager).await?;
        manager
            .alter_table(
                Table::alter()
                    .table("tickets")
                    .add_column(ColumnDef::new("version").big_integer().not_null().default(1))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("tickets").drop_column("version").to_owned()).await?;
        command::idempotency::drop_idempotency_table(manager).await
    }
}
