//! The lease table of the scheduled support jobs (`atrium_kit::schedule`): the SLA
//! evaluator and the ticket timers run on one replica at a time.

use atrium_kit::schedule;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        schedule::create_schedule_tables(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Alias::new(schedule::LEASE_TABLE)).to_owned()).await
    }
}
