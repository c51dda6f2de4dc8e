//! Delivery schema: root fields, federation entity resolvers, and the per-request data
//! (tenant transaction + DataLoaders) the subgraph handler installs.

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, ID, Object, Result, Schema, dataloader::DataLoader};
use atrium_kit::{ErrorCode, TenantContext, TenantTransaction, cache_control::cache_control, command, events};

use crate::{
    calendar::BusinessCalendar,
    commands::{self, ACCEPTANCE_ROLES, DELIVERY_ROLES, MilestoneStep, ONBOARDING_ROLES},
    domain,
};

use super::{
    loaders::{
        CustomerEngagementsLoader, EngagementLoader, EngagementMilestonesLoader, EngagementTasksLoader, MilestoneLoader,
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
pub struct Mutation;

#[Object]
impl Mutation {
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
    atrium_kit::subgraph_schema::build(Query, Mutation, EmptySubscription)
}

/// Installs the request's tenant transaction, the DataLoaders bound to it and the
/// business calendar derived flags count from.
pub fn install_request_data(
    request: async_graphql::Request,
    tx: Arc<TenantTransaction>,
    calendar: BusinessCalendar,
) -> async_graphql::Request {
    request
        .data(calendar)
        .data(DataLoader::new(EngagementLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(CustomerEngagementsLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(EngagementMilestonesLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(MilestoneLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(EngagementTasksLoader(tx.clone()), tokio::spawn))
        .data(tx)
}

pub use atrium_kit::subgraph_http::uuid_of;
