//! The domain parts of billing's commands (docs/domain.md#billing-schedules): building a
//! contract line's milestone schedule from delivery's engagement, making lines ready when
//! their milestone is completed or accepted, and flagging or clearing a line's risk. Each
//! runs inside the kit's command transaction; the role check, audit entry and outbox are
//! the kit's.

use atrium_kit::{
    TenantTransaction,
    changes::{self, ChangeKind},
    command::{CommandError, Outcome, guard_transition},
    events::{DomainEvent, Subject},
};
use chrono::Datelike;
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

use crate::{
    config::SERVICE,
    domain::{
        Clock, CreditNote, Invoice, InvoiceLine, InvoiceStatus, balance_due,
        billing::{
            self, BillingLineStatus, BillingMilestone, BillingSchedule, BillingScheduleKind, BillingScheduleLine,
            BillingTrigger,
        },
        invoicing,
        payments::{self, Allocatable, Allocation, Payment, PaymentMethod},
        round_money,
    },
    error::FinanceError,
    repository::{
        self,
        billing::{InvoiceStamps, LineChange},
    },
};

/// Roles that flag a billing line at risk or clear the risk (automation A2 too).
pub const BILLING_EDITORS: &[&str] = &["tenant_admin", "finance", atrium_kit::tenant::AUTOMATION_ROLE];
/// Schedules and readiness follow delivery's events only.
pub const BILLING_AUTOMATION: &[&str] = &[atrium_kit::tenant::AUTOMATION_ROLE];

/// Longest risk reason kept.
const MAX_REASON_LENGTH: usize = 500;

/// Builds the milestone billing schedule of `contract_line_id` for engagement
/// `engagement_id`: one line per billing milestone, the line amount split by the
/// milestones' shares to the exact cent. `None` when there is nothing to build: the line
/// is unknown, already has a schedule (a redelivery) or no milestone bills.
pub async fn build_milestone_schedule(
    tx: &TenantTransaction,
    engagement_id: Uuid,
    contract_line_id: Uuid,
    mut milestones: Vec<BillingMilestone>,
) -> Result<Outcome<Option<BillingSchedule>>, CommandError> {
    let nothing = |detail: &str| Outcome { value: None, entity_ids: vec![], detail: detail.to_owned(), events: vec![] };
    let Some(line) = repository::billing::contract_line_by_id(tx, contract_line_id).await.map_err(internal)? else {
        return Ok(nothing("unknown contract line; no schedule"));
    };
    if repository::billing::schedule_of_contract_line(tx, contract_line_id).await.map_err(internal)?.is_some() {
        return Ok(nothing("the contract line already has a schedule"));
    }
    if milestones.is_empty() {
        return Ok(nothing("no billing milestone; no schedule"));
    }
    let contract = repository::contracts_by_ids(tx, &[line.contract_id])
        .await
        .map_err(internal)?
        .pop()
        .ok_or(CommandError::NotFound("Contract"))?;
    milestones.sort_by_key(|milestone| milestone.seq);
    let shares = billing::billing_shares(&milestones.iter().map(|milestone| milestone.billing_pct).collect::<Vec<_>>());
    let amounts = billing::split_amount(line.amount, &shares);
    let schedule = BillingSchedule {
        id: Uuid::now_v7(),
        contract_id: contract.id,
        contract_line_id: Some(line.id),
        engagement_id: Some(engagement_id),
        kind: BillingScheduleKind::Milestone,
        currency: contract.currency.clone(),
    };
    let lines: Vec<BillingScheduleLine> = milestones
        .iter()
        .zip(amounts)
        .enumerate()
        .map(|(index, (milestone, amount))| BillingScheduleLine {
            id: Uuid::now_v7(),
            billing_schedule_id: schedule.id,
            contract_id: contract.id,
            seq: i32::try_from(index + 1).unwrap_or(i32::MAX),
            description: format!("{}: {}", line.description, milestone.name),
            planned_date: milestone.due_date,
            amount,
            currency: contract.currency.clone(),
            trigger: billing::milestone_trigger(milestone.requires_acceptance),
            milestone_id: Some(milestone.milestone_id),
            status: BillingLineStatus::Planned,
            risk_reason: None,
            invoice_id: None,
            version: 1,
        })
        .collect();
    match repository::billing::insert_schedule(tx, &schedule, &lines).await {
        Ok(()) => {}
        // A concurrent delivery of the same engagement built it first.
        Err(FinanceError::Database(error))
            if matches!(error.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) =>
        {
            return Err(CommandError::Conflict("the contract line's schedule was built concurrently".to_owned()));
        }
        Err(error) => return Err(internal(error)),
    }
    changes::record_change(tx, SERVICE.name, "Contract", &contract.id.to_string(), ChangeKind::Updated).await?;
    let mut entity_ids = vec![schedule.id];
    entity_ids.extend(lines.iter().map(|line| line.id));
    let detail = format!("milestone schedule of {} line(s) for {} {}", lines.len(), line.amount, contract.currency);
    Ok(Outcome { value: Some(schedule), entity_ids, detail, events: vec![] })
}

