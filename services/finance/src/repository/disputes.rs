//! Dispute repositories (docs/domain.md#invoices-payments-and-disputes): disputes read per
//! invoice in one statement for the DataLoader, written with conditional updates on the
//! version read, and the keys of the cross-service commands already applied. Disputes
//! follow their invoice's second-level scope.

use atrium_kit::TenantTransaction;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    sea_query::{Expr, OnConflict},
};
use uuid::Uuid;

use super::{invoice_scope, money};
use crate::{
    domain::{
        DisputeReason, DisputeStatus,
        disputes::{Dispute, DisputeOutcome},
    },
    entities::{applied_command_key, dispute, invoice},
    error::FinanceError,
};

fn dispute_from_row(row: dispute::Model) -> Result<Dispute, FinanceError> {
    Ok(Dispute {
        id: row.id,
        invoice_id: row.invoice_id,
        opened_at: row.opened_at,
        reason: DisputeReason::parse(&row.reason)?,
        note: row.note,
        amount: money(row.amount),
        status: DisputeStatus::parse(&row.status)?,
        outcome: row.outcome.as_deref().map(DisputeOutcome::parse).transpose()?,
        credited_amount: row.credited_amount.map(money),
        credit_note_id: row.credit_note_id,
        resolved_at: row.resolved_at,
        version: row.version,
    })
}

pub async fn insert_dispute(tx: &TenantTransaction, dispute: &Dispute) -> Result<(), FinanceError> {
    let row = dispute::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(dispute.id),
        invoice_id: Set(dispute.invoice_id),
        opened_at: Set(dispute.opened_at),
        reason: Set(dispute.reason.as_str().to_owned()),
        amount: Set(dispute.amount),
        status: Set(dispute.status.as_str().to_owned()),
        resolved_at: Set(dispute.resolved_at),
        version: Set(dispute.version),
        outcome: Set(dispute.outcome.map(|outcome| outcome.as_str().to_owned())),
        credited_amount: Set(dispute.credited_amount),
        credit_note_id: Set(dispute.credit_note_id),
        note: Set(dispute.note.clone()),
    };
    dispute::Entity::insert(row).exec_without_returning(tx.connection()).await?;
    Ok(())
}

/// Every dispute of the given invoices the caller may see, in one statement, oldest first.
pub async fn disputes_of_invoices(tx: &TenantTransaction, invoice_ids: &[Uuid]) -> Result<Vec<Dispute>, FinanceError> {
    let mut query = dispute::Entity::find()
        .filter(dispute::Column::TenantId.eq(tx.tenant_id()))
        .filter(dispute::Column::InvoiceId.is_in(invoice_ids.iter().copied()));
    if tx.is_second_level_scoped() {
        let visible = invoice::Entity::find()
            .select_only()
            .column(invoice::Column::Id)
            .filter(invoice::Column::TenantId.eq(tx.tenant_id()))
            .filter(invoice_scope(tx))
            .into_query();
        query = query.filter(dispute::Column::InvoiceId.in_subquery(visible));
    }
    let rows =
        query.order_by_asc(dispute::Column::OpenedAt).order_by_asc(dispute::Column::Id).all(tx.connection()).await?;
    rows.into_iter().map(dispute_from_row).collect()
}

pub async fn dispute_by_id(tx: &TenantTransaction, id: Uuid) -> Result<Option<Dispute>, FinanceError> {
    let Some(row) = dispute::Entity::find()
        .filter(dispute::Column::TenantId.eq(tx.tenant_id()))
        .filter(dispute::Column::Id.eq(id))
        .one(tx.connection())
        .await?
    else {
        return Ok(None);
    };
    dispute_from_row(row).map(Some)
}

/// Writes `changed` over the dispute as it was `read` with the next version;
/// `FinanceError::Stale` when someone changed it in between.
pub async fn update_dispute(
    tx: &TenantTransaction,
    read: &Dispute,
    changed: &Dispute,
) -> Result<Dispute, FinanceError> {
    let result = dispute::Entity::update_many()
        .col_expr(dispute::Column::Status, Expr::value(changed.status.as_str()))
        .col_expr(dispute::Column::Outcome, Expr::value(changed.outcome.map(|outcome| outcome.as_str().to_owned())))
        .col_expr(dispute::Column::CreditedAmount, Expr::value(changed.credited_amount))
        .col_expr(dispute::Column::CreditNoteId, Expr::value(changed.credit_note_id))
        .col_expr(dispute::Column::ResolvedAt, Expr::value(changed.resolved_at))
        .col_expr(dispute::Column::Version, Expr::value(read.version + 1))
        .filter(dispute::Column::TenantId.eq(tx.tenant_id()))
        .filter(dispute::Column::Id.eq(read.id))
        .filter(dispute::Column::Version.eq(read.version))
        .exec(tx.connection())
        .await?;
    if result.rows_affected != 1 {
        return Err(FinanceError::Stale { entity: "Dispute", id: read.id });
    }
    Ok(Dispute { version: read.version + 1, ..changed.clone() })
}

/// Records `key` as applied for `operation`; false when it already was (nothing written).
pub async fn claim_command_key(
    tx: &TenantTransaction,
    operation: &str,
    key: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<bool, FinanceError> {
    let row = applied_command_key::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        idempotency_key: Set(key.to_owned()),
        operation: Set(operation.to_owned()),
        applied_at: Set(at),
    };
    let inserted = applied_command_key::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([applied_command_key::Column::TenantId, applied_command_key::Column::IdempotencyKey])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(tx.connection())
        .await?;
    Ok(inserted == 1)
}
