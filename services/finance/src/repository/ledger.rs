//! Ledger repositories (docs/domain.md#subscriptions-and-mrr, #entitlements, #currencies):
//! entitlement grants and usages, subscriptions' items and lifecycle writes, the MRR
//! ledger, FX rates and the reporting currency. Every statement filters by the
//! transaction's tenant; scoped callers see rows of the customers they see. Writes on
//! subscriptions are conditional on the version read.

use atrium_kit::TenantTransaction;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    sea_query::{Expr, ExprTrait, SelectStatement},
};
use uuid::Uuid;

use super::{customer_account_scope, fraction, money, subscription_from_row};
use crate::{
    domain::{
        BillingInterval, CancelReason, EntitlementGrant, EntitlementStatus, EntitlementUsage, MrrMovementType,
        Subscription, fx::FxRate, mrr::MrrMovement, subscriptions::SubscriptionItem,
    },
    entities::{
        customer_account, entitlement_grant, entitlement_usage, fx_rate, mrr_movement, reporting_currency,
        subscription, subscription_item,
    },
    error::FinanceError,
};

/// Ids of the customer accounts a scoped caller sees; `None` for unscoped callers.
fn visible_customers(tx: &TenantTransaction) -> Option<SelectStatement> {
    tx.is_second_level_scoped().then(|| {
        customer_account::Entity::find()
            .select_only()
            .column(customer_account::Column::Id)
            .filter(customer_account::Column::TenantId.eq(tx.tenant_id()))
            .filter(customer_account_scope(tx))
            .into_query()
    })
}

/// Rows whose `column` names a customer the caller sees.
fn customer_owned(tx: &TenantTransaction, column: impl ColumnTrait) -> Condition {
    match visible_customers(tx) {
        Some(visible) => Condition::all().add(column.in_subquery(visible)),
        None => Condition::all(),
    }
}

// ---- entitlements ----

pub async fn insert_grants(tx: &TenantTransaction, grants: &[EntitlementGrant]) -> Result<(), FinanceError> {
    if grants.is_empty() {
        return Ok(());
    }
    let rows = grants.iter().map(|grant| entitlement_grant::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(grant.id),
        customer_account_id: Set(grant.customer_account_id),
        contract_id: Set(grant.contract_id),
        contract_line_id: Set(grant.contract_line_id),
        kind: Set(grant.kind.clone()),
        hours_per_period: Set(grant.hours_per_period),
        period: Set(grant.period.as_str().to_owned()),
        start_date: Set(grant.start_date),
        end_date: Set(grant.end_date),
        status: Set(grant.status.as_str().to_owned()),
    });
    entitlement_grant::Entity::insert_many(rows).exec_without_returning(tx.connection()).await?;
    Ok(())
}

/// Every grant of the given customers in one statement, ordered by id.
pub async fn grants_of_customers(
    tx: &TenantTransaction,
    customer_account_ids: &[Uuid],
) -> Result<Vec<EntitlementGrant>, FinanceError> {
    let rows = entitlement_grant::Entity::find()
        .filter(entitlement_grant::Column::TenantId.eq(tx.tenant_id()))
        .filter(customer_owned(tx, entitlement_grant::Column::CustomerAccountId))
        .filter(entitlement_grant::Column::CustomerAccountId.is_in(customer_account_ids.iter().copied()))
        .order_by_asc(entitlement_grant::Column::Id)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(grant_from_row).collect()
}

/// Every grant of the given contracts in one statement, ordered by id.
pub async fn grants_of_contracts(
    tx: &TenantTransaction,
    contract_ids: &[Uuid],
) -> Result<Vec<EntitlementGrant>, FinanceError> {
    let rows = entitlement_grant::Entity::find()
        .filter(entitlement_grant::Column::TenantId.eq(tx.tenant_id()))
        .filter(customer_owned(tx, entitlement_grant::Column::CustomerAccountId))
        .filter(entitlement_grant::Column::ContractId.is_in(contract_ids.iter().copied()))
        .order_by_asc(entitlement_grant::Column::Id)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(grant_from_row).collect()
}

/// Every usage of the given grants in one statement, ordered by id.
pub async fn usages_of_grants(
    tx: &TenantTransaction,
    grant_ids: &[Uuid],
) -> Result<Vec<EntitlementUsage>, FinanceError> {
    let rows = entitlement_usage::Entity::find()
        .filter(entitlement_usage::Column::TenantId.eq(tx.tenant_id()))
        .filter(customer_owned(tx, entitlement_usage::Column::CustomerAccountId))
        .filter(entitlement_usage::Column::GrantId.is_in(grant_ids.iter().copied()))
        .order_by_asc(entitlement_usage::Column::Id)
        .all(tx.connection())
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| EntitlementUsage {
            id: row.id,
            grant_id: row.grant_id,
            time_entry_id: row.time_entry_id,
            work_date: row.work_date,
            hours: money(row.hours),
        })
        .collect())
}

