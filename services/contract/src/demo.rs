//! The demo tenant registry (docs/domain.md#demo-data): the three tenants, their channel
//! partners and customer accounts, with deterministic ids so that every service seeds rows
//! that refer to the same tenants and customers without talking to each other.
//!
//! Ids are UUIDv7 built from a fixed timestamp plus an ordinal (so roster order is id
//! order, which is list order) and hash-derived random bits (so ids are stable across
//! runs and distinct across scopes).

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Seed of the demo generators (docs/domain.md#demo-data); each service's generator uses it.
pub const SEED: u64 = 20_250_630;

/// 2025-06-30T00:00:00Z: the base instant of demo ids.
const BASE_MILLIS: u64 = 1_751_241_600_000;

/// A deterministic, time-ordered id: `scope` separates entity kinds, `ordinal` orders
/// ids within a scope, `key` makes them unique.
pub fn id(scope: &str, ordinal: u64, key: &str) -> Uuid {
    let digest = Sha256::digest(format!("{scope}/{key}").as_bytes());
    let mut random = [0u8; 10];
    random.copy_from_slice(&digest[..10]);
    // Scopes are spread a day apart so ordinals of one scope never interleave another's.
    let scope_offset = u64::from(Sha256::digest(scope.as_bytes())[0]) * 86_400_000;
    uuid::Builder::from_unix_timestamp_millis(BASE_MILLIS + scope_offset + ordinal, &random).into_uuid()
}

pub struct DemoTenant {
    pub slug: &'static str,
    pub name: &'static str,
    pub kind: &'static str,
    pub home_region: &'static str,
    pub reporting_currency: &'static str,
    pub timezone: &'static str,
    pub product_name: &'static str,
    pub primary_color: &'static str,
    pub accent_color: &'static str,
    pub partners: &'static [&'static str],
    /// Service package codes; catalog owns the packages, others refer to them by id.
    pub packages: &'static [&'static str],
    /// Blueprint names; catalog owns them, delivery refers to them by id.
    pub blueprints: &'static [&'static str],
    pub customers: &'static [DemoCustomer],
}

pub struct DemoCustomer {
    pub name: &'static str,
    pub segment: &'static str,
    pub erp_platform: &'static str,
    pub data_region: &'static str,
    /// Index into the tenant's `partners` when sold through a channel partner.
    pub partner: Option<usize>,
    /// Which scripted story (docs/domain.md#story-accounts) this account plays, if any.
    pub story: Option<Story>,
}

/// The story accounts whose exact conditions the demo relies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Story {
    /// Ridgeline: go-live slipping 35 days, CRs increasing, health red.
    PrairieFoods,
    /// Ridgeline: one invoice 67 days past due and a $12,000 dispute; health yellow.
    LakeshoreDental,
    /// Ridgeline: retainer under-used; renewal in 75 days.
    CedarValley,
    /// Ridgeline: retainer over-used; health green.
    SummitAg,
    /// Ridgeline: contract signed two days ago, onboarding just started.
    BlueHeron,
    /// Veritas: breached high-priority tickets and escalations; health red.
    Rheinwerk,
    /// Veritas: control-testing milestone forecast 18 days late.
    Harborview,
    /// Veritas: APAC-resident customer.
    LumenPay,
    /// Veritas: healthy, renewed last quarter.
    ThamesMutual,
}

const fn customer(
    name: &'static str,
    segment: &'static str,
    erp_platform: &'static str,
    data_region: &'static str,
) -> DemoCustomer {
    DemoCustomer { name, segment, erp_platform, data_region, partner: None, story: None }
}

const fn story(mut customer: DemoCustomer, story: Story) -> DemoCustomer {
    customer.story = Some(story);
    customer
}

const fn via(mut customer: DemoCustomer, partner: usize) -> DemoCustomer {
    customer.partner = Some(partner);
    customer
}

