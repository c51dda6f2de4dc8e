//! Creates `health_models` (docs/domain.md#analytics: one active model per tenant, a
//! change is a new version), forced row-level security on it (PostgreSQL) and the runtime
//! role's grants (the first migration grants; default privileges cover later tables).

use atrium_kit::rls;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "health_models";

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TABLE)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("name").string().not_null())
                    .col(ColumnDef::new("version").integer().not_null())
                    .col(ColumnDef::new("status").string().not_null())
                    .col(ColumnDef::new("created_at").timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("health_models_version_per_tenant")
                    .table(TABLE)
                    .col("tenant_id")
                    .col("name")
                    .col("version")
                    .unique()
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
