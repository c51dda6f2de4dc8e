//! The seam between the engine and the network: how a subgraph request is sent.
//! The gateway provides an HTTP implementation; tests provide in-memory ones.

use bytes::Bytes;
use futures::future::BoxFuture;

pub use super::errors::TransportError;

/// Sends one GraphQL request to a subgraph. `body` is a JSON GraphQL request
/// (`{"query": ..., "variables": {...}}`); the reply is the raw JSON response body.
pub trait SubgraphTransport: Send + Sync {
    fn fetch<'a>(&'a self, subgraph: &'a str, body: Bytes) -> BoxFuture<'a, Result<Bytes, TransportError>>;
}
