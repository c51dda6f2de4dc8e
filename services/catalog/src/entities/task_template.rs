//! `task_templates`: the tasks of a blueprint version's milestones.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "task_templates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub blueprint_version_id: Uuid,
    pub milestone_template_id: Uuid,
    pub seq: i32,
    pub title: String,
    pub kind: String,
    pub required: bool,
    pub owner_role: String,
    pub customer_facing: bool,
    pub offset_days: i32,
    pub estimate_hours: Decimal,
    /// JSON array of seqs.
    pub depends_on_seq: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
