//! TLS to subgraphs (`[subgraph_tls]`): which certificate authorities the gateway trusts
//! for `https` subgraph URLs, and the client certificate it presents to subgraphs that
//! require one (mutual TLS). Settings apply to every subgraph, or per subgraph.
//!
//! By default the platform's trusted roots verify subgraph certificates (as reqwest
//! does elsewhere in the gateway). A `ca_file` replaces them rather than adding to them:
//! a platform with its own CA should not also accept any public certificate for a
//! subgraph's name. The crypto provider is aws-lc-rs, the one rustls is built with here.

use std::{collections::BTreeMap, path::Path, path::PathBuf, sync::Arc};

use rustls::{
    ClientConfig, RootCertStore,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
};
use serde::Deserialize;

/// `[subgraph_tls]`: settings for every subgraph, and per-subgraph replacements.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubgraphTlsConfig {
    /// PEM file of the CA certificate(s) subgraph certificates must chain to; when set,
    /// only these are trusted. Default: none (the platform's trusted roots).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// PEM certificate chain the gateway presents to subgraphs (mutual TLS), leaf first.
    /// Default: none (no client certificate). Needs `client_key_file`.
    #[serde(default)]
    pub client_certificate_file: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of `client_certificate_file`. Default: none.
    #[serde(default)]
    pub client_key_file: Option<PathBuf>,
    /// Per subgraph name, settings that replace the ones above entirely for that subgraph.
    /// Default: none.
    #[serde(default)]
    pub per_subgraph: BTreeMap<String, TlsSettings>,
}

/// One subgraph's TLS settings (same meaning and defaults as in [`SubgraphTlsConfig`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default)]
    pub client_certificate_file: Option<PathBuf>,
    #[serde(default)]
    pub client_key_file: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum SubgraphTlsError {
    #[error("subgraph TLS: cannot read {path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("subgraph TLS: {0} holds no PEM certificate")]
    NoCertificate(PathBuf),
    #[error("subgraph TLS: client_certificate_file and client_key_file must be set together")]
    IncompleteClientIdentity,
    #[error("subgraph TLS: subgraph_tls.per_subgraph names `{0}`, which is not a subgraph of the supergraph")]
    UnknownSubgraph(String),
    #[error("subgraph TLS: {0}")]
    Rustls(#[from] rustls::Error),
}

impl SubgraphTlsConfig {
    /// The settings every subgraph without its own entry uses.
    pub fn shared_settings(&self) -> TlsSettings {
        TlsSettings {
            ca_file: self.ca_file.clone(),
            client_certificate_file: self.client_certificate_file.clone(),
            client_key_file: self.client_key_file.clone(),
        }
    }

    /// The settings of `subgraph`: its own entry, else the shared ones.
    pub fn settings_for(&self, subgraph: &str) -> TlsSettings {
        self.per_subgraph.get(subgraph).cloned().unwrap_or_else(|| self.shared_settings())
    }
}

impl TlsSettings {
    /// The rustls client configuration these settings describe (the connector adds ALPN).
    pub fn client_config(&self) -> Result<ClientConfig, SubgraphTlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions()?;
        let builder = match &self.ca_file {
            Some(path) => {
                let mut roots = RootCertStore::empty();
                for certificate in certificates(path)? {
                    roots.add(certificate)?;
                }
                builder.with_root_certificates(roots)
            }
            None => rustls_platform_verifier::BuilderVerifierExt::with_platform_verifier(builder)?,
        };
        match (&self.client_certificate_file, &self.client_key_file) {
            (Some(certificate), Some(key)) => {
                Ok(builder.with_client_auth_cert(certificates(certificate)?, private_key(key)?)?)
            }
            (None, None) => Ok(builder.with_no_client_auth()),
            _ => Err(SubgraphTlsError::IncompleteClientIdentity),
        }
    }
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, SubgraphTlsError> {
    let unreadable = |reason: String| SubgraphTlsError::Unreadable { path: path.to_owned(), reason };
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|error| unreadable(error.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| unreadable(error.to_string()))?;
    if certificates.is_empty() {
        return Err(SubgraphTlsError::NoCertificate(path.to_owned()));
    }
    Ok(certificates)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, SubgraphTlsError> {
    // The key's own bytes never reach the error: only the file and the parser's reason.
    PrivateKeyDer::from_pem_file(path)
        .map_err(|error| SubgraphTlsError::Unreadable { path: path.to_owned(), reason: error.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subgraphs_own_entry_replaces_the_shared_settings() {
        let config: SubgraphTlsConfig = toml::from_str(
            r#"
            ca_file = "/etc/atrium/ca.pem"
            client_certificate_file = "/etc/atrium/gateway.pem"
            client_key_file = "/etc/atrium/gateway.key"
            [per_subgraph.finance]
            ca_file = "/etc/atrium/finance-ca.pem"
            "#,
        )
        .unwrap();
        assert_eq!(config.settings_for("catalog"), config.shared_settings());
        let finance = config.settings_for("finance");
        assert_eq!(finance.ca_file.as_deref(), Some(Path::new("/etc/atrium/finance-ca.pem")));
        assert_eq!(finance.client_certificate_file, None);
    }

    #[test]
    fn a_certificate_without_its_key_and_unreadable_files_are_refused() {
        let half = TlsSettings { client_certificate_file: Some("/nonexistent.pem".into()), ..TlsSettings::default() };
        assert!(matches!(half.client_config(), Err(SubgraphTlsError::IncompleteClientIdentity)));
        let missing = TlsSettings { ca_file: Some("/nonexistent/ca.pem".into()), ..TlsSettings::default() };
        assert!(matches!(missing.client_config(), Err(SubgraphTlsError::Unreadable { .. })));
    }

    #[test]
    fn without_settings_the_platform_roots_verify() {
        assert!(TlsSettings::default().client_config().is_ok());
    }
}
