//! Finance schema: root fields, federation entity resolvers (all through DataLoaders, so
//! many representations cost one statement per type), and the per-request data (tenant
//! transaction + DataLoaders) the subgraph handler installs.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result, dataloader::DataLoader};
use atrium_kit::{
    TenantTransaction, cache_control::cache_control, pagination::PageRequest, subgraph_http::RequestDataInstaller,
};

use super::{
    billing, disputes, engagement_financials, ledger,
    loaders::{self, ContractLoader, CustomerAccountLoader, InvoiceLoader, SubscriptionLoader},
    types::{
        Contract, CustomerAccount, CustomerAccountConnection, CustomerStatus, Invoice, InvoiceConnection,
        InvoiceStatus, Segment, Subscription, business_date,
    },
};
use crate::{
    domain::Clock,
    repository::{self, CustomerAccountFilter, InvoiceFilter},
};

/// Customer accounts, contracts, invoices and the federation entities.
#[derive(Default)]
pub struct CoreQuery;

/// Seconds a finance answer may be reused: balances change with invoices and payments,
/// which a reporting dashboard may show a minute late but no more.
const FINANCE_MAX_AGE: u32 = 60;

#[Object]
impl CoreQuery {
    /// The tenant's customer accounts, ordered by id (roster order for the demo data).
    #[graphql(directive = cache_control::apply(FINANCE_MAX_AGE))]
    async fn customer_accounts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        segment: Option<Segment>,
        status: Option<CustomerStatus>,
    ) -> Result<CustomerAccountConnection> {
        let page = PageRequest::parse(first, after.as_deref())?;
        let tx = request_transaction(ctx)?;
        let filter = CustomerAccountFilter { segment: segment.map(Into::into), status: status.map(Into::into) };
        let rows = repository::customer_accounts_page(&tx, filter, page.after, page.first + 1).await?;
        let (rows, page_info) = page.finish(rows, |row| row.id);
        Ok(CustomerAccountConnection { nodes: rows.into_iter().map(Into::into).collect(), page_info })
    }

    /// One customer account of the tenant; null for unknown ids and other tenants' ids.
    #[graphql(directive = cache_control::apply(FINANCE_MAX_AGE))]
    async fn customer_account(&self, ctx: &Context<'_>, id: ID) -> Result<Option<CustomerAccount>> {
        load_customer_account(ctx, &id).await
    }

    /// The tenant's invoices, ordered by id; `overdueOnly` keeps open invoices with a
    /// balance past their due date.
    #[graphql(directive = cache_control::apply(FINANCE_MAX_AGE))]
    async fn invoices(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<Vec<InvoiceStatus>>,
        overdue_only: Option<bool>,
    ) -> Result<InvoiceConnection> {
        let page = PageRequest::parse(first, after.as_deref())?;
        let tx = request_transaction(ctx)?;
        let today = business_date(ctx)?;
        let filter = InvoiceFilter {
            statuses: status.unwrap_or_default().into_iter().map(Into::into).collect(),
            overdue_as_of: overdue_only.unwrap_or(false).then_some(today),
        };
        let rows = repository::invoices_page(&tx, &filter, page.after, page.first + 1).await?;
        let (rows, page_info) = page.finish(rows, |row| row.id);
        Ok(InvoiceConnection { nodes: rows.into_iter().map(|row| Invoice::at(row, today)).collect(), page_info })
    }

    /// Resolves a CustomerAccount reference; another tenant's id resolves to null.
    #[graphql(entity)]
    async fn find_customer_account_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<CustomerAccount>> {
        load_customer_account(ctx, &id).await
    }

    #[graphql(entity)]
    async fn find_invoice_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Invoice>> {
        let Some(id) = uuid_of(&id) else { return Ok(None) };
        let loader = ctx.data::<DataLoader<InvoiceLoader>>()?;
        let invoice = loader.load_one(id).await.map_err(|error| async_graphql::Error::new(error.to_string()))?;
        let today = business_date(ctx)?;
        Ok(invoice.map(|invoice| Invoice::at(invoice, today)))
    }

    #[graphql(entity)]
    async fn find_contract_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Contract>> {
        let Some(id) = uuid_of(&id) else { return Ok(None) };
        let loader = ctx.data::<DataLoader<ContractLoader>>()?;
        Ok(loader.load_one(id).await.map_err(|error| async_graphql::Error::new(error.to_string()))?.map(Into::into))
    }

    #[graphql(entity)]
    async fn find_subscription_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Subscription>> {
        let Some(id) = uuid_of(&id) else { return Ok(None) };
        let loader = ctx.data::<DataLoader<SubscriptionLoader>>()?;
        Ok(loader.load_one(id).await.map_err(|error| async_graphql::Error::new(error.to_string()))?.map(Into::into))
    }
}

async fn load_customer_account(ctx: &Context<'_>, id: &ID) -> Result<Option<CustomerAccount>> {
    let Some(id) = uuid_of(id) else { return Ok(None) };
    let loader = ctx.data::<DataLoader<CustomerAccountLoader>>()?;
    Ok(loader.load_one(id).await.map_err(|error| async_graphql::Error::new(error.to_string()))?.map(Into::into))
}

/// Installs the request's tenant transaction, the DataLoaders bound to it and the clock
/// the request's dates come from.
pub fn install_request_data(
    request: async_graphql::Request,
    tx: Arc<TenantTransaction>,
    clock: Clock,
) -> async_graphql::Request {
    let request = billing::install_loaders(ledger::install_loaders(loaders::install(request, &tx), &tx), &tx);
    let request = disputes::install_loaders(request, &tx);
    engagement_financials::install_loaders(request, &tx).data(tx).data(clock)
}

/// The subgraph handler's installer of per-request data, reading dates from `clock`.
pub fn request_data_installer(clock: Clock) -> RequestDataInstaller {
    Arc::new(move |request, tx| install_request_data(request, tx, clock))
}

use atrium_kit::subgraph_http::{request_transaction, uuid_of};
