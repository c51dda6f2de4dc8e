//! Storage of published manifests and APQ registrations: Redis when configured (shared by
//! every gateway replica), otherwise a directory of manifest files plus an in-process APQ
//! cache bounded in bytes. Requests read an in-memory snapshot; a reload loop refreshes it,
//! so publishing from the CLI or another replica takes effect without a restart.
//!
//! Lookups fail closed: a store that cannot be read (Redis unreachable, or publications
//! never loaded) is an error, never an answer of "not found".

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use atrium_contract::ClientKind;
use parking_lot::RwLock;
use redis::{AsyncCommands, aio::ConnectionManager};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::manifest::Manifest;

/// Where a manifest applies: every tenant, or one tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Platform,
    Tenant(Uuid),
}

impl Scope {
    fn key(self) -> String {
        match self {
            Scope::Platform => "platform".to_owned(),
            Scope::Tenant(id) => id.to_string(),
        }
    }

    fn parse(text: &str) -> Option<Self> {
        if text == "platform" { Some(Scope::Platform) } else { Uuid::parse_str(text).ok().map(Scope::Tenant) }
    }
}

/// What is stored per (scope, client kind): the manifest and its publication version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Publication {
    pub version: u64,
    pub published_at: String,
    pub manifest: Manifest,
}

/// The published documents of one (scope, client kind), indexed for request-time lookups.
#[derive(Debug, Default)]
struct PublishedSet {
    by_id: HashMap<String, Arc<str>>,
    body_hashes: HashSet<[u8; 32]>,
}

impl From<&Manifest> for PublishedSet {
    fn from(manifest: &Manifest) -> Self {
        let mut set = PublishedSet::default();
        for operation in &manifest.operations {
            set.body_hashes.insert(sha256(&operation.body));
            set.by_id.insert(operation.id.clone(), Arc::from(operation.body.as_str()));
        }
        set
    }
}

