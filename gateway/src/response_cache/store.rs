//! Where cached answers and invalidation generations live: Redis, shared by every
//! gateway replica, or this process when no Redis is configured (`make run`, single
//! node).
//!
//! Invalidation works by generation rather than by deleting entries: every
//! `(tenant, type)` has a counter, and an entry's key includes the counters of the
//! types its answer depends on. A change event increments the counters, so older
//! entries are simply never looked up again and expire on their own. This is atomic
//! without scripts or tag sets, and an answer computed before a change but stored after
//! it lands under the old generation, where no one will read it.
//!
//! Redis keys (hash-tagged by tenant so a cluster keeps one tenant's keys together):
//! `{prefix}:rc:{<tenant>}:g:<Type>` (generation) and `{prefix}:rc:{<tenant>}:e:<sha256>`
//! (entry, with the answer's remaining lifetime as its TTL).

use std::{collections::HashMap, sync::Arc, time::Duration};

use parking_lot::Mutex;
use redis::aio::ConnectionManager;
use tokio::sync::OnceCell;
use uuid::Uuid;

/// A cache round trip must never hold a request up for long: past this, the request
/// runs uncached.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// A cached answer as read back: the execution's body before per-caller response policy
/// (masking, cost, authorization errors), and when it stops being fresh.
#[derive(Debug, Clone)]
pub(crate) struct CachedAnswer {
    pub body: serde_json::Value,
    /// Unix milliseconds.
    pub expires_at_ms: i64,
}

/// An answer on its way into the store, serialised once: its size is checked and both
/// stores keep exactly these bytes.
#[derive(Debug, Clone)]
pub(crate) struct StoredAnswer {
    /// The body as JSON text.
    pub json: Vec<u8>,
    /// Unix milliseconds.
    pub expires_at_ms: i64,
}

impl StoredAnswer {
    pub(crate) fn of(body: &serde_json::Value, expires_at_ms: i64) -> Self {
        // Writing a Value into a Vec cannot fail.
        StoredAnswer { json: serde_json::to_vec(body).unwrap_or_default(), expires_at_ms }
    }

    /// Redis value: the expiry as 8 big-endian bytes, then the JSON text.
    fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(8 + self.json.len());
        bytes.extend_from_slice(&self.expires_at_ms.to_be_bytes());
        bytes.extend_from_slice(&self.json);
        bytes
    }
}

/// Reads an answer back; anything this version did not write is a miss, not a failure.
fn decode(json: &[u8], expires_at_ms: i64) -> Option<CachedAnswer> {
    Some(CachedAnswer { body: serde_json::from_slice(json).ok()?, expires_at_ms })
}

#[derive(Debug, thiserror::Error)]
#[error("the response cache store is unavailable: {0}")]
pub(crate) struct StoreError(String);

impl From<redis::RedisError> for StoreError {
    fn from(error: redis::RedisError) -> Self {
        StoreError(error.to_string())
    }
}

pub(crate) enum CacheStore {
    Local(LocalStore),
    Redis(RedisStore),
}

impl CacheStore {
    pub(crate) fn local(capacity_bytes: u64) -> Self {
        CacheStore::Local(LocalStore::new(capacity_bytes))
    }

    pub(crate) fn redis(url: &str, key_prefix: &str) -> Result<Self, redis::RedisError> {
        Ok(CacheStore::Redis(RedisStore {
            client: redis::Client::open(url)?,
            connection: OnceCell::new(),
            key_prefix: key_prefix.to_owned(),
        }))
    }

    /// The current generation of each of `types` in `tenant` (0 when never changed).
    pub(crate) async fn generations(&self, tenant: Uuid, types: &[String]) -> Result<Vec<u64>, StoreError> {
        match self {
            CacheStore::Local(local) => Ok(local.generations(tenant, types)),
            CacheStore::Redis(redis) => redis.generations(tenant, types).await,
        }
    }

    pub(crate) async fn get(&self, tenant: Uuid, key: &str) -> Result<Option<CachedAnswer>, StoreError> {
        let mut found = self.get_many(tenant, std::slice::from_ref(&key.to_owned())).await?;
        Ok(found.pop().flatten())
    }

    /// The entries at `keys`, in order, in one round trip.
    pub(crate) async fn get_many(
        &self,
        tenant: Uuid,
        keys: &[String],
    ) -> Result<Vec<Option<CachedAnswer>>, StoreError> {
        match self {
            CacheStore::Local(local) => Ok(keys.iter().map(|key| local.get(&entry_id(tenant, key))).collect()),
            CacheStore::Redis(redis) => redis.get_many(tenant, keys).await,
        }
    }

    pub(crate) async fn put(
        &self,
        tenant: Uuid,
        key: &str,
        answer: StoredAnswer,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.put_many(tenant, vec![(key.to_owned(), answer)], ttl).await
    }

