//! `subscriptions`: recurring services (managed support, retainers, hosting).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscriptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_account_id: Uuid,
    pub contract_id: Uuid,
    pub service_package_id: Option<Uuid>,
    pub status: String,
    pub billing_interval: String,
    pub start_date: Date,
    pub renewal_date: Option<Date>,
    pub mrr: Decimal,
    pub currency: String,
    pub version: i64,
    pub cancel_at_period_end: bool,
    pub cancelled_at: Option<DateTimeUtc>,
    pub cancel_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
