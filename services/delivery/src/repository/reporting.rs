//! Status reports, time off and assignments
//! (docs/domain.md#status-reports-time-off-and-assignments). Every function filters by the
//! transaction's tenant; reports and assignments follow their engagement's second-level
//! scope, time off is invisible to scoped callers. Loader functions run one statement for
//! all parents.

use atrium_kit::TenantTransaction;
use chrono::NaiveDate;
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, sea_query::Expr};
use uuid::Uuid;

use super::child_scope;
use crate::{
    domain::{
        Rag,
        reporting::{Assignment, StatusReport, StatusReportStatus, TimeOff},
    },
    entities::{assignment, status_report, time_off},
    error::DeliveryError,
};

fn status_report_from_row(row: status_report::Model) -> Result<StatusReport, DeliveryError> {
    Ok(StatusReport {
        id: row.id,
        engagement_id: row.engagement_id,
        period_start: row.period_start,
        period_end: row.period_end,
        rag: Rag::parse(&row.rag)?,
        summary: row.summary,
        status: StatusReportStatus::parse(&row.status)?,
        created_by: row.created_by,
        created_at: row.created_at,
        published_at: row.published_at,
        published_by: row.published_by,
        version: row.version,
    })
}

pub async fn insert_status_report(tx: &TenantTransaction, report: &StatusReport) -> Result<(), DeliveryError> {
    status_report::Entity::insert(status_report::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(report.id),
        engagement_id: Set(report.engagement_id),
        period_start: Set(report.period_start),
        period_end: Set(report.period_end),
        rag: Set(report.rag.as_str().to_owned()),
        summary: Set(report.summary.clone()),
        status: Set(report.status.as_str().to_owned()),
        created_by: Set(report.created_by.clone()),
        created_at: Set(report.created_at),
        published_at: Set(report.published_at),
        published_by: Set(report.published_by.clone()),
        version: Set(report.version),
    })
    .exec_without_returning(tx.connection())
    .await?;
    Ok(())
}

pub async fn status_reports_by_ids(tx: &TenantTransaction, ids: &[Uuid]) -> Result<Vec<StatusReport>, DeliveryError> {
    let rows = status_report::Entity::find()
        .filter(status_report::Column::TenantId.eq(tx.tenant_id()))
        .filter(child_scope(tx, status_report::Column::EngagementId))
        .filter(status_report::Column::Id.is_in(ids.iter().copied()))
        .all(tx.connection())
        .await?;
    rows.into_iter().map(status_report_from_row).collect()
}

/// Every status report of the given engagements, in creation (id) order.
pub async fn status_reports_of_engagements(
    tx: &TenantTransaction,
    engagement_ids: &[Uuid],
) -> Result<Vec<StatusReport>, DeliveryError> {
    let rows = status_report::Entity::find()
        .filter(status_report::Column::TenantId.eq(tx.tenant_id()))
        .filter(child_scope(tx, status_report::Column::EngagementId))
        .filter(status_report::Column::EngagementId.is_in(engagement_ids.iter().copied()))
        .order_by_asc(status_report::Column::EngagementId)
        .order_by_asc(status_report::Column::Id)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(status_report_from_row).collect()
}

/// Publishes the report read at `read`'s version; `false` when another writer moved it first.
pub async fn publish_status_report(
    tx: &TenantTransaction,
    read: &StatusReport,
    published_at: chrono::DateTime<chrono::Utc>,
    published_by: &str,
) -> Result<bool, DeliveryError> {
    let result = status_report::Entity::update_many()
        .col_expr(status_report::Column::Status, Expr::value(StatusReportStatus::Published.as_str()))
        .col_expr(status_report::Column::PublishedAt, Expr::value(published_at))
        .col_expr(status_report::Column::PublishedBy, Expr::value(published_by.to_owned()))
        .col_expr(status_report::Column::Version, Expr::value(read.version + 1))
        .filter(status_report::Column::TenantId.eq(tx.tenant_id()))
        .filter(status_report::Column::Id.eq(read.id))
        .filter(status_report::Column::Version.eq(read.version))
        .exec(tx.connection())
        .await?;
    Ok(result.rows_affected == 1)
}

/// Partner and customer-portal callers see no time off (the table's RLS fails closed too).
fn time_off_scope(tx: &TenantTransaction) -> Condition {
    if tx.is_second_level_scoped() {
        // The primary key is never null: no row.
        Condition::all().add(time_off::Column::Id.is_null())
    } else {
        Condition::all()
    }
}

