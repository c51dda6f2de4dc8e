//! `cs_actions`: customer-success actions (calls to action) for one customer.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cs_actions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_account_id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    pub playbook_id: Option<Uuid>,
    #[sea_orm(column_name = "type")]
    pub action_type: String,
    pub priority: String,
    pub owner_role: String,
    pub due_date: Date,
    pub status: String,
    pub reason: String,
    pub source_rule_id: Option<Uuid>,
    pub idempotency_key: Option<String>,
    pub created_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
