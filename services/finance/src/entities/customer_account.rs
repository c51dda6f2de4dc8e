//! `customer_accounts`: the customers a tenant serves (system of record).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    pub name: String,
    pub legal_name: Option<String>,
    pub segment: String,
    pub erp_platform: String,
    pub data_region: String,
    pub billing_currency: String,
    pub payment_terms_days: i32,
    pub named_users: i32,
    pub status: String,
    pub customer_since: Option<Date>,
    pub version: i64,
    pub csm_user_id: Option<String>,
    pub account_owner_user_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
