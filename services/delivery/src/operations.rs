//! Delivery operations' writes (docs/domain.md#delivery-operations): logging, approving and
//! rejecting time; submitting and deciding change requests; forecasting milestones and the
//! daily late-milestone emitter. Each is the domain part of a kit command: load under the
//! tenant filter, guard the transition, validate, write conditionally on the version read,
//! and describe the change as domain events.

use atrium_kit::{
    TenantContext, TenantTransaction,
    command::{self, CommandError, Outcome, guard_transition},
    events::{DomainEvent, Subject},
    tenant::AUTOMATION_ROLE,
};
use chrono::{Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    sea_query::{Expr, SimpleExpr},
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    commands::{command, engagement_event},
    domain::{
        Engagement, EngagementStatus, Milestone, MilestoneStatus,
        operations::{
            ChangeRequest, ChangeRequestStatus, StaffMember, TimeCategory, TimeEntry, TimeEntryStatus, cents,
            check_time_entry,
        },
    },
    entities::{change_request, engagement, milestone, time_entry},
    error::DeliveryError,
    repository::{self, operations as repo},
};

/// Who may log time: consultants their own, the delivery team for anyone.
pub const TIME_ROLES: &[&str] = &["consultant", "delivery_manager", "tenant_admin"];
/// Who may log time on someone else's behalf, and approve or reject it.
pub const TIME_APPROVER_ROLES: &[&str] = &["delivery_manager", "tenant_admin"];
/// Who may raise or withdraw a change request.
pub const CHANGE_ROLES: &[&str] = &["delivery_manager", "tenant_admin", "csm"];
/// Who decides change requests.
pub const CHANGE_APPROVER_ROLES: &[&str] = &["delivery_manager", "tenant_admin"];
/// Who may forecast a milestone.
pub const FORECAST_ROLES: &[&str] = &["delivery_manager", "tenant_admin", AUTOMATION_ROLE];
/// The daily emitter's name: its lease key, audit actor and log label.
pub const LATE_MILESTONES_JOB: &str = "delivery.milestone_became_late";

fn internal(error: DeliveryError) -> CommandError {
    match error {
        DeliveryError::Database(error) => CommandError::Database(error),
        other => CommandError::Database(DbErr::Custom(other.to_string())),
    }
}

async fn load_engagement(tx: &TenantTransaction, id: Uuid) -> Result<Engagement, CommandError> {
    repository::engagements_by_ids(tx, &[id]).await.map_err(internal)?.pop().ok_or(CommandError::NotFound("Engagement"))
}

async fn load_time_entry(tx: &TenantTransaction, id: Uuid) -> Result<TimeEntry, CommandError> {
    repo::time_entries_by_ids(tx, &[id]).await.map_err(internal)?.pop().ok_or(CommandError::NotFound("TimeEntry"))
}

async fn load_change_request(tx: &TenantTransaction, id: Uuid) -> Result<ChangeRequest, CommandError> {
    repo::change_requests_by_ids(tx, &[id])
        .await
        .map_err(internal)?
        .pop()
        .ok_or(CommandError::NotFound("ChangeRequest"))
}

fn two_places(value: Decimal) -> String {
    cents(value).to_string()
}

// ---------------------------------------------------------------------------------------
// Time entries.

/// What a caller logs.
#[derive(Debug, Clone)]
pub struct TimeInput {
    pub engagement_id: Uuid,
    /// Someone else's entry (delivery team only); else the caller's own staff member.
    pub staff_member_id: Option<Uuid>,
    pub work_date: NaiveDate,
    pub hours: Decimal,
    pub billable: bool,
    pub category: TimeCategory,
    pub note: Option<String>,
}