    /// Stores entries that share a lifetime, in one round trip.
    pub(crate) async fn put_many(
        &self,
        tenant: Uuid,
        entries: Vec<(String, StoredAnswer)>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        match self {
            CacheStore::Local(local) => {
                for (key, answer) in entries {
                    local.put(entry_id(tenant, &key), answer);
                }
                Ok(())
            }
            CacheStore::Redis(redis) => redis.put_many(tenant, &entries, ttl).await,
        }
    }

    /// Makes every cached answer of `tenant` that depends on one of `types` unreachable.
    pub(crate) async fn bump(&self, tenant: Uuid, types: &[String]) -> Result<(), StoreError> {
        match self {
            CacheStore::Local(local) => {
                local.bump(tenant, types);
                Ok(())
            }
            CacheStore::Redis(redis) => redis.bump(tenant, types).await,
        }
    }

    pub(crate) fn is_shared(&self) -> bool {
        matches!(self, CacheStore::Redis(_))
    }
}

fn entry_id(tenant: Uuid, key: &str) -> String {
    format!("{tenant}:{key}")
}

/// The in-process store: a size-bounded map whose entries expire at their own time.
/// Answers are kept as JSON text, not as parsed trees: a tree of small objects takes ten
/// times its text in memory, and the capacity must bound what the process really holds.
pub(crate) struct LocalStore {
    entries: moka::sync::Cache<String, Arc<LocalEntry>>,
    generations: Mutex<HashMap<(Uuid, String), u64>>,
}

struct LocalEntry {
    body: Box<[u8]>,
    expires_at_ms: i64,
}

/// Memory an entry costs besides its key and body (map node, `Arc`, string headers).
const LOCAL_ENTRY_OVERHEAD: usize = 160;

struct ExpiresAt;

impl moka::Expiry<String, Arc<LocalEntry>> for ExpiresAt {
    fn expire_after_create(
        &self,
        _key: &String,
        entry: &Arc<LocalEntry>,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        let remaining_ms = entry.expires_at_ms - chrono::Utc::now().timestamp_millis();
        Some(Duration::from_millis(u64::try_from(remaining_ms).unwrap_or(0)))
    }
}

impl LocalStore {
    fn new(capacity_bytes: u64) -> Self {
        LocalStore {
            entries: moka::sync::Cache::builder()
                .max_capacity(capacity_bytes)
                .weigher(|key: &String, entry: &Arc<LocalEntry>| {
                    u32::try_from(key.len() + entry.body.len() + LOCAL_ENTRY_OVERHEAD).unwrap_or(u32::MAX)
                })
                .expire_after(ExpiresAt)
                .build(),
            generations: Mutex::default(),
        }
    }

    fn get(&self, id: &str) -> Option<CachedAnswer> {
        let entry = self.entries.get(id)?;
        decode(&entry.body, entry.expires_at_ms)
    }

    fn put(&self, id: String, answer: StoredAnswer) {
        let entry = LocalEntry { body: answer.json.into_boxed_slice(), expires_at_ms: answer.expires_at_ms };
        self.entries.insert(id, Arc::new(entry));
    }

    fn generations(&self, tenant: Uuid, types: &[String]) -> Vec<u64> {
        let generations = self.generations.lock();
        types.iter().map(|ty| generations.get(&(tenant, ty.clone())).copied().unwrap_or(0)).collect()
    }

    fn bump(&self, tenant: Uuid, types: &[String]) {
        let mut generations = self.generations.lock();
        for ty in types {
            *generations.entry((tenant, ty.clone())).or_insert(0) += 1;
        }
    }
}

pub(crate) struct RedisStore {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    key_prefix: String,
}

impl RedisStore {
    async fn connection(&self) -> Result<ConnectionManager, StoreError> {
        let connection = self.connection.get_or_try_init(|| crate::redis_connection::connect(&self.client)).await?;
        Ok(connection.clone())
    }

    fn generation_key(&self, tenant: Uuid, type_name: &str) -> String {
        format!("{}:rc:{{{tenant}}}:g:{type_name}", self.key_prefix)
    }

    fn entry_key(&self, tenant: Uuid, key: &str) -> String {
        format!("{}:rc:{{{tenant}}}:e:{key}", self.key_prefix)
    }

    async fn generations(&self, tenant: Uuid, types: &[String]) -> Result<Vec<u64>, StoreError> {
        if types.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = types.iter().map(|ty| self.generation_key(tenant, ty)).collect();
        let work = async {
            let mut connection = self.connection().await?;
            let values: Vec<Option<u64>> = redis::cmd("MGET").arg(&keys).query_async(&mut connection).await?;
            Ok(values.into_iter().map(Option::unwrap_or_default).collect())
        };
        within_timeout(work).await
    }

