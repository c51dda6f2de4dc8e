//! Demo data (docs/domain.md#demo-data) for the catalog: tenants, brands (one per channel
//! partner for OEM tenants), partners, packages, blueprints and their first versions, and
//! the events announcing the published catalog. Idempotent: a tenant whose row exists is
//! not seeded again, and the catalog is announced once, with the first versions. Each
//! tenant is written in its own tenant transaction, so on PostgreSQL the seed passes
//! through the same RLS policies as requests.

use atrium_kit::{
    TenantTransaction,
    changes::outbox,
    demo::{self, DemoTenant},
};
use rust_decimal::Decimal;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::demo_blueprints;
use crate::{
    domain::PublicationStatus,
    entities::{blueprint, blueprint_version, channel_partner, service_package, tenant, tenant_branding},
    error::CatalogError,
    events, repository,
};

struct PackageSpec {
    category: &'static str,
    billing_model: &'static str,
    unit: &'static str,
    list_price: i64,
    support_tier: &'static str,
    blueprint: Option<usize>,
}

fn package_spec(code: &str) -> (&'static str, PackageSpec) {
    let spec = |category, billing_model, unit, list_price, support_tier, blueprint| PackageSpec {
        category,
        billing_model,
        unit,
        list_price,
        support_tier,
        blueprint,
    };
    match code {
        "BC-IMPL-ESS" => {
            ("BC Implementation Essentials", spec("implementation", "milestone", "project", 45_000, "none", Some(0)))
        }
        "NS-IMPL-STD" => {
            ("NetSuite Implementation", spec("implementation", "milestone", "project", 85_000, "none", Some(1)))
        }
        "MS-BRONZE" => {
            ("Managed Support Bronze", spec("managed_support", "subscription", "month", 1_200, "bronze", None))
        }
        "MS-SILVER" => {
            ("Managed Support Silver", spec("managed_support", "subscription", "month", 2_500, "silver", None))
        }
        "MS-GOLD" => ("Managed Support Gold", spec("managed_support", "subscription", "month", 5_500, "gold", None)),
        "OPT-8" => {
            ("Optimization Retainer 8h", spec("optimization_retainer", "retainer", "month", 1_600, "none", None))
        }
        "OPT-16" => {
            ("Optimization Retainer 16h", spec("optimization_retainer", "retainer", "month", 3_000, "none", None))
        }
        "OPT-24" => {
            ("Optimization Retainer 24h", spec("optimization_retainer", "retainer", "month", 4_200, "none", None))
        }
        "MST-TRANS" => {
            ("Managed-Services Transition", spec("implementation", "fixed_fee", "project", 12_000, "none", Some(2)))
        }
        "YE-CLOSE" => ("Year-end Close Assist", spec("advisory", "fixed_fee", "project", 6_000, "none", None)),
        "HLX-ONB" => {
            ("Helix Cloud Onboarding", spec("implementation", "fixed_fee", "project", 18_000, "none", Some(0)))
        }
        "HLX-HOST-STD" => {
            ("Managed Hosting & Support Standard", spec("hosting", "subscription", "month", 900, "silver", None))
        }
        "HLX-HOST-PRO" => {
            ("Managed Hosting & Support Pro", spec("hosting", "subscription", "month", 2_100, "gold", None))
        }
        "HLX-PEP" => ("Partner Enablement Program", spec("training", "fixed_fee", "project", 5_000, "none", None)),
        "HLX-ADV" => ("Advisory Pack", spec("advisory", "retainer", "month", 1_500, "none", None)),
        "SOX-READY" => {
            ("SOX Readiness Program", spec("compliance_service", "milestone", "project", 120_000, "none", Some(0)))
        }
        "GDPR-RET" => {
            ("GDPR Compliance Retainer", spec("compliance_service", "retainer", "month", 4_500, "none", None))
        }
        "EINV-READY" => (
            "E-invoicing Mandate Readiness",
            spec("compliance_service", "fixed_fee", "project", 35_000, "none", Some(1)),
        ),
        "CMP-MON" => {
            ("Managed Compliance Monitoring", spec("managed_support", "subscription", "month", 2_800, "gold", None))
        }
        _ => ("Audit Preparation", spec("advisory", "time_and_materials", "hour", 210, "none", None)),
    }
}

