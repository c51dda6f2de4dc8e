//! Rate-limit configuration: a tier per client kind, with per-tenant overrides.

use atrium_contract::ClientKind;
use serde::Deserialize;
use uuid::Uuid;

/// A token bucket: sustained rate and the burst it may spend at once.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateTier {
    /// Sustained units (requests, or cost units) per second.
    pub requests_per_second: f64,
    /// Units that may be spent at once on a full bucket.
    pub burst: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tiers {
    #[serde(default = "default_partner_portal")]
    pub partner_portal: RateTier,
    #[serde(default = "default_dashboard")]
    pub dashboard: RateTier,
    #[serde(default = "default_bi")]
    pub bi: RateTier,
    #[serde(default = "default_service")]
    pub service: RateTier,
}

impl Default for Tiers {
    fn default() -> Self {
        Tiers {
            partner_portal: default_partner_portal(),
            dashboard: default_dashboard(),
            bi: default_bi(),
            service: default_service(),
        }
    }
}

/// Portals serve many end users of one tenant: the most headroom.
fn default_partner_portal() -> RateTier {
    RateTier { requests_per_second: 50.0, burst: 100 }
}
fn default_dashboard() -> RateTier {
    RateTier { requests_per_second: 20.0, burst: 40 }
}
/// BI runs heavy reports: few at a time.
fn default_bi() -> RateTier {
    RateTier { requests_per_second: 2.0, burst: 10 }
}
fn default_service() -> RateTier {
    RateTier { requests_per_second: 20.0, burst: 40 }
}

/// A tenant's own tier for one client kind (e.g. a premium contract).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantOverride {
    pub tenant: Uuid,
    pub client_kind: ClientKind,
    pub requests_per_second: f64,
    pub burst: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Default true.
    #[serde(default = "default_enabled")]
    pub enabled: bool,
    #[serde(default)]
    pub tiers: Tiers,
    #[serde(default)]
    pub tenant_overrides: Vec<TenantOverride>,
    /// Static cost points that count as one extra unit: a request spends
    /// `1 + cost / cost_per_unit` units, so expensive operations drain the bucket faster.
    /// Default 100; 0 counts requests only.
    #[serde(default = "default_cost_per_unit")]
    pub cost_per_unit: u64,
}

fn default_cost_per_unit() -> u64 {
    100
}

fn default_enabled() -> bool {
    true
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            enabled: default_enabled(),
            tiers: Tiers::default(),
            tenant_overrides: Vec::new(),
            cost_per_unit: default_cost_per_unit(),
        }
    }
}

impl RateLimitConfig {
    /// Units a request of static `cost` spends.
    pub fn units_for(&self, cost: Option<u64>) -> u32 {
        let extra = match (cost, self.cost_per_unit) {
            (Some(cost), per_unit) if per_unit > 0 => cost / per_unit,
            _ => 0,
        };
        u32::try_from(1 + extra).unwrap_or(u32::MAX)
    }

    pub fn tier_for(&self, tenant: Uuid, client_kind: ClientKind) -> RateTier {
        if let Some(tenant_override) = self
            .tenant_overrides
            .iter()
            .find(|candidate| candidate.tenant == tenant && candidate.client_kind == client_kind)
        {
            return RateTier { requests_per_second: tenant_override.requests_per_second, burst: tenant_override.burst };
        }
        match client_kind {
            ClientKind::PartnerPortal => self.tiers.partner_portal,
            ClientKind::Dashboard => self.tiers.dashboard,
            ClientKind::Bi => self.tiers.bi,
            ClientKind::Service => self.tiers.service,
        }
    }
}
