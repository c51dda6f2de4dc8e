//! `staff_members`: the provider's people who deliver engagements, with their rates and
//! weekly capacity.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Option<String>,
    pub name: String,
    pub role: String,
    pub cost_rate: Decimal,
    pub bill_rate: Decimal,
    pub rate_currency: String,
    pub weekly_capacity_hours: Decimal,
    pub time_zone: String,
    pub active: bool,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
