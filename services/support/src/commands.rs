//! The domain parts of the ticket commands (docs/domain.md#ticket-commands): each runs
//! inside the kit's command transaction, loads the ticket of the caller's tenant, guards
//! the change, writes conditionally, moves the ticket's SLA clocks and returns the
//! `Outcome` with its domain events. Resolvers and the scheduled SLA job share them.

use atrium_kit::{
    TenantTransaction,
    command::{CommandError, Outcome, guard_transition},
    events::{DomainEvent, Subject},
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    domain::{
        self, CsatResponse, Escalation, SlaClock, SlaClockStatus, SlaMetric, SlaPolicy, Ticket, TicketComment,
        TicketPriority, TicketStatus,
        escalations::{EscalationReason, MAX_ESCALATION_LEVEL, csat_rating, next_escalation_level},
        sla::{METRICS_STARTED_ON_CREATE, clocks_after_status_change},
    },
    error::SupportError,
    repository::{self, NewTicket},
};

/// Roles that work tickets (create, assign, prioritise, comment, change status).
pub const TICKET_EDITORS: &[&str] = &["support_agent", "support_lead", "tenant_admin"];

/// The platform's own scheduled actions (auto-solve, auto-close, SLA evaluation).
pub const AUTOMATION: &[&str] = &[atrium_kit::tenant::AUTOMATION_ROLE];

/// A support error inside a command: a defect or the database, never the caller's fault.
pub fn internal(error: SupportError) -> CommandError {
    match error {
        SupportError::Database(error) => CommandError::Database(error),
        SupportError::StatusMoved { .. } => CommandError::stale("Ticket"),
        other => CommandError::Database(sea_orm::DbErr::Custom(other.to_string())),
    }
}

/// A unique-index violation is a concurrent writer that got there first (`CONFLICT`);
/// anything else stays internal.
fn unique_or_internal(error: SupportError, entity: &str) -> CommandError {
    match &error {
        SupportError::Database(db) if matches!(db.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
            CommandError::stale(entity)
        }
        _ => internal(error),
    }
}

fn clock_failure(error: domain::sla::ClockError) -> CommandError {
    CommandError::Database(sea_orm::DbErr::Custom(format!("SLA clock: {error}")))
}

/// The ticket `id` of the caller's tenant (and scope), or `NOT_FOUND`.
pub async fn load_ticket(tx: &TenantTransaction, id: Uuid) -> Result<Ticket, CommandError> {
    repository::tickets_by_ids(tx, &[id]).await.map_err(internal)?.pop().ok_or(CommandError::NotFound("Ticket"))
}

fn ticket_event(tx: &TenantTransaction, kind: &str, ticket: &Ticket) -> DomainEvent {
    let subject = Subject { entity_type: "Ticket".to_owned(), id: ticket.id, version: ticket.version };
    DomainEvent::new(tx.context(), kind, subject).with_ref("customer_account_id", ticket.customer_account_id)
}

/// `support.sla.warning`, `.breached` or `.fulfilled` for one clock of `ticket`.
pub fn sla_event(
    tx: &TenantTransaction,
    kind: &str,
    ticket: &Ticket,
    clock: &SlaClock,
    policy: &str,
    data: serde_json::Value,
) -> DomainEvent {
    let subject = Subject { entity_type: "SlaClock".to_owned(), id: clock.id, version: clock.version };
    let mut payload = serde_json::json!({
        "metric": clock.metric.as_str(),
        "priority": ticket.priority.as_str(),
        "policy": policy,
        "ticket_number": ticket.number,
        "due_at": clock.due_at,
    });
    if let (Some(target), serde_json::Value::Object(extra)) = (payload.as_object_mut(), data) {
        target.extend(extra);
    }
    DomainEvent::new(tx.context(), kind, subject)
        .with_ref("customer_account_id", ticket.customer_account_id)
        .with_ref("ticket_id", ticket.id)
        .with_data(payload)
}

fn fulfilled_event(tx: &TenantTransaction, ticket: &Ticket, clock: &SlaClock, policy: &str) -> DomainEvent {
    sla_event(
        tx,
        "support.sla.fulfilled",
        ticket,
        clock,
        policy,
        serde_json::json!({ "elapsed_minutes": clock.elapsed_seconds / 60, "breached": clock.breached_at.is_some() }),
    )
}

