//! `milestones`: an engagement's ordered checkpoints (go-live and billing ones flagged).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "milestones")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub engagement_id: Uuid,
    pub seq: i32,
    pub name: String,
    pub phase: String,
    pub status: String,
    pub due_date: Option<Date>,
    pub forecast_date: Option<Date>,
    pub completed_at: Option<DateTimeUtc>,
    pub is_go_live: bool,
    pub is_billing: bool,
    pub percent_complete: Decimal,
    pub version: i64,
    pub milestone_template_id: Option<Uuid>,
    pub requires_acceptance: bool,
    pub accepted_at: Option<DateTimeUtc>,
    /// Share of the fixed fee billed at this milestone, a fraction (0.40 = 40 %).
    pub billing_pct: Option<Decimal>,
    /// When `delivery.milestone.became_late` was emitted for it.
    pub late_emitted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
