//! What happens to an escalation after it is raised (docs/domain.md#escalations-and-csat):
//! acknowledging and resolving it, and raising one on analytics' behalf through the
//! cross-service command `support.command.escalate`, once per idempotency key. Each runs
//! inside the kit's command transaction and returns the `Outcome` with its domain events.

use atrium_kit::{
    TenantTransaction,
    command::{CommandError, Outcome, guard_transition},
    events::{DomainEvent, Subject},
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    commands::{internal, load_ticket, raise_escalation},
    domain::{
        Escalation, Ticket, TicketPriority,
        escalations::{EscalationReason, EscalationStatus, next_escalation_level},
    },
    repository,
};

/// The cross-service command analytics sends to have a customer's ticket escalated.
pub const ESCALATE_COMMAND_TYPE: &str = "support.command.escalate";

/// Roles that acknowledge and resolve escalations: the support lead and manager levels,
/// and the CSM who owns level 3.
pub const ESCALATION_HANDLERS: &[&str] = &["support_lead", "tenant_admin", "csm"];

/// Who may raise an escalation on analytics' behalf: the event consumer's automation role.
pub const COMMAND_ESCALATORS: &[&str] = &[atrium_kit::tenant::AUTOMATION_ROLE];

async fn load_escalation(tx: &TenantTransaction, id: Uuid) -> Result<(Escalation, Ticket), CommandError> {
    let escalation =
        repository::sla::escalation(tx, id).await.map_err(internal)?.ok_or(CommandError::NotFound("Escalation"))?;
    // The ticket read goes through the caller's scopes: an escalation of a ticket the
    // caller cannot see is as unknown as the ticket.
    let ticket = load_ticket(tx, escalation.ticket_id).await.map_err(|_| CommandError::NotFound("Escalation"))?;
    Ok((escalation, ticket))
}

fn status_of(escalation: &Escalation) -> Result<EscalationStatus, CommandError> {
    EscalationStatus::parse(&escalation.status)
        .map_err(|error| CommandError::Database(sea_orm::DbErr::Custom(error.to_string())))
}

fn escalation_event(tx: &TenantTransaction, kind: &str, escalation: &Escalation, ticket: &Ticket) -> DomainEvent {
    let subject = Subject { entity_type: "Escalation".to_owned(), id: escalation.id, version: escalation.version };
    DomainEvent::new(tx.context(), kind, subject)
        .with_ref("customer_account_id", ticket.customer_account_id)
        .with_ref("ticket_id", ticket.id)
        .with_data(serde_json::json!({
            "level": escalation.level,
            "ticket_id": ticket.id,
            "ticket_number": ticket.number,
            "priority": ticket.priority.as_str(),
        }))
}

async fn move_escalation(
    tx: &TenantTransaction,
    id: Uuid,
    next: EscalationStatus,
    change: impl FnOnce(&mut Escalation),
) -> Result<Outcome<Escalation>, CommandError> {
    let (escalation, ticket) = load_escalation(tx, id).await?;
    let current = status_of(&escalation)?;
    guard_transition(current, next)?;
    let mut changed = escalation.clone();
    changed.status = next.as_str().to_owned();
    changed.version += 1;
    change(&mut changed);
    if !repository::sla::update_escalation(tx, escalation.version, &changed).await.map_err(internal)? {
        return Err(CommandError::stale("Escalation"));
    }
    repository::record_ticket_changed(tx, &ticket).await.map_err(internal)?;
    let kind = match next {
        EscalationStatus::Acknowledged => "support.escalation.acknowledged",
        _ => "support.escalation.resolved",
    };
    let mut event = escalation_event(tx, kind, &changed, &ticket);
    if let (Some(note), Some(data)) = (&changed.resolution_note, event.data.as_object_mut()) {
        data.insert("note".to_owned(), serde_json::Value::String(note.clone()));
    }
    Ok(Outcome {
        entity_ids: vec![ticket.id, changed.id],
        detail: format!("level {} {} -> {}", changed.level, current.as_str(), next.as_str()),
        events: vec![event],
        value: changed,
    })
}

