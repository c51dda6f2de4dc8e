//! Per-request DataLoaders over the request's tenant transaction. Each turns the loads of
//! one field across many parents (or many entity representations) into one SQL statement.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use atrium_kit::TenantTransaction;
use uuid::Uuid;

use crate::{
    domain::{Engagement, Milestone, Task},
    error::DeliveryError,
    repository,
};

/// Engagements by id (entity references, `Milestone.engagement`).
pub struct EngagementLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for EngagementLoader {
    type Value = Engagement;
    type Error = Arc<DeliveryError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = repository::engagements_by_ids(&self.0, keys).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

/// All engagements of each customer account, id-ordered (`CustomerAccount.engagements`).
pub struct CustomerEngagementsLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for CustomerEngagementsLoader {
    type Value = Vec<Engagement>;
    type Error = Arc<DeliveryError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = repository::engagements_of_customers(&self.0, keys).await.map_err(Arc::new)?;
        // Every requested customer gets an entry, so "no engagements" is an empty list.
        let mut by_customer: HashMap<Uuid, Vec<Engagement>> = keys.iter().map(|key| (*key, Vec::new())).collect();
        for row in rows {
            by_customer.entry(row.customer_account_id).or_default().push(row);
        }
        Ok(by_customer)
    }
}

/// All milestones of each engagement, ordered by `seq` (`Engagement.milestones`).
pub struct EngagementMilestonesLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for EngagementMilestonesLoader {
    type Value = Vec<Milestone>;
    type Error = Arc<DeliveryError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = repository::milestones_of_engagements(&self.0, keys).await.map_err(Arc::new)?;
        let mut by_engagement: HashMap<Uuid, Vec<Milestone>> = keys.iter().map(|key| (*key, Vec::new())).collect();
        for row in rows {
            by_engagement.entry(row.engagement_id).or_default().push(row);
        }
        Ok(by_engagement)
    }
}

/// Milestones by id (entity references).
pub struct MilestoneLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for MilestoneLoader {
    type Value = Milestone;
    type Error = Arc<DeliveryError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = repository::milestones_by_ids(&self.0, keys).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

/// All tasks of each engagement, in creation order (`Engagement.tasks`).
pub struct EngagementTasksLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for EngagementTasksLoader {
    type Value = Vec<Task>;
    type Error = Arc<DeliveryError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = repository::tasks_of_engagements(&self.0, keys).await.map_err(Arc::new)?;
        let mut by_engagement: HashMap<Uuid, Vec<Task>> = keys.iter().map(|key| (*key, Vec::new())).collect();
        for row in rows {
            by_engagement.entry(row.engagement_id).or_default().push(row);
        }
        Ok(by_engagement)
    }
}
