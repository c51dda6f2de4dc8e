//! GraphQL of delivery operations (docs/domain.md#delivery-operations): staff members, time
//! entries, change requests and the metrics over them, with the DataLoaders that load
//! them for many parents in one statement.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Context, Enum, ID, Object, Result, SimpleObject,
    dataloader::{DataLoader, Loader},
};
use atrium_kit::{
    TenantContext, TenantTransaction,
    pagination::{PageInfo, PageRequest},
};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use atrium_kit::subgraph_http::request_transaction;

use super::{
    loaders::{EngagementLoader, EngagementMilestonesLoader},
    types::{Engagement, loader_error},
};
use crate::{
    calendar::BusinessCalendar,
    domain::{metrics, operations as ops},
    error::DeliveryError,
    repository::operations as repo,
};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ops::StaffRole")]
pub enum StaffRole {
    Consultant,
    SeniorConsultant,
    SolutionArchitect,
    ProjectManager,
    Csm,
    SupportEngineer,
}

/// What the time was spent on; finance draws `ADVISORY` hours down from advisory grants.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ops::TimeCategory")]
pub enum TimeCategory {
    Implementation,
    Advisory,
    Support,
    ProjectManagement,
    Training,
    Internal,
    Presales,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ops::TimeEntryStatus")]
pub enum TimeEntryStatus {
    Draft,
    Submitted,
    Approved,
    Rejected,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ops::ChangeRequestStatus")]
pub enum ChangeRequestStatus {
    Submitted,
    Approved,
    Rejected,
    Withdrawn,
}

/// A person of the provider who delivers engagements.
pub struct StaffMember(pub ops::StaffMember);

#[Object]
impl StaffMember {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn role(&self) -> StaffRole {
        self.0.role.into()
    }

    /// The user this person signs in as; their own time entries resolve to them.
    async fn user_id(&self) -> Option<&str> {
        self.0.user_id.as_deref()
    }

    /// Loaded cost per hour, in `rateCurrency`.
    async fn cost_rate(&self) -> Decimal {
        ops::cents(self.0.cost_rate)
    }

    /// Price of a billable hour, in `rateCurrency`.
    async fn bill_rate(&self) -> Decimal {
        ops::cents(self.0.bill_rate)
    }

    async fn rate_currency(&self) -> &str {
        &self.0.rate_currency
    }

    async fn weekly_capacity_hours(&self) -> Decimal {
        self.0.weekly_capacity_hours.normalize()
    }

    /// IANA time zone the person works in.
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }

    async fn active(&self) -> bool {
        self.0.active
    }

    /// Billable approved hours ÷ available hours from `from` to `to` (both included):
    /// weekday capacity less time off.
    // Definition: docs/domain.md#delivery-metrics.
    async fn utilization(&self, ctx: &Context<'_>, from: NaiveDate, to: NaiveDate) -> Result<Utilization> {
        if to < from {
            return Err(atrium_kit::ErrorCode::BadUserInput.graphql_error("to: must not be before from"));
        }
        let loader = ctx.data::<DataLoader<StaffTimeLoader>>()?;
        let entries = loader.load_one((self.0.id, from, to)).await.map_err(loader_error)?.unwrap_or_default();
        let time_off = super::reporting::staff_time_off(ctx, self.0.id, from, to).await?;
        let off_hours: Decimal =
            time_off.iter().map(|off| crate::domain::reporting::time_off_hours_in(off, from, to)).sum();
        let result = metrics::utilization(self.0.weekly_capacity_hours, &entries, off_hours, from, to);
        Ok(Utilization {
            billable_hours: result.billable_hours.normalize(),
            available_hours: result.available_hours.normalize(),
            time_off_hours: off_hours.round_dp(2).normalize(),
            ratio: result.ratio.map(|ratio| ratio.normalize()),
        })
    }