/// The staff member the entry is for: the named one (delivery team only) or the caller's.
async fn staff_for(tx: &TenantTransaction, named: Option<Uuid>) -> Result<StaffMember, CommandError> {
    let caller = tx.context();
    match named {
        Some(id) => {
            if !TIME_APPROVER_ROLES.iter().any(|role| caller.has_role(role)) {
                return Err(CommandError::Forbidden { allowed_roles: TIME_APPROVER_ROLES });
            }
            repo::staff_members_by_ids(tx, &[id])
                .await
                .map_err(internal)?
                .pop()
                .ok_or(CommandError::NotFound("StaffMember"))
        }
        None => repo::staff_member_of_user(tx, &caller.subject).await.map_err(internal)?.ok_or_else(|| {
            CommandError::Invalid("staffMemberId: the caller is not a staff member of the tenant; name one".to_owned())
        }),
    }
}

/// `submitTimeEntry`: a submitted entry priced at the person's current rates.
pub async fn submit_time_entry(
    tx: &TenantTransaction,
    input: TimeInput,
    today: NaiveDate,
) -> Result<Outcome<TimeEntry>, CommandError> {
    let staff = staff_for(tx, input.staff_member_id).await?;
    let engagement = load_engagement(tx, input.engagement_id).await?;
    let already = repo::hours_logged_on(tx, staff.id, input.work_date, None).await.map_err(internal)?;
    check_time_entry(input.hours, input.work_date, today, already, engagement.status)?;
    let id = Uuid::now_v7();
    let row = time_entry::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(id),
        staff_member_id: Set(staff.id),
        engagement_id: Set(engagement.id),
        work_date: Set(input.work_date),
        hours: Set(input.hours),
        billable: Set(input.billable),
        category: Set(input.category.as_str().to_owned()),
        note: Set(input.note.filter(|note| !note.trim().is_empty())),
        status: Set(TimeEntryStatus::Submitted.as_str().to_owned()),
        cost_rate: Set(staff.cost_rate),
        bill_rate: Set(staff.bill_rate),
        currency: Set(staff.rate_currency.clone()),
        rejection_reason: Set(None),
        submitted_at: Set(Some(Utc::now())),
        decided_at: Set(None),
        decided_by: Set(None),
        version: Set(1),
    };
    time_entry::Entity::insert(row).exec_without_returning(tx.connection()).await?;
    let entry = load_time_entry(tx, id).await?;
    let event = time_event(tx, &engagement, &entry, "delivery.time_entry.submitted", 1).with_data(json!({
        "time_entry_id": entry.id,
        "staff_member_id": entry.staff_member_id,
        "work_date": entry.work_date,
        "hours": two_places(entry.hours),
        "billable": entry.billable,
        "category": entry.category.as_str(),
    }));
    let detail = format!("{} h on {} -> submitted", entry.hours, entry.work_date);
    Ok(Outcome { value: entry, entity_ids: vec![id], detail, events: vec![event] })
}

fn time_event(
    tx: &TenantTransaction,
    engagement: &Engagement,
    entry: &TimeEntry,
    event_type: &str,
    version: i64,
) -> DomainEvent {
    let subject = Subject { entity_type: "TimeEntry".to_owned(), id: entry.id, version };
    let mut event = DomainEvent::new(tx.context(), event_type, subject)
        .with_ref("customer_account_id", engagement.customer_account_id)
        .with_ref("engagement_id", engagement.id)
        .with_ref("staff_member_id", entry.staff_member_id);
    if let Some(contract_id) = engagement.contract_id {
        event = event.with_ref("contract_id", contract_id);
    }
    event
}

async fn update_time_entry(
    tx: &TenantTransaction,
    entry: &TimeEntry,
    changes: Vec<(time_entry::Column, SimpleExpr)>,
) -> Result<(), CommandError> {
    let mut update =
        time_entry::Entity::update_many().col_expr(time_entry::Column::Version, Expr::value(entry.version + 1));
    for (column, value) in changes {
        update = update.col_expr(column, value);
    }
    let result = update
        .filter(time_entry::Column::TenantId.eq(tx.tenant_id()))
        .filter(time_entry::Column::Id.eq(entry.id))
        .filter(time_entry::Column::Version.eq(entry.version))
        .exec(tx.connection())
        .await?;
    if result.rows_affected != 1 {
        return Err(CommandError::stale("TimeEntry"));
    }
    Ok(())
}

