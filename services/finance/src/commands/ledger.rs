//! The ledger's commands (docs/domain.md#subscriptions-and-mrr, #entitlements,
//! #currencies): entitlement grants at signature, the subscription a contract's activation
//! starts, item changes and cancellations with their MRR movements, drawdown of approved
//! time, and FX rates. Each runs inside the kit's command transaction; what it writes,
//! the audit entry and the events commit together.

use atrium_kit::{
    TenantTransaction,
    changes::ChangeKind,
    command::{CommandError, Outcome, guard_transition},
    events::{DomainEvent, Subject},
};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

use super::{internal, record_changed};
use crate::{
    domain::{
        BillingModel, CancelReason, Clock, Contract, ContractLine, EntitlementGrant, EntitlementStatus,
        EntitlementUsage, MrrMovementType, Subscription, SubscriptionStatus, entitlements,
        fx::{self, FxRate},
        mrr::{self, MrrMovement},
        round_money,
        subscriptions::{SubscriptionItem, monthly_amount},
    },
    error::FinanceError,
    repository::{self, ledger},
};

/// Roles that change subscriptions and record FX rates.
pub const LEDGER_EDITORS: &[&str] = &["tenant_admin", "finance"];
/// The role of event-driven drawdowns.
pub const DRAWDOWN_ROLES: &[&str] = &[atrium_kit::tenant::AUTOMATION_ROLE];

/// One grant per line of `contract` with entitlement terms, active over the line's
/// service dates; called in the signing command.
pub async fn grant_entitlements(
    tx: &TenantTransaction,
    contract: &Contract,
    lines: &[ContractLine],
) -> Result<Vec<EntitlementGrant>, CommandError> {
    let grants: Vec<EntitlementGrant> = lines
        .iter()
        .filter_map(|line| {
            let terms = line.entitlement.as_ref()?;
            Some(EntitlementGrant {
                id: Uuid::now_v7(),
                customer_account_id: contract.customer_account_id,
                contract_id: contract.id,
                contract_line_id: line.id,
                kind: terms.kind.clone(),
                hours_per_period: terms.hours_per_period,
                period: line.billing_interval?,
                start_date: line.service_start.unwrap_or(contract.start_date),
                end_date: line.service_end.unwrap_or(contract.end_date),
                status: EntitlementStatus::Active,
            })
        })
        .collect();
    ledger::insert_grants(tx, &grants).await.map_err(internal)?;
    Ok(grants)
}

/// The customer's MRR now (Σ of its ledger) and whether it ever paid.
async fn customer_ledger_position(
    tx: &TenantTransaction,
    customer_account_id: Uuid,
) -> Result<(Decimal, bool), CommandError> {
    let filter = ledger::MrrMovementFilter { customer_account_id: Some(customer_account_id), ..Default::default() };
    let movements = ledger::movements(tx, &filter, None, None).await.map_err(internal)?;
    let mrr: Decimal = movements.iter().map(|movement| movement.mrr_delta).sum();
    Ok((mrr, !movements.is_empty()))
}

fn subscription_subject(subscription: &Subscription) -> Subject {
    Subject { entity_type: "Subscription".to_owned(), id: subscription.id, version: subscription.version }
}

/// `finance.subscription.<what>` about `subscription` after the change.
fn subscription_event(tx: &TenantTransaction, what: &str, subscription: &Subscription) -> DomainEvent {
    DomainEvent::new(tx.context(), &format!("finance.subscription.{what}"), subscription_subject(subscription))
        .with_ref("customer_account_id", subscription.customer_account_id)
        .with_ref("contract_id", subscription.contract_id)
        .with_ref("subscription_id", subscription.id)
        .with_data(json!({
            "status": subscription.status.as_str(),
            "mrr": round_money(subscription.mrr).to_string(),
            "currency": subscription.currency,
            "cancel_at_period_end": subscription.cancel_at_period_end,
            "cancel_reason": subscription.cancel_reason.map(CancelReason::as_str),
        }))
}

