//! Billing repositories (docs/domain.md#billing-schedules): schedules and their lines,
//! read per parent in one statement for the DataLoaders, and line status changes as
//! conditional updates on the version that was read. Both follow their contract's
//! second-level scope.

use atrium_kit::TenantTransaction;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::{contract_line_from_row, contract_line_scope, contract_scope, invoice_scope, money};
use crate::{
    domain::{
        ContractLine, CreditNote, Invoice, InvoiceLine,
        billing::{BillingLineStatus, BillingSchedule, BillingScheduleKind, BillingScheduleLine, BillingTrigger},
        invoicing::invoice_sequence,
    },
    entities::{
        billing_schedule, billing_schedule_line, contract, contract_line, credit_note, invoice, invoice_line, payment,
        payment_allocation,
    },
    error::FinanceError,
};

/// Schedules and lines are visible with the contract they bill.
fn visible_contracts(tx: &TenantTransaction) -> Option<sea_orm::sea_query::SelectStatement> {
    use sea_orm::{QuerySelect, QueryTrait};
    tx.is_second_level_scoped().then(|| {
        contract::Entity::find()
            .select_only()
            .column(contract::Column::Id)
            .filter(contract::Column::TenantId.eq(tx.tenant_id()))
            .filter(contract_scope(tx))
            .into_query()
    })
}

fn schedule_scope(tx: &TenantTransaction) -> Condition {
    match visible_contracts(tx) {
        Some(contracts) => Condition::all().add(billing_schedule::Column::ContractId.in_subquery(contracts)),
        None => Condition::all(),
    }
}

fn line_scope(tx: &TenantTransaction) -> Condition {
    match visible_contracts(tx) {
        Some(contracts) => Condition::all().add(billing_schedule_line::Column::ContractId.in_subquery(contracts)),
        None => Condition::all(),
    }
}

/// One contract line of the tenant, or `None`.
pub async fn contract_line_by_id(tx: &TenantTransaction, id: Uuid) -> Result<Option<ContractLine>, FinanceError> {
    let row = contract_line::Entity::find()
        .filter(contract_line::Column::TenantId.eq(tx.tenant_id()))
        .filter(contract_line_scope(tx))
        .filter(contract_line::Column::Id.eq(id))
        .one(tx.connection())
        .await?;
    row.map(contract_line_from_row).transpose()
}

/// The schedule billing `contract_line_id`, if one was built.
pub async fn schedule_of_contract_line(
    tx: &TenantTransaction,
    contract_line_id: Uuid,
) -> Result<Option<BillingSchedule>, FinanceError> {
    let row = billing_schedule::Entity::find()
        .filter(billing_schedule::Column::TenantId.eq(tx.tenant_id()))
        .filter(schedule_scope(tx))
        .filter(billing_schedule::Column::ContractLineId.eq(contract_line_id))
        .one(tx.connection())
        .await?;
    row.map(schedule_from_row).transpose()
}

pub async fn insert_schedule(
    tx: &TenantTransaction,
    schedule: &BillingSchedule,
    lines: &[BillingScheduleLine],
) -> Result<(), FinanceError> {
    let row = billing_schedule::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(schedule.id),
        contract_id: Set(schedule.contract_id),
        contract_line_id: Set(schedule.contract_line_id),
        engagement_id: Set(schedule.engagement_id),
        kind: Set(schedule.kind.as_str().to_owned()),
        currency: Set(schedule.currency.clone()),
    };
    billing_schedule::Entity::insert(row).exec_without_returning(tx.connection()).await?;
    if lines.is_empty() {
        return Ok(());
    }
    let rows = lines.iter().map(|line| billing_schedule_line::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(line.id),
        billing_schedule_id: Set(line.billing_schedule_id),
        contract_id: Set(line.contract_id),
        seq: Set(line.seq),
        description: Set(line.description.clone()),
        planned_date: Set(line.planned_date),
        amount: Set(line.amount),
        currency: Set(line.currency.clone()),
        trigger: Set(line.trigger.as_str().to_owned()),
        milestone_id: Set(line.milestone_id),
        status: Set(line.status.as_str().to_owned()),
        risk_reason: Set(line.risk_reason.clone()),
        invoice_id: Set(line.invoice_id),
        version: Set(line.version),
    });
    billing_schedule_line::Entity::insert_many(rows).exec_without_returning(tx.connection()).await?;
    Ok(())
}

