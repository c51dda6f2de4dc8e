//! End-to-end benchmark of domain event delivery (docs/benchmarks.md#event-delivery): a
//! producer service commits mutations that each write a row and an outbox event, the real
//! outbox relay publishes them (Redis Streams or signed HTTP batches), and the real
//! consumer applies each one with an effect row. Every effect row stores the event's
//! `occurred_at` and the time the consumer applied it, so throughput and latency are
//! computed afterwards from what was actually committed, not from counters.
//!
//! Producer and consumer have separate databases, as two services would; all parts run in
//! this one process.

use std::{
    io::Write as _,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use atrium_kit::{
    ContextKey, TenantContext, TenantTransaction,
    changes::{ChangeRelay, ChangesConfig, outbox::record_event},
    events::{
        self, DomainEvent, EventConsumer, EventHandler, EventSubscriber, EventTransport, EventsConfig, HandlerError,
        HttpTransport, Subject,
        redis_streams::{RedisEventSource, RedisStreamsTransport, stream_key},
    },
    startup::prepare_database,
    telemetry::Metrics,
};
use chrono::Utc;
use clap::{Parser, ValueEnum};
use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbErr, Statement};
use sea_orm_migration::{MigrationName, MigrationTrait, MigratorTrait, SchemaManager};
use uuid::Uuid;

/// The producing service's name: the stream key and the events' `producer`.
const PRODUCER: &str = "bench";
/// The consuming service's name: its consumer group and HTTP subscriber name.
const CONSUMER: &str = "bench-consumer";
const EVENT_TYPE: &str = "bench.widget.recorded";
/// Events alternate between these tenants, so RLS and per-tenant transactions are exercised.
const TENANTS: [Uuid; 2] = [Uuid::from_u128(0xb1), Uuid::from_u128(0xb2)];

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Transport {
    /// Redis Streams (`[events] redis_url`): relay XADDs, consumer XREADGROUPs.
    Redis,
    /// Signed HTTP batches POSTed to the consumer's /internal/events route.
    Http,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    /// Two fresh PostgreSQL databases (producer, consumer), dropped at the end.
    Postgres,
    /// Two SQLite files in the temp directory, deleted at the end.
    Sqlite,
}

