//! `disputes`: a customer's challenge of (part of) an invoice.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "disputes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub invoice_id: Uuid,
    pub opened_at: DateTimeUtc,
    pub reason: String,
    pub amount: Decimal,
    pub status: String,
    pub resolved_at: Option<DateTimeUtc>,
    pub version: i64,
    pub outcome: Option<String>,
    pub credited_amount: Option<Decimal>,
    pub credit_note_id: Option<Uuid>,
    pub note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