/// `approveTimeEntry`: submitted → approved; emits what finance prices (interfaces B3).
pub async fn approve_time_entry(tx: &TenantTransaction, id: Uuid) -> Result<Outcome<TimeEntry>, CommandError> {
    let entry = load_time_entry(tx, id).await?;
    guard_transition(entry.status, TimeEntryStatus::Approved)?;
    let engagement = load_engagement(tx, entry.engagement_id).await?;
    update_time_entry(
        tx,
        &entry,
        vec![
            (time_entry::Column::Status, Expr::value(TimeEntryStatus::Approved.as_str())),
            (time_entry::Column::DecidedAt, Expr::value(Utc::now())),
            (time_entry::Column::DecidedBy, Expr::value(tx.context().subject.clone())),
        ],
    )
    .await?;
    let event =
        time_event(tx, &engagement, &entry, "delivery.time_entry.approved", entry.version + 1).with_data(json!({
            "time_entry_id": entry.id,
            "staff_member_id": entry.staff_member_id,
            "engagement_id": engagement.id,
            "work_date": entry.work_date,
            "hours": two_places(entry.hours),
            "billable": entry.billable,
            "cost_amount": entry.cost_amount().to_string(),
            "bill_amount": entry.bill_amount().to_string(),
            "currency": entry.currency,
            "category": entry.category.as_str(),
        }));
    Ok(Outcome {
        value: load_time_entry(tx, id).await?,
        entity_ids: vec![id],
        detail: "submitted -> approved".to_owned(),
        events: vec![event],
    })
}

/// `rejectTimeEntry`: submitted → rejected with a reason the person can act on.
pub async fn reject_time_entry(
    tx: &TenantTransaction,
    id: Uuid,
    reason: String,
) -> Result<Outcome<TimeEntry>, CommandError> {
    let entry = load_time_entry(tx, id).await?;
    guard_transition(entry.status, TimeEntryStatus::Rejected)?;
    let reason = reason.trim().to_owned();
    if reason.is_empty() {
        return Err(CommandError::Invalid("reason: say why the entry is rejected".to_owned()));
    }
    let engagement = load_engagement(tx, entry.engagement_id).await?;
    update_time_entry(
        tx,
        &entry,
        vec![
            (time_entry::Column::Status, Expr::value(TimeEntryStatus::Rejected.as_str())),
            (time_entry::Column::RejectionReason, Expr::value(reason.clone())),
            (time_entry::Column::DecidedAt, Expr::value(Utc::now())),
            (time_entry::Column::DecidedBy, Expr::value(tx.context().subject.clone())),
        ],
    )
    .await?;
    let event = time_event(tx, &engagement, &entry, "delivery.time_entry.rejected", entry.version + 1)
        .with_data(json!({ "time_entry_id": entry.id, "reason": reason }));
    Ok(Outcome {
        value: load_time_entry(tx, id).await?,
        entity_ids: vec![id],
        detail: "submitted -> rejected".to_owned(),
        events: vec![event],
    })
}

