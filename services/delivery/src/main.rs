//! `atrium-delivery`: serves the delivery subgraph, or prints its SDL (`--help` for options).

use atrium_delivery::{config::SERVICE, sdl, startup};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    atrium_kit::service::run_cli(
        &SERVICE,
        "Atrium delivery subgraph (engagements, onboarding, milestones)",
        sdl,
        startup::build,
    )
    .await
}
