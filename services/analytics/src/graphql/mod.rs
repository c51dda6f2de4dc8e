//! The analytics subgraph's GraphQL layer: schema construction, object types, the
//! `CustomerAccount` entity extension with `@requires`, the customer journey and
//! automation types, and per-request DataLoaders.

mod journey;
mod kpis;
mod loaders;
mod schema;
mod types;

pub use schema::{AnalyticsSchema, build_schema, install_request_data};
