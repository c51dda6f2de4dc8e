//! Schema migrations of the catalog database (tenant registry, branding, channel
//! partners, service packages, blueprints with their versioned milestone and task
//! templates, and the command pattern's audit log, outbox and idempotency records). One
//! migration per file.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_create_catalog;
mod m20261212_000002_blueprint_versions;
mod m20261214_000010_event_backbone;

pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_catalog::Migration),
            Box::new(m20261212_000002_blueprint_versions::Migration),
            Box::new(m20261214_000010_event_backbone::Migration),
        ]
    }
}