/// Writes `movement` and answers its `finance.mrr.changed` event (its own subject, so it
/// never competes with the subscription's versions).
async fn record_movement(
    tx: &TenantTransaction,
    clock: Clock,
    movement: &MrrMovement,
) -> Result<DomainEvent, CommandError> {
    ledger::insert_movement(tx, movement, clock.now()).await.map_err(internal)?;
    let subject = Subject { entity_type: "MrrMovement".to_owned(), id: movement.id, version: 1 };
    Ok(DomainEvent::new(tx.context(), "finance.mrr.changed", subject)
        .with_ref("customer_account_id", movement.customer_account_id)
        .with_ref("subscription_id", movement.subscription_id)
        .with_data(json!({
            "movement_id": movement.id,
            "movement_type": movement.movement_type.as_str(),
            "effective_date": movement.effective_date,
            "mrr_delta": round_money(movement.mrr_delta).to_string(),
            "currency": movement.currency,
            "cause_ref": movement.cause_ref,
        })))
}

/// Starts the subscription of an activated contract with one item per recurring line,
/// from the contract's start date, and records its movement (`new`, `reactivation` for
/// a customer that churned, `expansion` for one already paying). A contract without
/// recurring lines, or one that started its subscription already, adds nothing.
pub async fn start_subscription(
    tx: &TenantTransaction,
    clock: Clock,
    contract: &Contract,
    lines: &[ContractLine],
) -> Result<Vec<DomainEvent>, CommandError> {
    let recurring: Vec<&ContractLine> = lines
        .iter()
        .filter(|line| line.billing_model == BillingModel::Recurring && line.billing_interval.is_some())
        .collect();
    let Some(first) = recurring.first() else { return Ok(vec![]) };
    if ledger::subscription_of_contract(tx, contract.id).await.map_err(internal)?.is_some() {
        return Ok(vec![]);
    }
    let (customer_mrr, paid_before) = customer_ledger_position(tx, contract.customer_account_id).await?;
    let subscription_id = Uuid::now_v7();
    let items: Vec<SubscriptionItem> = recurring
        .iter()
        .map(|line| {
            let interval = line.billing_interval.unwrap_or(domain_month());
            SubscriptionItem {
                id: Uuid::now_v7(),
                subscription_id,
                contract_line_id: Some(line.id),
                service_package_id: line.service_package_id,
                description: line.description.clone(),
                billing_interval: interval,
                quantity: Decimal::ONE,
                unit_price: line.unit_price,
                discount_pct: line.discount_pct,
                monthly_amount: monthly_amount(Decimal::ONE, line.unit_price, line.discount_pct, interval),
                effective_from: contract.start_date,
                effective_to: None,
            }
        })
        .collect();
    let mrr: Decimal = items.iter().map(|item| item.monthly_amount).sum();
    let subscription = Subscription {
        id: subscription_id,
        customer_account_id: contract.customer_account_id,
        contract_id: contract.id,
        service_package_id: first.service_package_id,
        status: SubscriptionStatus::Active,
        billing_interval: first.billing_interval.unwrap_or(domain_month()),
        start_date: contract.start_date,
        renewal_date: Some(contract.end_date),
        mrr,
        currency: contract.currency.clone(),
        cancel_at_period_end: false,
        cancelled_at: None,
        cancel_reason: None,
        version: 1,
    };
    ledger::insert_subscription(tx, &subscription).await.map_err(internal)?;
    ledger::insert_items(tx, &items).await.map_err(internal)?;
    let mut events = vec![subscription_event(tx, "created", &subscription)];
    if mrr > Decimal::ZERO {
        let movement = MrrMovement {
            id: Uuid::now_v7(),
            customer_account_id: subscription.customer_account_id,
            subscription_id,
            effective_date: contract.start_date,
            movement_type: mrr::classify_addition(customer_mrr, paid_before),
            mrr_delta: mrr,
            currency: subscription.currency.clone(),
            cause_ref: Some(format!("contract:{}", contract.id)),
        };
        events.push(record_movement(tx, clock, &movement).await?);
    }
    Ok(events)
}

fn domain_month() -> crate::domain::BillingInterval {
    crate::domain::BillingInterval::Month
}

/// A subscription with its item versions, as the ledger's mutations answer.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SubscriptionWithItems {
    pub subscription: Subscription,
    pub items: Vec<SubscriptionItem>,
}

async fn load_subscription(tx: &TenantTransaction, id: Option<Uuid>) -> Result<Subscription, CommandError> {
    let id = id.ok_or(CommandError::NotFound("Subscription"))?;
    repository::subscriptions_by_ids(tx, &[id])
        .await
        .map_err(internal)?
        .pop()
        .ok_or(CommandError::NotFound("Subscription"))
}