pub async fn seed_demo_tenants(database: &DatabaseConnection) -> Result<(), CatalogError> {
    for demo_tenant in demo::TENANTS {
        let tx = TenantTransaction::begin(database, &demo::seed_context(demo_tenant)).await?;
        let registered = tenant::Entity::find_by_id(tx.tenant_id()).one(tx.connection()).await?.is_some();
        if !registered {
            seed_tenant(&tx, demo_tenant).await?;
        }
        let published = publish_demo_catalog(&tx, demo_tenant).await?;
        if registered && !published {
            continue;
        }
        tx.commit().await?;
        tracing::info!(tenant = demo_tenant.slug, "seeded catalog demo data");
    }
    Ok(())
}

/// Publishes version 1 of each demo blueprint and announces the tenant's published
/// packages and these versions through the outbox, as their publication by a tenant
/// admin would: other services build their copy of the catalog from these events. Runs
/// once per tenant, the first time the seed finds no blueprint version (so a database
/// seeded before versions existed gets them, and its events, too); returns whether it ran.
async fn publish_demo_catalog(tx: &TenantTransaction, demo_tenant: &DemoTenant) -> Result<bool, CatalogError> {
    let has_versions = blueprint_version::Entity::find()
        .filter(blueprint_version::Column::TenantId.eq(tx.tenant_id()))
        .one(tx.connection())
        .await?
        .is_some();
    if has_versions {
        return Ok(false);
    }
    let mut events = Vec::new();
    let published_at = chrono::Utc::now();
    for (ordinal, name) in demo_tenant.blueprints.iter().enumerate() {
        let blueprint_id = demo::blueprint_id(demo_tenant, ordinal);
        let Some(blueprint) = repository::blueprints_by_ids(tx, &[blueprint_id]).await?.pop() else { continue };
        let draft = demo_blueprints::first_version(name);
        draft.validate().map_err(|problem| DbErr::Custom(format!("demo blueprint {name}: {problem}")))?;
        let key = format!("{}/{name}/v1", demo_tenant.slug);
        let version = draft.publish(blueprint.id, 1, published_at, &mut |scope, ordinal| {
            demo::id(scope, ordinal, &format!("{key}/{ordinal}"))
        });
        repository::insert_version(tx, &version).await?;
        let blueprint = repository::make_current(tx, &blueprint, &version).await?;
        events.push(events::blueprint_version_published(tx.context(), &blueprint, &version));
    }
    let packages = service_package::Entity::find()
        .filter(service_package::Column::TenantId.eq(tx.tenant_id()))
        .filter(service_package::Column::Status.eq(PublicationStatus::Published.as_str()))
        .order_by_asc(service_package::Column::Id)
        .all(tx.connection())
        .await?;
    for row in packages {
        events.push(events::package_published(tx.context(), &repository::package_from_row(row)?));
    }
    for event in &events {
        outbox::record_event(tx, event).await?;
    }
    Ok(true)
}

