//! `blueprint_versions`: published, immutable versions of a blueprint.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "blueprint_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub blueprint_id: Uuid,
    pub version: i32,
    pub target_onboard_days: i32,
    pub target_go_live_days: i32,
    pub hypercare_days: i32,
    pub budget_hours: Decimal,
    pub published_at: DateTimeUtc,
    pub approval_status: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
