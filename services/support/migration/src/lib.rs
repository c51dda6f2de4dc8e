//! Schema migrations of the support database (tickets, SLA policies and clocks, comments,
//! escalations, CSAT, audit log, outbox, command idempotency). One
//! migration per file.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_create_support;
mod m20261128_000002_second_level_scopes;
mod m20261201_000003_audit_log;
mod m20261205_000004_change_outbox;
mod m20261206_000005_command_tables;
mod m20261210_000005_outbox_relay_functions;
mod m20261214_000010_event_backbone;
mod m20261220_000050_sla_clocks;
mod m20261220_000051_escalations_and_csat;
mod m20261220_000052_scheduler_leases;
mod m20261230_000060_escalation_workflow;

pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_support::Migration),
            Box::new(m20261128_000002_second_level_scopes::Migration),
            Box::new(m20261201_000003_audit_log::Migration),
            Box::new(m20261205_000004_change_outbox::Migration),
            Box::new(m20261206_000005_command_tables::Migration),
            Box::new(m20261210_000005_outbox_relay_functions::Migration),
            Box::new(m20261214_000010_event_backbone::Migration),
            Box::new(m20261220_000050_sla_clocks::Migration),
            Box::new(m20261220_000051_escalations_and_csat::Migration),
            Box::new(m20261220_000052_scheduler_leases::Migration),
            Box::new(m20261230_000060_escalation_workflow::Migration),
        ]
    }
}
