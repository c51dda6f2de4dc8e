//! API keys for service accounts and BI tools: `atr_<id>_<secret>` sent as a bearer token.
//! Only a SHA-256 of the secret is stored, with the tenant, client kind and roles the key
//! acts as, its creation and revocation times and when it was last used. Keys live in Redis
//! when configured (shared by every replica), otherwise in a file.
//!
//! Revocation is final. Requests are verified against a snapshot every gateway reloads
//! periodically, so a revocation takes effect everywhere within one reload period; a
//! gateway that cannot reload for longer than its staleness bound refuses every API key
//! (503) rather than keep honouring a list that may miss revocations. No write ever
//! replaces a whole stored record with a snapshot copy: recording a use writes only the
//! key's last-use time, and revoking writes only its revocation time, so a gateway with a
//! stale snapshot cannot write a revoked key back as active.
//!
//! Redis layout, under `<prefix>:`
//! - `apikeys` — id → the record as JSON, written once when the key is created. Records
//!   written by earlier versions may still carry `revoked_at` / `last_used_at` here; they
//!   are honoured (a revocation in either place counts) and never rewritten.
//! - `apikeys:revoked_at` — id → RFC 3339 time, set once by the first revocation.
//! - `apikeys:last_used_at` — id → RFC 3339 time, the only field a use writes.
//!
//! The file backend keeps one JSON map of records (the format is unchanged) and changes it
//! only under an exclusive lock on a companion `.lock` file, re-reading the file first and
//! changing just the one field, so gateways and the `api-key` command sharing the file
//! never lose each other's writes.

use std::{
    collections::HashMap,
    fs::File,
    io::Write as _,
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use atrium_contract::{ClientKind, TenantContext, tenant::KNOWN_ROLES};
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
    #[error("a key with the new id `{0}` already exists")]
    IdTaken(String),
}

/// Why a presented API key was not accepted. Only [`ApiKeyRejection::ListStale`] is the
/// gateway's fault; the others are the caller's and look alike to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApiKeyRejection {
    #[error("the token is not of the form atr_<id>_<secret>")]
    Malformed,
    #[error("no API key has this id")]
    Unknown,
    #[error("the secret does not match the key's")]
    WrongSecret,
    #[error("the API key is revoked")]
    Revoked,
    #[error("the API key list has not been reloaded within its staleness bound")]
    ListStale,
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

impl RedisKeys {
    fn records(&self) -> String {
        format!("{}:apikeys", self.prefix)
    }
    fn revoked_at(&self) -> String {
        format!("{}:apikeys:revoked_at", self.prefix)
    }
    fn last_used_at(&self) -> String {
        format!("{}:apikeys:last_used_at", self.prefix)
    }
}

/// How often a key's last-used time is written at most (a busy BI tool must not turn every
/// request into a write).
const LAST_USED_RESOLUTION: Duration = Duration::from_secs(60);

/// How long a gateway keeps verifying against its last loaded list when reloading fails,
/// unless configured otherwise.
pub const DEFAULT_MAX_STALENESS: Duration = Duration::from_secs(300);

/// The keys requests are verified against, and when they were last read from the store
/// (`None`: never, so nothing can be verified).
#[derive(Default)]
struct Snapshot {
    records: HashMap<String, ApiKeyRecord>,
    loaded_at: Option<Instant>,
}