/// The ticket's policy: its own, or the tenant's default for tickets from before policies.
async fn policy_of(tx: &TenantTransaction, ticket: &Ticket) -> Result<Option<SlaPolicy>, CommandError> {
    repository::sla::policy(tx, ticket.sla_policy_id).await.map_err(internal)
}

/// Writes the clocks at `indexes` of `clocks` (read at `read_versions`); a clock another
/// writer moved first makes the whole command a `CONFLICT`.
async fn store_clocks(
    tx: &TenantTransaction,
    clocks: &[SlaClock],
    read_versions: &[i64],
    indexes: &[usize],
) -> Result<(), CommandError> {
    for &index in indexes {
        if !repository::sla::update_clock(tx, read_versions[index], &clocks[index]).await.map_err(internal)? {
            return Err(CommandError::stale("SlaClock"));
        }
    }
    Ok(())
}

/// What `createTicket` asks for.
#[derive(Debug, Clone)]
pub struct TicketDraft {
    pub customer_account_id: Option<Uuid>,
    pub requester_name: String,
    pub requester_email: String,
    pub subject: String,
    pub channel: domain::TicketChannel,
    pub category: domain::TicketCategory,
    pub priority: TicketPriority,
}

fn required(field: &str, value: &str) -> Result<String, CommandError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(CommandError::Invalid(format!("{field}: must not be empty")));
    }
    Ok(value.to_owned())
}

/// `createTicket`: a `new` ticket under the tenant's SLA policy, with a running
/// first-response and resolution clock; `support.ticket.created`.
pub async fn create_ticket(
    tx: &TenantTransaction,
    draft: TicketDraft,
    now: DateTime<Utc>,
) -> Result<Outcome<Uuid>, CommandError> {
    let customer_account_id = draft
        .customer_account_id
        .ok_or_else(|| CommandError::Invalid("customerAccountId: not a customer account id".to_owned()))?;
    let requester_email = required("requesterEmail", &draft.requester_email)?;
    if !requester_email.contains('@') {
        return Err(CommandError::Invalid("requesterEmail: not an email address".to_owned()));
    }
    let new = NewTicket {
        customer_account_id,
        channel_partner_id: tx.context().channel_partner_id,
        requester_name: required("requesterName", &draft.requester_name)?,
        requester_email,
        subject: required("subject", &draft.subject)?,
        channel: draft.channel,
        category: draft.category,
        priority: draft.priority,
        sla_policy_id: None,
    };
    let policy = repository::sla::policy(tx, None).await.map_err(internal)?;
    let ticket = repository::insert_ticket(tx, NewTicket { sla_policy_id: policy.as_ref().map(|p| p.id), ..new }, now)
        .await
        .map_err(internal)?;
    let mut clocks = Vec::new();
    if let Some(policy) = &policy {
        for metric in METRICS_STARTED_ON_CREATE {
            if let Some(target) = policy.target(ticket.priority, metric) {
                clocks.push(SlaClock::start(ticket.id, target, &policy.schedule, now).map_err(clock_failure)?);
            }
        }
    }
    repository::sla::insert_clocks(tx, &clocks).await.map_err(internal)?;
    repository::record_customer_account_changed(tx, &ticket).await.map_err(internal)?;
    let event = ticket_event(tx, "support.ticket.created", &ticket).with_data(serde_json::json!({
        "number": ticket.number,
        "priority": ticket.priority.as_str(),
        "category": ticket.category.as_str(),
        "channel": ticket.channel.as_str(),
        "sla_policy": policy.as_ref().map(|policy| policy.code.clone()),
    }));
    Ok(Outcome {
        entity_ids: vec![ticket.id],
        detail: format!("{} {}", ticket.number, ticket.priority.as_str()),
        events: vec![event],
        value: ticket.id,
    })
}

