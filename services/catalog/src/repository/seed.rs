//! Demo data (docs/domain.md#demo-data) for the catalog: tenants, brands (one per channel
//! partner for OEM tenants), partners, packages and blueprints. Idempotent: a tenant whose
//! row exists is left alone. Each tenant is written in its own tenant transaction, so on
//! PostgreSQL the seed passes through the same RLS policies as requests.

use atrium_kit::{
    TenantTransaction,
    demo::{self, DemoTenant},
};
use rust_decimal::Decimal;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};

use crate::{
    entities::{blueprint, channel_partner, service_package, tenant, tenant_branding},
    error::CatalogError,
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

/// `(engagement_type, onboard days, go-live days, milestones)` of each demo blueprint.
fn blueprint_spec(name: &str) -> (&'static str, i32, i32, i32) {
    match name {
        "BC Essentials 90-day" => ("implementation", 14, 90, 7),
        "NetSuite Standard 120-day" => ("implementation", 21, 120, 8),
        "Managed Services Transition 45-day" => ("managed_service_transition", 10, 45, 4),
        "Helix Cloud Onboarding 60-day" => ("onboarding", 10, 60, 5),
        "SOX Readiness 150-day" => ("compliance_program", 21, 150, 6),
        _ => ("compliance_program", 14, 90, 5),
    }
}

pub async fn seed_demo_tenants(database: &DatabaseConnection) -> Result<(), CatalogError> {
    for demo_tenant in demo::TENANTS {
        let tx = TenantTransaction::begin(database, &demo::seed_context(demo_tenant)).await?;
        if tenant::Entity::find_by_id(tx.tenant_id()).one(tx.connection()).await?.is_some() {
            continue;
        }
        seed_tenant(&tx, demo_tenant).await?;
        tx.commit().await?;
        tracing::info!(tenant = demo_tenant.slug, "seeded catalog demo data");
    }
    Ok(())
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
            let (engagement_type, onboard, go_live, milestones) = blueprint_spec(name);
            blueprint::ActiveModel {
                tenant_id: Set(tenant_id),
                id: Set(demo::blueprint_id(demo_tenant, ordinal)),
                name: Set((*name).to_owned()),
                engagement_type: Set(engagement_type.to_owned()),
                status: Set("published".to_owned()),
                target_onboard_days: Set(onboard),
                target_go_live_days: Set(go_live),
                milestone_count: Set(milestones),
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
                status: Set("published".to_owned()),
            })
        })
        .collect();
    service_package::Entity::insert_many(packages).exec(connection).await?;
    Ok(())
}
