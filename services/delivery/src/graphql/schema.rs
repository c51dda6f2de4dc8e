//! Delivery schema: root fields, federation entity resolvers, and the per-request data
//! (tenant transaction + DataLoaders) the subgraph handler installs.

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, ID, Object, Result, Schema, dataloader::DataLoader};
use atrium_kit::{
    ErrorCode, TenantContext, TenantTransaction, cache_control::cache_control, command, events, pagination::PageInfo,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use sea_orm::DatabaseConnection;

use crate::{
    calendar::BusinessCalendar,
    commands::{self, ACCEPTANCE_ROLES, DELIVERY_ROLES, MilestoneStep, ONBOARDING_ROLES},
    domain,
    operations::{
        self as ops_commands, CHANGE_APPROVER_ROLES, CHANGE_ROLES, ChangeDecision, ChangeInput, FORECAST_ROLES,
        TIME_APPROVER_ROLES, TIME_ROLES, TimeInput,
    },
    repository::operations::{self as repo, TimeEntryFilter},
};

use super::{
    Mutation,
    loaders::{
        CustomerEngagementsLoader, EngagementLoader, EngagementMilestonesLoader, EngagementTasksLoader, MilestoneLoader,
    },
    operations::{
        self, ChangeRequest, StaffMemberConnection, StaffRole, TimeCategory, TimeEntry, TimeEntryConnection,
        TimeEntryStatus,
    },
    types::{self, CustomerAccount, Engagement, EngagementConnection, EngagementStatus, Milestone, Task, loader_error},
};

pub type DeliverySchema = Schema<Query, Mutation, EmptySubscription>;

pub struct Query;

/// Seconds a delivery answer may be reused: plans and progress move during the working
/// day, so dashboards see them within a minute.
const DELIVERY_MAX_AGE: u32 = 60;

#[Object]
impl Query {
    /// The tenant's engagements, ordered by creation, optionally only some statuses.
    #[graphql(directive = cache_control::apply(DELIVERY_MAX_AGE))]
    async fn engagements(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<Vec<EngagementStatus>>,
    ) -> Result<EngagementConnection> {
        types::engagements_connection(ctx, first, after.as_deref(), status).await
    }

    /// One engagement of the tenant; another tenant's id yields null.
    #[graphql(directive = cache_control::apply(DELIVERY_MAX_AGE))]
    async fn engagement(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Engagement>> {
        load_engagement(ctx, &id).await
    }

    /// The tenant's staff, ordered by id, optionally one role.
    async fn staff_members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        role: Option<StaffRole>,
    ) -> Result<StaffMemberConnection> {
        operations::staff_members_connection(ctx, first, after, role).await
    }

    /// The tenant's time entries ordered by id, narrowed by engagement, staff member,
    /// status and work-date range (both ends included).
    #[allow(clippy::too_many_arguments)]
    async fn time_entries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        engagement_id: Option<ID>,
        staff_member_id: Option<ID>,
        status: Option<TimeEntryStatus>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<TimeEntryConnection> {
        let nothing = || {
            Ok(TimeEntryConnection {
                nodes: Vec::new(),
                page_info: PageInfo { has_next_page: false, end_cursor: None },
            })
        };
        let engagement_id = match engagement_id.map(|id| uuid_of(&id)) {
            Some(None) => return nothing(),
            other => other.flatten(),
        };
        let staff_member_id = match staff_member_id.map(|id| uuid_of(&id)) {
            Some(None) => return nothing(),
            other => other.flatten(),
        };
        let filter = TimeEntryFilter { engagement_id, staff_member_id, status: status.map(Into::into), from, to };
        operations::time_entries_connection(ctx, first, after, filter).await
    }

    /// Events delivery's consumer could not apply and parked, newest first (tenant admins
    /// only; docs/domain.md#event-delivery).
    #[graphql(requires_scopes = "tenant_admin")]
    async fn delivery_event_dead_letters(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(events::DEFAULT_DEAD_LETTERS)")] first: Option<i32>,
    ) -> Result<Vec<events::DeadLetter>> {
        events::tenant_dead_letters(ctx, first).await
    }

    /// `CustomerAccount` is owned by finance; delivery contributes `engagements`. The stub
    /// needs no lookup: its fields load under the tenant filter, so another tenant's id
    /// sees empty lists, never data.
    #[graphql(entity)]
    async fn find_customer_account_by_id(&self, id: ID) -> CustomerAccount {
        CustomerAccount { id }
    }

    /// Resolves an Engagement reference; another tenant's id resolves to null.
    #[graphql(entity)]
    async fn find_engagement_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Engagement>> {
        load_engagement(ctx, &id).await
    }

    /// Resolves a Milestone reference; another tenant's id resolves to null.
    #[graphql(entity)]
    async fn find_milestone_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Milestone>> {
        let Some(id) = uuid_of(&id) else { return Ok(None) };
        let loader = ctx.data::<DataLoader<MilestoneLoader>>()?;
        Ok(loader.load_one(id).await.map_err(loader_error)?.map(Milestone::from))
    }
}

/// Delivery's writes, each one command of the kit's pattern (docs/domain.md#delivery-commands):
/// the change, its audit entry and its domain events commit together; an invalid
/// transition answers `INVALID_TRANSITION` (with `current` and `allowed`), an unmet guard
/// or a concurrent change `CONFLICT`, another tenant's id `NOT_FOUND`, and nothing of the
/// attempt is written.
/// Engagement, task and milestone lifecycle commands.
#[derive(Default)]
pub struct LifecycleMutation;

/// Time, change-request and forecast commands (docs/domain.md#delivery-operations).
#[derive(Default)]
pub struct OperationsMutation;

#[Object]
impl LifecycleMutation {
    /// Starts onboarding of a draft engagement: its checklist tasks become to do, due
    /// relative to the engagement's start.
    async fn activate_onboarding(&self, ctx: &Context<'_>, engagement_id: ID) -> Result<Engagement> {
        let id = target(&engagement_id, "Engagement")?;
        let today = business_today(ctx)?;
        let command = commands::command("activateOnboarding", "Engagement", ONBOARDING_ROLES, Some(id));
        let engagement =
            command::run(ctx, command, |tx| Box::pin(commands::activate_onboarding(tx, id, today))).await?;
        Ok(engagement.into())
    }

    /// Ticks a task off; the last required checklist task ends onboarding.
    async fn complete_task(&self, ctx: &Context<'_>, id: ID) -> Result<Task> {
        let task_id = target(&id, "Task")?;
        let today = business_today(ctx)?;
        let command = commands::command("completeTask", "Task", ONBOARDING_ROLES, Some(task_id));
        let task = command::run(ctx, command, |tx| Box::pin(commands::complete_task(tx, task_id, today))).await?;
        Ok(task.into())
    }

    async fn start_milestone(&self, ctx: &Context<'_>, id: ID) -> Result<Milestone> {
        advance_milestone(ctx, &id, "startMilestone", DELIVERY_ROLES, MilestoneStep::Start).await
    }

    /// Completing the go-live milestone of a delivering engagement takes it live.
    async fn complete_milestone(&self, ctx: &Context<'_>, id: ID) -> Result<Milestone> {
        advance_milestone(ctx, &id, "completeMilestone", DELIVERY_ROLES, MilestoneStep::Complete).await
    }

    /// Records the customer's acceptance of a completed milestone that requires it.
    async fn accept_milestone(&self, ctx: &Context<'_>, id: ID) -> Result<Milestone> {
        advance_milestone(ctx, &id, "acceptMilestone", ACCEPTANCE_ROLES, MilestoneStep::Accept).await
    }

    /// Moves an engagement along its lifecycle; `reason` is kept while on hold.
    async fn change_engagement_status(
        &self,
        ctx: &Context<'_>,
        id: ID,
        status: EngagementStatus,
        reason: Option<String>,
    ) -> Result<Engagement> {
        let engagement_id = target(&id, "Engagement")?;
        let today = business_today(ctx)?;
        let next = domain::EngagementStatus::from(status);
        let command = commands::command("changeEngagementStatus", "Engagement", DELIVERY_ROLES, Some(engagement_id));
        let engagement = command::run(ctx, command, |tx| {
            Box::pin(commands::change_engagement_status(tx, engagement_id, next, reason, today))
        })
        .await?;
        Ok(engagement.into())
    }
}

#[Object]
impl OperationsMutation {
    /// Logs time against an engagement: the caller's own (their staff member), or, for a
    /// delivery manager or tenant admin, `staffMemberId`'s. Refused with `BAD_USER_INPUT`:
    /// hours not above 0, more than 24 hours on one day for one person, a future work
    /// date; with `CONFLICT`: a closed or cancelled engagement. Nothing is written then.
    #[allow(clippy::too_many_arguments)]
    async fn submit_time_entry(
        &self,
        ctx: &Context<'_>,
        engagement_id: ID,
        work_date: NaiveDate,
        hours: Decimal,
        billable: bool,
        category: TimeCategory,
        note: Option<String>,
        staff_member_id: Option<ID>,
        idempotency_key: Option<String>,
    ) -> Result<TimeEntry> {
        let engagement_id = target(&engagement_id, "Engagement")?;
        let staff_member_id = staff_member_id.map(|id| target(&id, "StaffMember")).transpose()?;
        let today = business_today(ctx)?;
        let input =
            TimeInput { engagement_id, staff_member_id, work_date, hours, billable, category: category.into(), note };
        let command = commands::command("submitTimeEntry", "TimeEntry", TIME_ROLES, None);
        let entry = command::run_idempotent(ctx, command, idempotency_key, move |tx| {
            Box::pin(async move {
                let outcome = ops_commands::submit_time_entry(tx, input, today).await?;
                Ok(atrium_kit::command::Outcome {
                    value: outcome.value.id,
                    entity_ids: outcome.entity_ids,
                    detail: outcome.detail,
                    events: outcome.events,
                })
            })
        })
        .await?;
        read_back_time_entry(ctx, entry).await
    }

    /// Approves a submitted entry; emits `delivery.time_entry.approved` with its cost and
    /// bill amounts.
    async fn approve_time_entry(&self, ctx: &Context<'_>, id: ID) -> Result<TimeEntry> {
        let entry_id = target(&id, "TimeEntry")?;
        let command = commands::command("approveTimeEntry", "TimeEntry", TIME_APPROVER_ROLES, Some(entry_id));
        let entry = command::run(ctx, command, |tx| Box::pin(ops_commands::approve_time_entry(tx, entry_id))).await?;
        Ok(TimeEntry(entry))
    }

    /// Rejects a submitted entry with a reason.
    async fn reject_time_entry(&self, ctx: &Context<'_>, id: ID, reason: String) -> Result<TimeEntry> {
        let entry_id = target(&id, "TimeEntry")?;
        let command = commands::command("rejectTimeEntry", "TimeEntry", TIME_APPROVER_ROLES, Some(entry_id));
        let entry =
            command::run(ctx, command, |tx| Box::pin(ops_commands::reject_time_entry(tx, entry_id, reason))).await?;
        Ok(TimeEntry(entry))
    }

    /// Submits a rejected entry again, optionally with corrected hours or note.
    async fn resubmit_time_entry(
        &self,
        ctx: &Context<'_>,
        id: ID,
        hours: Option<Decimal>,
        note: Option<String>,
    ) -> Result<TimeEntry> {
        let entry_id = target(&id, "TimeEntry")?;
        let today = business_today(ctx)?;
        let command = commands::command("resubmitTimeEntry", "TimeEntry", TIME_ROLES, Some(entry_id));
        let entry = command::run(ctx, command, |tx| {
            Box::pin(ops_commands::resubmit_time_entry(tx, entry_id, hours, note, today))
        })
        .await?;
        Ok(TimeEntry(entry))
    }

    /// Raises a change request on an open engagement (`CONFLICT` when closed or cancelled).
    #[allow(clippy::too_many_arguments)]
    async fn submit_change_request(
        &self,
        ctx: &Context<'_>,
        engagement_id: ID,
        title: String,
        impact_hours: Decimal,
        impact_price: Decimal,
        impact_days: i32,
        reason: Option<String>,
        idempotency_key: Option<String>,
    ) -> Result<ChangeRequest> {
        let engagement_id = target(&engagement_id, "Engagement")?;
        let input = ChangeInput { engagement_id, title, impact_hours, impact_price, impact_days, reason };
        let command = commands::command("submitChangeRequest", "ChangeRequest", CHANGE_ROLES, None);
        let id = command::run_idempotent(ctx, command, idempotency_key, move |tx| {
            Box::pin(async move {
                let outcome = ops_commands::submit_change_request(tx, input).await?;
                Ok(atrium_kit::command::Outcome {
                    value: outcome.value.id,
                    entity_ids: outcome.entity_ids,
                    detail: outcome.detail,
                    events: outcome.events,
                })
            })
        })
        .await?;
        let tx = TenantTransaction::begin(ctx.data::<DatabaseConnection>()?, ctx.data::<TenantContext>()?).await?;
        let change = repo::change_requests_by_ids(&tx, &[id]).await?.pop();
        change.map(ChangeRequest).ok_or_else(|| ErrorCode::NotFound.graphql_error("no ChangeRequest with this id"))
    }

    /// Approves a change request: the engagement's budget grows by its impact hours and its
    /// go-live target and forecast move by its impact days.
    async fn approve_change_request(&self, ctx: &Context<'_>, id: ID) -> Result<ChangeRequest> {
        decide_change(ctx, &id, "approveChangeRequest", CHANGE_APPROVER_ROLES, ChangeDecision::Approve, None).await
    }

    async fn reject_change_request(&self, ctx: &Context<'_>, id: ID, reason: String) -> Result<ChangeRequest> {
        decide_change(ctx, &id, "rejectChangeRequest", CHANGE_APPROVER_ROLES, ChangeDecision::Reject, Some(reason))
            .await
    }

    async fn withdraw_change_request(&self, ctx: &Context<'_>, id: ID) -> Result<ChangeRequest> {
        decide_change(ctx, &id, "withdrawChangeRequest", CHANGE_ROLES, ChangeDecision::Withdraw, None).await
    }

    /// Sets an open milestone's forecast date; emits `delivery.milestone.forecast_changed`.
    async fn forecast_milestone(
        &self,
        ctx: &Context<'_>,
        id: ID,
        forecast_date: NaiveDate,
        reason: Option<String>,
    ) -> Result<Milestone> {
        let milestone_id = target(&id, "Milestone")?;
        let command = commands::command("forecastMilestone", "Milestone", FORECAST_ROLES, Some(milestone_id));
        let milestone = command::run(ctx, command, |tx| {
            Box::pin(ops_commands::forecast_milestone(tx, milestone_id, forecast_date, reason))
        })
        .await?;
        Ok(milestone.into())
    }
}

async fn decide_change(
    ctx: &Context<'_>,
    id: &ID,
    operation: &'static str,
    roles: &'static [&'static str],
    decision: ChangeDecision,
    reason: Option<String>,
) -> Result<ChangeRequest> {
    let change_id = target(id, "ChangeRequest")?;
    let command = commands::command(operation, "ChangeRequest", roles, Some(change_id));
    let change =
        command::run(ctx, command, |tx| Box::pin(ops_commands::decide_change_request(tx, change_id, decision, reason)))
            .await?;
    Ok(ChangeRequest(change))
}

