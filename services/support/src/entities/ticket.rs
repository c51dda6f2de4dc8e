//! `tickets`: customer requests and incidents with their SLA-relevant timestamps.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tickets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: String,
    pub customer_account_id: Uuid,
    pub subscription_id: Option<Uuid>,
    pub channel_partner_id: Option<Uuid>,
    pub requester_name: String,
    pub requester_email: String,
    pub subject: String,
    pub channel: String,
    pub category: String,
    pub priority: String,
    pub status: String,
    pub tier: String,
    pub created_at: DateTimeUtc,
    pub first_responded_at: Option<DateTimeUtc>,
    pub solved_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub reopen_count: i32,
    pub version: i64,
    pub sla_policy_id: Option<Uuid>,
    pub assignee_user_id: Option<String>,
    pub status_changed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