async fn with_items(tx: &TenantTransaction, subscription: Subscription) -> Result<SubscriptionWithItems, CommandError> {
    let items = ledger::items_of_subscriptions(tx, &[subscription.id]).await.map_err(internal)?;
    Ok(SubscriptionWithItems { subscription, items })
}

async fn write_subscription(
    tx: &TenantTransaction,
    changed: &mut Subscription,
    read_version: i64,
) -> Result<(), CommandError> {
    match ledger::update_subscription(tx, changed, read_version).await {
        Ok(()) => {
            changed.version = read_version + 1;
            Ok(())
        }
        Err(FinanceError::Stale { .. }) => Err(CommandError::stale("Subscription")),
        Err(error) => Err(internal(error)),
    }
}

/// Which item `changeSubscriptionItem` changes.
#[derive(Debug, Clone)]
pub enum ItemSelector {
    /// An item version of the subscription (its open version is changed).
    Item(Option<Uuid>),
    /// The open item of this package, or a new item of it when there is none.
    Package(Option<Uuid>),
}

/// An item change as a client asks it.
#[derive(Debug, Clone)]
pub struct ItemChange {
    pub subscription_id: Option<Uuid>,
    pub selector: ItemSelector,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub effective_date: NaiveDate,
}

/// `changeSubscriptionItem`: closes the open version of the item on the effective date
/// and opens a new one with the new quantity and price (quantity 0 ends the item);
/// records an `expansion` or `contraction` for the difference in monthly amount.
pub async fn change_subscription_item(
    tx: &TenantTransaction,
    clock: Clock,
    change: ItemChange,
) -> Result<Outcome<SubscriptionWithItems>, CommandError> {
    if change.quantity < Decimal::ZERO {
        return Err(CommandError::Invalid(format!("quantity must not be negative, got {}", change.quantity)));
    }
    if change.unit_price < Decimal::ZERO {
        return Err(CommandError::Invalid(format!("unitPrice must not be negative, got {}", change.unit_price)));
    }
    let subscription = load_subscription(tx, change.subscription_id).await?;
    if !subscription.status.earns_mrr() {
        return Err(CommandError::Invalid(format!(
            "a {} subscription's items cannot change",
            subscription.status.as_str()
        )));
    }
    let items = ledger::items_of_subscriptions(tx, &[subscription.id]).await.map_err(internal)?;
    let open = |matches: &dyn Fn(&SubscriptionItem) -> bool| {
        items.iter().find(|item| item.effective_to.is_none() && matches(item)).cloned()
    };
    let (current, package) = match change.selector {
        ItemSelector::Item(item_id) => {
            let item_id = item_id.ok_or(CommandError::NotFound("SubscriptionItem"))?;
            let version =
                items.iter().find(|item| item.id == item_id).ok_or(CommandError::NotFound("SubscriptionItem"))?;
            // Any version names the item: its line (or package) picks the open version.
            let current = open(&|item| {
                item.id == item_id
                    || (item.contract_line_id.is_some() && item.contract_line_id == version.contract_line_id)
                    || (version.contract_line_id.is_none() && item.service_package_id == version.service_package_id)
            })
            .ok_or_else(|| CommandError::Invalid("the item has ended; name its package to add it again".to_owned()))?;
            (Some(current), version.service_package_id)
        }
        ItemSelector::Package(package_id) => {
            let package_id =
                package_id.ok_or_else(|| CommandError::Invalid("servicePackageId is not an id".to_owned()))?;
            (open(&|item| item.service_package_id == Some(package_id)), Some(package_id))
        }
    };
    if let Some(current) = &current
        && change.effective_date < current.effective_from
    {
        return Err(CommandError::Invalid(format!(
            "effectiveDate ({}) must not be before the current version's start ({})",
            change.effective_date, current.effective_from
        )));
    }
    if change.effective_date < subscription.start_date {
        return Err(CommandError::Invalid(format!(
            "effectiveDate ({}) must not be before the subscription's start ({})",
            change.effective_date, subscription.start_date
        )));
    }
    let interval = current.as_ref().map_or(subscription.billing_interval, |item| item.billing_interval);
    let discount = current.as_ref().map_or(Decimal::ZERO, |item| item.discount_pct);
    let old_monthly = current.as_ref().map_or(Decimal::ZERO, |item| item.monthly_amount);
    let new_monthly = monthly_amount(change.quantity, change.unit_price, discount, interval);
    let mut new_items = Vec::new();
    if let Some(current) = &current {
        ledger::close_item(tx, current.id, change.effective_date).await.map_err(|error| match error {
            FinanceError::Stale { .. } => CommandError::stale("Subscription"),
            other => internal(other),
        })?;
    }
    if change.quantity > Decimal::ZERO {
        new_items.push(SubscriptionItem {
            id: Uuid::now_v7(),
            subscription_id: subscription.id,
            contract_line_id: current.as_ref().and_then(|item| item.contract_line_id),
            service_package_id: package,
            description: current.as_ref().map_or_else(|| "Added package".to_owned(), |item| item.description.clone()),
            billing_interval: interval,
            quantity: change.quantity,
            unit_price: round_money(change.unit_price),
            discount_pct: discount,
            monthly_amount: new_monthly,
            effective_from: change.effective_date,
            effective_to: None,
        });
        ledger::insert_items(tx, &new_items).await.map_err(internal)?;
    } else if current.is_none() {
        return Err(CommandError::Invalid("quantity must be positive to add a package".to_owned()));
    }
    let delta = new_monthly - old_monthly;
    let read_version = subscription.version;
    let mut changed = subscription.clone();
    changed.mrr = round_money(subscription.mrr + delta);
    write_subscription(tx, &mut changed, read_version).await?;
    let mut events = vec![subscription_event(tx, "item_changed", &changed)];
    if let Some(movement_type) = mrr::classify_change(delta) {
        let movement = MrrMovement {
            id: Uuid::now_v7(),
            customer_account_id: changed.customer_account_id,
            subscription_id: changed.id,
            effective_date: change.effective_date,
            movement_type,
            mrr_delta: delta,
            currency: changed.currency.clone(),
            cause_ref: Some(format!(
                "subscription_item:{}",
                new_items.first().or(current.as_ref()).map_or(changed.id, |item| item.id)
            )),
        };
        events.push(record_movement(tx, clock, &movement).await?);
    }
    let detail = format!("monthly {old_monthly} -> {new_monthly} {} from {}", changed.currency, change.effective_date);
    let mut entity_ids = vec![changed.id];
    entity_ids.extend(new_items.iter().map(|item| item.id));
    Ok(Outcome { entity_ids, detail, events, value: with_items(tx, changed).await? })
}

