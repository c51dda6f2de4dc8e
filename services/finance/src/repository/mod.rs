//! Finance repositories. Every function takes a [`TenantTransaction`] and filters by its
//! tenant explicitly, so isolation holds on SQLite too; PostgreSQL RLS is the backstop.
//! Partner and customer-portal callers are narrowed the same way (`atrium_kit::scopes`).
//! Lists come back ordered by id (UUIDv7, so creation order), which is the pagination order.

use atrium_kit::TenantTransaction;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};
use uuid::Uuid;

use crate::{
    domain::{
        self, BillingInterval, Contract, ContractLine, ContractStatus, ContractType, CustomerAccount, CustomerStatus,
        Invoice, InvoiceStatus, Segment, Subscription, SubscriptionStatus,
    },
    entities::{contract, contract_line, customer_account, invoice, subscription},
    error::FinanceError,
};

pub mod aging;
pub mod billing;
pub mod disputes;
pub mod engagement_financials;
pub mod ledger;
pub mod seed;
mod writes;

pub use writes::{
    ContractSignature, change_contract_status, contract_number_taken, insert_contract, insert_customer_account,
    mark_customer_active, next_contract_number, record_first_signature,
};

/// Filters of the root `customerAccounts` list.
#[derive(Debug, Clone, Copy, Default)]
pub struct CustomerAccountFilter {
    pub segment: Option<Segment>,
    pub status: Option<CustomerStatus>,
}

