//! The support subgraph's GraphQL layer: schema construction, object types (including
//! the fields contributed to `CustomerAccount`), federation entity resolvers and
//! per-request DataLoaders.

mod loaders;
mod schema;
mod types;

pub use schema::{Mutation, SupportSchema, build_schema, install_request_data};
