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
    ContextKey, ContextVerifier, DatabaseTarget,
    changes::{self, ChangeRelay, ChangesConfig, RelayHandle},
    config::ConfigError,
    db::StatementObserver,
    events::{
        EventConsumer, EventHandler, EventTransport, EventsConfig, HttpTransport,
        redis_streams::{EventSourceHandle, RedisEventSource, RedisStreamsTransport},
    },
    schedule::{ScheduledJob, Scheduler, SchedulerHandle},
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

pub use crate::config::Profile;
pub use crate::startup::ServiceConfigError;

/// Configuration of a subgraph service. See `deploy/config/service.example.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// `dev` (default) or `production`.
    #[serde(default)]
    pub profile: Profile,
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
    /// Default none, which the dev profile reads as the development key (`make run`);
    /// production refuses to start without explicit keys and refuses the development key.
    #[serde(default)]
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
    /// Domain event delivery (`[events]`): Redis Streams or signed HTTP batches.
    /// [`ServiceConfig::load`] defaults to HTTP delivery to the other local services.
    #[serde(default)]
    pub events: EventsConfig,
    /// Run the service's scheduled jobs (daily emitters, evaluators) in this process, each
    /// under a lease shared by all replicas (docs/domain.md#scheduled-jobs). Default true;
    /// a replica that should only serve requests may set false.
    #[serde(default = "default_scheduled_jobs")]
    pub scheduled_jobs: bool,
    /// The service's name (`delivery`…): its event consumer's name. Set by
    /// [`ServiceConfig::load`]; tests may set it; empty means the telemetry name.
    #[serde(skip)]
    pub service_name: String,
}

fn default_max_connections() -> u32 {
    10
}

fn default_seed_demo_data() -> bool {
    true
}

fn default_scheduled_jobs() -> bool {
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
        config.events = std::mem::take(&mut config.events).with_local_default(identity.name);
        config.service_name = identity.name.to_owned();
        Ok(config)
    }

    /// Refuses, outside the dev profile, settings that only suit a developer's machine.
    pub fn check(&self) -> Result<(), ServiceConfigError> {
        if self.profile == Profile::Dev {
            return Ok(());
        }
        if self.context_keys.is_empty() {
            return Err(ServiceConfigError::MissingContextKeys);
        }
        let development = ContextKey::development();
        // A renamed copy of the published secret is as public as the original.
        if let Some(key) =
            self.context_keys.iter().find(|key| key.id == development.id || key.secret == development.secret)
        {
            return Err(ServiceConfigError::DevelopmentContextKey { key_id: key.id.clone() });
        }
        // One role for migrations and requests would own the tables it must be confined in.
        if DatabaseTarget::of_url(&self.database_url) == Some(DatabaseTarget::Postgres) {
            let separate = self
                .migration_database_url
                .as_deref()
                .is_some_and(|migration| url_user(migration) != url_user(&self.database_url));
            if !separate {
                return Err(ServiceConfigError::MissingMigrationRole);
            }
        }
        Ok(())
    }

    /// The keys the service verifies tenant contexts (and signs change batches) with: the
    /// configured ones, or in the dev profile without any the development key, so
    /// `make run` needs no configuration. [`ServiceConfig::check`] keeps production from
    /// ever reaching the fallback.
    pub fn accepted_context_keys(&self) -> Vec<ContextKey> {
        if self.context_keys.is_empty() && self.profile == Profile::Dev {
            vec![ContextKey::development()]
        } else {
            self.context_keys.clone()
        }
    }

    /// A configuration for tests: port 0, the given database, the development key, no
    /// change delivery.
    pub fn for_tests(database_url: String, migration_database_url: Option<String>) -> Self {
        ServiceConfig {
            profile: Profile::Dev,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url,
            migration_database_url,
            max_connections: 5,
            context_keys: vec![ContextKey::development()],
            seed_demo_data: true,
            log_format: LogFormat::default(),
            telemetry: TelemetryConfig::default(),
            changes: ChangesConfig::default(),
            events: EventsConfig::default(),
            // Tests tick schedulers by hand at the instants they choose.
            scheduled_jobs: false,
            service_name: String::new(),
        }
    }

    /// The consumer name of this service: [`ServiceConfig::service_name`], or the
    /// telemetry service name without its `atrium-` prefix.
    pub fn consumer_name(&self) -> String {
        if self.service_name.is_empty() {
            telemetry::service_name().trim_start_matches("atrium-").to_owned()
        } else {
            self.service_name.clone()
        }
    }
}

