//! Catalog schema: root fields, federation entity resolvers, and the per-request data
//! (tenant transaction + DataLoaders) the subgraph handler installs; the mutations are in
//! `mutations`.

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, ID, Object, Result, Schema, dataloader::DataLoader};
use atrium_kit::{TenantContext, TenantTransaction, cache_control::cache_control, errors::ErrorCode};

pub use super::mutations::Mutation;
use super::{
    loaders::{BlueprintLoader, BlueprintVersionLoader, BlueprintVersionsLoader, ServicePackageLoader},
    types::{self, Blueprint, BlueprintConnection, ServicePackage, ServicePackageConnection, Tenant},
};
use crate::repository;

pub type CatalogSchema = Schema<Query, Mutation, EmptySubscription>;

pub struct Query;

/// Seconds a catalog answer may be reused: tenants, packages, blueprints and branding
/// are configuration that changes rarely and is read on every portal page.
const CATALOG_MAX_AGE: u32 = 300;

#[Object]
impl Query {
    /// The calling tenant.
    #[graphql(directive = cache_control::apply(CATALOG_MAX_AGE))]
    async fn tenant(&self, ctx: &Context<'_>) -> Result<Tenant> {
        let tx = request_transaction(ctx)?;
        repository::current_tenant(&tx)
            .await?
            .map(Into::into)
            .ok_or_else(|| ErrorCode::NotFound.graphql_error("the tenant is not registered"))
    }

    /// The tenant's service packages.
    #[graphql(directive = cache_control::apply(CATALOG_MAX_AGE))]
    async fn service_packages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<ServicePackageConnection> {
        types::service_packages_connection(ctx, first, after.as_deref()).await
    }

    /// The tenant's blueprints (delivery playbooks).
    #[graphql(directive = cache_control::apply(CATALOG_MAX_AGE))]
    async fn blueprints(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<BlueprintConnection> {
        types::blueprints_connection(ctx, first, after.as_deref()).await
    }

    /// Resolves a Tenant reference; another tenant's id resolves to null.
    #[graphql(entity)]
    async fn find_tenant_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Tenant>> {
        let context = ctx.data::<TenantContext>()?;
        if uuid_of(&id) != Some(context.tenant_id) {
            return Ok(None);
        }
        let tx = request_transaction(ctx)?;
        Ok(repository::current_tenant(&tx).await?.map(Into::into))
    }

    #[graphql(entity)]
    async fn find_service_package_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<ServicePackage>> {
        let Some(id) = types::key(&id) else { return Ok(None) };
        let loader = ctx.data::<DataLoader<ServicePackageLoader>>()?;
        Ok(loader.load_one(id).await.map_err(|error| async_graphql::Error::from(error.to_string()))?.map(Into::into))
    }

    #[graphql(entity)]
    async fn find_blueprint_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Blueprint>> {
        let Some(id) = types::key(&id) else { return Ok(None) };
        let loader = ctx.data::<DataLoader<BlueprintLoader>>()?;
        Ok(loader.load_one(id).await.map_err(|error| async_graphql::Error::from(error.to_string()))?.map(Into::into))
    }
}

pub fn build_schema() -> CatalogSchema {
    atrium_kit::subgraph_schema::build(Query, Mutation, EmptySubscription)
}

/// Installs the request's tenant transaction and DataLoaders bound to it.
pub fn install_request_data(request: async_graphql::Request, tx: Arc<TenantTransaction>) -> async_graphql::Request {
    request
        .data(DataLoader::new(ServicePackageLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(BlueprintLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(BlueprintVersionLoader(tx.clone()), tokio::spawn))
        .data(DataLoader::new(BlueprintVersionsLoader(tx.clone()), tokio::spawn))
        .data(tx)
}

use atrium_kit::subgraph_http::{request_transaction, uuid_of};
