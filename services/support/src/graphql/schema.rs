//! Support schema: root fields, federation entity resolvers (`Ticket` through a
//! DataLoader; `CustomerAccount` as a stub whose contributed fields load per tenant), and
//! the per-request data (tenant transaction + DataLoaders) the subgraph handler installs,
//! and the audited ticket mutations (create, assign, prioritise, comment, change status)
//! with the `auditLog` they write to.

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, ID, InputObject, Object, Result, Schema, dataloader::DataLoader};
use atrium_kit::{
    ErrorCode, TenantContext, TenantTransaction, audit,
    cache_control::cache_control,
    command::{self, Command},
    events,
    pagination::PageRequest,
};
use chrono::{NaiveDate, Utc};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::{
    loaders::{self, TicketLoader},
    types::{
        AuditEntryConnection, CsatResponse, CustomerAccount, Escalation, EscalationReason, SlaAttainment, Ticket,
        TicketCategory, TicketChannel, TicketComment, TicketConnection, TicketPriority, TicketStatus, ticket_filter,
    },
};
use crate::{
    commands::{self, CSAT_RECORDERS, ESCALATORS, TICKET_EDITORS, TicketDraft},
    domain::{self, business_hours::start_of_day, escalations::sla_attainment},
    escalation_workflow, repository,
};

