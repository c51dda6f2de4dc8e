//! sea-orm entities of the finance database. Crate-private: only repositories use them.

pub(crate) mod applied_command_key;
pub(crate) mod billing_schedule;
pub(crate) mod billing_schedule_line;
pub(crate) mod contract;
pub(crate) mod contract_line;
pub(crate) mod credit_note;
pub(crate) mod customer_account;
pub(crate) mod dispute;
pub(crate) mod engagement_financials;
pub(crate) mod entitlement_grant;
pub(crate) mod entitlement_usage;
pub(crate) mod fx_rate;
pub(crate) mod invoice;
pub(crate) mod invoice_aging_mark;
pub(crate) mod invoice_line;
pub(crate) mod mrr_movement;
pub(crate) mod payment;
pub(crate) mod payment_allocation;
pub(crate) mod reporting_currency;
pub(crate) mod subscription;
pub(crate) mod subscription_item;
