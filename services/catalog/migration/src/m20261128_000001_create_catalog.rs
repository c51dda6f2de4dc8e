//! Creates the catalog tables, forced row-level security on each (PostgreSQL) and the
//! runtime role's grants.

use atrium_kit::rls;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TENANT_TABLES: &[&str] = &["tenants", "tenant_brandings", "channel_partners", "service_packages", "blueprints"];

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("tenants")
                    .col(ColumnDef::new("tenant_id").uuid().not_null().primary_key())
                    .col(ColumnDef::new("slug").string().not_null().unique_key())
                    .col(ColumnDef::new("name").string().not_null())
                    .col(ColumnDef::new("kind").string().not_null())
                    .col(ColumnDef::new("status").string().not_null())
                    .col(ColumnDef::new("home_region").string().not_null())
                    .col(ColumnDef::new("reporting_currency").string_len(3).not_null())
                    .col(ColumnDef::new("timezone").string().not_null())
                    .col(ColumnDef::new("created_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("channel_partners")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("name").string().not_null())
                    .col(ColumnDef::new("tier").string().not_null())
                    .col(ColumnDef::new("status").string().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("tenant_brandings")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("channel_partner_id").uuid().null())
                    .col(ColumnDef::new("portal_host").string().not_null().unique_key())
                    .col(ColumnDef::new("product_name").string().not_null())
                    .col(ColumnDef::new("primary_color").string().not_null())
                    .col(ColumnDef::new("accent_color").string().not_null())
                    .col(ColumnDef::new("support_email").string().not_null())
                    .col(ColumnDef::new("status").string().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("blueprints")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("name").string().not_null())
                    .col(ColumnDef::new("engagement_type").string().not_null())
                    .col(ColumnDef::new("status").string().not_null())
                    .col(ColumnDef::new("target_onboard_days").integer().not_null())
                    .col(ColumnDef::new("target_go_live_days").integer().not_null())
                    .col(ColumnDef::new("milestone_count").integer().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("service_packages")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("code").string().not_null())
                    .col(ColumnDef::new("name").string().not_null())
                    .col(ColumnDef::new("category").string().not_null())
                    .col(ColumnDef::new("billing_model").string().not_null())
                    .col(ColumnDef::new("unit").string().not_null())
                    .col(ColumnDef::new("list_price").decimal_len(18, 2).not_null())
                    .col(ColumnDef::new("currency").string_len(3).not_null())
                    .col(ColumnDef::new("is_recurring").boolean().not_null())
                    .col(ColumnDef::new("support_tier").string().not_null())
                    .col(ColumnDef::new("blueprint_id").uuid().null())
                    .col(ColumnDef::new("status").string().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("service_packages_code_per_tenant")
                    .table("service_packages")
                    .col("tenant_id")
                    .col("code")
                    .unique()
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
