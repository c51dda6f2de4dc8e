//! `[auth]`: how the gateway verifies callers (JWT issuer and audience, the identity
//! provider's JWKS and its refresh, the dev signing key, API keys and their reload).

use std::path::PathBuf;

use serde::Deserialize;

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
