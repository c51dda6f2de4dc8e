//! Catalog subgraph API tests: the real application on port 0, called over HTTP with a
//! gateway-signed tenant context, on SQLite and (when available) PostgreSQL.

mod blueprints;
mod helpers;
mod publishing;
mod tenancy;