/// End-to-end domain event delivery: mutation commit (outbox) → relay → transport →
/// consumer effect. Prints progress once a second and a summary at the end.
///
/// Throughput: `--rate 0` (producers commit as fast as they can); the sustained figure is
/// effects committed per second during the measured window. Latency: a fixed `--rate`;
/// latency = effect time − the event's `occurred_at`.
#[derive(Debug, Parser)]
#[command(name = "atrium-bench-events")]
struct Args {
    /// Event transport between the relay and the consumer.
    #[arg(long, value_enum, default_value = "redis")]
    transport: Transport,
    /// Database of both producer and consumer.
    #[arg(long, value_enum, default_value = "postgres")]
    database: Backend,
    /// Events per second the producers commit, on a fixed schedule; 0 = as fast as possible.
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Seconds of production, warm-up included.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Seconds at the start excluded from the figures.
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    /// Concurrent producer tasks (each commits one mutation at a time).
    #[arg(long, default_value_t = 4)]
    producers: usize,
    /// Relay outbox poll interval and Redis block time, ms (`[events] poll_interval_ms`).
    #[arg(long, default_value_t = EventsConfig::default().poll_interval_ms)]
    poll_interval_ms: u64,
    /// Events per published batch or stream read (`[events] batch_size`).
    #[arg(long, default_value_t = EventsConfig::default().batch_size)]
    batch_size: u64,
    /// Longest wait, after production stops, for the consumer to catch up.
    #[arg(long, default_value_t = 60)]
    drain_timeout: u64,
    /// PostgreSQL server (an admin role that may create databases).
    #[arg(long, env = "ATRIUM_BENCH_POSTGRES_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres_url: String,
    /// Redis server.
    #[arg(long, env = "ATRIUM_BENCH_REDIS_URL", default_value = "redis://127.0.0.1:6379/")]
    redis_url: String,
    /// Appends the result as a Markdown table row to this file (see `--markdown-header`).
    #[arg(long)]
    append: Option<PathBuf>,
    /// Prints the header of the `--append` table and exits.
    #[arg(long)]
    markdown_header: bool,
    /// A label for the row (default: database+transport and the rate).
    #[arg(long)]
    label: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Schemas

struct ProducerTables;

impl MigrationName for ProducerTables {
    fn name(&self) -> &str {
        "m20261204_000001_bench_producer"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for ProducerTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("CREATE TABLE widget (tenant_id uuid NOT NULL, id uuid PRIMARY KEY, n bigint NOT NULL)")
            .await?;
        atrium_kit::rls::enable_tenant_isolation(manager, "widget").await?;
        atrium_kit::rls::grant_runtime_role(manager).await?;
        atrium_kit::migration_steps::create_event_backbone_tables(manager).await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

struct ProducerSchema;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for ProducerSchema {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(ProducerTables)]
    }
}

struct ConsumerTables;

impl MigrationName for ConsumerTables {
    fn name(&self) -> &str {
        "m20261204_000002_bench_consumer"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for ConsumerTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Times as microseconds since the epoch: the same column type on both databases.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE TABLE effect (tenant_id uuid NOT NULL, event_id uuid PRIMARY KEY, \
                 occurred_us bigint NOT NULL, applied_us bigint NOT NULL)",
            )
            .await?;
        atrium_kit::rls::enable_tenant_isolation(manager, "effect").await?;
        atrium_kit::rls::grant_runtime_role(manager).await?;
        atrium_kit::migration_steps::create_event_backbone_tables(manager).await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

struct ConsumerSchema;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for ConsumerSchema {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(ConsumerTables)]
    }
}

// ---------------------------------------------------------------------------------------
// Databases

/// A fresh PostgreSQL database, dropped by [`ScratchDatabase::remove`].
enum ScratchDatabase {
    Postgres { admin_url: String, name: String, owner_url: String, runtime_url: String },
    Sqlite { path: PathBuf },
}

impl ScratchDatabase {
    async fn create(args: &Args, role: &str) -> anyhow::Result<Self> {
        let suffix = Uuid::new_v4().simple().to_string();
        match args.database {
            Backend::Postgres => {
                let admin = Database::connect(&args.postgres_url)
                    .await
                    .with_context(|| format!("PostgreSQL at {}", args.postgres_url))?;
                let name = format!("atrium_bench_{role}_{suffix}");
                admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
                admin.close().await?;
                let base = args.postgres_url.rsplit_once('/').map_or(args.postgres_url.as_str(), |(base, _)| base);
                let owner_url = format!("{base}/{name}");
                let runtime_url = atrium_kit::rls::runtime_url(&owner_url).context("runtime url")?;
                Ok(ScratchDatabase::Postgres { admin_url: args.postgres_url.clone(), name, owner_url, runtime_url })
            }
            Backend::Sqlite => Ok(ScratchDatabase::Sqlite {
                path: std::env::temp_dir().join(format!("atrium-bench-{role}-{suffix}.sqlite")),
            }),
        }
    }

    async fn open<M: MigratorTrait>(&self, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
        let database = match self {
            ScratchDatabase::Postgres { owner_url, runtime_url, .. } => {
                prepare_database::<M>(runtime_url, Some(owner_url), max_connections, None).await?
            }
            ScratchDatabase::Sqlite { path } => {
                prepare_database::<M>(&format!("sqlite://{}?mode=rwc", path.display()), None, max_connections, None)
                    .await?
            }
        };
        Ok(database)
    }

