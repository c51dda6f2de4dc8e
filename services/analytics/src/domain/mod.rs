//! Analytics domain: the customer-health model and its scoring rules
//! (docs/domain.md#health-score), the signals analytics owns, the customer lifecycle and
//! the automation rules, as plain Rust values (no ORM, no GraphQL).

pub mod automation;
pub mod cs_action;
pub mod facts;
pub mod health;
pub mod health_model;
pub mod lifecycle;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// A stored version of a tenant's health model with what it scores by.
#[derive(Debug, Clone)]
pub struct HealthModelVersion {
    pub id: Uuid,
    pub name: String,
    pub version: i32,
    pub status: health::ModelStatus,
    /// What the version scores with (docs/domain.md#health-score).
    pub definition: health_model::ModelDefinition,
}

impl HealthModelVersion {
    /// The label snapshots and scores carry, e.g. `standard_v1@1`.
    pub fn label(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

/// Health inputs analytics owns for one customer account.
#[derive(Debug, Clone)]
pub struct CustomerSignals {
    pub customer_account_id: Uuid,
    /// The CSM's 1–5 pulse; `None` until one is entered.
    pub csm_pulse: Option<i32>,
    pub last_exec_touch_on: Option<NaiveDate>,
}

/// One entry of a customer's timeline.
#[derive(Debug, Clone)]
pub struct TimelineEntry {
    pub id: Uuid,
    pub customer_account_id: Uuid,
    pub event_type: lifecycle::LifecycleEventType,
    pub occurred_at: DateTime<Utc>,
    pub source_service: String,
    /// JSON text: what the source event said about the step.
    pub payload: String,
}

/// A customer's current lifecycle stage.
#[derive(Debug, Clone)]
pub struct CustomerLifecycle {
    pub customer_account_id: Uuid,
    pub stage: lifecycle::LifecycleStage,
    pub stage_entered_at: DateTime<Utc>,
}

/// One recorded run of an automation rule.
#[derive(Debug, Clone)]
pub struct AutomationRunRecord {
    pub id: Uuid,
    pub rule_id: Uuid,
    pub rule_version: i64,
    pub subject_type: String,
    pub subject_id: Uuid,
    pub triggered_by_event_id: Option<Uuid>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub outcome: automation::RunOutcome,
    /// JSON text: per action, what became of it (commands sent with their keys).
    pub actions_result: String,
    /// The run's idempotency key: `rule_id:subject_id:trigger_event_id` for events,
    /// `rule_id:subject_id:date` for schedules.
    pub run_key: Option<String>,
    /// Attempts so far (1 for a first run).
    pub attempts: i32,
    /// When a failed run is tried again; `None` once it succeeded or gave up.
    pub next_retry_at: Option<DateTime<Utc>>,
    /// JSON text: the trigger (event envelope or schedule tick) a retry re-evaluates.
    pub trigger_payload: Option<String>,
}
