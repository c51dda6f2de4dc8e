//! Support subgraph API tests: the real application on port 0, called over HTTP with a
//! gateway-signed tenant context, on SQLite and (when available) PostgreSQL.

mod audit_log;
mod change_events;
mod escalation_workflow;
mod escalations;
mod helpers;
mod pagination;
mod second_level_scopes;
mod seeding;
mod sla;
mod startup;
mod statements;
mod status_conflicts;
mod stories;
mod tenancy;