/// `assignTicket`: a new assignee for a ticket that is not closed; `support.ticket.assigned`.
pub async fn assign_ticket(
    tx: &TenantTransaction,
    ticket_id: Uuid,
    assignee: String,
) -> Result<Outcome<Ticket>, CommandError> {
    let ticket = load_ticket(tx, ticket_id).await?;
    let assignee = required("assigneeUserId", &assignee)?;
    if ticket.status == TicketStatus::Closed {
        return Err(CommandError::Invalid("id: a closed ticket cannot change; open a new ticket".to_owned()));
    }
    let mut changed = ticket.clone();
    changed.assignee_user_id = Some(assignee.clone());
    changed.version += 1;
    repository::update_ticket(tx, &ticket, &changed).await.map_err(internal)?;
    let event = ticket_event(tx, "support.ticket.assigned", &changed)
        .with_data(serde_json::json!({ "from": ticket.assignee_user_id, "to": assignee }));
    Ok(Outcome {
        entity_ids: vec![changed.id],
        detail: format!("assigned to {assignee}"),
        events: vec![event],
        value: changed,
    })
}

/// `changeTicketPriority`: the ticket's unfinished clocks take the new priority's targets,
/// keeping the business time they accrued; `support.ticket.priority_changed`.
pub async fn change_priority(
    tx: &TenantTransaction,
    ticket_id: Uuid,
    priority: TicketPriority,
    now: DateTime<Utc>,
) -> Result<Outcome<Ticket>, CommandError> {
    let ticket = load_ticket(tx, ticket_id).await?;
    if !ticket.status.is_open() {
        return Err(CommandError::Invalid(format!("priority: a {} ticket keeps its priority", ticket.status.as_str())));
    }
    if ticket.priority == priority {
        return Err(CommandError::Invalid(format!("priority: the ticket is {} already", priority.as_str())));
    }
    let mut changed = ticket.clone();
    changed.priority = priority;
    changed.version += 1;
    repository::update_ticket(tx, &ticket, &changed).await.map_err(internal)?;
    if let Some(policy) = policy_of(tx, &ticket).await? {
        let mut clocks = repository::sla::clocks_of_tickets(tx, &[ticket.id]).await.map_err(internal)?;
        let read_versions: Vec<i64> = clocks.iter().map(|clock| clock.version).collect();
        let mut moved = Vec::new();
        for (index, clock) in clocks.iter_mut().enumerate() {
            if let Some(target) = policy.target(priority, clock.metric)
                && clock.retarget(target, &policy.schedule, now).map_err(clock_failure)?
            {
                moved.push(index);
            }
        }
        store_clocks(tx, &clocks, &read_versions, &moved).await?;
    }
    repository::record_customer_account_changed(tx, &changed).await.map_err(internal)?;
    let event = ticket_event(tx, "support.ticket.priority_changed", &changed)
        .with_data(serde_json::json!({ "from": ticket.priority.as_str(), "to": priority.as_str() }));
    Ok(Outcome {
        entity_ids: vec![changed.id],
        detail: format!("{} -> {}", ticket.priority.as_str(), priority.as_str()),
        events: vec![event],
        value: changed,
    })
}

/// `commentOnTicket`: a public reply or internal note. The first public reply stamps
/// `first_responded_at` and fulfils the first-response clock (`support.sla.fulfilled`);
/// `support.comment.added`.
pub async fn comment_on_ticket(
    tx: &TenantTransaction,
    ticket_id: Uuid,
    public: bool,
    body: String,
    now: DateTime<Utc>,
) -> Result<Outcome<TicketComment>, CommandError> {
    let ticket = load_ticket(tx, ticket_id).await?;
    let body = required("body", &body)?;
    if ticket.status == TicketStatus::Closed {
        return Err(CommandError::Invalid("ticketId: a closed ticket takes no comments; open a new ticket".to_owned()));
    }
    let comment = TicketComment {
        id: Uuid::now_v7(),
        ticket_id: ticket.id,
        author_subject: tx.context().subject.clone(),
        public,
        body,
        created_at: now,
    };
    repository::sla::insert_comment(tx, &comment).await.map_err(internal)?;
    let mut events = Vec::new();
    let mut current = ticket.clone();
    if public && ticket.first_responded_at.is_none() {
        current.first_responded_at = Some(now);
        current.version += 1;
        repository::update_ticket(tx, &ticket, &current).await.map_err(internal)?;
        if let Some(policy) = policy_of(tx, &ticket).await? {
            let mut clocks = repository::sla::clocks_of_tickets(tx, &[ticket.id]).await.map_err(internal)?;
            let read_versions: Vec<i64> = clocks.iter().map(|clock| clock.version).collect();
            let mut moved = Vec::new();
            for (index, clock) in clocks.iter_mut().enumerate() {
                if clock.metric == SlaMetric::FirstResponse && clock.status != SlaClockStatus::Fulfilled {
                    clock.fulfil(&policy.schedule, now).map_err(clock_failure)?;
                    events.push(fulfilled_event(tx, &current, clock, &policy.code));
                    moved.push(index);
                }
            }
            store_clocks(tx, &clocks, &read_versions, &moved).await?;
        }
    }
    let subject = Subject { entity_type: "Ticket".to_owned(), id: ticket.id, version: current.version };
    events.insert(
        0,
        DomainEvent::new(tx.context(), "support.comment.added", subject)
            .with_ref("customer_account_id", ticket.customer_account_id)
            .with_data(serde_json::json!({ "comment_id": comment.id, "public": public })),
    );
    Ok(Outcome {
        entity_ids: vec![ticket.id, comment.id],
        detail: if public { "public reply".to_owned() } else { "internal note".to_owned() },
        events,
        value: comment,
    })
}

