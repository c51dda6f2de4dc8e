//! Delivery schema: root fields, federation entity resolvers, and the per-request data
//! (tenant transaction + DataLoaders) the subgraph handler installs.

use std::sync::Arc;

use async_graphql::{Context, EmptyMutation, EmptySubscription, ID, Object, Result, Schema, dataloader::DataLoader};
use atrium_kit::{TenantTransaction, cache_control::cache_control};

use crate::calendar::BusinessCalendar;

use super::{
    loaders::{CustomerEngagementsLoader, EngagementLoader, EngagementMilestonesLoader, MilestoneLoader},
    types::{self, CustomerAccount, Engagement, EngagementConnection, EngagementStatus, Milestone, loader_error},
};

pub type DeliverySchema = Schema<Query, EmptyMutation, EmptySubscription>;

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

async fn load_engagement(ctx: &Context<'_>, id: &ID) -> Result<Option<Engagement>> {
    let Some(id) = uuid_of(id) else { return Ok(None) };
    let loader = ctx.data::<DataLoader<EngagementLoader>>()?;
    Ok(loader.load_one(id).await.map_err(loader_error)?.map(Engagement::from))
}

pub fn build_schema() -> DeliverySchema {
    atrium_kit::subgraph_schema::build(Query, EmptyMutation, EmptySubscription)
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
        .data(tx)
}

pub use atrium_kit::subgraph_http::{request_transaction, uuid_of};
