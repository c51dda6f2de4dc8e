//! `engagements`: projects delivering contract lines to a customer account.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "engagements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: String,
    pub name: String,
    pub customer_account_id: Uuid,
    /// The customer's channel partner (finance's `CustomerAccount.channelPartnerId`); null
    /// for direct customers.
    pub channel_partner_id: Option<Uuid>,
    pub blueprint_id: Option<Uuid>,
    pub engagement_type: String,
    pub status: String,
    pub paused_from_status: Option<String>,
    pub rag: String,
    pub start_date: Option<Date>,
    pub go_live_target_date: Option<Date>,
    pub go_live_forecast_date: Option<Date>,
    pub go_live_actual_date: Option<Date>,
    pub percent_complete: Decimal,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
