//! Aging repositories (docs/domain.md#aging-and-dso): the invoices aging and DSO read, and
//! the last bucket the daily emitter announced per invoice.

use atrium_kit::TenantTransaction;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    sea_query::{Expr, OnConflict},
};
use std::collections::HashMap;
use uuid::Uuid;

use super::{invoice_from_row, invoice_scope};
use crate::{
    domain::{AgingBucket, Invoice, InvoiceStatus, aging},
    entities::{invoice, invoice_aging_mark},
    error::FinanceError,
};

/// The caller's open invoices with a balance, ordered by id.
pub async fn open_invoices(tx: &TenantTransaction) -> Result<Vec<Invoice>, FinanceError> {
    let rows = invoice::Entity::find()
        .filter(invoice::Column::TenantId.eq(tx.tenant_id()))
        .filter(invoice_scope(tx))
        .filter(invoice::Column::Status.is_in(InvoiceStatus::OPEN.iter().map(|status| status.as_str())))
        .filter(invoice::Column::BalanceDue.gt(Decimal::ZERO))
        .order_by_asc(invoice::Column::Id)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(invoice_from_row).collect()
}

/// The caller's invoices issued in the window `(start, end]`, any status but draft (the
/// caller leaves void ones out).
pub async fn invoices_issued_between(
    tx: &TenantTransaction,
    start_exclusive: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<Invoice>, FinanceError> {
    let rows = invoice::Entity::find()
        .filter(invoice::Column::TenantId.eq(tx.tenant_id()))
        .filter(invoice_scope(tx))
        .filter(invoice::Column::Status.ne(InvoiceStatus::Draft.as_str()))
        .filter(invoice::Column::IssueDate.gt(start_exclusive))
        .filter(invoice::Column::IssueDate.lte(end))
        .order_by_asc(invoice::Column::Id)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(invoice_from_row).collect()
}

/// The last bucket announced for each of the given invoices that has one.
pub async fn announced_buckets(
    tx: &TenantTransaction,
    invoice_ids: &[Uuid],
) -> Result<HashMap<Uuid, AgingBucket>, FinanceError> {
    let rows = invoice_aging_mark::Entity::find()
        .filter(invoice_aging_mark::Column::TenantId.eq(tx.tenant_id()))
        .filter(invoice_aging_mark::Column::InvoiceId.is_in(invoice_ids.iter().copied()))
        .all(tx.connection())
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| aging::bucket_of_code(&row.bucket).map(|bucket| (row.invoice_id, bucket)))
        .collect())
}

/// Remembers `bucket` as the last one announced for `invoice_id`, provided the last one
/// is still `previous` (`None`: never announced): false when a concurrent pass moved it
/// first, so of two overlapping passes only one announces the crossing.
pub async fn mark_announced(
    tx: &TenantTransaction,
    invoice_id: Uuid,
    previous: Option<AgingBucket>,
    bucket: AgingBucket,
    on: NaiveDate,
) -> Result<bool, FinanceError> {
    let code = aging::bucket_code(bucket).to_owned();
    let Some(previous) = previous else {
        let row = invoice_aging_mark::ActiveModel {
            tenant_id: Set(tx.tenant_id()),
            invoice_id: Set(invoice_id),
            bucket: Set(code),
            announced_on: Set(on),
        };
        let inserted = invoice_aging_mark::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([invoice_aging_mark::Column::TenantId, invoice_aging_mark::Column::InvoiceId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(tx.connection())
            .await?;
        return Ok(inserted == 1);
    };
    let updated = invoice_aging_mark::Entity::update_many()
        .col_expr(invoice_aging_mark::Column::Bucket, Expr::value(code))
        .col_expr(invoice_aging_mark::Column::AnnouncedOn, Expr::value(on))
        .filter(invoice_aging_mark::Column::TenantId.eq(tx.tenant_id()))
        .filter(invoice_aging_mark::Column::InvoiceId.eq(invoice_id))
        .filter(invoice_aging_mark::Column::Bucket.eq(aging::bucket_code(previous)))
        .exec(tx.connection())
        .await?;
    Ok(updated.rows_affected == 1)
}
