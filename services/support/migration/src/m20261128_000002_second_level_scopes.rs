//! Second-level scopes on `tickets` (PostgreSQL): restrictive policies that narrow partner
//! users to tickets of their channel partner's customers and customer-portal users to
//! their own account's tickets. Tickets already store both ids.

use atrium_kit::rls::{self, SecondLevelScope};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "tickets";

const SCOPE: SecondLevelScope<'static> =
    SecondLevelScope::Columns { partner: Some("channel_partner_id"), customer: Some("customer_account_id") };

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rls::enable_second_level_scopes(manager, TABLE, SCOPE).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rls::disable_second_level_scopes(manager, TABLE, SCOPE).await
    }
}
