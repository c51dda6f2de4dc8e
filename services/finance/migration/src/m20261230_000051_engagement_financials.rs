//! Engagement financials (docs/domain.md#engagement-financials): per engagement, what
//! finance has learned from delivery's events (the contract line's revenue, budget hours
//! and planned cost rate, approved change requests and approved time); the margins derive
//! from it. Rows follow their customer's second-level scope.

use atrium_kit::rls::{self, SecondLevelScope};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "engagement_financials";

fn amount(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).decimal_len(18, 2).not_null().default(0).to_owned()
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TABLE)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("engagement_id").uuid().not_null())
                    .col(ColumnDef::new("customer_account_id").uuid().not_null())
                    .col(ColumnDef::new("currency").string_len(3).not_null())
                    .col(amount("contract_revenue"))
                    .col(amount("budget_hours"))
                    .col(ColumnDef::new("planned_cost_rate").decimal_len(18, 2).null())
                    .col(amount("change_hours"))
                    .col(amount("change_price"))
                    .col(amount("actual_hours"))
                    .col(amount("actual_cost"))
                    .col(ColumnDef::new("closed").boolean().not_null().default(false))
                    .col(ColumnDef::new("version").big_integer().not_null().default(1))
                    .col(ColumnDef::new("updated_at").timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col("tenant_id").col("engagement_id"))
                    .to_owned(),
            )
            .await?;
        rls::enable_tenant_isolation(manager, TABLE).await?;
        rls::enable_second_level_scopes(
            manager,
            TABLE,
            SecondLevelScope::Parent { column: "customer_account_id", parent_table: "customer_accounts" },
        )
        .await?;
        rls::grant_runtime_role(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(TABLE).to_owned()).await
    }
}
