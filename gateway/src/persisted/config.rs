//! Persisted-document policy per client kind and where documents are stored.

use std::path::PathBuf;

use atrium_contract::ClientKind;
use serde::Deserialize;

/// What a client kind may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentPolicy {
    /// Only ids of published documents run (white-label portals ship a fixed set).
    RequireId,
    /// Ids, or full documents whose text is published; anything else is refused.
    Safelist,
    /// Like `safelist`, but unknown documents run and are logged (dashboards in flux).
    LogUnknown,
    /// Anything valid runs (development, internal services).
    Allow,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientPolicies {
    #[serde(default = "require_id")]
    pub partner_portal: DocumentPolicy,
    #[serde(default = "log_unknown")]
    pub dashboard: DocumentPolicy,
    #[serde(default = "safelist")]
    pub bi: DocumentPolicy,
    #[serde(default = "allow")]
    pub service: DocumentPolicy,
}

fn require_id() -> DocumentPolicy {
    DocumentPolicy::RequireId
}
fn log_unknown() -> DocumentPolicy {
    DocumentPolicy::LogUnknown
}
fn safelist() -> DocumentPolicy {
    DocumentPolicy::Safelist
}
fn allow() -> DocumentPolicy {
    DocumentPolicy::Allow
}

impl Default for ClientPolicies {
    fn default() -> Self {
        ClientPolicies { partner_portal: require_id(), dashboard: log_unknown(), bi: safelist(), service: allow() }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersistedDocumentsConfig {
    /// Policy per client kind. Defaults: partner_portal require_id, dashboard log_unknown,
    /// bi safelist, service allow.
    #[serde(default)]
    pub policies: ClientPolicies,
    /// Client kinds allowed to register documents with automatic persisted queries.
    /// Default: dashboard and service.
    #[serde(default = "default_apq_clients")]
    pub apq_clients: Vec<ClientKind>,
    /// How long an APQ registration lives, in seconds. Default 86,400.
    #[serde(default = "default_apq_ttl_seconds")]
    pub apq_ttl_seconds: u64,
    /// Memory for APQ registrations held in this process (the only copy without Redis, a
    /// front cache with it), in bytes of document text plus hash; beyond it registrations
    /// are evicted and their clients asked for the full query again. Default 32 MiB.
    #[serde(default = "default_apq_local_capacity_bytes")]
    pub apq_local_capacity_bytes: u64,
    /// Where published manifests live when no Redis is configured; reloaded when files
    /// change. Default `.atrium/persisted`.
    #[serde(default = "default_directory")]
    pub directory: PathBuf,
    /// How often published manifests are re-read (file changes, other replicas'
    /// publications in Redis), in seconds. Default 5.
    #[serde(default = "default_reload_seconds")]
    pub reload_seconds: u64,
}

fn default_apq_clients() -> Vec<ClientKind> {
    vec![ClientKind::Dashboard, ClientKind::Service]
}
fn default_apq_ttl_seconds() -> u64 {
    86_400
}
fn default_apq_local_capacity_bytes() -> u64 {
    32 << 20
}
fn default_directory() -> PathBuf {
    PathBuf::from(".atrium/persisted")
}
fn default_reload_seconds() -> u64 {
    5
}

impl Default for PersistedDocumentsConfig {
    fn default() -> Self {
        PersistedDocumentsConfig {
            policies: ClientPolicies::default(),
            apq_clients: default_apq_clients(),
            apq_ttl_seconds: default_apq_ttl_seconds(),
            apq_local_capacity_bytes: default_apq_local_capacity_bytes(),
            directory: default_directory(),
            reload_seconds: default_reload_seconds(),
        }
    }
}

impl PersistedDocumentsConfig {
    pub fn policy_for(&self, client_kind: ClientKind) -> DocumentPolicy {
        match client_kind {
            ClientKind::PartnerPortal => self.policies.partner_portal,
            ClientKind::Dashboard => self.policies.dashboard,
            ClientKind::Bi => self.policies.bi,
            ClientKind::Service => self.policies.service,
        }
    }
}
