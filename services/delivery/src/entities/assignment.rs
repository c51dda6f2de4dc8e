//! `assignments`: a staff member's share of time on an engagement (or one of its tasks).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assignments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub staff_member_id: Uuid,
    pub engagement_id: Uuid,
    pub task_id: Option<Uuid>,
    pub allocation_pct: Decimal,
    pub from_date: Date,
    pub to_date: Option<Date>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
