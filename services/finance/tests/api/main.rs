//! Finance subgraph API tests: the real application on port 0, called over HTTP with a
//! gateway-signed tenant context, on SQLite and (when available) PostgreSQL.

mod aging;
mod billing;
mod contracts;
mod disputes;
mod engagement_financials;
mod field_scopes;
mod helpers;
mod ledger;
mod pagination;
mod receivables;
mod second_level_scopes;
mod seeding;
mod statements;
mod tenancy;
