//! The event backbone (docs/domain.md#event-delivery): the outbox with per-destination
//! delivery progress, and the consumer's inbox, applied subject versions and dead letters.

use atrium_kit::{events, migration_steps};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        migration_steps::create_event_backbone_tables(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        events::drop_consumer_tables(manager).await
    }
}
