//! Billing's reactions to delivery (docs/domain.md#billing-schedules): an engagement
//! created for a contract line builds the line's milestone billing schedule; a milestone
//! completed or accepted makes the lines waiting for it ready to invoice.

use atrium_kit::{
    TenantTransaction,
    command::{self, Command},
    events::{DomainEvent, HandlerError},
};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use uuid::Uuid;

use super::{parse, refused};
use crate::{
    billing_commands::{self, BILLING_AUTOMATION},
    domain::billing::{BillingMilestone, BillingTrigger},
};

pub const ENGAGEMENT_CREATED: &str = "delivery.engagement.created";
pub const MILESTONE_COMPLETED: &str = "delivery.milestone.completed";
pub const MILESTONE_ACCEPTED: &str = "delivery.milestone.accepted";

#[derive(Deserialize)]
struct EngagementCreated {
    #[serde(default)]
    milestones: Vec<MilestoneData>,
}

#[derive(Deserialize)]
struct MilestoneData {
    milestone_id: Uuid,
    seq: i32,
    name: String,
    #[serde(default)]
    due_date: Option<NaiveDate>,
    #[serde(default)]
    is_billing: bool,
    /// A fraction as a string (`"0.40"`) or null.
    #[serde(default)]
    billing_pct: Option<Decimal>,
    #[serde(default)]
    requires_acceptance: bool,
}

fn command(operation: &'static str, entity_type: &'static str) -> Command {
    Command { operation, entity_type, allowed_roles: BILLING_AUTOMATION, target: None }
}

/// Builds the schedule of the engagement's contract line. An engagement without a
/// contract line (created by hand) or without billing milestones bills nothing here.
pub async fn engagement_created(tx: &TenantTransaction, event: &DomainEvent) -> Result<(), HandlerError> {
    let data: EngagementCreated = parse(event)?;
    let Some(contract_line_id) = event.refs.get("contract_line_id").copied() else { return Ok(()) };
    let engagement_id = event.refs.get("engagement_id").copied().unwrap_or(event.subject.id);
    let milestones: Vec<BillingMilestone> = data
        .milestones
        .into_iter()
        .filter(|milestone| milestone.is_billing)
        .map(|milestone| BillingMilestone {
            milestone_id: milestone.milestone_id,
            seq: milestone.seq,
            name: milestone.name,
            due_date: milestone.due_date,
            billing_pct: milestone.billing_pct,
            requires_acceptance: milestone.requires_acceptance,
        })
        .collect();
    if milestones.is_empty() {
        return Ok(());
    }
    command::execute_within(tx, &command("buildBillingSchedule", "BillingSchedule"), |tx| {
        Box::pin(billing_commands::build_milestone_schedule(tx, engagement_id, contract_line_id, milestones))
    })
    .await
    .map_err(refused)?;
    Ok(())
}

/// Makes ready the lines that wait for this milestone's completion or acceptance.
pub async fn milestone_reached(tx: &TenantTransaction, event: &DomainEvent) -> Result<(), HandlerError> {
    let trigger = if event.event_type == MILESTONE_ACCEPTED {
        BillingTrigger::MilestoneAccepted
    } else {
        BillingTrigger::MilestoneCompleted
    };
    let milestone_id = event.subject.id;
    command::execute_within(tx, &command("markBillingLinesReady", "BillingScheduleLine"), |tx| {
        Box::pin(billing_commands::mark_milestone_lines_ready(tx, milestone_id, trigger))
    })
    .await
    .map_err(refused)?;
    Ok(())
}
