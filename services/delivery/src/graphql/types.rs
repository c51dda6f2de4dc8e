//! Delivery GraphQL object types and enums, mapped from domain values. Derived values
//! (go-live variance, milestone `late`/`atRisk`) come from `domain`, never from here.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject, dataloader::DataLoader};
use atrium_kit::{
    TenantContext,
    pagination::{PageInfo, PageRequest},
};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::prelude::ToPrimitive;

use atrium_kit::subgraph_http::{request_transaction, uuid_of};

use super::{
    loaders::{CustomerEngagementsLoader, EngagementLoader, EngagementMilestonesLoader, EngagementTasksLoader},
    operations,
};
use crate::{calendar::BusinessCalendar, domain, error::DeliveryError, repository};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::EngagementStatus")]
pub enum EngagementStatus {
    Draft,
    Onboarding,
    Delivering,
    Live,
    OnHold,
    Closed,
    Cancelled,
}

/// Same name and values as catalog's enum (Blueprint.engagementType): composition merges them.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::EngagementType")]
pub enum EngagementType {
    Implementation,
    Onboarding,
    ManagedServiceTransition,
    ComplianceProgram,
    Optimization,
}

/// The delivery manager's red/amber/green status (latest status report).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::Rag")]
pub enum Rag {
    Green,
    Amber,
    Red,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::MilestonePhase")]
pub enum MilestonePhase {
    Onboarding,
    Design,
    Build,
    Test,
    Deploy,
    Hypercare,
    Run,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::MilestoneStatus")]
pub enum MilestoneStatus {
    NotStarted,
    InProgress,
    Completed,
    Accepted,
    Waived,
    Cancelled,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::TaskStatus")]
pub enum TaskStatus {
    Inactive,
    Todo,
    InProgress,
    Blocked,
    Done,
    Cancelled,
}

/// Onboarding checklist item or work task.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::TaskKind")]
pub enum TaskKind {
    Checklist,
    Work,
}

/// A customer account (owned by finance); delivery contributes its engagements.
pub struct CustomerAccount {
    pub id: ID,
}

#[Object]
impl CustomerAccount {
    async fn id(&self) -> &ID {
        &self.id
    }

