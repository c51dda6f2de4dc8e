//! Staff, time entries and change requests (docs/domain.md#delivery-operations). Every
//! function filters by the transaction's tenant; time entries and change requests also
//! follow their engagement's second-level scope. Loader functions run one statement for
//! all parents.

use atrium_kit::TenantTransaction;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::child_scope;
use crate::{
    domain::operations::{
        ChangeRequest, ChangeRequestStatus, StaffMember, StaffRole, TimeCategory, TimeEntry, TimeEntryStatus,
    },
    entities::{change_request, staff_member, time_entry},
    error::DeliveryError,
};

/// Partner and customer-portal callers see no staff (the table's RLS fails closed for them too).
fn staff_scope(tx: &TenantTransaction) -> Condition {
    if tx.is_second_level_scoped() {
        // The primary key is never null: no row.
        Condition::all().add(staff_member::Column::Id.is_null())
    } else {
        Condition::all()
    }
}

pub async fn staff_members_by_ids(tx: &TenantTransaction, ids: &[Uuid]) -> Result<Vec<StaffMember>, DeliveryError> {
    let rows = staff_member::Entity::find()
        .filter(staff_member::Column::TenantId.eq(tx.tenant_id()))
        .filter(staff_scope(tx))
        .filter(staff_member::Column::Id.is_in(ids.iter().copied()))
        .all(tx.connection())
        .await?;
    rows.into_iter().map(staff_from_row).collect()
}

/// The planned blended cost rate of a new engagement: the mean hourly cost of the tenant's
/// active staff paid in the engagement's currency (or, for an engagement without one, in
/// the one currency all staff are paid in), rounded to the cent; `None` without such staff,
/// since a rate in another currency would need an exchange rate the plan does not have.
pub async fn blended_cost_rate(
    tx: &TenantTransaction,
    currency: Option<&str>,
) -> Result<Option<Decimal>, DeliveryError> {
    let staff = staff_member::Entity::find()
        .filter(staff_member::Column::TenantId.eq(tx.tenant_id()))
        .filter(staff_member::Column::Active.eq(true))
        .all(tx.connection())
        .await?;
    let currency = match currency {
        Some(currency) => currency.to_owned(),
        None => match staff.first() {
            Some(first) if staff.iter().all(|member| member.rate_currency == first.rate_currency) => {
                first.rate_currency.clone()
            }
            _ => return Ok(None),
        },
    };
    let rates: Vec<Decimal> =
        staff.into_iter().filter(|member| member.rate_currency == currency).map(|member| member.cost_rate).collect();
    if rates.is_empty() {
        return Ok(None);
    }
    let total: Decimal = rates.iter().sum();
    Ok(Some((total / Decimal::from(rates.len())).round_dp(2)))
}

/// The staff member a signed-in user is, if any.
pub async fn staff_member_of_user(tx: &TenantTransaction, user_id: &str) -> Result<Option<StaffMember>, DeliveryError> {
    let row = staff_member::Entity::find()
        .filter(staff_member::Column::TenantId.eq(tx.tenant_id()))
        .filter(staff_scope(tx))
        .filter(staff_member::Column::UserId.eq(user_id))
        .one(tx.connection())
        .await?;
    row.map(staff_from_row).transpose()
}

