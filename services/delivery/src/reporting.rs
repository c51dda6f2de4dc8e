//! The commands of status reports, time off and assignments
//! (docs/domain.md#status-reports-time-off-and-assignments): each runs inside the kit's
//! command transaction, checks its input and the engagement it touches, writes
//! conditionally and returns the `Outcome` with its domain events.

use atrium_kit::{
    TenantTransaction,
    changes::{self, ChangeKind},
    command::{CommandError, Outcome, guard_transition},
    events::{DomainEvent, Subject},
};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;
use uuid::Uuid;

use crate::{
    config::SERVICE,
    domain::{
        Engagement, EngagementStatus, Rag,
        reporting::{
            Assignment, StatusReport, StatusReportStatus, TimeOff, check_assignment, check_status_report,
            check_time_off,
        },
    },
    entities::engagement,
    error::DeliveryError,
    repository::{self, operations as ops_repo, reporting as repo},
};

/// Who writes and publishes status reports.
pub const STATUS_REPORT_ROLES: &[&str] = &["delivery_manager", "tenant_admin"];
/// Who records time off and assigns staff.
pub const STAFFING_ROLES: &[&str] = &["delivery_manager", "tenant_admin"];

fn internal(error: DeliveryError) -> CommandError {
    CommandError::Database(sea_orm::DbErr::Custom(error.to_string()))
}

async fn load_engagement(tx: &TenantTransaction, id: Uuid) -> Result<Engagement, CommandError> {
    repository::engagements_by_ids(tx, &[id]).await.map_err(internal)?.pop().ok_or(CommandError::NotFound("Engagement"))
}

fn refuse_finished(engagement: &Engagement, what: &str) -> Result<(), CommandError> {
    if matches!(engagement.status, EngagementStatus::Closed | EngagementStatus::Cancelled) {
        return Err(CommandError::Conflict(format!("a {} engagement takes no {what}", engagement.status.as_str())));
    }
    Ok(())
}

/// Tells the response cache that `entity_type` `id` changed (its nested lists or RAG), in
/// the command's transaction.
async fn announce(tx: &TenantTransaction, entity_type: &str, id: Uuid) -> Result<(), CommandError> {
    changes::record_change(tx, SERVICE.name, entity_type, &id.to_string(), ChangeKind::Updated).await?;
    Ok(())
}

fn engagement_child_event(
    tx: &TenantTransaction,
    engagement: &Engagement,
    kind: &str,
    subject: Subject,
) -> DomainEvent {
    let mut event = DomainEvent::new(tx.context(), kind, subject)
        .with_ref("customer_account_id", engagement.customer_account_id)
        .with_ref("engagement_id", engagement.id);
    if let Some(contract_id) = engagement.contract_id {
        event = event.with_ref("contract_id", contract_id);
    }
    event
}

/// What `createStatusReport` asks for.
#[derive(Debug, Clone)]
pub struct StatusReportDraft {
    pub engagement_id: Uuid,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub rag: Rag,
    pub summary: String,
}

