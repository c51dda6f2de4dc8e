//! Per-request DataLoaders over the request's tenant transaction: entity fetches for many
//! representations become one SQL statement per entity type.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use atrium_kit::TenantTransaction;
use uuid::Uuid;

use crate::{
    domain::{Blueprint, BlueprintVersion, ServicePackage},
    repository,
};

pub struct ServicePackageLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for ServicePackageLoader {
    type Value = ServicePackage;
    type Error = Arc<crate::error::CatalogError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = repository::service_packages_by_ids(&self.0, keys).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

pub struct BlueprintLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for BlueprintLoader {
    type Value = Blueprint;
    type Error = Arc<crate::error::CatalogError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = repository::blueprints_by_ids(&self.0, keys).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

/// Blueprint versions by version id (a blueprint's current version).
pub struct BlueprintVersionLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for BlueprintVersionLoader {
    type Value = BlueprintVersion;
    type Error = Arc<crate::error::CatalogError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let versions = repository::versions_by_ids(&self.0, keys).await.map_err(Arc::new)?;
        Ok(versions.into_iter().map(|version| (version.id, version)).collect())
    }
}

/// Every version of a blueprint, oldest first, by blueprint id.
pub struct BlueprintVersionsLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for BlueprintVersionsLoader {
    type Value = Vec<BlueprintVersion>;
    type Error = Arc<crate::error::CatalogError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let versions = repository::versions_of_blueprints(&self.0, keys).await.map_err(Arc::new)?;
        let mut by_blueprint: HashMap<Uuid, Vec<BlueprintVersion>> = HashMap::new();
        for version in versions {
            by_blueprint.entry(version.blueprint_id).or_default().push(version);
        }
        Ok(by_blueprint)
    }
}
