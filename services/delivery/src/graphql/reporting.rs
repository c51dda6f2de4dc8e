//! GraphQL of status reports, time off and assignments
//! (docs/domain.md#status-reports-time-off-and-assignments): their object types, the
//! mutations that write them, and the DataLoaders that load them for many parents in one
//! statement.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Context, Enum, ID, Object, Result, SimpleObject,
    dataloader::{DataLoader, Loader},
};
use atrium_kit::{ErrorCode, TenantContext, TenantTransaction, command, subgraph_http::uuid_of};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::types::{Rag, loader_error};
use crate::{
    calendar::BusinessCalendar,
    commands,
    domain::reporting as model,
    error::DeliveryError,
    reporting::{self as reporting_commands, AssignmentDraft, STAFFING_ROLES, STATUS_REPORT_ROLES, StatusReportDraft},
    repository::reporting as repo,
};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::StatusReportStatus")]
pub enum StatusReportStatus {
    Draft,
    Published,
}

/// The delivery manager's RAG view of an engagement over a period; publishing it sets the
/// engagement's `rag`.
#[derive(SimpleObject)]
pub struct StatusReport {
    pub id: ID,
    pub engagement_id: ID,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub rag: Rag,
    pub summary: String,
    pub status: StatusReportStatus,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub published_by: Option<String>,
    pub version: i64,
}

impl From<model::StatusReport> for StatusReport {
    fn from(report: model::StatusReport) -> Self {
        StatusReport {
            id: ID(report.id.to_string()),
            engagement_id: ID(report.engagement_id.to_string()),
            period_start: report.period_start,
            period_end: report.period_end,
            rag: report.rag.into(),
            summary: report.summary,
            status: report.status.into(),
            created_by: report.created_by,
            created_at: report.created_at,
            published_at: report.published_at,
            published_by: report.published_by,
            version: report.version,
        }
    }
}

/// Hours a staff member is away from `startDate` to `endDate` (both included).
#[derive(SimpleObject)]
pub struct TimeOff {
    pub id: ID,
    pub staff_member_id: ID,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub hours: Decimal,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<model::TimeOff> for TimeOff {
    fn from(off: model::TimeOff) -> Self {
        TimeOff {
            id: ID(off.id.to_string()),
            staff_member_id: ID(off.staff_member_id.to_string()),
            start_date: off.start_date,
            end_date: off.end_date,
            hours: off.hours.normalize(),
            reason: off.reason,
            created_at: off.created_at,
        }
    }
}

/// A staff member's share of time on an engagement (or one of its tasks).
#[derive(SimpleObject)]
pub struct Assignment {
    pub id: ID,
    pub staff_member_id: ID,
    pub engagement_id: ID,
    pub task_id: Option<ID>,
    /// Percent of the person's capacity.
    pub allocation_pct: Decimal,
    pub from_date: NaiveDate,
    /// Open-ended when null.
    pub to_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
}

impl From<model::Assignment> for Assignment {
    fn from(assignment: model::Assignment) -> Self {
        Assignment {
            id: ID(assignment.id.to_string()),
            staff_member_id: ID(assignment.staff_member_id.to_string()),
            engagement_id: ID(assignment.engagement_id.to_string()),
            task_id: assignment.task_id.map(|id| ID(id.to_string())),
            allocation_pct: assignment.allocation_pct.normalize(),
            from_date: assignment.from_date,
            to_date: assignment.to_date,
            created_at: assignment.created_at,
        }
    }
}

fn target(id: &ID, entity: &str) -> Result<Uuid> {
    uuid_of(id).ok_or_else(|| ErrorCode::NotFound.graphql_error(format!("no {entity} with this id")))
}

fn business_today(ctx: &Context<'_>) -> Result<NaiveDate> {
    Ok(ctx.data::<BusinessCalendar>()?.today(ctx.data::<TenantContext>()?.tenant_id))
}

/// Status report, time off and assignment commands.
#[derive(Default)]
pub struct ReportingMutation;

#[Object]
impl ReportingMutation {
    /// Drafts a status report of an open engagement for a period that ended by today.
    /// Emits `delivery.status_report.created`.
    async fn create_status_report(
        &self,
        ctx: &Context<'_>,
        engagement_id: ID,
        period_start: NaiveDate,
        period_end: NaiveDate,
        rag: Rag,
        summary: String,
    ) -> Result<StatusReport> {
        let draft = StatusReportDraft {
            engagement_id: target(&engagement_id, "Engagement")?,
            period_start,
            period_end,
            rag: rag.into(),
            summary,
        };
        let today = business_today(ctx)?;
        let command = commands::command("createStatusReport", "StatusReport", STATUS_REPORT_ROLES, None);
        let report = command::run(ctx, command, |tx| {
            Box::pin(reporting_commands::create_status_report(tx, draft, today, Utc::now()))
        })
        .await?;
        Ok(report.into())
    }