/// A created entry, read in a transaction of its own: the request's began before the
/// command's commit.
async fn read_back_time_entry(ctx: &Context<'_>, id: uuid::Uuid) -> Result<TimeEntry> {
    let tx = TenantTransaction::begin(ctx.data::<DatabaseConnection>()?, ctx.data::<TenantContext>()?).await?;
    let entry = repo::time_entries_by_ids(&tx, &[id]).await?.pop();
    entry.map(TimeEntry).ok_or_else(|| ErrorCode::NotFound.graphql_error("no TimeEntry with this id"))
}

async fn advance_milestone(
    ctx: &Context<'_>,
    id: &ID,
    operation: &'static str,
    roles: &'static [&'static str],
    step: MilestoneStep,
) -> Result<Milestone> {
    let milestone_id = target(id, "Milestone")?;
    let today = business_today(ctx)?;
    let command = commands::command(operation, "Milestone", roles, Some(milestone_id));
    let milestone =
        command::run(ctx, command, |tx| Box::pin(commands::advance_milestone(tx, milestone_id, step, today))).await?;
    Ok(milestone.into())
}

/// The id of a mutation's target; one that is not even a uuid names nothing.
fn target(id: &ID, entity: &str) -> Result<uuid::Uuid> {
    uuid_of(id).ok_or_else(|| ErrorCode::NotFound.graphql_error(format!("no {entity} with this id")))
}

