//! Demo status reports, assignments and time off
//! (docs/domain.md#status-reports-time-off-and-assignments): every onboarding or delivering
//! engagement has a published report of the last full week carrying its seeded RAG and
//! its time-logging staff member assigned at 75 % (6 of 8 hours a day) for the last four
//! weeks and on; one solution architect takes two days off at the start of next week.
//! Dates are relative to the tenant's business date.

use atrium_kit::{
    TenantTransaction,
    demo::{self, DemoTenant, Story},
};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;
use sea_orm::{ActiveValue::Set, EntityTrait};

use super::operations_seed::{DELIVERY_STAFF, SeededEngagement, staff_member_id};
use crate::{
    domain::{EngagementStatus, reporting::StatusReportStatus},
    entities::{assignment, status_report, time_off},
    error::DeliveryError,
};

/// The staff member (index into the operations seed's staff) who takes time off.
const ON_LEAVE: usize = 3;

fn at_five_pm(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(NaiveTime::MIN).and_utc() + Duration::hours(17)
}

pub(super) async fn seed_reporting(
    tx: &TenantTransaction,
    tenant: &DemoTenant,
    engagements: &[SeededEngagement],
    today: NaiveDate,
) -> Result<(), DeliveryError> {
    let days_since_monday = i64::from(today.weekday().num_days_from_monday());
    let last_monday = today - Duration::days(days_since_monday + 7);
    let last_friday = last_monday + Duration::days(4);
    let manager = format!("delivery_manager@{}", tenant.slug);
    let mut reports = Vec::new();
    let mut assignments = Vec::new();
    let mut project = 0;
    for engagement in engagements {
        // The same engagements, in the same order, as the operations seed logs time on.
        if engagement.story == Some(Story::CedarValley)
            || !matches!(engagement.status, EngagementStatus::Onboarding | EngagementStatus::Delivering)
        {
            continue;
        }
        let staff = DELIVERY_STAFF[project % DELIVERY_STAFF.len()];
        let ordinal = project as u64;
        project += 1;
        reports.push(status_report::ActiveModel {
            tenant_id: Set(tx.tenant_id()),
            id: Set(demo::id("status_report", ordinal, &format!("{}/{}", tenant.slug, engagement.id))),
            engagement_id: Set(engagement.id),
            period_start: Set(last_monday),
            period_end: Set(last_friday),
            rag: Set(engagement.rag.as_str().to_owned()),
            summary: Set(format!("Week of {last_monday}: {} overall.", engagement.rag.as_str())),
            status: Set(StatusReportStatus::Published.as_str().to_owned()),
            created_by: Set(manager.clone()),
            created_at: Set(at_five_pm(last_friday)),
            published_at: Set(Some(at_five_pm(last_friday))),
            published_by: Set(Some(manager.clone())),
            version: Set(2),
        });
        assignments.push(assignment::ActiveModel {
            tenant_id: Set(tx.tenant_id()),
            id: Set(demo::id("assignment", ordinal, &format!("{}/{}", tenant.slug, engagement.id))),
            staff_member_id: Set(staff_member_id(tenant, staff)),
            engagement_id: Set(engagement.id),
            task_id: Set(None),
            allocation_pct: Set(Decimal::from(75)),
            from_date: Set(today - Duration::days(28)),
            to_date: Set(None),
            created_by: Set(manager.clone()),
            created_at: Set(at_five_pm(today - Duration::days(29))),
            version: Set(1),
        });
    }
    if !reports.is_empty() {
        status_report::Entity::insert_many(reports).exec(tx.connection()).await?;
        assignment::Entity::insert_many(assignments).exec(tx.connection()).await?;
    }
    let next_monday = today + Duration::days(7 - days_since_monday);
    let leave = time_off::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(demo::id("time_off", 0, &format!("{}/leave", tenant.slug))),
        staff_member_id: Set(staff_member_id(tenant, ON_LEAVE)),
        start_date: Set(next_monday),
        end_date: Set(next_monday + Duration::days(1)),
        hours: Set(Decimal::from(16)),
        reason: Set(Some("Vacation".to_owned())),
        created_by: Set(manager),
        created_at: Set(at_five_pm(today - Duration::days(10))),
    };
    time_off::Entity::insert(leave).exec_without_returning(tx.connection()).await?;
    Ok(())
}