/// Makes every line waiting for `milestone_id` on `trigger` ready, each announced with
/// `finance.billing_line.ready`. No line waiting is nothing to do (a milestone that does
/// not bill, or a redelivery).
pub async fn mark_milestone_lines_ready(
    tx: &TenantTransaction,
    milestone_id: Uuid,
    trigger: BillingTrigger,
) -> Result<Outcome<Vec<BillingScheduleLine>>, CommandError> {
    let waiting = repository::billing::lines_awaiting_milestone(tx, milestone_id, trigger).await.map_err(internal)?;
    let mut ready = Vec::with_capacity(waiting.len());
    let mut events = Vec::with_capacity(waiting.len());
    for line in waiting {
        guard_transition(line.status, BillingLineStatus::Ready)?;
        let change = LineChange { risk_reason: line.risk_reason.is_some().then_some(None), invoice_id: None };
        let changed = change_line(tx, &line, BillingLineStatus::Ready, change).await?;
        events.push(line_event(tx, "finance.billing_line.ready", &changed).await?);
        ready.push(changed);
    }
    let detail = format!("{} line(s) ready on {}", ready.len(), trigger.as_str());
    Ok(Outcome { entity_ids: ready.iter().map(|line| line.id).collect(), detail, events, value: ready })
}

/// `flagBillingLineAtRisk`: `planned → at_risk` with a reason; `finance.billing_line.at_risk`.
pub async fn flag_line_at_risk(
    tx: &TenantTransaction,
    line_id: Option<Uuid>,
    reason: String,
) -> Result<Outcome<BillingScheduleLine>, CommandError> {
    let reason = reason.trim().to_owned();
    if reason.is_empty() || reason.len() > MAX_REASON_LENGTH {
        return Err(CommandError::Invalid(format!("reason must have 1 to {MAX_REASON_LENGTH} characters")));
    }
    let line = load_line(tx, line_id).await?;
    guard_transition(line.status, BillingLineStatus::AtRisk)?;
    let change = LineChange { risk_reason: Some(Some(reason.clone())), invoice_id: None };
    let changed = change_line(tx, &line, BillingLineStatus::AtRisk, change).await?;
    let event = line_event(tx, "finance.billing_line.at_risk", &changed).await?;
    Ok(Outcome {
        entity_ids: vec![changed.id],
        detail: format!("planned -> at_risk: {reason}"),
        events: vec![event],
        value: changed,
    })
}

