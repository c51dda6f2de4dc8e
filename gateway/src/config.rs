//! Gateway configuration: optional TOML file plus `ATRIUM_GATEWAY__*` overrides. The
//! commented example is `deploy/config/gateway.example.toml`.

use std::{collections::BTreeMap, net::SocketAddr, path::PathBuf};

use atrium_contract::ContextKey;
use serde::Deserialize;

pub use crate::auth::AuthConfig;
pub use crate::redis_connection::RedisConfig;
pub use atrium_contract::config::Profile;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `dev` (default) or `production`.
    #[serde(default)]
    pub profile: Profile,
    /// Address to serve on. Default `127.0.0.1:4000`; tests use port 0.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Address of the internal listener for `/metrics` and `POST /internal/changes`
    /// (with `/health` and `/ready`), which the public listener then answers 404. Default:
    /// `127.0.0.1:9400` outside the dev profile; unset in the dev profile, where they stay
    /// on `listen` for `make run`. See [`Config::internal_listen_address`].
    #[serde(default)]
    pub internal_listen: Option<SocketAddr>,
    /// Supergraph SDL composed by `make schema`. Default `schema/supergraph.graphql`.
    #[serde(default = "default_supergraph_path")]
    pub supergraph_path: PathBuf,
    /// Per-subgraph URL overrides (name -> URL); otherwise the supergraph's URLs are used.
    #[serde(default)]
    pub subgraph_urls: BTreeMap<String, String>,
    #[serde(default)]
    pub auth: AuthConfig,
    #[serde(default)]
    pub tenant_context: TenantContextConfig,
    /// TLS to `https` subgraphs: trusted CA and client certificate (mutual TLS), for every
    /// subgraph or per subgraph (`[subgraph_tls]`). Default: the platform's trusted roots,
    /// no client certificate.
    #[serde(default)]
    pub subgraph_tls: crate::subgraph_tls::SubgraphTlsConfig,
    /// Per-subgraph request timeout in milliseconds. Default 10,000.
    #[serde(default = "default_subgraph_timeout_ms")]
    pub subgraph_timeout_ms: u64,
    /// Send identical queries in flight to one subgraph under the same signed tenant
    /// context once and share the answer. Default true.
    #[serde(default = "default_subgraph_deduplication")]
    pub subgraph_deduplication: bool,
    /// `pretty` (default) or `json`.
    #[serde(default)]
    pub log_format: atrium_contract::telemetry::LogFormat,
    /// Traces, metrics and their export (`[telemetry]`); export is off by default.
    #[serde(default)]
    pub telemetry: atrium_contract::telemetry::TelemetryConfig,
    /// Shared state across gateway replicas (rate limits). Without it, state stays in
    /// this process, which suits `make run` and single-node installs.
    #[serde(default)]
    pub redis: RedisConfig,
    /// Per-tenant and per-client rate limits.
    #[serde(default)]
    pub rate_limits: crate::rate_limit::RateLimitConfig,
    /// Collapse identical client queries in flight (same caller, document and variables)
    /// into one execution. Default true.
    #[serde(default = "default_inbound_deduplication")]
    pub inbound_deduplication: bool,
    /// Persisted documents: per-client policy, APQ, where manifests live.
    #[serde(default)]
    pub persisted_documents: crate::persisted::PersistedDocumentsConfig,
    /// Operation policy: size, parser, depth, alias, root-field and cost limits per client
    /// kind, introspection, CSRF, error masking and gateway timeouts (units and defaults on
    /// each key of `crate::policy::PolicyConfig`).
    #[serde(default)]
    pub policy: crate::policy::PolicyConfig,
    /// Field- and type-level authorization (`@requiresScopes`): per client kind, remove
    /// what the caller may not see (`filter`, default) or refuse the request (`reject`).
    #[serde(default)]
    pub authorization: crate::authorization::AuthorizationConfig,
    /// The tenant-aware response cache (lifetimes come from `@cacheControl` hints).
    #[serde(default)]
    pub response_cache: crate::response_cache::ResponseCacheConfig,
    /// Browser origins of tenants' portals allowed to call `/graphql` and
    /// `/admin/graphql` (`[cors]`). Default none: no CORS headers at all.
    #[serde(default)]
    pub cors: crate::cors::CorsConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantContextConfig {
    /// Key the gateway signs subgraph contexts with. Default: the development key.
    #[serde(default = "ContextKey::development")]
    pub signing_key: ContextKey,
    /// Lifetime of a signed context, in seconds. Default 60.
    #[serde(default = "default_context_ttl_seconds")]
    pub ttl_seconds: i64,
    /// Further keys accepted on services' change batches while keys rotate (the
    /// signing key is always accepted). Default none.
    #[serde(default)]
    pub previous_keys: Vec<ContextKey>,
}

impl TenantContextConfig {
    /// Keys a change batch from a service may be signed with.
    pub fn accepted_keys(&self) -> Vec<ContextKey> {
        std::iter::once(self.signing_key.clone()).chain(self.previous_keys.iter().cloned()).collect()
    }
}