/// Whether the time entry has drawn from a grant already.
pub async fn usage_recorded(tx: &TenantTransaction, time_entry_id: Uuid) -> Result<bool, FinanceError> {
    let found = entitlement_usage::Entity::find()
        .select_only()
        .column(entitlement_usage::Column::Id)
        .filter(entitlement_usage::Column::TenantId.eq(tx.tenant_id()))
        .filter(entitlement_usage::Column::TimeEntryId.eq(time_entry_id))
        .into_tuple::<Uuid>()
        .one(tx.connection())
        .await?;
    Ok(found.is_some())
}

pub async fn insert_usage(
    tx: &TenantTransaction,
    usage: &EntitlementUsage,
    customer_account_id: Uuid,
    recorded_at: DateTime<Utc>,
) -> Result<(), FinanceError> {
    let row = entitlement_usage::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(usage.id),
        grant_id: Set(usage.grant_id),
        customer_account_id: Set(customer_account_id),
        time_entry_id: Set(usage.time_entry_id),
        work_date: Set(usage.work_date),
        hours: Set(usage.hours),
        recorded_at: Set(recorded_at),
    };
    entitlement_usage::Entity::insert(row).exec_without_returning(tx.connection()).await?;
    Ok(())
}

fn grant_from_row(row: entitlement_grant::Model) -> Result<EntitlementGrant, FinanceError> {
    Ok(EntitlementGrant {
        id: row.id,
        customer_account_id: row.customer_account_id,
        contract_id: row.contract_id,
        contract_line_id: row.contract_line_id,
        kind: row.kind,
        hours_per_period: money(row.hours_per_period),
        period: BillingInterval::parse(&row.period)?,
        start_date: row.start_date,
        end_date: row.end_date,
        status: EntitlementStatus::parse(&row.status)?,
    })
}

// ---- subscriptions ----

pub async fn insert_subscription(tx: &TenantTransaction, subscription: &Subscription) -> Result<(), FinanceError> {
    let row = subscription::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(subscription.id),
        customer_account_id: Set(subscription.customer_account_id),
        contract_id: Set(subscription.contract_id),
        service_package_id: Set(subscription.service_package_id),
        status: Set(subscription.status.as_str().to_owned()),
        billing_interval: Set(subscription.billing_interval.as_str().to_owned()),
        start_date: Set(subscription.start_date),
        renewal_date: Set(subscription.renewal_date),
        mrr: Set(subscription.mrr),
        currency: Set(subscription.currency.clone()),
        version: Set(subscription.version),
        cancel_at_period_end: Set(subscription.cancel_at_period_end),
        cancelled_at: Set(subscription.cancelled_at),
        cancel_reason: Set(subscription.cancel_reason.map(|reason| reason.as_str().to_owned())),
    };
    subscription::Entity::insert(row).exec_without_returning(tx.connection()).await?;
    Ok(())
}

/// The subscription of a contract, if its activation started one.
pub async fn subscription_of_contract(
    tx: &TenantTransaction,
    contract_id: Uuid,
) -> Result<Option<Subscription>, FinanceError> {
    let row = subscription::Entity::find()
        .filter(subscription::Column::TenantId.eq(tx.tenant_id()))
        .filter(subscription::Column::ContractId.eq(contract_id))
        .one(tx.connection())
        .await?;
    row.map(subscription_from_row).transpose()
}

/// Writes `changed` (status, MRR, cancellation fields) over the row read at
/// `read_version`, incrementing the version; `Stale` when it moved.
pub async fn update_subscription(
    tx: &TenantTransaction,
    changed: &Subscription,
    read_version: i64,
) -> Result<(), FinanceError> {
    let updated = subscription::Entity::update_many()
        .col_expr(subscription::Column::Status, Expr::value(changed.status.as_str()))
        .col_expr(subscription::Column::Mrr, Expr::value(changed.mrr))
        .col_expr(subscription::Column::CancelAtPeriodEnd, Expr::value(changed.cancel_at_period_end))
        .col_expr(subscription::Column::CancelledAt, Expr::value(changed.cancelled_at))
        .col_expr(subscription::Column::CancelReason, Expr::value(changed.cancel_reason.map(CancelReason::as_str)))
        .col_expr(subscription::Column::Version, Expr::col(subscription::Column::Version).add(1))
        .filter(subscription::Column::TenantId.eq(tx.tenant_id()))
        .filter(subscription::Column::Id.eq(changed.id))
        .filter(subscription::Column::Version.eq(read_version))
        .exec(tx.connection())
        .await?;
    if updated.rows_affected != 1 {
        return Err(FinanceError::Stale { entity: "Subscription", id: changed.id });
    }
    Ok(())
}

