//! Creates `customer_signals`: the health inputs analytics itself owns per customer
//! account (the CSM's 1–5 pulse, the last executive touch), with forced row-level
//! security (PostgreSQL). One row per customer; the customer id is a plain uuid (finance
//! owns customer accounts).

use atrium_kit::rls;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "customer_signals";

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TABLE)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("customer_account_id").uuid().not_null())
                    // Null means "no pulse entered yet": the measure then has no data.
                    .col(ColumnDef::new("csm_pulse").integer().null().check(Expr::cust("csm_pulse BETWEEN 1 AND 5")))
                    .col(ColumnDef::new("last_exec_touch_on").date().null())
                    .col(ColumnDef::new("updated_at").timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .to_owned(),
            )
            .await?;
        // Health loads signals by customer for many customers at once.
        manager
            .create_index(
                Index::create()
                    .name("customer_signals_per_customer")
                    .table(TABLE)
                    .col("tenant_id")
                    .col("customer_account_id")
                    .unique()
                    .to_owned(),
            )
            .await?;
        rls::enable_tenant_isolation(manager, TABLE).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(TABLE).to_owned()).await
    }
}
