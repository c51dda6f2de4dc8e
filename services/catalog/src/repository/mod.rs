//! Catalog repositories. Every function takes a [`TenantTransaction`] and filters by its
//! tenant explicitly, so isolation holds on SQLite too; PostgreSQL RLS is the backstop.

use atrium_kit::TenantTransaction;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::{
    domain::{
        BillingModel, Blueprint, EngagementType, PackageCategory, PublicationStatus, ServicePackage, SupportTier,
        Tenant, TenantBranding, TenantKind, TenantStatus,
    },
    entities::{blueprint, service_package, tenant, tenant_branding},
    error::CatalogError,
};

mod demo_blueprints;
pub mod seed;
mod versions;

pub use versions::{
    insert_version, make_current, next_version_number, publish_package, versions_by_ids, versions_of_blueprints,
};

/// The calling tenant's registry row.
pub async fn current_tenant(tx: &TenantTransaction) -> Result<Option<Tenant>, CatalogError> {
    let row = tenant::Entity::find_by_id(tx.tenant_id()).one(tx.connection()).await?;
    row.map(tenant_from_row).transpose()
}

/// The default (non-partner) brand of the calling tenant.
pub async fn default_branding(tx: &TenantTransaction) -> Result<Option<TenantBranding>, CatalogError> {
    let row = tenant_branding::Entity::find()
        .filter(tenant_branding::Column::TenantId.eq(tx.tenant_id()))
        .filter(tenant_branding::Column::ChannelPartnerId.is_null())
        .one(tx.connection())
        .await?;
    row.map(branding_from_row).transpose()
}

/// One page of packages ordered by id, `first + 1` rows so the caller knows if more exist.
pub async fn service_packages_page(
    tx: &TenantTransaction,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<ServicePackage>, CatalogError> {
    let mut query = service_package::Entity::find().filter(service_package::Column::TenantId.eq(tx.tenant_id()));
    if let Some(after) = after {
        query = query.filter(service_package::Column::Id.gt(after));
    }
    let rows = query.order_by_asc(service_package::Column::Id).limit(limit).all(tx.connection()).await?;
    rows.into_iter().map(package_from_row).collect()
}

pub async fn service_packages_by_ids(
    tx: &TenantTransaction,
    ids: &[Uuid],
) -> Result<Vec<ServicePackage>, CatalogError> {
    let rows = service_package::Entity::find()
        .filter(service_package::Column::TenantId.eq(tx.tenant_id()))
        .filter(service_package::Column::Id.is_in(ids.iter().copied()))
        .all(tx.connection())
        .await?;
    rows.into_iter().map(package_from_row).collect()
}

pub async fn blueprints_page(
    tx: &TenantTransaction,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Blueprint>, CatalogError> {
    let mut query = blueprint::Entity::find().filter(blueprint::Column::TenantId.eq(tx.tenant_id()));
    if let Some(after) = after {
        query = query.filter(blueprint::Column::Id.gt(after));
    }
    let rows = query.order_by_asc(blueprint::Column::Id).limit(limit).all(tx.connection()).await?;
    rows.into_iter().map(blueprint_from_row).collect()
}

pub async fn blueprints_by_ids(tx: &TenantTransaction, ids: &[Uuid]) -> Result<Vec<Blueprint>, CatalogError> {
    let rows = blueprint::Entity::find()
        .filter(blueprint::Column::TenantId.eq(tx.tenant_id()))
        .filter(blueprint::Column::Id.is_in(ids.iter().copied()))
        .all(tx.connection())
        .await?;
    rows.into_iter().map(blueprint_from_row).collect()
}

fn tenant_from_row(row: tenant::Model) -> Result<Tenant, CatalogError> {
    Ok(Tenant {
        id: row.tenant_id,
        slug: row.slug,
        name: row.name,
        kind: TenantKind::parse(&row.kind)?,
        status: TenantStatus::parse(&row.status)?,
        home_region: row.home_region,
        reporting_currency: row.reporting_currency,
        timezone: row.timezone,
    })
}

fn branding_from_row(row: tenant_branding::Model) -> Result<TenantBranding, CatalogError> {
    Ok(TenantBranding {
        id: row.id,
        channel_partner_id: row.channel_partner_id,
        portal_host: row.portal_host,
        product_name: row.product_name,
        primary_color: row.primary_color,
        accent_color: row.accent_color,
        support_email: row.support_email,
        status: PublicationStatus::parse(&row.status)?,
    })
}

pub(crate) fn package_from_row(row: service_package::Model) -> Result<ServicePackage, CatalogError> {
    Ok(ServicePackage {
        id: row.id,
        code: row.code,
        name: row.name,
        category: PackageCategory::parse(&row.category)?,
        billing_model: BillingModel::parse(&row.billing_model)?,
        unit: row.unit,
        list_price: row.list_price,
        currency: row.currency,
        is_recurring: row.is_recurring,
        support_tier: SupportTier::parse(&row.support_tier)?,
        blueprint_id: row.blueprint_id,
        status: PublicationStatus::parse(&row.status)?,
        version: row.version,
    })
}

pub(crate) fn blueprint_from_row(row: blueprint::Model) -> Result<Blueprint, CatalogError> {
    Ok(Blueprint {
        id: row.id,
        name: row.name,
        engagement_type: EngagementType::parse(&row.engagement_type)?,
        status: PublicationStatus::parse(&row.status)?,
        target_onboard_days: row.target_onboard_days,
        target_go_live_days: row.target_go_live_days,
        milestone_count: row.milestone_count,
        current_version_id: row.current_version_id,
        version: row.version,
    })
}
