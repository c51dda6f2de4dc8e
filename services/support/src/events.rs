//! What support does with other services' events (docs/domain.md#escalations-and-csat):
//! runs the cross-service command `support.command.escalate` that analytics' automation
//! rules send, once per idempotency key.

use atrium_kit::{
    TenantTransaction,
    command::{self, Command, CommandError},
    events::{DomainEvent, EventHandler, HandlerError},
};
use futures::future::BoxFuture;

use crate::escalation_workflow::{self, COMMAND_ESCALATORS, ESCALATE_COMMAND_TYPE, EscalateCommand};

/// Support's event consumer. The event runtime calls it inside the event's tenant
/// transaction; everything it writes commits with the event's inbox record.
#[derive(Debug, Clone, Default)]
pub struct SupportEvents;

impl SupportEvents {
    async fn escalate(&self, tx: &TenantTransaction, event: &DomainEvent) -> Result<(), HandlerError> {
        let request: EscalateCommand = serde_json::from_value(event.data.clone()).map_err(|error| {
            HandlerError::Poison(format!("{} {} has unreadable data: {error}", event.event_type, event.id))
        })?;
        let command = Command {
            operation: "escalateOnCommand",
            entity_type: "Escalation",
            allowed_roles: COMMAND_ESCALATORS,
            target: request.ticket_id,
        };
        let now = chrono::Utc::now();
        let raised = command::execute_within(tx, &command, |tx| {
            Box::pin(async move { escalation_workflow::escalate_on_command(tx, &request, now).await })
        })
        .await
        .map_err(refused)?;
        if let Err(nothing) = raised {
            tracing::info!(event = %event.id, ?nothing, "escalate command: nothing to raise");
        }
        Ok(())
    }
}

impl EventHandler for SupportEvents {
    fn wants(&self, event_type: &str) -> bool {
        event_type == ESCALATE_COMMAND_TYPE
    }

    fn handle<'t>(
        &'t self,
        tx: &'t TenantTransaction,
        event: &'t DomainEvent,
    ) -> BoxFuture<'t, Result<(), HandlerError>> {
        Box::pin(async move {
            match event.event_type.as_str() {
                ESCALATE_COMMAND_TYPE => self.escalate(tx, event).await,
                _ => Ok(()),
            }
        })
    }
}

/// The database may recover; a refusal (bad data, an impossible command) will not.
fn refused(error: CommandError) -> HandlerError {
    match error {
        CommandError::Database(error) => HandlerError::Retryable(error.to_string()),
        other => HandlerError::Poison(other.to_string()),
    }
}
