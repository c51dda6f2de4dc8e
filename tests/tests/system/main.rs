//! Whole-system tests through the gateway: the portal query across five services,
//! authentication, CORS, field authorization, tenant isolation, PostgreSQL row-level security, schema drift, TLS to subgraphs and event dead letters.

mod admin_publish;
mod analytics_kpis;
mod api_compatibility;
mod architecture;
mod audit_log;
mod authentication;
mod automation_rules;
mod cors;
mod delivery_time;
mod event_dead_letters;
mod field_authorization;
mod finance_billing;
mod finance_ledger;
mod graphql_over_http;
mod health_model;
mod internal_listener;
mod isolation;
mod lifecycle_journey;
mod observability;
mod operation_policy;
mod operations;
mod persisted_documents;
mod portal_query;
mod rate_limits;
mod response_cache;
mod row_level_security;
mod schema_drift;
mod second_level_scopes;
mod subgraph_list;
mod subgraph_tls;
mod support_sla;
