//! Delivery domain: engagements, milestones and tasks as plain Rust values, their state
//! machines and the derived schedule values (no ORM, no GraphQL).

pub mod blueprint;
mod enums;
pub mod lifecycle;
pub mod metrics;
pub mod operations;
pub mod reporting;
pub mod schedule;
pub mod state_machines;

use chrono::{DateTime, NaiveDate, Utc};
pub use enums::{EngagementStatus, EngagementType, MilestonePhase, MilestoneStatus, Rag, TaskKind, TaskStatus};
use rust_decimal::Decimal;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Engagement {
    pub id: Uuid,
    pub number: String,
    pub name: String,
    pub customer_account_id: Uuid,
    pub blueprint_id: Option<Uuid>,
    pub engagement_type: EngagementType,
    pub status: EngagementStatus,
    pub paused_from_status: Option<EngagementStatus>,
    pub rag: Rag,
    pub start_date: Option<NaiveDate>,
    pub go_live_target_date: Option<NaiveDate>,
    pub go_live_forecast_date: Option<NaiveDate>,
    pub go_live_actual_date: Option<NaiveDate>,
    /// Fraction 0–1 (weighted milestones).
    pub percent_complete: Decimal,
    pub version: i64,
    pub contract_id: Option<Uuid>,
    pub contract_line_id: Option<Uuid>,
    /// ISO 4217 code of the contract's currency, when known.
    pub currency: Option<String>,
    /// Budgeted hours; approved change requests add their impact.
    pub budget_hours: Option<Decimal>,
    pub blueprint_version_id: Option<Uuid>,
    pub target_onboard_date: Option<NaiveDate>,
    pub delivery_manager_user_id: Option<String>,
    pub csm_user_id: Option<String>,
}

impl Engagement {
    pub fn go_live_variance_days(&self) -> Option<i64> {
        schedule::go_live_variance_days(self.go_live_target_date, self.go_live_forecast_date, self.go_live_actual_date)
    }
}

#[derive(Debug, Clone)]
pub struct Milestone {
    pub id: Uuid,
    pub engagement_id: Uuid,
    pub seq: i32,
    pub name: String,
    pub phase: MilestonePhase,
    pub status: MilestoneStatus,
    pub due_date: Option<NaiveDate>,
    pub forecast_date: Option<NaiveDate>,
    pub completed_at: Option<DateTime<Utc>>,
    pub is_go_live: bool,
    pub is_billing: bool,
    /// Fraction 0–1.
    pub percent_complete: Decimal,
    pub version: i64,
    pub requires_acceptance: bool,
    pub accepted_at: Option<DateTime<Utc>>,
    /// Share of the fixed fee billed at this milestone, a fraction (0.40 = 40 %).
    pub billing_pct: Option<Decimal>,
}

impl Milestone {
    pub fn late(&self, today: NaiveDate) -> bool {
        schedule::milestone_late(today, self.due_date, self.status)
    }

    pub fn at_risk(&self, today: NaiveDate) -> bool {
        schedule::milestone_at_risk(today, self.due_date, self.forecast_date, self.percent_complete, self.status)
    }
}

/// An onboarding checklist item or a work task of an engagement.
#[derive(Debug, Clone)]
pub struct Task {
    pub id: Uuid,
    pub engagement_id: Uuid,
    pub milestone_id: Option<Uuid>,
    pub seq: i32,
    pub title: String,
    pub kind: TaskKind,
    pub required: bool,
    pub owner_role: String,
    pub assignee_user_id: Option<String>,
    pub customer_facing: bool,
    pub status: TaskStatus,
    /// Days after the engagement's start the task falls due once activated.
    pub offset_days: Option<i32>,
    pub due_date: Option<NaiveDate>,
    pub completed_at: Option<DateTime<Utc>>,
    pub version: i64,
}