/// The user part of a `scheme://user[:password]@host/...` URL (`None` without one).
fn url_user(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let (credentials, _) = rest.rsplit_once('@')?;
    Some(credentials.split_once(':').map_or(credentials, |(user, _)| user))
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
    /// Applies received events; `None` for a service that consumes none.
    consumer: Option<Arc<EventConsumer>>,
    /// Feeds the consumer from Redis Streams (with `events.redis_url`).
    event_source: Option<RedisEventSource>,
    /// The service's scheduled jobs, if it has any ([`SubgraphApplication::with_scheduled_jobs`]).
    scheduler: Option<Scheduler>,
    /// Whether the jobs run in this process (`scheduled_jobs`).
    run_scheduled_jobs: bool,
    consumer_name: String,
}

impl SubgraphApplication {
    /// Migrates (as the owner), connects the runtime pool (reporting statements to
    /// `observer`), seeds when configured, prepares the outbox relay (change delivery and
    /// event publication) when the database has an outbox and the event consumer when
    /// `handler` is given, and binds the GraphQL endpoint and [`crate::events::http::EVENTS_PATH`].
    pub async fn build<M: MigratorTrait, E: Executor + Clone>(
        config: &ServiceConfig,
        observer: Option<StatementObserver>,
        seed: Seeder,
        executor: E,
        install: RequestDataInstaller,
        handler: Option<Arc<dyn EventHandler>>,
    ) -> Result<Self, StartupError> {
        config.check()?;
        config.events.check()?;
        let context_keys = config.accepted_context_keys();
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
        let mut relay = ChangeRelay::new(relay_database, &config.changes, &context_keys, &metrics)?;
        if let Some(transport) = event_transport(&config.events, &context_keys)? {
            relay = relay.with_event_transport(transport, &config.events);
        }
        let relay = has_outbox.then_some(relay);
        let consumer = handler.map(|handler| {
            Arc::new(
                EventConsumer::new(&config.consumer_name(), database.clone(), handler)
                    .with_max_attempts(config.events.max_attempts)
                    .with_metrics(&metrics),
            )
        });
        if let Some(consumer) = &consumer
            && let Err(error) = consumer.refresh_dead_letter_count().await
        {
            tracing::warn!(%error, "cannot count dead letters; are the consumer tables migrated?");
        }
        let event_source = match (&consumer, config.events.redis_url()) {
            (Some(consumer), Some(_)) => Some(RedisEventSource::new(&config.events, Arc::clone(consumer), &metrics)?),
            _ => None,
        };
        let graphql = subgraph_http::router(executor, ContextVerifier::new(&context_keys), database.clone(), install)
            .merge(crate::events::http::router(consumer.clone(), context_keys.clone()));
        let graphql = telemetry::track_requests(graphql, &metrics, RequestSpanOptions { continue_remote_trace: true });
        let router =
            graphql.merge(telemetry::operational_routes(Arc::clone(&metrics), readiness_checks::<M>(&database)));
        let server = BoundServer::bind(config.listen, router).await?;
        Ok(SubgraphApplication {
            server,
            database,
            metrics,
            _pool_gauges: pool_gauges,
            relay,
            consumer,
            event_source,
            scheduler: None,
            run_scheduled_jobs: config.scheduled_jobs,
            consumer_name: config.consumer_name(),
        })
    }

    /// Registers the service's scheduled jobs; they run while the service serves (unless
    /// `scheduled_jobs` is off), under leases named after the jobs.
    pub fn with_scheduled_jobs(mut self, jobs: Vec<Arc<dyn ScheduledJob>>) -> Self {
        if jobs.is_empty() {
            return self;
        }
        let holder = Scheduler::unique_holder(&self.consumer_name);
        let scheduler = jobs.into_iter().fold(Scheduler::new(self.database.clone(), holder), Scheduler::with_job);
        self.scheduler = Some(scheduler);
        self
    }

