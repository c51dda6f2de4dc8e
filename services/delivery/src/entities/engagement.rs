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
    pub version: i64,
    pub contract_id: Option<Uuid>,
    pub contract_line_id: Option<Uuid>,
    pub service_package_id: Option<Uuid>,
    pub blueprint_version_id: Option<Uuid>,
    pub target_onboard_date: Option<Date>,
    pub onboarding_completed_at: Option<DateTimeUtc>,
    pub delivery_manager_user_id: Option<String>,
    pub csm_user_id: Option<String>,
    pub hold_reason: Option<String>,
    /// The automation rule that created the engagement (`A1`), if any.
    pub source_rule: Option<String>,
    /// Idempotency key of the cross-service command that created it.
    pub creation_key: Option<String>,
    /// ISO 4217 currency of the contract the engagement delivers, when known.
    pub currency: Option<String>,
    /// Hours the engagement is budgeted at; approved change requests add their impact.
    pub budget_hours: Option<Decimal>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
