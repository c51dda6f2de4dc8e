//! `KpiSnapshot` rows (docs/domain.md#kpis): the nightly job stores every KPI per tenant and
//! per channel partner for each window ending on the tenant's previous business day, once
//! per day, and announces each tenant-level one as `analytics.kpi.snapshot_published`.
//! The live values (`compute`) are what GraphQL serves.

use std::{sync::Arc, time::Duration};

use atrium_kit::{
    TenantContext, TenantTransaction,
    command::{self, Command, CommandError, Outcome},
    events::{DomainEvent, Subject},
    schedule::{ScheduledJob, TenantTick},
    tenant::AUTOMATION_ROLE,
};
use chrono::NaiveDate;
use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use serde_json::json;
use uuid::Uuid;

use super::{KpiValue, KpiWindow, measures};
use crate::read_models::{execute, rows, statement};

pub const KPI_SNAPSHOTS_JOB: &str = "analytics.kpi_snapshots";

const STORE_KPI_SNAPSHOTS: Command = Command {
    operation: "storeKpiSnapshots",
    entity_type: "KpiSnapshot",
    allowed_roles: &[AUTOMATION_ROLE],
    target: None,
};

/// The KPIs of the tenant (or of one channel partner) over `window` ending on `period_end`.
pub async fn compute(
    tx: &TenantTransaction,
    partner: Option<Uuid>,
    window: KpiWindow,
    period_end: NaiveDate,
) -> Result<Vec<KpiValue>, DbErr> {
    let models = rows::load(tx).await?;
    let models = match partner {
        Some(partner) => models.of_partner(partner),
        None => models,
    };
    let health = rows::latest_health_scores(tx).await?;
    let renewals = rows::decided_renewals(tx).await?;
    Ok(measures::all(&models, window, period_end, &health, &renewals))
}

/// The nightly snapshot job; a pass an hour, storing a day once.
pub struct KpiSnapshotJob;

impl ScheduledJob for KpiSnapshotJob {
    fn name(&self) -> &'static str {
        KPI_SNAPSHOTS_JOB
    }

    fn every(&self) -> Duration {
        Duration::from_secs(3600)
    }

    fn run_for_tenant<'a>(
        &'a self,
        database: &'a DatabaseConnection,
        tick: &'a TenantTick,
    ) -> BoxFuture<'a, Result<u64, DbErr>> {
        Box::pin(store_snapshots(database, tick.tenant_id, tick.today.pred_opt().unwrap_or(tick.today)))
    }
}

pub fn jobs() -> Vec<Arc<dyn ScheduledJob>> {
    vec![Arc::new(KpiSnapshotJob)]
}

/// Stores the snapshots of `period_end` for `tenant_id` unless they are there; returns
/// the rows written.
pub async fn store_snapshots(
    database: &DatabaseConnection,
    tenant_id: Uuid,
    period_end: NaiveDate,
) -> Result<u64, DbErr> {
    let context = TenantContext::automation(tenant_id, &format!("schedule:{KPI_SNAPSHOTS_JOB}"));
    let tx = TenantTransaction::begin_write(database, &context).await?;
    let stored = tx
        .connection()
        .query_one_raw(statement(
            &tx,
            "SELECT id FROM kpi_snapshots WHERE tenant_id = $1 AND period_end = $2",
            vec![tenant_id.into(), period_end.to_string().into()],
        ))
        .await?;
    if stored.is_some() {
        return Ok(0);
    }
    let written = command::execute_within(&tx, &STORE_KPI_SNAPSHOTS, move |tx| {
        Box::pin(async move { write_snapshots(tx, period_end).await.map_err(CommandError::Database) })
    })
    .await
    .map_err(|error| match error {
        CommandError::Database(error) => error,
        other => DbErr::Custom(other.to_string()),
    })?;
    tx.commit().await?;
    Ok(written)
}

async fn write_snapshots(tx: &TenantTransaction, period_end: NaiveDate) -> Result<Outcome<u64>, DbErr> {
    let models = rows::load(tx).await?;
    let health = rows::latest_health_scores(tx).await?;
    let renewals = rows::decided_renewals(tx).await?;
    let mut partners: Vec<Uuid> = models.customers.iter().filter_map(|customer| customer.channel_partner_id).collect();
    partners.sort();
    partners.dedup();
    let mut written = 0;
    let mut events = Vec::new();
    let mut ids = Vec::new();
    for window in KpiWindow::ALL {
        for partner in std::iter::once(None).chain(partners.iter().copied().map(Some)) {
            let scoped = match partner {
                Some(partner) => models.of_partner(partner),
                None => models.clone(),
            };
            for kpi in measures::all(&scoped, window, period_end, &health, &renewals) {
                let id = Uuid::now_v7();
                insert(tx, id, partner, window, period_end, &kpi).await?;
                written += 1;
                if partner.is_none() {
                    ids.push(id);
                    let subject = Subject { entity_type: "KpiSnapshot".to_owned(), id, version: 1 };
                    events.push(DomainEvent::new(tx.context(), "analytics.kpi.snapshot_published", subject).with_data(
                        json!({
                            "kpi_code": kpi.code,
                            "window": window.as_str(),
                            "period_end": period_end,
                        }),
                    ));
                }
            }
        }
    }
    Ok(Outcome { value: written, entity_ids: ids, detail: format!("{written} snapshot(s) for {period_end}"), events })
}

async fn insert(
    tx: &TenantTransaction,
    id: Uuid,
    partner: Option<Uuid>,
    window: KpiWindow,
    period_end: NaiveDate,
    kpi: &KpiValue,
) -> Result<(), DbErr> {
    let text = |value: Option<f64>| value.map(|value| value.to_string());
    execute(
        tx,
        "INSERT INTO kpi_snapshots (tenant_id, id, channel_partner_id, region, kpi_code, kpi_window, period_end, value, \
         numerator, denominator, n, reason, computed_at) VALUES ($1, $2, $3, NULL, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        vec![
            tx.tenant_id().into(),
            id.into(),
            partner.into(),
            kpi.code.into(),
            window.as_str().into(),
            period_end.to_string().into(),
            text(kpi.value).into(),
            text(kpi.numerator).into(),
            text(kpi.denominator).into(),
            (kpi.n as i32).into(),
            kpi.reason.map(str::to_owned).into(),
            chrono::Utc::now().into(),
        ],
    )
    .await?;
    Ok(())
}
