//! `atrium-gateway`: serves the gateway, issues dev tokens, composes the supergraph and
//! prints its client-facing API schema.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use std::sync::Arc;

use atrium_contract::ClientKind;
use atrium_gateway::{
    auth::{DevSigningKey, api_keys::ApiKeyStore, dev_key::tenant_id_of},
    composition::{SubgraphDefinition, compose},
    config::{Config, Profile},
    engine::{Engine, EngineOptions, Supergraph},
    persisted::{Manifest, PersistedDocuments, Scope, validate_manifest},
    startup::Application,
};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(version, about = "Atrium multi-tenant Federation v2 gateway")]
struct Cli {
    /// TOML config file; `ATRIUM_GATEWAY__<KEY>` variables override it.
    #[arg(long, global = true, env = "ATRIUM_GATEWAY_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the gateway (the default).
    Serve,
    /// Print a bearer token for the dev stack, signed with the local dev key.
    Token {
        /// Demo tenant slug (ridgeline, helix, veritas) or a tenant UUID.
        #[arg(long, default_value = "ridgeline")]
        tenant: String,
        /// Role(s), comma separated (e.g. csm or finance,exec).
        #[arg(long, default_value = "csm")]
        role: String,
        /// Client kind: partner_portal, dashboard, bi or service.
        #[arg(long, default_value = "dashboard")]
        client: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 8 * 3600)]
        ttl: i64,
    },
    /// Persisted (trusted) documents: publish manifests, check them against a schema, list them.
    Pq {
        #[command(subcommand)]
        command: PqCommand,
    },
    /// API keys for service accounts and BI tools: create (shown once), revoke, list.
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    /// Compose subgraph SDL files into a join v0.3 supergraph.
    Compose {
        /// `name=url=path/to/subgraph.graphql`, once per subgraph.
        #[arg(long = "subgraph", required = true)]
        subgraphs: Vec<String>,
        /// Where to write the supergraph; `-` for stdout.
        #[arg(long, default_value = "schema/supergraph.graphql")]
        output: PathBuf,
    },
    /// Print the admin endpoint's schema (`/admin/graphql`: publishing persisted documents).
    AdminSchema {
        /// Where to write it; `-` for stdout.
        #[arg(long, default_value = "schema/admin.graphql")]
        output: PathBuf,
    },
    /// Print the client-facing API schema of a supergraph (what portals and codegen read:
    /// no join or link machinery, no inaccessible elements).
    ApiSchema {
        /// The supergraph to print from.
        #[arg(long, default_value = "schema/supergraph.graphql")]
        supergraph: PathBuf,
        /// Where to write the API schema; `-` for stdout.
        #[arg(long, default_value = "schema/api.graphql")]
        output: PathBuf,
    },
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Create a key bound to a tenant, client kind and roles; prints the key once.
    Create {
        /// A name to recognise the key by (e.g. the BI tool).
        #[arg(long)]
        name: String,
        /// Demo tenant slug or tenant UUID.
        #[arg(long)]
        tenant: String,
        /// Client kind the key acts as: partner_portal, dashboard, bi or service.
        #[arg(long, default_value = "bi")]
        client: String,
        /// Role(s), comma separated.
        #[arg(long, default_value = "exec")]
        role: String,
    },
    /// Revoke a key by id; gateways stop accepting it within one reload period.
    Revoke { id: String },
    /// List keys: id, name, tenant, client kind, roles, created, last used, revoked.
    List,
}

#[derive(Subcommand)]
enum PqCommand {
    /// Validate an Apollo persisted-query manifest (v1) against the supergraph and publish
    /// it as the next version for a client kind. Nothing is published if any operation
    /// fails; each failure is printed with the operation name and the reason.
    Publish {
        /// Client kind the documents are for: partner_portal, dashboard, bi or service.
        #[arg(long)]
        client: String,
        /// `platform` (every tenant), a demo tenant slug, or a tenant UUID.
        #[arg(long, default_value = "platform")]
        tenant: String,
        /// The manifest file (JSON).
        manifest: PathBuf,
    },
    /// Re-validate every published document against a supergraph (default: the configured
    /// one) and list what it would break; exits non-zero if anything breaks.
    Check {
        #[arg(long)]
        supergraph: Option<PathBuf>,
    },
    /// List published manifests: scope, client kind, version, operations.
    List,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref()).context("loading configuration")?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Token { tenant, role, client, ttl } => {
            if config.profile != Profile::Dev {
                bail!("tokens are issued by the identity provider outside the dev profile");
            }
            let key = DevSigningKey::load_or_create(&config.auth.dev_key_path)?;
            let roles: Vec<String> = role.split(',').map(|role| role.trim().to_owned()).collect();
            let token =
                key.issue_for_demo(&config.auth.issuer, &config.auth.audience, &tenant, &roles, &client, ttl)?;
            println!("{token}");
            Ok(())
        }
        Command::Pq { command } => persisted_documents(config, command).await,
        Command::ApiKey { command } => api_keys(config, command).await,
        Command::Compose { subgraphs, output } => {
            let mut definitions = Vec::new();
            for spec in subgraphs {
                let mut parts = spec.splitn(3, '=');
                let (Some(name), Some(url), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
                    bail!("--subgraph expects name=url=path, got `{spec}`");
                };
                let sdl = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
                definitions.push(SubgraphDefinition { name: name.to_owned(), url: url.to_owned(), sdl });
            }
            let supergraph = compose(&definitions)?;
            write_output(&output, &supergraph)
        }
        Command::AdminSchema { output } => write_output(&output, &atrium_gateway::admin::sdl()),
        Command::ApiSchema { supergraph, output } => {
            let sdl =
                std::fs::read_to_string(&supergraph).with_context(|| format!("reading {}", supergraph.display()))?;
            let api = Supergraph::from_sdl(&sdl)?.api_schema_sdl();
            write_output(&output, &api)
        }
    }
}

