//! Creates the support tables of this slice (tickets), forced row-level security on each
//! (PostgreSQL) and the runtime role's grants. References to other services' rows
//! (customer accounts, subscriptions, channel partners) are plain uuid columns.

use atrium_kit::rls;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TENANT_TABLES: &[&str] = &["tickets"];

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("tickets")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("number").string().not_null())
                    .col(ColumnDef::new("customer_account_id").uuid().not_null())
                    .col(ColumnDef::new("subscription_id").uuid().null())
                    .col(ColumnDef::new("channel_partner_id").uuid().null())
                    .col(ColumnDef::new("requester_name").string().not_null())
                    .col(ColumnDef::new("requester_email").string().not_null())
                    .col(ColumnDef::new("subject").string().not_null())
                    .col(ColumnDef::new("channel").string().not_null())
                    .col(ColumnDef::new("category").string().not_null())
                    .col(ColumnDef::new("priority").string().not_null())
                    .col(ColumnDef::new("status").string().not_null())
                    .col(ColumnDef::new("tier").string().not_null())
                    .col(ColumnDef::new("created_at").timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new("first_responded_at").timestamp_with_time_zone().null())
                    .col(ColumnDef::new("solved_at").timestamp_with_time_zone().null())
                    .col(ColumnDef::new("closed_at").timestamp_with_time_zone().null())
                    .col(ColumnDef::new("reopen_count").integer().not_null().default(0))
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("tickets_number_per_tenant")
                    .table("tickets")
                    .col("tenant_id")
                    .col("number")
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The per-customer loader selects tickets by `(tenant_id, customer_account_id)`.
        manager
            .create_index(
                Index::create()
                    .name("tickets_by_customer_account")
                    .table("tickets")
                    .col("tenant_id")
                    .col("customer_account_id")
                    .to_owned(),
            )
            .await?;
        for table in TENANT_TABLES {
            rls::enable_tenant_isolation(manager, table).await?;
        }
        rls::grant_runtime_role(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TENANT_TABLES.iter().rev() {
            manager.drop_table(Table::drop().table(*table).to_owned()).await?;
        }
        Ok(())
    }
}