    /// Time off overlapping `from..=to` (both included), by start date.
    async fn time_off(
        &self,
        ctx: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<super::reporting::TimeOff>> {
        if to < from {
            return Err(atrium_kit::ErrorCode::BadUserInput.graphql_error("to: must not be before from"));
        }
        let time_off = super::reporting::staff_time_off(ctx, self.0.id, from, to).await?;
        Ok(time_off.into_iter().map(Into::into).collect())
    }

    /// The person's assignments, in assignment order.
    async fn assignments(&self, ctx: &Context<'_>) -> Result<Vec<super::reporting::Assignment>> {
        super::reporting::staff_assignments(ctx, self.0.id).await
    }
}

/// Billable utilization of a staff member over a period.
#[derive(SimpleObject)]
pub struct Utilization {
    pub billable_hours: Decimal,
    pub available_hours: Decimal,
    /// Hours of time off in the period, already taken out of `availableHours`.
    pub time_off_hours: Decimal,
    /// `billableHours ÷ availableHours`, four places; null when nothing was available.
    pub ratio: Option<Decimal>,
}

#[derive(SimpleObject)]
pub struct StaffMemberConnection {
    pub nodes: Vec<StaffMember>,
    pub page_info: PageInfo,
}

/// Hours a staff member logged against an engagement on one day.
pub struct TimeEntry(pub ops::TimeEntry);

#[Object]
impl TimeEntry {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn work_date(&self) -> NaiveDate {
        self.0.work_date
    }

    async fn hours(&self) -> Decimal {
        self.0.hours.normalize()
    }

    async fn billable(&self) -> bool {
        self.0.billable
    }

    async fn category(&self) -> TimeCategory {
        self.0.category.into()
    }

    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    async fn status(&self) -> TimeEntryStatus {
        self.0.status.into()
    }

    /// `hours × cost rate` at the rates of the day it was logged, to the cent.
    async fn cost_amount(&self) -> Decimal {
        self.0.cost_amount()
    }

    /// `hours × bill rate` for billable time, else 0, to the cent.
    async fn bill_amount(&self) -> Decimal {
        self.0.bill_amount()
    }

    async fn currency(&self) -> &str {
        &self.0.currency
    }

    async fn rejection_reason(&self) -> Option<&str> {
        self.0.rejection_reason.as_deref()
    }

    async fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.0.submitted_at
    }

    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }

    async fn version(&self) -> i64 {
        self.0.version
    }

    async fn staff_member(&self, ctx: &Context<'_>) -> Result<Option<StaffMember>> {
        let loader = ctx.data::<DataLoader<StaffMemberLoader>>()?;
        Ok(loader.load_one(self.0.staff_member_id).await.map_err(loader_error)?.map(StaffMember))
    }

    async fn engagement(&self, ctx: &Context<'_>) -> Result<Engagement> {
        let loader = ctx.data::<DataLoader<EngagementLoader>>()?;
        let engagement = loader.load_one(self.0.engagement_id).await.map_err(loader_error)?;
        engagement.map(Engagement::from).ok_or_else(|| "time entry without its engagement".into())
    }
}

#[derive(SimpleObject)]
pub struct TimeEntryConnection {
    pub nodes: Vec<TimeEntry>,
    pub page_info: PageInfo,
}

/// A proposed change of an engagement's scope with its impact.
pub struct ChangeRequest(pub ops::ChangeRequest);

#[Object]
impl ChangeRequest {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// `CR-001`, … per engagement.
    async fn number(&self) -> &str {
        &self.0.number
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }

    async fn impact_hours(&self) -> Decimal {
        self.0.impact_hours.normalize()
    }

    /// In the engagement's currency.
    async fn impact_price(&self) -> Decimal {
        ops::cents(self.0.impact_price)
    }

    /// Days the go-live moves when approved.
    async fn impact_days(&self) -> i32 {
        self.0.impact_days
    }

    async fn status(&self) -> ChangeRequestStatus {
        self.0.status.into()
    }

    async fn submitted_at(&self) -> DateTime<Utc> {
        self.0.submitted_at
    }

    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }

    async fn decision_reason(&self) -> Option<&str> {
        self.0.decision_reason.as_deref()
    }

    async fn version(&self) -> i64 {
        self.0.version
    }

    async fn engagement(&self, ctx: &Context<'_>) -> Result<Engagement> {
        let loader = ctx.data::<DataLoader<EngagementLoader>>()?;
        let engagement = loader.load_one(self.0.engagement_id).await.map_err(loader_error)?;
        engagement.map(Engagement::from).ok_or_else(|| "change request without its engagement".into())
    }
}

/// Milestones due so far and how many were done by their due date.
#[derive(SimpleObject)]
pub struct MilestoneAttainment {
    pub due: i32,
    pub attained: i32,
    /// `attained ÷ due`, four places; null when nothing is due yet.
    pub rate: Option<Decimal>,
}

