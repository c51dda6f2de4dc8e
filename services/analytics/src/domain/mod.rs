//! Analytics domain: the customer-health model and its scoring rules
//! (docs/domain.md#health-score), and the signals analytics owns, as plain Rust values (no
//! ORM, no GraphQL).

pub mod health;

use chrono::NaiveDate;
use uuid::Uuid;

/// A stored version of a tenant's health model (the scoring rules themselves are
/// [`health::HealthModelDefinition`]).
#[derive(Debug, Clone)]
pub struct HealthModelVersion {
    pub id: Uuid,
    pub name: String,
    pub version: i32,
    pub status: health::ModelStatus,
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
