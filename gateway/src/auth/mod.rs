//! Authentication: turns a request's bearer token into a [`TenantContext`], from verified
//! claims only. Tokens are JWTs signed by the identity provider (keys from its JWKS URL,
//! refreshed in the background and kept through provider outages for a bounded time, see
//! `jwks.rs`), in the dev profile by a local Ed25519 key, or API keys (`api_keys.rs`).
//! Credentials that are wrong answer 401; credentials that cannot be checked because no
//! usable keys are at hand answer 503 ([`AuthError::is_keys_unavailable`]).

pub mod api_keys;
mod claims;
mod config;
pub mod dev_key;
mod jwks;

use std::time::Duration;

use atrium_contract::TenantContext;
use axum::http::{HeaderMap, header};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

pub use claims::{Claims, ClaimsError};
pub use dev_key::DevSigningKey;
use jwks::{JwksCache, JwksPolicy};

pub use config::AuthConfig;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("a bearer token is required")]
    MissingToken,
    #[error("the bearer token is invalid")]
    InvalidToken(#[source] jsonwebtoken::errors::Error),
    #[error("the bearer token is signed with an unknown key")]
    UnknownKey,
    #[error("the bearer token's claims are not acceptable: {0}")]
    Claims(#[from] ClaimsError),
    #[error("the identity provider's keys are unavailable")]
    KeysUnavailable,
    #[error("the API key is not accepted: {0}")]
    ApiKey(#[from] api_keys::ApiKeyRejection),
}

impl AuthError {
    /// True when the credentials could not be checked at all because the keys to check
    /// them against are unavailable: the gateway's problem (503), not the caller's (401).
    pub fn is_keys_unavailable(&self) -> bool {
        matches!(self, AuthError::KeysUnavailable | AuthError::ApiKey(api_keys::ApiKeyRejection::ListStale))
    }
}

enum KeySource {
    Local(DecodingKey),
    Jwks(JwksCache),
}

pub struct Authenticator {
    keys: KeySource,
    issuer: String,
    audience: String,
    leeway_seconds: u64,
    allow_anonymous: bool,
    api_keys: Option<std::sync::Arc<api_keys::ApiKeyStore>>,
}

impl Authenticator {
    /// Accepts API keys (`atr_…` bearer tokens) verified against `store` as well as JWTs.
    pub fn with_api_keys(mut self, store: std::sync::Arc<api_keys::ApiKeyStore>) -> Self {
        self.api_keys = Some(store);
        self
    }

    /// JWKS when configured (refreshed in the background when called inside a Tokio
    /// runtime, else fetched on first use), else the dev key at `dev_key_path` (created
    /// when missing).
    pub fn from_config(config: &AuthConfig) -> Result<Self, dev_key::DevKeyError> {
        let keys = match &config.jwks_url {
            Some(url) => {
                let policy = JwksPolicy {
                    refresh_period: Duration::from_secs(config.jwks_refresh_seconds),
                    max_staleness: Duration::from_secs(config.jwks_max_staleness_seconds),
                };
                KeySource::Jwks(match tokio::runtime::Handle::try_current() {
                    Ok(_) => JwksCache::start(url.clone(), policy),
                    Err(_) => JwksCache::new(url.clone(), policy),
                })
            }
            None => KeySource::Local(DevSigningKey::load_or_create(&config.dev_key_path)?.decoding_key()),
        };
        Ok(Authenticator {
            keys,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            leeway_seconds: config.leeway_seconds,
            allow_anonymous: config.allow_anonymous,
            api_keys: None,
        })
    }

    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<TenantContext, AuthError> {
        let Some(token) = bearer_token(headers) else {
            return if self.allow_anonymous { Ok(anonymous_context()) } else { Err(AuthError::MissingToken) };
        };
        if token.starts_with(api_keys::KEY_PREFIX) {
            let store = self.api_keys.as_ref().ok_or(AuthError::UnknownKey)?;
            return Ok(store.verify(token).await?);
        }
        let header = jsonwebtoken::decode_header(token).map_err(AuthError::InvalidToken)?;
        let (key, algorithm) = match &self.keys {
            KeySource::Local(key) => (key.clone(), Algorithm::EdDSA),
            KeySource::Jwks(cache) => cache.key_for(header.kid.as_deref(), header.alg).await?,
        };
        // The algorithm comes from our key, never from the token header alone, so a token
        // cannot downgrade itself (e.g. to HS256 with the public key as secret).
        if header.alg != algorithm {
            return Err(AuthError::UnknownKey);
        }
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = self.leeway_seconds;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(AuthError::InvalidToken)?;
        Ok(data.claims.into_context()?)
    }
}

/// The caller of `allow_anonymous`: the nil tenant, no roles, so tenant-scoped subgraphs
/// return nothing.
fn anonymous_context() -> TenantContext {
    TenantContext {
        tenant_id: uuid::Uuid::nil(),
        subject: "anonymous".to_owned(),
        roles: Vec::new(),
        client_kind: atrium_contract::ClientKind::Service,
        channel_partner_id: None,
        customer_account_id: None,
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim()).filter(|token| !token.is_empty())
}

#[cfg(test)]
mod tests;
