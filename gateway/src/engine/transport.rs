//! The seams between the engine and the outside: how a subgraph request is sent, and
//! where already-fetched entities may be found. The gateway provides an HTTP transport
//! and (per caller) an entity cache; tests provide in-memory ones.

use bytes::Bytes;
use futures::future::BoxFuture;
use serde_json::Value;

pub use super::errors::TransportError;

/// Sends one GraphQL request to a subgraph. `body` is a JSON GraphQL request
/// (`{"query": ..., "variables": {...}}`); the reply is the raw JSON response body.
pub trait SubgraphTransport: Send + Sync {
    fn fetch<'a>(&'a self, subgraph: &'a str, body: Bytes) -> BoxFuture<'a, Result<Bytes, TransportError>>;

    /// Entities this request's caller may reuse instead of fetching them again.
    fn entity_cache(&self) -> Option<&dyn EntityCache> {
        None
    }
}

/// One `_entities` field of a subgraph fetch, as a cache sees it.
pub struct EntityFetch<'a> {
    pub service: &'a str,
    /// The fetch's operation text (every `_entities` field of the call).
    pub operation: &'a str,
    /// Which `_entities` field (its response key).
    pub response_key: &'a str,
    /// Values of the operation's variables other than the representations.
    pub variables: Vec<(&'a str, Option<&'a Value>)>,
}

/// What a cache found for the representations of one `_entities` field.
pub struct EntityLookup {
    /// Per representation, in order: the cached entity, or `None` to fetch.
    pub found: Vec<Option<Value>>,
    /// Per representation: where a fetched entity is stored (opaque to the engine).
    pub keys: Vec<String>,
    /// Seconds a fetched entity may be reused.
    pub max_age: u32,
}

/// Per-caller cache of entities: keys are scoped to the caller by the implementation.
pub trait EntityCache: Send + Sync {
    /// `None` when this fetch is not cacheable (no hint bounds it, the store is down).
    fn lookup<'a>(
        &'a self,
        fetch: EntityFetch<'a>,
        representations: Vec<&'a [u8]>,
    ) -> BoxFuture<'a, Option<EntityLookup>>;

    /// Stores entities fetched after a lookup: `(representation index, entity)`.
    fn store<'a>(&'a self, lookup: &'a EntityLookup, fetched: Vec<(usize, &'a Value)>) -> BoxFuture<'a, ()>;
}