pub async fn insert_items(tx: &TenantTransaction, items: &[SubscriptionItem]) -> Result<(), FinanceError> {
    if items.is_empty() {
        return Ok(());
    }
    let rows = items.iter().map(|item| subscription_item::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(item.id),
        subscription_id: Set(item.subscription_id),
        contract_line_id: Set(item.contract_line_id),
        service_package_id: Set(item.service_package_id),
        description: Set(item.description.clone()),
        billing_interval: Set(item.billing_interval.as_str().to_owned()),
        quantity: Set(item.quantity),
        unit_price: Set(item.unit_price),
        discount_pct: Set(item.discount_pct),
        monthly_amount: Set(item.monthly_amount),
        effective_from: Set(item.effective_from),
        effective_to: Set(item.effective_to),
    });
    subscription_item::Entity::insert_many(rows).exec_without_returning(tx.connection()).await?;
    Ok(())
}

/// Closes an open item version on `effective_to`; `Stale` when another change closed it.
pub async fn close_item(tx: &TenantTransaction, item_id: Uuid, effective_to: NaiveDate) -> Result<(), FinanceError> {
    let updated = subscription_item::Entity::update_many()
        .col_expr(subscription_item::Column::EffectiveTo, Expr::value(effective_to))
        .filter(subscription_item::Column::TenantId.eq(tx.tenant_id()))
        .filter(subscription_item::Column::Id.eq(item_id))
        .filter(subscription_item::Column::EffectiveTo.is_null())
        .exec(tx.connection())
        .await?;
    if updated.rows_affected != 1 {
        return Err(FinanceError::Stale { entity: "SubscriptionItem", id: item_id });
    }
    Ok(())
}

/// Every item version of the given subscriptions in one statement, ordered by id.
pub async fn items_of_subscriptions(
    tx: &TenantTransaction,
    subscription_ids: &[Uuid],
) -> Result<Vec<SubscriptionItem>, FinanceError> {
    let mut query = subscription_item::Entity::find()
        .filter(subscription_item::Column::TenantId.eq(tx.tenant_id()))
        .filter(subscription_item::Column::SubscriptionId.is_in(subscription_ids.iter().copied()));
    if let Some(visible) = visible_customers(tx) {
        let visible_subscriptions = subscription::Entity::find()
            .select_only()
            .column(subscription::Column::Id)
            .filter(subscription::Column::TenantId.eq(tx.tenant_id()))
            .filter(subscription::Column::CustomerAccountId.in_subquery(visible))
            .into_query();
        query = query.filter(subscription_item::Column::SubscriptionId.in_subquery(visible_subscriptions));
    }
    let rows = query.order_by_asc(subscription_item::Column::Id).all(tx.connection()).await?;
    rows.into_iter()
        .map(|row| {
            Ok(SubscriptionItem {
                id: row.id,
                subscription_id: row.subscription_id,
                contract_line_id: row.contract_line_id,
                service_package_id: row.service_package_id,
                description: row.description,
                billing_interval: BillingInterval::parse(&row.billing_interval)?,
                quantity: row.quantity.normalize(),
                unit_price: money(row.unit_price),
                discount_pct: fraction(row.discount_pct),
                monthly_amount: money(row.monthly_amount),
                effective_from: row.effective_from,
                effective_to: row.effective_to,
            })
        })
        .collect()
}

// ---- the MRR ledger ----

pub async fn insert_movement(
    tx: &TenantTransaction,
    movement: &MrrMovement,
    recorded_at: DateTime<Utc>,
) -> Result<(), FinanceError> {
    let row = mrr_movement::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(movement.id),
        customer_account_id: Set(movement.customer_account_id),
        subscription_id: Set(movement.subscription_id),
        effective_date: Set(movement.effective_date),
        movement_type: Set(movement.movement_type.as_str().to_owned()),
        mrr_delta: Set(movement.mrr_delta),
        currency: Set(movement.currency.clone()),
        cause_ref: Set(movement.cause_ref.clone()),
        recorded_at: Set(recorded_at),
    };
    mrr_movement::Entity::insert(row).exec_without_returning(tx.connection()).await?;
    Ok(())
}

