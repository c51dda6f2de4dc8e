//! Delivery subgraph API tests: the real application on port 0, called over HTTP with a
//! gateway-signed tenant context, on SQLite and (when available) PostgreSQL.

mod batching;
mod commands;
mod dead_letters;
mod engagements;
mod helpers;
mod operations;
mod reporting;
mod second_level_scopes;
mod tenancy;
mod transitions;
