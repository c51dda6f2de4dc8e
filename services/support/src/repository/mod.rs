//! Support repositories. Every function takes a [`TenantTransaction`] and filters by its
//! tenant explicitly, so isolation holds on SQLite too; PostgreSQL RLS is the backstop.
//! Lists come back ordered by id (UUIDv7, so creation order), which is the pagination order.

use atrium_kit::{
    TenantTransaction,
    changes::{self, ChangeKind},
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    config::SERVICE,
    domain::{SupportTierLevel, Ticket, TicketCategory, TicketChannel, TicketPriority, TicketStatus},
    entities::ticket,
    error::SupportError,
};

pub mod seed;
pub mod sla;

/// Filters of ticket lists; an empty list means "any".
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub statuses: Vec<TicketStatus>,
    pub priorities: Vec<TicketPriority>,
}

impl TicketFilter {
    /// The in-memory twin of the SQL filter, for lists sliced from a per-parent loader.
    pub fn matches(&self, ticket: &Ticket) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&ticket.status))
            && (self.priorities.is_empty() || self.priorities.contains(&ticket.priority))
    }
}

/// One page of tickets ordered by id, `limit` rows (callers ask for `first + 1`).
pub async fn tickets_page(
    tx: &TenantTransaction,
    filter: &TicketFilter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Ticket>, SupportError> {
    let mut query = ticket::Entity::find().filter(ticket::Column::TenantId.eq(tx.tenant_id())).filter(ticket_scope(tx));
    if !filter.statuses.is_empty() {
        query = query.filter(ticket::Column::Status.is_in(filter.statuses.iter().map(|status| status.as_str())));
    }
    if !filter.priorities.is_empty() {
        query =
            query.filter(ticket::Column::Priority.is_in(filter.priorities.iter().map(|priority| priority.as_str())));
    }
    if let Some(after) = after {
        query = query.filter(ticket::Column::Id.gt(after));
    }
    let rows = query.order_by_asc(ticket::Column::Id).limit(limit).all(tx.connection()).await?;
    rows.into_iter().map(ticket_from_row).collect()
}

pub async fn tickets_by_ids(tx: &TenantTransaction, ids: &[Uuid]) -> Result<Vec<Ticket>, SupportError> {
    let rows = ticket::Entity::find()
        .filter(ticket::Column::TenantId.eq(tx.tenant_id()))
        .filter(ticket_scope(tx))
        .filter(ticket::Column::Id.is_in(ids.iter().copied()))
        .all(tx.connection())
        .await?;
    rows.into_iter().map(ticket_from_row).collect()
}

/// Every ticket of the given customers in one statement, ordered by id.
pub async fn tickets_of_customer_accounts(
    tx: &TenantTransaction,
    customer_account_ids: &[Uuid],
) -> Result<Vec<Ticket>, SupportError> {
    let rows = ticket::Entity::find()
        .filter(ticket::Column::TenantId.eq(tx.tenant_id()))
        .filter(ticket_scope(tx))
        .filter(ticket::Column::CustomerAccountId.is_in(customer_account_ids.iter().copied()))
        .order_by_asc(ticket::Column::Id)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(ticket_from_row).collect()
}

/// Moves `ticket` to `next` at `now` and returns it as stored. Callers have checked the
/// transition (`TicketStatus::can_become`) against `ticket.status` as they read it; the
/// update is conditional on that status still being stored, so a concurrent change that
/// committed in between is never overwritten ([`SupportError::StatusMoved`] instead). The
/// timestamps follow the transition: solving stamps `solved_at`, closing stamps
/// `closed_at`, reopening clears `solved_at` and counts the reopen.
pub async fn change_ticket_status(
    tx: &TenantTransaction,
    ticket: &Ticket,
    next: TicketStatus,
    now: DateTime<Utc>,
) -> Result<Ticket, SupportError> {
    let mut update = ticket::Entity::update_many()
        .col_expr(ticket::Column::Status, Expr::value(next.as_str()))
        .col_expr(ticket::Column::Version, Expr::col(ticket::Column::Version).add(1))
        .col_expr(ticket::Column::StatusChangedAt, Expr::value(now))
        .filter(ticket::Column::TenantId.eq(tx.tenant_id()))
        .filter(ticket::Column::Id.eq(ticket.id))
        .filter(ticket::Column::Status.eq(ticket.status.as_str()));
    let mut changed = ticket.clone();
    changed.status = next;
    changed.version += 1;
    changed.status_changed_at = Some(now);
    match next {
        TicketStatus::Solved => {
            update = update.col_expr(ticket::Column::SolvedAt, Expr::value(now));
            changed.solved_at = Some(now);
        }
        TicketStatus::Closed => update = update.col_expr(ticket::Column::ClosedAt, Expr::value(now)),
        TicketStatus::Open if ticket.status == TicketStatus::Solved => {
            update = update
                .col_expr(ticket::Column::SolvedAt, Expr::value(Option::<DateTime<Utc>>::None))
                .col_expr(ticket::Column::ReopenCount, Expr::col(ticket::Column::ReopenCount).add(1));
            changed.solved_at = None;
        }
        _ => {}
    }
    // On PostgreSQL a concurrent writer's row lock makes this wait for its commit, then the
    // condition is re-checked against the committed row: zero rows means we lost.
    let updated = update.exec(tx.connection()).await?;
    if updated.rows_affected != 1 {
        return Err(SupportError::StatusMoved { number: ticket.number.clone(), expected: ticket.status.as_str() });
    }
    Ok(changed)
}

/// A ticket to create (`createTicket`).
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub customer_account_id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    pub requester_name: String,
    pub requester_email: String,
    pub subject: String,
    pub channel: TicketChannel,
    pub category: TicketCategory,
    pub priority: TicketPriority,
    pub sla_policy_id: Option<Uuid>,
}