/// Change requests of the last 30 days against the 90 before.
#[derive(SimpleObject)]
pub struct ChangeRequestTrend {
    pub last_30_days: i32,
    pub prior_per_30_days: Decimal,
    /// At least 2 in the last 30 days and more than 1.5 × the prior rate.
    pub increasing: bool,
}

/// The engagement fields of delivery operations (called from `Engagement`'s resolvers).
pub async fn engagement_time_entries(
    ctx: &Context<'_>,
    engagement_id: Uuid,
    first: Option<i32>,
    after: Option<String>,
) -> Result<TimeEntryConnection> {
    let page = PageRequest::parse(first, after.as_deref())?;
    let loader = ctx.data::<DataLoader<EngagementTimeEntriesLoader>>()?;
    let entries = loader.load_one(engagement_id).await.map_err(loader_error)?.unwrap_or_default();
    let (nodes, page_info) = page.slice(&entries, |entry| entry.id);
    Ok(TimeEntryConnection { nodes: nodes.into_iter().map(TimeEntry).collect(), page_info })
}

pub async fn engagement_change_requests(ctx: &Context<'_>, engagement_id: Uuid) -> Result<Vec<ChangeRequest>> {
    let loader = ctx.data::<DataLoader<EngagementChangeRequestsLoader>>()?;
    let changes = loader.load_one(engagement_id).await.map_err(loader_error)?.unwrap_or_default();
    Ok(changes.into_iter().map(ChangeRequest).collect())
}

/// The staff who logged time on the engagement, in order of first entry.
pub async fn engagement_team(ctx: &Context<'_>, engagement_id: Uuid) -> Result<Vec<StaffMember>> {
    let loader = ctx.data::<DataLoader<EngagementTimeEntriesLoader>>()?;
    let entries = loader.load_one(engagement_id).await.map_err(loader_error)?.unwrap_or_default();
    let mut ids: Vec<Uuid> = Vec::new();
    for entry in &entries {
        if !ids.contains(&entry.staff_member_id) {
            ids.push(entry.staff_member_id);
        }
    }
    let staff =
        ctx.data::<DataLoader<StaffMemberLoader>>()?.load_many(ids.iter().copied()).await.map_err(loader_error)?;
    Ok(ids.iter().filter_map(|id| staff.get(id).cloned()).map(StaffMember).collect())
}

pub async fn engagement_milestone_attainment(ctx: &Context<'_>, engagement_id: Uuid) -> Result<MilestoneAttainment> {
    let loader = ctx.data::<DataLoader<EngagementMilestonesLoader>>()?;
    let milestones = loader.load_one(engagement_id).await.map_err(loader_error)?.unwrap_or_default();
    let result = metrics::milestone_attainment(&milestones, today(ctx)?);
    Ok(MilestoneAttainment {
        due: result.due as i32,
        attained: result.attained as i32,
        rate: result.rate.map(|rate| rate.normalize()),
    })
}

pub async fn engagement_change_request_trend(ctx: &Context<'_>, engagement_id: Uuid) -> Result<ChangeRequestTrend> {
    let loader = ctx.data::<DataLoader<EngagementChangeRequestsLoader>>()?;
    let changes = loader.load_one(engagement_id).await.map_err(loader_error)?.unwrap_or_default();
    let calendar = ctx.data::<BusinessCalendar>()?;
    let tenant_id = ctx.data::<TenantContext>()?.tenant_id;
    let submitted: Vec<NaiveDate> =
        changes.iter().map(|change| atrium_kit::calendar::tenant_date(tenant_id, change.submitted_at)).collect();
    let result = metrics::change_request_trend(&submitted, calendar.today(tenant_id));
    Ok(ChangeRequestTrend {
        last_30_days: result.last_30_days as i32,
        prior_per_30_days: result.prior_per_30_days.normalize(),
        increasing: result.increasing,
    })
}

fn today(ctx: &Context<'_>) -> Result<NaiveDate> {
    Ok(ctx.data::<BusinessCalendar>()?.today(ctx.data::<TenantContext>()?.tenant_id))
}

