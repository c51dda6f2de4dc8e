//! The ledger's GraphQL surface (docs/domain.md#subscriptions-and-mrr, #entitlements,
//! #currencies): subscription items, entitlement balances, the MRR ledger, retention and
//! FX rates; the subscription mutations; and the DataLoaders of the ledger's nested lists
//! (one statement per nesting level for all parents).

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Context, Enum, ID, InputObject, Object, Result, SimpleObject,
    dataloader::{DataLoader, HashMapCache, Loader},
};
use atrium_kit::{
    ErrorCode, TenantContext, TenantTransaction,
    cache_control::cache_control,
    command::{self, Command},
    pagination::{PageInfo, PageRequest},
};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use atrium_kit::subgraph_http::{request_transaction, uuid_of};

use super::{
    money::Money,
    types::{BillingInterval, ServicePackage, Subscription, business_date},
};
use crate::{
    commands::ledger::{
        self as ledger_commands, ItemChange, ItemSelector, LEDGER_EDITORS, SubscriptionStep, SubscriptionWithItems,
    },
    domain::{self, Clock, fx, mrr},
    error::FinanceError,
    repository::ledger::{self, MrrMovementFilter},
};

type LoadResult<V> = Result<HashMap<Uuid, V>, Arc<FinanceError>>;

fn group<T>(rows: Vec<T>, parent_of: impl Fn(&T) -> Uuid) -> HashMap<Uuid, Arc<Vec<T>>> {
    let mut groups: HashMap<Uuid, Vec<T>> = HashMap::new();
    for row in rows {
        groups.entry(parent_of(&row)).or_default().push(row);
    }
    groups.into_iter().map(|(parent, rows)| (parent, Arc::new(rows))).collect()
}

fn load_failed(error: Arc<FinanceError>) -> async_graphql::Error {
    async_graphql::Error::new(error.to_string())
}

/// Every item version of each subscription key, id-ordered.
pub struct ItemsBySubscriptionLoader(Arc<TenantTransaction>);

impl Loader<Uuid> for ItemsBySubscriptionLoader {
    type Value = Arc<Vec<domain::subscriptions::SubscriptionItem>>;
    type Error = Arc<FinanceError>;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Self::Value> {
        let rows = ledger::items_of_subscriptions(&self.0, keys).await.map_err(Arc::new)?;
        Ok(group(rows, |item| item.subscription_id))
    }
}

/// Every grant of each customer key, id-ordered.
pub struct GrantsByCustomerLoader(Arc<TenantTransaction>);

impl Loader<Uuid> for GrantsByCustomerLoader {
    type Value = Arc<Vec<domain::EntitlementGrant>>;
    type Error = Arc<FinanceError>;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Self::Value> {
        let rows = ledger::grants_of_customers(&self.0, keys).await.map_err(Arc::new)?;
        Ok(group(rows, |grant| grant.customer_account_id))
    }
}

/// Every grant of each contract key, id-ordered.
pub struct GrantsByContractLoader(Arc<TenantTransaction>);

impl Loader<Uuid> for GrantsByContractLoader {
    type Value = Arc<Vec<domain::EntitlementGrant>>;
    type Error = Arc<FinanceError>;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Self::Value> {
        let rows = ledger::grants_of_contracts(&self.0, keys).await.map_err(Arc::new)?;
        Ok(group(rows, |grant| grant.contract_id))
    }
}

/// Every usage of each grant key, id-ordered.
pub struct UsagesByGrantLoader(Arc<TenantTransaction>);

impl Loader<Uuid> for UsagesByGrantLoader {
    type Value = Arc<Vec<domain::EntitlementUsage>>;
    type Error = Arc<FinanceError>;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Self::Value> {
        let rows = ledger::usages_of_grants(&self.0, keys).await.map_err(Arc::new)?;
        Ok(group(rows, |usage| usage.grant_id))
    }
}

/// Installs the ledger's loaders over the request's transaction.
pub fn install_loaders(request: async_graphql::Request, tx: &Arc<TenantTransaction>) -> async_graphql::Request {
    request
        .data(DataLoader::with_cache(ItemsBySubscriptionLoader(tx.clone()), tokio::spawn, HashMapCache::default()))
        .data(DataLoader::with_cache(GrantsByCustomerLoader(tx.clone()), tokio::spawn, HashMapCache::default()))
        .data(DataLoader::with_cache(GrantsByContractLoader(tx.clone()), tokio::spawn, HashMapCache::default()))
        .data(DataLoader::with_cache(UsagesByGrantLoader(tx.clone()), tokio::spawn, HashMapCache::default()))
}

type Cached<T> = DataLoader<T, HashMapCache>;