/// `clearBillingLineRisk`: `at_risk → planned`, the reason cleared (a plain change).
pub async fn clear_line_risk(
    tx: &TenantTransaction,
    line_id: Option<Uuid>,
) -> Result<Outcome<BillingScheduleLine>, CommandError> {
    let line = load_line(tx, line_id).await?;
    guard_transition(line.status, BillingLineStatus::Planned)?;
    let change = LineChange { risk_reason: Some(None), invoice_id: None };
    let changed = change_line(tx, &line, BillingLineStatus::Planned, change).await?;
    changes::record_change(tx, SERVICE.name, "BillingScheduleLine", &changed.id.to_string(), ChangeKind::Updated)
        .await?;
    Ok(Outcome {
        entity_ids: vec![changed.id],
        detail: "at_risk -> planned".to_owned(),
        events: vec![],
        value: changed,
    })
}

async fn load_line(tx: &TenantTransaction, line_id: Option<Uuid>) -> Result<BillingScheduleLine, CommandError> {
    let line_id = line_id.ok_or(CommandError::NotFound("BillingScheduleLine"))?;
    repository::billing::billing_lines_by_ids(tx, &[line_id])
        .await
        .map_err(internal)?
        .pop()
        .ok_or(CommandError::NotFound("BillingScheduleLine"))
}

pub(crate) async fn change_line(
    tx: &TenantTransaction,
    line: &BillingScheduleLine,
    next: BillingLineStatus,
    change: LineChange,
) -> Result<BillingScheduleLine, CommandError> {
    match repository::billing::change_billing_line(tx, line, next, change).await {
        Ok(changed) => Ok(changed),
        Err(FinanceError::Stale { .. }) => Err(CommandError::stale("BillingScheduleLine")),
        Err(error) => Err(internal(error)),
    }
}

/// `finance.billing_line.<verb>` about `line` after the change, with the customer and
/// contract it bills.
async fn line_event(
    tx: &TenantTransaction,
    event_type: &str,
    line: &BillingScheduleLine,
) -> Result<DomainEvent, CommandError> {
    let contract = repository::contracts_by_ids(tx, &[line.contract_id])
        .await
        .map_err(internal)?
        .pop()
        .ok_or(CommandError::NotFound("Contract"))?;
    let subject = Subject { entity_type: "BillingScheduleLine".to_owned(), id: line.id, version: line.version };
    let mut event = DomainEvent::new(tx.context(), event_type, subject)
        .with_ref("customer_account_id", contract.customer_account_id)
        .with_ref("contract_id", contract.id)
        .with_ref("billing_schedule_id", line.billing_schedule_id)
        .with_data(json!({
            "seq": line.seq,
            "description": line.description,
            "status": line.status.as_str(),
            "amount": line.amount.to_string(),
            "currency": line.currency,
            "planned_date": line.planned_date,
            "trigger": line.trigger.as_str(),
            "risk_reason": line.risk_reason,
        }));
    if let Some(milestone_id) = line.milestone_id {
        event = event.with_ref("milestone_id", milestone_id);
    }
    Ok(event)
}

/// A finance error inside a command: a defect or the database, never the caller's fault.
pub(crate) fn internal(error: FinanceError) -> CommandError {
    match error {
        FinanceError::Database(error) => CommandError::Database(error),
        other => CommandError::Database(sea_orm::DbErr::Custom(other.to_string())),
    }
}

// ---------------------------------------------------------------------------------------
// Invoices (docs/domain.md#invoices-payments-and-disputes).

/// Roles that generate, issue, void and write off invoices and issue credit notes.
pub const INVOICE_EDITORS: &[&str] = &["tenant_admin", "finance"];

/// Longest reason kept on a credit note, void or write-off.
const MAX_NOTE_LENGTH: usize = 500;