/// Writes `text` to `output`, or to stdout for `-`.
fn write_output(output: &std::path::Path, text: &str) -> anyhow::Result<()> {
    if output.as_os_str() == "-" {
        print!("{text}");
    } else {
        std::fs::write(output, text).with_context(|| format!("writing {}", output.display()))?;
        eprintln!("wrote {}", output.display());
    }
    Ok(())
}

async fn api_keys(config: Config, command: ApiKeyCommand) -> anyhow::Result<()> {
    let store =
        ApiKeyStore::new(config.redis.url.as_deref(), &config.redis.key_prefix, &config.auth.api_keys_directory)?;
    match command {
        ApiKeyCommand::Create { name, tenant, client, role } => {
            let client = ClientKind::parse(&client)
                .with_context(|| format!("unknown client kind `{client}` (partner_portal, dashboard, bi, service)"))?;
            let roles = role.split(',').map(|role| role.trim().to_owned()).filter(|role| !role.is_empty()).collect();
            let (key, record) = store.create(&name, tenant_id_of(&tenant), client, roles).await?;
            eprintln!(
                "created API key {} for tenant {} ({}); it is shown only once:",
                record.id,
                record.tenant_id,
                client.as_str()
            );
            println!("{key}");
        }
        ApiKeyCommand::Revoke { id } => {
            let record = store.revoke(&id).await?;
            println!("revoked {} ({})", record.id, record.name);
        }
        ApiKeyCommand::List => {
            for record in store.list().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\tcreated {}\tlast used {}\t{}",
                    record.id,
                    record.name,
                    record.tenant_id,
                    record.client_kind.as_str(),
                    record.roles.join(","),
                    record.created_at,
                    record.last_used_at.as_deref().unwrap_or("never"),
                    record.revoked_at.as_deref().map_or("active".to_owned(), |at| format!("revoked {at}")),
                );
            }
        }
    }
    Ok(())
}

async fn persisted_documents(config: Config, command: PqCommand) -> anyhow::Result<()> {
    let documents = PersistedDocuments::new(
        config.persisted_documents.clone(),
        config.redis.url.as_deref(),
        &config.redis.key_prefix,
    )?;
    let load_engine = |path: &std::path::Path| -> anyhow::Result<Engine> {
        let sdl = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Ok(Engine::new(Arc::new(Supergraph::from_sdl(&sdl)?), EngineOptions::default()))
    };
    match command {
        PqCommand::Publish { client, tenant, manifest } => {
            let client = ClientKind::parse(&client)
                .with_context(|| format!("unknown client kind `{client}` (partner_portal, dashboard, bi, service)"))?;
            let scope = if tenant == "platform" { Scope::Platform } else { Scope::Tenant(tenant_id_of(&tenant)) };
            let text = std::fs::read_to_string(&manifest).with_context(|| format!("reading {}", manifest.display()))?;
            let manifest = Manifest::parse(&text)?;
            let engine = load_engine(&config.supergraph_path)?;
            let invalid = validate_manifest(&engine, &manifest).await;
            if !invalid.is_empty() {
                for operation in &invalid {
                    eprintln!("invalid: {operation}");
                }
                bail!(
                    "{} of {} operations do not validate; nothing was published",
                    invalid.len(),
                    manifest.operations.len()
                );
            }
            let count = manifest.operations.len();
            let version = documents.store().publish(scope, client, manifest).await?;
            println!("published {count} operations for {} ({scope:?}) as version {version}", client.as_str());
        }
        PqCommand::Check { supergraph } => {
            let engine = load_engine(supergraph.as_deref().unwrap_or(&config.supergraph_path))?;
            let mut broken = 0;
            for (scope, client, publication) in documents.store().load_all().await? {
                for operation in validate_manifest(&engine, &publication.manifest).await {
                    broken += 1;
                    println!("breaks: {} ({scope:?}, version {}): {operation}", client.as_str(), publication.version);
                }
            }
            if broken > 0 {
                bail!("{broken} published operations would break");
            }
            println!("every published operation validates");
        }
        PqCommand::List => {
            for (scope, client, publication) in documents.store().load_all().await? {
                println!(
                    "{scope:?}\t{}\tversion {}\t{} operations\tpublished {}",
                    client.as_str(),
                    publication.version,
                    publication.manifest.operations.len(),
                    publication.published_at
                );
            }
        }
    }
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let _telemetry = atrium_contract::telemetry::init("atrium-gateway", "info", config.log_format, &config.telemetry)
        .context("starting telemetry")?;
    let profile = config.profile;
    let application = Application::build(config).await.context("starting the gateway")?;
    tracing::info!(port = application.port(), internal_port = ?application.internal_port(), ?profile, "gateway listening");
    application.run_until_stopped().await?;
    Ok(())
}
