//! Rebuilding a tenant's read models from the journal (docs/domain.md#analytics-read-models):
//! one transaction truncates the tenant's rows and replays every journaled event in
//! occurrence order through the same projection the consumer runs, so the result equals
//! what live delivery built (or fixes what a projection bug left behind).

use atrium_kit::{TenantContext, TenantTransaction, events::DomainEvent};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use uuid::Uuid;

use super::{apply, execute, statement};

/// The tables a rebuild empties; `rm_engagements` too, its status is replayed from the
/// engagement events.
const READ_MODEL_TABLES: &[&str] = &[
    "rm_customer",
    "rm_contract",
    "rm_mrr_movement",
    "rm_milestone",
    "rm_invoice",
    "rm_ticket_sla",
    "rm_time_entry_daily",
    "rm_entitlement_usage",
    "rm_task",
    "rm_engagements",
];

/// How far a rebuild got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildProgress {
    pub replayed: u64,
    pub total: u64,
}

/// Rebuilds `tenant_id`'s read models, reporting progress after every 500 events and at
/// the end; returns the events replayed.
pub async fn rebuild_tenant(
    database: &DatabaseConnection,
    tenant_id: Uuid,
    mut progress: impl FnMut(RebuildProgress),
) -> Result<u64, DbErr> {
    let context = TenantContext::automation(tenant_id, "rebuild:read_models");
    let tx = TenantTransaction::begin_write(database, &context).await?;
    for table in READ_MODEL_TABLES {
        execute(&tx, &format!("DELETE FROM {table} WHERE tenant_id = $1"), vec![tenant_id.into()]).await?;
    }
    let envelopes = tx
        .connection()
        .query_all_raw(statement(
            &tx,
            "SELECT envelope FROM event_journal WHERE tenant_id = $1 ORDER BY occurred_at, event_id",
            vec![tenant_id.into()],
        ))
        .await?;
    let total = envelopes.len() as u64;
    let mut replayed: u64 = 0;
    for row in envelopes {
        let envelope: String = row.try_get("", "envelope")?;
        let event: DomainEvent = serde_json::from_str(&envelope).map_err(|error| DbErr::Custom(error.to_string()))?;
        apply(&tx, &event).await?;
        replayed += 1;
        if replayed.is_multiple_of(500) {
            progress(RebuildProgress { replayed, total });
        }
    }
    super::announce_kpi_change(&tx).await?;
    tx.commit().await?;
    progress(RebuildProgress { replayed, total });
    Ok(replayed)
}
