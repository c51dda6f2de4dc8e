//! Support domain types: tickets as plain Rust values with their state rules and derived
//! health inputs (no ORM, no GraphQL).

pub mod business_hours;
mod enums;
pub mod escalations;
pub mod sla;
mod tickets;

use chrono::{DateTime, Utc};
pub use enums::{SupportTierLevel, TicketCategory, TicketChannel, TicketPriority, TicketStatus};
pub use sla::{SlaClock, SlaClockStatus, SlaMetric, SlaPolicy, SlaTarget};
pub use tickets::{is_open_urgent_high, open_urgent_high_count};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Ticket {
    pub id: Uuid,
    pub number: String,
    pub customer_account_id: Uuid,
    pub subject: String,
    pub channel: TicketChannel,
    pub category: TicketCategory,
    pub priority: TicketPriority,
    pub status: TicketStatus,
    pub tier: SupportTierLevel,
    pub created_at: DateTime<Utc>,
    pub first_responded_at: Option<DateTime<Utc>>,
    pub solved_at: Option<DateTime<Utc>>,
    /// Incremented by every change; the version domain events carry.
    pub version: i64,
    /// The policy whose targets the ticket's clocks follow (none on tickets from before
    /// SLA policies).
    pub sla_policy_id: Option<Uuid>,
    pub assignee_user_id: Option<String>,
    /// When the status last changed (auto-solve counts pending days from it).
    pub status_changed_at: Option<DateTime<Utc>>,
}

/// One escalation of a ticket to a level.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Escalation {
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub level: i32,
    pub reason: String,
    pub status: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// 1 on creation, +1 per change; acknowledging and resolving are conditional on it.
    #[serde(default = "first_version")]
    pub version: i64,
    #[serde(default)]
    pub acknowledged_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub acknowledged_by: Option<String>,
    #[serde(default)]
    pub resolved_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub resolved_by: Option<String>,
    #[serde(default)]
    pub resolution_note: Option<String>,
    /// The idempotency key of the cross-service command that raised it, if one did.
    #[serde(default)]
    pub command_key: Option<String>,
}

fn first_version() -> i64 {
    1
}

impl Escalation {
    /// A new `open` escalation of `ticket_id` to `level`.
    pub fn open(
        ticket_id: Uuid,
        level: i32,
        reason: escalations::EscalationReason,
        created_by: String,
        created_at: DateTime<Utc>,
    ) -> Self {
        Escalation {
            id: Uuid::now_v7(),
            ticket_id,
            level,
            reason: reason.as_str().to_owned(),
            status: escalations::EscalationStatus::Open.as_str().to_owned(),
            created_by,
            created_at,
            version: 1,
            acknowledged_at: None,
            acknowledged_by: None,
            resolved_at: None,
            resolved_by: None,
            resolution_note: None,
            command_key: None,
        }
    }
}

/// A requester's satisfaction with a solved ticket.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CsatResponse {
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub score: i32,
    pub comment: Option<String>,
    pub received_at: DateTime<Utc>,
}

/// A reply to the requester (`public`) or an internal note on a ticket.
#[derive(Debug, Clone)]
pub struct TicketComment {
    pub id: Uuid,
    pub ticket_id: Uuid,
    /// Identity-provider subject of the author.
    pub author_subject: String,
    pub public: bool,
    pub body: String,
    pub created_at: DateTime<Utc>,
}