/// `generateInvoices`: one `draft` invoice per contract with ready billing lines (of one
/// customer when given), its lines copied from the billing lines, which become
/// `invoiced`. Drafts carry a provisional `DRAFT-<id>` number until issued; due = the
/// draft's date + the customer's payment terms. Nothing ready: an empty answer.
pub async fn generate_invoices(
    tx: &TenantTransaction,
    clock: Clock,
    customer_account_id: Option<Option<Uuid>>,
) -> Result<Outcome<Vec<Invoice>>, CommandError> {
    let customer_filter = match customer_account_id {
        None => None,
        Some(Some(id)) => Some(id),
        Some(None) => return Err(CommandError::NotFound("CustomerAccount")),
    };
    if let Some(id) = customer_filter
        && repository::customer_accounts_by_ids(tx, &[id]).await.map_err(internal)?.is_empty()
    {
        return Err(CommandError::NotFound("CustomerAccount"));
    }
    let ready = repository::billing::ready_lines(tx, customer_filter).await.map_err(internal)?;
    let mut by_contract: Vec<(Uuid, Vec<BillingScheduleLine>)> = Vec::new();
    for line in ready {
        match by_contract.iter_mut().find(|(contract_id, _)| *contract_id == line.contract_id) {
            Some((_, lines)) => lines.push(line),
            None => by_contract.push((line.contract_id, vec![line])),
        }
    }
    let today = clock.today(tx.tenant_id());
    let mut invoices = Vec::new();
    let mut entity_ids = Vec::new();
    for (contract_id, billing_lines) in by_contract {
        let contract = repository::contracts_by_ids(tx, &[contract_id])
            .await
            .map_err(internal)?
            .pop()
            .ok_or(CommandError::NotFound("Contract"))?;
        let customer = repository::customer_accounts_by_ids(tx, &[contract.customer_account_id])
            .await
            .map_err(internal)?
            .pop()
            .ok_or(CommandError::NotFound("CustomerAccount"))?;
        let schedules = repository::billing::schedules_of_contracts(tx, &[contract_id]).await.map_err(internal)?;
        let invoice_id = Uuid::now_v7();
        let lines: Vec<InvoiceLine> = billing_lines
            .iter()
            .map(|line| InvoiceLine {
                id: Uuid::now_v7(),
                invoice_id,
                contract_line_id: schedules
                    .iter()
                    .find(|schedule| schedule.id == line.billing_schedule_id)
                    .and_then(|schedule| schedule.contract_line_id),
                billing_schedule_line_id: Some(line.id),
                description: line.description.clone(),
                quantity: Decimal::ONE,
                unit_price: line.amount,
                amount: line.amount,
                source_type: if line.milestone_id.is_some() { "milestone" } else { "fixed" }.to_owned(),
            })
            .collect();
        let total: Decimal = lines.iter().map(|line| line.amount).sum();
        let engagement_id = schedules.iter().find_map(|schedule| schedule.engagement_id);
        let invoice = Invoice {
            id: invoice_id,
            number: format!("DRAFT-{invoice_id}"),
            customer_account_id: contract.customer_account_id,
            channel_partner_id: contract.channel_partner_id,
            contract_id: Some(contract.id),
            engagement_id,
            status: InvoiceStatus::Draft,
            issue_date: today,
            due_date: invoicing::due_date(today, customer.payment_terms_days),
            currency: contract.currency.clone(),
            total,
            amount_paid: Decimal::ZERO,
            amount_credited: Decimal::ZERO,
            balance_due: total,
            disputed_amount: Decimal::ZERO,
            subtotal: total,
            tax_total: Decimal::ZERO,
            paid_at: None,
            issued_at: None,
            version: 1,
        };
        repository::billing::insert_invoice(tx, &invoice, &lines).await.map_err(internal)?;
        for line in &billing_lines {
            guard_transition(line.status, BillingLineStatus::Invoiced)?;
            let change = LineChange { risk_reason: None, invoice_id: Some(invoice.id) };
            change_line(tx, line, BillingLineStatus::Invoiced, change).await?;
            entity_ids.push(line.id);
        }
        changes::record_change(tx, SERVICE.name, "Invoice", &invoice.id.to_string(), ChangeKind::Created).await?;
        entity_ids.push(invoice.id);
        invoices.push(invoice);
    }
    let detail = format!("{} draft invoice(s)", invoices.len());
    Ok(Outcome { value: invoices, entity_ids, detail, events: vec![] })
}