/// `resubmitTimeEntry`: rejected → submitted, optionally with corrected hours; the same
/// rules as logging apply (its own hours do not count twice).
pub async fn resubmit_time_entry(
    tx: &TenantTransaction,
    id: Uuid,
    hours: Option<Decimal>,
    note: Option<String>,
    today: NaiveDate,
) -> Result<Outcome<TimeEntry>, CommandError> {
    let entry = load_time_entry(tx, id).await?;
    guard_transition(entry.status, TimeEntryStatus::Submitted)?;
    let caller = tx.context();
    if !TIME_APPROVER_ROLES.iter().any(|role| caller.has_role(role)) {
        let own = repo::staff_member_of_user(tx, &caller.subject).await.map_err(internal)?;
        if own.is_none_or(|staff| staff.id != entry.staff_member_id) {
            return Err(CommandError::Forbidden { allowed_roles: TIME_APPROVER_ROLES });
        }
    }
    let engagement = load_engagement(tx, entry.engagement_id).await?;
    let hours = hours.unwrap_or(entry.hours);
    let already =
        repo::hours_logged_on(tx, entry.staff_member_id, entry.work_date, Some(id)).await.map_err(internal)?;
    check_time_entry(hours, entry.work_date, today, already, engagement.status)?;
    let mut changes = vec![
        (time_entry::Column::Status, Expr::value(TimeEntryStatus::Submitted.as_str())),
        (time_entry::Column::Hours, Expr::value(hours)),
        (time_entry::Column::RejectionReason, Expr::value(Option::<String>::None)),
        (time_entry::Column::SubmittedAt, Expr::value(Utc::now())),
    ];
    if let Some(note) = note {
        changes.push((time_entry::Column::Note, Expr::value(note)));
    }
    update_time_entry(tx, &entry, changes).await?;
    let event =
        time_event(tx, &engagement, &entry, "delivery.time_entry.submitted", entry.version + 1).with_data(json!({
            "time_entry_id": entry.id,
            "staff_member_id": entry.staff_member_id,
            "work_date": entry.work_date,
            "hours": two_places(hours),
            "billable": entry.billable,
            "category": entry.category.as_str(),
        }));
    Ok(Outcome {
        value: load_time_entry(tx, id).await?,
        entity_ids: vec![id],
        detail: "rejected -> submitted".to_owned(),
        events: vec![event],
    })
}

// ---------------------------------------------------------------------------------------
// Change requests.

/// What a change request proposes.
#[derive(Debug, Clone)]
pub struct ChangeInput {
    pub engagement_id: Uuid,
    pub title: String,
    pub impact_hours: Decimal,
    pub impact_price: Decimal,
    pub impact_days: i32,
    pub reason: Option<String>,
}

fn change_event(
    tx: &TenantTransaction,
    engagement: &Engagement,
    change: &ChangeRequest,
    verb: &str,
    version: i64,
) -> DomainEvent {
    let subject = Subject { entity_type: "ChangeRequest".to_owned(), id: change.id, version };
    let mut event = DomainEvent::new(tx.context(), &format!("delivery.change_request.{verb}"), subject)
        .with_ref("customer_account_id", engagement.customer_account_id)
        .with_ref("engagement_id", engagement.id);
    if let Some(contract_id) = engagement.contract_id {
        event = event.with_ref("contract_id", contract_id);
    }
    event
}

fn change_data(engagement: &Engagement, change: &ChangeRequest) -> serde_json::Value {
    json!({
        "change_request_id": change.id,
        "title": change.title,
        "impact_hours": two_places(change.impact_hours),
        "impact_price": two_places(change.impact_price),
        "impact_days": change.impact_days,
        "currency": engagement.currency,
    })
}

/// `submitChangeRequest`: a submitted request numbered per engagement (`CR-001`, …).
pub async fn submit_change_request(
    tx: &TenantTransaction,
    input: ChangeInput,
) -> Result<Outcome<ChangeRequest>, CommandError> {
    let title = input.title.trim().to_owned();
    if title.is_empty() {
        return Err(CommandError::Invalid("title is empty".to_owned()));
    }
    for (field, value) in [("impactHours", input.impact_hours), ("impactPrice", input.impact_price)] {
        if value.normalize().scale() > 2 {
            return Err(CommandError::Invalid(format!("{field} takes at most two decimals, got {value}")));
        }
    }
    let engagement = load_engagement(tx, input.engagement_id).await?;
    if matches!(engagement.status, EngagementStatus::Closed | EngagementStatus::Cancelled) {
        return Err(CommandError::Conflict(format!(
            "a {} engagement takes no change requests",
            engagement.status.as_str()
        )));
    }
    let existing = change_request::Entity::find()
        .filter(change_request::Column::TenantId.eq(tx.tenant_id()))
        .filter(change_request::Column::EngagementId.eq(engagement.id))
        .count(tx.connection())
        .await?;
    let id = Uuid::now_v7();
    let row = change_request::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(id),
        engagement_id: Set(engagement.id),
        number: Set(format!("CR-{:03}", existing + 1)),
        title: Set(title),
        reason: Set(input.reason.filter(|reason| !reason.trim().is_empty())),
        impact_hours: Set(input.impact_hours),
        impact_price: Set(input.impact_price),
        impact_days: Set(input.impact_days),
        status: Set(ChangeRequestStatus::Submitted.as_str().to_owned()),
        submitted_at: Set(Utc::now()),
        decided_at: Set(None),
        decided_by: Set(None),
        decision_reason: Set(None),
        version: Set(1),
    };
    change_request::Entity::insert(row).exec_without_returning(tx.connection()).await?;
    let change = load_change_request(tx, id).await?;
    let event = change_event(tx, &engagement, &change, "submitted", 1).with_data(change_data(&engagement, &change));
    let detail = format!("{} -> submitted", change.number);
    Ok(Outcome { value: change, entity_ids: vec![id], detail, events: vec![event] })
}

