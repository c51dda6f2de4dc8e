//! `health_snapshots`: a customer's health as computed on a day under a model version.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "health_snapshots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_account_id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    pub model_version: String,
    pub profile: String,
    pub as_of: Date,
    pub score: Option<i32>,
    pub band: String,
    pub trend: String,
    pub previous_score: Option<i32>,
    pub override_reason: Option<String>,
    pub coverage: f64,
    pub computed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
