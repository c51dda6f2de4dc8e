//! Support schema: root fields, federation entity resolvers (`Ticket` through a
//! DataLoader; `CustomerAccount` as a stub whose contributed fields load per tenant), and
//! the per-request data (tenant transaction + DataLoaders) the subgraph handler installs.

use std::sync::Arc;

use async_graphql::{Context, EmptyMutation, EmptySubscription, ID, Object, Result, Schema, dataloader::DataLoader};
use atrium_kit::{TenantTransaction, pagination::PageRequest};
use uuid::Uuid;

use super::{
    loaders::{self, TicketLoader},
    types::{CustomerAccount, Ticket, TicketConnection, TicketPriority, TicketStatus, ticket_filter},
};
use crate::repository;

pub type SupportSchema = Schema<Query, EmptyMutation, EmptySubscription>;

pub struct Query;

#[Object]
impl Query {
    /// The tenant's tickets, ordered by id (creation order).
    async fn tickets(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<Vec<TicketStatus>>,
        priority: Option<Vec<TicketPriority>>,
    ) -> Result<TicketConnection> {
        let page = PageRequest::parse(first, after.as_deref())?;
        let tx = request_transaction(ctx)?;
        let filter = ticket_filter(status, priority);
        let rows = repository::tickets_page(&tx, &filter, page.after, page.first + 1).await?;
        let (rows, page_info) = page.finish(rows, |row| row.id);
        Ok(TicketConnection { nodes: rows.into_iter().map(Into::into).collect(), page_info })
    }

    /// One ticket of the tenant; null for unknown ids and other tenants' ids.
    async fn ticket(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Ticket>> {
        load_ticket(ctx, &id).await
    }

    /// Resolves a Ticket reference; another tenant's id resolves to null.
    #[graphql(entity)]
    async fn find_ticket_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Ticket>> {
        load_ticket(ctx, &id).await
    }

    /// Resolves a CustomerAccount reference to a stub: finance owns the account; the
    /// fields support adds load with the caller's tenant filter.
    #[graphql(entity)]
    async fn find_customer_account_by_id(&self, id: ID) -> Option<CustomerAccount> {
        uuid_of(&id).map(CustomerAccount::stub)
    }
}

async fn load_ticket(ctx: &Context<'_>, id: &ID) -> Result<Option<Ticket>> {
    let Some(id) = uuid_of(id) else { return Ok(None) };
    let loader = ctx.data::<DataLoader<TicketLoader>>()?;
    Ok(loader.load_one(id).await.map_err(|error| async_graphql::Error::new(error.to_string()))?.map(Into::into))
}

pub fn build_schema() -> SupportSchema {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .extension(atrium_kit::masking::MaskInternalErrors)
        .extension(atrium_kit::telemetry::GraphQLSpans)
        .finish()
}

/// Installs the request's tenant transaction and the DataLoaders bound to it.
pub fn install_request_data(request: async_graphql::Request, tx: Arc<TenantTransaction>) -> async_graphql::Request {
    loaders::install(request, &tx).data(tx)
}

pub fn request_transaction(ctx: &Context<'_>) -> Result<Arc<TenantTransaction>> {
    Ok(ctx.data::<Arc<TenantTransaction>>()?.clone())
}

/// Parses an id argument or entity key; a malformed id simply matches nothing.
pub fn uuid_of(id: &ID) -> Option<Uuid> {
    Uuid::parse_str(id.as_str()).ok()
}
