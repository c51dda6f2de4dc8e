//! The catalog subgraph's GraphQL layer: schema construction, object types, federation
//! entity resolvers, mutations and per-request DataLoaders.

mod loaders;
mod mutations;
mod schema;
mod types;

pub use schema::{CatalogSchema, build_schema, install_request_data};
