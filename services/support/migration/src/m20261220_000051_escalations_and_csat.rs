//! Escalations and CSAT responses (docs/domain.md#escalations-and-csat): an escalation per
//! level a ticket reaches, one satisfaction response per ticket. Forced RLS on both; partner
//! and customer users see them through their ticket.

use atrium_kit::rls::{self, SecondLevelScope};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TENANT_TABLES: &[&str] = &["escalations", "csat_responses"];

const BELONGS_TO_TICKET: SecondLevelScope<'static> =
    SecondLevelScope::Parent { column: "ticket_id", parent_table: "tickets" };

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("escalations")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("ticket_id").uuid().not_null())
                    .col(ColumnDef::new("level").integer().not_null())
                    .col(ColumnDef::new("reason").string().not_null())
                    .col(ColumnDef::new("status").string().not_null())
                    .col(ColumnDef::new("created_by").string().not_null())
                    .col(ColumnDef::new("created_at").timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .to_owned(),
            )
            .await?;
        // One escalation per ticket and level: two concurrent escalations to the same
        // level cannot both be written.
        manager
            .create_index(
                Index::create()
                    .name("escalations_one_per_level")
                    .table("escalations")
                    .col("tenant_id")
                    .col("ticket_id")
                    .col("level")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("csat_responses")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("ticket_id").uuid().not_null())
                    .col(ColumnDef::new("score").integer().not_null())
                    .col(ColumnDef::new("comment").text().null())
                    .col(ColumnDef::new("received_at").timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("csat_responses_one_per_ticket")
                    .table("csat_responses")
                    .col("tenant_id")
                    .col("ticket_id")
                    .unique()
                    .to_owned(),
            )
            .await?;
        for table in TENANT_TABLES {
            rls::enable_tenant_isolation(manager, table).await?;
            rls::enable_second_level_scopes(manager, table, BELONGS_TO_TICKET).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TENANT_TABLES.iter().rev() {
            manager.drop_table(Table::drop().table(Alias::new(*table)).to_owned()).await?;
        }
        Ok(())
    }
}
