//! The domain parts of dispute commands (docs/domain.md#invoices-payments-and-disputes):
//! opening a dispute moves its invoice to `disputed` and holds the amount; review marks
//! it under review; resolution decides it for the customer (a credit note through the
//! invoice credit path) or the provider, and returns the invoice to where its payments
//! and credits leave it. Each runs inside the kit's command transaction.

use atrium_kit::{
    TenantTransaction,
    changes::{self, ChangeKind},
    command::{CommandError, Outcome, guard_transition},
    events::{DomainEvent, Subject},
};
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

use crate::{
    billing_commands::{self, internal, load_invoice, write_invoice},
    config::SERVICE,
    domain::{
        Clock, DisputeReason, DisputeStatus, Invoice, InvoiceStatus,
        disputes::{self, Dispute, DisputeOutcome},
        invoicing, round_money,
    },
    error::FinanceError,
    repository::{self, billing::InvoiceStamps},
};

/// Roles that open, review and resolve disputes.
pub const DISPUTE_EDITORS: &[&str] = &["tenant_admin", "finance"];

/// Longest note kept on a dispute.
const MAX_NOTE_LENGTH: usize = 500;

/// A dispute with the invoice after the command.
pub type DisputeWithInvoice = (Dispute, Invoice);

/// `openDispute`: an issued or partially paid invoice becomes `disputed`, holding
/// `amount` (positive, to the cent, at most the balance due) as disputed; announces
/// `finance.invoice.disputed`.
pub async fn open_dispute(
    tx: &TenantTransaction,
    clock: Clock,
    invoice_id: Option<Uuid>,
    amount: Decimal,
    reason: DisputeReason,
    note: Option<String>,
) -> Result<Outcome<DisputeWithInvoice>, CommandError> {
    let invoice = load_invoice(tx, invoice_id).await?;
    let note = match note.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) if text.len() > MAX_NOTE_LENGTH => {
            return Err(CommandError::Invalid(format!("note must have at most {MAX_NOTE_LENGTH} characters")));
        }
        Some(text) => Some(text.to_owned()),
    };
    guard_transition(invoice.status, InvoiceStatus::Disputed)?;
    disputes::check_dispute_amount(amount, invoice.balance_due)
        .map_err(|message| CommandError::Invalid(format!("amount: {message}")))?;
    let dispute = Dispute {
        id: Uuid::now_v7(),
        invoice_id: invoice.id,
        opened_at: clock.now(),
        reason,
        note,
        amount: round_money(amount),
        status: DisputeStatus::Open,
        outcome: None,
        credited_amount: None,
        credit_note_id: None,
        resolved_at: None,
        version: 1,
    };
    repository::disputes::insert_dispute(tx, &dispute).await.map_err(internal)?;
    let mut changed = invoice.clone();
    changed.status = InvoiceStatus::Disputed;
    changed.disputed_amount = round_money(invoice.disputed_amount + dispute.amount);
    let changed = write_invoice(tx, &invoice, &changed, InvoiceStamps::default()).await?;
    let subject = Subject { entity_type: "Invoice".to_owned(), id: changed.id, version: changed.version };
    let event = DomainEvent::new(tx.context(), "finance.invoice.disputed", subject)
        .with_ref("customer_account_id", changed.customer_account_id)
        .with_ref("invoice_id", changed.id)
        .with_ref("dispute_id", dispute.id)
        .with_data(json!({
            "dispute_id": dispute.id,
            "amount": dispute.amount.to_string(),
            "currency": changed.currency,
            "reason": dispute.reason.as_str(),
        }));
    changes::record_change(
        tx,
        SERVICE.name,
        "CustomerAccount",
        &changed.customer_account_id.to_string(),
        ChangeKind::Updated,
    )
    .await?;
    let detail = format!(
        "{} disputed: {} {} ({}); {} -> disputed",
        changed.number,
        dispute.amount,
        changed.currency,
        reason.as_str(),
        invoice.status.as_str()
    );
    Ok(Outcome { entity_ids: vec![dispute.id, changed.id], detail, events: vec![event], value: (dispute, changed) })
}

/// `reviewDispute`: `open → under_review` (a plain change, no event).
pub async fn review_dispute(
    tx: &TenantTransaction,
    dispute_id: Option<Uuid>,
) -> Result<Outcome<Dispute>, CommandError> {
    let dispute = load_dispute(tx, dispute_id).await?;
    guard_transition(dispute.status, DisputeStatus::UnderReview)?;
    let changed =
        write_dispute(tx, &dispute, &Dispute { status: DisputeStatus::UnderReview, ..dispute.clone() }).await?;
    changes::record_change(tx, SERVICE.name, "Invoice", &changed.invoice_id.to_string(), ChangeKind::Updated).await?;
    Ok(Outcome {
        entity_ids: vec![changed.id],
        detail: "open -> under_review".to_owned(),
        events: vec![],
        value: changed,
    })
}