/// One page of customer accounts ordered by id, `limit` rows (callers ask for `first + 1`).
pub async fn customer_accounts_page(
    tx: &TenantTransaction,
    filter: CustomerAccountFilter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<CustomerAccount>, FinanceError> {
    let mut query = customer_account::Entity::find()
        .filter(customer_account::Column::TenantId.eq(tx.tenant_id()))
        .filter(customer_account_scope(tx));
    if let Some(segment) = filter.segment {
        query = query.filter(customer_account::Column::Segment.eq(segment.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(customer_account::Column::Status.eq(status.as_str()));
    }
    if let Some(after) = after {
        query = query.filter(customer_account::Column::Id.gt(after));
    }
    let rows = query.order_by_asc(customer_account::Column::Id).limit(limit).all(tx.connection()).await?;
    rows.into_iter().map(customer_account_from_row).collect()
}

pub async fn customer_accounts_by_ids(
    tx: &TenantTransaction,
    ids: &[Uuid],
) -> Result<Vec<CustomerAccount>, FinanceError> {
    let rows = customer_account::Entity::find()
        .filter(customer_account::Column::TenantId.eq(tx.tenant_id()))
        .filter(customer_account_scope(tx))
        .filter(customer_account::Column::Id.is_in(ids.iter().copied()))
        .all(tx.connection())
        .await?;
    rows.into_iter().map(customer_account_from_row).collect()
}

/// Filters of the root `invoices` list.
#[derive(Debug, Clone, Default)]
pub struct InvoiceFilter {
    /// Empty means every status.
    pub statuses: Vec<InvoiceStatus>,
    /// Only invoices overdue as of this date (docs/domain.md#receivables: open, balance > 0, due before).
    pub overdue_as_of: Option<NaiveDate>,
}

pub async fn invoices_page(
    tx: &TenantTransaction,
    filter: &InvoiceFilter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Invoice>, FinanceError> {
    let mut query =
        invoice::Entity::find().filter(invoice::Column::TenantId.eq(tx.tenant_id())).filter(invoice_scope(tx));
    if !filter.statuses.is_empty() {
        query = query.filter(invoice::Column::Status.is_in(filter.statuses.iter().map(|status| status.as_str())));
    }
    if let Some(today) = filter.overdue_as_of {
        // The SQL twin of `domain::is_overdue`.
        query = query
            .filter(invoice::Column::Status.is_in(InvoiceStatus::OPEN.iter().map(|status| status.as_str())))
            .filter(invoice::Column::BalanceDue.gt(Decimal::ZERO))
            .filter(invoice::Column::DueDate.lt(today));
    }
    if let Some(after) = after {
        query = query.filter(invoice::Column::Id.gt(after));
    }
    let rows = query.order_by_asc(invoice::Column::Id).limit(limit).all(tx.connection()).await?;
    rows.into_iter().map(invoice_from_row).collect()
}

pub async fn invoices_by_ids(tx: &TenantTransaction, ids: &[Uuid]) -> Result<Vec<Invoice>, FinanceError> {
    let rows = invoice::Entity::find()
        .filter(invoice::Column::TenantId.eq(tx.tenant_id()))
        .filter(invoice_scope(tx))
        .filter(invoice::Column::Id.is_in(ids.iter().copied()))
        .all(tx.connection())
        .await?;
    rows.into_iter().map(invoice_from_row).collect()
}

/// Every invoice of the given customers in one statement, ordered by id.
pub async fn invoices_of_customer_accounts(
    tx: &TenantTransaction,
    customer_account_ids: &[Uuid],
) -> Result<Vec<Invoice>, FinanceError> {
    let rows = invoice::Entity::find()
        .filter(invoice::Column::TenantId.eq(tx.tenant_id()))
        .filter(invoice_scope(tx))
        .filter(invoice::Column::CustomerAccountId.is_in(customer_account_ids.iter().copied()))
        .order_by_asc(invoice::Column::Id)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(invoice_from_row).collect()
}

pub async fn contracts_by_ids(tx: &TenantTransaction, ids: &[Uuid]) -> Result<Vec<Contract>, FinanceError> {
    let rows = contract::Entity::find()
        .filter(contract::Column::TenantId.eq(tx.tenant_id()))
        .filter(contract_scope(tx))
        .filter(contract::Column::Id.is_in(ids.iter().copied()))
        .all(tx.connection())
        .await?;
    rows.into_iter().map(contract_from_row).collect()
}

/// Every contract of the given customers in one statement, ordered by id.
pub async fn contracts_of_customer_accounts(
    tx: &TenantTransaction,
    customer_account_ids: &[Uuid],
) -> Result<Vec<Contract>, FinanceError> {
    let rows = contract::Entity::find()
        .filter(contract::Column::TenantId.eq(tx.tenant_id()))
        .filter(contract_scope(tx))
        .filter(contract::Column::CustomerAccountId.is_in(customer_account_ids.iter().copied()))
        .order_by_asc(contract::Column::Id)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(contract_from_row).collect()
}

/// Every line of the given contracts in one statement, ordered by id (entry order).
pub async fn lines_of_contracts(
    tx: &TenantTransaction,
    contract_ids: &[Uuid],
) -> Result<Vec<ContractLine>, FinanceError> {
    let rows = contract_line::Entity::find()
        .filter(contract_line::Column::TenantId.eq(tx.tenant_id()))
        .filter(contract_line_scope(tx))
        .filter(contract_line::Column::ContractId.is_in(contract_ids.iter().copied()))
        .order_by_asc(contract_line::Column::Id)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(contract_line_from_row).collect()
}

pub async fn subscriptions_by_ids(tx: &TenantTransaction, ids: &[Uuid]) -> Result<Vec<Subscription>, FinanceError> {
    let rows = subscription::Entity::find()
        .filter(subscription::Column::TenantId.eq(tx.tenant_id()))
        .filter(subscription_scope(tx))
        .filter(subscription::Column::Id.is_in(ids.iter().copied()))
        .all(tx.connection())
        .await?;
    rows.into_iter().map(subscription_from_row).collect()
}

/// Every subscription of the given customers in one statement, ordered by id.
pub async fn subscriptions_of_customer_accounts(
    tx: &TenantTransaction,
    customer_account_ids: &[Uuid],
) -> Result<Vec<Subscription>, FinanceError> {
    let rows = subscription::Entity::find()
        .filter(subscription::Column::TenantId.eq(tx.tenant_id()))
        .filter(subscription_scope(tx))
        .filter(subscription::Column::CustomerAccountId.is_in(customer_account_ids.iter().copied()))
        .order_by_asc(subscription::Column::Id)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(subscription_from_row).collect()
}

/// A customer account is its own customer scope.
pub(crate) fn customer_account_scope(tx: &TenantTransaction) -> Condition {
    tx.second_level_scope(customer_account::Column::ChannelPartnerId, customer_account::Column::Id)
}

pub(crate) fn invoice_scope(tx: &TenantTransaction) -> Condition {
    tx.second_level_scope(invoice::Column::ChannelPartnerId, invoice::Column::CustomerAccountId)
}

pub(crate) fn contract_scope(tx: &TenantTransaction) -> Condition {
    tx.second_level_scope(contract::Column::ChannelPartnerId, contract::Column::CustomerAccountId)
}

/// Contract lines store no partner or customer: a scoped caller sees the lines of the
/// contracts it sees (the `parent_scope` policy on PostgreSQL is the same rule).
pub(crate) fn contract_line_scope(tx: &TenantTransaction) -> Condition {
    if !tx.is_second_level_scoped() {
        return Condition::all();
    }
    let visible_contracts = contract::Entity::find()
        .select_only()
        .column(contract::Column::Id)
        .filter(contract::Column::TenantId.eq(tx.tenant_id()))
        .filter(contract_scope(tx))
        .into_query();
    Condition::all().add(contract_line::Column::ContractId.in_subquery(visible_contracts))
}

/// Subscriptions store no partner: a scoped caller sees those of the customer accounts it
/// sees (the `parent_scope` policy on PostgreSQL is the same rule).
fn subscription_scope(tx: &TenantTransaction) -> Condition {
    if !tx.is_second_level_scoped() {
        return Condition::all();
    }
    let visible_customers = customer_account::Entity::find()
        .select_only()
        .column(customer_account::Column::Id)
        .filter(customer_account::Column::TenantId.eq(tx.tenant_id()))
        .filter(customer_account_scope(tx))
        .into_query();
    Condition::all().add(subscription::Column::CustomerAccountId.in_subquery(visible_customers))
}

fn customer_account_from_row(row: customer_account::Model) -> Result<CustomerAccount, FinanceError> {
    Ok(CustomerAccount {
        id: row.id,
        channel_partner_id: row.channel_partner_id,
        name: row.name,
        legal_name: row.legal_name,
        segment: Segment::parse(&row.segment)?,
        erp_platform: row.erp_platform,
        data_region: row.data_region,
        billing_currency: row.billing_currency,
        payment_terms_days: row.payment_terms_days,
        named_users: row.named_users,
        status: CustomerStatus::parse(&row.status)?,
        customer_since: row.customer_since,
        csm_user_id: row.csm_user_id,
        account_owner_user_id: row.account_owner_user_id,
        version: row.version,
    })
}

fn contract_from_row(row: contract::Model) -> Result<Contract, FinanceError> {
    Ok(Contract {
        id: row.id,
        number: row.number,
        customer_account_id: row.customer_account_id,
        channel_partner_id: row.channel_partner_id,
        contract_type: ContractType::parse(&row.contract_type)?,
        status: ContractStatus::parse(&row.status)?,
        start_date: row.start_date,
        end_date: row.end_date,
        signed_at: row.signed_at,
        signer_name: row.signer_name,
        signer_email: row.signer_email,
        total_value: money(row.total_value),
        currency: row.currency,
        discount_pct: fraction(row.discount_pct),
        auto_renew: row.auto_renew,
        version: row.version,
    })
}

pub(crate) fn contract_line_from_row(row: contract_line::Model) -> Result<ContractLine, FinanceError> {
    let entitlement = match (row.entitlement_kind, row.entitlement_hours_per_period) {
        (Some(kind), Some(hours)) => Some(domain::EntitlementTerms { kind, hours_per_period: money(hours) }),
        _ => None,
    };
    Ok(ContractLine {
        id: row.id,
        contract_id: row.contract_id,
        service_package_id: row.service_package_id,
        description: row.description,
        quantity: row.quantity.normalize(),
        unit_price: money(row.unit_price),
        discount_pct: fraction(row.discount_pct),
        amount: money(row.amount),
        billing_model: domain::BillingModel::parse(&row.billing_model)?,
        billing_interval: row.billing_interval.as_deref().map(BillingInterval::parse).transpose()?,
        service_start: row.service_start,
        service_end: row.service_end,
        entitlement,
    })
}

fn subscription_from_row(row: subscription::Model) -> Result<Subscription, FinanceError> {
    Ok(Subscription {
        id: row.id,
        customer_account_id: row.customer_account_id,
        contract_id: row.contract_id,
        service_package_id: row.service_package_id,
        status: SubscriptionStatus::parse(&row.status)?,
        billing_interval: BillingInterval::parse(&row.billing_interval)?,
        start_date: row.start_date,
        renewal_date: row.renewal_date,
        mrr: money(row.mrr),
        currency: row.currency,
        cancel_at_period_end: row.cancel_at_period_end,
        cancelled_at: row.cancelled_at,
        cancel_reason: row.cancel_reason.as_deref().map(domain::CancelReason::parse).transpose()?,
        version: row.version,
    })
}

pub(crate) fn invoice_from_row(row: invoice::Model) -> Result<Invoice, FinanceError> {
    let derived = money(domain::balance_due(row.total, row.amount_paid, row.amount_credited));
    if derived != money(row.balance_due) {
        return Err(FinanceError::InconsistentBalance { number: row.number, stored: row.balance_due, derived });
    }
    Ok(Invoice {
        id: row.id,
        number: row.number,
        customer_account_id: row.customer_account_id,
        channel_partner_id: row.channel_partner_id,
        contract_id: row.contract_id,
        engagement_id: row.engagement_id,
        status: InvoiceStatus::parse(&row.status)?,
        issue_date: row.issue_date,
        due_date: row.due_date,
        currency: row.currency,
        total: money(row.total),
        amount_paid: money(row.amount_paid),
        amount_credited: money(row.amount_credited),
        balance_due: money(row.balance_due),
        disputed_amount: money(row.disputed_amount),
        subtotal: money(row.subtotal),
        tax_total: money(row.tax_total),
        paid_at: row.paid_at,
        issued_at: row.issued_at,
        version: row.version,
    })
}

/// A stored fraction (`numeric(7,4)`) without trailing zeros, the same on both backends.
fn fraction(value: Decimal) -> Decimal {
    value.round_dp(4).normalize()
}

/// Money at its stored scale of two decimals. SQLite hands decimals back through `f64`
/// and without trailing zeros; rounding and rescaling makes both backends serve the same
/// exact `12000.00`.
pub(crate) fn money(value: Decimal) -> Decimal {
    let mut value = value.round_dp(2);
    value.rescale(2);
    value
}
