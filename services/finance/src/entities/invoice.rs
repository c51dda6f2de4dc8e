//! `invoices`: issued bills with their paid, credited, open and disputed amounts.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: String,
    pub customer_account_id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    pub contract_id: Option<Uuid>,
    pub subscription_id: Option<Uuid>,
    pub status: String,
    pub issue_date: Date,
    pub due_date: Date,
    pub currency: String,
    pub total: Decimal,
    pub amount_paid: Decimal,
    pub amount_credited: Decimal,
    pub balance_due: Decimal,
    pub disputed_amount: Decimal,
    pub paid_at: Option<DateTimeUtc>,
    pub version: i64,
    pub engagement_id: Option<Uuid>,
    pub subtotal: Decimal,
    pub tax_total: Decimal,
    pub issued_at: Option<DateTimeUtc>,
    pub voided_at: Option<DateTimeUtc>,
    pub written_off_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