/// What a client asks of one invoice.
#[derive(Debug, Clone)]
pub enum InvoiceStep {
    Issue,
    Void { reason: Option<String> },
    WriteOff { reason: String },
}

/// `issueInvoice`, `voidInvoice`, `writeOffInvoice` on invoice `invoice_id`.
pub async fn advance_invoice(
    tx: &TenantTransaction,
    clock: Clock,
    invoice_id: Option<Uuid>,
    step: InvoiceStep,
) -> Result<Outcome<Invoice>, CommandError> {
    let invoice = load_invoice(tx, invoice_id).await?;
    let today = clock.today(tx.tenant_id());
    let mut changed = invoice.clone();
    let mut stamps = InvoiceStamps::default();
    let (event_type, detail) = match &step {
        InvoiceStep::Issue => {
            guard_transition(invoice.status, InvoiceStatus::Issued)?;
            let customer = repository::customer_accounts_by_ids(tx, &[invoice.customer_account_id])
                .await
                .map_err(internal)?
                .pop()
                .ok_or(CommandError::NotFound("CustomerAccount"))?;
            let sequence = repository::billing::highest_invoice_sequence(tx).await.map_err(internal)? + 1;
            changed.number = invoicing::invoice_number(today.year(), sequence);
            changed.status = InvoiceStatus::Issued;
            changed.issue_date = today;
            changed.due_date = invoicing::due_date(today, customer.payment_terms_days);
            changed.issued_at = Some(clock.now());
            ("finance.invoice.issued", format!("draft -> issued as {}", changed.number))
        }
        InvoiceStep::Void { reason } => {
            guard_transition(invoice.status, InvoiceStatus::Void)?;
            if invoice.amount_paid > Decimal::ZERO {
                return Err(CommandError::Invalid(format!(
                    "invoice {} has {} paid; issue a credit note instead of voiding it",
                    invoice.number, invoice.amount_paid
                )));
            }
            let reason = optional_note(reason.as_deref())?;
            // The balance stays as derived (total − paid − credited); a void invoice is
            // not open, so it no longer counts as receivable.
            changed.status = InvoiceStatus::Void;
            stamps.voided_at = Some(clock.now());
            let detail =
                format!("{} -> void{}", invoice.status.as_str(), reason.map(|r| format!(": {r}")).unwrap_or_default());
            ("finance.invoice.voided", detail)
        }
        InvoiceStep::WriteOff { reason } => {
            guard_transition(invoice.status, InvoiceStatus::Uncollectible)?;
            let reason = required_note(reason, "reason")?;
            changed.status = InvoiceStatus::Uncollectible;
            stamps.written_off_at = Some(clock.now());
            ("finance.invoice.written_off", format!("{} -> uncollectible: {reason}", invoice.status.as_str()))
        }
    };
    let changed = write_invoice(tx, &invoice, &changed, stamps).await?;
    let events = match step {
        // A void draft was never announced.
        InvoiceStep::Void { .. } if invoice.status == InvoiceStatus::Draft => {
            changes::record_change(tx, SERVICE.name, "Invoice", &changed.id.to_string(), ChangeKind::Updated).await?;
            vec![]
        }
        _ => vec![invoice_event(tx, event_type, &changed)],
    };
    Ok(Outcome { entity_ids: vec![changed.id], detail, events, value: changed })
}

