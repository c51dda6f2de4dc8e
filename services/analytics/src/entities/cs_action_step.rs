//! `cs_action_steps`: the steps of a CS action started from a playbook.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cs_action_steps")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub cs_action_id: Uuid,
    pub customer_account_id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    pub ordinal: i32,
    pub title: String,
    pub owner_role: String,
    pub due_date: Date,
    pub done: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
