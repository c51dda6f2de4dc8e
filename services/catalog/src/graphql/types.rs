//! Catalog GraphQL object types and enums, mapped from domain values.

use async_graphql::{ComplexObject, Context, Enum, ID, Result, SimpleObject, dataloader::DataLoader};
use atrium_kit::pagination::{PageInfo, PageRequest};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{
    loaders::BlueprintLoader,
    schema::{request_transaction, uuid_of},
};
use crate::{domain, repository};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::TenantKind")]
pub enum TenantKind {
    Reseller,
    OemVendor,
    DirectProvider,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::TenantStatus")]
pub enum TenantStatus {
    Provisioning,
    Active,
    Suspended,
    Offboarded,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::PublicationStatus")]
pub enum PublicationStatus {
    Draft,
    Published,
    Retired,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::PackageCategory")]
pub enum PackageCategory {
    Implementation,
    ManagedSupport,
    ComplianceService,
    OptimizationRetainer,
    Advisory,
    Training,
    Hosting,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::BillingModel")]
pub enum BillingModel {
    FixedFee,
    Milestone,
    TimeAndMaterials,
    Subscription,
    Retainer,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::SupportTier")]
pub enum SupportTier {
    None,
    Bronze,
    Silver,
    Gold,
    Platinum,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::EngagementType")]
pub enum EngagementType {
    Implementation,
    Onboarding,
    ManagedServiceTransition,
    ComplianceProgram,
    Optimization,
}

/// A tenant of the platform (the professional-services firm itself).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Tenant {
    pub id: ID,
    pub slug: String,
    pub name: String,
    pub kind: TenantKind,
    pub status: TenantStatus,
    pub home_region: String,
    pub reporting_currency: String,
    pub timezone: String,
}

impl From<domain::Tenant> for Tenant {
    fn from(tenant: domain::Tenant) -> Self {
        Tenant {
            id: ID(tenant.id.to_string()),
            slug: tenant.slug,
            name: tenant.name,
            kind: tenant.kind.into(),
            status: tenant.status.into(),
            home_region: tenant.home_region,
            reporting_currency: tenant.reporting_currency,
            timezone: tenant.timezone,
        }
    }
}

#[ComplexObject]
impl Tenant {
    /// The tenant's default white-label brand (partner brands are separate).
    async fn branding(&self, ctx: &Context<'_>) -> Result<Option<TenantBranding>> {
        let tx = request_transaction(ctx)?;
        Ok(repository::default_branding(&tx).await?.map(Into::into))
    }

    /// The tenant's service packages, ordered by creation.
    async fn service_packages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<ServicePackageConnection> {
        service_packages_connection(ctx, first, after.as_deref()).await
    }
}

pub async fn service_packages_connection(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<&str>,
) -> Result<ServicePackageConnection> {
    let page = PageRequest::parse(first, after)?;
    let tx = request_transaction(ctx)?;
    let rows = repository::service_packages_page(&tx, page.after, page.first + 1).await?;
    let (rows, page_info) = page.finish(rows, |row| row.id);
    Ok(ServicePackageConnection { nodes: rows.into_iter().map(Into::into).collect(), page_info })
}

pub async fn blueprints_connection(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<&str>,
) -> Result<BlueprintConnection> {
    let page = PageRequest::parse(first, after)?;
    let tx = request_transaction(ctx)?;
    let rows = repository::blueprints_page(&tx, page.after, page.first + 1).await?;
    let (rows, page_info) = page.finish(rows, |row| row.id);
    Ok(BlueprintConnection { nodes: rows.into_iter().map(Into::into).collect(), page_info })
}

/// A white-label brand for a portal.
#[derive(SimpleObject)]
pub struct TenantBranding {
    pub id: ID,
    pub channel_partner_id: Option<ID>,
    pub portal_host: String,
    pub product_name: String,
    pub primary_color: String,
    pub accent_color: String,
    pub support_email: String,
    pub status: PublicationStatus,
}

impl From<domain::TenantBranding> for TenantBranding {
    fn from(branding: domain::TenantBranding) -> Self {
        TenantBranding {
            id: ID(branding.id.to_string()),
            channel_partner_id: branding.channel_partner_id.map(|id| ID(id.to_string())),
            portal_host: branding.portal_host,
            product_name: branding.product_name,
            primary_color: branding.primary_color,
            accent_color: branding.accent_color,
            support_email: branding.support_email,
            status: branding.status.into(),
        }
    }
}

/// A sellable offering.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ServicePackage {
    pub id: ID,
    pub code: String,
    pub name: String,
    pub category: PackageCategory,
    pub billing_model: BillingModel,
    pub unit: String,
    pub list_price: Decimal,
    pub currency: String,
    pub is_recurring: bool,
    pub support_tier: SupportTier,
    pub status: PublicationStatus,
    #[graphql(skip)]
    pub blueprint_id: Option<Uuid>,
}

impl From<domain::ServicePackage> for ServicePackage {
    fn from(package: domain::ServicePackage) -> Self {
        ServicePackage {
            id: ID(package.id.to_string()),
            code: package.code,
            name: package.name,
            category: package.category.into(),
            billing_model: package.billing_model.into(),
            unit: package.unit,
            list_price: package.list_price,
            currency: package.currency,
            is_recurring: package.is_recurring,
            support_tier: package.support_tier.into(),
            status: package.status.into(),
            blueprint_id: package.blueprint_id,
        }
    }
}

#[ComplexObject]
impl ServicePackage {
    /// The delivery playbook instantiated when this package is sold, if any.
    async fn blueprint(&self, ctx: &Context<'_>) -> Result<Option<Blueprint>> {
        let Some(id) = self.blueprint_id else { return Ok(None) };
        let loader = ctx.data::<DataLoader<BlueprintLoader>>()?;
        Ok(loader.load_one(id).await.map_err(|error| async_graphql::Error::from(error.to_string()))?.map(Into::into))
    }
}

/// A delivery playbook: milestone and task templates for an engagement type.
#[derive(SimpleObject)]
pub struct Blueprint {
    pub id: ID,
    pub name: String,
    pub engagement_type: EngagementType,
    pub status: PublicationStatus,
    pub target_onboard_days: i32,
    pub target_go_live_days: i32,
    pub milestone_count: i32,
}

impl From<domain::Blueprint> for Blueprint {
    fn from(blueprint: domain::Blueprint) -> Self {
        Blueprint {
            id: ID(blueprint.id.to_string()),
            name: blueprint.name,
            engagement_type: blueprint.engagement_type.into(),
            status: blueprint.status.into(),
            target_onboard_days: blueprint.target_onboard_days,
            target_go_live_days: blueprint.target_go_live_days,
            milestone_count: blueprint.milestone_count,
        }
    }
}

#[derive(SimpleObject)]
pub struct ServicePackageConnection {
    pub nodes: Vec<ServicePackage>,
    pub page_info: PageInfo,
}

#[derive(SimpleObject)]
pub struct BlueprintConnection {
    pub nodes: Vec<Blueprint>,
    pub page_info: PageInfo,
}

/// Parses an entity key; a malformed id simply matches nothing.
pub fn key(id: &ID) -> Option<Uuid> {
    uuid_of(id)
}