pub struct ApiKeyStore {
    backend: Backend,
    snapshot: RwLock<Snapshot>,
    max_staleness: Duration,
    last_used_written: moka::sync::Cache<String, ()>,
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339()
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
            snapshot: RwLock::new(Snapshot::default()),
            max_staleness: DEFAULT_MAX_STALENESS,
            last_used_written: moka::sync::Cache::builder().time_to_live(LAST_USED_RESOLUTION).build(),
        })
    }

    /// How long requests are still verified against the last loaded list while reloading
    /// fails; after that every API key is refused as unverifiable.
    pub fn with_max_staleness(mut self, max_staleness: Duration) -> Self {
        self.max_staleness = max_staleness;
        self
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
            created_at: now_rfc3339(),
            revoked_at: None,
            last_used_at: None,
        };
        match &self.backend {
            Backend::File(path) => {
                let new = record.clone();
                update_file(path, move |records| {
                    if records.contains_key(&new.id) {
                        return Err(ApiKeyError::IdTaken(new.id));
                    }
                    records.insert(new.id.clone(), new);
                    Ok(())
                })
                .await?;
            }
            Backend::Redis(keys) => {
                let mut connection = self.redis(keys).await?;
                let created: bool = connection.hset_nx(keys.records(), &id, serde_json::to_string(&record)?).await?;
                if !created {
                    return Err(ApiKeyError::IdTaken(id));
                }
            }
        }
        self.snapshot.write().records.insert(id.clone(), record.clone());
        Ok((format!("{KEY_PREFIX}{id}_{secret}"), record))
    }

    /// Revokes a key for good: only its revocation time is written, once; revoking again
    /// keeps the first time.
    pub async fn revoke(&self, id: &str) -> Result<ApiKeyRecord, ApiKeyError> {
        let record = match &self.backend {
            Backend::File(path) => {
                let id = id.to_owned();
                update_file(path, move |records| {
                    let record = records.get_mut(&id).ok_or_else(|| ApiKeyError::NotFound(id.clone()))?;
                    record.revoked_at.get_or_insert_with(now_rfc3339);
                    Ok(record.clone())
                })
                .await?
            }
            Backend::Redis(keys) => {
                let mut connection = self.redis(keys).await?;
                let stored: Option<String> = connection.hget(keys.records(), id).await?;
                let mut record: ApiKeyRecord = match stored {
                    Some(text) => serde_json::from_str(&text)?,
                    None => return Err(ApiKeyError::NotFound(id.to_owned())),
                };
                if record.revoked_at.is_none() {
                    let _: bool = connection.hset_nx(keys.revoked_at(), id, now_rfc3339()).await?;
                    record.revoked_at = connection.hget(keys.revoked_at(), id).await?;
                }
                record.last_used_at =
                    connection.hget::<_, _, Option<String>>(keys.last_used_at(), id).await?.or(record.last_used_at);
                record
            }
        };
        if let Some(known) = self.snapshot.write().records.get_mut(id) {
            known.revoked_at = record.revoked_at.clone();
        }
        Ok(record)
    }

    pub async fn list(&self) -> Result<Vec<ApiKeyRecord>, ApiKeyError> {
        let mut records: Vec<ApiKeyRecord> = self.load_all().await?.into_values().collect();
        records.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        Ok(records)
    }

    /// Verifies a presented key against the snapshot and returns the caller's context.
    /// Records the use.
    pub async fn verify(&self, presented: &str) -> Result<TenantContext, ApiKeyRejection> {
        let (id, secret) = presented
            .strip_prefix(KEY_PREFIX)
            .and_then(|rest| rest.split_once('_'))
            .ok_or(ApiKeyRejection::Malformed)?;
        let record = {
            let snapshot = self.snapshot.read();
            if snapshot.loaded_at.is_none_or(|loaded_at| loaded_at.elapsed() > self.max_staleness) {
                return Err(ApiKeyRejection::ListStale);
            }
            snapshot.records.get(id).cloned().ok_or(ApiKeyRejection::Unknown)?
        };
        // Hashes of secrets are compared, never the secrets, so timing reveals nothing useful.
        if record.secret_sha256 != sha256_hex(secret) {
            return Err(ApiKeyRejection::WrongSecret);
        }
        if record.revoked_at.is_some() {
            return Err(ApiKeyRejection::Revoked);
        }
        self.record_use(&record.id).await;
        Ok(record.context())
    }

    async fn record_use(&self, id: &str) {
        if self.last_used_written.contains_key(id) {
            return;
        }
        self.last_used_written.insert(id.to_owned(), ());
        let used_at = now_rfc3339();
        let written = match &self.backend {
            Backend::File(path) => {
                let (id, used_at) = (id.to_owned(), used_at.clone());
                update_file(path, move |records| {
                    // A key deleted from the file by hand stays deleted.
                    if let Some(record) = records.get_mut(&id) {
                        record.last_used_at = Some(used_at);
                    }
                    Ok(())
                })
                .await
            }
            Backend::Redis(keys) => match self.redis(keys).await {
                Ok(mut connection) => {
                    connection.hset::<_, _, _, ()>(keys.last_used_at(), id, &used_at).await.map_err(ApiKeyError::from)
                }
                Err(error) => Err(error),
            },
        };
        match written {
            Ok(()) => {
                if let Some(known) = self.snapshot.write().records.get_mut(id) {
                    known.last_used_at = Some(used_at);
                }
            }
            Err(error) => tracing::warn!(%error, key = %id, "could not record an API key's last use"),
        }
    }

    /// Re-reads every key into the request-time snapshot.
    pub async fn reload(&self) -> Result<usize, ApiKeyError> {
        let records = self.load_all().await?;
        let count = records.len();
        *self.snapshot.write() = Snapshot { records, loaded_at: Some(Instant::now()) };
        Ok(count)
    }

    /// Loads now, then keeps reloading every `period` (at least a second) in the
    /// background.
    pub async fn start_reloading(self: &Arc<Self>, period: Duration) {
        let period = period.max(Duration::from_secs(1));
        if let Err(error) = self.reload().await {
            tracing::warn!(%error, "could not load API keys; retrying in the background");
        }
        let store = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(period);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let Some(store) = store.upgrade() else { break };
                if let Err(error) = store.reload().await {
                    tracing::warn!(%error, "reloading API keys failed; keeping the previous set until it is too stale");
                }
            }
        });
    }

    async fn load_all(&self) -> Result<HashMap<String, ApiKeyRecord>, ApiKeyError> {
        match &self.backend {
            Backend::File(path) => read_file(path),
            Backend::Redis(keys) => {
                let mut connection = self.redis(keys).await?;
                // One MULTI/EXEC, so a record and its revocation are read at the same instant.
                let (stored, revocations, uses): (
                    HashMap<String, String>,
                    HashMap<String, String>,
                    HashMap<String, String>,
                ) = redis::pipe()
                    .atomic()
                    .hgetall(keys.records())
                    .hgetall(keys.revoked_at())
                    .hgetall(keys.last_used_at())
                    .query_async(&mut connection)
                    .await?;
                stored
                    .into_iter()
                    .map(|(id, text)| {
                        let mut record: ApiKeyRecord = serde_json::from_str(&text)?;
                        // A revocation stored in the record by an earlier version counts too.
                        if let Some(revoked_at) = revocations.get(&id) {
                            record.revoked_at.get_or_insert_with(|| revoked_at.clone());
                        }
                        if let Some(used_at) = uses.get(&id) {
                            record.last_used_at = Some(used_at.clone());
                        }
                        Ok((id, record))
                    })
                    .collect()
            }
        }
    }

    async fn redis(&self, keys: &RedisKeys) -> Result<ConnectionManager, ApiKeyError> {
        Ok(keys.connection.get_or_try_init(|| crate::redis_connection::connect(&keys.client)).await?.clone())
    }
}

