//! De-duplication of identical in-flight subgraph queries: while one fetch for a key is
//! running, identical fetches wait for its answer instead of calling the subgraph again.
//!
//! The key is the subgraph, the exact request body and the signed tenant context, so two
//! callers share an answer only when the subgraph would see byte-identical requests —
//! never across tenants, roles or scopes. Only queries come here (the caller keeps
//! mutations out). Each fetch runs as its own task that removes its entry when it ends, so
//! a caller that gives up (client disconnect, gateway timeout) neither cancels the fetch
//! for the others nor leaves an entry behind.

use std::{collections::HashMap, sync::Arc};

use bytes::Bytes;
use futures::future::{BoxFuture, FutureExt, Shared};
use parking_lot::Mutex;

use crate::engine::TransportError;

/// What makes two subgraph fetches interchangeable.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct FetchKey {
    pub subgraph: Arc<str>,
    pub signed_context: Arc<str>,
    pub body: Bytes,
}

type SharedFetch = Shared<BoxFuture<'static, Result<Bytes, TransportError>>>;

#[derive(Default)]
pub(crate) struct InFlight {
    entries: Mutex<HashMap<FetchKey, SharedFetch>>,
}

impl InFlight {
    /// Joins the identical fetch in flight, or starts `fetch` and lets later identical
    /// callers join it.
    pub(crate) async fn run<F>(self: &Arc<Self>, key: FetchKey, fetch: F) -> Result<Bytes, TransportError>
    where
        F: Future<Output = Result<Bytes, TransportError>> + Send + 'static,
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
                        let result = fetch.await;
                        registry.entries.lock().remove(&own_key);
                        result
                    });
                    let shared = async move {
                        task.await
                            .unwrap_or_else(|error| Err(TransportError::new(format!("fetch task failed: {error}"))))
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

    /// Fetches currently in flight.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::sync::Notify;

    use super::*;

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