    /// The customer's engagements, ordered by creation, optionally only some statuses.
    /// Loaded for every customer of the request in one statement.
    async fn engagements(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<Vec<EngagementStatus>>,
    ) -> Result<EngagementConnection> {
        let page = PageRequest::parse(first, after.as_deref())?;
        let Some(customer_id) = uuid_of(&self.id) else {
            let page_info = PageInfo { has_next_page: false, end_cursor: None };
            return Ok(EngagementConnection { nodes: Vec::new(), page_info });
        };
        let loader = ctx.data::<DataLoader<CustomerEngagementsLoader>>()?;
        let engagements = loader.load_one(customer_id).await.map_err(loader_error)?.unwrap_or_default();
        let wanted =
            status.map(|statuses| statuses.into_iter().map(domain::EngagementStatus::from).collect::<Vec<_>>());
        let matching: Vec<domain::Engagement> = engagements
            .into_iter()
            .filter(|engagement| wanted.as_ref().is_none_or(|wanted| wanted.contains(&engagement.status)))
            .collect();
        let (nodes, page_info) = page.slice(&matching, |engagement| engagement.id);
        Ok(EngagementConnection { nodes: nodes.into_iter().map(Engagement::from).collect(), page_info })
    }
}

/// A project delivering one or more contract lines to a customer.
pub struct Engagement(domain::Engagement);

impl From<domain::Engagement> for Engagement {
    fn from(engagement: domain::Engagement) -> Self {
        Engagement(engagement)
    }
}

#[Object]
impl Engagement {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Human number, unique per tenant.
    async fn number(&self) -> &str {
        &self.0.number
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    #[graphql(name = "type")]
    async fn engagement_type(&self) -> EngagementType {
        self.0.engagement_type.into()
    }

    async fn status(&self) -> EngagementStatus {
        self.0.status.into()
    }

    async fn rag(&self) -> Rag {
        self.0.rag.into()
    }

    /// Activation date.
    async fn start_date(&self) -> Option<NaiveDate> {
        self.0.start_date
    }

    /// Current go-live baseline (moves only with an approved change request).
    async fn go_live_target_date(&self) -> Option<NaiveDate> {
        self.0.go_live_target_date
    }

    async fn go_live_forecast_date(&self) -> Option<NaiveDate> {
        self.0.go_live_forecast_date
    }

    async fn go_live_actual_date(&self) -> Option<NaiveDate> {
        self.0.go_live_actual_date
    }

    /// `(actual ?? forecast) − target` in days; positive is late; null without a target.
    // Definition: docs/domain.md#schedule-signals.
    async fn go_live_variance_days(&self) -> Option<i32> {
        self.0.go_live_variance_days().and_then(|days| i32::try_from(days).ok())
    }

    /// Fraction 0–1, weighted over milestones.
    async fn percent_complete(&self) -> f64 {
        self.0.percent_complete.to_f64().unwrap_or_default()
    }

    /// Incremented by every change; domain events carry it as their subject version.
    async fn version(&self) -> i64 {
        self.0.version
    }

    /// Onboarding checklist items and work tasks in creation order; loaded for every
    /// engagement of the request at once.
    async fn tasks(&self, ctx: &Context<'_>, first: Option<i32>, after: Option<String>) -> Result<TaskConnection> {
        let page = PageRequest::parse(first, after.as_deref())?;
        let loader = ctx.data::<DataLoader<EngagementTasksLoader>>()?;
        let tasks = loader.load_one(self.0.id).await.map_err(loader_error)?.unwrap_or_default();
        let (nodes, page_info) = page.slice(&tasks, |task| task.id);
        Ok(TaskConnection { nodes: nodes.into_iter().map(Task::from).collect(), page_info })
    }

    /// Milestones ordered by `seq`; loaded for every engagement of the request at once.
    async fn milestones(&self, ctx: &Context<'_>) -> Result<Vec<Milestone>> {
        let loader = ctx.data::<DataLoader<EngagementMilestonesLoader>>()?;
        let milestones = loader.load_one(self.0.id).await.map_err(loader_error)?.unwrap_or_default();
        Ok(milestones.into_iter().map(Milestone::from).collect())
    }

    /// ISO 4217 currency of the contract the engagement delivers, when known.
    async fn currency(&self) -> Option<&str> {
        self.0.currency.as_deref()
    }

    /// Budgeted hours; approved change requests add their impact hours.
    async fn budget_hours(&self) -> Option<rust_decimal::Decimal> {
        self.0.budget_hours.map(|hours| hours.normalize())
    }

    /// Time logged on the engagement in creation order; loaded for every engagement of the
    /// request at once.
    async fn time_entries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<operations::TimeEntryConnection> {
        operations::engagement_time_entries(ctx, self.0.id, first, after).await
    }

    /// Change requests in submission order.
    async fn change_requests(&self, ctx: &Context<'_>) -> Result<Vec<operations::ChangeRequest>> {
        operations::engagement_change_requests(ctx, self.0.id).await
    }

    /// Status reports, newest first; the latest published one set `rag`.
    async fn status_reports(&self, ctx: &Context<'_>) -> Result<Vec<super::reporting::StatusReport>> {
        super::reporting::engagement_status_reports(ctx, self.0.id).await
    }

    /// Who is assigned to the engagement (or its tasks), in assignment order.
    async fn assignments(&self, ctx: &Context<'_>) -> Result<Vec<super::reporting::Assignment>> {
        super::reporting::engagement_assignments(ctx, self.0.id).await
    }

    /// The staff who logged time on the engagement, in order of their first entry.
    async fn team(&self, ctx: &Context<'_>) -> Result<Vec<operations::StaffMember>> {
        operations::engagement_team(ctx, self.0.id).await
    }

    /// Milestones due to date (not waived or cancelled) and how many were done by their
    /// due date (accepted, when acceptance is required).
    // Definition: docs/domain.md#delivery-metrics.
    async fn milestone_attainment(&self, ctx: &Context<'_>) -> Result<operations::MilestoneAttainment> {
        operations::engagement_milestone_attainment(ctx, self.0.id).await
    }

    /// Whether change requests arrive faster than before (last 30 days against the 90 before).
    // Definition: docs/domain.md#delivery-metrics.
    async fn change_request_trend(&self, ctx: &Context<'_>) -> Result<operations::ChangeRequestTrend> {
        operations::engagement_change_request_trend(ctx, self.0.id).await
    }

    /// The customer (resolved by finance).
    async fn customer_account(&self) -> CustomerAccount {
        CustomerAccount { id: ID(self.0.customer_account_id.to_string()) }
    }

    /// The playbook the engagement was instantiated from (resolved by catalog).
    async fn blueprint(&self) -> Option<Blueprint> {
        self.0.blueprint_id.map(|id| Blueprint { id: ID(id.to_string()) })
    }
}

/// A checkpoint of an engagement.
pub struct Milestone(domain::Milestone);

impl From<domain::Milestone> for Milestone {
    fn from(milestone: domain::Milestone) -> Self {
        Milestone(milestone)
    }
}

#[Object]
impl Milestone {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Position within the engagement, from 1.
    async fn seq(&self) -> i32 {
        self.0.seq
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn phase(&self) -> MilestonePhase {
        self.0.phase.into()
    }

    async fn status(&self) -> MilestoneStatus {
        self.0.status.into()
    }

    /// Baseline due date.
    async fn due_date(&self) -> Option<NaiveDate> {
        self.0.due_date
    }

    async fn forecast_date(&self) -> Option<NaiveDate> {
        self.0.forecast_date
    }

    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }

