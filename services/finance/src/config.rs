//! Finance service configuration: optional TOML file plus `ATRIUM_FINANCE__*` overrides.
//! See `deploy/config/service.example.toml` for a commented example.

use std::net::SocketAddr;

use atrium_kit::{ContextKey, telemetry::LogFormat};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to serve GraphQL on. Default `127.0.0.1:4003`; tests use port 0.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Runtime database URL: `sqlite://...` (default `.atrium/data/finance.sqlite`) or
    /// `postgres://atrium_app@host/db` (the RLS-bound runtime role).
    #[serde(default = "default_database_url")]
    pub database_url: String,
    /// Owner URL used only to migrate; defaults to `database_url`.
    #[serde(default)]
    pub migration_database_url: Option<String>,
    /// Runtime pool size. Default 10.
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// Keys accepted for the gateway-signed tenant context (several during rotation).
    /// Default: the development key, which only suits `make run` and tests.
    #[serde(default = "default_context_keys")]
    pub context_keys: Vec<ContextKey>,
    /// Seed the demo tenants of DOMAIN.md §12 on start. Default true.
    #[serde(default = "default_seed_demo_data")]
    pub seed_demo_data: bool,
    /// `pretty` (default) or `json`.
    #[serde(default)]
    pub log_format: LogFormat,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 4003))
}

fn default_database_url() -> String {
    "sqlite://.atrium/data/finance.sqlite?mode=rwc".to_owned()
}

fn default_max_connections() -> u32 {
    10
}

fn default_context_keys() -> Vec<ContextKey> {
    vec![ContextKey::development()]
}

fn default_seed_demo_data() -> bool {
    true
}

impl Config {
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, atrium_kit::config::ConfigError> {
        atrium_kit::config::load(file, "ATRIUM_FINANCE")
    }
}
