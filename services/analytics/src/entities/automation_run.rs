//! `automation_runs`: one row per rule run, with its outcome and what its actions did.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "automation_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub rule_id: Uuid,
    pub rule_version: i64,
    pub subject_type: String,
    pub subject_id: Uuid,
    pub triggered_by_event_id: Option<Uuid>,
    pub started_at: DateTimeUtc,
    pub finished_at: DateTimeUtc,
    pub outcome: String,
    pub actions_result: String,
    /// `rule_id:subject_id:trigger event id` or `rule_id:subject_id:date` (scheduled).
    pub run_key: Option<String>,
    pub attempts: i32,
    /// Set while a failed run still has retries left.
    pub next_retry_at: Option<DateTimeUtc>,
    /// JSON text: the trigger a retry re-evaluates.
    pub trigger_payload: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
