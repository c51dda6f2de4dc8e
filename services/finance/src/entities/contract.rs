//! `contracts`: MSAs, SOWs, order forms, renewals and amendments.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contracts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: String,
    pub customer_account_id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    pub contract_type: String,
    pub status: String,
    pub start_date: Date,
    pub end_date: Date,
    pub signed_at: Option<DateTimeUtc>,
    pub total_value: Decimal,
    pub currency: String,
    pub auto_renew: bool,
    pub version: i64,
    pub signer_name: Option<String>,
    pub signer_email: Option<String>,
    pub discount_pct: Decimal,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