    /// The scheduler (`None` without jobs), e.g. to run passes by hand in tests.
    pub fn scheduler(&self) -> Option<&Scheduler> {
        self.scheduler.as_ref()
    }

    /// The event consumer (`None` without a handler), e.g. to apply events in tests.
    pub fn event_consumer(&self) -> Option<&Arc<EventConsumer>> {
        self.consumer.as_ref()
    }

    /// The outbox relay (`None` without an outbox), e.g. to run rounds by hand in tests.
    pub fn relay(&self) -> Option<&ChangeRelay> {
        self.relay.as_ref()
    }

    /// Starts the background work (relay, Redis event source, scheduled jobs) without
    /// serving: tests stop and restart it with [`BackgroundWork::stop`].
    fn start_background(
        relay: Option<ChangeRelay>,
        event_source: Option<RedisEventSource>,
        scheduler: Option<Scheduler>,
    ) -> BackgroundWork {
        BackgroundWork {
            relay: relay.map(ChangeRelay::spawn),
            event_source: event_source.map(RedisEventSource::spawn),
            scheduler: scheduler.map(Scheduler::spawn),
        }
    }

    /// The scheduler to start with the server: none when `scheduled_jobs` is off.
    fn scheduler_to_run(scheduler: Option<Scheduler>, run: bool) -> Option<Scheduler> {
        let scheduler = scheduler?;
        if run {
            tracing::info!(holder = scheduler.holder(), jobs = ?scheduler.jobs().collect::<Vec<_>>(), "running scheduled jobs");
            Some(scheduler)
        } else {
            tracing::info!("scheduled jobs are off (scheduled_jobs = false)");
            None
        }
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

    /// Serves (relaying the outbox and consuming events) until Ctrl-C or SIGTERM.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let scheduler = Self::scheduler_to_run(self.scheduler, self.run_scheduled_jobs);
        let background = Self::start_background(self.relay, self.event_source, scheduler);
        let served = self.server.run_until_stopped().await;
        background.stop().await;
        served
    }

    /// Serves (relaying the outbox and consuming events) until `stop` completes.
    pub async fn run_until(self, stop: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let scheduler = Self::scheduler_to_run(self.scheduler, self.run_scheduled_jobs);
        let background = Self::start_background(self.relay, self.event_source, scheduler);
        let served = self.server.run_until(stop).await;
        background.stop().await;
        served
    }
}

/// The relay and event source of a running application.
struct BackgroundWork {
    relay: Option<RelayHandle>,
    event_source: Option<EventSourceHandle>,
    scheduler: Option<SchedulerHandle>,
}

impl BackgroundWork {
    async fn stop(self) {
        if let Some(scheduler) = self.scheduler {
            scheduler.stop().await;
        }
        if let Some(relay) = self.relay {
            relay.stop().await;
        }
        if let Some(source) = self.event_source {
            source.stop().await;
        }
    }
}

