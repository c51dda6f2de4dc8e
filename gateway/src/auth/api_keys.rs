//! API keys for service accounts and BI tools: `atr_<id>_<secret>` sent as a bearer token.
//! Only a SHA-256 of the secret is stored, with the tenant, client kind and roles the key
//! acts as, its creation and revocation times and when it was last used. Keys live in Redis
//! when configured (shared by every replica), otherwise in a file; gateways reload them
//! periodically, so a revocation takes effect within one reload period everywhere.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use atrium_kit::{ClientKind, TenantContext, tenant::KNOWN_ROLES};
use base64::Engine as _;
use parking_lot::RwLock;
use redis::{AsyncCommands, aio::ConnectionManager};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;
use uuid::Uuid;

/// Every API key starts with this, so the authenticator knows it is not a JWT and secret
/// scanners can recognise leaked keys.
pub const KEY_PREFIX: &str = "atr_";

/// A stored key: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub id: String,
    pub name: String,
    pub tenant_id: Uuid,
    pub client_kind: ClientKind,
    pub roles: Vec<String>,
    pub secret_sha256: String,
    pub created_at: String,
    #[serde(default)]
    pub revoked_at: Option<String>,
    #[serde(default)]
    pub last_used_at: Option<String>,
}

impl ApiKeyRecord {
    fn context(&self) -> TenantContext {
        TenantContext {
            tenant_id: self.tenant_id,
            subject: format!("apikey:{}", self.id),
            roles: self.roles.clone(),
            client_kind: self.client_kind,
            channel_partner_id: None,
            customer_account_id: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("stored keys are corrupt: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error("unknown role `{0}`")]
    UnknownRole(String),
    #[error("no API key with id `{0}`")]
    NotFound(String),
}

enum Backend {
    File(PathBuf),
    Redis(Box<RedisKeys>),
}

struct RedisKeys {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    prefix: String,
}

/// How often a key's last-used time is written at most (a busy BI tool must not turn every
/// request into a write).
const LAST_USED_RESOLUTION: Duration = Duration::from_secs(60);

pub struct ApiKeyStore {
    backend: Backend,
    snapshot: RwLock<HashMap<String, ApiKeyRecord>>,
    last_used_written: moka::sync::Cache<String, ()>,
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

impl ApiKeyStore {
    pub fn new(redis_url: Option<&str>, key_prefix: &str, directory: &Path) -> Result<Self, ApiKeyError> {
        let backend = match redis_url {
            Some(url) => Backend::Redis(Box::new(RedisKeys {
                client: redis::Client::open(url)?,
                connection: OnceCell::new(),
                prefix: key_prefix.to_owned(),
            })),
            None => Backend::File(directory.join("api-keys.json")),
        };
        Ok(ApiKeyStore {
            backend,
            snapshot: RwLock::new(HashMap::new()),
            last_used_written: moka::sync::Cache::builder().time_to_live(LAST_USED_RESOLUTION).build(),
        })
    }

    /// Creates a key and returns it in full: the only time the secret is ever visible.
    pub async fn create(
        &self,
        name: &str,
        tenant_id: Uuid,
        client_kind: ClientKind,
        roles: Vec<String>,
    ) -> Result<(String, ApiKeyRecord), ApiKeyError> {
        if let Some(unknown) = roles.iter().find(|role| !KNOWN_ROLES.contains(&role.as_str())) {
            return Err(ApiKeyError::UnknownRole(unknown.clone()));
        }
        let id = Uuid::new_v4().simple().to_string()[..16].to_owned();
        let mut secret_bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut secret_bytes).map_err(|_| ApiKeyError::Io {
            path: "system random".into(),
            source: std::io::Error::other("no randomness"),
        })?;
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret_bytes);
        let record = ApiKeyRecord {
            id: id.clone(),
            name: name.to_owned(),
            tenant_id,
            client_kind,
            roles,
            secret_sha256: sha256_hex(&secret),
            created_at: chrono::Utc::now().to_rfc3339(),
            revoked_at: None,
            last_used_at: None,
        };
        self.save(&record).await?;
        Ok((format!("{KEY_PREFIX}{id}_{secret}"), record))
    }

    pub async fn revoke(&self, id: &str) -> Result<ApiKeyRecord, ApiKeyError> {
        let mut record = self.load_all().await?.remove(id).ok_or_else(|| ApiKeyError::NotFound(id.to_owned()))?;
        record.revoked_at = Some(chrono::Utc::now().to_rfc3339());
        self.save(&record).await?;
        Ok(record)
    }

    pub async fn list(&self) -> Result<Vec<ApiKeyRecord>, ApiKeyError> {
        let mut records: Vec<ApiKeyRecord> = self.load_all().await?.into_values().collect();
        records.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        Ok(records)
    }

    /// Verifies a presented key against the snapshot: the caller's context, or `None` for
    /// an unknown, malformed, wrong or revoked key. Records the use.
    pub async fn verify(&self, presented: &str) -> Option<TenantContext> {
        let (id, secret) = presented.strip_prefix(KEY_PREFIX)?.split_once('_')?;
        let record = self.snapshot.read().get(id).cloned()?;
        // Hashes of secrets are compared, never the secrets, so timing reveals nothing useful.
        if record.revoked_at.is_some() || record.secret_sha256 != sha256_hex(secret) {
            return None;
        }
        self.touch(record.clone()).await;
        Some(record.context())
    }

    async fn touch(&self, mut record: ApiKeyRecord) {
        if self.last_used_written.contains_key(&record.id) {
            return;
        }
        self.last_used_written.insert(record.id.clone(), ());
        record.last_used_at = Some(chrono::Utc::now().to_rfc3339());
        if let Err(error) = self.save(&record).await {
            tracing::warn!(%error, key = %record.id, "could not record an API key's last use");
        }
    }

    /// Re-reads every key into the request-time snapshot.
    pub async fn reload(&self) -> Result<usize, ApiKeyError> {
        let records = self.load_all().await?;
        let count = records.len();
        *self.snapshot.write() = records;
        Ok(count)
    }

    /// Loads now, then keeps reloading in the background.
    pub async fn start_reloading(self: &Arc<Self>, period: Duration) {
        if let Err(error) = self.reload().await {
            tracing::warn!(%error, "could not load API keys; retrying in the background");
        }
        let store = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(period.max(Duration::from_secs(1)));
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let Some(store) = store.upgrade() else { break };
                if let Err(error) = store.reload().await {
                    tracing::warn!(%error, "reloading API keys failed; keeping the previous set");
                }
            }
        });
    }

    async fn save(&self, record: &ApiKeyRecord) -> Result<(), ApiKeyError> {
        match &self.backend {
            Backend::File(path) => {
                let mut records = self.load_all().await?;
                records.insert(record.id.clone(), record.clone());
                let io = |source| ApiKeyError::Io { path: path.display().to_string(), source };
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(io)?;
                }
                let temporary = path.with_extension("json.tmp");
                std::fs::write(&temporary, serde_json::to_string_pretty(&records)?).map_err(io)?;
                std::fs::rename(&temporary, path).map_err(io)?;
            }
            Backend::Redis(keys) => {
                let mut connection = self.redis(keys).await?;
                let _: () = connection
                    .hset(format!("{}:apikeys", keys.prefix), &record.id, serde_json::to_string(record)?)
                    .await?;
            }
        }
        self.snapshot.write().insert(record.id.clone(), record.clone());
        Ok(())
    }

    async fn load_all(&self) -> Result<HashMap<String, ApiKeyRecord>, ApiKeyError> {
        match &self.backend {
            Backend::File(path) => match std::fs::read_to_string(path) {
                Ok(text) => Ok(serde_json::from_str(&text)?),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(HashMap::new()),
                Err(source) => Err(ApiKeyError::Io { path: path.display().to_string(), source }),
            },
            Backend::Redis(keys) => {
                let mut connection = self.redis(keys).await?;
                let stored: HashMap<String, String> = connection.hgetall(format!("{}:apikeys", keys.prefix)).await?;
                stored
                    .into_iter()
                    .map(|(id, text)| Ok((id, serde_json::from_str(&text)?)))
                    .collect::<Result<_, ApiKeyError>>()
            }
        }
    }

    async fn redis(&self, keys: &RedisKeys) -> Result<ConnectionManager, ApiKeyError> {
        Ok(keys.connection.get_or_try_init(|| crate::redis_connection::connect(&keys.client)).await?.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_store() -> (ApiKeyStore, PathBuf) {
        let directory = std::env::temp_dir().join(format!("atrium-keys-{}", Uuid::new_v4().simple()));
        (ApiKeyStore::new(None, "atrium", &directory).unwrap(), directory)
    }

    #[tokio::test]
    async fn a_created_key_authenticates_as_its_tenant_client_and_roles_until_revoked() {
        let (store, _) = file_store();
        let tenant = Uuid::new_v4();
        let (key, record) = store.create("Looker", tenant, ClientKind::Bi, vec!["exec".into()]).await.unwrap();
        let context = store.verify(&key).await.expect("valid key");
        assert_eq!((context.tenant_id, context.client_kind), (tenant, ClientKind::Bi));
        assert_eq!(context.roles, vec!["exec"]);
        assert_eq!(context.subject, format!("apikey:{}", record.id));
        store.revoke(&record.id).await.unwrap();
        assert!(store.verify(&key).await.is_none());
    }

    #[tokio::test]
    async fn stores_only_a_hash_and_rejects_wrong_or_malformed_secrets() {
        let (store, directory) = file_store();
        let (key, record) = store.create("etl", Uuid::new_v4(), ClientKind::Service, vec![]).await.unwrap();
        let secret = key.rsplit('_').next().unwrap();
        let stored = std::fs::read_to_string(directory.join("api-keys.json")).unwrap();
        assert!(!stored.contains(secret), "the secret must never be stored");
        assert!(store.verify(&format!("{KEY_PREFIX}{}_wrong", record.id)).await.is_none());
        assert!(store.verify("atr_missing").await.is_none());
        assert!(store.verify("not-a-key").await.is_none());
    }

    #[tokio::test]
    async fn records_the_last_use_and_refuses_unknown_roles() {
        let (store, _) = file_store();
        let (key, record) = store.create("bi", Uuid::new_v4(), ClientKind::Bi, vec!["finance".into()]).await.unwrap();
        assert!(record.last_used_at.is_none());
        store.verify(&key).await.unwrap();
        let listed = store.list().await.unwrap();
        assert!(listed[0].last_used_at.is_some());
        let refused = store.create("bad", Uuid::new_v4(), ClientKind::Bi, vec!["root".into()]).await;
        assert!(matches!(refused, Err(ApiKeyError::UnknownRole(_))));
    }

    #[tokio::test]
    async fn a_revocation_in_redis_reaches_another_replica_on_reload() {
        let Some(url) = atrium_kit::testing::redis_url().await else { return };
        let prefix = format!("atrium-test-{}", Uuid::new_v4().simple());
        let admin = ApiKeyStore::new(Some(&url), &prefix, Path::new("/nonexistent")).unwrap();
        let replica = ApiKeyStore::new(Some(&url), &prefix, Path::new("/nonexistent")).unwrap();
        let (key, record) = admin.create("bi", Uuid::new_v4(), ClientKind::Bi, vec![]).await.unwrap();
        replica.reload().await.unwrap();
        assert!(replica.verify(&key).await.is_some());
        admin.revoke(&record.id).await.unwrap();
        replica.reload().await.unwrap();
        assert!(replica.verify(&key).await.is_none());
    }
}