/// Writes a `new` ticket numbered after the tenant's highest number and returns it.
pub async fn insert_ticket(tx: &TenantTransaction, new: NewTicket, now: DateTime<Utc>) -> Result<Ticket, SupportError> {
    let highest = ticket::Entity::find()
        .filter(ticket::Column::TenantId.eq(tx.tenant_id()))
        .order_by_desc(ticket::Column::Number)
        .one(tx.connection())
        .await?
        .and_then(|row| row.number.trim_start_matches("TCK-").parse::<u64>().ok())
        .unwrap_or(0);
    let number = format!("TCK-{:06}", highest + 1);
    let row = ticket::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(Uuid::now_v7()),
        number: Set(number),
        customer_account_id: Set(new.customer_account_id),
        subscription_id: Set(None),
        channel_partner_id: Set(new.channel_partner_id),
        requester_name: Set(new.requester_name),
        requester_email: Set(new.requester_email),
        subject: Set(new.subject),
        channel: Set(new.channel.as_str().to_owned()),
        category: Set(new.category.as_str().to_owned()),
        priority: Set(new.priority.as_str().to_owned()),
        status: Set(TicketStatus::New.as_str().to_owned()),
        tier: Set(SupportTierLevel::ProviderL2.as_str().to_owned()),
        created_at: Set(now),
        first_responded_at: Set(None),
        solved_at: Set(None),
        closed_at: Set(None),
        reopen_count: Set(0),
        version: Set(1),
        sla_policy_id: Set(new.sla_policy_id),
        assignee_user_id: Set(None),
        status_changed_at: Set(Some(now)),
    };
    let stored = row.insert(tx.connection()).await?;
    ticket_from_row(stored)
}

