//! Analytics subgraph API tests: the real application on port 0, called over HTTP with a
//! gateway-signed tenant context, on SQLite and (when available) PostgreSQL.

mod automation;
mod batching;
mod dead_letters;
mod health;
mod health_model;
mod health_snapshots;
mod helpers;
mod kpis;
mod lifecycle;
mod tenancy;