pub fn sha256(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

pub fn sha256_hex(text: &str) -> String {
    sha256(text).iter().map(|byte| format!("{byte:02x}")).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("stored publication is corrupt: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error("published documents have not been loaded yet")]
    NotLoaded,
}

enum Backend {
    Directory(PathBuf),
    Redis(Box<RedisBackend>),
}

struct RedisBackend {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    prefix: String,
}

pub struct DocumentStore {
    backend: Backend,
    snapshot: RwLock<HashMap<(Scope, ClientKind), PublishedSet>>,
    /// Publications and reloads of this process run one at a time: a reload that read the
    /// store before a publication must not replace the newer snapshot, and two publications
    /// of one (scope, client) must not both take the same version.
    writes: tokio::sync::Mutex<()>,
    /// Whether the snapshot has been read from the store at least once: until then a
    /// document missing from it may still be published.
    loaded: AtomicBool,
    apq_local: moka::sync::Cache<(Uuid, String), Arc<str>>,
    apq_ttl: Duration,
}

/// How APQ registrations are kept: for how long, and how much of them in this process.
#[derive(Debug, Clone, Copy)]
pub struct ApqLimits {
    pub ttl: Duration,
    /// Bytes of document text plus hash held in process.
    pub local_capacity_bytes: u64,
}

impl DocumentStore {
    pub fn new(
        redis_url: Option<&str>,
        key_prefix: &str,
        directory: &Path,
        apq: ApqLimits,
    ) -> Result<Self, StoreError> {
        let backend = match redis_url {
            Some(url) => Backend::Redis(Box::new(RedisBackend {
                client: redis::Client::open(url)?,
                connection: OnceCell::new(),
                prefix: key_prefix.to_owned(),
            })),
            None => Backend::Directory(directory.to_owned()),
        };
        Ok(DocumentStore {
            backend,
            snapshot: RwLock::new(HashMap::new()),
            writes: tokio::sync::Mutex::new(()),
            loaded: AtomicBool::new(false),
            // Weighed by size, not counted: a count bound would let a client holding
            // documents near the body limit pin gigabytes.
            apq_local: moka::sync::Cache::builder()
                .max_capacity(apq.local_capacity_bytes)
                .weigher(|(_, hash): &(Uuid, String), body: &Arc<str>| {
                    u32::try_from(hash.len() + body.len()).unwrap_or(u32::MAX)
                })
                .time_to_live(apq.ttl)
                .build(),
            apq_ttl: apq.ttl,
        })
    }

    /// The body published under `id` for the caller, tenant scope first, then platform.
    /// `NotLoaded` when it is not in a snapshot that was never read from the store.
    pub fn published_body(&self, tenant: Uuid, client: ClientKind, id: &str) -> Result<Option<Arc<str>>, StoreError> {
        let snapshot = self.snapshot.read();
        let found = [Scope::Tenant(tenant), Scope::Platform]
            .into_iter()
            .find_map(|scope| snapshot.get(&(scope, client)).and_then(|set| set.by_id.get(id).cloned()));
        if found.is_none() && !self.is_loaded() {
            return Err(StoreError::NotLoaded);
        }
        Ok(found)
    }

    /// Whether this exact document text is published for the caller; `NotLoaded` when it
    /// is not in a snapshot that was never read from the store.
    pub fn is_published(&self, tenant: Uuid, client: ClientKind, body: &str) -> Result<bool, StoreError> {
        let hash = sha256(body);
        let snapshot = self.snapshot.read();
        let published = [Scope::Tenant(tenant), Scope::Platform]
            .into_iter()
            .any(|scope| snapshot.get(&(scope, client)).is_some_and(|set| set.body_hashes.contains(&hash)));
        if !published && !self.is_loaded() {
            return Err(StoreError::NotLoaded);
        }
        Ok(published)
    }

    fn is_loaded(&self) -> bool {
        self.loaded.load(Ordering::Acquire)
    }

    /// Stores a manifest as the next version for (scope, client) and refreshes the snapshot.
    pub async fn publish(&self, scope: Scope, client: ClientKind, manifest: Manifest) -> Result<u64, StoreError> {
        Ok(self.publish_publication(scope, client, manifest).await?.version)
    }

    /// Like [`DocumentStore::publish`], returning the stored publication. Requests on this
    /// process see it as soon as this returns; other processes at their next reload.
    pub async fn publish_publication(
        &self,
        scope: Scope,
        client: ClientKind,
        manifest: Manifest,
    ) -> Result<Publication, StoreError> {
        let _writes = self.writes.lock().await;
        let previous = self.load_one(scope, client).await?.map_or(0, |publication| publication.version);
        let publication =
            Publication { version: previous + 1, published_at: chrono::Utc::now().to_rfc3339(), manifest };
        let text = serde_json::to_string_pretty(&publication)?;
        match &self.backend {
            Backend::Directory(directory) => {
                let path = directory.join(scope.key()).join(format!("{}.json", client.as_str()));
                let io = |source| StoreError::Io { path: path.display().to_string(), source };
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(io)?;
                }
                // Write then rename, so a reloading gateway never reads half a file.
                let temporary = path.with_extension("json.tmp");
                std::fs::write(&temporary, text).map_err(io)?;
                std::fs::rename(&temporary, &path).map_err(io)?;
            }
            Backend::Redis(redis_backend) => {
                let prefix = &redis_backend.prefix;
                let mut connection = self.redis().await?;
                let _: () = connection.set(format!("{prefix}:pq:{}:{}", scope.key(), client.as_str()), text).await?;
            }
        }
        self.snapshot.write().insert((scope, client), PublishedSet::from(&publication.manifest));
        Ok(publication)
    }

    /// Every stored publication (for `pq check` and reloads).
    pub async fn load_all(&self) -> Result<Vec<(Scope, ClientKind, Publication)>, StoreError> {
        let mut found = Vec::new();
        match &self.backend {
            Backend::Directory(directory) => {
                let Ok(scopes) = std::fs::read_dir(directory) else { return Ok(found) };
                for scope_entry in scopes.flatten() {
                    let Some(scope) = scope_entry.file_name().to_str().and_then(Scope::parse) else { continue };
                    let Ok(files) = std::fs::read_dir(scope_entry.path()) else { continue };
                    for file in files.flatten() {
                        let path = file.path();
                        let Some(client) = path
                            .extension()
                            .filter(|extension| *extension == "json")
                            .and(path.file_stem())
                            .and_then(|stem| stem.to_str())
                            .and_then(ClientKind::parse)
                        else {
                            continue;
                        };
                        let text = std::fs::read_to_string(&path)
                            .map_err(|source| StoreError::Io { path: path.display().to_string(), source })?;
                        found.push((scope, client, serde_json::from_str(&text)?));
                    }
                }
            }
            Backend::Redis(redis_backend) => {
                let prefix = &redis_backend.prefix;
                let mut connection = self.redis().await?;
                let pattern = format!("{prefix}:pq:*");
                let keys: Vec<String> = {
                    let mut iterator = connection.scan_match::<_, String>(&pattern).await?;
                    let mut keys = Vec::new();
                    while let Some(key) = futures::StreamExt::next(&mut iterator).await {
                        keys.push(key?);
                    }
                    keys
                };
                for key in keys {
                    let mut parts = key.rsplitn(3, ':');
                    let (Some(client), Some(scope)) = (parts.next(), parts.next()) else { continue };
                    let (Some(client), Some(scope)) = (ClientKind::parse(client), Scope::parse(scope)) else {
                        continue;
                    };
                    let text: Option<String> = connection.get(&key).await?;
                    if let Some(text) = text {
                        found.push((scope, client, serde_json::from_str(&text)?));
                    }
                }
            }
        }
        Ok(found)
    }

    async fn load_one(&self, scope: Scope, client: ClientKind) -> Result<Option<Publication>, StoreError> {
        Ok(self.load_all().await?.into_iter().find(|(s, c, _)| *s == scope && *c == client).map(|(_, _, p)| p))
    }

    /// Re-reads every publication into the request-time snapshot.
    pub async fn reload(&self) -> Result<usize, StoreError> {
        let _writes = self.writes.lock().await;
        let publications = self.load_all().await?;
        let count = publications.len();
        let snapshot = publications
            .into_iter()
            .map(|(scope, client, publication)| ((scope, client), PublishedSet::from(&publication.manifest)))
            .collect();
        *self.snapshot.write() = snapshot;
        self.loaded.store(true, Ordering::Release);
        Ok(count)
    }

    /// An APQ registration of the caller's tenant. A Redis that cannot answer is an error:
    /// reporting "not found" would have every client resend full documents to a gateway
    /// that cannot keep them, and hide the outage.
    pub async fn apq_body(&self, tenant: Uuid, hash: &str) -> Result<Option<Arc<str>>, StoreError> {
        if let Some(body) = self.apq_local.get(&(tenant, hash.to_owned())) {
            return Ok(Some(body));
        }
        let Backend::Redis(redis_backend) = &self.backend else { return Ok(None) };
        let prefix = &redis_backend.prefix;
        let mut connection = self.redis().await?;
        let body: Option<String> = connection.get(format!("{prefix}:apq:{tenant}:{hash}")).await?;
        let Some(body) = body else { return Ok(None) };
        let body: Arc<str> = Arc::from(body);
        self.apq_local.insert((tenant, hash.to_owned()), body.clone());
        Ok(Some(body))
    }

    /// Registers an APQ document for the caller's tenant (tenant-keyed so one tenant can
    /// never probe another's registrations by hash).
    pub async fn register_apq(&self, tenant: Uuid, hash: &str, body: &str) {
        self.apq_local.insert((tenant, hash.to_owned()), Arc::from(body));
        if let Backend::Redis(redis_backend) = &self.backend {
            let prefix = &redis_backend.prefix;
            let stored = async {
                let mut connection = self.redis().await?;
                connection
                    .set_ex::<_, _, ()>(format!("{prefix}:apq:{tenant}:{hash}"), body, self.apq_ttl.as_secs())
                    .await
                    .map_err(StoreError::from)
            };
            if let Err(error) = stored.await {
                // The local copy still serves this replica; others will ask the client again.
                tracing::warn!(%error, "could not share an APQ registration through Redis");
            }
        }
    }

    /// The weight of the in-process APQ registrations once pending evictions have run.
    #[cfg(test)]
    pub(crate) fn apq_local_weighted_bytes(&self) -> u64 {
        self.apq_local.run_pending_tasks();
        self.apq_local.weighted_size()
    }

    async fn redis(&self) -> Result<ConnectionManager, StoreError> {
        match &self.backend {
            Backend::Redis(redis_backend) => Ok(redis_backend
                .connection
                .get_or_try_init(|| crate::redis_connection::connect(&redis_backend.client))
                .await?
                .clone()),
            Backend::Directory(_) => {
                Err(StoreError::Redis(redis::RedisError::from((redis::ErrorKind::Client, "no Redis is configured"))))
            }
        }
    }
}