pub const TENANTS: &[DemoTenant] = &[
    DemoTenant {
        slug: "ridgeline",
        name: "Ridgeline Business Systems",
        kind: "reseller",
        home_region: "us_east",
        reporting_currency: "USD",
        timezone: "America/Chicago",
        product_name: "Ridgeline Success Hub",
        primary_color: "#1F4E79",
        accent_color: "#F2A900",
        partners: &[],
        packages: &[
            "BC-IMPL-ESS",
            "NS-IMPL-STD",
            "MS-BRONZE",
            "MS-SILVER",
            "MS-GOLD",
            "OPT-8",
            "OPT-16",
            "OPT-24",
            "MST-TRANS",
            "YE-CLOSE",
        ],
        blueprints: &["BC Essentials 90-day", "NetSuite Standard 120-day", "Managed Services Transition 45-day"],
        customers: &[
            story(customer("Prairie Foods Co.", "mid_market", "business_central", "us_east"), Story::PrairieFoods),
            story(customer("Lakeshore Dental Group", "smb", "business_central", "us_east"), Story::LakeshoreDental),
            story(customer("Cedar Valley Manufacturing", "mid_market", "netsuite", "us_east"), Story::CedarValley),
            story(customer("Summit Ag Supply", "smb", "business_central", "us_east"), Story::SummitAg),
            story(customer("Blue Heron Logistics", "mid_market", "business_central", "us_east"), Story::BlueHeron),
            customer("Oakridge Hardware", "smb", "acumatica", "us_east"),
            customer("Riverbend Credit Union", "enterprise", "netsuite", "us_east"),
            customer("Granite Peak Builders", "mid_market", "business_central", "us_east"),
            customer("Maple Street Bakeries", "smb", "business_central", "us_east"),
            customer("Ironwood Plastics", "mid_market", "acumatica", "us_east"),
            customer("Willow Creek Farms", "smb", "netsuite", "us_east"),
            customer("Northfield Clinics", "mid_market", "business_central", "us_east"),
        ],
    },
    DemoTenant {
        slug: "helix",
        name: "Helix Ledger",
        kind: "oem_vendor",
        home_region: "eu_west",
        reporting_currency: "EUR",
        timezone: "Europe/Dublin",
        product_name: "Helix Ledger Cloud",
        primary_color: "#0B6E4F",
        accent_color: "#08A045",
        partners: &[
            "Fjord Systems",
            "Castellan IT",
            "Brightwater Consulting",
            "Meridian Tech",
            "Alpine Ledger Partners",
            "Tidewater Solutions",
            "Kestrel Digital",
            "Orchid Business Apps",
        ],
        packages: &["HLX-ONB", "HLX-HOST-STD", "HLX-HOST-PRO", "HLX-PEP", "HLX-ADV"],
        blueprints: &["Helix Cloud Onboarding 60-day"],
        customers: &[
            via(customer("Nordlys Shipping AS", "mid_market", "helix", "eu_west"), 0),
            via(customer("Bergen Fisk Eksport", "smb", "helix", "eu_west"), 0),
            via(customer("Bodegas Castilla SL", "smb", "helix", "eu_west"), 1),
            via(customer("Thornbury Retail Ltd", "mid_market", "helix", "eu_west"), 2),
            via(customer("Gulfstream Outfitters Inc", "smb", "helix", "us_east"), 3),
            via(customer("Zermatt Precision AG", "mid_market", "helix", "eu_west"), 4),
            via(customer("Savannah Marine Supply", "smb", "helix", "us_east"), 5),
            via(customer("Rhein Main Metall GmbH", "smb", "helix", "eu_west"), 6),
        ],
    },
    DemoTenant {
        slug: "veritas",
        name: "Veritas Compliance Group",
        kind: "direct_provider",
        home_region: "eu_central",
        reporting_currency: "EUR",
        timezone: "Europe/Berlin",
        product_name: "Veritas Assurance Portal",
        primary_color: "#4B2E83",
        accent_color: "#B7A57A",
        partners: &[],
        packages: &["SOX-READY", "GDPR-RET", "EINV-READY", "CMP-MON", "AUDIT-PREP"],
        blueprints: &["SOX Readiness 150-day", "E-invoicing Readiness 90-day"],
        customers: &[
            story(customer("Rheinwerk Logistik GmbH", "enterprise", "sap_b1", "eu_central"), Story::Rheinwerk),
            story(customer("Harborview Health", "enterprise", "netsuite", "us_east"), Story::Harborview),
            story(customer("Lumen Pay Pte Ltd", "mid_market", "netsuite", "ap_southeast"), Story::LumenPay),
            story(customer("Thames Mutual plc", "enterprise", "sap_b1", "uk_south"), Story::ThamesMutual),
            customer("Donau Pharma AG", "enterprise", "sap_b1", "eu_central"),
            customer("Kensington Estates Ltd", "mid_market", "business_central", "uk_south"),
            customer("Pacific Crest Insurance", "enterprise", "netsuite", "us_east"),
            customer("Loire Valley Wines SA", "smb", "business_central", "eu_central"),
        ],
    },
];

