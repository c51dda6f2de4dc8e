//! A published blueprint version as catalog announces it (`catalog.blueprint.version_published`,
//! docs/domain.md#events): what an engagement is instantiated from. Delivery keeps the
//! newest version of each blueprint as this JSON.

use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlueprintVersion {
    pub blueprint_id: Uuid,
    pub blueprint_version_id: Uuid,
    pub name: String,
    pub engagement_type: String,
    pub version: i64,
    pub target_onboard_days: i64,
    pub target_go_live_days: i64,
    #[serde(default)]
    pub hypercare_days: i64,
    /// Hours the blueprint budgets an engagement at (catalog's `budget_hours`).
    #[serde(default)]
    pub budget_hours: Option<Decimal>,
    #[serde(default)]
    pub milestones: Vec<MilestoneTemplate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MilestoneTemplate {
    pub milestone_template_id: Uuid,
    pub seq: i32,
    #[serde(default)]
    pub code: String,
    pub name: String,
    pub phase: String,
    pub offset_days: i64,
    #[serde(default)]
    pub is_go_live: bool,
    #[serde(default)]
    pub is_billing: bool,
    /// Percentage points of the fixed fee billed at this milestone (catalog's convention:
    /// 40 = 40 %); 0 or missing for milestones that bill nothing.
    #[serde(default)]
    pub billing_pct: Option<Decimal>,
    #[serde(default)]
    pub requires_customer_acceptance: bool,
    #[serde(default)]
    pub tasks: Vec<TaskTemplate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskTemplate {
    pub task_template_id: Uuid,
    pub seq: i32,
    pub title: String,
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    pub owner_role: String,
    #[serde(default)]
    pub customer_facing: bool,
    #[serde(default)]
    pub offset_days: i64,
}

impl MilestoneTemplate {
    /// The milestone's share of the fixed fee as a fraction (catalog's 40 → 0.40), only
    /// for billing milestones with a share.
    pub fn billing_fraction(&self) -> Option<Decimal> {
        let pct = self.billing_pct.filter(|pct| self.is_billing && !pct.is_zero())?;
        Some((pct / Decimal::ONE_HUNDRED).round_dp(4))
    }
}

/// `start + days`, the way every blueprint offset turns into a date.
pub fn offset_date(start: NaiveDate, days: i64) -> NaiveDate {
    start + Duration::days(days)
}