/// Every schedule of the given contracts in one statement, ordered by id.
pub async fn schedules_of_contracts(
    tx: &TenantTransaction,
    contract_ids: &[Uuid],
) -> Result<Vec<BillingSchedule>, FinanceError> {
    let rows = billing_schedule::Entity::find()
        .filter(billing_schedule::Column::TenantId.eq(tx.tenant_id()))
        .filter(schedule_scope(tx))
        .filter(billing_schedule::Column::ContractId.is_in(contract_ids.iter().copied()))
        .order_by_asc(billing_schedule::Column::Id)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(schedule_from_row).collect()
}

/// Every line of the given schedules in one statement, in schedule order (`seq`).
pub async fn lines_of_schedules(
    tx: &TenantTransaction,
    schedule_ids: &[Uuid],
) -> Result<Vec<BillingScheduleLine>, FinanceError> {
    let rows = billing_schedule_line::Entity::find()
        .filter(billing_schedule_line::Column::TenantId.eq(tx.tenant_id()))
        .filter(line_scope(tx))
        .filter(billing_schedule_line::Column::BillingScheduleId.is_in(schedule_ids.iter().copied()))
        .order_by_asc(billing_schedule_line::Column::Seq)
        .order_by_asc(billing_schedule_line::Column::Id)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(line_from_row).collect()
}

