//! Engagement financials in the API (docs/domain.md#engagement-financials): finance adds
//! `financials` to delivery's `Engagement` (a federation entity keyed by `id`), read
//! through a per-request DataLoader so a list of engagements costs one statement. Money,
//! so `finance` and `tenant_admin` only.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    ComplexObject, Context, Enum, ID, Object, Result, SimpleObject,
    dataloader::{DataLoader, HashMapCache, Loader},
};
use atrium_kit::{TenantTransaction, subgraph_http::uuid_of};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::money::Money;
use crate::{
    domain::engagement_financials::{self as domain, EngagementLedger},
    error::FinanceError,
    repository,
};

/// The ledger of each engagement key that has one.
pub struct FinancialsLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for FinancialsLoader {
    type Value = EngagementLedger;
    type Error = Arc<FinanceError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = repository::engagement_financials::ledgers_of(&self.0, keys).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|ledger| (ledger.engagement_id, ledger)).collect())
    }
}

/// Installs the financials loader over the request's transaction.
pub fn install_loaders(request: async_graphql::Request, tx: &Arc<TenantTransaction>) -> async_graphql::Request {
    request.data(DataLoader::with_cache(FinancialsLoader(tx.clone()), tokio::spawn, HashMapCache::default()))
}

/// Delivery's engagement, as finance extends it.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Engagement {
    pub id: ID,
    #[graphql(skip)]
    pub key: Option<Uuid>,
}

#[ComplexObject]
impl Engagement {
    /// Planned and forecast margin and the margin variance; null when finance keeps no
    /// financials for the engagement (no contract line or currency). Visible to `finance`
    /// and `tenant_admin` only.
    #[graphql(requires_scopes = "finance", requires_scopes = "tenant_admin")]
    async fn financials(&self, ctx: &Context<'_>) -> Result<Option<EngagementFinancials>> {
        let Some(key) = self.key else { return Ok(None) };
        let loader = ctx.data::<DataLoader<FinancialsLoader, HashMapCache>>()?;
        let ledger = loader.load_one(key).await.map_err(|error| async_graphql::Error::new(error.to_string()))?;
        Ok(ledger.map(|ledger| EngagementFinancials::of(&ledger)))
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::MarginStatus")]
pub enum MarginStatus {
    Green,
    Amber,
    Red,
}

/// An engagement's margin (docs/domain.md#engagement-financials). Margins are fractions
/// (0.3889 = 38.89 %), the variance is in percentage points.
#[derive(SimpleObject)]
pub struct EngagementFinancials {
    pub revenue_plan: Money,
    /// Null without a planned cost rate.
    pub cost_plan: Option<Money>,
    pub actual_cost_to_date: Money,
    pub actual_hours: Decimal,
    pub remaining_hours_estimate: Decimal,
    pub cost_eac: Option<Money>,
    pub revenue_eac: Money,
    pub planned_margin_pct: Option<Decimal>,
    pub forecast_margin_pct: Option<Decimal>,
    /// (forecast − planned margin) × 100; amber at −5 or below, red at −10 or below.
    pub margin_variance_pp: Option<Decimal>,
    pub status: Option<MarginStatus>,
    pub closed: bool,
    /// Incremented by every change; `finance.engagement_financials.updated` carries it.
    pub version: i64,
}

impl EngagementFinancials {
    fn of(ledger: &EngagementLedger) -> Self {
        let figures = domain::figures(ledger);
        let money = |amount: Decimal| Money::new(amount, ledger.currency.clone());
        EngagementFinancials {
            revenue_plan: money(figures.revenue_plan),
            cost_plan: figures.cost_plan.map(money),
            actual_cost_to_date: money(figures.actual_cost_to_date),
            actual_hours: ledger.actual_hours,
            remaining_hours_estimate: figures.remaining_hours_estimate,
            cost_eac: figures.cost_eac.map(money),
            revenue_eac: money(figures.revenue_eac),
            planned_margin_pct: figures.planned_margin_pct,
            forecast_margin_pct: figures.forecast_margin_pct,
            margin_variance_pp: figures.margin_variance_pp,
            status: figures.status.map(Into::into),
            closed: ledger.closed,
            version: ledger.version,
        }
    }
}

/// The `Engagement` entity resolver.
#[derive(Default)]
pub struct EngagementQuery;

#[Object]
impl EngagementQuery {
    /// Resolves an Engagement reference to finance's part of it.
    #[graphql(entity)]
    async fn find_engagement_by_id(&self, id: ID) -> Engagement {
        let key = uuid_of(&id);
        Engagement { id, key }
    }
}
