//! Creates `engagements` (docs/domain.md#delivery), forced row-level security on it (PostgreSQL) and
//! the runtime role's grants (the first migration grants; default privileges cover later
//! tables).

use atrium_kit::rls;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "engagements";

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TABLE)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("number").string().not_null())
                    .col(ColumnDef::new("name").string().not_null())
                    // Finance and catalog references: plain uuids, no FK (other databases).
                    .col(ColumnDef::new("customer_account_id").uuid().not_null())
                    .col(ColumnDef::new("blueprint_id").uuid().null())
                    .col(ColumnDef::new("engagement_type").string().not_null())
                    .col(ColumnDef::new("status").string().not_null())
                    // The state an on-hold engagement resumes to (docs/domain.md#engagement-lifecycle).
                    .col(ColumnDef::new("paused_from_status").string().null())
                    .col(ColumnDef::new("rag").string().not_null())
                    .col(ColumnDef::new("start_date").date().null())
                    .col(ColumnDef::new("go_live_target_date").date().null())
                    .col(ColumnDef::new("go_live_forecast_date").date().null())
                    .col(ColumnDef::new("go_live_actual_date").date().null())
                    .col(ColumnDef::new("percent_complete").decimal_len(7, 4).not_null())
                    .col(ColumnDef::new("created_at").timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("engagements_number_per_tenant")
                    .table(TABLE)
                    .col("tenant_id")
                    .col("number")
                    .unique()
                    .to_owned(),
            )
            .await?;
        // `CustomerAccount.engagements` loads by customer for many customers at once.
        manager
            .create_index(
                Index::create()
                    .name("engagements_by_customer")
                    .table(TABLE)
                    .col("tenant_id")
                    .col("customer_account_id")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        rls::enable_tenant_isolation(manager, TABLE).await?;
        rls::grant_runtime_role(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(TABLE).to_owned()).await
    }
}
