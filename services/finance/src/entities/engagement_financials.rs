//! `engagement_financials`: what finance knows of each engagement's revenue and cost.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "engagement_financials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub engagement_id: Uuid,
    pub customer_account_id: Uuid,
    pub currency: String,
    pub contract_revenue: Decimal,
    pub budget_hours: Decimal,
    pub planned_cost_rate: Option<Decimal>,
    pub change_hours: Decimal,
    pub change_price: Decimal,
    pub actual_hours: Decimal,
    pub actual_cost: Decimal,
    pub closed: bool,
    pub version: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
