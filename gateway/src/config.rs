//! Gateway configuration: optional TOML file plus `ATRIUM_GATEWAY__*` overrides. The
//! commented example is `deploy/config/gateway.example.toml`.

use std::{collections::BTreeMap, net::SocketAddr, path::PathBuf};

use atrium_contract::ContextKey;
use serde::Deserialize;

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

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// e.g. `redis://127.0.0.1:6379/`. Default: none (in-process state).
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Accepted `iss` claim. Default `atrium-dev`.
    #[serde(default = "default_issuer")]
    pub issuer: String,
    /// Accepted `aud` claim. Default `atrium`.
    #[serde(default = "default_audience")]
    pub audience: String,
    /// Identity provider's JWKS URL (production). When unset, the dev signing key is used.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// How often the JWKS is re-fetched in the background, in seconds; a key the provider
    /// withdraws stops verifying within this period. Default 300.
    #[serde(default = "default_jwks_refresh_seconds")]
    pub jwks_refresh_seconds: u64,
    /// How long the last fetched JWKS keeps verifying tokens while the provider cannot be
    /// reached, in seconds; after that requests with JWTs answer 503
    /// `AUTH_KEYS_UNAVAILABLE`. Default 86,400 (24 h).
    #[serde(default = "default_jwks_max_staleness_seconds")]
    pub jwks_max_staleness_seconds: u64,
    /// Local Ed25519 signing key for the dev profile (created on first use). Default
    /// `.atrium/dev-signing-key.pem`.
    #[serde(default = "default_dev_key_path")]
    pub dev_key_path: PathBuf,
    /// Allowed clock skew when checking `exp`/`nbf`, in seconds. Default 30.
    #[serde(default = "default_leeway_seconds")]
    pub leeway_seconds: u64,
    /// Dev profile only: serve requests without a token as an anonymous caller of the nil
    /// tenant with no roles. For running third-party conformance suites against subgraphs
    /// that know no tenants. Default false; the production profile refuses it.
    #[serde(default)]
    pub allow_anonymous: bool,
    /// Where API keys live when no Redis is configured. Default `.atrium/api-keys`.
    #[serde(default = "default_api_keys_directory")]
    pub api_keys_directory: PathBuf,
    /// How often API keys (and revocations) are re-read, in seconds. Default 5. A
    /// revocation takes effect on every gateway within this period.
    #[serde(default = "default_api_keys_reload_seconds")]
    pub api_keys_reload_seconds: u64,
    /// How long a gateway that cannot re-read its API keys (store unreachable) keeps
    /// verifying against the last list it read, in seconds; after that it refuses every
    /// API key (503 `AUTH_KEYS_UNAVAILABLE`) rather than honour keys that may have been
    /// revoked meanwhile. Default 300; at least two reload periods.
    #[serde(default = "default_api_keys_max_staleness_seconds")]
    pub api_keys_max_staleness_seconds: u64,
}

impl AuthConfig {
    /// The API-key staleness bound, raised to two reload periods so one slow reload does
    /// not refuse every key.
    pub fn api_keys_max_staleness(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.api_keys_max_staleness_seconds.max(2 * self.api_keys_reload_seconds.max(1)))
    }
}

fn default_api_keys_directory() -> PathBuf {
    PathBuf::from(".atrium/api-keys")
}
fn default_api_keys_reload_seconds() -> u64 {
    5
}
fn default_api_keys_max_staleness_seconds() -> u64 {
    300
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            issuer: default_issuer(),
            audience: default_audience(),
            jwks_url: None,
            jwks_refresh_seconds: default_jwks_refresh_seconds(),
            jwks_max_staleness_seconds: default_jwks_max_staleness_seconds(),
            dev_key_path: default_dev_key_path(),
            leeway_seconds: default_leeway_seconds(),
            allow_anonymous: false,
            api_keys_directory: default_api_keys_directory(),
            api_keys_reload_seconds: default_api_keys_reload_seconds(),
            api_keys_max_staleness_seconds: default_api_keys_max_staleness_seconds(),
        }
    }
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
fn default_issuer() -> String {
    "atrium-dev".to_owned()
}
fn default_audience() -> String {
    "atrium".to_owned()
}
fn default_jwks_refresh_seconds() -> u64 {
    300
}
fn default_jwks_max_staleness_seconds() -> u64 {
    86_400
}
fn default_dev_key_path() -> PathBuf {
    PathBuf::from(".atrium/dev-signing-key.pem")
}
fn default_leeway_seconds() -> u64 {
    30
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
