//! Analytics schema: the health model, the tenant admin's automation and dead-letter root
//! fields, the `CustomerAccount` entity resolver (which receives the `@requires` inputs
//! from the representation), and the per-request data (tenant transaction + DataLoaders)
//! the subgraph handler installs.

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, ID, Object, Result, Schema, dataloader::DataLoader};
use atrium_kit::{TenantTransaction, cache_control::cache_control, events};

use super::{
    cs_actions::{
        self, CsActionConnection, CsActionFilterInput, CsActionStepsLoader, CustomerCsActionsLoader,
        NotificationConnection, Playbook,
    },
    health_admin::{self, HealthModelPreview},
    journey::{self, AutomationRule, AutomationRunConnection},
    kpis,
    loaders::{ActiveModelLoader, CustomerFactsLoader, CustomerSignalsLoader, LifecycleLoader, TimelineLoader},
    mutation::Mutation,
    types::{self, CustomerAccount, HealthModel},
};

pub type AnalyticsSchema = Schema<Query, Mutation, EmptySubscription>;

pub struct Query;

/// Seconds the health model may be reused: it is versioned configuration that changes
/// when an operator publishes a new version.
const HEALTH_MODEL_MAX_AGE: u32 = 3600;

#[Object]
impl Query {
    /// The tenant's active customer-health model: version, bands and measures.
    #[graphql(directive = cache_control::apply(HEALTH_MODEL_MAX_AGE))]
    async fn health_model(&self, ctx: &Context<'_>) -> Result<HealthModel> {
        types::active_health_model(ctx).await
    }

    /// How the tenant's customers would score under a health model version (a draft being
    /// edited, or any other), on today's facts (tenant admins only).
    #[graphql(requires_scopes = "tenant_admin")]
    async fn preview_health_model(&self, ctx: &Context<'_>, id: ID) -> Result<HealthModelPreview> {
        health_admin::preview(ctx, id).await
    }

    /// The tenant's automation rules, by code (tenant admins only).
    #[graphql(requires_scopes = "tenant_admin")]
    async fn automation_rules(&self, ctx: &Context<'_>) -> Result<Vec<AutomationRule>> {
        journey::automation_rules(ctx).await
    }

    /// Runs of the tenant's automation rules, oldest first (tenant admins only).
    #[graphql(requires_scopes = "tenant_admin")]
    async fn automation_runs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<AutomationRunConnection> {
        journey::automation_runs(ctx, first, after).await
    }

    /// CS actions, oldest first, narrowed by `filter`; partner and customer-portal users
    /// see only their customers' actions.
    #[graphql(
        requires_scopes = "tenant_admin",
        requires_scopes = "exec",
        requires_scopes = "csm",
        requires_scopes = "delivery_manager",
        requires_scopes = "finance",
        requires_scopes = "support_lead",
        requires_scopes = "partner_admin",
        requires_scopes = "partner_user"
    )]
    async fn cs_actions(
        &self,
        ctx: &Context<'_>,
        filter: Option<CsActionFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<CsActionConnection> {
        cs_actions::cs_actions(ctx, filter, first, after).await
    }

    /// The tenant's playbooks, by code (tenant admins only).
    #[graphql(requires_scopes = "tenant_admin")]
    async fn playbooks(&self, ctx: &Context<'_>) -> Result<Vec<Playbook>> {
        cs_actions::playbooks(ctx).await
    }

    /// In-app notifications automation raised, oldest first, optionally for one recipient
    /// role (tenant admins only).
    #[graphql(requires_scopes = "tenant_admin")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        recipient_role: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<NotificationConnection> {
        cs_actions::notifications(ctx, recipient_role, first, after).await
    }

    /// Events analytics' consumer could not apply and parked, newest first (tenant admins
    /// only; docs/domain.md#event-delivery).
    #[graphql(requires_scopes = "tenant_admin")]
    async fn analytics_event_dead_letters(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(events::DEFAULT_DEAD_LETTERS)")] first: Option<i32>,
    ) -> Result<Vec<events::DeadLetter>> {
        events::tenant_dead_letters(ctx, first).await
    }

    /// `CustomerAccount` is owned by finance; analytics contributes `health`. The router
    /// passes the `@requires` inputs (support's open urgent/high ticket count, finance's
    /// AR-over-60 share) in the representation; they are `None` when `health` was not
    /// selected. No lookup here: analytics' own signals load under the tenant filter, so
    /// another tenant's id scores from the provided inputs only.
    #[graphql(entity)]
    async fn find_customer_account_by_id(
        &self,
        #[graphql(key)] id: ID,
        open_urgent_high_ticket_count: Option<i32>,
        #[graphql(name = "arOver60Share")] ar_over60_share: Option<f64>,
    ) -> CustomerAccount {
        CustomerAccount::from_representation(id, open_urgent_high_ticket_count, ar_over60_share)
    }

    /// `Tenant` is owned by catalog; analytics contributes `kpis` (docs/domain.md#kpis).
    #[graphql(entity)]
    async fn find_tenant_by_id(&self, #[graphql(key)] id: ID) -> kpis::Tenant {
        kpis::Tenant { id }
    }

    /// `ChannelPartner` by key; analytics contributes `kpis` (docs/domain.md#kpis).
    #[graphql(entity)]
    async fn find_channel_partner_by_id(&self, #[graphql(key)] id: ID) -> kpis::ChannelPartner {
        kpis::ChannelPartner { id }
    }
}

pub fn build_schema() -> AnalyticsSchema {
    atrium_kit::subgraph_schema::build(Query, Mutation::default(), EmptySubscription)
}

/// Installs the request's tenant transaction and DataLoaders bound to it.
pub fn install_request_data(request: async_graphql::Request, tx: Arc<TenantTransaction>) -> async_graphql::Request {
    request
        .data(DataLoader::new(ActiveModelLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(CustomerSignalsLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(TimelineLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(
            CustomerFactsLoader {
                tx: tx.clone(),
                today: atrium_kit::calendar::tenant_date(tx.tenant_id(), chrono::Utc::now()),
            },
            tokio::spawn,
        ))
        .data(DataLoader::new(LifecycleLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(CustomerCsActionsLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(CsActionStepsLoader(tx.clone()), tokio::spawn))
        .data(tx)
}