async fn seed_tenant(tx: &TenantTransaction, demo_tenant: &DemoTenant) -> Result<(), CatalogError> {
    let tenant_id = tx.tenant_id();
    let connection = tx.connection();
    let currency = demo_tenant.reporting_currency;
    tenant::Entity::insert(tenant::ActiveModel {
        tenant_id: Set(tenant_id),
        slug: Set(demo_tenant.slug.to_owned()),
        name: Set(demo_tenant.name.to_owned()),
        kind: Set(demo_tenant.kind.to_owned()),
        status: Set("active".to_owned()),
        home_region: Set(demo_tenant.home_region.to_owned()),
        reporting_currency: Set(currency.to_owned()),
        timezone: Set(demo_tenant.timezone.to_owned()),
        created_at: Set(chrono::Utc::now()),
    })
    .exec(connection)
    .await?;

    let mut brandings = vec![tenant_branding::ActiveModel {
        tenant_id: Set(tenant_id),
        id: Set(demo::id("tenant_branding", 0, demo_tenant.slug)),
        channel_partner_id: Set(None),
        portal_host: Set(format!("{}.app.example", demo_tenant.slug)),
        product_name: Set(demo_tenant.product_name.to_owned()),
        primary_color: Set(demo_tenant.primary_color.to_owned()),
        accent_color: Set(demo_tenant.accent_color.to_owned()),
        support_email: Set(format!("support@{}.example", demo_tenant.slug)),
        status: Set("published".to_owned()),
    }];
    for (ordinal, partner_name) in demo_tenant.partners.iter().enumerate() {
        let partner_id = demo::partner_id(demo_tenant, ordinal);
        let host_label: String =
            partner_name.to_ascii_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        channel_partner::Entity::insert(channel_partner::ActiveModel {
            tenant_id: Set(tenant_id),
            id: Set(partner_id),
            name: Set((*partner_name).to_owned()),
            tier: Set(if ordinal < 2 { "gold" } else { "silver" }.to_owned()),
            status: Set(match ordinal {
                0..=4 => "active",
                5 | 6 => "onboarding",
                _ => "dormant",
            }
            .to_owned()),
        })
        .exec(connection)
        .await?;
        brandings.push(tenant_branding::ActiveModel {
            tenant_id: Set(tenant_id),
            id: Set(demo::id("tenant_branding", ordinal as u64 + 1, &format!("{}/{partner_name}", demo_tenant.slug))),
            channel_partner_id: Set(Some(partner_id)),
            portal_host: Set(format!("{host_label}.{}.app.example", demo_tenant.slug)),
            product_name: Set(format!("{partner_name} Cloud ERP")),
            primary_color: Set(demo_tenant.primary_color.to_owned()),
            accent_color: Set(demo_tenant.accent_color.to_owned()),
            support_email: Set(format!("support@{host_label}.example")),
            status: Set("published".to_owned()),
        });
    }
    tenant_branding::Entity::insert_many(brandings).exec(connection).await?;

    let blueprints: Vec<blueprint::ActiveModel> = demo_tenant
        .blueprints
        .iter()
        .enumerate()
        .map(|(ordinal, name)| {
            // A draft until its first version is published (`publish_demo_catalog`).
            let first_version = demo_blueprints::first_version(name);
            blueprint::ActiveModel {
                tenant_id: Set(tenant_id),
                id: Set(demo::blueprint_id(demo_tenant, ordinal)),
                name: Set((*name).to_owned()),
                engagement_type: Set(demo_blueprints::engagement_type(name).as_str().to_owned()),
                status: Set(PublicationStatus::Draft.as_str().to_owned()),
                target_onboard_days: Set(first_version.target_onboard_days),
                target_go_live_days: Set(first_version.target_go_live_days),
                milestone_count: Set(0),
                current_version_id: Set(None),
                version: Set(1),
            }
        })
        .collect();
    blueprint::Entity::insert_many(blueprints).exec(connection).await?;

    let packages: Vec<service_package::ActiveModel> = demo_tenant
        .packages
        .iter()
        .filter_map(|code| {
            let (name, spec) = package_spec(code);
            Some(service_package::ActiveModel {
                tenant_id: Set(tenant_id),
                id: Set(demo::package_id(demo_tenant, code)?),
                code: Set((*code).to_owned()),
                name: Set(name.to_owned()),
                category: Set(spec.category.to_owned()),
                billing_model: Set(spec.billing_model.to_owned()),
                unit: Set(spec.unit.to_owned()),
                list_price: Set(Decimal::from(spec.list_price)),
                currency: Set(currency.to_owned()),
                is_recurring: Set(matches!(spec.billing_model, "subscription" | "retainer")),
                support_tier: Set(spec.support_tier.to_owned()),
                blueprint_id: Set(spec.blueprint.map(|ordinal| demo::blueprint_id(demo_tenant, ordinal))),
                status: Set(PublicationStatus::Published.as_str().to_owned()),
                version: Set(1),
            })
        })
        .collect();
    service_package::Entity::insert_many(packages).exec(connection).await?;
    Ok(())
}
