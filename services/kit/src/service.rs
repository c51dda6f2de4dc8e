//! Hosting a subgraph service: the configuration every service shares (listen address,
//! database URLs, accepted context keys, demo seeding, log format, change delivery) and the
//! application that wires migration, seeding, the schema, the HTTP handler and the change
//! relay together, so each service's `startup.rs` only names its own migrator, seed and
//! schema.

use std::{net::SocketAddr, path::Path, sync::Arc};

use async_graphql::Executor;
use futures::future::BoxFuture;
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use serde::Deserialize;

use crate::{
    ContextKey, ContextVerifier,
    changes::{self, ChangeRelay, ChangesConfig},
    config::ConfigError,
    db::StatementObserver,
    startup::{BoundServer, StartupError, prepare_database},
    subgraph_http::{self, RequestDataInstaller},
    telemetry::{self, LogFormat, Metrics, ReadinessCheck, RequestSpanOptions, TelemetryConfig},
};

/// What distinguishes one service's defaults from another's.
pub struct ServiceIdentity {
    /// Lower-case service name: the SQLite file name and log label.
    pub name: &'static str,
    /// The binary's name, for `--help`.
    pub binary: &'static str,
    /// Prefix of environment overrides, e.g. `ATRIUM_FINANCE` for `ATRIUM_FINANCE__LISTEN`.
    pub env_prefix: &'static str,
    /// Port of `make run` (4001 catalog … 4005 analytics).
    pub default_port: u16,
}

/// Configuration of a subgraph service. See `deploy/config/service.example.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// Address to serve GraphQL on. Default `127.0.0.1:<service port>`; tests use port 0.
    pub listen: SocketAddr,
    /// Runtime database URL: `sqlite://...` (default `.atrium/data/<service>.sqlite`) or
    /// `postgres://atrium_app@host/db` (the RLS-bound runtime role).
    pub database_url: String,
    /// Owner URL used only to migrate; defaults to `database_url`.
    #[serde(default)]
    pub migration_database_url: Option<String>,
    /// Runtime pool size. Default 10.
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// Keys accepted for the gateway-signed tenant context (several during rotation).
    /// Default: the development key, which only suits `make run` and tests.
    #[serde(default = "default_context_keys")]
    pub context_keys: Vec<ContextKey>,
    /// Seed the demo tenants (docs/domain.md#demo-data) on start. Default true.
    #[serde(default = "default_seed_demo_data")]
    pub seed_demo_data: bool,
    /// `pretty` (default) or `json`.
    #[serde(default)]
    pub log_format: LogFormat,
    /// Traces, metrics and their export (`[telemetry]`); export is off by default.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// Delivery of change events to the gateway (`[changes]`), for services with an
    /// outbox. [`ServiceConfig::load`] defaults `gateway_url` to the local gateway.
    #[serde(default)]
    pub changes: ChangesConfig,
}

fn default_max_connections() -> u32 {
    10
}

fn default_context_keys() -> Vec<ContextKey> {
    vec![ContextKey::development()]
}

fn default_seed_demo_data() -> bool {
    true
}

impl ServiceConfig {
    /// Loads `file` (optional) with environment overrides, filling the service's defaults.
    pub fn load(identity: &ServiceIdentity, file: Option<&Path>) -> Result<Self, ConfigError> {
        let defaults = [
            ("listen", toml::Value::String(format!("127.0.0.1:{}", identity.default_port))),
            ("database_url", toml::Value::String(format!("sqlite://.atrium/data/{}.sqlite?mode=rwc", identity.name))),
        ];
        let mut config: ServiceConfig = crate::config::load_with_defaults(file, identity.env_prefix, &defaults)?;
        config.changes = std::mem::take(&mut config.changes).with_local_default();
        Ok(config)
    }

    /// A configuration for tests: port 0, the given database, the development key, no
    /// change delivery.
    pub fn for_tests(database_url: String, migration_database_url: Option<String>) -> Self {
        ServiceConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url,
            migration_database_url,
            max_connections: 5,
            context_keys: default_context_keys(),
            seed_demo_data: true,
            log_format: LogFormat::default(),
            telemetry: TelemetryConfig::default(),
            changes: ChangesConfig::default(),
        }
    }
}