/// `issueCreditNote`: credits `amount` against the invoice's open balance (never more),
/// numbered `CN-<n>`; an issued or partially paid invoice left with nothing to pay is
/// `paid`. Announces `finance.credit_note.issued` (and `finance.invoice.paid`).
pub async fn issue_credit_note(
    tx: &TenantTransaction,
    clock: Clock,
    invoice_id: Option<Uuid>,
    amount: Decimal,
    reason: String,
) -> Result<Outcome<(CreditNote, Invoice)>, CommandError> {
    let invoice = load_invoice(tx, invoice_id).await?;
    let reason = required_note(&reason, "reason")?;
    if !invoice.status.is_open() {
        return Err(CommandError::Invalid(format!(
            "invoice {} is {}; only issued, partially paid or disputed invoices take credit notes",
            invoice.number,
            invoice.status.as_str()
        )));
    }
    invoicing::check_credit(amount, invoice.balance_due)
        .map_err(|message| CommandError::Invalid(format!("amount: {message}")))?;
    let (note, changed, mut events) = credit(tx, clock, &invoice, round_money(amount), reason).await?;
    events.insert(0, credit_note_event(tx, &note, &changed));
    let detail = format!("{} credited {} {} on {}", note.number, note.amount, note.currency, invoice.number);
    Ok(Outcome { entity_ids: vec![note.id, changed.id], detail, events, value: (note, changed) })
}

/// Records a credit note of `amount` on `invoice` and settles it; the invoice events the
/// settlement causes (paid). Shared with customer-favourable dispute resolutions.
pub(crate) async fn credit(
    tx: &TenantTransaction,
    clock: Clock,
    invoice: &Invoice,
    amount: Decimal,
    reason: String,
) -> Result<(CreditNote, Invoice, Vec<DomainEvent>), CommandError> {
    let note = CreditNote {
        id: Uuid::now_v7(),
        invoice_id: invoice.id,
        number: repository::billing::next_credit_note_number(tx).await.map_err(internal)?,
        amount,
        currency: invoice.currency.clone(),
        reason,
        issued_at: clock.now(),
    };
    repository::billing::insert_credit_note(tx, &note).await.map_err(internal)?;
    let mut changed = invoice.clone();
    changed.amount_credited += amount;
    changed.balance_due = balance_due(changed.total, changed.amount_paid, changed.amount_credited);
    let mut events = Vec::new();
    if invoice.status != InvoiceStatus::Disputed {
        let next = invoicing::settled_status(changed.total, changed.amount_paid, changed.amount_credited);
        if next != invoice.status {
            guard_transition(invoice.status, next)?;
            changed.status = next;
        }
        if next == InvoiceStatus::Paid {
            changed.paid_at = Some(clock.now());
        }
    }
    let changed = write_invoice(tx, invoice, &changed, InvoiceStamps::default()).await?;
    if changed.status == InvoiceStatus::Paid && invoice.status != InvoiceStatus::Paid {
        events.push(invoice_event(tx, "finance.invoice.paid", &changed));
    }
    Ok((note, changed, events))
}

pub(crate) async fn load_invoice(tx: &TenantTransaction, invoice_id: Option<Uuid>) -> Result<Invoice, CommandError> {
    let invoice_id = invoice_id.ok_or(CommandError::NotFound("Invoice"))?;
    repository::invoices_by_ids(tx, &[invoice_id])
        .await
        .map_err(internal)?
        .pop()
        .ok_or(CommandError::NotFound("Invoice"))
}

pub(crate) async fn write_invoice(
    tx: &TenantTransaction,
    read: &Invoice,
    changed: &Invoice,
    stamps: InvoiceStamps,
) -> Result<Invoice, CommandError> {
    match repository::billing::update_invoice(tx, read, changed, stamps).await {
        Ok(changed) => Ok(changed),
        Err(FinanceError::Stale { .. }) => Err(CommandError::stale("Invoice")),
        Err(error) => Err(internal(error)),
    }
}

