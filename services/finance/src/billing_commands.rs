//! The domain parts of billing's commands (docs/domain.md#billing-schedules): building a
//! contract line's milestone schedule from delivery's engagement, making lines ready when
//! their milestone is completed or accepted, and flagging or clearing a line's risk. Each
//! runs inside the kit's command transaction; the role check, audit entry and outbox are
//! the kit's.

use atrium_kit::{
    TenantTransaction,
    changes::{self, ChangeKind},
    command::{CommandError, Outcome, guard_transition},
    events::{DomainEvent, Subject},
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    config::SERVICE,
    domain::billing::{
        self, BillingLineStatus, BillingMilestone, BillingSchedule, BillingScheduleKind, BillingScheduleLine,
        BillingTrigger,
    },
    error::FinanceError,
    repository::{self, billing::LineChange},
};

/// Roles that flag a billing line at risk or clear the risk (automation A2 too).
pub const BILLING_EDITORS: &[&str] = &["tenant_admin", "finance", atrium_kit::tenant::AUTOMATION_ROLE];
/// Schedules and readiness follow delivery's events only.
pub const BILLING_AUTOMATION: &[&str] = &[atrium_kit::tenant::AUTOMATION_ROLE];

/// Longest risk reason kept.
const MAX_REASON_LENGTH: usize = 500;

/// Builds the milestone billing schedule of `contract_line_id` for engagement
/// `engagement_id`: one line per billing milestone, the line amount split by the
/// milestones' shares to the exact cent. `None` when there is nothing to build: the line
/// is unknown, already has a schedule (a redelivery) or no milestone bills.
pub async fn build_milestone_schedule(
    tx: &TenantTransaction,
    engagement_id: Uuid,
    contract_line_id: Uuid,
    mut milestones: Vec<BillingMilestone>,
) -> Result<Outcome<Option<BillingSchedule>>, CommandError> {
    let nothing = |detail: &str| Outcome { value: None, entity_ids: vec![], detail: detail.to_owned(), events: vec![] };
    let Some(line) = repository::billing::contract_line_by_id(tx, contract_line_id).await.map_err(internal)? else {
        return Ok(nothing("unknown contract line; no schedule"));
    };
    if repository::billing::schedule_of_contract_line(tx, contract_line_id).await.map_err(internal)?.is_some() {
        return Ok(nothing("the contract line already has a schedule"));
    }
    if milestones.is_empty() {
        return Ok(nothing("no billing milestone; no schedule"));
    }
    let contract = repository::contracts_by_ids(tx, &[line.contract_id])
        .await
        .map_err(internal)?
        .pop()
        .ok_or(CommandError::NotFound("Contract"))?;
    milestones.sort_by_key(|milestone| milestone.seq);
    let shares = billing::billing_shares(&milestones.iter().map(|milestone| milestone.billing_pct).collect::<Vec<_>>());
    let amounts = billing::split_amount(line.amount, &shares);
    let schedule = BillingSchedule {
        id: Uuid::now_v7(),
        contract_id: contract.id,
        contract_line_id: Some(line.id),
        engagement_id: Some(engagement_id),
        kind: BillingScheduleKind::Milestone,
        currency: contract.currency.clone(),
    };
    let lines: Vec<BillingScheduleLine> = milestones
        .iter()
        .zip(amounts)
        .enumerate()
        .map(|(index, (milestone, amount))| BillingScheduleLine {
            id: Uuid::now_v7(),
            billing_schedule_id: schedule.id,
            contract_id: contract.id,
            seq: i32::try_from(index + 1).unwrap_or(i32::MAX),
            description: format!("{}: {}", line.description, milestone.name),
            planned_date: milestone.due_date,
            amount,
            currency: contract.currency.clone(),
            trigger: billing::milestone_trigger(milestone.requires_acceptance),
            milestone_id: Some(milestone.milestone_id),
            status: BillingLineStatus::Planned,
            risk_reason: None,
            invoice_id: None,
            version: 1,
        })
        .collect();
    match repository::billing::insert_schedule(tx, &schedule, &lines).await {
        Ok(()) => {}
        // A concurrent delivery of the same engagement built it first.
        Err(FinanceError::Database(error))
            if matches!(error.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) =>
        {
            return Err(CommandError::Conflict("the contract line's schedule was built concurrently".to_owned()));
        }
        Err(error) => return Err(internal(error)),
    }
    changes::record_change(tx, SERVICE.name, "Contract", &contract.id.to_string(), ChangeKind::Updated).await?;
    let mut entity_ids = vec![schedule.id];
    entity_ids.extend(lines.iter().map(|line| line.id));
    let detail = format!("milestone schedule of {} line(s) for {} {}", lines.len(), line.amount, contract.currency);
    Ok(Outcome { value: Some(schedule), entity_ids, detail, events: vec![] })
}