/// One page of the tenant's staff ordered by id (`limit` = `first + 1`), optionally one role.
pub async fn staff_members_page(
    tx: &TenantTransaction,
    role: Option<StaffRole>,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<StaffMember>, DeliveryError> {
    let mut query =
        staff_member::Entity::find().filter(staff_member::Column::TenantId.eq(tx.tenant_id())).filter(staff_scope(tx));
    if let Some(role) = role {
        query = query.filter(staff_member::Column::Role.eq(role.as_str()));
    }
    if let Some(after) = after {
        query = query.filter(staff_member::Column::Id.gt(after));
    }
    let rows = query.order_by_asc(staff_member::Column::Id).limit(limit).all(tx.connection()).await?;
    rows.into_iter().map(staff_from_row).collect()
}

fn time_scope(tx: &TenantTransaction) -> Condition {
    child_scope(tx, time_entry::Column::EngagementId)
}

pub async fn time_entries_by_ids(tx: &TenantTransaction, ids: &[Uuid]) -> Result<Vec<TimeEntry>, DeliveryError> {
    let rows = time_entry::Entity::find()
        .filter(time_entry::Column::TenantId.eq(tx.tenant_id()))
        .filter(time_scope(tx))
        .filter(time_entry::Column::Id.is_in(ids.iter().copied()))
        .all(tx.connection())
        .await?;
    rows.into_iter().map(time_entry_from_row).collect()
}

/// Every time entry of the given engagements, ordered by engagement then id.
pub async fn time_entries_of_engagements(
    tx: &TenantTransaction,
    engagement_ids: &[Uuid],
) -> Result<Vec<TimeEntry>, DeliveryError> {
    let rows = time_entry::Entity::find()
        .filter(time_entry::Column::TenantId.eq(tx.tenant_id()))
        .filter(time_scope(tx))
        .filter(time_entry::Column::EngagementId.is_in(engagement_ids.iter().copied()))
        .order_by_asc(time_entry::Column::EngagementId)
        .order_by_asc(time_entry::Column::Id)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(time_entry_from_row).collect()
}

/// Every time entry of the given staff members dated from `from` to `to`.
pub async fn time_entries_of_staff(
    tx: &TenantTransaction,
    staff_member_ids: &[Uuid],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<TimeEntry>, DeliveryError> {
    let rows = time_entry::Entity::find()
        .filter(time_entry::Column::TenantId.eq(tx.tenant_id()))
        .filter(time_scope(tx))
        .filter(time_entry::Column::StaffMemberId.is_in(staff_member_ids.iter().copied()))
        .filter(time_entry::Column::WorkDate.between(from, to))
        .all(tx.connection())
        .await?;
    rows.into_iter().map(time_entry_from_row).collect()
}

/// What `timeEntries` may be narrowed to.
#[derive(Debug, Clone, Default)]
pub struct TimeEntryFilter {
    pub engagement_id: Option<Uuid>,
    pub staff_member_id: Option<Uuid>,
    pub status: Option<TimeEntryStatus>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

pub async fn time_entries_page(
    tx: &TenantTransaction,
    filter: &TimeEntryFilter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<TimeEntry>, DeliveryError> {
    let mut query =
        time_entry::Entity::find().filter(time_entry::Column::TenantId.eq(tx.tenant_id())).filter(time_scope(tx));
    if let Some(engagement_id) = filter.engagement_id {
        query = query.filter(time_entry::Column::EngagementId.eq(engagement_id));
    }
    if let Some(staff_member_id) = filter.staff_member_id {
        query = query.filter(time_entry::Column::StaffMemberId.eq(staff_member_id));
    }
    if let Some(status) = filter.status {
        query = query.filter(time_entry::Column::Status.eq(status.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(time_entry::Column::WorkDate.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(time_entry::Column::WorkDate.lte(to));
    }
    if let Some(after) = after {
        query = query.filter(time_entry::Column::Id.gt(after));
    }
    let rows = query.order_by_asc(time_entry::Column::Id).limit(limit).all(tx.connection()).await?;
    rows.into_iter().map(time_entry_from_row).collect()
}

/// Hours a person has logged on one day in entries that still count (not rejected),
/// across all engagements, leaving out `except` (the entry being resubmitted).
pub async fn hours_logged_on(
    tx: &TenantTransaction,
    staff_member_id: Uuid,
    work_date: NaiveDate,
    except: Option<Uuid>,
) -> Result<Decimal, DeliveryError> {
    let mut query = time_entry::Entity::find()
        .filter(time_entry::Column::TenantId.eq(tx.tenant_id()))
        .filter(time_entry::Column::StaffMemberId.eq(staff_member_id))
        .filter(time_entry::Column::WorkDate.eq(work_date))
        .filter(time_entry::Column::Status.ne(TimeEntryStatus::Rejected.as_str()));
    if let Some(except) = except {
        query = query.filter(time_entry::Column::Id.ne(except));
    }
    let rows = query.all(tx.connection()).await?;
    Ok(rows.iter().map(|row| row.hours).sum())
}

fn change_scope(tx: &TenantTransaction) -> Condition {
    child_scope(tx, change_request::Column::EngagementId)
}

pub async fn change_requests_by_ids(tx: &TenantTransaction, ids: &[Uuid]) -> Result<Vec<ChangeRequest>, DeliveryError> {
    let rows = change_request::Entity::find()
        .filter(change_request::Column::TenantId.eq(tx.tenant_id()))
        .filter(change_scope(tx))
        .filter(change_request::Column::Id.is_in(ids.iter().copied()))
        .all(tx.connection())
        .await?;
    rows.into_iter().map(change_request_from_row).collect()
}

/// Every change request of the given engagements, ordered by engagement then id.
pub async fn change_requests_of_engagements(
    tx: &TenantTransaction,
    engagement_ids: &[Uuid],
) -> Result<Vec<ChangeRequest>, DeliveryError> {
    let rows = change_request::Entity::find()
        .filter(change_request::Column::TenantId.eq(tx.tenant_id()))
        .filter(change_scope(tx))
        .filter(change_request::Column::EngagementId.is_in(engagement_ids.iter().copied()))
        .order_by_asc(change_request::Column::EngagementId)
        .order_by_asc(change_request::Column::Id)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(change_request_from_row).collect()
}

pub(crate) fn staff_from_row(row: staff_member::Model) -> Result<StaffMember, DeliveryError> {
    Ok(StaffMember {
        id: row.id,
        user_id: row.user_id,
        name: row.name,
        role: StaffRole::parse(&row.role)?,
        cost_rate: row.cost_rate,
        bill_rate: row.bill_rate,
        rate_currency: row.rate_currency,
        weekly_capacity_hours: row.weekly_capacity_hours,
        time_zone: row.time_zone,
        active: row.active,
    })
}

pub(crate) fn time_entry_from_row(row: time_entry::Model) -> Result<TimeEntry, DeliveryError> {
    Ok(TimeEntry {
        id: row.id,
        staff_member_id: row.staff_member_id,
        engagement_id: row.engagement_id,
        work_date: row.work_date,
        hours: row.hours,
        billable: row.billable,
        category: TimeCategory::parse(&row.category)?,
        note: row.note,
        status: TimeEntryStatus::parse(&row.status)?,
        cost_rate: row.cost_rate,
        bill_rate: row.bill_rate,
        currency: row.currency,
        rejection_reason: row.rejection_reason,
        submitted_at: row.submitted_at,
        decided_at: row.decided_at,
        version: row.version,
    })
}

pub(crate) fn change_request_from_row(row: change_request::Model) -> Result<ChangeRequest, DeliveryError> {
    Ok(ChangeRequest {
        id: row.id,
        engagement_id: row.engagement_id,
        number: row.number,
        title: row.title,
        reason: row.reason,
        impact_hours: row.impact_hours,
        impact_price: row.impact_price,
        impact_days: row.impact_days,
        status: ChangeRequestStatus::parse(&row.status)?,
        submitted_at: row.submitted_at,
        decided_at: row.decided_at,
        decision_reason: row.decision_reason,
        version: row.version,
    })
}