/// The decision on a change request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeDecision {
    Approve,
    Reject,
    Withdraw,
}

/// `approveChangeRequest`, `rejectChangeRequest`, `withdrawChangeRequest`. Approval adds
/// the impact hours to the engagement's budget and moves its go-live target and forecast
/// by the impact days, in the same command.
pub async fn decide_change_request(
    tx: &TenantTransaction,
    id: Uuid,
    decision: ChangeDecision,
    reason: Option<String>,
) -> Result<Outcome<ChangeRequest>, CommandError> {
    let change = load_change_request(tx, id).await?;
    let (next, verb) = match decision {
        ChangeDecision::Approve => (ChangeRequestStatus::Approved, "approved"),
        ChangeDecision::Reject => (ChangeRequestStatus::Rejected, "rejected"),
        ChangeDecision::Withdraw => (ChangeRequestStatus::Withdrawn, "withdrawn"),
    };
    guard_transition(change.status, next)?;
    let reason = reason.map(|reason| reason.trim().to_owned()).filter(|reason| !reason.is_empty());
    if decision == ChangeDecision::Reject && reason.is_none() {
        return Err(CommandError::Invalid("reason: say why the change request is rejected".to_owned()));
    }
    let engagement = load_engagement(tx, change.engagement_id).await?;
    let result = change_request::Entity::update_many()
        .col_expr(change_request::Column::Status, Expr::value(next.as_str()))
        .col_expr(change_request::Column::DecidedAt, Expr::value(Utc::now()))
        .col_expr(change_request::Column::DecidedBy, Expr::value(tx.context().subject.clone()))
        .col_expr(change_request::Column::DecisionReason, Expr::value(reason.clone()))
        .col_expr(change_request::Column::Version, Expr::value(change.version + 1))
        .filter(change_request::Column::TenantId.eq(tx.tenant_id()))
        .filter(change_request::Column::Id.eq(change.id))
        .filter(change_request::Column::Version.eq(change.version))
        .exec(tx.connection())
        .await?;
    if result.rows_affected != 1 {
        return Err(CommandError::stale("ChangeRequest"));
    }
    let mut entity_ids = vec![change.id];
    let mut detail = format!("{} submitted -> {verb}", change.number);
    let mut forecast_event = None;
    if decision == ChangeDecision::Approve {
        if matches!(engagement.status, EngagementStatus::Closed | EngagementStatus::Cancelled) {
            return Err(CommandError::Conflict(format!(
                "a {} engagement cannot be replanned",
                engagement.status.as_str()
            )));
        }
        let shift = |date: Option<NaiveDate>| date.map(|date| date + Duration::days(change.impact_days.into()));
        let budget = engagement.budget_hours.unwrap_or(Decimal::ZERO) + change.impact_hours;
        let updated = engagement::Entity::update_many()
            .col_expr(engagement::Column::BudgetHours, Expr::value(budget))
            .col_expr(engagement::Column::GoLiveTargetDate, Expr::value(shift(engagement.go_live_target_date)))
            .col_expr(engagement::Column::GoLiveForecastDate, Expr::value(shift(engagement.go_live_forecast_date)))
            .col_expr(engagement::Column::Version, Expr::value(engagement.version + 1))
            .filter(engagement::Column::TenantId.eq(tx.tenant_id()))
            .filter(engagement::Column::Id.eq(engagement.id))
            .filter(engagement::Column::Version.eq(engagement.version))
            .exec(tx.connection())
            .await?;
        if updated.rows_affected != 1 {
            return Err(CommandError::stale("Engagement"));
        }
        entity_ids.push(engagement.id);
        detail.push_str(&format!("; budget {budget} h, go-live moved {} d", change.impact_days));
        let new_forecast = shift(engagement.go_live_forecast_date);
        if new_forecast != engagement.go_live_forecast_date {
            forecast_event = Some(go_live_forecast_changed(
                tx,
                &engagement,
                engagement.version + 1,
                engagement.go_live_forecast_date,
                new_forecast,
                shift(engagement.go_live_target_date),
            ));
        }
    }
    let mut data = change_data(&engagement, &change);
    if let Some(reason) = &reason {
        data["reason"] = json!(reason);
    }
    let event = change_event(tx, &engagement, &change, verb, change.version + 1).with_data(data);
    let events = std::iter::once(event).chain(forecast_event).collect();
    Ok(Outcome { value: load_change_request(tx, id).await?, entity_ids, detail, events })
}

