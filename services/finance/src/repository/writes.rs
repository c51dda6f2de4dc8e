//! Finance writes, called only from the domain parts of commands (docs/domain.md#writes-the-command-pattern):
//! inserts of new customers and contracts, and contract status changes as conditional
//! updates on the version that was read, so a concurrent change is detected, never
//! overwritten.

use atrium_kit::TenantTransaction;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};

use crate::{
    domain::{Contract, ContractLine, ContractStatus, CustomerAccount, CustomerStatus},
    entities::{contract, contract_line, customer_account},
    error::FinanceError,
};

/// Prefix of generated contract numbers (`CTR-00001`, docs/domain.md#conventions).
const CONTRACT_NUMBER_PREFIX: &str = "CTR-";

pub async fn insert_customer_account(tx: &TenantTransaction, account: &CustomerAccount) -> Result<(), FinanceError> {
    let row = customer_account::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(account.id),
        channel_partner_id: Set(account.channel_partner_id),
        name: Set(account.name.clone()),
        legal_name: Set(account.legal_name.clone()),
        segment: Set(account.segment.as_str().to_owned()),
        erp_platform: Set(account.erp_platform.clone()),
        data_region: Set(account.data_region.clone()),
        billing_currency: Set(account.billing_currency.clone()),
        payment_terms_days: Set(account.payment_terms_days),
        named_users: Set(account.named_users),
        status: Set(account.status.as_str().to_owned()),
        customer_since: Set(account.customer_since),
        version: Set(account.version),
        csm_user_id: Set(account.csm_user_id.clone()),
        account_owner_user_id: Set(account.account_owner_user_id.clone()),
    };
    customer_account::Entity::insert(row).exec_without_returning(tx.connection()).await?;
    Ok(())
}

/// The next free generated number of the tenant: one past the highest `CTR-<n>`.
pub async fn next_contract_number(tx: &TenantTransaction) -> Result<String, FinanceError> {
    let numbers: Vec<String> = contract::Entity::find()
        .select_only()
        .column(contract::Column::Number)
        .filter(contract::Column::TenantId.eq(tx.tenant_id()))
        .filter(contract::Column::Number.starts_with(CONTRACT_NUMBER_PREFIX))
        .into_tuple()
        .all(tx.connection())
        .await?;
    let highest = numbers
        .iter()
        .filter_map(|number| number.strip_prefix(CONTRACT_NUMBER_PREFIX)?.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    Ok(format!("{CONTRACT_NUMBER_PREFIX}{:05}", highest + 1))
}

/// Whether the tenant has a contract numbered `number` (numbers are unique per tenant,
/// whoever may see the contract).
pub async fn contract_number_taken(tx: &TenantTransaction, number: &str) -> Result<bool, FinanceError> {
    let found = contract::Entity::find()
        .select_only()
        .column(contract::Column::Id)
        .filter(contract::Column::TenantId.eq(tx.tenant_id()))
        .filter(contract::Column::Number.eq(number))
        .into_tuple::<uuid::Uuid>()
        .one(tx.connection())
        .await?;
    Ok(found.is_some())
}

pub async fn insert_contract(
    tx: &TenantTransaction,
    contract: &Contract,
    lines: &[ContractLine],
) -> Result<(), FinanceError> {
    let row = contract::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(contract.id),
        number: Set(contract.number.clone()),
        customer_account_id: Set(contract.customer_account_id),
        channel_partner_id: Set(contract.channel_partner_id),
        contract_type: Set(contract.contract_type.as_str().to_owned()),
        status: Set(contract.status.as_str().to_owned()),
        start_date: Set(contract.start_date),
        end_date: Set(contract.end_date),
        signed_at: Set(contract.signed_at),
        total_value: Set(contract.total_value),
        currency: Set(contract.currency.clone()),
        auto_renew: Set(contract.auto_renew),
        version: Set(contract.version),
        signer_name: Set(contract.signer_name.clone()),
        signer_email: Set(contract.signer_email.clone()),
        discount_pct: Set(contract.discount_pct),
    };
    contract::Entity::insert(row).exec_without_returning(tx.connection()).await?;
    let line_rows = lines.iter().map(|line| contract_line::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(line.id),
        contract_id: Set(line.contract_id),
        service_package_id: Set(line.service_package_id),
        description: Set(line.description.clone()),
        quantity: Set(line.quantity),
        unit_price: Set(line.unit_price),
        discount_pct: Set(line.discount_pct),
        amount: Set(line.amount),
        billing_model: Set(line.billing_model.as_str().to_owned()),
        billing_interval: Set(line.billing_interval.map(|interval| interval.as_str().to_owned())),
        service_start: Set(line.service_start),
        service_end: Set(line.service_end),
        entitlement_kind: Set(line.entitlement.as_ref().map(|terms| terms.kind.clone())),
        entitlement_hours_per_period: Set(line.entitlement.as_ref().map(|terms| terms.hours_per_period)),
    });
    contract_line::Entity::insert_many(line_rows).exec_without_returning(tx.connection()).await?;
    Ok(())
}