    /// Publishes a draft status report; its RAG becomes the engagement's. Emits
    /// `delivery.status_report.published`; a published report answers `INVALID_TRANSITION`.
    async fn publish_status_report(&self, ctx: &Context<'_>, id: ID) -> Result<StatusReport> {
        let report_id = target(&id, "StatusReport")?;
        let command = commands::command("publishStatusReport", "StatusReport", STATUS_REPORT_ROLES, Some(report_id));
        let report = command::run(ctx, command, |tx| {
            Box::pin(reporting_commands::publish_status_report(tx, report_id, Utc::now()))
        })
        .await?;
        Ok(report.into())
    }

    /// Records hours a staff member is away; utilization subtracts them. Emits
    /// `delivery.time_off.recorded`.
    async fn record_time_off(
        &self,
        ctx: &Context<'_>,
        staff_member_id: ID,
        start_date: NaiveDate,
        end_date: NaiveDate,
        hours: Decimal,
        reason: Option<String>,
    ) -> Result<TimeOff> {
        let staff_id = uuid_of(&staff_member_id)
            .ok_or_else(|| ErrorCode::BadUserInput.graphql_error("staffMemberId: not a staff member of the tenant"))?;
        let command = commands::command("recordTimeOff", "TimeOff", STAFFING_ROLES, None);
        let off = command::run(ctx, command, |tx| {
            Box::pin(reporting_commands::record_time_off(tx, staff_id, start_date, end_date, hours, reason, Utc::now()))
        })
        .await?;
        Ok(off.into())
    }

