//! Scheduled jobs under a lease, against real databases: of two replicas only one runs a
//! job at a time, the holder keeps it by renewing, another takes over once it lapses or is
//! released, and every tenant's pass sees the tenant's own business date.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use atrium_kit::{
    demo,
    schedule::{self, ScheduledJob, Scheduler, TenantTick},
    startup::prepare_database,
    testing::{TestDatabase, sqlite_url},
};
use chrono::{DateTime, NaiveDate, Utc};
use futures::future::BoxFuture;
use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, MigratorTrait, SchemaManager};
use uuid::Uuid;

struct CreateLeases;

impl MigrationName for CreateLeases {
    fn name(&self) -> &str {
        "m20261220_000001_scheduler_leases"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for CreateLeases {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        atrium_kit::rls::grant_runtime_role(manager).await?;
        schedule::create_schedule_tables(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        schedule::drop_schedule_tables(manager).await
    }
}

struct LeasesOnly;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for LeasesOnly {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateLeases)]
    }
}

async fn sqlite() -> DatabaseConnection {
    prepare_database::<LeasesOnly>(&sqlite_url("schedule"), None, 4, None).await.expect("sqlite")
}

async fn postgres(label: &str) -> Option<(TestDatabase, DatabaseConnection)> {
    let database = TestDatabase::create(label).await?;
    let runtime =
        prepare_database::<LeasesOnly>(&database.runtime_url, Some(&database.owner_url), 4, None).await.expect("pg");
    Some((database, runtime))
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

/// Counts its passes per tenant and records the business dates it was given; each pass
/// takes a while, so two replicas ticking together would overlap if the lease let them.
struct CountingJob {
    passes: AtomicU64,
    dates: Mutex<Vec<(Uuid, NaiveDate)>>,
    pass_time: Duration,
}

impl CountingJob {
    fn new(pass_time: Duration) -> Arc<Self> {
        Arc::new(CountingJob { passes: AtomicU64::new(0), dates: Mutex::new(Vec::new()), pass_time })
    }
}

impl ScheduledJob for CountingJob {
    fn name(&self) -> &'static str {
        "test.counting"
    }

    fn every(&self) -> Duration {
        Duration::from_secs(60)
    }

    fn run_for_tenant<'a>(
        &'a self,
        _database: &'a DatabaseConnection,
        tick: &'a TenantTick,
    ) -> BoxFuture<'a, Result<u64, DbErr>> {
        Box::pin(async move {
            tokio::time::sleep(self.pass_time).await;
            self.passes.fetch_add(1, Ordering::SeqCst);
            self.dates.lock().unwrap().push((tick.tenant_id, tick.today));
            Ok(1)
        })
    }
}

