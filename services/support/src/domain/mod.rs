//! Support domain types: tickets as plain Rust values with their state rules and derived
//! health inputs (no ORM, no GraphQL).

pub mod business_hours;
mod enums;
mod tickets;

use chrono::{DateTime, Utc};
pub use enums::{SupportTierLevel, TicketCategory, TicketChannel, TicketPriority, TicketStatus};
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
}