/// Who signed, and when, recorded with the move to `signed`.
#[derive(Debug, Clone)]
pub struct ContractSignature {
    pub signed_at: DateTime<Utc>,
    pub signer_name: String,
    pub signer_email: String,
}

/// Moves `contract` (as read) to `next`, recording `signature` when given, and increments
/// its version; `FinanceError::Stale` when the row changed since it was read.
pub async fn change_contract_status(
    tx: &TenantTransaction,
    contract: &Contract,
    next: ContractStatus,
    signature: Option<ContractSignature>,
) -> Result<Contract, FinanceError> {
    let mut update = contract::Entity::update_many()
        .col_expr(contract::Column::Status, Expr::value(next.as_str()))
        .col_expr(contract::Column::Version, Expr::col(contract::Column::Version).add(1))
        .filter(contract::Column::TenantId.eq(tx.tenant_id()))
        .filter(contract::Column::Id.eq(contract.id))
        .filter(contract::Column::Version.eq(contract.version));
    let mut changed = contract.clone();
    changed.status = next;
    changed.version += 1;
    if let Some(signature) = signature {
        update = update
            .col_expr(contract::Column::SignedAt, Expr::value(signature.signed_at))
            .col_expr(contract::Column::SignerName, Expr::value(signature.signer_name.clone()))
            .col_expr(contract::Column::SignerEmail, Expr::value(signature.signer_email.clone()));
        changed.signed_at = Some(signature.signed_at);
        changed.signer_name = Some(signature.signer_name);
        changed.signer_email = Some(signature.signer_email);
    }
    // On PostgreSQL a concurrent writer's row lock makes this wait for its commit, then the
    // version is re-checked against the committed row: zero rows means we lost.
    let updated = update.exec(tx.connection()).await?;
    if updated.rows_affected != 1 {
        return Err(FinanceError::Stale { entity: "Contract", id: contract.id });
    }
    Ok(changed)
}

/// Records that a customer signed a contract on `signed_on`: `customer_since` is the date
/// of its first signature, so only an empty one is set. Whether the row changed.
pub async fn record_first_signature(
    tx: &TenantTransaction,
    customer_account_id: uuid::Uuid,
    signed_on: NaiveDate,
) -> Result<bool, FinanceError> {
    let updated = customer_account::Entity::update_many()
        .col_expr(customer_account::Column::CustomerSince, Expr::value(signed_on))
        .col_expr(customer_account::Column::Version, Expr::col(customer_account::Column::Version).add(1))
        .filter(customer_account::Column::TenantId.eq(tx.tenant_id()))
        .filter(customer_account::Column::Id.eq(customer_account_id))
        .filter(customer_account::Column::CustomerSince.is_null())
        .exec(tx.connection())
        .await?;
    Ok(updated.rows_affected == 1)
}

/// A customer with an active contract is `active` (a prospect's first contract, or a
/// former customer's return). Whether the row changed.
pub async fn mark_customer_active(
    tx: &TenantTransaction,
    customer_account_id: uuid::Uuid,
) -> Result<bool, FinanceError> {
    let active = CustomerStatus::Active.as_str();
    let updated = customer_account::Entity::update_many()
        .col_expr(customer_account::Column::Status, Expr::value(active))
        .col_expr(customer_account::Column::Version, Expr::col(customer_account::Column::Version).add(1))
        .filter(customer_account::Column::TenantId.eq(tx.tenant_id()))
        .filter(customer_account::Column::Id.eq(customer_account_id))
        .filter(customer_account::Column::Status.ne(active))
        .exec(tx.connection())
        .await?;
    Ok(updated.rows_affected == 1)
}