/// Seeds the demo tenants; errors are reported as text at startup.
pub type Seeder = for<'a> fn(&'a DatabaseConnection) -> BoxFuture<'a, Result<(), String>>;

/// A built subgraph service, listening but not yet serving.
pub struct SubgraphApplication {
    server: BoundServer,
    database: DatabaseConnection,
    metrics: Arc<Metrics>,
    _pool_gauges: Vec<opentelemetry::metrics::ObservableGauge<i64>>,
    /// Runs while the server runs; only services whose migrations create an outbox have one.
    relay: Option<ChangeRelay>,
}

impl SubgraphApplication {
    /// Migrates (as the owner), connects the runtime pool (reporting statements to
    /// `observer`), seeds when configured, prepares the change relay when the database has
    /// an outbox, and binds the GraphQL endpoint.
    pub async fn build<M: MigratorTrait, E: Executor + Clone>(
        config: &ServiceConfig,
        observer: Option<StatementObserver>,
        seed: Seeder,
        executor: E,
        install: RequestDataInstaller,
    ) -> Result<Self, StartupError> {
        let database = prepare_database::<M>(
            &config.database_url,
            config.migration_database_url.as_deref(),
            config.max_connections,
            observer,
        )
        .await?;
        if config.seed_demo_data {
            seed(&database).await.map_err(StartupError::Seed)?;
        }
        let metrics = Arc::new(Metrics::new(telemetry::service_name(), &config.telemetry)?);
        let pool_gauges = telemetry::observe_pool(&metrics, &database, config.max_connections);
        let has_outbox = changes::has_outbox(&database).await?;
        // The relay's own one-connection pool: it neither waits for nor holds connections
        // requests need, and its statements stay out of request statement logs.
        let relay_database =
            if has_outbox { crate::db::connect(&config.database_url, 1, None).await? } else { database.clone() };
        // Built even without an outbox, so a bad `[changes]` section fails every service.
        let relay = ChangeRelay::new(relay_database, &config.changes, &config.context_keys, &metrics)?;
        let relay = has_outbox.then_some(relay);
        let graphql =
            subgraph_http::router(executor, ContextVerifier::new(&config.context_keys), database.clone(), install);
        let graphql = telemetry::track_requests(graphql, &metrics, RequestSpanOptions { continue_remote_trace: true });
        let router =
            graphql.merge(telemetry::operational_routes(Arc::clone(&metrics), readiness_checks::<M>(&database)));
        let server = BoundServer::bind(config.listen, router).await?;
        Ok(SubgraphApplication { server, database, metrics, _pool_gauges: pool_gauges, relay })
    }

    /// This service's metrics registry (what `/metrics` serves).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    pub fn database(&self) -> &DatabaseConnection {
        &self.database
    }

    /// Where the relay delivers change events; `None` without an outbox or delivery.
    pub fn changes_endpoint(&self) -> Option<&reqwest::Url> {
        self.relay.as_ref().and_then(ChangeRelay::endpoint)
    }

    /// Serves (and relays changes) until Ctrl-C or SIGTERM.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let relay = self.relay.map(ChangeRelay::spawn);
        let served = self.server.run_until_stopped().await;
        if let Some(relay) = relay {
            relay.stop().await;
        }
        served
    }

    /// Serves (and relays changes) until `stop` completes.
    pub async fn run_until(self, stop: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let relay = self.relay.map(ChangeRelay::spawn);
        let served = self.server.run_until(stop).await;
        if let Some(relay) = relay {
            relay.stop().await;
        }
        served
    }
}

/// `/ready`: the runtime pool reaches the database and no migration is pending (the
/// runtime role may read `seaql_migrations`).
fn readiness_checks<M: MigratorTrait>(database: &DatabaseConnection) -> Vec<ReadinessCheck> {
    let pinged = database.clone();
    let migrated = database.clone();
    vec![
        ReadinessCheck::new("database", move || {
            let database = pinged.clone();
            async move { database.ping().await.map_err(|error| error.to_string()) }
        }),
        ReadinessCheck::new("migrations", move || {
            let database = migrated.clone();
            async move {
                match M::get_pending_migrations(&database).await {
                    Ok(pending) if pending.is_empty() => Ok(()),
                    Ok(pending) => Err(format!("{} migration(s) pending", pending.len())),
                    Err(error) => Err(error.to_string()),
                }
            }
        }),
    ]
}

