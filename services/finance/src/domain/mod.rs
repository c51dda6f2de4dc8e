//! Finance domain types: customer accounts, contracts, subscriptions and invoices as plain
//! Rust values with their invariants and derived values (no ORM, no GraphQL).

pub mod aging;
pub mod billing;
mod clock;
mod contracts;
pub mod disputes;
pub mod engagement_financials;
pub mod entitlements;
mod enums;
pub mod fx;
pub mod invoicing;
pub mod mrr;
pub mod payments;
mod receivables;
pub mod subscriptions;

use chrono::{DateTime, NaiveDate, Utc};
pub use clock::Clock;
pub use contracts::{
    ContractLineDraft, LineTermsDraft, PricedLine, line_amount, may_activate, price_contract, round_money,
};
pub use entitlements::{EntitlementGrant, EntitlementStatus, EntitlementTerms, EntitlementUsage};
pub use enums::{
    BillingInterval, BillingModel, CancelReason, ContractStatus, ContractType, CustomerStatus, DisputeReason,
    DisputeStatus, InvoiceStatus, MrrMovementType, Segment, SubscriptionStatus,
};
pub use receivables::{
    AgingBucket, AgingEdges, aging_bucket, ar_over_60_share, balance_due, days_past_due, is_overdue, open_balance,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CustomerAccount {
    pub id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    pub name: String,
    pub legal_name: Option<String>,
    pub segment: Segment,
    pub erp_platform: String,
    pub data_region: String,
    pub billing_currency: String,
    pub payment_terms_days: i32,
    pub named_users: i32,
    pub status: CustomerStatus,
    pub customer_since: Option<NaiveDate>,
    pub csm_user_id: Option<String>,
    pub account_owner_user_id: Option<String>,
    /// Incremented by every change; conditional updates and domain events carry it.
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Contract {
    pub id: Uuid,
    pub number: String,
    pub customer_account_id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    pub contract_type: ContractType,
    pub status: ContractStatus,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub signed_at: Option<DateTime<Utc>>,
    pub signer_name: Option<String>,
    pub signer_email: Option<String>,
    pub total_value: Decimal,
    pub currency: String,
    /// A fraction (0.1 = 10 % off the whole contract).
    pub discount_pct: Decimal,
    pub auto_renew: bool,
    /// Incremented by every change; conditional updates and domain events carry it.
    pub version: i64,
}

/// One thing a contract sells: `amount` = quantity × unit price × (1 − discount), to the cent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractLine {
    pub id: Uuid,
    pub contract_id: Uuid,
    pub service_package_id: Option<Uuid>,
    pub description: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub discount_pct: Decimal,
    pub amount: Decimal,
    pub billing_model: BillingModel,
    /// Set for recurring lines: the interval billed and the entitlement period.
    pub billing_interval: Option<BillingInterval>,
    /// `None` only on lines stored before service dates existed (the contract's dates apply).
    pub service_start: Option<NaiveDate>,
    pub service_end: Option<NaiveDate>,
    pub entitlement: Option<EntitlementTerms>,
}

/// A contract with all its lines, as a command answers it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContractWithLines {
    pub contract: Contract,
    pub lines: Vec<ContractLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subscription {
    pub id: Uuid,
    pub customer_account_id: Uuid,
    pub contract_id: Uuid,
    pub service_package_id: Option<Uuid>,
    pub status: SubscriptionStatus,
    pub billing_interval: BillingInterval,
    pub start_date: NaiveDate,
    pub renewal_date: Option<NaiveDate>,
    /// Σ monthly amounts of the open item versions (kept with every item change).
    pub mrr: Decimal,
    pub currency: String,
    pub cancel_at_period_end: bool,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<CancelReason>,
    /// Incremented by every change; conditional updates and domain events carry it.
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    pub id: Uuid,
    pub number: String,
    pub customer_account_id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    pub contract_id: Option<Uuid>,
    pub engagement_id: Option<Uuid>,
    pub status: InvoiceStatus,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub currency: String,
    pub total: Decimal,
    pub amount_paid: Decimal,
    pub amount_credited: Decimal,
    pub balance_due: Decimal,
    pub disputed_amount: Decimal,
    pub subtotal: Decimal,
    pub tax_total: Decimal,
    pub paid_at: Option<DateTime<Utc>>,
    pub issued_at: Option<DateTime<Utc>>,
    /// Incremented by every change; conditional updates and domain events carry it.
    pub version: i64,
}

/// What an invoice bills, line by line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceLine {
    pub id: Uuid,
    pub invoice_id: Uuid,
    pub contract_line_id: Option<Uuid>,
    pub billing_schedule_line_id: Option<Uuid>,
    pub description: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub amount: Decimal,
    /// `milestone`, `subscription`, `time_and_materials`, `expense` or `fixed`.
    pub source_type: String,
}

/// An amount credited against an invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditNote {
    pub id: Uuid,
    pub invoice_id: Uuid,
    pub number: String,
    pub amount: Decimal,
    pub currency: String,
    pub reason: String,
    pub issued_at: DateTime<Utc>,
}

impl Invoice {
    pub fn days_past_due(&self, today: NaiveDate) -> i64 {
        days_past_due(self.status, self.balance_due, self.due_date, today)
    }

    pub fn aging_bucket(&self, today: NaiveDate) -> AgingBucket {
        aging_bucket(self.days_past_due(today), AgingEdges::default())
    }
}
