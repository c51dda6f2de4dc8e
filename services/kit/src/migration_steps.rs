//! Migration steps that span several parts of the kit, so a service's migration names one
//! step instead of knowing which tables each part needs.

use sea_orm::DbErr;
use sea_orm_migration::SchemaManager;

use crate::{command, events};

/// Migration step every service runs for the event backbone: everything the command
/// pattern writes to (the outbox with per-destination delivery progress, see
/// [`command::create_command_tables`]) and the consumer's inbox, applied versions and dead
/// letters ([`events::create_consumer_tables`]). Idempotent.
pub async fn create_event_backbone_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    command::create_command_tables(manager).await?;
    events::create_consumer_tables(manager).await
}
