//! `time_entries`: hours a staff member logged against an engagement on one day.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "time_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub staff_member_id: Uuid,
    pub engagement_id: Uuid,
    pub work_date: Date,
    pub hours: Decimal,
    pub billable: bool,
    pub category: String,
    pub note: Option<String>,
    pub status: String,
    pub cost_rate: Decimal,
    pub bill_rate: Decimal,
    pub currency: String,
    pub rejection_reason: Option<String>,
    pub submitted_at: Option<DateTimeUtc>,
    pub decided_at: Option<DateTimeUtc>,
    pub decided_by: Option<String>,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
