//! What finance does with other services' events: `FinanceEvents`, the service's one
//! `EventHandler`, dispatches each event type to the area that reacts to it (billing:
//! `billing.rs`). The event runtime calls it inside the event's tenant transaction, so
//! everything an area writes commits with the event's inbox record, once.

mod billing;

use atrium_kit::{
    TenantTransaction,
    command::CommandError,
    events::{DomainEvent, EventHandler, HandlerError},
};
use futures::future::BoxFuture;
use serde::Deserialize;

pub use billing::{ENGAGEMENT_CREATED, MILESTONE_ACCEPTED, MILESTONE_COMPLETED};

/// Finance's event consumer.
#[derive(Debug, Clone, Default)]
pub struct FinanceEvents;

impl FinanceEvents {
    async fn apply(&self, tx: &TenantTransaction, event: &DomainEvent) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            ENGAGEMENT_CREATED => billing::engagement_created(tx, event).await,
            MILESTONE_COMPLETED | MILESTONE_ACCEPTED => billing::milestone_reached(tx, event).await,
            _ => Ok(()),
        }
    }
}

impl EventHandler for FinanceEvents {
    fn wants(&self, event_type: &str) -> bool {
        matches!(event_type, ENGAGEMENT_CREATED | MILESTONE_COMPLETED | MILESTONE_ACCEPTED)
    }

    fn handle<'t>(
        &'t self,
        tx: &'t TenantTransaction,
        event: &'t DomainEvent,
    ) -> BoxFuture<'t, Result<(), HandlerError>> {
        Box::pin(self.apply(tx, event))
    }
}

fn parse<T: for<'de> Deserialize<'de>>(event: &DomainEvent) -> Result<T, HandlerError> {
    serde_json::from_value(event.data.clone()).map_err(|error| {
        HandlerError::Poison(format!("{} {} has unreadable data: {error}", event.event_type, event.id))
    })
}

/// The database may recover; a refusal (bad data, an impossible command) will not.
fn refused(error: CommandError) -> HandlerError {
    match error {
        CommandError::Database(error) => HandlerError::Retryable(error.to_string()),
        other => HandlerError::Poison(other.to_string()),
    }
}
