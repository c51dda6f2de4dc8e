//! `customer_signals`: health inputs analytics owns for one customer account.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_signals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_account_id: Uuid,
    /// The customer's channel partner (finance's `CustomerAccount.channelPartnerId`); null
    /// for direct customers.
    pub channel_partner_id: Option<Uuid>,
    pub csm_pulse: Option<i32>,
    pub last_exec_touch_on: Option<Date>,
    pub csm_pulse_comment: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
