//! `milestone_templates`: the milestones a blueprint version plans.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "milestone_templates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub blueprint_version_id: Uuid,
    pub seq: i32,
    pub code: String,
    pub name: String,
    pub phase: String,
    pub offset_days: i32,
    pub weight: Decimal,
    pub is_go_live: bool,
    pub is_billing: bool,
    pub billing_pct: Decimal,
    pub requires_customer_acceptance: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
