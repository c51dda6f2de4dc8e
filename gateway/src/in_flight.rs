//! De-duplication of identical in-flight work: while one computation for a key is running,
//! identical requests wait for its result instead of starting it again. Used for subgraph
//! fetches (key: subgraph + exact body + signed tenant context) and for whole client
//! queries (key: tenant context + document + variables), so results are only ever shared
//! between callers who would get byte-identical answers — never across tenants, roles or
//! scopes. Only queries come here (callers keep mutations out), and only with a key: a
//! request whose key cannot be built executes alone rather than under a stand-in key. Each computation runs as
//! its own task that removes its entry when it ends, so a caller that gives up (client
//! disconnect, timeout) neither cancels it for the others nor leaves an entry behind.

use std::{collections::HashMap, hash::Hash, sync::Arc};

use futures::future::{BoxFuture, FutureExt, Shared};
use parking_lot::Mutex;

/// How a result type reports that the task computing it failed (panicked).
pub(crate) trait TaskFailure {
    fn task_failed(message: String) -> Self;
}

pub(crate) struct InFlight<K, V: Clone> {
    entries: Mutex<HashMap<K, Shared<BoxFuture<'static, V>>>>,
}

impl<K, V: Clone> Default for InFlight<K, V> {
    fn default() -> Self {
        InFlight { entries: Mutex::new(HashMap::new()) }
    }
}

impl<K, V> InFlight<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + TaskFailure + Send + Sync + 'static,
{
    /// Joins the identical computation in flight, or starts `work` and lets later
    /// identical callers join it.
    pub(crate) async fn run<F>(self: &Arc<Self>, key: K, work: F) -> V
    where
        F: Future<Output = V> + Send + 'static,
    {
        let shared = {
            let mut entries = self.entries.lock();
            match entries.get(&key) {
                Some(running) => running.clone(),
                None => {
                    let registry = Arc::clone(self);
                    let own_key = key.clone();
                    // The entry is inserted before the lock is released, so the task's
                    // removal always finds (and removes) its own entry.
                    let task = tokio::spawn(async move {
                        let result = work.await;
                        registry.entries.lock().remove(&own_key);
                        result
                    });
                    let shared = async move {
                        task.await.unwrap_or_else(|error| V::task_failed(format!("in-flight task failed: {error}")))
                    }
                    .boxed()
                    .shared();
                    entries.insert(key, shared.clone());
                    shared
                }
            }
        };
        shared.await
    }

    /// Computations currently in flight.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use bytes::Bytes;
    use tokio::sync::Notify;

    use super::*;
    use crate::{engine::TransportError, subgraph_client::FetchKey};

    fn key(context: &str) -> FetchKey {
        FetchKey {
            subgraph: "products".into(),
            signed_context: context.into(),
            body: Bytes::from_static(br#"{"query":"{topProducts{upc}}"}"#),
        }
    }

    /// A fetch that counts its calls, waits for `release` and answers with its context.
    fn gated_fetch(
        calls: &Arc<AtomicUsize>,
        release: &Arc<Notify>,
        context: &'static str,
    ) -> impl Future<Output = Result<Bytes, TransportError>> + Send + 'static {
        let (calls, release) = (Arc::clone(calls), Arc::clone(release));
        async move {
            calls.fetch_add(1, Ordering::SeqCst);
            release.notified().await;
            Ok(Bytes::from(format!(r#"{{"data":{{"context":"{context}"}}}}"#)))
        }
    }

    #[tokio::test]
    async fn identical_fetches_in_flight_share_one_subgraph_call() {
        let in_flight = Arc::new(InFlight::default());
        let (calls, release) = (Arc::new(AtomicUsize::new(0)), Arc::new(Notify::new()));
        let first = tokio::spawn({
            let in_flight = Arc::clone(&in_flight);
            let fetch = gated_fetch(&calls, &release, "tenant-a");
            async move { in_flight.run(key("tenant-a"), fetch).await }
        });
        while in_flight.len() == 0 {
            tokio::task::yield_now().await;
        }
        let second = tokio::spawn({
            let in_flight = Arc::clone(&in_flight);
            let fetch = gated_fetch(&calls, &release, "tenant-a");
            async move { in_flight.run(key("tenant-a"), fetch).await }
        });
        while calls.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        // Let the second caller reach the shared fetch before it is released.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        release.notify_one();
        let (first, second) = (first.await.unwrap().unwrap(), second.await.unwrap().unwrap());
        assert_eq!(first, second);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(in_flight.len(), 0);
    }

    #[tokio::test]
    async fn fetches_with_different_tenant_contexts_are_never_shared() {
        let in_flight = Arc::new(InFlight::default());
        let (calls, release) = (Arc::new(AtomicUsize::new(0)), Arc::new(Notify::new()));
        let a = tokio::spawn({
            let in_flight = Arc::clone(&in_flight);
            let fetch = gated_fetch(&calls, &release, "tenant-a");
            async move { in_flight.run(key("tenant-a"), fetch).await }
        });
        let b = tokio::spawn({
            let in_flight = Arc::clone(&in_flight);
            let fetch = gated_fetch(&calls, &release, "tenant-b");
            async move { in_flight.run(key("tenant-b"), fetch).await }
        });
        while calls.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        assert_eq!(in_flight.len(), 2);
        release.notify_waiters();
        assert_eq!(a.await.unwrap().unwrap(), Bytes::from_static(br#"{"data":{"context":"tenant-a"}}"#));
        assert_eq!(b.await.unwrap().unwrap(), Bytes::from_static(br#"{"data":{"context":"tenant-b"}}"#));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_finished_fetch_is_not_reused_by_later_callers() {
        let in_flight = Arc::new(InFlight::default());
        let calls = Arc::new(AtomicUsize::new(0));
        for _ in 0..2 {
            let calls = Arc::clone(&calls);
            let fetch = async move {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok(Bytes::from_static(b"{}"))
            };
            in_flight.run(key("tenant-a"), fetch).await.unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(in_flight.len(), 0);
    }

    #[tokio::test]
    async fn a_caller_giving_up_neither_cancels_the_shared_fetch_nor_leaves_an_entry() {
        let in_flight = Arc::new(InFlight::default());
        let (calls, release) = (Arc::new(AtomicUsize::new(0)), Arc::new(Notify::new()));
        let leader = tokio::spawn({
            let in_flight = Arc::clone(&in_flight);
            let fetch = gated_fetch(&calls, &release, "tenant-a");
            async move { in_flight.run(key("tenant-a"), fetch).await }
        });
        while calls.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        let follower = tokio::spawn({
            let in_flight = Arc::clone(&in_flight);
            let fetch = gated_fetch(&calls, &release, "tenant-a");
            async move { in_flight.run(key("tenant-a"), fetch).await }
        });
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        leader.abort();
        release.notify_one();
        let answer = follower.await.unwrap().unwrap();
        assert_eq!(answer, Bytes::from_static(br#"{"data":{"context":"tenant-a"}}"#));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(in_flight.len(), 0);
    }
}