/// Stores `changed` (priority, assignee, first response) over the row at `read.version`;
/// zero rows matched means a concurrent change won ([`SupportError::StatusMoved`]).
pub async fn update_ticket(tx: &TenantTransaction, read: &Ticket, changed: &Ticket) -> Result<(), SupportError> {
    let updated = ticket::Entity::update_many()
        .col_expr(ticket::Column::Priority, Expr::value(changed.priority.as_str()))
        .col_expr(ticket::Column::AssigneeUserId, Expr::value(changed.assignee_user_id.clone()))
        .col_expr(ticket::Column::FirstRespondedAt, Expr::value(changed.first_responded_at))
        .col_expr(ticket::Column::Version, Expr::value(changed.version))
        .filter(ticket::Column::TenantId.eq(tx.tenant_id()))
        .filter(ticket::Column::Id.eq(read.id))
        .filter(ticket::Column::Version.eq(read.version))
        .exec(tx.connection())
        .await?;
    if updated.rows_affected != 1 {
        return Err(SupportError::StatusMoved { number: read.number.clone(), expected: read.status.as_str() });
    }
    Ok(())
}

/// Tickets of the tenant in `status` whose status last changed before `before` (the
/// scheduled auto-solve and auto-close), ordered by id.
pub async fn tickets_in_status_since(
    tx: &TenantTransaction,
    status: TicketStatus,
    before: DateTime<Utc>,
) -> Result<Vec<Ticket>, SupportError> {
    let rows = ticket::Entity::find()
        .filter(ticket::Column::TenantId.eq(tx.tenant_id()))
        .filter(ticket::Column::Status.eq(status.as_str()))
        .filter(ticket::Column::StatusChangedAt.lt(before))
        .order_by_asc(ticket::Column::Id)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(ticket_from_row).collect()
}

/// Records, inside `tx`, that the `CustomerAccount` of `ticket` changed, for the gateway's
/// response cache (the ticket's own change travels as its domain event). Finance owns the
/// account, but support contributes ticket-derived fields to it (`tickets`,
/// `openUrgentHighTicketCount`, and through analytics' `@requires` its `health`), so cached
/// answers about the account go stale with the ticket and must be invalidated as well.
pub async fn record_customer_account_changed(tx: &TenantTransaction, ticket: &Ticket) -> Result<(), SupportError> {
    let account = ticket.customer_account_id.to_string();
    changes::record_change(tx, SERVICE.name, "CustomerAccount", &account, ChangeKind::Updated).await?;
    Ok(())
}

/// Announces that `ticket` changed without a ticket event of its own (its escalations
/// moved), so cached answers holding it are dropped.
pub async fn record_ticket_changed(tx: &TenantTransaction, ticket: &Ticket) -> Result<(), SupportError> {
    changes::record_change(tx, SERVICE.name, "Ticket", &ticket.id.to_string(), ChangeKind::Updated).await?;
    Ok(())
}

/// Partner and customer-portal callers see only their tickets (`atrium_kit::scopes`).
fn ticket_scope(tx: &TenantTransaction) -> Condition {
    tx.second_level_scope(ticket::Column::ChannelPartnerId, ticket::Column::CustomerAccountId)
}

fn ticket_from_row(row: ticket::Model) -> Result<Ticket, SupportError> {
    let status = TicketStatus::parse(&row.status)?;
    if !status.is_open() && row.solved_at.is_none() {
        return Err(SupportError::InconsistentTicket { number: row.number, status: status.as_str() });
    }
    Ok(Ticket {
        id: row.id,
        number: row.number,
        customer_account_id: row.customer_account_id,
        subject: row.subject,
        channel: TicketChannel::parse(&row.channel)?,
        category: TicketCategory::parse(&row.category)?,
        priority: TicketPriority::parse(&row.priority)?,
        status,
        tier: SupportTierLevel::parse(&row.tier)?,
        created_at: row.created_at,
        first_responded_at: row.first_responded_at,
        solved_at: row.solved_at,
        version: row.version,
        sla_policy_id: row.sla_policy_id,
        assignee_user_id: row.assignee_user_id,
        status_changed_at: row.status_changed_at,
    })
}
