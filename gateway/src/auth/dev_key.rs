//! The dev profile's local Ed25519 signing key: created on first use, kept in a file so
//! `atrium-gateway token` (what `make token` runs) and the running gateway agree.

use std::path::Path;

use atrium_contract::demo;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use uuid::Uuid;

use super::Claims;

#[derive(Debug, thiserror::Error)]
pub enum DevKeyError {
    #[error("cannot read or write the dev signing key at {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("the dev signing key at {path} is not an Ed25519 PKCS#8 PEM key")]
    Malformed { path: String },
    #[error("cannot sign: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

pub struct DevSigningKey {
    pkcs8_der: Vec<u8>,
    public_key: Vec<u8>,
}

const PEM_LABEL: &str = "PRIVATE KEY";

impl DevSigningKey {
    pub fn load_or_create(path: &Path) -> Result<Self, DevKeyError> {
        let io = |source| DevKeyError::Io { path: path.display().to_string(), source };
        let malformed = || DevKeyError::Malformed { path: path.display().to_string() };
        if !path.exists() {
            let rng = aws_lc_rs::rand::SystemRandom::new();
            let document = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| malformed())?;
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            let body = base64::engine::general_purpose::STANDARD.encode(document.as_ref());
            std::fs::write(path, format!("-----BEGIN {PEM_LABEL}-----\n{body}\n-----END {PEM_LABEL}-----\n"))
                .map_err(io)?;
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        let body: String = text.lines().filter(|line| !line.starts_with("-----")).collect();
        let pkcs8_der = base64::engine::general_purpose::STANDARD.decode(body.trim()).map_err(|_| malformed())?;
        let pair = Ed25519KeyPair::from_pkcs8(&pkcs8_der).map_err(|_| malformed())?;
        let public_key = pair.public_key().as_ref().to_vec();
        Ok(DevSigningKey { pkcs8_der, public_key })
    }

    pub fn decoding_key(&self) -> DecodingKey {
        DecodingKey::from_ed_der(&self.public_key)
    }

    /// Issues a token as the dev identity provider would.
    pub fn issue(&self, claims: &Claims) -> Result<String, DevKeyError> {
        let key = EncodingKey::from_ed_der(&self.pkcs8_der);
        Ok(jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), claims, &key)?)
    }

    /// A token for a demo tenant (by slug) and role, valid for `ttl_seconds`.
    pub fn issue_for_demo(
        &self,
        issuer: &str,
        audience: &str,
        tenant_slug: &str,
        roles: &[String],
        client_kind: &str,
        ttl_seconds: i64,
    ) -> Result<String, DevKeyError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            iss: issuer.to_owned(),
            aud: audience.to_owned(),
            sub: format!("{}@{tenant_slug}", roles.first().map_or("user", String::as_str)),
            exp: now + ttl_seconds,
            iat: now,
            tid: tenant_id_of(tenant_slug),
            roles: roles.to_vec(),
            client_kind: Some(client_kind.to_owned()),
            partner_id: None,
            customer_id: None,
        };
        self.issue(&claims)
    }
}

/// A demo slug's tenant id, or a UUID given directly.
pub fn tenant_id_of(tenant: &str) -> Uuid {
    Uuid::parse_str(tenant).unwrap_or_else(|_| demo::tenant_id(tenant))
}
