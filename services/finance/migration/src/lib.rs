//! Schema migrations of the finance database (customer accounts, contracts,
//! subscriptions, invoices, disputes, contract lines, and the command pattern's audit log,
//! outbox and idempotency records). One migration per file.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_create_finance;
mod m20261128_000002_second_level_scopes;
mod m20261212_000003_contract_commands;
mod m20261214_000010_event_backbone;
mod m20261220_000020_ledger;
mod m20261220_000030_billing_schedules;
mod m20261220_000031_invoicing;
mod m20261220_000032_payments;
mod m20261230_000050_dispute_resolution;
mod m20261230_000051_engagement_financials;

pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_finance::Migration),
            Box::new(m20261128_000002_second_level_scopes::Migration),
            Box::new(m20261212_000003_contract_commands::Migration),
            Box::new(m20261214_000010_event_backbone::Migration),
            Box::new(m20261220_000020_ledger::Migration),
            Box::new(m20261220_000030_billing_schedules::Migration),
            Box::new(m20261220_000031_invoicing::Migration),
            Box::new(m20261220_000032_payments::Migration),
            Box::new(m20261230_000050_dispute_resolution::Migration),
            Box::new(m20261230_000051_engagement_financials::Migration),
        ]
    }
}