/// `changeTicketStatus` (and the scheduled auto-solve / auto-close): guarded transition,
/// conditional on the status still being the one read; the clocks pause, resume or are
/// fulfilled with it. `support.ticket.status_changed` plus `.solved`, `.reopened` or
/// `.closed`, and `support.sla.fulfilled` per clock the change fulfils.
pub async fn change_status(
    tx: &TenantTransaction,
    ticket_id: Uuid,
    next: TicketStatus,
    now: DateTime<Utc>,
) -> Result<Outcome<Ticket>, CommandError> {
    let ticket = load_ticket(tx, ticket_id).await?;
    guard_transition(ticket.status, next)?;
    let changed = repository::change_ticket_status(tx, &ticket, next, now).await.map_err(internal)?;
    let mut events = vec![
        ticket_event(tx, "support.ticket.status_changed", &changed)
            .with_data(serde_json::json!({ "from": ticket.status.as_str(), "to": next.as_str() })),
    ];
    let specific = match (ticket.status, next) {
        (_, TicketStatus::Solved) => Some("support.ticket.solved"),
        (_, TicketStatus::Closed) => Some("support.ticket.closed"),
        (TicketStatus::Solved, TicketStatus::Open) => Some("support.ticket.reopened"),
        _ => None,
    };
    if let Some(kind) = specific {
        events.push(ticket_event(tx, kind, &changed));
    }
    if let Some(policy) = policy_of(tx, &ticket).await? {
        let mut clocks = repository::sla::clocks_of_tickets(tx, &[ticket.id]).await.map_err(internal)?;
        let read_versions: Vec<i64> = clocks.iter().map(|clock| clock.version).collect();
        let moved =
            clocks_after_status_change(&policy, &mut clocks, ticket.status, next, now).map_err(clock_failure)?;
        store_clocks(tx, &clocks, &read_versions, &moved).await?;
        for &index in &moved {
            if clocks[index].status == SlaClockStatus::Fulfilled {
                events.push(fulfilled_event(tx, &changed, &clocks[index], &policy.code));
            }
        }
    }
    repository::record_customer_account_changed(tx, &changed).await.map_err(internal)?;
    Ok(Outcome {
        entity_ids: vec![changed.id],
        detail: format!("{} -> {}", ticket.status.as_str(), next.as_str()),
        events,
        value: changed,
    })
}

/// Roles that escalate tickets.
pub const ESCALATORS: &[&str] = &["support_lead", "tenant_admin"];

/// Roles that record a requester's satisfaction: the requester in the customer portal, or
/// support recording an answer that came by mail.
pub const CSAT_RECORDERS: &[&str] = &["customer_user", "support_agent", "support_lead", "tenant_admin"];

