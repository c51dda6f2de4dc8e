//! `tasks`: onboarding checklist items and work tasks of an engagement.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub engagement_id: Uuid,
    pub milestone_id: Option<Uuid>,
    pub task_template_id: Option<Uuid>,
    pub seq: i32,
    pub title: String,
    pub kind: String,
    pub required: bool,
    pub owner_role: String,
    pub assignee_user_id: Option<String>,
    pub customer_facing: bool,
    pub status: String,
    pub offset_days: Option<i32>,
    pub due_date: Option<Date>,
    pub completed_at: Option<DateTimeUtc>,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