    async fn remove(self) {
        match self {
            ScratchDatabase::Postgres { admin_url, name, .. } => {
                if let Ok(admin) = Database::connect(&admin_url).await {
                    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                }
            }
            ScratchDatabase::Sqlite { path } => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Producer and consumer

/// One mutation of the producing service: a widget row and its event, one transaction.
async fn produce_one(database: &DatabaseConnection, index: u64) -> Result<(), DbErr> {
    let tenant_id = TENANTS[(index % 2) as usize];
    let context = TenantContext::automation(tenant_id, "bench");
    let widget_id = Uuid::now_v7();
    let tx = TenantTransaction::begin_write(database, &context).await?;
    let backend = tx.connection().get_database_backend();
    tx.connection()
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO widget (tenant_id, id, n) VALUES ($1, $2, $3)",
            vec![tenant_id.into(), widget_id.into(), i64::try_from(index).unwrap_or(i64::MAX).into()],
        ))
        .await?;
    let subject = Subject { entity_type: "Widget".into(), id: widget_id, version: 1 };
    let mut event = DomainEvent::new(&context, EVENT_TYPE, subject).with_data(serde_json::json!({ "n": index }));
    event.producer = PRODUCER.into();
    record_event(&tx, &event).await?;
    tx.commit().await
}

/// Applies each event as one effect row carrying both times.
struct EffectHandler {
    applied: Arc<AtomicU64>,
}

impl EventHandler for EffectHandler {
    fn wants(&self, event_type: &str) -> bool {
        event_type == EVENT_TYPE
    }

    fn handle<'t>(
        &'t self,
        tx: &'t TenantTransaction,
        event: &'t DomainEvent,
    ) -> BoxFuture<'t, Result<(), HandlerError>> {
        Box::pin(async move {
            // The last statement before the consumer commits: the commit itself is not
            // included in the measured latency.
            let applied_us = Utc::now().timestamp_micros();
            tx.connection()
                .execute_raw(Statement::from_sql_and_values(
                    tx.connection().get_database_backend(),
                    "INSERT INTO effect (tenant_id, event_id, occurred_us, applied_us) VALUES ($1, $2, $3, $4)",
                    vec![
                        tx.tenant_id().into(),
                        event.id.into(),
                        event.occurred_at.timestamp_micros().into(),
                        applied_us.into(),
                    ],
                ))
                .await?;
            self.applied.fetch_add(1, Ordering::Relaxed);
            Ok(())
        })
    }
}

/// `(occurred_us, applied_us)` of every effect row, read tenant by tenant as RLS requires.
async fn effect_times(database: &DatabaseConnection) -> anyhow::Result<Vec<(i64, i64)>> {
    let mut times = Vec::new();
    for tenant_id in TENANTS {
        let tx = TenantTransaction::begin(database, &TenantContext::automation(tenant_id, "bench")).await?;
        let rows = tx
            .connection()
            .query_all_raw(Statement::from_sql_and_values(
                tx.connection().get_database_backend(),
                "SELECT occurred_us, applied_us FROM effect WHERE tenant_id = $1",
                vec![tenant_id.into()],
            ))
            .await?;
        for row in rows {
            times.push((row.try_get::<i64>("", "occurred_us")?, row.try_get::<i64>("", "applied_us")?));
        }
    }
    Ok(times)
}

