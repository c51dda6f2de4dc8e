//! Schema migrations of the analytics database (health models, the customer signals
//! analytics owns, the customer lifecycle and automation rules). One migration per file.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_create_health_models;
mod m20261128_000002_create_customer_signals;
mod m20261128_000003_second_level_scopes;
mod m20261212_000004_lifecycle;
mod m20261214_000010_event_backbone;
mod m20261230_000020_read_models;
mod m20261230_000030_health_model_data;
mod m20261230_000040_cs_actions_and_playbooks;

pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_health_models::Migration),
            Box::new(m20261128_000002_create_customer_signals::Migration),
            Box::new(m20261128_000003_second_level_scopes::Migration),
            Box::new(m20261212_000004_lifecycle::Migration),
            Box::new(m20261214_000010_event_backbone::Migration),
            Box::new(m20261230_000020_read_models::Migration),
            Box::new(m20261230_000030_health_model_data::Migration),
            Box::new(m20261230_000040_cs_actions_and_playbooks::Migration),
        ]
    }
}
