//! Schema migrations of the delivery database (engagements, milestones, tasks, the command
//! tables and copies of other services' data). One migration per file.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_create_engagements;
mod m20261128_000002_create_milestones;
mod m20261128_000003_second_level_scopes;
mod m20261212_000004_engagement_commands;
mod m20261214_000010_event_backbone;
mod m20261220_000040_staff_time_change;
mod m20261220_000041_scheduler_leases;
mod m20261230_000060_reports_time_off_assignments;

pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_engagements::Migration),
            Box::new(m20261128_000002_create_milestones::Migration),
            Box::new(m20261128_000003_second_level_scopes::Migration),
            Box::new(m20261212_000004_engagement_commands::Migration),
            Box::new(m20261214_000010_event_backbone::Migration),
            Box::new(m20261220_000040_staff_time_change::Migration),
            Box::new(m20261220_000041_scheduler_leases::Migration),
            Box::new(m20261230_000060_reports_time_off_assignments::Migration),
        ]
    }
}
