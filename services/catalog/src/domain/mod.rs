//! Catalog domain types: the tenant registry, branding, channel partners, service
//! packages and blueprints with their versions as plain Rust values with their invariants
//! (no ORM, no GraphQL).

pub mod blueprints;
mod enums;

pub use blueprints::{BlueprintVersion, MilestoneTemplate, TaskTemplate};
pub use enums::{
    ApprovalStatus, BillingModel, EngagementType, MilestonePhase, OwnerRole, PackageCategory, PublicationStatus,
    SupportTier, TaskKind, TenantKind, TenantStatus,
};
use rust_decimal::Decimal;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub kind: TenantKind,
    pub status: TenantStatus,
    pub home_region: String,
    pub reporting_currency: String,
    pub timezone: String,
}

#[derive(Debug, Clone)]
pub struct TenantBranding {
    pub id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    pub portal_host: String,
    pub product_name: String,
    pub primary_color: String,
    pub accent_color: String,
    pub support_email: String,
    pub status: PublicationStatus,
}

#[derive(Debug, Clone)]
pub struct ChannelPartner {
    pub id: Uuid,
    pub name: String,
    pub tier: String,
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct ServicePackage {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub category: PackageCategory,
    pub billing_model: BillingModel,
    pub unit: String,
    pub list_price: Decimal,
    pub currency: String,
    pub is_recurring: bool,
    pub support_tier: SupportTier,
    pub blueprint_id: Option<Uuid>,
    pub status: PublicationStatus,
    pub version: i64,
}

#[derive(Debug, Clone)]
pub struct Blueprint {
    pub id: Uuid,
    pub name: String,
    pub engagement_type: EngagementType,
    pub status: PublicationStatus,
    pub target_onboard_days: i32,
    pub target_go_live_days: i32,
    /// Milestones of the current version (0 before the first publication).
    pub milestone_count: i32,
    pub current_version_id: Option<Uuid>,
    pub version: i64,
}
