//! `billing_schedule_lines`: one amount of a billing schedule and what makes it due.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "billing_schedule_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub billing_schedule_id: Uuid,
    pub contract_id: Uuid,
    pub seq: i32,
    pub description: String,
    pub planned_date: Option<Date>,
    pub amount: Decimal,
    pub currency: String,
    pub trigger: String,
    pub milestone_id: Option<Uuid>,
    pub status: String,
    pub risk_reason: Option<String>,
    pub invoice_id: Option<Uuid>,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
