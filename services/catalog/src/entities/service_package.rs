//! `service_packages`: sellable offerings.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_packages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub category: String,
    pub billing_model: String,
    pub unit: String,
    pub list_price: Decimal,
    pub currency: String,
    pub is_recurring: bool,
    pub support_tier: String,
    pub blueprint_id: Option<Uuid>,
    pub status: String,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