/// The transport `[events]` asks for: Redis Streams, HTTP to the subscribers (signed with
/// the first context key), or none.
pub fn event_transport(
    config: &EventsConfig,
    context_keys: &[ContextKey],
) -> Result<Option<Arc<dyn EventTransport>>, crate::events::EventsConfigError> {
    if config.redis_url().is_some() {
        return Ok(Some(Arc::new(RedisStreamsTransport::new(config)?)));
    }
    let subscribers = config.http_subscribers();
    if subscribers.is_empty() {
        return Ok(None);
    }
    let key = context_keys.first().cloned().ok_or(crate::events::EventsConfigError::NoSigningKey)?;
    Ok(Some(Arc::new(HttpTransport::new(subscribers, key)?)))
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
        assert_eq!(config.profile, Profile::Production);
        assert_eq!(config.context_keys.len(), 1);
        config.check().unwrap();
        assert_eq!(config.changes.gateway_url.as_deref(), Some("http://gateway:9400"));
        assert_eq!(
            config.changes.endpoint().unwrap().map(|url| url.to_string()).as_deref(),
            Some("http://gateway:9400/internal/changes")
        );
        assert_eq!((config.changes.poll_interval_ms, config.changes.batch_size), (200, 100));
        assert_eq!(config.changes.retention_seconds, 86_400);
        config.events.check().unwrap();
        assert_eq!(config.events.redis_url(), Some("redis://redis:6379/"));
        assert_eq!((config.events.max_attempts, config.events.retention_hours), (5, 168));
        assert!(config.events.http_subscribers().is_empty());
    }

    /// A production configuration on PostgreSQL with separate runtime and migration roles,
    /// plus `extra` TOML.
    fn production(extra: &str) -> ServiceConfig {
        toml::from_str(&format!(
            "profile = \"production\"\nlisten = \"127.0.0.1:0\"\n\
             database_url = \"postgres://atrium_app@db/finance\"\n\
             migration_database_url = \"postgres://finance_owner@db/finance\"\n{extra}"
        ))
        .unwrap()
    }

    #[test]
    fn the_production_profile_refuses_to_start_without_explicit_context_keys() {
        assert!(matches!(production("").check(), Err(ServiceConfigError::MissingContextKeys)));
        let configured = production("[[context_keys]]\nid = \"2026-11\"\nsecret = \"a-secret-of-the-operator\"\n");
        configured.check().unwrap();
        assert_eq!(configured.accepted_context_keys()[0].id, "2026-11");
    }

    #[test]
    fn the_production_profile_refuses_the_development_context_key_under_any_id() {
        let development = ContextKey::development();
        for (id, secret) in [(development.id.as_str(), "another-secret"), ("renamed", development.secret.as_str())] {
            let config = production(&format!(
                "[[context_keys]]\nid = \"2026-11\"\nsecret = \"a-secret-of-the-operator\"\n\
                 [[context_keys]]\nid = \"{id}\"\nsecret = \"{secret}\"\n"
            ));
            assert!(
                matches!(config.check(), Err(ServiceConfigError::DevelopmentContextKey { .. })),
                "{id}/{secret} was accepted"
            );
        }
    }

    #[test]
    fn the_production_profile_on_postgres_needs_a_separate_migration_role() {
        let keys = "[[context_keys]]\nid = \"2026-11\"\nsecret = \"a-secret-of-the-operator\"\n";
        let mut config = production(keys);
        config.check().unwrap();
        for migration in
            [None, Some("postgres://atrium_app@db/finance"), Some("postgres://atrium_app:pw@other/finance")]
        {
            config.migration_database_url = migration.map(str::to_owned);
            assert!(matches!(config.check(), Err(ServiceConfigError::MissingMigrationRole)), "{migration:?}");
        }
        config.database_url = "sqlite://data/finance.sqlite".to_owned();
        config.migration_database_url = None;
        config.check().expect("SQLite has no roles to separate");
    }

    #[test]
    fn the_dev_profile_falls_back_to_the_development_key() {
        let config: ServiceConfig =
            toml::from_str("listen = \"127.0.0.1:0\"\ndatabase_url = \"sqlite::memory:\"\n").unwrap();
        assert_eq!(config.profile, Profile::Dev);
        config.check().unwrap();
        assert_eq!(config.accepted_context_keys()[0].id, ContextKey::development().id);
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
        assert_eq!(loaded.service_name, "example");
        assert_eq!(
            loaded.events.http_subscribers().len(),
            4,
            "the local consuming services (delivery, finance, support, analytics)"
        );
        assert!(for_tests.events.http_subscribers().is_empty(), "tests deliver no events");
    }

    #[test]
    fn without_redis_or_subscribers_a_loaded_service_delivers_to_the_other_consumers() {
        let identity = ServiceIdentity {
            name: "delivery",
            binary: "atrium-delivery",
            env_prefix: "ATRIUM_EVENTS_DEFAULT_TEST",
            default_port: 4002,
        };
        let loaded = ServiceConfig::load(&identity, None).unwrap();
        let names: Vec<&str> = loaded.events.http_subscribers().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["finance", "support", "analytics"]);
        assert_eq!(loaded.consumer_name(), "delivery");
        let transport = event_transport(&loaded.events, &loaded.accepted_context_keys()).unwrap().unwrap();
        assert_eq!(transport.destinations(), ["http:finance", "http:support", "http:analytics"]);
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
