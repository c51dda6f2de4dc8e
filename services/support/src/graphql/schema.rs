//! Support schema: root fields, federation entity resolvers (`Ticket` through a
//! DataLoader; `CustomerAccount` as a stub whose contributed fields load per tenant), and
//! the per-request data (tenant transaction + DataLoaders) the subgraph handler installs,
//! and the audited `changeTicketStatus` mutation with the `auditLog` it writes to and the
//! change events it records for the gateway's response cache.

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, ID, Object, Result, Schema, dataloader::DataLoader};
use atrium_kit::{
    ErrorCode, TenantContext, TenantTransaction, audit,
    cache_control::cache_control,
    command::{self, Command, CommandError, Outcome, guard_transition},
    events::{DomainEvent, Subject},
    pagination::PageRequest,
};

use super::{
    loaders::{self, TicketLoader},
    types::{
        AuditEntryConnection, CustomerAccount, Ticket, TicketConnection, TicketPriority, TicketStatus, ticket_filter,
    },
};
use crate::{domain, error::SupportError, repository};

pub type SupportSchema = Schema<Query, Mutation, EmptySubscription>;

pub struct Query;

/// Seconds a ticket answer may be reused. Short, because agents work tickets all day;
/// every status change also invalidates cached answers at once through the outbox. The
/// audit log has no hint: it is never cached.
const TICKETS_MAX_AGE: u32 = 30;

#[Object]
impl Query {
    /// The tenant's tickets, ordered by id (creation order).
    #[graphql(directive = cache_control::apply(TICKETS_MAX_AGE))]
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
    #[graphql(directive = cache_control::apply(TICKETS_MAX_AGE))]
    async fn ticket(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Ticket>> {
        load_ticket(ctx, &id).await
    }

    /// The tenant's audit trail of support mutations, oldest first. Tenant admins only.
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<AuditEntryConnection> {
        require_any_role(ctx, AUDIT_READERS)?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let tx = request_transaction(ctx)?;
        let rows = audit::entries_page(&tx, page.after, page.first + 1).await?;
        let (rows, page_info) = page.finish(rows, |row| row.id);
        Ok(AuditEntryConnection { nodes: rows.into_iter().map(Into::into).collect(), page_info })
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

/// Roles that may change tickets.
const TICKET_EDITORS: &[&str] = &["support_agent", "support_lead", "tenant_admin"];

/// Roles that may read the audit trail.
const AUDIT_READERS: &[&str] = &["tenant_admin"];

const CHANGE_TICKET_STATUS: &str = "changeTicketStatus";

pub struct Mutation;

#[Object]
impl Mutation {
    /// Moves a ticket of the caller's tenant to another status along the allowed
    /// transitions, through the kit's command pattern: the change, its `SUCCEEDED` audit
    /// entry and its `support.ticket.status_changed` event commit together; a transition
    /// the lifecycle does not permit answers `INVALID_TRANSITION` (with `current` and
    /// `allowed`), a concurrent change that committed first `CONFLICT`, both audited as
    /// `REJECTED` with nothing else written.
    async fn change_ticket_status(&self, ctx: &Context<'_>, id: ID, status: TicketStatus) -> Result<Ticket> {
        let ticket_id = uuid_of(&id).ok_or_else(|| ErrorCode::NotFound.graphql_error("no Ticket with this id"))?;
        let next = domain::TicketStatus::from(status);
        let command = Command {
            operation: CHANGE_TICKET_STATUS,
            entity_type: "Ticket",
            allowed_roles: TICKET_EDITORS,
            target: Some(ticket_id),
        };
        let changed = command::run(ctx, command, |tx| Box::pin(change_status(tx, ticket_id, next))).await?;
        Ok(changed.into())
    }
}

/// The domain part of `changeTicketStatus`: load, guard, conditional update, events.
async fn change_status(
    tx: &TenantTransaction,
    ticket_id: uuid::Uuid,
    next: domain::TicketStatus,
) -> Result<Outcome<domain::Ticket>, CommandError> {
    let ticket = repository::tickets_by_ids(tx, &[ticket_id])
        .await
        .map_err(internal)?
        .pop()
        .ok_or(CommandError::NotFound("Ticket"))?;
    guard_transition(ticket.status, next)?;
    let changed = match repository::change_ticket_status(tx, &ticket, next, chrono::Utc::now()).await {
        Ok(changed) => changed,
        Err(SupportError::StatusMoved { .. }) => return Err(CommandError::stale("Ticket")),
        Err(error) => return Err(internal(error)),
    };
    let subject = Subject { entity_type: "Ticket".to_owned(), id: changed.id, version: changed.version };
    let event = DomainEvent::new(tx.context(), "support.ticket.status_changed", subject)
        .with_ref("customer_account_id", changed.customer_account_id)
        .with_data(serde_json::json!({ "from": ticket.status.as_str(), "to": next.as_str() }));
    repository::record_customer_account_changed(tx, &changed).await.map_err(internal)?;
    Ok(Outcome {
        entity_ids: vec![changed.id],
        detail: format!("{} -> {}", ticket.status.as_str(), next.as_str()),
        events: vec![event],
        value: changed,
    })
}

/// A support error inside a command: a defect or the database, never the caller's fault.
fn internal(error: SupportError) -> CommandError {
    match error {
        SupportError::Database(error) => CommandError::Database(error),
        other => CommandError::Database(sea_orm::DbErr::Custom(other.to_string())),
    }
}

/// The caller's context when it holds one of `roles`; `FORBIDDEN` otherwise.
fn require_any_role<'a>(ctx: &Context<'a>, roles: &[&str]) -> Result<&'a TenantContext> {
    let context = ctx.data::<TenantContext>()?;
    if roles.iter().any(|role| context.has_role(role)) {
        Ok(context)
    } else {
        Err(ErrorCode::Forbidden.graphql_error(format!("requires one of the roles: {}", roles.join(", "))))
    }
}

async fn load_ticket(ctx: &Context<'_>, id: &ID) -> Result<Option<Ticket>> {
    let Some(id) = uuid_of(id) else { return Ok(None) };
    let loader = ctx.data::<DataLoader<TicketLoader>>()?;
    Ok(loader.load_one(id).await.map_err(|error| async_graphql::Error::new(error.to_string()))?.map(Into::into))
}

pub fn build_schema() -> SupportSchema {
    atrium_kit::subgraph_schema::build(Query, Mutation, EmptySubscription)
}

/// Installs the request's tenant transaction and the DataLoaders bound to it.
pub fn install_request_data(request: async_graphql::Request, tx: Arc<TenantTransaction>) -> async_graphql::Request {
    loaders::install(request, &tx).data(tx)
}

use atrium_kit::subgraph_http::{request_transaction, uuid_of};