/// `finance.invoice.<verb>` about `invoice` after the change.
pub(crate) fn invoice_event(tx: &TenantTransaction, event_type: &str, invoice: &Invoice) -> DomainEvent {
    let subject = Subject { entity_type: "Invoice".to_owned(), id: invoice.id, version: invoice.version };
    let mut event = DomainEvent::new(tx.context(), event_type, subject)
        .with_ref("customer_account_id", invoice.customer_account_id)
        .with_ref("invoice_id", invoice.id)
        .with_data(json!({
            "number": invoice.number,
            "status": invoice.status.as_str(),
            "issue_date": invoice.issue_date,
            "due_date": invoice.due_date,
            "currency": invoice.currency,
            "total": invoice.total.to_string(),
            "amount_paid": invoice.amount_paid.to_string(),
            "amount_credited": invoice.amount_credited.to_string(),
            "balance_due": invoice.balance_due.to_string(),
            "disputed_amount": invoice.disputed_amount.to_string(),
        }));
    if let Some(contract_id) = invoice.contract_id {
        event = event.with_ref("contract_id", contract_id);
    }
    if let Some(engagement_id) = invoice.engagement_id {
        event = event.with_ref("engagement_id", engagement_id);
    }
    event
}

pub(crate) fn credit_note_event(tx: &TenantTransaction, note: &CreditNote, invoice: &Invoice) -> DomainEvent {
    let subject = Subject { entity_type: "CreditNote".to_owned(), id: note.id, version: 1 };
    DomainEvent::new(tx.context(), "finance.credit_note.issued", subject)
        .with_ref("customer_account_id", invoice.customer_account_id)
        .with_ref("invoice_id", invoice.id)
        .with_data(json!({
            "number": note.number,
            "invoice_number": invoice.number,
            "amount": note.amount.to_string(),
            "currency": note.currency,
            "reason": note.reason,
            "balance_due": invoice.balance_due.to_string(),
        }))
}

fn required_note(text: &str, field: &str) -> Result<String, CommandError> {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_NOTE_LENGTH {
        return Err(CommandError::Invalid(format!("{field} must have 1 to {MAX_NOTE_LENGTH} characters")));
    }
    Ok(text.to_owned())
}

fn optional_note(text: Option<&str>) -> Result<Option<String>, CommandError> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => required_note(text, "reason").map(Some),
    }
}

// ---------------------------------------------------------------------------------------
// Payments.

/// A payment as a client records it.
#[derive(Debug, Clone)]
pub struct NewPayment {
    /// `None` when the client's id is not an id: no such customer.
    pub customer_account_id: Option<Uuid>,
    pub amount: Decimal,
    pub currency: String,
    pub method: PaymentMethod,
    pub reference: String,
    /// `None` ids: not an id, so not an invoice of the customer.
    pub allocations: Vec<(Option<Uuid>, Decimal)>,
}

/// A recorded payment with the invoices it paid, after the payment.
pub type RecordedPayment = (Payment, Vec<(Allocation, Invoice)>);