/// A lifecycle step of a subscription requested by a client.
#[derive(Debug, Clone, Copy)]
pub enum SubscriptionStep {
    /// `active → non_renewing`: ends at the period end, not now.
    ScheduleCancellation,
    /// `non_renewing → active`.
    RevokeCancellation,
    /// Any open state → `cancelled` at once, with its churn.
    Cancel(CancelReason),
}

/// Runs one lifecycle step; cancelling ends every open item today and records a `churn`
/// of the subscription's whole MRR.
pub async fn advance_subscription(
    tx: &TenantTransaction,
    clock: Clock,
    subscription_id: Option<Uuid>,
    step: SubscriptionStep,
) -> Result<Outcome<SubscriptionWithItems>, CommandError> {
    let subscription = load_subscription(tx, subscription_id).await?;
    let (next, what) = match step {
        SubscriptionStep::ScheduleCancellation => (SubscriptionStatus::NonRenewing, "cancellation_scheduled"),
        SubscriptionStep::RevokeCancellation => (SubscriptionStatus::Active, "cancellation_revoked"),
        SubscriptionStep::Cancel(_) => (SubscriptionStatus::Cancelled, "cancelled"),
    };
    guard_transition(subscription.status, next)?;
    let today = clock.today(tx.tenant_id());
    let mut changed = subscription.clone();
    changed.status = next;
    let mut events = Vec::new();
    match step {
        SubscriptionStep::ScheduleCancellation => changed.cancel_at_period_end = true,
        SubscriptionStep::RevokeCancellation => changed.cancel_at_period_end = false,
        SubscriptionStep::Cancel(reason) => {
            changed.cancel_at_period_end = false;
            changed.cancelled_at = Some(clock.now());
            changed.cancel_reason = Some(reason);
            changed.mrr = Decimal::ZERO;
            let effective = today.max(subscription.start_date);
            for item in ledger::items_of_subscriptions(tx, &[subscription.id]).await.map_err(internal)? {
                if item.effective_to.is_none() {
                    ledger::close_item(tx, item.id, effective.max(item.effective_from)).await.map_err(|error| {
                        match error {
                            FinanceError::Stale { .. } => CommandError::stale("Subscription"),
                            other => internal(other),
                        }
                    })?;
                }
            }
            if subscription.mrr > Decimal::ZERO {
                let movement = MrrMovement {
                    id: Uuid::now_v7(),
                    customer_account_id: subscription.customer_account_id,
                    subscription_id: subscription.id,
                    effective_date: effective,
                    movement_type: MrrMovementType::Churn,
                    mrr_delta: -subscription.mrr,
                    currency: subscription.currency.clone(),
                    cause_ref: Some(format!("cancellation:{}", reason.as_str())),
                };
                events.push(record_movement(tx, clock, &movement).await?);
            }
        }
    }
    write_subscription(tx, &mut changed, subscription.version).await?;
    events.insert(0, subscription_event(tx, what, &changed));
    let mut detail = format!("{} -> {}", subscription.status.as_str(), next.as_str());
    if let SubscriptionStep::Cancel(reason) = step {
        detail = format!("{detail}: {}", reason.as_str());
    }
    Ok(Outcome { entity_ids: vec![changed.id], detail, events, value: with_items(tx, changed).await? })
}

