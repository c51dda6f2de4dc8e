//! Ticket rules (docs/domain.md#ticket-lifecycle): which statuses are still open, the
//! allowed status transitions (Zendesk-like), and the `open_urgent_high` health measure
//! (docs/domain.md#health-score).

use atrium_kit::command::StateMachine;

use super::{Ticket, TicketPriority, TicketStatus};

impl TicketStatus {
    /// New, open, pending and on-hold tickets still need work; solved and closed do not.
    pub fn is_open(self) -> bool {
        matches!(self, TicketStatus::New | TicketStatus::Open | TicketStatus::Pending | TicketStatus::OnHold)
    }
}

/// The ticket lifecycle: `new → open`, `open ↔ pending`, `open ↔ on_hold`,
/// `open | pending | on_hold → solved`, `solved → open` (reopen) and `solved → closed`.
/// Closed is final: follow-ups create a new ticket.
impl StateMachine for TicketStatus {
    const ENTITY: &'static str = "Ticket";

    fn allowed_next(self) -> &'static [Self] {
        use TicketStatus::{Closed, New, OnHold, Open, Pending, Solved};
        match self {
            New => &[Open],
            Open => &[Pending, OnHold, Solved],
            Pending | OnHold => &[Open, Solved],
            Solved => &[Open, Closed],
            Closed => &[],
        }
    }

    fn name(self) -> &'static str {
        match self {
            TicketStatus::New => "NEW",
            TicketStatus::Open => "OPEN",
            TicketStatus::Pending => "PENDING",
            TicketStatus::OnHold => "ON_HOLD",
            TicketStatus::Solved => "SOLVED",
            TicketStatus::Closed => "CLOSED",
        }
    }
}

impl TicketPriority {
    pub fn is_urgent_or_high(self) -> bool {
        matches!(self, TicketPriority::Urgent | TicketPriority::High)
    }
}

/// Whether a ticket counts toward the health measure `open_urgent_high`.
pub fn is_open_urgent_high(priority: TicketPriority, status: TicketStatus) -> bool {
    priority.is_urgent_or_high() && status.is_open()
}

/// Health measure `open_urgent_high` (docs/domain.md#health-score): open urgent and high tickets.
pub fn open_urgent_high_count<'a>(tickets: impl IntoIterator<Item = &'a Ticket>) -> usize {
    tickets.into_iter().filter(|ticket| is_open_urgent_high(ticket.priority, ticket.status)).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{SupportTierLevel, TicketCategory, TicketChannel};
    use uuid::Uuid;

    const ALL_STATUSES: [TicketStatus; 6] = [
        TicketStatus::New,
        TicketStatus::Open,
        TicketStatus::Pending,
        TicketStatus::OnHold,
        TicketStatus::Solved,
        TicketStatus::Closed,
    ];

    fn ticket(priority: TicketPriority, status: TicketStatus) -> Ticket {
        Ticket {
            id: Uuid::now_v7(),
            number: "TCK-TEST".into(),
            customer_account_id: Uuid::nil(),
            subject: "Test".into(),
            channel: TicketChannel::Email,
            category: TicketCategory::Defect,
            priority,
            status,
            tier: SupportTierLevel::ProviderL2,
            created_at: chrono::Utc::now(),
            first_responded_at: None,
            solved_at: None,
            version: 1,
            sla_policy_id: None,
            assignee_user_id: None,
            status_changed_at: None,
        }
    }

    #[test]
    fn new_open_pending_and_on_hold_tickets_are_open() {
        let open: Vec<TicketStatus> = ALL_STATUSES.into_iter().filter(|status| status.is_open()).collect();
        assert_eq!(open, [TicketStatus::New, TicketStatus::Open, TicketStatus::Pending, TicketStatus::OnHold]);
    }

    #[test]
    fn every_ticket_transition_is_allowed_or_refused_as_the_lifecycle_table_says() {
        use TicketStatus::{Closed, New, OnHold, Open, Pending, Solved};
        let allowed = [
            (New, Open),
            (Open, Pending),
            (Open, OnHold),
            (Open, Solved),
            (Pending, Open),
            (Pending, Solved),
            (OnHold, Open),
            (OnHold, Solved),
            (Solved, Open),
            (Solved, Closed),
        ];
        for from in ALL_STATUSES {
            for to in ALL_STATUSES {
                let expected = allowed.contains(&(from, to));
                assert_eq!(from.can_become(to), expected, "{from:?} -> {to:?}");
                let guarded = atrium_kit::command::guard_transition(from, to);
                assert_eq!(guarded.is_ok(), expected, "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn closed_tickets_can_never_change_status() {
        assert!(ALL_STATUSES.into_iter().all(|next| !TicketStatus::Closed.can_become(next)));
    }

    #[test]
    fn solved_tickets_reopen_or_close_and_nothing_else() {
        let next: Vec<TicketStatus> =
            ALL_STATUSES.into_iter().filter(|next| TicketStatus::Solved.can_become(*next)).collect();
        assert_eq!(next, [TicketStatus::Open, TicketStatus::Closed]);
    }

    #[test]
    fn new_tickets_must_be_opened_before_anything_else() {
        let next: Vec<TicketStatus> =
            ALL_STATUSES.into_iter().filter(|next| TicketStatus::New.can_become(*next)).collect();
        assert_eq!(next, [TicketStatus::Open]);
        assert!(!TicketStatus::Pending.can_become(TicketStatus::OnHold));
    }

    #[test]
    fn open_urgent_high_counts_only_open_urgent_and_high_tickets() {
        let tickets = [
            ticket(TicketPriority::Urgent, TicketStatus::New),
            ticket(TicketPriority::High, TicketStatus::Pending),
            ticket(TicketPriority::High, TicketStatus::OnHold),
            ticket(TicketPriority::High, TicketStatus::Solved),
            ticket(TicketPriority::Urgent, TicketStatus::Closed),
            ticket(TicketPriority::Normal, TicketStatus::Open),
            ticket(TicketPriority::Low, TicketStatus::New),
        ];
        assert_eq!(open_urgent_high_count(&tickets), 3);
        assert_eq!(open_urgent_high_count(&[]), 0);
    }
}
