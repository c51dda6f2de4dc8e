//! `sla_clocks`: one per ticket and metric, with its accrued time and once-only flags.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sla_clocks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub metric: String,
    pub status: String,
    pub target_minutes: i64,
    pub business_hours: bool,
    pub started_at: DateTimeUtc,
    pub running_since: Option<DateTimeUtc>,
    pub elapsed_seconds: i64,
    pub due_at: Option<DateTimeUtc>,
    pub fulfilled_at: Option<DateTimeUtc>,
    pub breached_at: Option<DateTimeUtc>,
    pub warned_at: Option<DateTimeUtc>,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
