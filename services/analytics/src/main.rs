//! `atrium-analytics`: serves the analytics subgraph, prints its SDL, or rebuilds read
//! models from the event journal (`rebuild --tenant <slug-or-uuid>` or `rebuild --all`;
//! `--help` for the serving options).

use atrium_analytics::{config::SERVICE, read_models::rebuild, sdl, startup};
use atrium_kit::{db, demo, service::ServiceConfig};
use uuid::Uuid;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("rebuild") {
        return rebuild_command(&args[1..]).await;
    }
    atrium_kit::service::run_cli(
        &SERVICE,
        "Atrium analytics subgraph (customer health scores from cross-service inputs)",
        sdl,
        startup::build,
    )
    .await
}

/// Rebuilds the named tenant's (or every tenant's) read models, printing progress.
async fn rebuild_command(args: &[String]) -> anyhow::Result<()> {
    let tenants: Vec<Uuid> = match args {
        [flag] if flag == "--all" => demo::TENANTS.iter().map(|tenant| demo::tenant_id(tenant.slug)).collect(),
        [flag, tenant] if flag == "--tenant" => vec![tenant_of(tenant)?],
        _ => anyhow::bail!("usage: atrium-analytics rebuild (--tenant <slug-or-uuid> | --all)"),
    };
    let config = ServiceConfig::load(&SERVICE, None)?;
    let database = db::connect(&config.database_url, 2, None).await?;
    let mut replayed_total = 0;
    for tenant in tenants {
        println!("rebuilding read models of tenant {tenant}");
        let replayed = rebuild::rebuild_tenant(&database, tenant, |progress| {
            println!("  replayed {} / {} events", progress.replayed, progress.total);
        })
        .await?;
        replayed_total += replayed;
    }
    println!("rebuild finished: {replayed_total} events replayed");
    Ok(())
}

fn tenant_of(text: &str) -> anyhow::Result<Uuid> {
    if let Ok(id) = Uuid::parse_str(text) {
        return Ok(id);
    }
    demo::tenant_by_slug(text)
        .map(|tenant| demo::tenant_id(tenant.slug))
        .ok_or_else(|| anyhow::anyhow!("no tenant with slug or id `{text}`"))
}