    async fn is_go_live(&self) -> bool {
        self.0.is_go_live
    }

    async fn is_billing(&self) -> bool {
        self.0.is_billing
    }

    /// Whether the customer signs the milestone off after completion.
    async fn requires_acceptance(&self) -> bool {
        self.0.requires_acceptance
    }

    async fn accepted_at(&self) -> Option<DateTime<Utc>> {
        self.0.accepted_at
    }

    /// Share of the fixed fee billed at this milestone, a fraction (0.40 = 40 %).
    async fn billing_pct(&self) -> Option<rust_decimal::Decimal> {
        self.0.billing_pct.map(|pct| pct.normalize())
    }

    async fn version(&self) -> i64 {
        self.0.version
    }

    /// Past its due date and not done.
    // Definition: docs/domain.md#schedule-signals.
    async fn late(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(self.0.late(today(ctx)?))
    }

    /// Forecast beyond due, or due within 14 days with under 60 % complete.
    // Definition: docs/domain.md#schedule-signals.
    async fn at_risk(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(self.0.at_risk(today(ctx)?))
    }

    async fn engagement(&self, ctx: &Context<'_>) -> Result<Engagement> {
        let loader = ctx.data::<DataLoader<EngagementLoader>>()?;
        let engagement = loader.load_one(self.0.engagement_id).await.map_err(loader_error)?;
        // The milestone came from this tenant, so its engagement must exist: a gap is a defect.
        engagement.map(Engagement::from).ok_or_else(|| "milestone without its engagement".into())
    }
}

/// An onboarding checklist item or a work task of an engagement.
pub struct Task(domain::Task);

impl From<domain::Task> for Task {
    fn from(task: domain::Task) -> Self {
        Task(task)
    }
}

#[Object]
impl Task {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn kind(&self) -> TaskKind {
        self.0.kind.into()
    }

    async fn status(&self) -> TaskStatus {
        self.0.status.into()
    }

    /// Set when the task is activated: the engagement's start plus the template's offset.
    async fn due_date(&self) -> Option<NaiveDate> {
        self.0.due_date
    }

    /// The role expected to do it (`csm`, `delivery_manager`, `consultant`, `customer`, …).
    async fn owner_role(&self) -> &str {
        &self.0.owner_role
    }

    async fn assignee_user_id(&self) -> Option<&str> {
        self.0.assignee_user_id.as_deref()
    }

    /// Required checklist items gate the end of onboarding.
    async fn required(&self) -> bool {
        self.0.required
    }

    async fn customer_facing(&self) -> bool {
        self.0.customer_facing
    }

    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }

    async fn version(&self) -> i64 {
        self.0.version
    }

    async fn engagement(&self, ctx: &Context<'_>) -> Result<Engagement> {
        let loader = ctx.data::<DataLoader<EngagementLoader>>()?;
        let engagement = loader.load_one(self.0.engagement_id).await.map_err(loader_error)?;
        engagement.map(Engagement::from).ok_or_else(|| "task without its engagement".into())
    }
}

#[derive(SimpleObject)]
pub struct TaskConnection {
    pub nodes: Vec<Task>,
    pub page_info: PageInfo,
}

/// A catalog blueprint, referenced by id only (catalog resolves it).
#[derive(SimpleObject)]
#[graphql(unresolvable)]
pub struct Blueprint {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct EngagementConnection {
    pub nodes: Vec<Engagement>,
    pub page_info: PageInfo,
}

pub async fn engagements_connection(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<&str>,
    status: Option<Vec<EngagementStatus>>,
) -> Result<EngagementConnection> {
    let page = PageRequest::parse(first, after)?;
    let statuses = status.map(|statuses| statuses.into_iter().map(domain::EngagementStatus::from).collect::<Vec<_>>());
    let tx = request_transaction(ctx)?;
    let rows = repository::engagements_page(&tx, statuses.as_deref(), page.after, page.first + 1).await?;
    let (rows, page_info) = page.finish(rows, |row| row.id);
    Ok(EngagementConnection { nodes: rows.into_iter().map(Engagement::from).collect(), page_info })
}

/// The caller's tenant's business date (`crate::calendar`), for derived flags.
fn today(ctx: &Context<'_>) -> Result<NaiveDate> {
    let calendar = ctx.data::<BusinessCalendar>()?;
    Ok(calendar.today(ctx.data::<TenantContext>()?.tenant_id))
}

/// A DataLoader failure: logged and masked as an internal error by the schema extension.
pub fn loader_error(error: Arc<DeliveryError>) -> async_graphql::Error {
    async_graphql::Error::new(error.to_string())
}
