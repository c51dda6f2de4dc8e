//! Second-level scopes on `customer_signals`. Signals learn their customer's channel
//! partner (`channel_partner_id`, null for direct customers; the demo seed fills it)
//! so partner users can be narrowed here without asking finance; on PostgreSQL,
//! restrictive policies narrow partner users to their partner's customers and
//! customer-portal users to their own account. `health_models` is tenant configuration,
//! not customer data, and stays tenant-wide.

use atrium_kit::rls::{self, SecondLevelScope};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "customer_signals";

const SCOPE: SecondLevelScope<'static> =
    SecondLevelScope::Columns { partner: Some("channel_partner_id"), customer: Some("customer_account_id") };

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(TABLE).add_column(ColumnDef::new("channel_partner_id").uuid().null()).to_owned(),
            )
            .await?;
        rls::enable_second_level_scopes(manager, TABLE, SCOPE).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rls::disable_second_level_scopes(manager, TABLE, SCOPE).await?;
        manager.alter_table(Table::alter().table(TABLE).drop_column("channel_partner_id").to_owned()).await
    }
}
