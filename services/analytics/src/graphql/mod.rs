//! The analytics subgraph's GraphQL layer: schema construction, object types, the
//! `CustomerAccount` entity extension with `@requires`, the customer journey and
//! automation types, and per-request DataLoaders.

mod cs_actions;
mod health_admin;
mod health_signals;
mod journey;
mod kpis;
mod loaders;
mod mutation;
mod schema;
mod types;

pub use schema::{AnalyticsSchema, build_schema, install_request_data};
