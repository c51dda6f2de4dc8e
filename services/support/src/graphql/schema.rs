//! Support schema: root fields, federation entity resolvers (`Ticket` through a
//! DataLoader; `CustomerAccount` as a stub whose contributed fields load per tenant), and
//! the per-request data (tenant transaction + DataLoaders) the subgraph handler installs,
//! and the audited `changeTicketStatus` mutation with the `auditLog` it writes to and the
//! change events it records for the gateway's response cache.

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, ID, Object, Result, Schema, dataloader::DataLoader};
use atrium_kit::{
    ErrorCode, TenantContext, TenantTransaction,
    audit::{self, AuditEvent, AuditOutcome},
    cache_control::cache_control,
    pagination::PageRequest,
};
use sea_orm::DatabaseConnection;

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
    /// transitions. Every attempt past the role check is audited: a change together with
    /// its `SUCCEEDED` entry and its change events in one transaction, a refused transition
    /// as `REJECTED`, an internal failure as `FAILED` (neither with a change event: nothing
    /// changed). The update is conditional on the status it was decided on: when a
    /// concurrent change committed first, the attempt is `REJECTED` and answers `CONFLICT`.
    async fn change_ticket_status(&self, ctx: &Context<'_>, id: ID, status: TicketStatus) -> Result<Ticket> {
        let context = require_any_role(ctx, TICKET_EDITORS)?;
        let database = ctx.data::<DatabaseConnection>()?;
        let not_found = || ErrorCode::NotFound.graphql_error("no ticket with this id");
        let ticket_id = uuid_of(&id).ok_or_else(not_found)?;
        let next = domain::TicketStatus::from(status);
        let tx = TenantTransaction::begin(database, context).await?;
        let Some(ticket) = repository::tickets_by_ids(&tx, &[ticket_id]).await?.pop() else {
            return Err(not_found());
        };
        let event = |detail: String| AuditEvent {
            operation: CHANGE_TICKET_STATUS.to_owned(),
            entity_type: "Ticket".to_owned(),
            entity_ids: vec![ticket_id],
            detail: Some(detail),
        };
        if !ticket.status.can_become(next) {
            // Nothing of the attempt may be committed; the rejection is recorded on its own.
            drop(tx);
            let message = format!("a ticket cannot move from {} to {}", ticket.status.as_str(), next.as_str());
            audit::record_rejection(database, context, &event(message.clone())).await?;
            return Err(ErrorCode::BadUserInput.graphql_error(message));
        }
        let detail = format!("{} -> {}", ticket.status.as_str(), next.as_str());
        match apply_status_change(tx, &ticket, next, &event(detail.clone())).await {
            Ok(changed) => Ok(changed.into()),
            Err(SupportError::StatusMoved { .. }) => {
                // A concurrent change won; this attempt changed nothing and is refused.
                let detail = format!("{detail}: the ticket was changed concurrently");
                audit::record_rejection(database, context, &event(detail)).await?;
                Err(ErrorCode::Conflict
                    .graphql_error("the ticket changed while this change was being made; read it again and retry"))
            }
            Err(error) => {
                // The attempt's transaction rolled back; the failure is recorded on its own.
                if let Err(audit_error) = audit::record_failure(database, context, &event(detail)).await {
                    tracing::error!(error = %audit_error, "cannot audit a failed ticket status change");
                }
                Err(error.into())
            }
        }
    }
}

/// The change, its audit entry and its change events, committed together or not at all.
async fn apply_status_change(
    tx: TenantTransaction,
    ticket: &domain::Ticket,
    next: domain::TicketStatus,
    event: &AuditEvent,
) -> Result<domain::Ticket, SupportError> {
    let changed = repository::change_ticket_status(&tx, ticket, next, chrono::Utc::now()).await?;
    audit::record(&tx, event, AuditOutcome::Succeeded).await?;
    repository::record_ticket_updated(&tx, &changed).await?;
    tx.commit().await?;
    Ok(changed)
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
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .extension(atrium_kit::masking::MaskInternalErrors)
        .extension(atrium_kit::telemetry::GraphQLSpans)
        .finish()
}

/// Installs the request's tenant transaction and the DataLoaders bound to it.
pub fn install_request_data(request: async_graphql::Request, tx: Arc<TenantTransaction>) -> async_graphql::Request {
    loaders::install(request, &tx).data(tx)
}

pub use atrium_kit::subgraph_http::{request_transaction, uuid_of};