// ---------------------------------------------------------------------------------------
// Milestone forecasts and lateness.

/// `delivery.engagement.go_live_forecast_changed` for an engagement (at `version`) whose
/// go-live forecast moved from `old` to `new`; `variance_days` is `new − target`.
fn go_live_forecast_changed(
    tx: &TenantTransaction,
    engagement: &Engagement,
    version: i64,
    old: Option<NaiveDate>,
    new: Option<NaiveDate>,
    target: Option<NaiveDate>,
) -> DomainEvent {
    let variance_days = new.zip(target).map(|(new, target)| (new - target).num_days());
    engagement_event(tx, engagement, "delivery.engagement.go_live_forecast_changed", version).with_data(json!({
        "old": old,
        "new": new,
        "target": target,
        "variance_days": variance_days,
    }))
}

fn milestone_event(tx: &TenantTransaction, engagement: &Engagement, milestone: &Milestone, verb: &str) -> DomainEvent {
    let subject = Subject { entity_type: "Milestone".to_owned(), id: milestone.id, version: milestone.version + 1 };
    DomainEvent::new(tx.context(), &format!("delivery.milestone.{verb}"), subject)
        .with_ref("customer_account_id", engagement.customer_account_id)
        .with_ref("engagement_id", engagement.id)
}

/// `forecastMilestone`: a new forecast date for an open milestone (a go-live milestone's
/// also becomes the engagement's go-live forecast).
pub async fn forecast_milestone(
    tx: &TenantTransaction,
    id: Uuid,
    forecast_date: NaiveDate,
    reason: Option<String>,
) -> Result<Outcome<Milestone>, CommandError> {
    let milestone = repository::milestones_by_ids(tx, &[id])
        .await
        .map_err(internal)?
        .pop()
        .ok_or(CommandError::NotFound("Milestone"))?;
    if milestone.status.is_done() {
        return Err(CommandError::Conflict(format!("a {} milestone has no forecast", milestone.status.as_str())));
    }
    let engagement = load_engagement(tx, milestone.engagement_id).await?;
    if matches!(engagement.status, EngagementStatus::Closed | EngagementStatus::Cancelled) {
        return Err(CommandError::Conflict(format!(
            "milestones of a {} engagement do not move",
            engagement.status.as_str()
        )));
    }
    let result = milestone::Entity::update_many()
        .col_expr(milestone::Column::ForecastDate, Expr::value(forecast_date))
        .col_expr(milestone::Column::Version, Expr::value(milestone.version + 1))
        .filter(milestone::Column::TenantId.eq(tx.tenant_id()))
        .filter(milestone::Column::Id.eq(milestone.id))
        .filter(milestone::Column::Version.eq(milestone.version))
        .exec(tx.connection())
        .await?;
    if result.rows_affected != 1 {
        return Err(CommandError::stale("Milestone"));
    }
    let mut entity_ids = vec![milestone.id];
    let mut forecast_event = None;
    if milestone.is_go_live {
        let updated = engagement::Entity::update_many()
            .col_expr(engagement::Column::GoLiveForecastDate, Expr::value(forecast_date))
            .col_expr(engagement::Column::Version, Expr::value(engagement.version + 1))
            .filter(engagement::Column::TenantId.eq(tx.tenant_id()))
            .filter(engagement::Column::Id.eq(engagement.id))
            .filter(engagement::Column::Version.eq(engagement.version))
            .exec(tx.connection())
            .await?;
        if updated.rows_affected != 1 {
            return Err(CommandError::stale("Engagement"));
        }
        entity_ids.push(engagement.id);
        if engagement.go_live_forecast_date != Some(forecast_date) {
            forecast_event = Some(go_live_forecast_changed(
                tx,
                &engagement,
                engagement.version + 1,
                engagement.go_live_forecast_date,
                Some(forecast_date),
                engagement.go_live_target_date,
            ));
        }
    }
    let slip_days = milestone.due_date.map(|due| (forecast_date - due).num_days());
    let event = milestone_event(tx, &engagement, &milestone, "forecast_changed").with_data(json!({
        "name": milestone.name,
        "seq": milestone.seq,
        "is_go_live": milestone.is_go_live,
        "is_billing": milestone.is_billing,
        "due_date": milestone.due_date,
        "previous_forecast_date": milestone.forecast_date,
        "forecast_date": forecast_date,
        "slip_days": slip_days,
        "reason": reason,
    }));
    let detail = format!("forecast {:?} -> {forecast_date}", milestone.forecast_date);
    let value = repository::milestones_by_ids(tx, &[id])
        .await
        .map_err(internal)?
        .pop()
        .ok_or(CommandError::NotFound("Milestone"))?;
    let events = std::iter::once(event).chain(forecast_event).collect();
    Ok(Outcome { value, entity_ids, detail, events })
}