const CREATE_TICKET: &str = "createTicket";
const CHANGE_TICKET_STATUS: &str = "changeTicketStatus";

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

    /// SLA attainment per priority of the clocks decided between the tenant dates `from`
    /// (inclusive) and `to` (exclusive), in the tenant's time zone. Priorities without
    /// decided clocks are left out.
    async fn sla_attainment(&self, ctx: &Context<'_>, from: NaiveDate, to: NaiveDate) -> Result<Vec<SlaAttainment>> {
        if to <= from {
            return Err(ErrorCode::BadUserInput.graphql_error("to: must be after from"));
        }
        let tx = request_transaction(ctx)?;
        let zone = atrium_kit::calendar::tenant_time_zone(tx.tenant_id());
        let bounds = |day| start_of_day(zone, day).map_err(|error| async_graphql::Error::new(error.to_string()));
        let (start, end) = (bounds(from)?, bounds(to)?);
        let clocks = repository::sla::clocks_decided_between(&tx, start, end).await?;
        let figures = sla_attainment(clocks.iter().map(|(priority, clock)| (*priority, clock)), start, end);
        Ok(figures.into_iter().map(Into::into).collect())
    }

    /// Events support's consumer could not apply and parked, newest first (tenant admins
    /// only; docs/domain.md#event-delivery).
    #[graphql(requires_scopes = "tenant_admin")]
    async fn support_event_dead_letters(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(events::DEFAULT_DEAD_LETTERS)")] first: Option<i32>,
    ) -> Result<Vec<events::DeadLetter>> {
        events::tenant_dead_letters(ctx, first).await
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

/// Roles that may read the audit trail.
const AUDIT_READERS: &[&str] = &["tenant_admin"];

/// What `createTicket` takes.
#[derive(InputObject)]
pub struct CreateTicketInput {
    pub customer_account_id: ID,
    pub requester_name: String,
    pub requester_email: String,
    pub subject: String,
    pub channel: TicketChannel,
    pub category: TicketCategory,
    pub priority: TicketPriority,
}

pub struct Mutation;

fn ticket_command(operation: &'static str, ticket_id: Option<Uuid>) -> Command {
    Command { operation, entity_type: "Ticket", allowed_roles: TICKET_EDITORS, target: ticket_id }
}

fn escalation_command(operation: &'static str, escalation_id: Uuid) -> Command {
    Command {
        operation,
        entity_type: "Escalation",
        allowed_roles: escalation_workflow::ESCALATION_HANDLERS,
        target: Some(escalation_id),
    }
}

fn ticket_id_of(id: &ID) -> Result<Uuid> {
    uuid_of(id).ok_or_else(|| ErrorCode::NotFound.graphql_error("no Ticket with this id"))
}

#[Object]
impl Mutation {
    /// Opens a `NEW` ticket for one of the tenant's customers under the tenant's SLA
    /// policy: its first-response and resolution clocks start running at once (see
    /// `Ticket.slaClocks`). Emits `support.ticket.created`. A retry with the same
    /// `idempotencyKey` answers the first ticket and writes nothing.
    async fn create_ticket(
        &self,
        ctx: &Context<'_>,
        input: CreateTicketInput,
        idempotency_key: Option<String>,
    ) -> Result<Ticket> {
        let draft = TicketDraft {
            customer_account_id: uuid_of(&input.customer_account_id),
            requester_name: input.requester_name,
            requester_email: input.requester_email,
            subject: input.subject,
            channel: input.channel.into(),
            category: input.category.into(),
            priority: input.priority.into(),
        };
        let ticket_id = command::run_idempotent(ctx, ticket_command(CREATE_TICKET, None), idempotency_key, move |tx| {
            Box::pin(commands::create_ticket(tx, draft, Utc::now()))
        })
        .await?;
        // Read back in a transaction of its own: the request's began before the command's
        // commit.
        let tx = TenantTransaction::begin(ctx.data::<DatabaseConnection>()?, ctx.data::<TenantContext>()?).await?;
        let ticket = repository::tickets_by_ids(&tx, &[ticket_id]).await?.pop();
        ticket.map(Into::into).ok_or_else(|| ErrorCode::NotFound.graphql_error("no Ticket with this id"))
    }

    /// Gives a ticket that is not closed to an agent. Emits `support.ticket.assigned`.
    async fn assign_ticket(&self, ctx: &Context<'_>, id: ID, assignee_user_id: String) -> Result<Ticket> {
        let ticket_id = ticket_id_of(&id)?;
        let changed = command::run(ctx, ticket_command("assignTicket", Some(ticket_id)), |tx| {
            Box::pin(commands::assign_ticket(tx, ticket_id, assignee_user_id))
        })
        .await?;
        Ok(changed.into())
    }

    /// Changes an open ticket's priority; its running and paused SLA clocks take the new
    /// priority's targets, keeping the business time they accrued. Emits
    /// `support.ticket.priority_changed`.
    async fn change_ticket_priority(&self, ctx: &Context<'_>, id: ID, priority: TicketPriority) -> Result<Ticket> {
        let ticket_id = ticket_id_of(&id)?;
        let priority = domain::TicketPriority::from(priority);
        let changed = command::run(ctx, ticket_command("changeTicketPriority", Some(ticket_id)), |tx| {
            Box::pin(commands::change_priority(tx, ticket_id, priority, Utc::now()))
        })
        .await?;
        Ok(changed.into())
    }

    /// Adds a public reply (`public: true`) or an internal note to a ticket that is not
    /// closed. The first public reply stamps `firstRespondedAt` and fulfils the
    /// first-response clock. Emits `support.comment.added` (and `support.sla.fulfilled`).
    /// Another tenant's ticket answers `NOT_FOUND` with nothing written.
    async fn comment_on_ticket(
        &self,
        ctx: &Context<'_>,
        ticket_id: ID,
        body: String,
        public: bool,
    ) -> Result<TicketComment> {
        let ticket_id = ticket_id_of(&ticket_id)?;
        let comment = command::run(ctx, ticket_command("commentOnTicket", Some(ticket_id)), |tx| {
            Box::pin(commands::comment_on_ticket(tx, ticket_id, public, body, Utc::now()))
        })
        .await?;
        Ok(comment.into())
    }

    /// Escalates an open ticket one level up (or to `level`, if higher; at most 3).
    /// Support leads and tenant admins only. Emits `support.escalation.created`. A retry
    /// with the same `idempotencyKey` answers the first escalation and writes nothing.
    async fn escalate_ticket(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: EscalationReason,
        level: Option<i32>,
        idempotency_key: Option<String>,
    ) -> Result<Escalation> {
        let ticket_id = ticket_id_of(&id)?;
        let reason = domain::escalations::EscalationReason::from(reason);
        let command = Command {
            operation: "escalateTicket",
            entity_type: "Escalation",
            allowed_roles: ESCALATORS,
            target: Some(ticket_id),
        };
        let escalation = command::run_idempotent(ctx, command, idempotency_key, move |tx| {
            Box::pin(commands::escalate_ticket(tx, ticket_id, level, reason, Utc::now()))
        })
        .await?;
        Escalation::try_from(escalation)
    }

    /// Acknowledges an open escalation: someone at its level has taken it on. Emits
    /// `support.escalation.acknowledged`; anything but an open escalation answers
    /// `INVALID_TRANSITION`.
    async fn acknowledge_escalation(&self, ctx: &Context<'_>, id: ID) -> Result<Escalation> {
        let escalation_id =
            uuid_of(&id).ok_or_else(|| ErrorCode::NotFound.graphql_error("no Escalation with this id"))?;
        let changed = command::run(ctx, escalation_command("acknowledgeEscalation", escalation_id), |tx| {
            Box::pin(escalation_workflow::acknowledge(tx, escalation_id, Utc::now()))
        })
        .await?;
        Escalation::try_from(changed)
    }

    /// Resolves an open or acknowledged escalation, with an optional note. Emits
    /// `support.escalation.resolved`; a resolved escalation answers `INVALID_TRANSITION`.
    async fn resolve_escalation(&self, ctx: &Context<'_>, id: ID, note: Option<String>) -> Result<Escalation> {
        let escalation_id =
            uuid_of(&id).ok_or_else(|| ErrorCode::NotFound.graphql_error("no Escalation with this id"))?;
        let changed = command::run(ctx, escalation_command("resolveEscalation", escalation_id), |tx| {
            Box::pin(escalation_workflow::resolve(tx, escalation_id, note, Utc::now()))
        })
        .await?;
        Escalation::try_from(changed)
    }

    /// Records the requester's satisfaction (1–5) with a solved or closed ticket, once.
    /// Emits `support.csat.received`. A second response answers `CONFLICT`.
    async fn record_csat(
        &self,
        ctx: &Context<'_>,
        ticket_id: ID,
        score: i32,
        comment: Option<String>,
        idempotency_key: Option<String>,
    ) -> Result<CsatResponse> {
        let ticket_id = ticket_id_of(&ticket_id)?;
        let command = Command {
            operation: "recordCsat",
            entity_type: "CsatResponse",
            allowed_roles: CSAT_RECORDERS,
            target: Some(ticket_id),
        };
        let response = command::run_idempotent(ctx, command, idempotency_key, move |tx| {
            Box::pin(commands::record_csat(tx, ticket_id, score, comment, Utc::now()))
        })
        .await?;
        Ok(response.into())
    }

    /// Moves a ticket of the caller's tenant to another status along the allowed
    /// transitions, through the kit's command pattern: the change, its `SUCCEEDED` audit
    /// entry and its `support.ticket.status_changed` event commit together; a transition
    /// the lifecycle does not permit answers `INVALID_TRANSITION` (with `current` and
    /// `allowed`), a concurrent change that committed first `CONFLICT`, both audited as
    /// `REJECTED` with nothing else written. The ticket's SLA clocks pause in `PENDING`
    /// and `ON_HOLD`, resume when it is worked again, and end when it is solved.
    async fn change_ticket_status(&self, ctx: &Context<'_>, id: ID, status: TicketStatus) -> Result<Ticket> {
        let ticket_id = ticket_id_of(&id)?;
        let next = domain::TicketStatus::from(status);
        let changed = command::run(ctx, ticket_command(CHANGE_TICKET_STATUS, Some(ticket_id)), |tx| {
            Box::pin(commands::change_status(tx, ticket_id, next, Utc::now()))
        })
        .await?;
        Ok(changed.into())
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
