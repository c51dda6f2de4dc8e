//! The lease table of delivery's scheduled jobs (the daily late-milestone emitter): one
//! row per job, so that of several replicas only one runs it at a time.

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
        schedule::drop_schedule_tables(manager).await
    }
}