/// Builds a service application from its configuration (the service's `startup::build`).
pub type Builder = for<'a> fn(&'a ServiceConfig) -> BoxFuture<'a, Result<SubgraphApplication, StartupError>>;

#[derive(clap::Parser)]
struct Cli {
    /// TOML config file; `<PREFIX>__<KEY>` environment variables override it (see
    /// deploy/config/service.example.toml).
    #[arg(long, global = true)]
    config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Migrate, seed the demo tenants (unless disabled) and serve (the default).
    Serve,
    /// Print the Federation v2 SDL of this subgraph.
    PrintSchema,
}

/// The command line every service binary offers: `serve` (default) and `print-schema`.
pub async fn run_cli(
    identity: &ServiceIdentity,
    about: &'static str,
    sdl: fn() -> String,
    build: Builder,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use clap::{CommandFactory, FromArgMatches};

    let matches = Cli::command().name(identity.binary).about(about).get_matches();
    let cli = Cli::from_arg_matches(&matches)?;
    if let Some(Command::PrintSchema) = cli.command {
        print!("{}", sdl());
        return Ok(());
    }
    let config = ServiceConfig::load(identity, cli.config.as_deref()).context("loading configuration")?;
    let _telemetry = telemetry::init(identity.binary, "info,sqlx=warn", config.log_format, &config.telemetry)
        .context("starting telemetry")?;
    let application = build(&config).await.with_context(|| format!("starting the {} service", identity.name))?;
    tracing::info!(port = application.port(), service = identity.name, "subgraph listening");
    application.run_until_stopped().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commented_example_config_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/config/service.example.toml");
        let text = std::fs::read_to_string(path).unwrap();
        let config: ServiceConfig = toml::from_str(&text).unwrap();
        assert!(!config.seed_demo_data);
        assert_eq!(config.context_keys.len(), 1);
        assert_eq!(config.changes.gateway_url.as_deref(), Some("http://gateway:9400"));
        assert_eq!(
            config.changes.endpoint().unwrap().map(|url| url.to_string()).as_deref(),
            Some("http://gateway:9400/internal/changes")
        );
        assert_eq!((config.changes.poll_interval_ms, config.changes.batch_size), (200, 100));
        assert_eq!(config.changes.retention_seconds, 86_400);
    }

    #[test]
    fn change_delivery_is_on_when_loaded_and_off_in_tests() {
        let identity = ServiceIdentity {
            name: "example",
            binary: "atrium-example",
            env_prefix: "ATRIUM_CHANGES_DEFAULT_TEST",
            default_port: 4999,
        };
        let loaded = ServiceConfig::load(&identity, None).unwrap();
        assert_eq!(loaded.changes.gateway_url.as_deref(), Some(changes::LOCAL_GATEWAY_URL));
        assert_eq!(loaded.changes.poll_interval_ms, 200);
        let for_tests = ServiceConfig::for_tests("sqlite::memory:".into(), None);
        assert_eq!(for_tests.changes.gateway_url, None);
    }

    #[test]
    fn an_empty_gateway_url_in_the_file_turns_delivery_off() {
        let path = std::env::temp_dir().join(format!("atrium-changes-off-{}.toml", uuid::Uuid::new_v4().simple()));
        std::fs::write(&path, "[changes]\ngateway_url = \"\"\nbatch_size = 7\n").unwrap();
        let identity = ServiceIdentity {
            name: "example",
            binary: "atrium-example",
            env_prefix: "ATRIUM_CHANGES_OFF_TEST",
            default_port: 4999,
        };
        let loaded = ServiceConfig::load(&identity, Some(&path)).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(loaded.changes.gateway_url, None);
        assert_eq!(loaded.changes.batch_size, 7);
    }
}
