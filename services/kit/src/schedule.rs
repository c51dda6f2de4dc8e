//! Work a service does on its own, on a timer: daily emitters (an invoice crossing an
//! aging bucket, a milestone becoming late), the SLA evaluator, auto-close. Every job runs
//! under a lease so that of several replicas of a service only one runs it at a time, and
//! for each tenant with the tenant's business date (docs/domain.md#scheduled-jobs).
//!
//! The lease is a row in the service's own database (`scheduler_leases`), taken and renewed
//! with one conditional upsert: the replicas of a service share that database whatever its
//! kind, so the same code holds on SQLite and PostgreSQL and needs neither Redis nor a
//! session-bound advisory lock (which a pooled connection cannot keep). The holder renews
//! on every pass and keeps the job until it stops or misses two passes (the lease lives
//! `2 × every`); another replica then takes over.
//!
//! A lease bounds who runs, not what is emitted: a holder that stalls past its lease can
//! overlap the next one. Jobs therefore mark what they handled in the same tenant
//! transaction that writes its events (see [`ScheduledJob::run_for_tenant`]), which makes a
//! repeated pass a no-op.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, NaiveDate, Utc};
use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr};
use sea_orm_migration::{
    SchemaManager,
    sea_query::{ColumnDef, Expr, ExprTrait, OnConflict, Query, Table},
};
use tokio::{sync::watch, task::JoinHandle};
use uuid::Uuid;

use crate::{calendar, demo, rls};

/// The lease table: one row per job name.
pub const LEASE_TABLE: &str = "scheduler_leases";

/// One tenant's view of a pass: the instant it runs at and that instant's date in the
/// tenant's time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantTick {
    pub tenant_id: Uuid,
    /// IANA name, e.g. `Europe/Berlin`.
    pub time_zone: String,
    pub now: DateTime<Utc>,
    /// The tenant's business date at `now`.
    pub today: NaiveDate,
}

impl TenantTick {
    /// The tick of `tenant_id` at `now`, in the tenant's zone.
    pub fn at(tenant_id: Uuid, now: DateTime<Utc>) -> Self {
        let time_zone = calendar::tenant_time_zone(tenant_id).to_owned();
        let today = calendar::date_in_time_zone(&time_zone, now);
        TenantTick { tenant_id, time_zone, now, today }
    }
}

/// Something a service does by itself, at intervals, for every tenant.
pub trait ScheduledJob: Send + Sync + 'static {
    /// Stable name: the lease key and the log label, e.g. `finance.invoice_aging`.
    fn name(&self) -> &'static str;

    /// Pause between passes. The job decides from the tick what is due, so the pause
    /// bounds how late an effect can be, not when it happens.
    fn every(&self) -> Duration;

    /// One pass for one tenant. Must be idempotent: act only on items not yet marked as
    /// handled, and mark them in the tenant transaction that writes their events (open it
    /// with `TenantTransaction::begin_write` and the `automation` context, run writes as
    /// commands with `command::execute_within`). Returns how many items it acted on.
    fn run_for_tenant<'a>(
        &'a self,
        database: &'a DatabaseConnection,
        tick: &'a TenantTick,
    ) -> BoxFuture<'a, Result<u64, DbErr>>;
}

/// What one pass of one job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRun {
    pub job: &'static str,
    /// False when another holder has the lease.
    pub ran: bool,
    /// Items acted on, summed over tenants.
    pub items: u64,
    /// Tenants whose pass failed (logged; retried on the next pass).
    pub failed_tenants: u32,
}

/// Runs a service's jobs under their leases.
#[derive(Clone)]
pub struct Scheduler {
    database: DatabaseConnection,
    holder: String,
    jobs: Vec<Arc<dyn ScheduledJob>>,
    tenants: Vec<Uuid>,
}

impl Scheduler {
    /// A scheduler for the replica named `holder` (unique per process: two replicas with
    /// one name would share a lease). Runs for the demo tenants until the tenant registry
    /// reaches services.
    pub fn new(database: DatabaseConnection, holder: impl Into<String>) -> Self {
        let tenants = demo::TENANTS.iter().map(|tenant| demo::tenant_id(tenant.slug)).collect();
        Scheduler { database, holder: holder.into(), jobs: Vec::new(), tenants }
    }

    /// A holder name unique to this process: `<service>-<random>`.
    pub fn unique_holder(service: &str) -> String {
        format!("{service}-{}", Uuid::new_v4().simple())
    }

    pub fn with_job(mut self, job: Arc<dyn ScheduledJob>) -> Self {
        self.jobs.push(job);
        self
    }

    /// Replaces the tenants the jobs run for (tests narrow it to the tenants they set up).
    pub fn with_tenants(mut self, tenants: Vec<Uuid>) -> Self {
        self.tenants = tenants;
        self
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    pub fn jobs(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.jobs.iter().map(|job| job.name())
    }

    /// One pass of every job at `now`, each under its lease.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<Vec<JobRun>, DbErr> {
        let mut runs = Vec::with_capacity(self.jobs.len());
        for job in &self.jobs {
            runs.push(self.run_job(job.as_ref(), now).await?);
        }
        Ok(runs)
    }