pub async fn billing_lines_by_ids(
    tx: &TenantTransaction,
    ids: &[Uuid],
) -> Result<Vec<BillingScheduleLine>, FinanceError> {
    let rows = billing_schedule_line::Entity::find()
        .filter(billing_schedule_line::Column::TenantId.eq(tx.tenant_id()))
        .filter(line_scope(tx))
        .filter(billing_schedule_line::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(billing_schedule_line::Column::Id)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(line_from_row).collect()
}

/// Lines billed at `milestone_id` on `trigger` that still wait for it.
pub async fn lines_awaiting_milestone(
    tx: &TenantTransaction,
    milestone_id: Uuid,
    trigger: BillingTrigger,
) -> Result<Vec<BillingScheduleLine>, FinanceError> {
    let rows = billing_schedule_line::Entity::find()
        .filter(billing_schedule_line::Column::TenantId.eq(tx.tenant_id()))
        .filter(line_scope(tx))
        .filter(billing_schedule_line::Column::MilestoneId.eq(milestone_id))
        .filter(billing_schedule_line::Column::Trigger.eq(trigger.as_str()))
        .filter(
            billing_schedule_line::Column::Status
                .is_in(BillingLineStatus::AWAITING_TRIGGER.iter().map(|status| status.as_str())),
        )
        .order_by_asc(billing_schedule_line::Column::Id)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(line_from_row).collect()
}

/// Lines billed at `milestone_id` that are still `planned` (any trigger).
pub async fn planned_lines_of_milestone(
    tx: &TenantTransaction,
    milestone_id: Uuid,
) -> Result<Vec<BillingScheduleLine>, FinanceError> {
    let rows = billing_schedule_line::Entity::find()
        .filter(billing_schedule_line::Column::TenantId.eq(tx.tenant_id()))
        .filter(line_scope(tx))
        .filter(billing_schedule_line::Column::MilestoneId.eq(milestone_id))
        .filter(billing_schedule_line::Column::Status.eq(BillingLineStatus::Planned.as_str()))
        .order_by_asc(billing_schedule_line::Column::Id)
        .all(tx.connection())
        .await?;
    rows.into_iter().map(line_from_row).collect()
}

/// What a line change writes besides the status.
#[derive(Debug, Clone, Default)]
pub struct LineChange {
    /// `Some(reason)` sets or clears (`Some(None)`) the risk reason.
    pub risk_reason: Option<Option<String>>,
    /// The invoice that now bills the line.
    pub invoice_id: Option<Uuid>,
}

/// Moves `line` (as read) to `next` and increments its version; `FinanceError::Stale`
/// when the row changed since it was read.
pub async fn change_billing_line(
    tx: &TenantTransaction,
    line: &BillingScheduleLine,
    next: BillingLineStatus,
    change: LineChange,
) -> Result<BillingScheduleLine, FinanceError> {
    let mut update = billing_schedule_line::Entity::update_many()
        .col_expr(billing_schedule_line::Column::Status, Expr::value(next.as_str()))
        .col_expr(billing_schedule_line::Column::Version, Expr::col(billing_schedule_line::Column::Version).add(1))
        .filter(billing_schedule_line::Column::TenantId.eq(tx.tenant_id()))
        .filter(billing_schedule_line::Column::Id.eq(line.id))
        .filter(billing_schedule_line::Column::Version.eq(line.version));
    let mut changed = line.clone();
    changed.status = next;
    changed.version += 1;
    if let Some(reason) = change.risk_reason {
        update = update.col_expr(billing_schedule_line::Column::RiskReason, Expr::value(reason.clone()));
        changed.risk_reason = reason;
    }
    if let Some(invoice_id) = change.invoice_id {
        update = update.col_expr(billing_schedule_line::Column::InvoiceId, Expr::value(invoice_id));
        changed.invoice_id = Some(invoice_id);
    }
    let updated = update.exec(tx.connection()).await?;
    if updated.rows_affected != 1 {
        return Err(FinanceError::Stale { entity: "BillingScheduleLine", id: line.id });
    }
    Ok(changed)
}

fn schedule_from_row(row: billing_schedule::Model) -> Result<BillingSchedule, FinanceError> {
    Ok(BillingSchedule {
        id: row.id,
        contract_id: row.contract_id,
        contract_line_id: row.contract_line_id,
        engagement_id: row.engagement_id,
        kind: BillingScheduleKind::parse(&row.kind)?,
        currency: row.currency,
    })
}

fn line_from_row(row: billing_schedule_line::Model) -> Result<BillingScheduleLine, FinanceError> {
    Ok(BillingScheduleLine {
        id: row.id,
        billing_schedule_id: row.billing_schedule_id,
        contract_id: row.contract_id,
        seq: row.seq,
        description: row.description,
        planned_date: row.planned_date,
        amount: money(row.amount),
        currency: row.currency,
        trigger: BillingTrigger::parse(&row.trigger)?,
        milestone_id: row.milestone_id,
        status: BillingLineStatus::parse(&row.status)?,
        risk_reason: row.risk_reason,
        invoice_id: row.invoice_id,
        version: row.version,
    })
}

/// The demo's billing schedule of an implementation line (docs/domain.md#demo-data):
/// three dated instalments of 40/40/20 % at 45, 120 and 200 days after the contract
/// start; instalments already due count as invoiced (the demo's invoices are not linked
/// to them), the others are planned.
pub(crate) fn demo_schedule_rows(
    tenant_id: Uuid,
    contract_id: Uuid,
    contract_line_id: Uuid,
    line_amount: rust_decimal::Decimal,
    currency: &str,
    contract_start: chrono::NaiveDate,
    today: chrono::NaiveDate,
) -> (billing_schedule::ActiveModel, Vec<billing_schedule_line::ActiveModel>) {
    use rust_decimal::Decimal;
    let schedule_id = atrium_kit::demo::id("billing_schedule", 0, &contract_line_id.to_string());
    let schedule = billing_schedule::ActiveModel {
        tenant_id: Set(tenant_id),
        id: Set(schedule_id),
        contract_id: Set(contract_id),
        contract_line_id: Set(Some(contract_line_id)),
        engagement_id: Set(None),
        kind: Set(BillingScheduleKind::FixedDates.as_str().to_owned()),
        currency: Set(currency.to_owned()),
    };
    let shares = [Decimal::new(40, 2), Decimal::new(40, 2), Decimal::new(20, 2)];
    let amounts = crate::domain::billing::split_amount(line_amount, &shares);
    let lines = [45, 120, 200]
        .into_iter()
        .zip(amounts)
        .enumerate()
        .map(|(index, (offset, amount))| {
            let planned_date = contract_start + chrono::TimeDelta::days(offset);
            let status = if planned_date <= today { BillingLineStatus::Invoiced } else { BillingLineStatus::Planned };
            billing_schedule_line::ActiveModel {
                tenant_id: Set(tenant_id),
                id: Set(atrium_kit::demo::id("billing_schedule_line", index as u64, &schedule_id.to_string())),
                billing_schedule_id: Set(schedule_id),
                contract_id: Set(contract_id),
                seq: Set(index as i32 + 1),
                description: Set(format!("Implementation instalment {}", index + 1)),
                planned_date: Set(Some(planned_date)),
                amount: Set(amount),
                currency: Set(currency.to_owned()),
                trigger: Set(BillingTrigger::Date.as_str().to_owned()),
                milestone_id: Set(None),
                status: Set(status.as_str().to_owned()),
                risk_reason: Set(None),
                invoice_id: Set(None),
                version: Set(1),
            }
        })
        .collect();
    (schedule, lines)
}

/// Inserts the demo's schedules and their lines.
pub(crate) async fn insert_demo_schedules(
    tx: &TenantTransaction,
    schedules: Vec<(billing_schedule::ActiveModel, Vec<billing_schedule_line::ActiveModel>)>,
) -> Result<(), FinanceError> {
    if schedules.is_empty() {
        return Ok(());
    }
    let (schedule_rows, line_rows): (Vec<_>, Vec<_>) = schedules.into_iter().unzip();
    billing_schedule::Entity::insert_many(schedule_rows).exec_without_returning(tx.connection()).await?;
    billing_schedule_line::Entity::insert_many(line_rows.into_iter().flatten())
        .exec_without_returning(tx.connection())
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Invoices (docs/domain.md#invoices-payments-and-disputes).

/// Ready billing lines, of one customer's contracts when given, ordered by id.
pub async fn ready_lines(
    tx: &TenantTransaction,
    customer_account_id: Option<Uuid>,
) -> Result<Vec<BillingScheduleLine>, FinanceError> {
    use sea_orm::{QuerySelect, QueryTrait};
    let mut query = billing_schedule_line::Entity::find()
        .filter(billing_schedule_line::Column::TenantId.eq(tx.tenant_id()))
        .filter(line_scope(tx))
        .filter(billing_schedule_line::Column::Status.eq(BillingLineStatus::Ready.as_str()));
    if let Some(customer_account_id) = customer_account_id {
        let contracts = contract::Entity::find()
            .select_only()
            .column(contract::Column::Id)
            .filter(contract::Column::TenantId.eq(tx.tenant_id()))
            .filter(contract::Column::CustomerAccountId.eq(customer_account_id))
            .into_query();
        query = query.filter(billing_schedule_line::Column::ContractId.in_subquery(contracts));
    }
    let rows = query.order_by_asc(billing_schedule_line::Column::Id).all(tx.connection()).await?;
    rows.into_iter().map(line_from_row).collect()
}

pub async fn insert_invoice(
    tx: &TenantTransaction,
    invoice: &Invoice,
    lines: &[InvoiceLine],
) -> Result<(), FinanceError> {
    let row = invoice::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(invoice.id),
        number: Set(invoice.number.clone()),
        customer_account_id: Set(invoice.customer_account_id),
        channel_partner_id: Set(invoice.channel_partner_id),
        contract_id: Set(invoice.contract_id),
        subscription_id: Set(None),
        status: Set(invoice.status.as_str().to_owned()),
        issue_date: Set(invoice.issue_date),
        due_date: Set(invoice.due_date),
        currency: Set(invoice.currency.clone()),
        total: Set(invoice.total),
        amount_paid: Set(invoice.amount_paid),
        amount_credited: Set(invoice.amount_credited),
        balance_due: Set(invoice.balance_due),
        disputed_amount: Set(invoice.disputed_amount),
        paid_at: Set(invoice.paid_at),
        version: Set(invoice.version),
        engagement_id: Set(invoice.engagement_id),
        subtotal: Set(invoice.subtotal),
        tax_total: Set(invoice.tax_total),
        issued_at: Set(invoice.issued_at),
        voided_at: Set(None),
        written_off_at: Set(None),
    };
    invoice::Entity::insert(row).exec_without_returning(tx.connection()).await?;
    let rows = lines.iter().map(|line| invoice_line::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(line.id),
        invoice_id: Set(line.invoice_id),
        contract_line_id: Set(line.contract_line_id),
        billing_schedule_line_id: Set(line.billing_schedule_line_id),
        description: Set(line.description.clone()),
        quantity: Set(line.quantity),
        unit_price: Set(line.unit_price),
        amount: Set(line.amount),
        source_type: Set(line.source_type.clone()),
        service_period_start: Set(None),
        service_period_end: Set(None),
    });
    invoice_line::Entity::insert_many(rows).exec_without_returning(tx.connection()).await?;
    Ok(())
}

/// The highest sequence of the tenant's `INV-…` numbers (0 when none).
pub async fn highest_invoice_sequence(tx: &TenantTransaction) -> Result<u64, FinanceError> {
    use sea_orm::QuerySelect;
    let numbers: Vec<String> = invoice::Entity::find()
        .select_only()
        .column(invoice::Column::Number)
        .filter(invoice::Column::TenantId.eq(tx.tenant_id()))
        .filter(invoice::Column::Number.starts_with("INV-"))
        .into_tuple()
        .all(tx.connection())
        .await?;
    Ok(numbers.iter().filter_map(|number| invoice_sequence(number)).max().unwrap_or(0))
}

/// Instants a change stamps on the invoice besides its amounts and status.
#[derive(Debug, Clone, Copy, Default)]
pub struct InvoiceStamps {
    pub voided_at: Option<chrono::DateTime<chrono::Utc>>,
    pub written_off_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Writes `changed` over the invoice as it was `read` (status, number, dates, amounts,
/// instants) with the next version; `FinanceError::Stale` when the row's version moved,
/// so two writers racing on one invoice (two payments, say) never both apply.
pub async fn update_invoice(
    tx: &TenantTransaction,
    read: &Invoice,
    changed: &Invoice,
    stamps: InvoiceStamps,
) -> Result<Invoice, FinanceError> {
    let mut update = invoice::Entity::update_many()
        .col_expr(invoice::Column::Status, Expr::value(changed.status.as_str()))
        .col_expr(invoice::Column::Number, Expr::value(changed.number.clone()))
        .col_expr(invoice::Column::IssueDate, Expr::value(changed.issue_date))
        .col_expr(invoice::Column::DueDate, Expr::value(changed.due_date))
        .col_expr(invoice::Column::AmountPaid, Expr::value(changed.amount_paid))
        .col_expr(invoice::Column::AmountCredited, Expr::value(changed.amount_credited))
        .col_expr(invoice::Column::BalanceDue, Expr::value(changed.balance_due))
        .col_expr(invoice::Column::DisputedAmount, Expr::value(changed.disputed_amount))
        .col_expr(invoice::Column::PaidAt, Expr::value(changed.paid_at))
        .col_expr(invoice::Column::IssuedAt, Expr::value(changed.issued_at))
        .col_expr(invoice::Column::Version, Expr::value(read.version + 1))
        .filter(invoice::Column::TenantId.eq(tx.tenant_id()))
        .filter(invoice::Column::Id.eq(read.id))
        .filter(invoice::Column::Version.eq(read.version));
    if let Some(voided_at) = stamps.voided_at {
        update = update.col_expr(invoice::Column::VoidedAt, Expr::value(voided_at));
    }
    if let Some(written_off_at) = stamps.written_off_at {
        update = update.col_expr(invoice::Column::WrittenOffAt, Expr::value(written_off_at));
    }
    if update.exec(tx.connection()).await?.rows_affected != 1 {
        return Err(FinanceError::Stale { entity: "Invoice", id: read.id });
    }
    Ok(Invoice { version: read.version + 1, ..changed.clone() })
}

/// Every line of the given invoices in one statement, in entry order.
pub async fn lines_of_invoices(tx: &TenantTransaction, invoice_ids: &[Uuid]) -> Result<Vec<InvoiceLine>, FinanceError> {
    use sea_orm::{QuerySelect, QueryTrait};
    let mut query = invoice_line::Entity::find()
        .filter(invoice_line::Column::TenantId.eq(tx.tenant_id()))
        .filter(invoice_line::Column::InvoiceId.is_in(invoice_ids.iter().copied()));
    if tx.is_second_level_scoped() {
        let visible = invoice::Entity::find()
            .select_only()
            .column(invoice::Column::Id)
            .filter(invoice::Column::TenantId.eq(tx.tenant_id()))
            .filter(invoice_scope(tx))
            .into_query();
        query = query.filter(invoice_line::Column::InvoiceId.in_subquery(visible));
    }
    let rows = query.order_by_asc(invoice_line::Column::Id).all(tx.connection()).await?;
    Ok(rows
        .into_iter()
        .map(|row| InvoiceLine {
            id: row.id,
            invoice_id: row.invoice_id,
            contract_line_id: row.contract_line_id,
            billing_schedule_line_id: row.billing_schedule_line_id,
            description: row.description,
            quantity: row.quantity.normalize(),
            unit_price: money(row.unit_price),
            amount: money(row.amount),
            source_type: row.source_type,
        })
        .collect())
}

pub async fn insert_credit_note(tx: &TenantTransaction, note: &CreditNote) -> Result<(), FinanceError> {
    let row = credit_note::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(note.id),
        invoice_id: Set(note.invoice_id),
        number: Set(note.number.clone()),
        amount: Set(note.amount),
        currency: Set(note.currency.clone()),
        reason: Set(note.reason.clone()),
        issued_at: Set(note.issued_at),
    };
    credit_note::Entity::insert(row).exec_without_returning(tx.connection()).await?;
    Ok(())
}

/// The tenant's next credit note number, `CN-00001` style.
pub async fn next_credit_note_number(tx: &TenantTransaction) -> Result<String, FinanceError> {
    use sea_orm::QuerySelect;
    let numbers: Vec<String> = credit_note::Entity::find()
        .select_only()
        .column(credit_note::Column::Number)
        .filter(credit_note::Column::TenantId.eq(tx.tenant_id()))
        .into_tuple()
        .all(tx.connection())
        .await?;
    let highest = numbers.iter().filter_map(|number| number.strip_prefix("CN-")?.parse::<u64>().ok()).max();
    Ok(format!("CN-{:05}", highest.unwrap_or(0) + 1))
}

/// Records a payment and its allocations (the invoices are updated by the caller).
pub async fn insert_payment(
    tx: &TenantTransaction,
    payment: &crate::domain::payments::Payment,
    allocations: &[crate::domain::payments::Allocation],
) -> Result<(), FinanceError> {
    let row = payment::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(payment.id),
        customer_account_id: Set(payment.customer_account_id),
        received_at: Set(payment.received_at),
        amount: Set(payment.amount),
        unallocated_amount: Set(payment.unallocated_amount),
        currency: Set(payment.currency.clone()),
        method: Set(payment.method.clone()),
        reference: Set(payment.reference.clone()),
        status: Set("succeeded".to_owned()),
    };
    payment::Entity::insert(row).exec_without_returning(tx.connection()).await?;
    if allocations.is_empty() {
        return Ok(());
    }
    let rows = allocations.iter().map(|allocation| payment_allocation::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(Uuid::now_v7()),
        payment_id: Set(payment.id),
        invoice_id: Set(allocation.invoice_id),
        amount: Set(allocation.amount),
    });
    payment_allocation::Entity::insert_many(rows).exec_without_returning(tx.connection()).await?;
    Ok(())
}
