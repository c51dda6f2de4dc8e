//! Per-request DataLoaders over the request's tenant transaction. Entity fetches for many
//! representations become one SQL statement per entity type, and each nested list
//! (`CustomerAccount.invoices`, `.contracts`, `.subscriptions`, `Contract.lines`) is fetched for all parents
//! of a level in one statement, then sliced per parent. The per-parent loaders cache per
//! request, so `invoices`, `openBalance` and `arOver60Share` share one fetch.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use atrium_kit::TenantTransaction;
use uuid::Uuid;

use crate::{
    domain::{Contract, ContractLine, CustomerAccount, Invoice, Subscription},
    error::FinanceError,
    repository,
};

/// A loader whose results are kept for the rest of the request.
pub type CachedLoader<T> = DataLoader<T, HashMapCache>;

type LoadResult<V> = Result<HashMap<Uuid, V>, Arc<FinanceError>>;

/// Groups id-ordered children by parent; order inside each group is kept.
fn group_by_parent<T>(children: Vec<T>, parent_of: impl Fn(&T) -> Uuid) -> HashMap<Uuid, Arc<Vec<T>>> {
    let mut groups: HashMap<Uuid, Vec<T>> = HashMap::new();
    for child in children {
        groups.entry(parent_of(&child)).or_default().push(child);
    }
    groups.into_iter().map(|(parent, children)| (parent, Arc::new(children))).collect()
}

pub struct CustomerAccountLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for CustomerAccountLoader {
    type Value = CustomerAccount;
    type Error = Arc<FinanceError>;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Self::Value> {
        let rows = repository::customer_accounts_by_ids(&self.0, keys).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

pub struct InvoiceLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for InvoiceLoader {
    type Value = Invoice;
    type Error = Arc<FinanceError>;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Self::Value> {
        let rows = repository::invoices_by_ids(&self.0, keys).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

pub struct ContractLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for ContractLoader {
    type Value = Contract;
    type Error = Arc<FinanceError>;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Self::Value> {
        let rows = repository::contracts_by_ids(&self.0, keys).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

pub struct SubscriptionLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for SubscriptionLoader {
    type Value = Subscription;
    type Error = Arc<FinanceError>;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Self::Value> {
        let rows = repository::subscriptions_by_ids(&self.0, keys).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

/// Every invoice of each customer account key, id-ordered. A customer without invoices
/// (or of another tenant) is simply absent from the map.
pub struct InvoicesByCustomerLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for InvoicesByCustomerLoader {
    type Value = Arc<Vec<Invoice>>;
    type Error = Arc<FinanceError>;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Self::Value> {
        let rows = repository::invoices_of_customer_accounts(&self.0, keys).await.map_err(Arc::new)?;
        Ok(group_by_parent(rows, |invoice| invoice.customer_account_id))
    }
}

pub struct ContractsByCustomerLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for ContractsByCustomerLoader {
    type Value = Arc<Vec<Contract>>;
    type Error = Arc<FinanceError>;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Self::Value> {
        let rows = repository::contracts_of_customer_accounts(&self.0, keys).await.map_err(Arc::new)?;
        Ok(group_by_parent(rows, |contract| contract.customer_account_id))
    }
}

/// Every line of each contract key, in entry order.
pub struct LinesByContractLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for LinesByContractLoader {
    type Value = Arc<Vec<ContractLine>>;
    type Error = Arc<FinanceError>;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Self::Value> {
        let rows = repository::lines_of_contracts(&self.0, keys).await.map_err(Arc::new)?;
        Ok(group_by_parent(rows, |line| line.contract_id))
    }
}

pub struct SubscriptionsByCustomerLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for SubscriptionsByCustomerLoader {
    type Value = Arc<Vec<Subscription>>;
    type Error = Arc<FinanceError>;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Self::Value> {
        let rows = repository::subscriptions_of_customer_accounts(&self.0, keys).await.map_err(Arc::new)?;
        Ok(group_by_parent(rows, |subscription| subscription.customer_account_id))
    }
}

/// Installs every loader of this subgraph over the request's transaction.
pub fn install(request: async_graphql::Request, tx: &Arc<TenantTransaction>) -> async_graphql::Request {
    request
        .data(DataLoader::new(CustomerAccountLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(InvoiceLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(ContractLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(SubscriptionLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::with_cache(InvoicesByCustomerLoader(tx.clone()), tokio::spawn, HashMapCache::default()))
        .data(DataLoader::with_cache(ContractsByCustomerLoader(tx.clone()), tokio::spawn, HashMapCache::default()))
        .data(DataLoader::with_cache(SubscriptionsByCustomerLoader(tx.clone()), tokio::spawn, HashMapCache::default()))
        .data(DataLoader::with_cache(LinesByContractLoader(tx.clone()), tokio::spawn, HashMapCache::default()))
}