async fn only_one_replica_runs_a_job_at_a_time(database: DatabaseConnection) {
    let ridgeline = demo::tenant_id("ridgeline");
    let job = CountingJob::new(Duration::from_millis(100));
    let replica =
        |holder: &str| Scheduler::new(database.clone(), holder).with_job(job.clone()).with_tenants(vec![ridgeline]);
    let (a, b) = (replica("replica-a"), replica("replica-b"));
    let now = at("2026-12-04T10:00:00Z");

    let (first, second) = tokio::join!(a.tick(now), b.tick(now));
    let ran: Vec<bool> = [first.unwrap(), second.unwrap()].iter().map(|runs| runs[0].ran).collect();
    assert_eq!(ran.iter().filter(|ran| **ran).count(), 1, "exactly one replica runs the pass: {ran:?}");
    assert_eq!(job.passes.load(Ordering::SeqCst), 1);
    let holder_is_a = ran[0];
    let (holder, other) = if holder_is_a { (&a, &b) } else { (&b, &a) };

    // The holder renews on its next pass; the other stays out while the lease (2 × 60 s) lives.
    let later = at("2026-12-04T10:01:00Z");
    assert!(holder.tick(later).await.unwrap()[0].ran);
    assert!(!other.tick(later).await.unwrap()[0].ran);
    assert_eq!(job.passes.load(Ordering::SeqCst), 2);

    // The holder went silent: 2 min after its last renewal the lease has lapsed.
    let lapsed = at("2026-12-04T10:03:01Z");
    assert!(other.tick(lapsed).await.unwrap()[0].ran, "another replica takes over a lapsed lease");
    assert!(!holder.tick(lapsed).await.unwrap()[0].ran, "and keeps it from the old holder");

    // A released lease is free at once.
    schedule::release(&database, "test.counting", other.holder()).await.unwrap();
    assert!(holder.tick(lapsed).await.unwrap()[0].ran);
    assert_eq!(job.passes.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn only_one_replica_runs_a_job_at_a_time_on_sqlite() {
    only_one_replica_runs_a_job_at_a_time(sqlite().await).await;
}

#[tokio::test]
async fn only_one_replica_runs_a_job_at_a_time_on_postgres() {
    let Some((_guard, database)) = postgres("schedule_lease").await else { return };
    only_one_replica_runs_a_job_at_a_time(database).await;
}

#[tokio::test]
async fn many_replicas_racing_for_a_free_lease_have_one_winner_on_postgres() {
    let Some((_guard, database)) = postgres("schedule_race").await else { return };
    let now = at("2026-12-04T10:00:00Z");
    let attempts = (0..8).map(|replica| {
        let database = database.clone();
        async move {
            schedule::try_acquire(&database, "test.race", &format!("replica-{replica}"), now, Duration::from_secs(60))
                .await
                .unwrap()
        }
    });
    let won = futures::future::join_all(attempts).await;
    assert_eq!(won.iter().filter(|won| **won).count(), 1, "{won:?}");
}

#[tokio::test]
async fn every_tenant_gets_its_own_business_date() {
    let database = sqlite().await;
    let job = CountingJob::new(Duration::ZERO);
    let tenants = vec![demo::tenant_id("ridgeline"), demo::tenant_id("helix")];
    let scheduler = Scheduler::new(database, "replica-a").with_job(job.clone()).with_tenants(tenants.clone());
    // 03:00 UTC on 5 December is still the evening of the 4th in Chicago (Ridgeline).
    let runs = scheduler.tick(at("2026-12-05T03:00:00Z")).await.unwrap();
    assert_eq!(runs[0].items, 2);
    let dates = job.dates.lock().unwrap().clone();
    let zone_of = |tenant: Uuid| atrium_kit::calendar::tenant_time_zone(tenant);
    for (tenant, date) in dates {
        let expected = atrium_kit::calendar::date_in_time_zone(zone_of(tenant), at("2026-12-05T03:00:00Z"));
        assert_eq!(date, expected, "tenant {tenant} in {}", zone_of(tenant));
    }
    assert_eq!(zone_of(tenants[0]), "America/Chicago");
    assert_eq!(
        atrium_kit::calendar::date_in_time_zone("America/Chicago", at("2026-12-05T03:00:00Z")),
        NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()
    );
}

/// A job failing for one tenant still runs for the others and reports the failure.
struct FailsForOneTenant(Uuid);

impl ScheduledJob for FailsForOneTenant {
    fn name(&self) -> &'static str {
        "test.fails_for_one"
    }

    fn every(&self) -> Duration {
        Duration::from_secs(60)
    }

    fn run_for_tenant<'a>(
        &'a self,
        _database: &'a DatabaseConnection,
        tick: &'a TenantTick,
    ) -> BoxFuture<'a, Result<u64, DbErr>> {
        let failing = self.0;
        Box::pin(
            async move { if tick.tenant_id == failing { Err(DbErr::Custom("unavailable".into())) } else { Ok(3) } },
        )
    }
}

#[tokio::test]
async fn one_tenants_failure_does_not_starve_the_others() {
    let database = sqlite().await;
    let helix = demo::tenant_id("helix");
    let tenants = vec![demo::tenant_id("ridgeline"), helix, demo::tenant_id("veritas")];
    let scheduler =
        Scheduler::new(database, "replica-a").with_job(Arc::new(FailsForOneTenant(helix))).with_tenants(tenants);
    let runs = scheduler.tick(at("2026-12-04T10:00:00Z")).await.unwrap();
    assert_eq!((runs[0].ran, runs[0].items, runs[0].failed_tenants), (true, 6, 1));
}