/// `recordFxRate`: one rate per pair and day (a second one for the same day is a conflict).
pub async fn record_fx_rate(tx: &TenantTransaction, rate: FxRate) -> Result<Outcome<FxRate>, CommandError> {
    fx::validate_rate(&rate.from_currency, &rate.to_currency, rate.rate).map_err(CommandError::Invalid)?;
    if ledger::rate_recorded(tx, &rate).await.map_err(internal)? {
        return Err(CommandError::Conflict(format!(
            "a {}→{} rate for {} is recorded already",
            rate.from_currency, rate.to_currency, rate.rate_date
        )));
    }
    let id = Uuid::now_v7();
    ledger::insert_rate(tx, id, &rate).await.map_err(internal)?;
    record_changed(tx, "FxRate", id, ChangeKind::Created).await?;
    let detail = format!("{}→{} {} on {}", rate.from_currency, rate.to_currency, rate.rate, rate.rate_date);
    Ok(Outcome { entity_ids: vec![id], detail, events: vec![], value: rate })
}

/// An approved time entry as the ledger reads it from `delivery.time_entry.approved`.
#[derive(Debug, Clone)]
pub struct ApprovedTime {
    pub time_entry_id: Uuid,
    pub customer_account_id: Uuid,
    pub work_date: NaiveDate,
    pub hours: Decimal,
    pub category: String,
}

/// Draws an approved time entry down from the customer's active grant of its category
/// covering its work date; once per time entry (a redelivery or a second approval finds
/// the usage and changes nothing). `None` when nothing was drawn.
pub async fn draw_down(
    tx: &TenantTransaction,
    clock: Clock,
    time: ApprovedTime,
) -> Result<Outcome<Option<Uuid>>, CommandError> {
    let nothing = |detail: &str| Outcome { entity_ids: vec![], detail: detail.to_owned(), events: vec![], value: None };
    if time.hours <= Decimal::ZERO {
        return Ok(nothing("no hours"));
    }
    if ledger::usage_recorded(tx, time.time_entry_id).await.map_err(internal)? {
        return Ok(nothing("time entry drawn already"));
    }
    let grants = ledger::grants_of_customers(tx, &[time.customer_account_id]).await.map_err(internal)?;
    let Some(grant) = entitlements::grant_for(&grants, &time.category, time.work_date) else {
        return Ok(nothing("no grant covers the time entry"));
    };
    let usage = EntitlementUsage {
        id: Uuid::now_v7(),
        grant_id: grant.id,
        time_entry_id: time.time_entry_id,
        work_date: time.work_date,
        hours: round_money(time.hours),
    };
    ledger::insert_usage(tx, &usage, time.customer_account_id, clock.now()).await.map_err(internal)?;
    record_changed(tx, "Contract", grant.contract_id, ChangeKind::Updated).await?;
    record_changed(tx, "CustomerAccount", time.customer_account_id, ChangeKind::Updated).await?;
    let detail = format!("{} h of {} on {} from grant {}", usage.hours, grant.kind, usage.work_date, grant.id);
    Ok(Outcome { entity_ids: vec![grant.id, usage.id], detail, events: vec![], value: Some(usage.id) })
}
