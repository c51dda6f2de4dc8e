//! What finance does with other services' events: [`FinanceEvents`] dispatches each event
//! type to its area's module (ledger: `entitlements`; billing: `billing`), inside the event's tenant
//! transaction, so the effect commits with the inbox record and happens once.

use atrium_kit::{
    TenantTransaction,
    command::CommandError,
    events::{DomainEvent, EventHandler, HandlerError},
};
use futures::future::BoxFuture;
use serde::Deserialize;

use crate::domain::Clock;

pub mod automation;
pub mod billing;
pub mod engagement_financials;
pub mod entitlements;

/// Finance's event consumer.
#[derive(Debug, Clone, Default)]
pub struct FinanceEvents {
    clock: Clock,
}

impl FinanceEvents {
    /// Dates and instants from `clock` (tests pin a date).
    pub fn with_clock(clock: Clock) -> Self {
        FinanceEvents { clock }
    }

    async fn apply(&self, tx: &TenantTransaction, event: &DomainEvent) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            entitlements::TIME_ENTRY_APPROVED => {
                entitlements::draw_down(tx, self.clock, event).await?;
                engagement_financials::time_entry_approved(tx, self.clock, event).await
            }
            billing::ENGAGEMENT_CREATED => {
                billing::engagement_created(tx, event).await?;
                engagement_financials::engagement_created(tx, self.clock, event).await
            }
            engagement_financials::CHANGE_REQUEST_APPROVED => {
                engagement_financials::change_request_approved(tx, self.clock, event).await
            }
            engagement_financials::ENGAGEMENT_CLOSED => {
                engagement_financials::engagement_closed(tx, self.clock, event).await
            }
            billing::MILESTONE_COMPLETED | billing::MILESTONE_ACCEPTED => billing::milestone_reached(tx, event).await,
            automation::FLAG_BILLING_LINE_AT_RISK => automation::flag_billing_line_at_risk(tx, self.clock, event).await,
            _ => Ok(()),
        }
    }
}

impl EventHandler for FinanceEvents {
    fn wants(&self, event_type: &str) -> bool {
        matches!(
            event_type,
            entitlements::TIME_ENTRY_APPROVED
                | billing::ENGAGEMENT_CREATED
                | billing::MILESTONE_COMPLETED
                | billing::MILESTONE_ACCEPTED
                | automation::FLAG_BILLING_LINE_AT_RISK
                | engagement_financials::CHANGE_REQUEST_APPROVED
                | engagement_financials::ENGAGEMENT_CLOSED
        )
    }

    fn handle<'t>(
        &'t self,
        tx: &'t TenantTransaction,
        event: &'t DomainEvent,
    ) -> BoxFuture<'t, Result<(), HandlerError>> {
        Box::pin(self.apply(tx, event))
    }
}

/// The event's data as `T`; unreadable data can never succeed.
pub(crate) fn parse<T: for<'de> Deserialize<'de>>(event: &DomainEvent) -> Result<T, HandlerError> {
    serde_json::from_value(event.data.clone()).map_err(|error| {
        HandlerError::Poison(format!("{} {} has unreadable data: {error}", event.event_type, event.id))
    })
}

/// The database may recover; a refusal (bad data, a forbidden command) will not.
pub(crate) fn refused(error: CommandError) -> HandlerError {
    match error {
        CommandError::Database(error) => HandlerError::Retryable(error.to_string()),
        other => HandlerError::Poison(other.to_string()),
    }
}
