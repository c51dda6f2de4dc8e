//! Analytics subgraph API tests: the real application on port 0, called over HTTP with a
//! gateway-signed tenant context, on SQLite and (when available) PostgreSQL.

mod batching;
mod dead_letters;
mod health;
mod helpers;
mod kpis;
mod lifecycle;
mod tenancy;