/// `recordPayment`: money received from a customer, allocated to its open invoices
/// (each at most its open balance, in the payment's currency); the rest stays on account.
/// Each invoice is updated conditionally on the version read, so two payments racing on
/// one invoice never both apply (the later one is a `CONFLICT`). Announces
/// `finance.payment.received` and `finance.invoice.paid` for each invoice it settles.
pub async fn record_payment(
    tx: &TenantTransaction,
    clock: Clock,
    input: NewPayment,
) -> Result<Outcome<RecordedPayment>, CommandError> {
    let customer_id = input.customer_account_id.ok_or(CommandError::NotFound("CustomerAccount"))?;
    let customer = repository::customer_accounts_by_ids(tx, &[customer_id])
        .await
        .map_err(internal)?
        .pop()
        .ok_or(CommandError::NotFound("CustomerAccount"))?;
    let reference = required_note(&input.reference, "reference")?;
    let mut allocations = Vec::with_capacity(input.allocations.len());
    for (index, (invoice_id, amount)) in input.allocations.iter().enumerate() {
        let invoice_id = invoice_id.ok_or_else(|| {
            CommandError::Invalid(format!("allocations[{index}].invoiceId is not an invoice of this customer"))
        })?;
        allocations.push(Allocation { invoice_id, amount: *amount });
    }
    let ids: Vec<Uuid> = allocations.iter().map(|allocation| allocation.invoice_id).collect();
    let invoices: Vec<Invoice> = repository::invoices_by_ids(tx, &ids)
        .await
        .map_err(internal)?
        .into_iter()
        .filter(|invoice| invoice.customer_account_id == customer.id)
        .collect();
    let allocatable: Vec<Allocatable> = invoices
        .iter()
        .map(|invoice| Allocatable {
            invoice_id: invoice.id,
            number: invoice.number.clone(),
            currency: invoice.currency.clone(),
            balance_due: invoice.balance_due,
            open: invoice.status.is_open(),
        })
        .collect();
    let unallocated = payments::check_payment(input.amount, &input.currency, &allocations, &allocatable)
        .map_err(CommandError::Invalid)?;
    let payment = Payment {
        id: Uuid::now_v7(),
        customer_account_id: customer.id,
        received_at: clock.now(),
        amount: round_money(input.amount),
        unallocated_amount: round_money(unallocated),
        currency: input.currency.clone(),
        method: input.method.as_str().to_owned(),
        reference,
    };
    repository::billing::insert_payment(tx, &payment, &allocations).await.map_err(internal)?;
    let mut events = Vec::new();
    let mut applied = Vec::with_capacity(allocations.len());
    let mut entity_ids = vec![payment.id];
    for allocation in allocations {
        let invoice = invoices
            .iter()
            .find(|invoice| invoice.id == allocation.invoice_id)
            .cloned()
            .ok_or(CommandError::NotFound("Invoice"))?;
        let mut changed = invoice.clone();
        changed.amount_paid = round_money(changed.amount_paid + allocation.amount);
        changed.balance_due = balance_due(changed.total, changed.amount_paid, changed.amount_credited);
        if invoice.status != InvoiceStatus::Disputed {
            let next = invoicing::settled_status(changed.total, changed.amount_paid, changed.amount_credited);
            if next != invoice.status {
                guard_transition(invoice.status, next)?;
                changed.status = next;
            }
        }
        if changed.balance_due <= Decimal::ZERO {
            changed.paid_at = Some(clock.now());
        }
        let changed = write_invoice(tx, &invoice, &changed, InvoiceStamps::default()).await?;
        if changed.status == InvoiceStatus::Paid {
            events.push(invoice_event(tx, "finance.invoice.paid", &changed));
        } else {
            changes::record_change(tx, SERVICE.name, "Invoice", &changed.id.to_string(), ChangeKind::Updated).await?;
        }
        entity_ids.push(changed.id);
        applied.push((allocation, changed));
    }
    let subject = Subject { entity_type: "Payment".to_owned(), id: payment.id, version: 1 };
    let received = DomainEvent::new(tx.context(), "finance.payment.received", subject)
        .with_ref("customer_account_id", customer.id)
        .with_data(json!({
            "amount": payment.amount.to_string(),
            "currency": payment.currency,
            "method": payment.method,
            "reference": payment.reference,
            "unallocated_amount": payment.unallocated_amount.to_string(),
            "allocations": applied.iter().map(|(allocation, invoice)| json!({
                "invoice_id": invoice.id,
                "invoice_number": invoice.number,
                "amount": allocation.amount.to_string(),
                "balance_due": invoice.balance_due.to_string(),
            })).collect::<Vec<_>>(),
        }));
    events.insert(0, received);
    changes::record_change(tx, SERVICE.name, "CustomerAccount", &customer.id.to_string(), ChangeKind::Updated).await?;
    let detail = format!(
        "{} {} received, {} allocated to {} invoice(s), {} on account",
        payment.amount,
        payment.currency,
        payment.amount - payment.unallocated_amount,
        applied.len(),
        payment.unallocated_amount
    );
    Ok(Outcome { entity_ids, detail, events, value: (payment, applied) })
}