/// Engagement statuses in which an overdue milestone is news.
const RUNNING: [EngagementStatus; 4] =
    [EngagementStatus::Onboarding, EngagementStatus::Delivering, EngagementStatus::Live, EngagementStatus::OnHold];

/// One pass of the daily emitter for one tenant: every open milestone of a running
/// engagement whose due date is before `today` and that was never announced gets
/// `delivery.milestone.became_late`, and `late_emitted_at` in the same transaction. The
/// mark is set by an update conditional on it being empty, so two passes racing (two
/// replicas) announce each milestone once: the second waits for the first's row lock and
/// then matches nothing. Returns the milestones announced.
pub async fn emit_late_milestones(
    database: &DatabaseConnection,
    tenant_id: Uuid,
    today: NaiveDate,
) -> Result<u64, DbErr> {
    let context = TenantContext::automation(tenant_id, LATE_MILESTONES_JOB);
    let tx = TenantTransaction::begin_write(database, &context).await?;
    let running = engagement::Entity::find()
        .filter(engagement::Column::TenantId.eq(tenant_id))
        .filter(engagement::Column::Status.is_in(RUNNING.map(EngagementStatus::as_str)))
        .all(tx.connection())
        .await?;
    let overdue = milestone::Entity::find()
        .filter(milestone::Column::TenantId.eq(tenant_id))
        .filter(milestone::Column::EngagementId.is_in(running.iter().map(|row| row.id)))
        .filter(milestone::Column::DueDate.lt(today))
        .filter(milestone::Column::LateEmittedAt.is_null())
        .filter(
            milestone::Column::Status
                .is_in([MilestoneStatus::NotStarted.as_str(), MilestoneStatus::InProgress.as_str()]),
        )
        .all(tx.connection())
        .await?;
    if overdue.is_empty() {
        return Ok(0);
    }
    let engagements: std::collections::HashMap<Uuid, Engagement> = running
        .into_iter()
        .map(|row| repository::engagement_from_row(row).map(|engagement| (engagement.id, engagement)))
        .collect::<Result<_, _>>()
        .map_err(|error| DbErr::Custom(error.to_string()))?;
    let command = command("emitLateMilestones", "Milestone", &[AUTOMATION_ROLE], None);
    let announced = command::execute_within(&tx, &command, |tx| {
        Box::pin(async move {
            let mut events = Vec::new();
            let mut entity_ids = Vec::new();
            for row in overdue {
                let marked = milestone::Entity::update_many()
                    .col_expr(milestone::Column::LateEmittedAt, Expr::value(Utc::now()))
                    .filter(milestone::Column::TenantId.eq(tx.tenant_id()))
                    .filter(milestone::Column::Id.eq(row.id))
                    .filter(milestone::Column::LateEmittedAt.is_null())
                    .exec(tx.connection())
                    .await?;
                if marked.rows_affected != 1 {
                    continue;
                }
                let milestone = repository::milestone_from_row(row).map_err(internal)?;
                let Some(engagement) = engagements.get(&milestone.engagement_id) else { continue };
                let days_late = milestone.due_date.map(|due| (today - due).num_days());
                // The subject version stays the milestone's: the mark is not a change of it.
                let subject =
                    Subject { entity_type: "Milestone".to_owned(), id: milestone.id, version: milestone.version };
                events.push(
                    DomainEvent::new(tx.context(), "delivery.milestone.became_late", subject)
                        .with_ref("customer_account_id", engagement.customer_account_id)
                        .with_ref("engagement_id", engagement.id)
                        .with_data(json!({
                            "name": milestone.name,
                            "seq": milestone.seq,
                            "is_go_live": milestone.is_go_live,
                            "is_billing": milestone.is_billing,
                            "due_date": milestone.due_date,
                            "forecast_date": milestone.forecast_date,
                            "days_late": days_late,
                        })),
                );
                entity_ids.push(milestone.id);
            }
            let count = events.len() as u64;
            Ok(Outcome { value: count, entity_ids, detail: format!("{count} milestones became late"), events })
        })
    })
    .await
    .map_err(|error| match error {
        CommandError::Database(error) => error,
        other => DbErr::Custom(other.to_string()),
    })?;
    tx.commit().await?;
    Ok(announced)
}