/// `acknowledgeEscalation`: `open → acknowledged`; `support.escalation.acknowledged`.
pub async fn acknowledge(
    tx: &TenantTransaction,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Outcome<Escalation>, CommandError> {
    let subject = tx.context().subject.clone();
    move_escalation(tx, id, EscalationStatus::Acknowledged, move |escalation| {
        escalation.acknowledged_at = Some(now);
        escalation.acknowledged_by = Some(subject);
    })
    .await
}

/// `resolveEscalation`: `open | acknowledged → resolved`, with an optional note;
/// `support.escalation.resolved`.
pub async fn resolve(
    tx: &TenantTransaction,
    id: Uuid,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<Outcome<Escalation>, CommandError> {
    let subject = tx.context().subject.clone();
    let note = note.map(|note| note.trim().to_owned()).filter(|note| !note.is_empty());
    move_escalation(tx, id, EscalationStatus::Resolved, move |escalation| {
        escalation.resolved_at = Some(now);
        escalation.resolved_by = Some(subject);
        escalation.resolution_note = note;
    })
    .await
}

/// What `support.command.escalate` carries.
#[derive(Debug, Clone, Deserialize)]
pub struct EscalateCommand {
    pub customer_account_id: Uuid,
    #[serde(default)]
    pub ticket_id: Option<Uuid>,
    pub level: i32,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub rule_code: Option<String>,
    pub idempotency_key: String,
}

/// Why nothing was raised for a command that was still applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NothingToEscalate {
    /// A command with this key raised `escalation_id` already.
    AlreadyRaised { escalation_id: Uuid },
    /// The customer has no open ticket (or the named one is not open or not theirs).
    NoOpenTicket,
    /// The ticket already stands at the requested level or above.
    AlreadyAtLevel { ticket_id: Uuid, highest: i32 },
}

/// How urgently an open ticket needs attention: priority first, then the oldest.
fn urgency(ticket: &Ticket) -> (u8, DateTime<Utc>) {
    let rank = match ticket.priority {
        TicketPriority::Urgent => 0,
        TicketPriority::High => 1,
        TicketPriority::Normal => 2,
        TicketPriority::Low => 3,
    };
    (rank, ticket.created_at)
}

/// The ticket a command means: the one it names if that is an open ticket of the
/// customer, else (none named) the customer's most urgent open ticket.
pub fn ticket_to_escalate(tickets: &[Ticket], customer_account_id: Uuid, named: Option<Uuid>) -> Option<&Ticket> {
    let open =
        tickets.iter().filter(|ticket| ticket.customer_account_id == customer_account_id && ticket.status.is_open());
    match named {
        Some(id) => open.into_iter().find(|ticket| ticket.id == id),
        None => open.min_by_key(|ticket| urgency(ticket)),
    }
}

/// `support.command.escalate`: raises the chosen ticket to the requested level through
/// the same path as `escalateTicket`, remembering the command's key on the escalation.
/// A repeated key, a customer without an open ticket and a ticket already at that level
/// are answered with what is there, and nothing is written.
pub async fn escalate_on_command(
    tx: &TenantTransaction,
    command: &EscalateCommand,
    now: DateTime<Utc>,
) -> Result<Outcome<Result<Escalation, NothingToEscalate>>, CommandError> {
    let nothing = |why: NothingToEscalate| Outcome {
        entity_ids: Vec::new(),
        detail: format!("{why:?}"),
        events: Vec::new(),
        value: Err(why),
    };
    if let Some(existing) =
        repository::sla::escalation_with_command_key(tx, &command.idempotency_key).await.map_err(internal)?
    {
        return Ok(nothing(NothingToEscalate::AlreadyRaised { escalation_id: existing.id }));
    }
    let tickets =
        repository::tickets_of_customer_accounts(tx, &[command.customer_account_id]).await.map_err(internal)?;
    let Some(ticket) = ticket_to_escalate(&tickets, command.customer_account_id, command.ticket_id) else {
        return Ok(nothing(NothingToEscalate::NoOpenTicket));
    };
    let existing = repository::sla::escalations_of_tickets(tx, &[ticket.id]).await.map_err(internal)?;
    let highest = existing.iter().map(|escalation| escalation.level).max();
    let Some(level) = next_escalation_level(highest, Some(command.level)) else {
        if !(1..=crate::domain::escalations::MAX_ESCALATION_LEVEL).contains(&command.level) {
            return Err(CommandError::Invalid(format!("level: {} is not a level from 1 to 3", command.level)));
        }
        return Ok(nothing(NothingToEscalate::AlreadyAtLevel { ticket_id: ticket.id, highest: highest.unwrap_or(0) }));
    };
    let reason = command
        .reason
        .as_deref()
        .and_then(|reason| EscalationReason::parse(reason).ok())
        .unwrap_or(EscalationReason::AutomationRule);
    let created_by = match &command.rule_code {
        Some(rule) => format!("automation:{rule}"),
        None => tx.context().subject.clone(),
    };
    let escalation = Escalation {
        command_key: Some(command.idempotency_key.clone()),
        ..Escalation::open(ticket.id, level, reason, created_by, now)
    };
    let mut outcome = raise_escalation(tx, ticket, escalation).await?;
    if let (Some(data), Some(rule)) = (outcome.events[0].data.as_object_mut(), &command.rule_code) {
        data.insert("rule_code".to_owned(), serde_json::Value::String(rule.clone()));
    }
    Ok(Outcome {
        entity_ids: outcome.entity_ids,
        detail: outcome.detail,
        events: outcome.events,
        value: Ok(outcome.value),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{SupportTierLevel, TicketCategory, TicketChannel, TicketStatus};

    fn ticket(customer: Uuid, priority: TicketPriority, status: TicketStatus, created: &str) -> Ticket {
        Ticket {
            id: Uuid::now_v7(),
            number: "T-1".to_owned(),
            customer_account_id: customer,
            subject: "s".to_owned(),
            channel: TicketChannel::Email,
            category: TicketCategory::Defect,
            priority,
            status,
            tier: SupportTierLevel::ProviderL2,
            created_at: created.parse().unwrap(),
            first_responded_at: None,
            solved_at: None,
            version: 1,
            sla_policy_id: None,
            assignee_user_id: None,
            status_changed_at: None,
        }
    }

    #[test]
    fn the_most_urgent_open_ticket_of_the_customer_is_escalated_when_none_is_named() {
        let (customer, other) = (Uuid::now_v7(), Uuid::now_v7());
        let tickets = vec![
            ticket(customer, TicketPriority::Normal, TicketStatus::Open, "2026-11-01T09:00:00Z"),
            // Urgent but solved: not open, so not a candidate.
            ticket(customer, TicketPriority::Urgent, TicketStatus::Solved, "2026-11-02T09:00:00Z"),
            ticket(customer, TicketPriority::High, TicketStatus::Pending, "2026-11-04T09:00:00Z"),
            // Same priority, older: wins the tie.
            ticket(customer, TicketPriority::High, TicketStatus::OnHold, "2026-11-03T09:00:00Z"),
            // Another customer's urgent ticket is never chosen.
            ticket(other, TicketPriority::Urgent, TicketStatus::Open, "2026-10-01T09:00:00Z"),
        ];
        assert_eq!(ticket_to_escalate(&tickets, customer, None).map(|t| t.id), Some(tickets[3].id));
        assert_eq!(ticket_to_escalate(&tickets, customer, Some(tickets[0].id)).map(|t| t.id), Some(tickets[0].id));
        assert!(ticket_to_escalate(&tickets, customer, Some(tickets[1].id)).is_none(), "a solved ticket");
        assert!(ticket_to_escalate(&tickets, customer, Some(tickets[4].id)).is_none(), "another customer's");
        assert!(ticket_to_escalate(&tickets, Uuid::now_v7(), None).is_none());
    }
}
