//! Catalog GraphQL object types and enums, mapped from domain values.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Result, SimpleObject, dataloader::DataLoader};
use atrium_kit::pagination::{PageInfo, PageRequest};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use atrium_kit::subgraph_http::{request_transaction, uuid_of};

use super::loaders::{BlueprintLoader, BlueprintVersionLoader, BlueprintVersionsLoader};
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

/// A delivery playbook: milestone and task templates for an engagement type, in
/// immutable published versions. The targets and `milestoneCount` are the current
/// version's (0 milestones before the first publication).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Blueprint {
    pub id: ID,
    pub name: String,
    pub engagement_type: EngagementType,
    pub status: PublicationStatus,
    pub target_onboard_days: i32,
    pub target_go_live_days: i32,
    pub milestone_count: i32,
    #[graphql(skip)]
    pub key: Uuid,
    #[graphql(skip)]
    pub current_version_id: Option<Uuid>,
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
            key: blueprint.id,
            current_version_id: blueprint.current_version_id,
        }
    }
}

#[ComplexObject]
impl Blueprint {
    /// The version engagements are instantiated from; null before the first publication.
    async fn current_version(&self, ctx: &Context<'_>) -> Result<Option<BlueprintVersion>> {
        let Some(id) = self.current_version_id else { return Ok(None) };
        let loader = ctx.data::<DataLoader<BlueprintVersionLoader>>()?;
        Ok(loader.load_one(id).await.map_err(|error| async_graphql::Error::from(error.to_string()))?.map(Into::into))
    }

