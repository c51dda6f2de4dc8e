//! A cached JWKS key set. Keys are looked up by `kid`; an unknown `kid` triggers one
//! refresh (the identity provider rotated) but refreshes are spaced out so garbage tokens
//! cannot turn the gateway into a JWKS request amplifier.

use std::time::{Duration, Instant};

use jsonwebtoken::{
    Algorithm, DecodingKey,
    jwk::{JwkSet, KeyAlgorithm},
};
use tokio::sync::RwLock;

use super::AuthError;

/// Minimum time between two refreshes caused by unknown key ids.
const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(10);

pub struct JwksCache {
    url: String,
    ttl: Duration,
    client: reqwest::Client,
    state: RwLock<Option<(JwkSet, Instant)>>,
}

impl JwksCache {
    pub fn new(url: String, ttl: Duration) -> Self {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap_or_default();
        JwksCache { url, ttl, client, state: RwLock::new(None) }
    }

    pub async fn key_for(&self, kid: Option<&str>, alg: Algorithm) -> Result<(DecodingKey, Algorithm), AuthError> {
        if let Some(found) = self.lookup(kid, alg).await {
            return Ok(found);
        }
        self.refresh().await?;
        self.lookup(kid, alg).await.ok_or(AuthError::UnknownKey)
    }

    async fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> Option<(DecodingKey, Algorithm)> {
        let state = self.state.read().await;
        let (set, fetched_at) = state.as_ref()?;
        if fetched_at.elapsed() > self.ttl {
            return None;
        }
        let jwk = match kid {
            Some(kid) => set.find(kid)?,
            None if set.keys.len() == 1 => &set.keys[0],
            None => return None,
        };
        let algorithm = match jwk.common.key_algorithm {
            Some(KeyAlgorithm::RS256) => Algorithm::RS256,
            Some(KeyAlgorithm::ES256) => Algorithm::ES256,
            Some(KeyAlgorithm::EdDSA) => Algorithm::EdDSA,
            // Keys without `alg` are bound to the token's algorithm only among the
            // asymmetric ones we accept.
            None if matches!(alg, Algorithm::RS256 | Algorithm::ES256 | Algorithm::EdDSA) => alg,
            _ => return None,
        };
        DecodingKey::from_jwk(jwk).ok().map(|key| (key, algorithm))
    }

    async fn refresh(&self) -> Result<(), AuthError> {
        let mut state = self.state.write().await;
        if let Some((_, fetched_at)) = state.as_ref()
            && fetched_at.elapsed() < MIN_REFRESH_INTERVAL
        {
            return Ok(());
        }
        let response = self.client.get(&self.url).send().await.map_err(|error| {
            tracing::warn!(%error, url = %self.url, "JWKS fetch failed");
            AuthError::KeysUnavailable
        })?;
        let set: JwkSet = response.json().await.map_err(|error| {
            tracing::warn!(%error, url = %self.url, "JWKS response is not a key set");
            AuthError::KeysUnavailable
        })?;
        *state = Some((set, Instant::now()));
        Ok(())
    }
}