fn read_file(path: &Path) -> Result<HashMap<String, ApiKeyRecord>, ApiKeyError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(serde_json::from_str(&text)?),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(HashMap::new()),
        Err(source) => Err(ApiKeyError::Io { path: path.display().to_string(), source }),
    }
}

/// Applies `change` to the records in `path` while holding an exclusive lock on
/// `<path>.lock` (an OS file lock, so it also excludes other processes), re-reading the
/// file under the lock so a write made meanwhile by another gateway or the CLI is kept.
/// The new file replaces the old one by rename, so unlocked readers see either version
/// whole.
async fn update_file<T, F>(path: &Path, change: F) -> Result<T, ApiKeyError>
where
    T: Send + 'static,
    F: FnOnce(&mut HashMap<String, ApiKeyRecord>) -> Result<T, ApiKeyError> + Send + 'static,
{
    let path = path.to_owned();
    let io_path = path.clone();
    let io = move |source| ApiKeyError::Io { path: io_path.display().to_string(), source };
    let locked = tokio::task::spawn_blocking(move || {
        let io = |source| ApiKeyError::Io { path: path.display().to_string(), source };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path.with_extension("json.lock"))
            .map_err(io)?;
        lock.lock().map_err(io)?;
        let mut records = read_file(&path)?;
        let outcome = change(&mut records)?;
        let temporary = path.with_extension("json.tmp");
        let mut file = File::create(&temporary).map_err(io)?;
        file.write_all(serde_json::to_string_pretty(&records)?.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&temporary, &path).map_err(io)?;
        // Dropping `lock` releases the lock.
        Ok(outcome)
    });
    locked.await.map_err(|error| io(std::io::Error::other(error.to_string())))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temporary_directory() -> PathBuf {
        std::env::temp_dir().join(format!("atrium-keys-{}", Uuid::new_v4().simple()))
    }

    /// A file store that has loaded its (empty) list, as a running gateway has.
    async fn file_store() -> (ApiKeyStore, PathBuf) {
        let directory = temporary_directory();
        let store = ApiKeyStore::new(None, "atrium", &directory).unwrap();
        store.reload().await.unwrap();
        (store, directory)
    }

    #[tokio::test]
    async fn a_created_key_authenticates_as_its_tenant_client_and_roles_until_revoked() {
        let (store, _) = file_store().await;
        let tenant = Uuid::new_v4();
        let (key, record) = store.create("Looker", tenant, ClientKind::Bi, vec!["exec".into()]).await.unwrap();
        let context = store.verify(&key).await.expect("valid key");
        assert_eq!((context.tenant_id, context.client_kind), (tenant, ClientKind::Bi));
        assert_eq!(context.roles, vec!["exec"]);
        assert_eq!(context.subject, format!("apikey:{}", record.id));
        store.revoke(&record.id).await.unwrap();
        assert_eq!(store.verify(&key).await.unwrap_err(), ApiKeyRejection::Revoked);
    }

    #[tokio::test]
    async fn stores_only_a_hash_and_rejects_wrong_or_malformed_secrets() {
        let (store, directory) = file_store().await;
        let (key, record) = store.create("etl", Uuid::new_v4(), ClientKind::Service, vec![]).await.unwrap();
        let secret = key.rsplit('_').next().unwrap();
        let stored = std::fs::read_to_string(directory.join("api-keys.json")).unwrap();
        assert!(!stored.contains(secret), "the secret must never be stored");
        let wrong = store.verify(&format!("{KEY_PREFIX}{}_wrong", record.id)).await;
        assert_eq!(wrong.unwrap_err(), ApiKeyRejection::WrongSecret);
        assert_eq!(store.verify("atr_missing").await.unwrap_err(), ApiKeyRejection::Malformed);
        assert_eq!(store.verify("atr_missing_secret").await.unwrap_err(), ApiKeyRejection::Unknown);
        assert_eq!(store.verify("not-a-key").await.unwrap_err(), ApiKeyRejection::Malformed);
    }

    #[tokio::test]
    async fn records_the_last_use_and_refuses_unknown_roles() {
        let (store, _) = file_store().await;
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
        let Some(url) = atrium_contract::testing::redis_url().await else { return };
        let prefix = format!("atrium-test-{}", Uuid::new_v4().simple());
        let admin = ApiKeyStore::new(Some(&url), &prefix, Path::new("/nonexistent")).unwrap();
        let replica = ApiKeyStore::new(Some(&url), &prefix, Path::new("/nonexistent")).unwrap();
        let (key, record) = admin.create("bi", Uuid::new_v4(), ClientKind::Bi, vec![]).await.unwrap();
        replica.reload().await.unwrap();
        assert_eq!(replica.verify(&key).await.unwrap().subject, format!("apikey:{}", record.id));
        admin.revoke(&record.id).await.unwrap();
        replica.reload().await.unwrap();
        assert_eq!(replica.verify(&key).await.unwrap_err(), ApiKeyRejection::Revoked);
    }

    /// Two gateways on one backend: `admin` revokes, `replica` has not reloaded yet and
    /// serves the key once more (the bounded window) and records that use. The use must
    /// not write the stale, unrevoked record back over the revocation.
    async fn a_use_on_a_stale_replica_never_undoes_a_revocation(
        admin: ApiKeyStore,
        replica: ApiKeyStore,
        fresh: ApiKeyStore,
    ) {
        let (key, record) = admin.create("Looker", Uuid::new_v4(), ClientKind::Bi, vec!["exec".into()]).await.unwrap();
        admin.reload().await.unwrap();
        replica.reload().await.unwrap();
        admin.revoke(&record.id).await.unwrap();
        let stale_use = replica.verify(&key).await.expect("the replica has not reloaded, so it still accepts the key");
        assert_eq!(stale_use.subject, format!("apikey:{}", record.id));
        admin.reload().await.unwrap();
        replica.reload().await.unwrap();
        assert_eq!(admin.verify(&key).await.unwrap_err(), ApiKeyRejection::Revoked, "on the revoking gateway");
        assert_eq!(replica.verify(&key).await.unwrap_err(), ApiKeyRejection::Revoked, "on the replica");
        let stored = fresh.list().await.unwrap().into_iter().find(|stored| stored.id == record.id).unwrap();
        assert!(stored.revoked_at.is_some(), "revoked in the store: {stored:?}");
        assert!(stored.last_used_at.is_some(), "the replica's use is still recorded: {stored:?}");
    }

    #[tokio::test]
    async fn a_use_on_a_stale_file_replica_never_undoes_a_revocation() {
        let directory = temporary_directory();
        let store = || ApiKeyStore::new(None, "atrium", &directory).unwrap();
        a_use_on_a_stale_replica_never_undoes_a_revocation(store(), store(), store()).await;
    }

    #[tokio::test]
    async fn a_use_on_a_stale_redis_replica_never_undoes_a_revocation() {
        let Some(url) = atrium_contract::testing::redis_url().await else { return };
        let prefix = format!("atrium-test-{}", Uuid::new_v4().simple());
        let store = || ApiKeyStore::new(Some(&url), &prefix, Path::new("/nonexistent")).unwrap();
        a_use_on_a_stale_replica_never_undoes_a_revocation(store(), store(), store()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_uses_on_many_file_replicas_keep_a_concurrent_revocation() {
        let directory = temporary_directory();
        let admin = ApiKeyStore::new(None, "atrium", &directory).unwrap();
        let mut keys = Vec::new();
        for index in 0..8 {
            keys.push(admin.create(&format!("bi-{index}"), Uuid::new_v4(), ClientKind::Bi, vec![]).await.unwrap());
        }
        let mut replicas = Vec::new();
        for _ in 0..4 {
            let replica = Arc::new(ApiKeyStore::new(None, "atrium", &directory).unwrap());
            replica.reload().await.unwrap();
            replicas.push(replica);
        }
        let uses = replicas.iter().flat_map(|replica| {
            keys.iter().map(|(key, _)| {
                let (replica, key) = (Arc::clone(replica), key.clone());
                tokio::spawn(async move { replica.verify(&key).await.map(|_| ()) })
            })
        });
        let uses: Vec<_> = uses.collect();
        for (_, record) in &keys {
            admin.revoke(&record.id).await.unwrap();
        }
        for used in uses {
            used.await.unwrap().unwrap();
        }
        let stored = ApiKeyStore::new(None, "atrium", &directory).unwrap().list().await.unwrap();
        assert_eq!(stored.len(), keys.len());
        for record in stored {
            assert!(record.revoked_at.is_some(), "{record:?}");
            assert!(record.last_used_at.is_some(), "{record:?}");
        }
    }

    #[tokio::test]
    async fn reads_redis_records_stored_whole_by_earlier_versions() {
        let Some(url) = atrium_contract::testing::redis_url().await else { return };
        let prefix = format!("atrium-test-{}", Uuid::new_v4().simple());
        let store = ApiKeyStore::new(Some(&url), &prefix, Path::new("/nonexistent")).unwrap();
        let secret = "legacy-secret";
        let legacy = |id: &str, revoked_at: Option<&str>| ApiKeyRecord {
            id: id.to_owned(),
            name: format!("legacy {id}"),
            tenant_id: Uuid::new_v4(),
            client_kind: ClientKind::Bi,
            roles: vec!["exec".into()],
            secret_sha256: sha256_hex(secret),
            created_at: "2026-01-01T00:00:00+00:00".into(),
            revoked_at: revoked_at.map(str::to_owned),
            last_used_at: Some("2026-02-01T00:00:00+00:00".into()),
        };
        let Backend::Redis(keys) = &store.backend else { unreachable!() };
        let mut connection = store.redis(keys).await.unwrap();
        for record in [legacy("active", None), legacy("revoked", Some("2026-03-01T00:00:00+00:00"))] {
            let _: () =
                connection.hset(keys.records(), &record.id, serde_json::to_string(&record).unwrap()).await.unwrap();
        }
        store.reload().await.unwrap();
        assert_eq!(store.verify(&format!("{KEY_PREFIX}active_{secret}")).await.unwrap().subject, "apikey:active");
        assert_eq!(store.verify(&format!("{KEY_PREFIX}revoked_{secret}")).await.unwrap_err(), ApiKeyRejection::Revoked);
        let revoked = store.revoke("revoked").await.unwrap();
        assert_eq!(revoked.revoked_at.as_deref(), Some("2026-03-01T00:00:00+00:00"), "the first revocation time stays");
        store.revoke("active").await.unwrap();
        store.reload().await.unwrap();
        let listed: HashMap<String, ApiKeyRecord> =
            store.list().await.unwrap().into_iter().map(|record| (record.id.clone(), record)).collect();
        assert!(listed["active"].revoked_at.is_some());
        assert_ne!(listed["active"].last_used_at.as_deref(), Some("2026-02-01T00:00:00+00:00"), "the use was recorded");
        assert_eq!(store.verify(&format!("{KEY_PREFIX}active_{secret}")).await.unwrap_err(), ApiKeyRejection::Revoked);
    }

    #[tokio::test]
    async fn refuses_every_key_once_the_list_could_not_be_reloaded_for_longer_than_the_staleness_bound() {
        let directory = temporary_directory();
        let store = ApiKeyStore::new(None, "atrium", &directory).unwrap();
        let (key, _) = store.create("bi", Uuid::new_v4(), ClientKind::Bi, vec![]).await.unwrap();
        assert_eq!(store.verify(&key).await.unwrap_err(), ApiKeyRejection::ListStale, "never loaded");
        store.reload().await.unwrap();
        store.verify(&key).await.expect("freshly loaded");
        let file = directory.join("api-keys.json");
        let intact = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, "{ not json").unwrap();
        assert!(store.reload().await.is_err());
        store.verify(&key).await.expect("a failed reload keeps the last list within the bound");
        // As if every reload since one just past the bound had failed.
        let past_the_bound = Instant::now().checked_sub(DEFAULT_MAX_STALENESS + Duration::from_secs(1)).unwrap();
        store.snapshot.write().loaded_at = Some(past_the_bound);
        let stale = store.verify(&key).await.unwrap_err();
        assert_eq!(stale, ApiKeyRejection::ListStale);
        let answer = crate::http::unauthenticated("application/json", &super::super::AuthError::ApiKey(stale));
        assert_eq!(answer.status(), 503, "the gateway cannot verify: not the caller's fault");
        std::fs::write(&file, intact).unwrap();
        store.reload().await.unwrap();
        store.verify(&key).await.expect("verifies again once reloaded");
    }
}
