//! Per-request DataLoaders over the request's tenant transaction. `Ticket` entity fetches
//! for many representations become one statement, and `CustomerAccount.tickets` and
//! `.openUrgentHighTicketCount` share one cached per-parent loader that fetches the
//! tickets of every customer of a level in one statement.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use atrium_kit::TenantTransaction;
use uuid::Uuid;

use crate::{
    domain::{Escalation, SlaClock, Ticket, TicketComment},
    error::SupportError,
    repository,
};

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

/// Every SLA clock of each ticket key, in one statement for all tickets of a level.
pub struct ClocksByTicketLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for ClocksByTicketLoader {
    type Value = Arc<Vec<SlaClock>>;
    type Error = Arc<SupportError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = repository::sla::clocks_of_tickets(&self.0, keys).await.map_err(Arc::new)?;
        let mut groups: HashMap<Uuid, Vec<SlaClock>> = HashMap::new();
        for clock in rows {
            groups.entry(clock.ticket_id).or_default().push(clock);
        }
        Ok(groups.into_iter().map(|(ticket, clocks)| (ticket, Arc::new(clocks))).collect())
    }
}

/// Every comment of each ticket key, oldest first, in one statement per level.
pub struct CommentsByTicketLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for CommentsByTicketLoader {
    type Value = Arc<Vec<TicketComment>>;
    type Error = Arc<SupportError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = repository::sla::comments_of_tickets(&self.0, keys).await.map_err(Arc::new)?;
        let mut groups: HashMap<Uuid, Vec<TicketComment>> = HashMap::new();
        for comment in rows {
            groups.entry(comment.ticket_id).or_default().push(comment);
        }
        Ok(groups.into_iter().map(|(ticket, comments)| (ticket, Arc::new(comments))).collect())
    }
}

/// Every escalation of each ticket key, by level, in one statement per level.
pub struct EscalationsByTicketLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for EscalationsByTicketLoader {
    type Value = Arc<Vec<Escalation>>;
    type Error = Arc<SupportError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = repository::sla::escalations_of_tickets(&self.0, keys).await.map_err(Arc::new)?;
        let mut groups: HashMap<Uuid, Vec<Escalation>> = HashMap::new();
        for escalation in rows {
            groups.entry(escalation.ticket_id).or_default().push(escalation);
        }
        Ok(groups.into_iter().map(|(ticket, escalations)| (ticket, Arc::new(escalations))).collect())
    }
}

/// Installs every loader of this subgraph over the request's transaction.
pub fn install(request: async_graphql::Request, tx: &Arc<TenantTransaction>) -> async_graphql::Request {
    request
        .data(DataLoader::new(TicketLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::with_cache(TicketsByCustomerLoader(tx.clone()), tokio::spawn, HashMapCache::default()))
        .data(DataLoader::new(ClocksByTicketLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(CommentsByTicketLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(EscalationsByTicketLoader(tx.clone()), tokio::spawn))
}