    async fn get_many(&self, tenant: Uuid, keys: &[String]) -> Result<Vec<Option<CachedAnswer>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = keys.iter().map(|key| self.entry_key(tenant, key)).collect();
        let work = async {
            let mut connection = self.connection().await?;
            let stored: Vec<Option<Vec<u8>>> = redis::cmd("MGET").arg(&keys).query_async(&mut connection).await?;
            Ok(stored
                .into_iter()
                .map(|bytes| {
                    let bytes = bytes?;
                    let (expiry, json) = bytes.split_first_chunk::<8>()?;
                    decode(json, i64::from_be_bytes(*expiry))
                })
                .collect())
        };
        within_timeout(work).await
    }

    async fn put_many(
        &self,
        tenant: Uuid,
        entries: &[(String, StoredAnswer)],
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut pipeline = redis::pipe();
        for (key, answer) in entries {
            pipeline.cmd("SET").arg(self.entry_key(tenant, key)).arg(answer.encode()).arg("PX").arg(ttl_ms).ignore();
        }
        let work = async {
            let mut connection = self.connection().await?;
            pipeline.query_async::<()>(&mut connection).await?;
            Ok(())
        };
        within_timeout(work).await
    }

    async fn bump(&self, tenant: Uuid, types: &[String]) -> Result<(), StoreError> {
        if types.is_empty() {
            return Ok(());
        }
        let work = async {
            let mut connection = self.connection().await?;
            let mut pipeline = redis::pipe();
            pipeline.atomic();
            for ty in types {
                pipeline.cmd("INCR").arg(self.generation_key(tenant, ty)).ignore();
            }
            pipeline.query_async::<()>(&mut connection).await?;
            Ok(())
        };
        within_timeout(work).await
    }
}

async fn within_timeout<T>(work: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
    tokio::time::timeout(REDIS_TIMEOUT, work)
        .await
        .unwrap_or_else(|_| Err(StoreError("the Redis call timed out".into())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(ttl_ms: i64) -> StoredAnswer {
        StoredAnswer::of(&serde_json::json!({ "data": { "ok": true } }), chrono::Utc::now().timestamp_millis() + ttl_ms)
    }

    #[tokio::test]
    async fn local_generations_are_per_tenant_and_type() {
        let store = CacheStore::local(1 << 20);
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let types = vec!["Account".to_owned(), "Ticket".to_owned()];
        store.bump(a, &types[1..]).await.unwrap();
        assert_eq!(store.generations(a, &types).await.unwrap(), vec![0, 1]);
        assert_eq!(store.generations(b, &types).await.unwrap(), vec![0, 0]);
    }

    #[test]
    fn the_local_capacity_bounds_the_bytes_held() {
        let store = LocalStore::new(16 * 1024);
        let body = serde_json::json!({ "data": { "text": "x".repeat(1000) } });
        let answer = StoredAnswer::of(&body, chrono::Utc::now().timestamp_millis() + 60_000);
        for index in 0..100 {
            store.put(format!("key-{index}"), answer.clone());
        }
        store.entries.run_pending_tasks();
        assert!(store.entries.weighted_size() <= 16 * 1024, "{} bytes held", store.entries.weighted_size());
        let kept = store.entries.entry_count();
        assert!((1..100).contains(&kept), "{kept} entries kept");
        let kept_one = (0..100).find_map(|index| store.get(&format!("key-{index}")));
        assert_eq!(kept_one.map(|kept| kept.body), Some(body), "a kept answer reads back unchanged");
    }

    #[tokio::test]
    async fn local_entries_are_per_tenant() {
        let store = CacheStore::local(1 << 20);
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        store.put(a, "k", answer(60_000), Duration::from_secs(60)).await.unwrap();
        assert!(store.get(a, "k").await.unwrap().is_some());
        assert!(store.get(b, "k").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn redis_round_trip_and_generations() {
        let Some(url) = atrium_contract::testing::redis_url().await else { return };
        let prefix = format!("atrium-test-{}", Uuid::new_v4());
        let store = CacheStore::redis(&url, &prefix).unwrap();
        let tenant = Uuid::new_v4();
        let types = vec!["Ticket".to_owned()];
        assert_eq!(store.generations(tenant, &types).await.unwrap(), vec![0]);
        store.put(tenant, "k", answer(60_000), Duration::from_secs(60)).await.unwrap();
        assert_eq!(store.get(tenant, "k").await.unwrap().unwrap().body["data"]["ok"], true);
        store.bump(tenant, &types).await.unwrap();
        assert_eq!(store.generations(tenant, &types).await.unwrap(), vec![1]);
        assert!(store.get(Uuid::new_v4(), "k").await.unwrap().is_none());
    }
}