/// `createStatusReport`: a `draft` report of a period that ended by `today`;
/// `delivery.status_report.created`.
pub async fn create_status_report(
    tx: &TenantTransaction,
    draft: StatusReportDraft,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Outcome<StatusReport>, CommandError> {
    let summary = check_status_report(draft.period_start, draft.period_end, &draft.summary, today)?;
    let engagement = load_engagement(tx, draft.engagement_id).await?;
    refuse_finished(&engagement, "status reports")?;
    let report = StatusReport {
        id: Uuid::now_v7(),
        engagement_id: engagement.id,
        period_start: draft.period_start,
        period_end: draft.period_end,
        rag: draft.rag,
        summary,
        status: StatusReportStatus::Draft,
        created_by: tx.context().subject.clone(),
        created_at: now,
        published_at: None,
        published_by: None,
        version: 1,
    };
    repo::insert_status_report(tx, &report).await.map_err(internal)?;
    announce(tx, "Engagement", engagement.id).await?;
    let subject = Subject { entity_type: "StatusReport".to_owned(), id: report.id, version: 1 };
    let event = engagement_child_event(tx, &engagement, "delivery.status_report.created", subject).with_data(json!({
        "status_report_id": report.id,
        "rag": report.rag.as_str(),
        "period_start": report.period_start,
        "period_end": report.period_end,
    }));
    Ok(Outcome {
        entity_ids: vec![report.id],
        detail: format!("{} {}..{}", report.rag.as_str(), report.period_start, report.period_end),
        events: vec![event],
        value: report,
    })
}

/// `publishStatusReport`: `draft → published`; the report's RAG becomes the engagement's
/// (the latest published report speaks for it). `delivery.status_report.published`.
pub async fn publish_status_report(
    tx: &TenantTransaction,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Outcome<StatusReport>, CommandError> {
    let report = repo::status_reports_by_ids(tx, &[id])
        .await
        .map_err(internal)?
        .pop()
        .ok_or(CommandError::NotFound("StatusReport"))?;
    guard_transition(report.status, StatusReportStatus::Published)?;
    let engagement = load_engagement(tx, report.engagement_id).await?;
    refuse_finished(&engagement, "status reports")?;
    if !repo::publish_status_report(tx, &report, now, &tx.context().subject).await.map_err(internal)? {
        return Err(CommandError::stale("StatusReport"));
    }
    let mut entity_ids = vec![report.id];
    announce(tx, "Engagement", engagement.id).await?;
    if engagement.rag != report.rag {
        let updated = engagement::Entity::update_many()
            .col_expr(engagement::Column::Rag, Expr::value(report.rag.as_str()))
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
    }
    let published = repo::status_reports_by_ids(tx, &[id])
        .await
        .map_err(internal)?
        .pop()
        .ok_or(CommandError::NotFound("StatusReport"))?;
    let subject = Subject { entity_type: "StatusReport".to_owned(), id: published.id, version: published.version };
    let event = engagement_child_event(tx, &engagement, "delivery.status_report.published", subject).with_data(json!({
        "status_report_id": published.id,
        "rag": published.rag.as_str(),
        "previous_rag": engagement.rag.as_str(),
        "period_start": published.period_start,
        "period_end": published.period_end,
        "summary": published.summary,
    }));
    Ok(Outcome {
        entity_ids,
        detail: format!("published {} (engagement was {})", published.rag.as_str(), engagement.rag.as_str()),
        events: vec![event],
        value: published,
    })
}

/// `recordTimeOff`: hours a staff member is away over a range of dates;
/// `delivery.time_off.recorded`. Utilization subtracts them.
pub async fn record_time_off(
    tx: &TenantTransaction,
    staff_member_id: Uuid,
    start_date: NaiveDate,
    end_date: NaiveDate,
    hours: Decimal,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<Outcome<TimeOff>, CommandError> {
    check_time_off(start_date, end_date, hours)?;
    let staff = ops_repo::staff_members_by_ids(tx, &[staff_member_id])
        .await
        .map_err(internal)?
        .pop()
        .ok_or_else(|| CommandError::Invalid("staffMemberId: not a staff member of the tenant".to_owned()))?;
    let off = TimeOff {
        id: Uuid::now_v7(),
        staff_member_id: staff.id,
        start_date,
        end_date,
        hours,
        reason: reason.map(|reason| reason.trim().to_owned()).filter(|reason| !reason.is_empty()),
        created_at: now,
    };
    repo::insert_time_off(tx, &off).await.map_err(internal)?;
    announce(tx, "StaffMember", staff.id).await?;
    let subject = Subject { entity_type: "TimeOff".to_owned(), id: off.id, version: 1 };
    let event = DomainEvent::new(tx.context(), "delivery.time_off.recorded", subject)
        .with_ref("staff_member_id", staff.id)
        .with_data(json!({
            "time_off_id": off.id,
            "staff_member_id": staff.id,
            "start_date": start_date,
            "end_date": end_date,
            "hours": format!("{:.2}", hours),
        }));
    Ok(Outcome {
        entity_ids: vec![off.id, staff.id],
        detail: format!("{} {hours} h {start_date}..{end_date}", staff.name),
        events: vec![event],
        value: off,
    })
}

/// What `assignStaff` asks for.
#[derive(Debug, Clone)]
pub struct AssignmentDraft {
    pub staff_member_id: Uuid,
    pub engagement_id: Uuid,
    pub task_id: Option<Uuid>,
    pub allocation_pct: Decimal,
    pub from_date: NaiveDate,
    pub to_date: Option<NaiveDate>,
}

/// `assignStaff`: a staff member works a share of their time on an open engagement (or
/// one of its tasks) over a range; `delivery.assignment.created`.
pub async fn assign_staff(
    tx: &TenantTransaction,
    draft: AssignmentDraft,
    now: DateTime<Utc>,
) -> Result<Outcome<Assignment>, CommandError> {
    check_assignment(draft.allocation_pct, draft.from_date, draft.to_date)?;
    let engagement = load_engagement(tx, draft.engagement_id).await?;
    refuse_finished(&engagement, "assignments")?;
    let staff = ops_repo::staff_members_by_ids(tx, &[draft.staff_member_id])
        .await
        .map_err(internal)?
        .pop()
        .ok_or_else(|| CommandError::Invalid("staffMemberId: not a staff member of the tenant".to_owned()))?;
    if let Some(task_id) = draft.task_id {
        let task = repository::tasks_by_ids(tx, &[task_id]).await.map_err(internal)?.pop();
        if task.is_none_or(|task| task.engagement_id != engagement.id) {
            return Err(CommandError::Invalid("taskId: not a task of the engagement".to_owned()));
        }
    }
    let assignment = Assignment {
        id: Uuid::now_v7(),
        staff_member_id: staff.id,
        engagement_id: engagement.id,
        task_id: draft.task_id,
        allocation_pct: draft.allocation_pct,
        from_date: draft.from_date,
        to_date: draft.to_date,
        created_at: now,
        version: 1,
    };
    repo::insert_assignment(tx, &assignment).await.map_err(internal)?;
    announce(tx, "Engagement", engagement.id).await?;
    announce(tx, "StaffMember", staff.id).await?;
    let subject = Subject { entity_type: "Assignment".to_owned(), id: assignment.id, version: 1 };
    let event = engagement_child_event(tx, &engagement, "delivery.assignment.created", subject)
        .with_ref("staff_member_id", staff.id)
        .with_data(json!({
            "assignment_id": assignment.id,
            "staff_member_id": staff.id,
            "task_id": assignment.task_id,
            "allocation_pct": format!("{:.2}", assignment.allocation_pct),
            "from_date": assignment.from_date,
            "to_date": assignment.to_date,
        }));
    Ok(Outcome {
        entity_ids: vec![assignment.id, engagement.id, staff.id],
        detail: format!("{} at {} %", staff.name, assignment.allocation_pct),
        events: vec![event],
        value: assignment,
    })
}
