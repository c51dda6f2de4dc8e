//! The gateway-signed tenant context sent to subgraphs in the `x-atrium-context` header.
//!
//! It is a short-lived HS256 JWT whose `kid` names the signing key, so keys rotate by
//! adding the new key to every verifier first, then switching the gateway's signer, then
//! removing the old key. Subgraphs fail closed: no header, an unknown key, a bad signature
//! or an expired token all mean 401.

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::tenant::TenantContext;

/// Header carrying the signed context from the gateway to subgraphs. The gateway strips
/// any inbound copy of it.
pub const CONTEXT_HEADER: &str = "x-atrium-context";

/// Audience claim binding the token to subgraph use, so a context token can never be
/// replayed against the gateway as a user credential.
const AUDIENCE: &str = "atrium-subgraphs";
const ISSUER: &str = "atrium-gateway";

/// One shared key: an id and the secret bytes.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextKey {
    pub id: String,
    pub secret: String,
}

impl std::fmt::Debug for ContextKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never reach logs.
        f.debug_struct("ContextKey").field("id", &self.id).field("secret", &"<redacted>").finish()
    }
}

impl ContextKey {
    /// The key `make run` and the tests use when nothing is configured. Production
    /// configuration must replace it; the gateway refuses it outside the dev profile.
    pub fn development() -> Self {
        ContextKey { id: "dev-1".to_owned(), secret: "atrium-development-context-key-not-for-production".to_owned() }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    exp: i64,
    iat: i64,
    ctx: TenantContext,
}

#[derive(Debug, thiserror::Error)]
pub enum ContextTokenError {
    #[error("the tenant context header is missing")]
    Missing,
    #[error("the tenant context is signed with an unknown key")]
    UnknownKey,
    #[error("the tenant context is invalid: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
}

/// Signs contexts in the gateway.
#[derive(Clone)]
pub struct ContextSigner {
    key_id: String,
    key: EncodingKey,
    ttl_seconds: i64,
}

impl ContextSigner {
    pub fn new(key: &ContextKey, ttl_seconds: i64) -> Self {
        ContextSigner { key_id: key.id.clone(), key: EncodingKey::from_secret(key.secret.as_bytes()), ttl_seconds }
    }

    pub fn sign(&self, context: &TenantContext) -> Result<String, ContextTokenError> {
        let now = chrono::Utc::now().timestamp();
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.key_id.clone());
        let claims = Claims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            exp: now + self.ttl_seconds,
            ctx: context.clone(),
        };
        Ok(jsonwebtoken::encode(&header, &claims, &self.key)?)
    }
}

/// Verifies contexts in subgraphs; holds every key currently accepted (rotation window).
#[derive(Clone)]
pub struct ContextVerifier {
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
}

impl ContextVerifier {
    pub fn new(keys: &[ContextKey]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "aud", "iss"]);
        // Gateway and subgraphs share a clock source in practice; a small skew suffices.
        validation.leeway = 5;
        ContextVerifier {
            keys: keys.iter().map(|key| (key.id.clone(), DecodingKey::from_secret(key.secret.as_bytes()))).collect(),
            validation,
        }
    }

    pub fn verify(&self, token: Option<&str>) -> Result<TenantContext, ContextTokenError> {
        let token = token.ok_or(ContextTokenError::Missing)?;
        let header = jsonwebtoken::decode_header(token)?;
        let key = header.kid.as_deref().and_then(|kid| self.keys.get(kid)).ok_or(ContextTokenError::UnknownKey)?;
        let data = jsonwebtoken::decode::<Claims>(token, key, &self.validation)?;
        Ok(data.claims.ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::ClientKind;
    use uuid::Uuid;

    fn context() -> TenantContext {
        TenantContext {
            tenant_id: Uuid::now_v7(),
            subject: "user-1".into(),
            roles: vec!["csm".into()],
            client_kind: ClientKind::Dashboard,
            channel_partner_id: None,
            customer_account_id: None,
        }
    }

    #[test]
    fn verifies_a_context_signed_with_a_known_key() {
        let key = ContextKey::development();
        let token = ContextSigner::new(&key, 60).sign(&context()).unwrap();
        let verified = ContextVerifier::new(&[key]).verify(Some(&token)).unwrap();
        assert_eq!(verified.subject, "user-1");
    }

    #[test]
    fn rejects_a_context_signed_with_another_secret_under_a_known_key_id() {
        let forged = ContextKey { id: "dev-1".into(), secret: "guessed".into() };
        let token = ContextSigner::new(&forged, 60).sign(&context()).unwrap();
        let result = ContextVerifier::new(&[ContextKey::development()]).verify(Some(&token));
        assert!(matches!(result, Err(ContextTokenError::Invalid(_))));
    }

    #[test]
    fn rejects_an_expired_context() {
        let key = ContextKey::development();
        let token = ContextSigner::new(&key, -60).sign(&context()).unwrap();
        assert!(ContextVerifier::new(&[key]).verify(Some(&token)).is_err());
    }

    #[test]
    fn rejects_a_missing_context_and_an_unknown_key() {
        let verifier = ContextVerifier::new(&[ContextKey::development()]);
        assert!(matches!(verifier.verify(None), Err(ContextTokenError::Missing)));
        let other = ContextKey { id: "other".into(), secret: "x".into() };
        let token = ContextSigner::new(&other, 60).sign(&context()).unwrap();
        assert!(matches!(verifier.verify(Some(&token)), Err(ContextTokenError::UnknownKey)));
    }

    #[test]
    fn accepts_both_keys_during_rotation() {
        let old = ContextKey::development();
        let new = ContextKey { id: "dev-2".into(), secret: "rotated-secret-value".into() };
        let verifier = ContextVerifier::new(&[old.clone(), new.clone()]);
        for key in [old, new] {
            let token = ContextSigner::new(&key, 60).sign(&context()).unwrap();
            assert!(verifier.verify(Some(&token)).is_ok());
        }
    }
}