/// Commits mutations until `end`: on a fixed schedule (`rate` > 0, shared by all
/// producers, so one slow commit does not shift the others' slots) or back to back.
async fn run_producers(
    database: DatabaseConnection,
    producers: usize,
    rate: u64,
    start: Instant,
    end: Instant,
    produced: Arc<AtomicU64>,
) -> anyhow::Result<()> {
    let next_slot = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..producers.max(1) {
        let database = database.clone();
        let next_slot = next_slot.clone();
        let produced = produced.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let slot = next_slot.fetch_add(1, Ordering::Relaxed);
                if rate > 0 {
                    let due = start + Duration::from_secs_f64(slot as f64 / rate as f64);
                    if due >= end {
                        return Ok::<(), DbErr>(());
                    }
                    tokio::time::sleep_until(due.into()).await;
                } else if Instant::now() >= end {
                    return Ok(());
                }
                produce_one(&database, slot).await?;
                produced.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await?.context("producer commit failed")?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Figures

struct Figures {
    label: String,
    produced: u64,
    applied: usize,
    window_seconds: f64,
    produced_per_second: f64,
    applied_per_second: f64,
    /// Effects per second after production stopped, while a backlog of at least
    /// [`DRAIN_BACKLOG`] events was worked off: the delivery path alone, without producers
    /// competing for the cores.
    drain_per_second: Option<f64>,
    latencies_ms: Vec<f64>,
}

/// The smallest backlog at the end of production worth a drain rate.
const DRAIN_BACKLOG: usize = 1000;

impl Figures {
    fn percentile(&self, fraction: f64) -> f64 {
        if self.latencies_ms.is_empty() {
            return f64::NAN;
        }
        // Nearest rank.
        let rank = (fraction * self.latencies_ms.len() as f64).ceil() as usize;
        self.latencies_ms[rank.clamp(1, self.latencies_ms.len()) - 1]
    }

    fn max(&self) -> f64 {
        self.latencies_ms.last().copied().unwrap_or(f64::NAN)
    }

    fn summary(&self) -> String {
        format!(
            "{}: produced {} events, {} applied; measured window {:.0} s: committed {:.0}/s, applied {:.0}/s; \
             drained {}; latency over {} events p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            self.label,
            self.produced,
            self.applied,
            self.window_seconds,
            self.produced_per_second,
            self.applied_per_second,
            self.drain_per_second.map_or("-".to_owned(), |rate| format!("{rate:.0}/s")),
            self.latencies_ms.len(),
            self.percentile(0.50),
            self.percentile(0.95),
            self.percentile(0.99),
            self.max(),
        )
    }

    fn markdown_row(&self, args: &Args) -> String {
        let rate = if args.rate == 0 { "max".to_owned() } else { args.rate.to_string() };
        format!(
            "| {} | {} | {:.0} | {:.0} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} ms / {} |",
            self.label,
            rate,
            self.produced_per_second,
            self.applied_per_second,
            self.drain_per_second.map_or("–".to_owned(), |rate| format!("{rate:.0}")),
            self.percentile(0.50),
            self.percentile(0.95),
            self.percentile(0.99),
            self.max(),
            self.produced.saturating_sub(self.applied as u64),
            args.poll_interval_ms,
            args.batch_size,
        )
    }
}

const MARKDOWN_HEADER: &str = "| run | target rate/s | committed/s | applied/s | drain/s | p50 ms | p95 ms | p99 ms | max ms | undelivered | poll / batch |\n\
                               |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|";

// ---------------------------------------------------------------------------------------

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.markdown_header {
        println!("{MARKDOWN_HEADER}");
        return Ok(());
    }
    if args.warmup >= args.duration {
        bail!("--warmup must be shorter than --duration");
    }
    let producer_database = ScratchDatabase::create(&args, "producer").await?;
    let consumer_database = match ScratchDatabase::create(&args, "consumer").await {
        Ok(database) => database,
        Err(error) => {
            producer_database.remove().await;
            return Err(error);
        }
    };
    let outcome = run(&args, &producer_database, &consumer_database).await;
    producer_database.remove().await;
    consumer_database.remove().await;
    let figures = outcome?;
    println!("{}", figures.summary());
    if let Some(path) = &args.append {
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        writeln!(file, "{}", figures.markdown_row(&args))?;
    }
    Ok(())
}

async fn run(args: &Args, producer: &ScratchDatabase, consumer: &ScratchDatabase) -> anyhow::Result<Figures> {
    let label = args.label.clone().unwrap_or_else(|| {
        let database = match args.database {
            Backend::Postgres => "PostgreSQL",
            Backend::Sqlite => "SQLite",
        };
        let transport = match args.transport {
            Transport::Redis => "Redis Streams",
            Transport::Http => "HTTP",
        };
        format!("{database} + {transport}")
    });
    let producer_db = producer.open::<ProducerSchema>(args.producers as u32 + 2).await?;
    let consumer_db = consumer.open::<ConsumerSchema>(4).await?;
    let metrics = Metrics::local("bench-events");
    let applied = Arc::new(AtomicU64::new(0));
    let event_consumer = Arc::new(EventConsumer::new(
        CONSUMER,
        consumer_db.clone(),
        Arc::new(EffectHandler { applied: applied.clone() }),
    ));

    let events_config = EventsConfig {
        redis_url: (args.transport == Transport::Redis).then(|| args.redis_url.clone()),
        key_prefix: format!("atrium-bench-{}:", Uuid::new_v4().simple()),
        subscribers: Some(Vec::new()),
        consume_from: vec![PRODUCER.into()],
        poll_interval_ms: args.poll_interval_ms,
        batch_size: args.batch_size,
        ..EventsConfig::default()
    };
    let mut redis_source = None;
    let mut http_server = None;
    let transport: Arc<dyn EventTransport> = match args.transport {
        Transport::Redis => {
            let source = RedisEventSource::new(&events_config, event_consumer.clone(), &metrics)?.spawn();
            redis_source = Some(source);
            Arc::new(RedisStreamsTransport::new(&events_config)?)
        }
        Transport::Http => {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let port = listener.local_addr()?.port();
            let router = events::http::router(Some(event_consumer.clone()), vec![ContextKey::development()]);
            http_server = Some(tokio::spawn(async move { axum::serve(listener, router).await }));
            let subscriber = EventSubscriber { name: CONSUMER.into(), url: format!("http://127.0.0.1:{port}") };
            Arc::new(HttpTransport::new(&[subscriber], ContextKey::development())?)
        }
    };
    let changes_config = ChangesConfig {
        poll_interval_ms: args.poll_interval_ms,
        batch_size: args.batch_size,
        ..ChangesConfig::default()
    };
    let relay = ChangeRelay::new(producer_db.clone(), &changes_config, &[ContextKey::development()], &metrics)?
        .with_event_transport(transport, &events_config)
        .spawn();

    eprintln!(
        "{label}: rate {}, {} s ({} s warm-up), {} producers, poll {} ms, batch {}",
        if args.rate == 0 { "max".to_owned() } else { format!("{}/s", args.rate) },
        args.duration,
        args.warmup,
        args.producers,
        args.poll_interval_ms,
        args.batch_size
    );
    let produced = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let start_wall_us = Utc::now().timestamp_micros();
    let end = start + Duration::from_secs(args.duration);
    let producers =
        tokio::spawn(run_producers(producer_db.clone(), args.producers, args.rate, start, end, produced.clone()));

    let mut produced_at_warmup = None;
    let mut produced_at_end = None;
    let mut last = (0, 0);
    let drain_deadline = end + Duration::from_secs(args.drain_timeout);
    let mut second = 0u64;
    let mut ticker = tokio::time::interval_at((start + Duration::from_secs(1)).into(), Duration::from_secs(1));
    loop {
        ticker.tick().await;
        second += 1;
        let now = (produced.load(Ordering::Relaxed), applied.load(Ordering::Relaxed));
        let phase = if second <= args.warmup {
            "warm-up"
        } else if second <= args.duration {
            "measure"
        } else {
            "drain"
        };
        eprintln!(
            "{second:>4} s {phase:<7} committed {:>8} (+{:>5}/s)  applied {:>8} (+{:>5}/s)  backlog {:>7}",
            now.0,
            now.0 - last.0,
            now.1,
            now.1 - last.1,
            now.0.saturating_sub(now.1),
        );
        last = now;
        if second == args.warmup {
            produced_at_warmup = Some(now.0);
        }
        if second == args.duration {
            produced_at_end = Some(now.0);
        }
        if second >= args.duration && (now.1 >= now.0 || Instant::now() >= drain_deadline) {
            break;
        }
    }
    producers.await??;
    let produced_total = produced.load(Ordering::Relaxed);
    // A moment for the last commits to land before the rows are read.
    tokio::time::sleep(Duration::from_millis(200)).await;
    relay.stop().await;
    if let Some(source) = redis_source {
        source.stop().await;
        let client = redis::Client::open(args.redis_url.as_str())?;
        let mut connection = client.get_multiplexed_async_connection().await?;
        let _: () =
            redis::cmd("DEL").arg(stream_key(&events_config.key_prefix, PRODUCER)).query_async(&mut connection).await?;
    }
    if let Some(server) = http_server {
        server.abort();
    }

    let times = effect_times(&consumer_db).await?;
    producer_db.close().await?;
    consumer_db.close().await?;

    let window_start = start_wall_us + i64::try_from(args.warmup * 1_000_000)?;
    let window_end = start_wall_us + i64::try_from(args.duration * 1_000_000)?;
    let window_seconds = (args.duration - args.warmup) as f64;
    let in_window = |us: i64| us >= window_start && us < window_end;
    let applied_in_window = times.iter().filter(|(_, applied)| in_window(*applied)).count();
    let mut latencies_ms: Vec<f64> = times
        .iter()
        .filter(|(occurred, _)| in_window(*occurred))
        .map(|(occurred, applied)| (applied - occurred) as f64 / 1000.0)
        .collect();
    latencies_ms.sort_by(f64::total_cmp);
    let committed_in_window = produced_at_end.unwrap_or(produced_total) - produced_at_warmup.unwrap_or(0);
    let after_production: Vec<i64> =
        times.iter().map(|(_, applied)| *applied).filter(|applied| *applied >= window_end).collect();
    let drain_per_second = match after_production.iter().max() {
        Some(last) if after_production.len() >= DRAIN_BACKLOG && *last > window_end => {
            Some(after_production.len() as f64 / ((last - window_end) as f64 / 1e6))
        }
        _ => None,
    };
    let undelivered = produced_total.saturating_sub(times.len() as u64);
    if undelivered > 0 {
        eprintln!("{undelivered} events were not applied within the drain timeout");
    }
    Ok(Figures {
        label,
        produced: produced_total,
        applied: times.len(),
        window_seconds,
        produced_per_second: committed_in_window as f64 / window_seconds,
        applied_per_second: applied_in_window as f64 / window_seconds,
        drain_per_second,
        latencies_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(latencies_ms: Vec<f64>) -> Figures {
        Figures {
            label: "test".into(),
            produced: latencies_ms.len() as u64,
            applied: latencies_ms.len(),
            window_seconds: 1.0,
            produced_per_second: 0.0,
            applied_per_second: 0.0,
            drain_per_second: None,
            latencies_ms,
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let hundred = figures((1..=100).map(f64::from).collect());
        assert_eq!(hundred.percentile(0.50), 50.0);
        assert_eq!(hundred.percentile(0.99), 99.0);
        assert_eq!(hundred.percentile(1.0), 100.0);
        assert_eq!(hundred.max(), 100.0);
        assert_eq!(figures(vec![7.0]).percentile(0.01), 7.0);
        assert!(figures(Vec::new()).percentile(0.5).is_nan());
    }

    /// The whole path on SQLite and HTTP, briefly: every committed event arrives as an
    /// effect and its latency is measured.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_short_run_on_sqlite_and_http_applies_every_event() {
        let args = Args::parse_from([
            "atrium-bench-events",
            "--database",
            "sqlite",
            "--transport",
            "http",
            "--rate",
            "100",
            "--duration",
            "2",
            "--warmup",
            "1",
            "--poll-interval-ms",
            "20",
        ]);
        let producer = ScratchDatabase::create(&args, "producer").await.unwrap();
        let consumer = ScratchDatabase::create(&args, "consumer").await.unwrap();
        let outcome = run(&args, &producer, &consumer).await;
        producer.remove().await;
        consumer.remove().await;
        let figures = outcome.unwrap();
        assert!(figures.produced >= 190, "{}", figures.summary());
        assert_eq!(figures.applied as u64, figures.produced, "{}", figures.summary());
        assert!(!figures.latencies_ms.is_empty());
        assert!(figures.percentile(0.5) > 0.0, "{}", figures.summary());
    }
}
