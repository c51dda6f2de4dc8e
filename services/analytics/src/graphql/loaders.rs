//! Per-request DataLoaders over the request's tenant transaction: health for many
//! customers costs one statement for the model and one for all their signals; timelines
//! and lifecycle stages one statement each.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use atrium_kit::TenantTransaction;
use chrono::NaiveDate;
use uuid::Uuid;

use crate::{
    domain::{CustomerLifecycle, CustomerSignals, HealthModelVersion, TimelineEntry, facts::CustomerFacts},
    error::AnalyticsError,
    repository,
};

/// The only key of [`ActiveModelLoader`]: a tenant has one active model, and the
/// transaction already fixes the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ActiveModelKey;

/// The tenant's active health model version, loaded once per request however many
/// customers are scored.
pub struct ActiveModelLoader(pub Arc<TenantTransaction>);

impl Loader<ActiveModelKey> for ActiveModelLoader {
    type Value = HealthModelVersion;
    type Error = Arc<AnalyticsError>;

    async fn load(&self, _keys: &[ActiveModelKey]) -> Result<HashMap<ActiveModelKey, Self::Value>, Self::Error> {
        let model = repository::active_health_model(&self.0).await.map_err(Arc::new)?;
        Ok(model.map(|model| (ActiveModelKey, model)).into_iter().collect())
    }
}

/// Analytics-owned signals by customer account.
pub struct CustomerSignalsLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for CustomerSignalsLoader {
    type Value = CustomerSignals;
    type Error = Arc<AnalyticsError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = repository::signals_of_customers(&self.0, keys).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|row| (row.customer_account_id, row)).collect())
    }
}

/// What analytics knows about each customer today (`repository::facts`), for scoring
/// health under the tenant's model: one load for all the request's customers.
pub struct CustomerFactsLoader {
    pub tx: Arc<TenantTransaction>,
    pub today: NaiveDate,
}

impl Loader<Uuid> for CustomerFactsLoader {
    type Value = CustomerFacts;
    type Error = Arc<AnalyticsError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let facts = repository::facts::customer_facts(&self.tx, keys, self.today).await.map_err(Arc::new)?;
        Ok(facts.into_iter().map(|facts| (facts.customer_account_id, facts)).collect())
    }
}

/// Customers' timelines, in journey order. A timeline is short (its customer's milestones),
/// so each is loaded whole and paged in memory.
pub struct TimelineLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for TimelineLoader {
    type Value = Vec<TimelineEntry>;
    type Error = Arc<AnalyticsError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = repository::lifecycle::timelines_of_customers(&self.0, keys).await.map_err(Arc::new)?;
        let mut timelines: HashMap<Uuid, Vec<TimelineEntry>> = HashMap::new();
        for row in rows {
            timelines.entry(row.customer_account_id).or_default().push(row);
        }
        Ok(timelines)
    }
}

/// Customers' current lifecycle stages.
pub struct LifecycleLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for LifecycleLoader {
    type Value = CustomerLifecycle;
    type Error = Arc<AnalyticsError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = repository::lifecycle::lifecycles_of_customers(&self.0, keys).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|row| (row.customer_account_id, row)).collect())
    }
}