fn time_off_from_row(row: time_off::Model) -> TimeOff {
    TimeOff {
        id: row.id,
        staff_member_id: row.staff_member_id,
        start_date: row.start_date,
        end_date: row.end_date,
        hours: row.hours,
        reason: row.reason,
        created_at: row.created_at,
    }
}

pub async fn insert_time_off(tx: &TenantTransaction, off: &TimeOff) -> Result<(), DeliveryError> {
    time_off::Entity::insert(time_off::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(off.id),
        staff_member_id: Set(off.staff_member_id),
        start_date: Set(off.start_date),
        end_date: Set(off.end_date),
        hours: Set(off.hours),
        reason: Set(off.reason.clone()),
        created_by: Set(tx.context().subject.clone()),
        created_at: Set(off.created_at),
    })
    .exec_without_returning(tx.connection())
    .await?;
    Ok(())
}

/// Time off of the given staff members overlapping `from..=to`, by start date.
pub async fn time_off_of_staff(
    tx: &TenantTransaction,
    staff_ids: &[Uuid],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<TimeOff>, DeliveryError> {
    let rows = time_off::Entity::find()
        .filter(time_off::Column::TenantId.eq(tx.tenant_id()))
        .filter(time_off_scope(tx))
        .filter(time_off::Column::StaffMemberId.is_in(staff_ids.iter().copied()))
        .filter(time_off::Column::StartDate.lte(to))
        .filter(time_off::Column::EndDate.gte(from))
        .order_by_asc(time_off::Column::StartDate)
        .order_by_asc(time_off::Column::Id)
        .all(tx.connection())
        .await?;
    Ok(rows.into_iter().map(time_off_from_row).collect())
}

fn assignment_from_row(row: assignment::Model) -> Assignment {
    Assignment {
        id: row.id,
        staff_member_id: row.staff_member_id,
        engagement_id: row.engagement_id,
        task_id: row.task_id,
        allocation_pct: row.allocation_pct,
        from_date: row.from_date,
        to_date: row.to_date,
        created_at: row.created_at,
        version: row.version,
    }
}

pub async fn insert_assignment(tx: &TenantTransaction, assignment: &Assignment) -> Result<(), DeliveryError> {
    assignment::Entity::insert(assignment::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(assignment.id),
        staff_member_id: Set(assignment.staff_member_id),
        engagement_id: Set(assignment.engagement_id),
        task_id: Set(assignment.task_id),
        allocation_pct: Set(assignment.allocation_pct),
        from_date: Set(assignment.from_date),
        to_date: Set(assignment.to_date),
        created_by: Set(tx.context().subject.clone()),
        created_at: Set(assignment.created_at),
        version: Set(assignment.version),
    })
    .exec_without_returning(tx.connection())
    .await?;
    Ok(())
}

/// Every assignment on the given engagements, in creation (id) order.
pub async fn assignments_of_engagements(
    tx: &TenantTransaction,
    engagement_ids: &[Uuid],
) -> Result<Vec<Assignment>, DeliveryError> {
    let rows = assignment::Entity::find()
        .filter(assignment::Column::TenantId.eq(tx.tenant_id()))
        .filter(child_scope(tx, assignment::Column::EngagementId))
        .filter(assignment::Column::EngagementId.is_in(engagement_ids.iter().copied()))
        .order_by_asc(assignment::Column::EngagementId)
        .order_by_asc(assignment::Column::Id)
        .all(tx.connection())
        .await?;
    Ok(rows.into_iter().map(assignment_from_row).collect())
}

/// Every assignment of the given staff members, in creation (id) order.
pub async fn assignments_of_staff(
    tx: &TenantTransaction,
    staff_ids: &[Uuid],
) -> Result<Vec<Assignment>, DeliveryError> {
    let rows = assignment::Entity::find()
        .filter(assignment::Column::TenantId.eq(tx.tenant_id()))
        .filter(child_scope(tx, assignment::Column::EngagementId))
        .filter(assignment::Column::StaffMemberId.is_in(staff_ids.iter().copied()))
        .order_by_asc(assignment::Column::StaffMemberId)
        .order_by_asc(assignment::Column::Id)
        .all(tx.connection())
        .await?;
    Ok(rows.into_iter().map(assignment_from_row).collect())
}