/// `resolveDispute`: decides an open or under-review dispute. `upheld` credits the
/// disputed amount and `partially_upheld` the given `credit_amount`, each as a credit note
/// (never above the invoice's balance due); `rejected` credits nothing. The invoice's
/// disputed amount drops by the dispute's and it returns to `issued`, `partially_paid`
/// or `paid` by what was paid and credited. Announces `finance.dispute.resolved` (with
/// `finance.credit_note.issued` and `finance.invoice.paid` when they happen).
pub async fn resolve_dispute(
    tx: &TenantTransaction,
    clock: Clock,
    dispute_id: Option<Uuid>,
    outcome: DisputeOutcome,
    credit_amount: Option<Decimal>,
) -> Result<Outcome<DisputeWithInvoice>, CommandError> {
    let dispute = load_dispute(tx, dispute_id).await?;
    let resolved_status = outcome.resolved_status();
    guard_transition(dispute.status, resolved_status)?;
    let credit = disputes::resolution_credit(outcome, dispute.amount, credit_amount).map_err(CommandError::Invalid)?;
    let invoice = load_invoice(tx, Some(dispute.invoice_id)).await?;
    let mut events = Vec::new();
    let (credited_invoice, credit_note_id) = if credit > Decimal::ZERO {
        invoicing::check_credit(credit, invoice.balance_due)
            .map_err(|message| CommandError::Invalid(format!("creditAmount: {message}")))?;
        let reason = format!("dispute {} {}", dispute.reason.as_str(), outcome.as_str());
        let (note, credited, mut paid_events) =
            billing_commands::credit(tx, clock, &invoice, round_money(credit), reason).await?;
        events.push(billing_commands::credit_note_event(tx, &note, &credited));
        events.append(&mut paid_events);
        (credited, Some(note.id))
    } else {
        (invoice.clone(), None)
    };
    let mut settled = credited_invoice.clone();
    settled.disputed_amount = round_money((credited_invoice.disputed_amount - dispute.amount).max(Decimal::ZERO));
    if settled.disputed_amount.is_zero() && credited_invoice.status == InvoiceStatus::Disputed {
        let next = invoicing::settled_status(settled.total, settled.amount_paid, settled.amount_credited);
        guard_transition(InvoiceStatus::Disputed, next)?;
        settled.status = next;
        if next == InvoiceStatus::Paid {
            settled.paid_at = Some(clock.now());
        }
    }
    let settled = write_invoice(tx, &credited_invoice, &settled, InvoiceStamps::default()).await?;
    if settled.status == InvoiceStatus::Paid && credited_invoice.status != InvoiceStatus::Paid {
        events.push(billing_commands::invoice_event(tx, "finance.invoice.paid", &settled));
    }
    let resolved = Dispute {
        status: resolved_status,
        outcome: Some(outcome),
        credited_amount: Some(round_money(credit)),
        credit_note_id,
        resolved_at: Some(clock.now()),
        ..dispute.clone()
    };
    let resolved = write_dispute(tx, &dispute, &resolved).await?;
    let subject = Subject { entity_type: "Dispute".to_owned(), id: resolved.id, version: resolved.version };
    let event = DomainEvent::new(tx.context(), "finance.dispute.resolved", subject)
        .with_ref("customer_account_id", settled.customer_account_id)
        .with_ref("invoice_id", settled.id)
        .with_ref("dispute_id", resolved.id)
        .with_data(json!({
            "dispute_id": resolved.id,
            "outcome": outcome.as_str(),
            "credited_amount": round_money(credit).to_string(),
            "currency": settled.currency,
        }));
    events.insert(0, event);
    changes::record_change(tx, SERVICE.name, "Invoice", &settled.id.to_string(), ChangeKind::Updated).await?;
    changes::record_change(
        tx,
        SERVICE.name,
        "CustomerAccount",
        &settled.customer_account_id.to_string(),
        ChangeKind::Updated,
    )
    .await?;
    let detail = format!(
        "dispute of {} {} {}: {}, {} credited; invoice {} -> {}",
        resolved.amount,
        settled.currency,
        settled.number,
        outcome.as_str(),
        round_money(credit),
        invoice.status.as_str(),
        settled.status.as_str()
    );
    let mut entity_ids = vec![resolved.id, settled.id];
    entity_ids.extend(credit_note_id);
    Ok(Outcome { entity_ids, detail, events, value: (resolved, settled) })
}

async fn load_dispute(tx: &TenantTransaction, dispute_id: Option<Uuid>) -> Result<Dispute, CommandError> {
    let dispute_id = dispute_id.ok_or(CommandError::NotFound("Dispute"))?;
    repository::disputes::dispute_by_id(tx, dispute_id)
        .await
        .map_err(internal)?
        .ok_or(CommandError::NotFound("Dispute"))
}

async fn write_dispute(tx: &TenantTransaction, read: &Dispute, changed: &Dispute) -> Result<Dispute, CommandError> {
    match repository::disputes::update_dispute(tx, read, changed).await {
        Ok(changed) => Ok(changed),
        Err(FinanceError::Stale { .. }) => Err(CommandError::stale("Dispute")),
        Err(error) => Err(internal(error)),
    }
}
