//! `blueprints`: delivery playbooks. The targets and milestone count are those of the
//! current version, copied when it is published so blueprint lists need no join.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "blueprints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub engagement_type: String,
    pub status: String,
    pub target_onboard_days: i32,
    pub target_go_live_days: i32,
    pub milestone_count: i32,
    pub current_version_id: Option<Uuid>,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