    /// Assigns a staff member to an open engagement (or one of its tasks) at a share of
    /// their capacity. Emits `delivery.assignment.created`.
    #[allow(clippy::too_many_arguments)]
    async fn assign_staff(
        &self,
        ctx: &Context<'_>,
        staff_member_id: ID,
        engagement_id: ID,
        task_id: Option<ID>,
        allocation_pct: Decimal,
        from_date: NaiveDate,
        to_date: Option<NaiveDate>,
    ) -> Result<Assignment> {
        let staff_id = uuid_of(&staff_member_id)
            .ok_or_else(|| ErrorCode::BadUserInput.graphql_error("staffMemberId: not a staff member of the tenant"))?;
        let task_id = match task_id {
            Some(id) => Some(uuid_of(&id).ok_or_else(|| ErrorCode::BadUserInput.graphql_error("taskId: not a task"))?),
            None => None,
        };
        let draft = AssignmentDraft {
            staff_member_id: staff_id,
            engagement_id: target(&engagement_id, "Engagement")?,
            task_id,
            allocation_pct,
            from_date,
            to_date,
        };
        let command = commands::command("assignStaff", "Assignment", STAFFING_ROLES, None);
        let assignment =
            command::run(ctx, command, |tx| Box::pin(reporting_commands::assign_staff(tx, draft, Utc::now()))).await?;
        Ok(assignment.into())
    }
}

/// `Engagement.statusReports`: newest first.
pub async fn engagement_status_reports(ctx: &Context<'_>, engagement_id: Uuid) -> Result<Vec<StatusReport>> {
    let loader = ctx.data::<DataLoader<EngagementStatusReportsLoader>>()?;
    let mut reports = loader.load_one(engagement_id).await.map_err(loader_error)?.unwrap_or_default();
    reports.reverse();
    Ok(reports.into_iter().map(Into::into).collect())
}

/// `Engagement.assignments`: in creation order.
pub async fn engagement_assignments(ctx: &Context<'_>, engagement_id: Uuid) -> Result<Vec<Assignment>> {
    let loader = ctx.data::<DataLoader<EngagementAssignmentsLoader>>()?;
    let assignments = loader.load_one(engagement_id).await.map_err(loader_error)?.unwrap_or_default();
    Ok(assignments.into_iter().map(Into::into).collect())
}

/// `StaffMember.assignments`: in creation order.
pub async fn staff_assignments(ctx: &Context<'_>, staff_id: Uuid) -> Result<Vec<Assignment>> {
    let loader = ctx.data::<DataLoader<StaffAssignmentsLoader>>()?;
    let assignments = loader.load_one(staff_id).await.map_err(loader_error)?.unwrap_or_default();
    Ok(assignments.into_iter().map(Into::into).collect())
}

/// A staff member's time off overlapping `from..=to`, by start date.
pub async fn staff_time_off(
    ctx: &Context<'_>,
    staff_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<model::TimeOff>> {
    let loader = ctx.data::<DataLoader<StaffTimeOffLoader>>()?;
    Ok(loader.load_one((staff_id, from, to)).await.map_err(loader_error)?.unwrap_or_default())
}

// ---------------------------------------------------------------------------------------
// DataLoaders.

fn group_by<T>(keys: &[Uuid], rows: Vec<T>, key_of: impl Fn(&T) -> Uuid) -> HashMap<Uuid, Vec<T>> {
    let mut grouped: HashMap<Uuid, Vec<T>> = keys.iter().map(|key| (*key, Vec::new())).collect();
    for row in rows {
        grouped.entry(key_of(&row)).or_default().push(row);
    }
    grouped
}

/// All status reports of each engagement, in creation order.
pub struct EngagementStatusReportsLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for EngagementStatusReportsLoader {
    type Value = Vec<model::StatusReport>;
    type Error = Arc<DeliveryError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = repo::status_reports_of_engagements(&self.0, keys).await.map_err(Arc::new)?;
        Ok(group_by(keys, rows, |report| report.engagement_id))
    }
}

/// All assignments on each engagement.
pub struct EngagementAssignmentsLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for EngagementAssignmentsLoader {
    type Value = Vec<model::Assignment>;
    type Error = Arc<DeliveryError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = repo::assignments_of_engagements(&self.0, keys).await.map_err(Arc::new)?;
        Ok(group_by(keys, rows, |assignment| assignment.engagement_id))
    }
}

/// All assignments of each staff member.
pub struct StaffAssignmentsLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for StaffAssignmentsLoader {
    type Value = Vec<model::Assignment>;
    type Error = Arc<DeliveryError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = repo::assignments_of_staff(&self.0, keys).await.map_err(Arc::new)?;
        Ok(group_by(keys, rows, |assignment| assignment.staff_member_id))
    }
}

/// Time off of a staff member overlapping a period: one statement for all staff of the
/// request, spanning every requested period.
pub struct StaffTimeOffLoader(pub Arc<TenantTransaction>);

impl Loader<(Uuid, NaiveDate, NaiveDate)> for StaffTimeOffLoader {
    type Value = Vec<model::TimeOff>;
    type Error = Arc<DeliveryError>;

    async fn load(
        &self,
        keys: &[(Uuid, NaiveDate, NaiveDate)],
    ) -> Result<HashMap<(Uuid, NaiveDate, NaiveDate), Self::Value>, Self::Error> {
        let (Some(from), Some(to)) = (keys.iter().map(|key| key.1).min(), keys.iter().map(|key| key.2).max()) else {
            return Ok(HashMap::new());
        };
        let staff: Vec<Uuid> = keys.iter().map(|key| key.0).collect();
        let rows = repo::time_off_of_staff(&self.0, &staff, from, to).await.map_err(Arc::new)?;
        Ok(keys
            .iter()
            .map(|key| {
                let overlapping = rows
                    .iter()
                    .filter(|off| off.staff_member_id == key.0 && off.start_date <= key.2 && off.end_date >= key.1)
                    .cloned()
                    .collect();
                (*key, overlapping)
            })
            .collect())
    }
}

/// Registers this module's loaders on a request.
pub fn install_loaders(request: async_graphql::Request, tx: &Arc<TenantTransaction>) -> async_graphql::Request {
    request
        .data(DataLoader::new(EngagementStatusReportsLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(EngagementAssignmentsLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(StaffAssignmentsLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(StaffTimeOffLoader(tx.clone()), tokio::spawn))
}