    /// Every published version, oldest first.
    async fn versions(&self, ctx: &Context<'_>) -> Result<Vec<BlueprintVersion>> {
        let loader = ctx.data::<DataLoader<BlueprintVersionsLoader>>()?;
        let versions =
            loader.load_one(self.key).await.map_err(|error| async_graphql::Error::from(error.to_string()))?;
        Ok(versions.unwrap_or_default().into_iter().map(Into::into).collect())
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::MilestonePhase")]
pub enum MilestonePhase {
    Onboarding,
    Design,
    Build,
    Test,
    Deploy,
    Hypercare,
    Run,
}

/// Onboarding checklist item or work task.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::TaskKind")]
pub enum TaskKind {
    Checklist,
    Work,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::OwnerRole")]
pub enum OwnerRole {
    Csm,
    DeliveryManager,
    Consultant,
    Customer,
    Finance,
    Support,
}

/// A published, immutable version of a blueprint.
#[derive(SimpleObject)]
pub struct BlueprintVersion {
    pub id: ID,
    pub blueprint_id: ID,
    /// 1, 2, … per blueprint.
    pub version: i32,
    pub target_onboard_days: i32,
    pub target_go_live_days: i32,
    pub hypercare_days: i32,
    pub budget_hours: Decimal,
    pub published_at: DateTime<Utc>,
    /// In due order.
    pub milestones: Vec<MilestoneTemplate>,
}

impl From<domain::BlueprintVersion> for BlueprintVersion {
    fn from(version: domain::BlueprintVersion) -> Self {
        BlueprintVersion {
            id: ID(version.id.to_string()),
            blueprint_id: ID(version.blueprint_id.to_string()),
            version: version.version,
            target_onboard_days: version.target_onboard_days,
            target_go_live_days: version.target_go_live_days,
            hypercare_days: version.hypercare_days,
            budget_hours: version.budget_hours,
            published_at: version.published_at,
            milestones: version.milestones.into_iter().map(Into::into).collect(),
        }
    }
}

/// A milestone an engagement instantiated from the version plans.
#[derive(SimpleObject)]
pub struct MilestoneTemplate {
    pub id: ID,
    pub seq: i32,
    pub code: String,
    pub name: String,
    pub phase: MilestonePhase,
    /// Due this many days after the engagement starts.
    pub offset_days: i32,
    pub weight: Decimal,
    pub is_go_live: bool,
    pub is_billing: bool,
    /// Percentage points of the fixed fee billed at this milestone (`25.00` = 25 %).
    pub billing_pct: Decimal,
    pub requires_customer_acceptance: bool,
    pub tasks: Vec<TaskTemplate>,
}

impl From<domain::MilestoneTemplate> for MilestoneTemplate {
    fn from(milestone: domain::MilestoneTemplate) -> Self {
        MilestoneTemplate {
            id: ID(milestone.id.to_string()),
            seq: milestone.seq,
            code: milestone.code,
            name: milestone.name,
            phase: milestone.phase.into(),
            offset_days: milestone.offset_days,
            weight: milestone.weight,
            is_go_live: milestone.is_go_live,
            is_billing: milestone.is_billing,
            billing_pct: milestone.billing_pct,
            requires_customer_acceptance: milestone.requires_customer_acceptance,
            tasks: milestone.tasks.into_iter().map(Into::into).collect(),
        }
    }
}

/// A task of a milestone template; `CHECKLIST` tasks of the onboarding milestone form the
/// onboarding checklist.
#[derive(SimpleObject)]
pub struct TaskTemplate {
    pub id: ID,
    /// Position within the version (not the milestone).
    pub seq: i32,
    pub title: String,
    pub kind: TaskKind,
    pub required: bool,
    pub owner_role: OwnerRole,
    pub customer_facing: bool,
    pub offset_days: i32,
    pub estimate_hours: Decimal,
    /// `seq`s of the tasks this one waits for.
    pub depends_on_seq: Vec<i32>,
}

impl From<domain::TaskTemplate> for TaskTemplate {
    fn from(task: domain::TaskTemplate) -> Self {
        TaskTemplate {
            id: ID(task.id.to_string()),
            seq: task.seq,
            title: task.title,
            kind: task.kind.into(),
            required: task.required,
            owner_role: task.owner_role.into(),
            customer_facing: task.customer_facing,
            offset_days: task.offset_days,
            estimate_hours: task.estimate_hours,
            depends_on_seq: task.depends_on_seq,
        }
    }
}

/// A new version of a blueprint: its targets and milestones, in due order.
#[derive(InputObject)]
pub struct BlueprintVersionInput {
    pub target_onboard_days: i32,
    pub target_go_live_days: i32,
    pub hypercare_days: i32,
    pub budget_hours: Decimal,
    pub milestones: Vec<MilestoneTemplateInput>,
}

#[derive(InputObject)]
pub struct MilestoneTemplateInput {
    /// Unique within the version.
    pub code: String,
    pub name: String,
    pub phase: MilestonePhase,
    pub offset_days: i32,
    /// Defaults to 1.
    pub weight: Option<Decimal>,
    #[graphql(default)]
    pub is_go_live: bool,
    #[graphql(default)]
    pub is_billing: bool,
    /// Percentage points of the fixed fee; billing milestones' add up to 100. Defaults to 0.
    pub billing_pct: Option<Decimal>,
    #[graphql(default)]
    pub requires_customer_acceptance: bool,
    #[graphql(default)]
    pub tasks: Vec<TaskTemplateInput>,
}

#[derive(InputObject)]
pub struct TaskTemplateInput {
    pub title: String,
    pub kind: TaskKind,
    #[graphql(default = true)]
    pub required: bool,
    pub owner_role: OwnerRole,
    #[graphql(default)]
    pub customer_facing: bool,
    pub offset_days: i32,
    /// Defaults to 0.
    pub estimate_hours: Option<Decimal>,
    /// `seq`s (numbered across the version, from 1) of earlier tasks this one waits for.
    #[graphql(default)]
    pub depends_on_seq: Vec<i32>,
}

impl From<BlueprintVersionInput> for domain::blueprints::VersionDraft {
    fn from(input: BlueprintVersionInput) -> Self {
        domain::blueprints::VersionDraft {
            target_onboard_days: input.target_onboard_days,
            target_go_live_days: input.target_go_live_days,
            hypercare_days: input.hypercare_days,
            budget_hours: input.budget_hours,
            milestones: input
                .milestones
                .into_iter()
                .map(|milestone| domain::blueprints::MilestoneDraft {
                    code: milestone.code,
                    name: milestone.name,
                    phase: milestone.phase.into(),
                    offset_days: milestone.offset_days,
                    weight: milestone.weight.unwrap_or(Decimal::ONE),
                    is_go_live: milestone.is_go_live,
                    is_billing: milestone.is_billing,
                    billing_pct: milestone.billing_pct.unwrap_or(Decimal::ZERO),
                    requires_customer_acceptance: milestone.requires_customer_acceptance,
                    tasks: milestone
                        .tasks
                        .into_iter()
                        .map(|task| domain::blueprints::TaskDraft {
                            title: task.title,
                            kind: task.kind.into(),
                            required: task.required,
                            owner_role: task.owner_role.into(),
                            customer_facing: task.customer_facing,
                            offset_days: task.offset_days,
                            estimate_hours: task.estimate_hours.unwrap_or(Decimal::ZERO),
                            depends_on_seq: task.depends_on_seq,
                        })
                        .collect(),
                })
                .collect(),
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
