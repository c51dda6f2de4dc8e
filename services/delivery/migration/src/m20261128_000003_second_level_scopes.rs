//! Second-level scopes on the delivery tables. Engagements learn their customer's channel
//! partner (`channel_partner_id`, null for direct customers; the demo seed fills it)
//! so partner users can be narrowed here without asking finance; on PostgreSQL,
//! restrictive policies narrow partner users to their partner's engagements and
//! customer-portal users to their own. Milestones follow their engagement, so they need
//! no copy of either id.

use atrium_kit::rls::{self, SecondLevelScope};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const ENGAGEMENT_SCOPE: SecondLevelScope<'static> =
    SecondLevelScope::Columns { partner: Some("channel_partner_id"), customer: Some("customer_account_id") };

const MILESTONE_SCOPE: SecondLevelScope<'static> =
    SecondLevelScope::Parent { column: "engagement_id", parent_table: "engagements" };

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("engagements")
                    .add_column(ColumnDef::new("channel_partner_id").uuid().null())
                    .to_owned(),
            )
            .await?;
        rls::enable_second_level_scopes(manager, "engagements", ENGAGEMENT_SCOPE).await?;
        rls::enable_second_level_scopes(manager, "milestones", MILESTONE_SCOPE).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rls::disable_second_level_scopes(manager, "milestones", MILESTONE_SCOPE).await?;
        rls::disable_second_level_scopes(manager, "engagements", ENGAGEMENT_SCOPE).await?;
        manager.alter_table(Table::alter().table("engagements").drop_column("channel_partner_id").to_owned()).await
    }
}