fn business_today(ctx: &Context<'_>) -> Result<chrono::NaiveDate> {
    Ok(ctx.data::<BusinessCalendar>()?.today(ctx.data::<TenantContext>()?.tenant_id))
}

async fn load_engagement(ctx: &Context<'_>, id: &ID) -> Result<Option<Engagement>> {
    let Some(id) = uuid_of(id) else { return Ok(None) };
    let loader = ctx.data::<DataLoader<EngagementLoader>>()?;
    Ok(loader.load_one(id).await.map_err(loader_error)?.map(Engagement::from))
}

pub fn build_schema() -> DeliverySchema {
    atrium_kit::subgraph_schema::build(Query, Mutation::default(), EmptySubscription)
}

/// Installs the request's tenant transaction, the DataLoaders bound to it and the
/// business calendar derived flags count from.
pub fn install_request_data(
    request: async_graphql::Request,
    tx: Arc<TenantTransaction>,
    calendar: BusinessCalendar,
) -> async_graphql::Request {
    let request = operations::install_loaders(request, &tx);
    let request = super::reporting::install_loaders(request, &tx);
    request
        .data(calendar)
        .data(DataLoader::new(EngagementLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(CustomerEngagementsLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(EngagementMilestonesLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(MilestoneLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(EngagementTasksLoader(tx.clone()), tokio::spawn))
        .data(tx)
}

use atrium_kit::subgraph_http::uuid_of;