/// The late-milestone emitter as a scheduled job: every pass announces, per tenant, the
/// milestones that became late by the tenant's business date and were not announced yet
/// (at most once each, whichever replica holds the lease).
pub struct LateMilestones {
    calendar: crate::calendar::BusinessCalendar,
}

impl LateMilestones {
    pub fn new(calendar: crate::calendar::BusinessCalendar) -> Self {
        LateMilestones { calendar }
    }
}

impl atrium_kit::schedule::ScheduledJob for LateMilestones {
    fn name(&self) -> &'static str {
        LATE_MILESTONES_JOB
    }

    /// A milestone is late from the first pass of the day after its due date; passes in
    /// between find nothing, so a short pause only bounds how late the news is.
    fn every(&self) -> std::time::Duration {
        std::time::Duration::from_secs(300)
    }

    fn run_for_tenant<'a>(
        &'a self,
        database: &'a DatabaseConnection,
        tick: &'a atrium_kit::schedule::TenantTick,
    ) -> futures::future::BoxFuture<'a, Result<u64, DbErr>> {
        let today = match self.calendar {
            crate::calendar::BusinessCalendar::Fixed(date) => date,
            crate::calendar::BusinessCalendar::TenantClock => tick.today,
        };
        Box::pin(emit_late_milestones(database, tick.tenant_id, today))
    }
}