/// `staffMembers`: one page, optionally one role.
pub async fn staff_members_connection(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    role: Option<StaffRole>,
) -> Result<StaffMemberConnection> {
    let page = PageRequest::parse(first, after.as_deref())?;
    let tx = request_transaction(ctx)?;
    let rows = repo::staff_members_page(&tx, role.map(Into::into), page.after, page.first + 1).await?;
    let (rows, page_info) = page.finish(rows, |row| row.id);
    Ok(StaffMemberConnection { nodes: rows.into_iter().map(StaffMember).collect(), page_info })
}

/// `timeEntries`: one page of the tenant's entries matching `filter`.
pub async fn time_entries_connection(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    filter: repo::TimeEntryFilter,
) -> Result<TimeEntryConnection> {
    let page = PageRequest::parse(first, after.as_deref())?;
    let tx = request_transaction(ctx)?;
    let rows = repo::time_entries_page(&tx, &filter, page.after, page.first + 1).await?;
    let (rows, page_info) = page.finish(rows, |row| row.id);
    Ok(TimeEntryConnection { nodes: rows.into_iter().map(TimeEntry).collect(), page_info })
}

// ---------------------------------------------------------------------------------------
// DataLoaders.

/// Staff members by id (`TimeEntry.staffMember`, `Engagement.team`).
pub struct StaffMemberLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for StaffMemberLoader {
    type Value = ops::StaffMember;
    type Error = Arc<DeliveryError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = repo::staff_members_by_ids(&self.0, keys).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

/// All time entries of each engagement, in creation order (`Engagement.timeEntries`).
pub struct EngagementTimeEntriesLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for EngagementTimeEntriesLoader {
    type Value = Vec<ops::TimeEntry>;
    type Error = Arc<DeliveryError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = repo::time_entries_of_engagements(&self.0, keys).await.map_err(Arc::new)?;
        let mut by_engagement: HashMap<Uuid, Vec<ops::TimeEntry>> = keys.iter().map(|key| (*key, Vec::new())).collect();
        for row in rows {
            by_engagement.entry(row.engagement_id).or_default().push(row);
        }
        Ok(by_engagement)
    }
}

/// All change requests of each engagement, in submission order.
pub struct EngagementChangeRequestsLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for EngagementChangeRequestsLoader {
    type Value = Vec<ops::ChangeRequest>;
    type Error = Arc<DeliveryError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = repo::change_requests_of_engagements(&self.0, keys).await.map_err(Arc::new)?;
        let mut by_engagement: HashMap<Uuid, Vec<ops::ChangeRequest>> =
            keys.iter().map(|key| (*key, Vec::new())).collect();
        for row in rows {
            by_engagement.entry(row.engagement_id).or_default().push(row);
        }
        Ok(by_engagement)
    }
}

/// Time entries of a staff member in a period (`StaffMember.utilization`): one statement
/// for all staff of the request, spanning every requested period.
pub struct StaffTimeLoader(pub Arc<TenantTransaction>);

impl Loader<(Uuid, NaiveDate, NaiveDate)> for StaffTimeLoader {
    type Value = Vec<ops::TimeEntry>;
    type Error = Arc<DeliveryError>;

    async fn load(
        &self,
        keys: &[(Uuid, NaiveDate, NaiveDate)],
    ) -> Result<HashMap<(Uuid, NaiveDate, NaiveDate), Self::Value>, Self::Error> {
        let (Some(from), Some(to)) = (keys.iter().map(|key| key.1).min(), keys.iter().map(|key| key.2).max()) else {
            return Ok(HashMap::new());
        };
        let staff: Vec<Uuid> = keys.iter().map(|key| key.0).collect();
        let rows = repo::time_entries_of_staff(&self.0, &staff, from, to).await.map_err(Arc::new)?;
        Ok(keys
            .iter()
            .map(|key| {
                let entries = rows
                    .iter()
                    .filter(|row| row.staff_member_id == key.0 && (key.1..=key.2).contains(&row.work_date))
                    .cloned()
                    .collect();
                (*key, entries)
            })
            .collect())
    }
}

/// Registers this module's loaders on a request.
pub fn install_loaders(request: async_graphql::Request, tx: &Arc<TenantTransaction>) -> async_graphql::Request {
    request
        .data(DataLoader::new(StaffMemberLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(EngagementTimeEntriesLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(EngagementChangeRequestsLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(StaffTimeLoader(tx.clone()), tokio::spawn))
}
