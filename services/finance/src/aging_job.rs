//! The daily aging emitter (docs/domain.md#aging-and-dso): a scheduled job that, for each
//! tenant on its business date, announces `finance.invoice.aging_bucket_changed` for every
//! open invoice that crossed into an older due-date bucket (1, 31, 61 or 91 days past
//! due) since the last bucket announced for it. The bucket announced is remembered in the
//! same transaction as the event, so a second pass or a second replica announces nothing.

use std::{sync::Arc, time::Duration};

use atrium_kit::{
    TenantContext, TenantTransaction,
    command::{self, Command, CommandError, Outcome},
    events::{DomainEvent, Subject},
    schedule::{ScheduledJob, TenantTick},
};
use chrono::NaiveDate;
use futures::future::BoxFuture;
use sea_orm::{DatabaseConnection, DbErr};
use serde_json::json;
use uuid::Uuid;

use crate::{
    billing_commands::internal,
    domain::{
        AgingBucket, Invoice,
        aging::{self, AgingBasis},
    },
    repository,
};

/// Lease key and audit actor of the emitter.
pub const INVOICE_AGING: &str = "finance.invoice_aging";

/// The emitter's role: the platform's own automation.
const AGING_ROLES: &[&str] = &[atrium_kit::tenant::AUTOMATION_ROLE];

/// The emitter as a scheduled job: a pass an hour, so a crossing is announced within an
/// hour of the tenant's midnight.
pub struct InvoiceAgingJob;

impl ScheduledJob for InvoiceAgingJob {
    fn name(&self) -> &'static str {
        INVOICE_AGING
    }

    fn every(&self) -> Duration {
        Duration::from_secs(3600)
    }

    fn run_for_tenant<'a>(
        &'a self,
        database: &'a DatabaseConnection,
        tick: &'a TenantTick,
    ) -> BoxFuture<'a, Result<u64, DbErr>> {
        Box::pin(announce_aging_crossings(database, tick.tenant_id, tick.today))
    }
}

/// Every scheduled job of the finance service.
pub fn jobs() -> Vec<Arc<dyn ScheduledJob>> {
    vec![Arc::new(InvoiceAgingJob)]
}

/// One pass for `tenant_id` on its business date `today`: the number of crossings
/// announced. A pass with nothing to announce writes nothing.
pub async fn announce_aging_crossings(
    database: &DatabaseConnection,
    tenant_id: Uuid,
    today: NaiveDate,
) -> Result<u64, DbErr> {
    let context = TenantContext::automation(tenant_id, &format!("schedule:{INVOICE_AGING}"));
    let tx = TenantTransaction::begin_write(database, &context).await?;
    let command =
        Command { operation: "announceAgingBuckets", entity_type: "Invoice", allowed_roles: AGING_ROLES, target: None };
    let announced = command::execute_within(&tx, &command, |tx| Box::pin(announce(tx, today))).await.map_err(
        |error| match error {
            CommandError::Database(error) => error,
            other => DbErr::Custom(other.to_string()),
        },
    )?;
    if announced > 0 {
        tx.commit().await?;
    }
    Ok(announced)
}

async fn announce(tx: &TenantTransaction, today: NaiveDate) -> Result<Outcome<u64>, CommandError> {
    let invoices = repository::aging::open_invoices(tx).await.map_err(internal)?;
    let ids: Vec<Uuid> = invoices.iter().map(|invoice| invoice.id).collect();
    let announced = repository::aging::announced_buckets(tx, &ids).await.map_err(internal)?;
    let mut events = Vec::new();
    let mut entity_ids = Vec::new();
    for invoice in &invoices {
        let previous = announced.get(&invoice.id).copied();
        let bucket = aging::bucket_of(invoice, AgingBasis::DueDate, today);
        if !aging::crossed(previous, bucket) {
            continue;
        }
        if !repository::aging::mark_announced(tx, invoice.id, previous, bucket, today).await.map_err(internal)? {
            continue;
        }
        events.push(crossing_event(tx, invoice, previous.unwrap_or(AgingBucket::NotDue), bucket, today));
        entity_ids.push(invoice.id);
    }
    let count = u64::try_from(events.len()).unwrap_or(u64::MAX);
    Ok(Outcome { entity_ids, detail: format!("{count} aging crossing(s) on {today}"), events, value: count })
}

fn crossing_event(
    tx: &TenantTransaction,
    invoice: &Invoice,
    previous: AgingBucket,
    bucket: AgingBucket,
    today: NaiveDate,
) -> DomainEvent {
    let subject = Subject { entity_type: "Invoice".to_owned(), id: invoice.id, version: invoice.version };
    DomainEvent::new(tx.context(), "finance.invoice.aging_bucket_changed", subject)
        .with_ref("customer_account_id", invoice.customer_account_id)
        .with_ref("invoice_id", invoice.id)
        .with_data(json!({
            "bucket": aging::bucket_code(bucket),
            "previous_bucket": aging::bucket_code(previous),
            "balance": invoice.balance_due.to_string(),
            "currency": invoice.currency,
            "days_past_due": invoice.days_past_due(today),
            "due_date": invoice.due_date,
            "as_of": today,
        }))
}
