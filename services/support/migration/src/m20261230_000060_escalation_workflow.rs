//! Escalations move on (docs/domain.md#escalations-and-csat): who acknowledged and resolved
//! them and when, a version for conditional updates, and the idempotency key of the
//! cross-service command that raised them (unique per tenant, so a redelivered command
//! finds its escalation instead of raising another).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "escalations";

async fn add_column(manager: &SchemaManager<'_>, column: ColumnDef) -> Result<(), DbErr> {
    // One column per statement: SQLite alters a table one column at a time.
    manager.alter_table(Table::alter().table(TABLE).add_column(column).to_owned()).await
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(manager, ColumnDef::new("version").big_integer().not_null().default(1).to_owned()).await?;
        add_column(manager, ColumnDef::new("acknowledged_at").timestamp_with_time_zone().null().to_owned()).await?;
        add_column(manager, ColumnDef::new("acknowledged_by").string().null().to_owned()).await?;
        add_column(manager, ColumnDef::new("resolved_at").timestamp_with_time_zone().null().to_owned()).await?;
        add_column(manager, ColumnDef::new("resolved_by").string().null().to_owned()).await?;
        add_column(manager, ColumnDef::new("resolution_note").text().null().to_owned()).await?;
        add_column(manager, ColumnDef::new("command_key").string().null().to_owned()).await?;
        manager
            .create_index(
                Index::create()
                    .name("escalations_one_per_command_key")
                    .table(TABLE)
                    .col("tenant_id")
                    .col("command_key")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("escalations_one_per_command_key").table(TABLE).to_owned()).await?;
        for column in [
            "command_key",
            "resolution_note",
            "resolved_by",
            "resolved_at",
            "acknowledged_by",
            "acknowledged_at",
            "version",
        ] {
            manager.alter_table(Table::alter().table(TABLE).drop_column(Alias::new(column)).to_owned()).await?;
        }
        Ok(())
    }
}