/// `escalateTicket`: an open ticket goes up one level (or to the level asked for, if
/// higher), at most to 3; `support.escalation.created`.
pub async fn escalate_ticket(
    tx: &TenantTransaction,
    ticket_id: Uuid,
    level: Option<i32>,
    reason: EscalationReason,
    now: DateTime<Utc>,
) -> Result<Outcome<Escalation>, CommandError> {
    let ticket = load_ticket(tx, ticket_id).await?;
    if !ticket.status.is_open() {
        return Err(CommandError::Invalid(format!("id: a {} ticket cannot be escalated", ticket.status.as_str())));
    }
    let existing = repository::sla::escalations_of_tickets(tx, &[ticket.id]).await.map_err(internal)?;
    let highest = existing.iter().map(|escalation| escalation.level).max();
    let level = next_escalation_level(highest, level).ok_or_else(|| {
        CommandError::Invalid(format!(
            "level: must be above the ticket's current level {} and at most {MAX_ESCALATION_LEVEL}",
            highest.unwrap_or(0)
        ))
    })?;
    let escalation = Escalation::open(ticket.id, level, reason, tx.context().subject.clone(), now);
    raise_escalation(tx, &ticket, escalation).await
}

/// Writes a new escalation of `ticket` and announces it; `escalateTicket` and the
/// cross-service `support.command.escalate` share it.
pub async fn raise_escalation(
    tx: &TenantTransaction,
    ticket: &Ticket,
    escalation: Escalation,
) -> Result<Outcome<Escalation>, CommandError> {
    let (level, reason) = (escalation.level, escalation.reason.clone());
    // The unique (ticket, level) index turns a concurrent escalation to the same level
    // into a database error; report it as the conflict it is.
    repository::sla::insert_escalation(tx, &escalation).await.map_err(|error| unique_or_internal(error, "Ticket"))?;
    repository::record_ticket_changed(tx, ticket).await.map_err(internal)?;
    let subject = Subject { entity_type: "Escalation".to_owned(), id: escalation.id, version: 1 };
    let event = DomainEvent::new(tx.context(), "support.escalation.created", subject)
        .with_ref("customer_account_id", ticket.customer_account_id)
        .with_ref("ticket_id", ticket.id)
        .with_data(serde_json::json!({
            "level": level,
            "ticket_id": ticket.id,
            "reason": reason,
            "priority": ticket.priority.as_str(),
            "ticket_number": ticket.number,
        }));
    Ok(Outcome {
        entity_ids: vec![ticket.id, escalation.id],
        detail: format!("level {level} ({reason})"),
        events: vec![event],
        value: escalation,
    })
}

/// `recordCsat`: one score of 1 to 5 per solved (or closed) ticket; `support.csat.received`.
pub async fn record_csat(
    tx: &TenantTransaction,
    ticket_id: Uuid,
    score: i32,
    comment: Option<String>,
    now: DateTime<Utc>,
) -> Result<Outcome<CsatResponse>, CommandError> {
    let ticket = load_ticket(tx, ticket_id).await?;
    let rating = csat_rating(score).ok_or_else(|| CommandError::Invalid("score: must be 1 to 5".to_owned()))?;
    if ticket.status.is_open() {
        return Err(CommandError::Invalid("ticketId: only solved tickets are rated".to_owned()));
    }
    if repository::sla::csat_of_ticket(tx, ticket.id).await.map_err(internal)?.is_some() {
        return Err(CommandError::Conflict(format!("ticket {} has been rated already", ticket.number)));
    }
    let response = CsatResponse {
        id: Uuid::now_v7(),
        ticket_id: ticket.id,
        score,
        comment: comment.map(|comment| comment.trim().to_owned()).filter(|comment| !comment.is_empty()),
        received_at: now,
    };
    repository::sla::insert_csat(tx, &response).await.map_err(|error| unique_or_internal(error, "Ticket"))?;
    let subject = Subject { entity_type: "CsatResponse".to_owned(), id: response.id, version: 1 };
    let event = DomainEvent::new(tx.context(), "support.csat.received", subject)
        .with_ref("customer_account_id", ticket.customer_account_id)
        .with_ref("ticket_id", ticket.id)
        .with_data(serde_json::json!({ "score": score, "rating": rating }));
    Ok(Outcome {
        entity_ids: vec![ticket.id, response.id],
        detail: format!("score {score}"),
        events: vec![event],
        value: response,
    })
}