    /// One pass of `job` at `now` if this holder gets its lease.
    async fn run_job(&self, job: &dyn ScheduledJob, now: DateTime<Utc>) -> Result<JobRun, DbErr> {
        let mut run = JobRun { job: job.name(), ran: false, items: 0, failed_tenants: 0 };
        let ttl = job.every() * 2;
        if !try_acquire(&self.database, job.name(), &self.holder, now, ttl).await? {
            return Ok(run);
        }
        run.ran = true;
        for &tenant_id in &self.tenants {
            let tick = TenantTick::at(tenant_id, now);
            match job.run_for_tenant(&self.database, &tick).await {
                Ok(items) => run.items += items,
                // One tenant's failure must not starve the others; its items stay unmarked
                // and are picked up by the next pass.
                Err(error) => {
                    run.failed_tenants += 1;
                    tracing::warn!(job = job.name(), %tenant_id, %error, "scheduled job failed for a tenant");
                }
            }
        }
        if run.items > 0 {
            tracing::info!(job = job.name(), items = run.items, "scheduled job acted");
        }
        Ok(run)
    }

    /// Runs every job on its own timer until [`SchedulerHandle::stop`]; releases the
    /// leases on the way out so another replica need not wait for them to expire.
    pub fn spawn(self) -> SchedulerHandle {
        let (stop, stopped) = watch::channel(false);
        let scheduler = Arc::new(self);
        let tasks = scheduler
            .jobs
            .clone()
            .into_iter()
            .map(|job| {
                let scheduler = Arc::clone(&scheduler);
                let mut stopped = stopped.clone();
                tokio::spawn(async move {
                    let mut timer = tokio::time::interval(job.every());
                    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    loop {
                        tokio::select! {
                            _ = stopped.changed() => break,
                            _ = timer.tick() => {
                                if let Err(error) = scheduler.run_job(job.as_ref(), Utc::now()).await {
                                    tracing::warn!(job = job.name(), %error, "cannot take the job's lease");
                                }
                            }
                        }
                    }
                    if let Err(error) = release(&scheduler.database, job.name(), &scheduler.holder).await {
                        tracing::warn!(job = job.name(), %error, "cannot release the job's lease");
                    }
                })
            })
            .collect();
        SchedulerHandle { stop, tasks }
    }
}

/// The running jobs of a [`Scheduler`].
pub struct SchedulerHandle {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl SchedulerHandle {
    /// Stops every job after its current pass and waits for them.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Takes or renews the lease `name` for `holder` until `now + ttl`: succeeds when the row
/// is missing, expired, or already this holder's. One statement, so two replicas racing
/// for a free lease cannot both win.
pub async fn try_acquire(
    database: &DatabaseConnection,
    name: &str,
    holder: &str,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<bool, DbErr> {
    let expires_at = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
    let upsert = Query::insert()
        .into_table(LEASE_TABLE)
        .columns(["name", "holder", "expires_at"])
        .values_panic([name.into(), holder.into(), expires_at.into()])
        .on_conflict(
            OnConflict::column("name")
                .update_columns(["holder", "expires_at"])
                .action_and_where(
                    Expr::col((LEASE_TABLE, "expires_at")).lt(now).or(Expr::col((LEASE_TABLE, "holder")).eq(holder)),
                )
                .to_owned(),
        )
        .to_owned();
    let backend = database.get_database_backend();
    let result = database.execute_raw(backend.build(&upsert)).await?;
    Ok(result.rows_affected() == 1)
}

/// Gives the lease up if `holder` has it.
pub async fn release(database: &DatabaseConnection, name: &str, holder: &str) -> Result<(), DbErr> {
    let delete = Query::delete()
        .from_table(LEASE_TABLE)
        .and_where(Expr::col("name").eq(name))
        .and_where(Expr::col("holder").eq(holder))
        .to_owned();
    let backend = database.get_database_backend();
    database.execute_raw(backend.build(&delete)).await?;
    Ok(())
}

/// Migration step: the lease table. It holds job names only, no tenant data, so it has no
/// row-level security; the runtime role gets DML on it.
pub async fn create_schedule_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(LEASE_TABLE)
                .if_not_exists()
                .col(ColumnDef::new("name").string().not_null().primary_key())
                .col(ColumnDef::new("holder").string().not_null())
                .col(ColumnDef::new("expires_at").timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;
    if manager.get_database_backend() == DatabaseBackend::Postgres {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON \"{LEASE_TABLE}\" TO {}",
                rls::RUNTIME_ROLE
            ))
            .await?;
    }
    Ok(())
}

/// Migration step undoing [`create_schedule_tables`].
pub async fn drop_schedule_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager.drop_table(Table::drop().table(LEASE_TABLE).if_exists().to_owned()).await
}
