//! Commands analytics' automations send finance (docs/domain.md#billing-schedules):
//! `finance.command.flag_billing_line_at_risk` flags the planned billing lines of a
//! slipping milestone `at_risk` through the same command as the mutation, once per
//! idempotency key: a redelivery or a second command with the same key does nothing.

use atrium_kit::{
    TenantTransaction,
    command::{self, Command},
    events::{DomainEvent, HandlerError},
};
use serde::Deserialize;
use uuid::Uuid;

use super::{parse, refused};
use crate::{
    billing_commands::{self, BILLING_EDITORS, internal},
    domain::Clock,
    repository,
};

pub const FLAG_BILLING_LINE_AT_RISK: &str = "finance.command.flag_billing_line_at_risk";

/// Longest risk reason a line keeps (as `flagBillingLineAtRisk`).
const MAX_REASON_LENGTH: usize = 500;

#[derive(Deserialize)]
struct FlagBillingLineAtRisk {
    milestone_id: Uuid,
    reason: String,
    #[serde(default)]
    expected_slip_days: Option<i64>,
    #[serde(default)]
    rule_code: Option<String>,
    idempotency_key: String,
}

impl FlagBillingLineAtRisk {
    /// The reason the line shows: the automation's, with the slip and the rule behind it.
    fn risk_reason(&self) -> String {
        let mut reason = self.reason.trim().to_owned();
        if reason.is_empty() {
            reason = "milestone at risk".to_owned();
        }
        let mut context = Vec::new();
        if let Some(days) = self.expected_slip_days {
            context.push(format!("expected slip {days} days"));
        }
        if let Some(rule) = self.rule_code.as_deref().filter(|rule| !rule.is_empty()) {
            context.push(format!("rule {rule}"));
        }
        if !context.is_empty() {
            reason = format!("{reason} ({})", context.join(", "));
        }
        reason.chars().take(MAX_REASON_LENGTH).collect()
    }
}

/// Flags every planned line of the milestone at risk (each `finance.billing_line.at_risk`);
/// lines already at risk, ready or invoiced are left as they are.
pub async fn flag_billing_line_at_risk(
    tx: &TenantTransaction,
    clock: Clock,
    event: &DomainEvent,
) -> Result<(), HandlerError> {
    let request: FlagBillingLineAtRisk = parse(event)?;
    if request.idempotency_key.is_empty() || request.idempotency_key.len() > 200 {
        return Err(HandlerError::Poison(format!("{} {} has no usable idempotency_key", event.event_type, event.id)));
    }
    let first =
        repository::disputes::claim_command_key(tx, FLAG_BILLING_LINE_AT_RISK, &request.idempotency_key, clock.now())
            .await
            .map_err(|error| refused(internal(error)))?;
    if !first {
        tracing::info!(key = request.idempotency_key, "billing risk already flagged for this key");
        return Ok(());
    }
    let lines = repository::billing::planned_lines_of_milestone(tx, request.milestone_id)
        .await
        .map_err(|error| refused(internal(error)))?;
    let reason = request.risk_reason();
    for line in lines {
        let command = Command {
            operation: "flagBillingLineAtRisk",
            entity_type: "BillingScheduleLine",
            allowed_roles: BILLING_EDITORS,
            target: Some(line.id),
        };
        let reason = reason.clone();
        command::execute_within(tx, &command, |tx| {
            Box::pin(billing_commands::flag_line_at_risk(tx, Some(line.id), reason))
        })
        .await
        .map_err(refused)?;
    }
    Ok(())
}
