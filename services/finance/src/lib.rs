//! Finance subgraph: customer accounts, contracts, subscriptions, invoices and disputes
//! (docs/domain.md#finance). Federation owner of `CustomerAccount`, `Contract`, `Subscription` and
//! `Invoice`.

pub mod aging_job;
pub mod billing_commands;
pub mod commands;
pub mod config;
pub mod dispute_commands;
pub mod domain;
pub mod engagement_commands;
mod entities;
pub mod error;
pub mod events;
pub mod graphql;
pub mod repository;
pub mod startup;

/// The subgraph's Federation v2 SDL, as committed under `schema/finance.graphql`.
pub fn sdl() -> String {
    graphql::build_schema().sdl_with_options(async_graphql::SDLExportOptions::new().federation().compose_directive())
}
