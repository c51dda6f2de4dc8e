//! `atrium-finance`: serves the finance subgraph, or prints its SDL (`--help` for options).

use atrium_finance::{config::SERVICE, sdl, startup};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    atrium_kit::service::run_cli(
        &SERVICE,
        "Atrium finance subgraph (customer accounts, contracts, subscriptions, invoices and aging)",
        sdl,
        startup::build,
    )
    .await
}