pub fn tenant_id(slug: &str) -> Uuid {
    let ordinal = TENANTS.iter().position(|tenant| tenant.slug == slug).unwrap_or(usize::MAX) as u64;
    id("tenant", ordinal, slug)
}

pub fn tenant_by_slug(slug: &str) -> Option<&'static DemoTenant> {
    TENANTS.iter().find(|tenant| tenant.slug == slug)
}

pub fn customer_id(tenant: &DemoTenant, ordinal: usize) -> Uuid {
    id("customer_account", ordinal as u64, &format!("{}/{}", tenant.slug, tenant.customers[ordinal].name))
}

pub fn partner_id(tenant: &DemoTenant, ordinal: usize) -> Uuid {
    id("channel_partner", ordinal as u64, &format!("{}/{}", tenant.slug, tenant.partners[ordinal]))
}

pub fn package_id(tenant: &DemoTenant, code: &str) -> Option<Uuid> {
    let ordinal = tenant.packages.iter().position(|candidate| *candidate == code)?;
    Some(id("service_package", ordinal as u64, &format!("{}/{code}", tenant.slug)))
}

pub fn blueprint_id(tenant: &DemoTenant, ordinal: usize) -> Uuid {
    id("blueprint", ordinal as u64, &format!("{}/{}", tenant.slug, tenant.blueprints[ordinal]))
}

/// A context for seeding one demo tenant (an automation subject, not a person).
pub fn seed_context(tenant: &DemoTenant) -> crate::TenantContext {
    crate::TenantContext {
        tenant_id: tenant_id(tenant.slug),
        subject: "automation:demo-seed".to_owned(),
        roles: vec!["tenant_admin".to_owned()],
        client_kind: crate::ClientKind::Service,
        channel_partner_id: None,
        customer_account_id: None,
    }
}

/// A small deterministic generator (SplitMix64) for seed volumes; no crate for one loop.
pub struct SeedRng(u64);

impl SeedRng {
    pub fn new(stream: &str) -> Self {
        let digest = Sha256::digest(stream.as_bytes());
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        SeedRng(SEED ^ u64::from_le_bytes(bytes))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `low..=high`.
    pub fn between(&mut self, low: i64, high: i64) -> i64 {
        let span = (high - low + 1).max(1) as u64;
        low + (self.next_u64() % span) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_ordered_by_ordinal() {
        let ridgeline = tenant_by_slug("ridgeline").unwrap();
        assert_eq!(customer_id(ridgeline, 0), customer_id(ridgeline, 0));
        let ids: Vec<Uuid> = (0..ridgeline.customers.len()).map(|i| customer_id(ridgeline, i)).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert_ne!(tenant_id("ridgeline"), tenant_id("helix"));
    }
}