impl Default for TenantContextConfig {
    fn default() -> Self {
        TenantContextConfig {
            signing_key: ContextKey::development(),
            ttl_seconds: default_context_ttl_seconds(),
            previous_keys: Vec::new(),
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 4000))
}
/// The internal listener outside the dev profile: loopback, so nothing outside the host
/// (or pod) reaches it unless it is configured to listen wider.
fn default_internal_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9400))
}
fn default_supergraph_path() -> PathBuf {
    PathBuf::from("schema/supergraph.graphql")
}
fn default_inbound_deduplication() -> bool {
    true
}
fn default_subgraph_timeout_ms() -> u64 {
    10_000
}
fn default_subgraph_deduplication() -> bool {
    true
}
fn default_context_ttl_seconds() -> i64 {
    60
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigCheckError {
    #[error("the production profile refuses the development tenant-context key; configure tenant_context.signing_key")]
    DevelopmentContextKey,
    #[error("the production profile needs auth.jwks_url (the dev signing key is for the dev profile only)")]
    MissingJwks,
    #[error("auth.allow_anonymous is only accepted in the dev profile")]
    AnonymousOutsideDev,
    #[error("internal_listen must differ from listen ({0}): the internal endpoints must stay off the public listener")]
    InternalListenerOnPublicAddress(SocketAddr),
}

impl Config {
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, atrium_contract::config::ConfigError> {
        atrium_contract::config::load(file, "ATRIUM_GATEWAY")
    }

    /// Where `/metrics` and `POST /internal/changes` are served apart from the public
    /// listener: `internal_listen`, else `127.0.0.1:9400` outside the dev profile. `None`
    /// (dev profile, unset): they stay on `listen`.
    pub fn internal_listen_address(&self) -> Option<SocketAddr> {
        self.internal_listen.or_else(|| (self.profile != Profile::Dev).then(default_internal_listen))
    }

    /// Refuses development secrets outside the dev profile, and an internal listener on
    /// the public address.
    pub fn check(&self) -> Result<(), ConfigCheckError> {
        if let Some(internal) = self.internal_listen_address()
            && internal == self.listen
            && internal.port() != 0
        {
            return Err(ConfigCheckError::InternalListenerOnPublicAddress(internal));
        }
        if self.profile == Profile::Production {
            if self.tenant_context.signing_key.id == ContextKey::development().id
                || self.tenant_context.signing_key.secret == ContextKey::development().secret
            {
                return Err(ConfigCheckError::DevelopmentContextKey);
            }
            if self.auth.jwks_url.is_none() {
                return Err(ConfigCheckError::MissingJwks);
            }
            if self.auth.allow_anonymous {
                return Err(ConfigCheckError::AnonymousOutsideDev);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commented_example_config_parses_and_passes_the_production_checks() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/config/gateway.example.toml");
        let text = std::fs::read_to_string(path).unwrap();
        let config: Config = toml::from_str(&text).unwrap();
        assert_eq!(config.profile, Profile::Production);
        assert_eq!(
            config.authorization.on_unauthorized_for(atrium_contract::ClientKind::Bi),
            crate::authorization::UnauthorizedSelections::Reject
        );
        config.check().unwrap();
        assert!(crate::cors::CorsPolicy::new(&config.cors).unwrap().is_enabled());
    }

    #[test]
    fn internal_endpoints_leave_the_public_listener_by_default_outside_the_dev_profile() {
        let dev: Config = toml::from_str("").unwrap();
        assert_eq!(dev.internal_listen_address(), None);
        let production: Config = toml::from_str("profile = \"production\"").unwrap();
        assert_eq!(production.internal_listen_address(), Some("127.0.0.1:9400".parse().unwrap()));
        let chosen: Config = toml::from_str("internal_listen = \"0.0.0.0:9400\"").unwrap();
        assert_eq!(chosen.internal_listen_address(), Some("0.0.0.0:9400".parse().unwrap()));
        let same: Config = toml::from_str("listen = \"0.0.0.0:4000\"\ninternal_listen = \"0.0.0.0:4000\"").unwrap();
        assert!(matches!(same.check(), Err(ConfigCheckError::InternalListenerOnPublicAddress(_))));
    }

    #[test]
    fn production_refuses_development_keys_and_anonymous_access() {
        let mut config: Config = toml::from_str("profile = \"production\"").unwrap();
        assert!(matches!(config.check(), Err(ConfigCheckError::DevelopmentContextKey)));
        config.tenant_context.signing_key = ContextKey { id: "k1".into(), secret: "s".repeat(32) };
        assert!(matches!(config.check(), Err(ConfigCheckError::MissingJwks)));
        config.auth.jwks_url = Some("https://idp.example/jwks".into());
        config.auth.allow_anonymous = true;
        assert!(matches!(config.check(), Err(ConfigCheckError::AnonymousOutsideDev)));
    }
}
