//! Per-request DataLoaders over the request's tenant transaction. `Ticket` entity fetches
//! for many representations become one statement, and `CustomerAccount.tickets` and
//! `.openUrgentHighTicketCount` share one cached per-parent loader that fetches the
//! tickets of every customer of a level in one statement.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use atrium_kit::TenantTransaction;
use uuid::Uuid;

use crate::{domain::Ticket, error::SupportError, repository};

/// A loader whose results are kept for the rest of the request.
pub type CachedLoader<T> = DataLoader<T, HashMapCache>;

pub struct TicketLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for TicketLoader {
    type Value = Ticket;
    type Error = Arc<SupportError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = repository::tickets_by_ids(&self.0, keys).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

/// Every ticket of each customer account key, id-ordered. A customer without tickets (or
/// of another tenant) is simply absent from the map.
pub struct TicketsByCustomerLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for TicketsByCustomerLoader {
    type Value = Arc<Vec<Ticket>>;
    type Error = Arc<SupportError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = repository::tickets_of_customer_accounts(&self.0, keys).await.map_err(Arc::new)?;
        let mut groups: HashMap<Uuid, Vec<Ticket>> = HashMap::new();
        for ticket in rows {
            groups.entry(ticket.customer_account_id).or_default().push(ticket);
        }
        Ok(groups.into_iter().map(|(customer, tickets)| (customer, Arc::new(tickets))).collect())
    }
}

/// Installs every loader of this subgraph over the request's transaction.
pub fn install(request: async_graphql::Request, tx: &Arc<TenantTransaction>) -> async_graphql::Request {
    request.data(DataLoader::new(TicketLoader(tx.clone()), tokio::spawn)).data(DataLoader::with_cache(
        TicketsByCustomerLoader(tx.clone()),
        tokio::spawn,
        HashMapCache::default(),
    ))
}
