//! `catalog_blueprint_versions`: the newest published version of each catalog blueprint,
//! its templates kept as the event's JSON, fed by `catalog.blueprint.version_published`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "catalog_blueprint_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub blueprint_id: Uuid,
    pub blueprint_version_id: Uuid,
    pub version: i64,
    pub payload: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