/// Filters of the `mrrMovements` list; dates inclusive.
#[derive(Debug, Clone, Default)]
pub struct MrrMovementFilter {
    pub customer_account_id: Option<Uuid>,
    pub subscription_id: Option<Uuid>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Movements matching `filter`, ordered by id (recording order), `limit` rows after `after`.
pub async fn movements(
    tx: &TenantTransaction,
    filter: &MrrMovementFilter,
    after: Option<Uuid>,
    limit: Option<u64>,
) -> Result<Vec<MrrMovement>, FinanceError> {
    let mut query = mrr_movement::Entity::find()
        .filter(mrr_movement::Column::TenantId.eq(tx.tenant_id()))
        .filter(customer_owned(tx, mrr_movement::Column::CustomerAccountId));
    if let Some(customer) = filter.customer_account_id {
        query = query.filter(mrr_movement::Column::CustomerAccountId.eq(customer));
    }
    if let Some(subscription) = filter.subscription_id {
        query = query.filter(mrr_movement::Column::SubscriptionId.eq(subscription));
    }
    if let Some(from) = filter.from {
        query = query.filter(mrr_movement::Column::EffectiveDate.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(mrr_movement::Column::EffectiveDate.lte(to));
    }
    if let Some(after) = after {
        query = query.filter(mrr_movement::Column::Id.gt(after));
    }
    let rows = query.order_by_asc(mrr_movement::Column::Id).limit(limit).all(tx.connection()).await?;
    rows.into_iter()
        .map(|row| {
            Ok(MrrMovement {
                id: row.id,
                customer_account_id: row.customer_account_id,
                subscription_id: row.subscription_id,
                effective_date: row.effective_date,
                movement_type: MrrMovementType::parse(&row.movement_type)?,
                mrr_delta: money(row.mrr_delta),
                currency: row.currency,
                cause_ref: row.cause_ref,
            })
        })
        .collect()
}

// ---- currencies ----

/// The tenant's reporting currency, when set.
pub async fn reporting_currency(tx: &TenantTransaction) -> Result<Option<String>, FinanceError> {
    let row = reporting_currency::Entity::find()
        .filter(reporting_currency::Column::TenantId.eq(tx.tenant_id()))
        .one(tx.connection())
        .await?;
    Ok(row.map(|row| row.currency))
}

/// Every rate into `to_currency` dated on or before `date`.
pub async fn rates_into(
    tx: &TenantTransaction,
    to_currency: &str,
    date: NaiveDate,
) -> Result<Vec<FxRate>, FinanceError> {
    let rows = fx_rate::Entity::find()
        .filter(fx_rate::Column::TenantId.eq(tx.tenant_id()))
        .filter(fx_rate::Column::ToCurrency.eq(to_currency))
        .filter(fx_rate::Column::RateDate.lte(date))
        .order_by_asc(fx_rate::Column::RateDate)
        .all(tx.connection())
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| FxRate {
            from_currency: row.from_currency,
            to_currency: row.to_currency,
            rate_date: row.rate_date,
            rate: row.rate.normalize(),
        })
        .collect())
}

/// Whether a rate for the pair and day exists already.
pub async fn rate_recorded(tx: &TenantTransaction, rate: &FxRate) -> Result<bool, FinanceError> {
    let found = fx_rate::Entity::find()
        .select_only()
        .column(fx_rate::Column::Id)
        .filter(fx_rate::Column::TenantId.eq(tx.tenant_id()))
        .filter(fx_rate::Column::FromCurrency.eq(rate.from_currency.as_str()))
        .filter(fx_rate::Column::ToCurrency.eq(rate.to_currency.as_str()))
        .filter(fx_rate::Column::RateDate.eq(rate.rate_date))
        .into_tuple::<Uuid>()
        .one(tx.connection())
        .await?;
    Ok(found.is_some())
}

pub async fn insert_rate(tx: &TenantTransaction, id: Uuid, rate: &FxRate) -> Result<(), FinanceError> {
    let row = fx_rate::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(id),
        from_currency: Set(rate.from_currency.clone()),
        to_currency: Set(rate.to_currency.clone()),
        rate_date: Set(rate.rate_date),
        rate: Set(rate.rate),
    };
    fx_rate::Entity::insert(row).exec_without_returning(tx.connection()).await?;
    Ok(())
}