/// Makes every line waiting for `milestone_id` on `trigger` ready, each announced with
/// `finance.billing_line.ready`. No line waiting is nothing to do (a milestone that does
/// not bill, or a redelivery).
pub async fn mark_milestone_lines_ready(
    tx: &TenantTransaction,
    milestone_id: Uuid,
    trigger: BillingTrigger,
) -> Result<Outcome<Vec<BillingScheduleLine>>, CommandError> {
    let waiting = repository::billing::lines_awaiting_milestone(tx, milestone_id, trigger).await.map_err(internal)?;
    let mut ready = Vec::with_capacity(waiting.len());
    let mut events = Vec::with_capacity(waiting.len());
    for line in waiting {
        guard_transition(line.status, BillingLineStatus::Ready)?;
        let change = LineChange { risk_reason: line.risk_reason.is_some().then_some(None), invoice_id: None };
        let changed = change_line(tx, &line, BillingLineStatus::Ready, change).await?;
        events.push(line_event(tx, "finance.billing_line.ready", &changed).await?);
        ready.push(changed);
    }
    let detail = format!("{} line(s) ready on {}", ready.len(), trigger.as_str());
    Ok(Outcome { entity_ids: ready.iter().map(|line| line.id).collect(), detail, events, value: ready })
}

/// `flagBillingLineAtRisk`: `planned → at_risk` with a reason; `finance.billing_line.at_risk`.
pub async fn flag_line_at_risk(
    tx: &TenantTransaction,
    line_id: Option<Uuid>,
    reason: String,
) -> Result<Outcome<BillingScheduleLine>, CommandError> {
    let reason = reason.trim().to_owned();
    if reason.is_empty() || reason.len() > MAX_REASON_LENGTH {
        return Err(CommandError::Invalid(format!("reason must have 1 to {MAX_REASON_LENGTH} characters")));
    }
    let line = load_line(tx, line_id).await?;
    guard_transition(line.status, BillingLineStatus::AtRisk)?;
    let change = LineChange { risk_reason: Some(Some(reason.clone())), invoice_id: None };
    let changed = change_line(tx, &line, BillingLineStatus::AtRisk, change).await?;
    let event = line_event(tx, "finance.billing_line.at_risk", &changed).await?;
    Ok(Outcome {
        entity_ids: vec![changed.id],
        detail: format!("planned -> at_risk: {reason}"),
        events: vec![event],
        value: changed,
    })
}

/// `clearBillingLineRisk`: `at_risk → planned`, the reason cleared (a plain change).
pub async fn clear_line_risk(
    tx: &TenantTransaction,
    line_id: Option<Uuid>,
) -> Result<Outcome<BillingScheduleLine>, CommandError> {
    let line = load_line(tx, line_id).await?;
    guard_transition(line.status, BillingLineStatus::Planned)?;
    let change = LineChange { risk_reason: Some(None), invoice_id: None };
    let changed = change_line(tx, &line, BillingLineStatus::Planned, change).await?;
    changes::record_change(tx, SERVICE.name, "BillingScheduleLine", &changed.id.to_string(), ChangeKind::Updated)
        .await?;
    Ok(Outcome {
        entity_ids: vec![changed.id],
        detail: "at_risk -> planned".to_owned(),
        events: vec![],
        value: changed,
    })
}

async fn load_line(tx: &TenantTransaction, line_id: Option<Uuid>) -> Result<BillingScheduleLine, CommandError> {
    let line_id = line_id.ok_or(CommandError::NotFound("BillingScheduleLine"))?;
    repository::billing::billing_lines_by_ids(tx, &[line_id])
        .await
        .map_err(internal)?
        .pop()
        .ok_or(CommandError::NotFound("BillingScheduleLine"))
}

pub(crate) async fn change_line(
    tx: &TenantTransaction,
    line: &BillingScheduleLine,
    next: BillingLineStatus,
    change: LineChange,
) -> Result<BillingScheduleLine, CommandError> {
    match repository::billing::change_billing_line(tx, line, next, change).await {
        Ok(changed) => Ok(changed),
        Err(FinanceError::Stale { .. }) => Err(CommandError::stale("BillingScheduleLine")),
        Err(error) => Err(internal(error)),
    }
}

/// `finance.billing_line.<verb>` about `line` after the change, with the customer and
/// contract it bills.
async fn line_event(
    tx: &TenantTransaction,
    event_type: &str,
    line: &BillingScheduleLine,
) -> Result<DomainEvent, CommandError> {
    let contract = repository::contracts_by_ids(tx, &[line.contract_id])
        .await
        .map_err(internal)?
        .pop()
        .ok_or(CommandError::NotFound("Contract"))?;
    let subject = Subject { entity_type: "BillingScheduleLine".to_owned(), id: line.id, version: line.version };
    let mut event = DomainEvent::new(tx.context(), event_type, subject)
        .with_ref("customer_account_id", contract.customer_account_id)
        .with_ref("contract_id", contract.id)
        .with_ref("billing_schedule_id", line.billing_schedule_id)
        .with_data(json!({
            "seq": line.seq,
            "description": line.description,
            "status": line.status.as_str(),
            "amount": line.amount.to_string(),
            "currency": line.currency,
            "planned_date": line.planned_date,
            "trigger": line.trigger.as_str(),
            "risk_reason": line.risk_reason,
        }));
    if let Some(milestone_id) = line.milestone_id {
        event = event.with_ref("milestone_id", milestone_id);
    }
    Ok(event)
}

/// A finance error inside a command: a defect or the database, never the caller's fault.
pub(crate) fn internal(error: FinanceError) -> CommandError {
    match error {
        FinanceError::Database(error) => CommandError::Database(error),
        other => CommandError::Database(sea_orm::DbErr::Custom(other.to_string())),
    }
}
