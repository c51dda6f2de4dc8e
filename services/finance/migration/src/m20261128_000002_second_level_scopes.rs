//! Second-level scopes on the finance tables (PostgreSQL): restrictive policies that
//! narrow partner users to their channel partner's rows and customer-portal users to
//! their own account's rows. Customer accounts, contracts and invoices store both ids;
//! subscriptions and disputes follow their parent (customer account, invoice), so no
//! column is copied and none can drift.

use atrium_kit::rls::{self, SecondLevelScope};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SCOPES: &[(&str, SecondLevelScope<'static>)] = &[
    ("customer_accounts", SecondLevelScope::Columns { partner: Some("channel_partner_id"), customer: Some("id") }),
    (
        "contracts",
        SecondLevelScope::Columns { partner: Some("channel_partner_id"), customer: Some("customer_account_id") },
    ),
    (
        "invoices",
        SecondLevelScope::Columns { partner: Some("channel_partner_id"), customer: Some("customer_account_id") },
    ),
    ("subscriptions", SecondLevelScope::Parent { column: "customer_account_id", parent_table: "customer_accounts" }),
    ("disputes", SecondLevelScope::Parent { column: "invoice_id", parent_table: "invoices" }),
];

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, scope) in SCOPES {
            rls::enable_second_level_scopes(manager, table, *scope).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, scope) in SCOPES {
            rls::disable_second_level_scopes(manager, table, *scope).await?;
        }
        Ok(())
    }
}