/// The item versions of a subscription (for `Subscription.items`).
pub(super) async fn items_of(
    ctx: &Context<'_>,
    subscription_id: Uuid,
) -> Result<Arc<Vec<domain::subscriptions::SubscriptionItem>>> {
    let loader = ctx.data::<Cached<ItemsBySubscriptionLoader>>()?;
    Ok(loader.load_one(subscription_id).await.map_err(load_failed)?.unwrap_or_default())
}

/// Where a balance list comes from.
pub(super) enum GrantsOf {
    Customer(Uuid),
    Contract(Uuid),
}

/// The balances of the grants of a customer or contract for the period containing `on`
/// (default today), as seen today.
pub(super) async fn entitlement_balances(
    ctx: &Context<'_>,
    owner: GrantsOf,
    on: Option<NaiveDate>,
) -> Result<Vec<EntitlementBalance>> {
    let grants = match owner {
        GrantsOf::Customer(id) => ctx.data::<Cached<GrantsByCustomerLoader>>()?.load_one(id).await,
        GrantsOf::Contract(id) => ctx.data::<Cached<GrantsByContractLoader>>()?.load_one(id).await,
    }
    .map_err(load_failed)?
    .unwrap_or_default();
    let usages = ctx
        .data::<Cached<UsagesByGrantLoader>>()?
        .load_many(grants.iter().map(|grant| grant.id))
        .await
        .map_err(load_failed)?;
    let today = business_date(ctx)?;
    let on = on.unwrap_or(today);
    Ok(grants
        .iter()
        .map(|grant| {
            let used = usages.get(&grant.id).cloned().unwrap_or_default();
            EntitlementBalance::of(grant, grant.balance(&used, on, today))
        })
        .collect())
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::EntitlementStatus")]
pub enum EntitlementStatus {
    Active,
    Expired,
    Cancelled,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::MrrMovementType")]
pub enum MrrMovementType {
    New,
    Expansion,
    Contraction,
    Churn,
    Reactivation,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::CancelReason")]
pub enum CancelReason {
    Price,
    Value,
    ServiceQuality,
    Acquired,
    Budget,
    MovedToCompetitor,
    Other,
}

/// An entitlement grant with its figures for one period (hours as decimal strings).
#[derive(SimpleObject)]
pub struct EntitlementBalance {
    pub grant_id: ID,
    pub contract_line_id: ID,
    /// The work it covers, e.g. `advisory`.
    pub kind: String,
    pub period: BillingInterval,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// `EXPIRED` once the end date has passed.
    pub status: EntitlementStatus,
    pub period_start: NaiveDate,
    /// Last day of the period (inclusive).
    pub period_end: NaiveDate,
    pub hours_per_period: Decimal,
    pub used_hours: Decimal,
    pub remaining_hours: Decimal,
    /// Hours used beyond the allowance in the period.
    pub overage_hours: Decimal,
    /// Unused hours of an ended period (no rollover); 0 while the period runs.
    pub forfeited_hours: Decimal,
}

fn hours(value: Decimal) -> Decimal {
    domain::round_money(value)
}

impl EntitlementBalance {
    fn of(grant: &domain::EntitlementGrant, balance: domain::entitlements::EntitlementBalance) -> Self {
        EntitlementBalance {
            grant_id: ID(grant.id.to_string()),
            contract_line_id: ID(grant.contract_line_id.to_string()),
            kind: grant.kind.clone(),
            period: grant.period.into(),
            start_date: grant.start_date,
            end_date: grant.end_date,
            status: balance.status.into(),
            period_start: balance.period_start,
            period_end: balance.period_end,
            hours_per_period: hours(balance.hours_per_period),
            used_hours: hours(balance.used_hours),
            remaining_hours: hours(balance.remaining_hours),
            overage_hours: hours(balance.overage_hours),
            forfeited_hours: hours(balance.forfeited_hours),
        }
    }
}

/// One version of a subscription item, in effect from `effectiveFrom` up to (not
/// including) `effectiveTo`.
#[derive(SimpleObject)]
pub struct SubscriptionItem {
    pub id: ID,
    pub description: String,
    pub billing_interval: BillingInterval,
    pub quantity: Decimal,
    /// Price of one billing interval per unit.
    #[graphql(requires_scopes = "finance", requires_scopes = "tenant_admin")]
    pub unit_price: Option<Money>,
    pub discount_pct: Decimal,
    /// quantity × unit price × (1 − discount) ÷ months in the interval, to the cent.
    #[graphql(requires_scopes = "finance", requires_scopes = "tenant_admin")]
    pub monthly_amount: Option<Money>,
    pub effective_from: NaiveDate,
    pub effective_to: Option<NaiveDate>,
    pub service_package: Option<ServicePackage>,
}

impl SubscriptionItem {
    pub(super) fn of(item: &domain::subscriptions::SubscriptionItem, currency: &str) -> Self {
        SubscriptionItem {
            id: ID(item.id.to_string()),
            description: item.description.clone(),
            billing_interval: item.billing_interval.into(),
            quantity: item.quantity.normalize(),
            unit_price: Some(Money::new(item.unit_price, currency)),
            discount_pct: item.discount_pct.normalize(),
            monthly_amount: Some(Money::new(item.monthly_amount, currency)),
            effective_from: item.effective_from,
            effective_to: item.effective_to,
            service_package: item.service_package_id.map(|id| ServicePackage { id: ID(id.to_string()) }),
        }
    }
}

/// One entry of the MRR ledger.
#[derive(SimpleObject)]
pub struct MrrMovement {
    pub id: ID,
    pub customer_account_id: ID,
    pub subscription_id: ID,
    pub effective_date: NaiveDate,
    #[graphql(name = "type")]
    pub movement_type: MrrMovementType,
    /// Signed change of monthly recurring revenue.
    pub mrr_delta: Money,
    /// What caused it, e.g. `contract:<id>`.
    pub cause_ref: Option<String>,
}

impl From<mrr::MrrMovement> for MrrMovement {
    fn from(movement: mrr::MrrMovement) -> Self {
        MrrMovement {
            id: ID(movement.id.to_string()),
            customer_account_id: ID(movement.customer_account_id.to_string()),
            subscription_id: ID(movement.subscription_id.to_string()),
            effective_date: movement.effective_date,
            movement_type: movement.movement_type.into(),
            mrr_delta: Money::new(movement.mrr_delta, movement.currency),
            cause_ref: movement.cause_ref,
        }
    }
}

#[derive(SimpleObject)]
pub struct MrrMovementConnection {
    pub nodes: Vec<MrrMovement>,
    pub page_info: PageInfo,
}

/// An exchange rate: `rate` units of `toCurrency` per unit of `fromCurrency`.
#[derive(SimpleObject)]
pub struct FxRate {
    pub from_currency: String,
    pub to_currency: String,
    pub rate_date: NaiveDate,
    pub rate: Decimal,
}

impl From<fx::FxRate> for FxRate {
    fn from(rate: fx::FxRate) -> Self {
        FxRate {
            from_currency: rate.from_currency,
            to_currency: rate.to_currency,
            rate_date: rate.rate_date,
            rate: rate.rate.normalize(),
        }
    }
}

/// Retention of a window `[from, to]` from the MRR ledger, in the reporting currency at
/// the rates of `from` (constant currency). Ratios are decimal strings with 4 places.
#[derive(SimpleObject)]
pub struct Retention {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub starting_mrr: Money,
    /// The starting cohort's MRR at the end (new customers excluded).
    pub ending_mrr: Money,
    pub expansion: Money,
    pub contraction: Money,
    pub churn: Money,
    /// (start − churn − contraction) ÷ start; null without a starting cohort.
    pub grr: Option<Decimal>,
    /// Cohort's end MRR ÷ start; null without a starting cohort.
    pub nrr: Option<Decimal>,
    /// Churned cohort customers ÷ cohort customers; null without a starting cohort.
    pub logo_churn: Option<Decimal>,
    pub cohort_customers: i32,
    pub churned_customers: i32,
    /// The latest rate date used for conversion; null when nothing was converted.
    pub rate_date: Option<NaiveDate>,
    /// Every rate used, one per converted currency.
    pub rates: Vec<FxRate>,
}

impl From<mrr::Retention> for Retention {
    fn from(figures: mrr::Retention) -> Self {
        let currency = figures.currency.clone();
        Retention {
            from: figures.from,
            to: figures.to,
            starting_mrr: Money::new(figures.starting_mrr, currency.clone()),
            ending_mrr: Money::new(figures.ending_mrr, currency.clone()),
            expansion: Money::new(figures.expansion, currency.clone()),
            contraction: Money::new(figures.contraction, currency.clone()),
            churn: Money::new(figures.churn, currency),
            grr: figures.grr,
            nrr: figures.nrr,
            logo_churn: figures.logo_churn,
            cohort_customers: i32::try_from(figures.cohort_customers).unwrap_or(i32::MAX),
            churned_customers: i32::try_from(figures.churned_customers).unwrap_or(i32::MAX),
            rate_date: figures.rates.iter().filter_map(|rate| rate.rate_date).max(),
            rates: figures
                .rates
                .into_iter()
                .filter_map(|rate| {
                    Some(FxRate {
                        rate_date: rate.rate_date?,
                        from_currency: rate.from_currency,
                        to_currency: rate.to_currency,
                        rate: rate.rate.normalize(),
                    })
                })
                .collect(),
        }
    }
}

/// Figures of the books are for `finance` and `tenant_admin` (the gateway hides the
/// fields from others; this is the subgraph's own check).
fn require_finance(ctx: &Context<'_>) -> Result<()> {
    let context = ctx.data::<TenantContext>()?;
    if LEDGER_EDITORS.iter().any(|role| context.has_role(role)) {
        return Ok(());
    }
    Err(ErrorCode::Forbidden.graphql_error("requires one of the roles: tenant_admin, finance"))
}

fn optional_id(id: Option<&ID>, field: &str) -> Result<Option<Uuid>> {
    match id {
        None => Ok(None),
        Some(id) => {
            uuid_of(id).map(Some).ok_or_else(|| ErrorCode::BadUserInput.graphql_error(format!("{field} is not an id")))
        }
    }
}

/// Seconds a ledger answer may be reused (the same as finance's other figures).
const LEDGER_MAX_AGE: u32 = 60;

#[derive(Default)]
pub struct LedgerQuery;

#[Object]
impl LedgerQuery {
    /// The MRR ledger, in recording order, optionally for one customer or subscription and
    /// an inclusive window of effective dates.
    // Not cached: a command's movement must show in the very next answer, and the
    // gateway learns of changes only after the outbox relay delivers them.
    #[graphql(requires_scopes = "finance", requires_scopes = "tenant_admin")]
    #[allow(clippy::too_many_arguments)]
    async fn mrr_movements(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        customer_account_id: Option<ID>,
        subscription_id: Option<ID>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Option<MrrMovementConnection>> {
        require_finance(ctx)?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let filter = MrrMovementFilter {
            customer_account_id: optional_id(customer_account_id.as_ref(), "customerAccountId")?,
            subscription_id: optional_id(subscription_id.as_ref(), "subscriptionId")?,
            from,
            to,
        };
        let tx = request_transaction(ctx)?;
        let rows = ledger::movements(&tx, &filter, page.after, Some(page.first + 1)).await?;
        let (rows, page_info) = page.finish(rows, |row| row.id);
        Ok(Some(MrrMovementConnection { nodes: rows.into_iter().map(Into::into).collect(), page_info }))
    }

    /// GRR, NRR and logo churn of the window `[from, to]` (both inclusive) from the MRR
    /// ledger, in the tenant's reporting currency at the rates of `from`; for the whole
    /// tenant, or one customer's net retention with `customerAccountId`.
    // Not cached: a command's movement must show in the very next answer, and the
    // gateway learns of changes only after the outbox relay delivers them.
    #[graphql(requires_scopes = "finance", requires_scopes = "tenant_admin")]
    async fn retention(
        &self,
        ctx: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
        customer_account_id: Option<ID>,
    ) -> Result<Option<Retention>> {
        require_finance(ctx)?;
        let customer_account_id = optional_id(customer_account_id.as_ref(), "customerAccountId")?;
        if to < from {
            return Err(ErrorCode::BadUserInput.graphql_error(format!("to ({to}) must not be before from ({from})")));
        }
        let tx = request_transaction(ctx)?;
        let filter = MrrMovementFilter { customer_account_id, to: Some(to), ..Default::default() };
        let movements = ledger::movements(&tx, &filter, None, None).await?;
        let reporting = match ledger::reporting_currency(&tx).await? {
            Some(currency) => currency,
            // Without a reporting currency a single-currency ledger reports in its own.
            None => movements.first().map_or_else(|| "USD".to_owned(), |movement| movement.currency.clone()),
        };
        let rates = ledger::rates_into(&tx, &reporting, from).await?;
        let figures = mrr::retention(&movements, from, to, &reporting, |currency| {
            fx::rate_on(&rates, currency, &reporting, from)
        })
        .map_err(|message| ErrorCode::BadUserInput.graphql_error(message))?;
        Ok(Some(figures.into()))
    }

    /// The currency the tenant's aggregates are reported in.
    #[graphql(directive = cache_control::apply(LEDGER_MAX_AGE))]
    async fn reporting_currency(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let tx = request_transaction(ctx)?;
        Ok(ledger::reporting_currency(&tx).await?)
    }
}

#[derive(InputObject)]
pub struct ChangeSubscriptionItemInput {
    pub subscription_id: ID,
    /// The item to change (any of its versions); or name `servicePackageId`.
    pub item_id: Option<ID>,
    /// The package whose item changes, or which is added when the subscription has none.
    pub service_package_id: Option<ID>,
    /// Units from the effective date; 0 ends the item.
    pub quantity: Decimal,
    /// Price of one billing interval per unit, ≥ 0.
    pub unit_price: Decimal,
    /// The first day of the new version.
    pub effective_date: NaiveDate,
}

#[derive(InputObject)]
pub struct RecordFxRateInput {
    pub from_currency: String,
    pub to_currency: String,
    pub rate_date: NaiveDate,
    /// Units of `toCurrency` per unit of `fromCurrency`; positive, at most ten decimals.
    pub rate: Decimal,
}

#[derive(Default)]
pub struct LedgerMutation;

fn subscription_command(operation: &'static str, target: Option<Uuid>) -> Command {
    Command { operation, entity_type: "Subscription", allowed_roles: LEDGER_EDITORS, target }
}

async fn advance(ctx: &Context<'_>, operation: &'static str, id: &ID, step: SubscriptionStep) -> Result<Subscription> {
    let subscription_id = uuid_of(id);
    let clock = *ctx.data::<Clock>()?;
    let changed: SubscriptionWithItems =
        command::run(ctx, subscription_command(operation, subscription_id), move |tx| {
            Box::pin(ledger_commands::advance_subscription(tx, clock, subscription_id, step))
        })
        .await?;
    Ok(changed.into())
}

#[Object]
impl LedgerMutation {
    /// Closes the item's open version on `effectiveDate` and opens a new one with the
    /// quantity and price (quantity 0 ends the item; a package without an item is added);
    /// records an `EXPANSION` or `CONTRACTION` movement for the change in monthly amount.
    async fn change_subscription_item(
        &self,
        ctx: &Context<'_>,
        input: ChangeSubscriptionItemInput,
    ) -> Result<Subscription> {
        let subscription_id = uuid_of(&input.subscription_id);
        let selector = match (&input.item_id, &input.service_package_id) {
            (Some(item), None) => ItemSelector::Item(uuid_of(item)),
            (None, Some(package)) => ItemSelector::Package(uuid_of(package)),
            _ => {
                return Err(ErrorCode::BadUserInput.graphql_error("name exactly one of itemId and servicePackageId"));
            }
        };
        let change = ItemChange {
            subscription_id,
            selector,
            quantity: input.quantity,
            unit_price: input.unit_price,
            effective_date: input.effective_date,
        };
        let clock = *ctx.data::<Clock>()?;
        let changed: SubscriptionWithItems =
            command::run(ctx, subscription_command("changeSubscriptionItem", subscription_id), move |tx| {
                Box::pin(ledger_commands::change_subscription_item(tx, clock, change))
            })
            .await?;
        Ok(changed.into())
    }

    /// `ACTIVE → NON_RENEWING`: the subscription ends at its period end instead of renewing.
    async fn schedule_subscription_cancellation(&self, ctx: &Context<'_>, id: ID) -> Result<Subscription> {
        advance(ctx, "scheduleSubscriptionCancellation", &id, SubscriptionStep::ScheduleCancellation).await
    }

    /// `NON_RENEWING → ACTIVE`: the scheduled cancellation is withdrawn.
    async fn revoke_subscription_cancellation(&self, ctx: &Context<'_>, id: ID) -> Result<Subscription> {
        advance(ctx, "revokeSubscriptionCancellation", &id, SubscriptionStep::RevokeCancellation).await
    }

    /// Ends the subscription today (`→ CANCELLED`), closing its items and recording a
    /// `CHURN` of its MRR.
    async fn cancel_subscription(&self, ctx: &Context<'_>, id: ID, reason: CancelReason) -> Result<Subscription> {
        advance(ctx, "cancelSubscription", &id, SubscriptionStep::Cancel(reason.into())).await
    }

    /// Records the rate of a currency pair for a day (one per pair and day).
    async fn record_fx_rate(
        &self,
        ctx: &Context<'_>,
        input: RecordFxRateInput,
        idempotency_key: Option<String>,
    ) -> Result<FxRate> {
        let rate = fx::FxRate {
            from_currency: input.from_currency,
            to_currency: input.to_currency,
            rate_date: input.rate_date,
            rate: input.rate,
        };
        let command =
            Command { operation: "recordFxRate", entity_type: "FxRate", allowed_roles: LEDGER_EDITORS, target: None };
        let recorded = command::run_idempotent(ctx, command, idempotency_key, move |tx| {
            Box::pin(ledger_commands::record_fx_rate(tx, rate))
        })
        .await?;
        Ok(recorded.into())
    }
}
