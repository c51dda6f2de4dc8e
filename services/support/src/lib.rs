//! Support subgraph: tickets (docs/domain.md#support). Federation owner of `Ticket`; contributes
//! `tickets` and `openUrgentHighTicketCount` to finance's `CustomerAccount`.

pub mod commands;
pub mod config;
pub mod domain;
mod entities;
pub mod error;
pub mod escalation_workflow;
pub mod events;
pub mod graphql;
pub mod repository;
pub mod sla_jobs;
pub mod startup;

/// The subgraph's Federation v2 SDL, as committed under `schema/support.graphql`.
pub fn sdl() -> String {
    graphql::build_schema().sdl_with_options(async_graphql::SDLExportOptions::new().federation().compose_directive())
}
