//! `health_measure_scores`: one measure of one health snapshot, with the comment of a
//! manual entry.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "health_measure_scores")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub snapshot_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub measure_code: String,
    pub customer_account_id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    pub measure_group: String,
    pub raw_value: Option<f64>,
    pub score: Option<i32>,
    pub weight: f64,
    pub comment: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
