//! Billing's part of the finance API (docs/domain.md#billing-schedules): schedule and
//! line types, `Contract.billingSchedules` through per-request DataLoaders (one statement
//! per nesting level), and the billing mutations, each one command of the kit.

use std::sync::Arc;

use async_graphql::{
    ComplexObject, Context, Enum, ID, Object, Result, SimpleObject,
    dataloader::{DataLoader, HashMapCache, Loader},
};
use atrium_kit::{
    TenantTransaction,
    command::{self, Command},
};
use chrono::NaiveDate;
use std::collections::HashMap;
use uuid::Uuid;

use atrium_kit::subgraph_http::uuid_of;

use super::{
    money::Money,
    types::{Invoice, business_date},
};
use crate::{
    billing_commands::{self, BILLING_EDITORS, INVOICE_EDITORS, InvoiceStep},
    domain::{Clock, billing as domain},
    error::FinanceError,
    repository,
};

type LoadResult<V> = Result<HashMap<Uuid, V>, Arc<FinanceError>>;

fn group_by_parent<T>(children: Vec<T>, parent_of: impl Fn(&T) -> Uuid) -> HashMap<Uuid, Arc<Vec<T>>> {
    let mut groups: HashMap<Uuid, Vec<T>> = HashMap::new();
    for child in children {
        groups.entry(parent_of(&child)).or_default().push(child);
    }
    groups.into_iter().map(|(parent, children)| (parent, Arc::new(children))).collect()
}

/// Every schedule of each contract key.
pub struct SchedulesByContractLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for SchedulesByContractLoader {
    type Value = Arc<Vec<domain::BillingSchedule>>;
    type Error = Arc<FinanceError>;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Self::Value> {
        let rows = repository::billing::schedules_of_contracts(&self.0, keys).await.map_err(Arc::new)?;
        Ok(group_by_parent(rows, |schedule| schedule.contract_id))
    }
}

/// Every line of each schedule key, in `seq` order.
pub struct LinesByScheduleLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for LinesByScheduleLoader {
    type Value = Arc<Vec<domain::BillingScheduleLine>>;
    type Error = Arc<FinanceError>;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Self::Value> {
        let rows = repository::billing::lines_of_schedules(&self.0, keys).await.map_err(Arc::new)?;
        Ok(group_by_parent(rows, |line| line.billing_schedule_id))
    }
}

/// Installs billing's loaders over the request's transaction.
pub fn install_loaders(request: async_graphql::Request, tx: &Arc<TenantTransaction>) -> async_graphql::Request {
    request
        .data(DataLoader::with_cache(SchedulesByContractLoader(tx.clone()), tokio::spawn, HashMapCache::default()))
        .data(DataLoader::with_cache(LinesByScheduleLoader(tx.clone()), tokio::spawn, HashMapCache::default()))
        .data(DataLoader::with_cache(LinesByInvoiceLoader(tx.clone()), tokio::spawn, HashMapCache::default()))
}

fn load_failed(error: Arc<FinanceError>) -> async_graphql::Error {
    async_graphql::Error::new(error.to_string())
}

fn id_of(id: Uuid) -> ID {
    ID(id.to_string())
}

/// The billing schedules of `contract_id` (`Contract.billingSchedules`).
pub async fn schedules_of_contract(ctx: &Context<'_>, contract_id: Uuid) -> Result<Vec<BillingSchedule>> {
    let loader = ctx.data::<DataLoader<SchedulesByContractLoader, HashMapCache>>()?;
    let schedules = loader.load_one(contract_id).await.map_err(load_failed)?.unwrap_or_default();
    Ok(schedules.iter().cloned().map(Into::into).collect())
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::BillingScheduleKind")]
pub enum BillingScheduleKind {
    FixedDates,
    Milestone,
    Recurring,
    TimeAndMaterials,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::BillingTrigger")]
pub enum BillingTrigger {
    Date,
    MilestoneCompleted,
    MilestoneAccepted,
    PeriodEnd,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::BillingLineStatus")]
pub enum BillingLineStatus {
    Planned,
    Ready,
    Invoiced,
    AtRisk,
    Deferred,
    Cancelled,
}

/// How one contract line is billed.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct BillingSchedule {
    pub id: ID,
    pub kind: BillingScheduleKind,
    pub currency: String,
    /// The contract line billed.
    pub contract_line_id: Option<ID>,
    /// Delivery's engagement whose milestones trigger the lines.
    pub engagement_id: Option<ID>,
    #[graphql(skip)]
    pub key: Uuid,
}

impl From<domain::BillingSchedule> for BillingSchedule {
    fn from(schedule: domain::BillingSchedule) -> Self {
        BillingSchedule {
            id: id_of(schedule.id),
            kind: schedule.kind.into(),
            currency: schedule.currency,
            contract_line_id: schedule.contract_line_id.map(id_of),
            engagement_id: schedule.engagement_id.map(id_of),
            key: schedule.id,
        }
    }
}

#[ComplexObject]
impl BillingSchedule {
    /// The schedule's lines in order; their amounts add up to the billed part of the line.
    async fn lines(&self, ctx: &Context<'_>) -> Result<Vec<BillingScheduleLine>> {
        let loader = ctx.data::<DataLoader<LinesByScheduleLoader, HashMapCache>>()?;
        let lines = loader.load_one(self.key).await.map_err(load_failed)?.unwrap_or_default();
        Ok(lines.iter().cloned().map(Into::into).collect())
    }
}

/// One amount of a billing schedule, invoiced once its trigger is met.
#[derive(SimpleObject)]
pub struct BillingScheduleLine {
    pub id: ID,
    pub seq: i32,
    pub description: String,
    pub planned_date: Option<NaiveDate>,
    /// Visible to `finance` and `tenant_admin` only (null for other callers).
    #[graphql(requires_scopes = "finance", requires_scopes = "tenant_admin")]
    pub amount: Option<Money>,
    pub trigger: BillingTrigger,
    /// Delivery's milestone that triggers the line.
    pub milestone_id: Option<ID>,
    pub status: BillingLineStatus,
    pub risk_reason: Option<String>,
    /// The invoice billing the line, once invoiced.
    pub invoice_id: Option<ID>,
    /// Incremented by every change of the line.
    pub version: i64,
}

impl From<domain::BillingScheduleLine> for BillingScheduleLine {
    fn from(line: domain::BillingScheduleLine) -> Self {
        BillingScheduleLine {
            id: id_of(line.id),
            seq: line.seq,
            description: line.description,
            planned_date: line.planned_date,
            amount: Some(Money::new(line.amount, line.currency)),
            trigger: line.trigger.into(),
            milestone_id: line.milestone_id.map(id_of),
            status: line.status.into(),
            risk_reason: line.risk_reason,
            invoice_id: line.invoice_id.map(id_of),
            version: line.version,
        }
    }
}

#[derive(Default)]
pub struct BillingMutation;

#[Object]
impl BillingMutation {
    /// `PLANNED → AT_RISK` with a reason; announces `finance.billing_line.at_risk`.
    async fn flag_billing_line_at_risk(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> Result<BillingScheduleLine> {
        let line_id = uuid_of(&id);
        let command = Command {
            operation: "flagBillingLineAtRisk",
            entity_type: "BillingScheduleLine",
            allowed_roles: BILLING_EDITORS,
            target: line_id,
        };
        let changed =
            command::run(ctx, command, move |tx| Box::pin(billing_commands::flag_line_at_risk(tx, line_id, reason)))
                .await?;
        Ok(changed.into())
    }

    /// `AT_RISK → PLANNED`, the reason cleared.
    async fn clear_billing_line_risk(&self, ctx: &Context<'_>, id: ID) -> Result<BillingScheduleLine> {
        let line_id = uuid_of(&id);
        let command = Command {
            operation: "clearBillingLineRisk",
            entity_type: "BillingScheduleLine",
            allowed_roles: BILLING_EDITORS,
            target: line_id,
        };
        let changed =
            command::run(ctx, command, move |tx| Box::pin(billing_commands::clear_line_risk(tx, line_id))).await?;
        Ok(changed.into())
    }
}

/// Every line of each invoice key, in entry order.
pub struct LinesByInvoiceLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for LinesByInvoiceLoader {
    type Value = Arc<Vec<crate::domain::InvoiceLine>>;
    type Error = Arc<FinanceError>;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Self::Value> {
        let rows = repository::billing::lines_of_invoices(&self.0, keys).await.map_err(Arc::new)?;
        Ok(group_by_parent(rows, |line| line.invoice_id))
    }
}

/// The lines of invoice `invoice_id` (`Invoice.lines`).
pub async fn lines_of_invoice(ctx: &Context<'_>, invoice_id: Uuid, currency: &str) -> Result<Vec<InvoiceLine>> {
    let loader = ctx.data::<DataLoader<LinesByInvoiceLoader, HashMapCache>>()?;
    let lines = loader.load_one(invoice_id).await.map_err(load_failed)?.unwrap_or_default();
    Ok(lines.iter().map(|line| InvoiceLine::of(line, currency)).collect())
}

/// What an invoice bills.
#[derive(SimpleObject)]
pub struct InvoiceLine {
    pub id: ID,
    pub description: String,
    pub quantity: rust_decimal::Decimal,
    #[graphql(requires_scopes = "finance", requires_scopes = "tenant_admin")]
    pub unit_price: Option<Money>,
    #[graphql(requires_scopes = "finance", requires_scopes = "tenant_admin")]
    pub amount: Option<Money>,
    /// `milestone`, `subscription`, `time_and_materials`, `expense` or `fixed`.
    pub source_type: String,
    pub contract_line_id: Option<ID>,
    pub billing_schedule_line_id: Option<ID>,
}

impl InvoiceLine {
    fn of(line: &crate::domain::InvoiceLine, currency: &str) -> Self {
        InvoiceLine {
            id: id_of(line.id),
            description: line.description.clone(),
            quantity: line.quantity,
            unit_price: Some(Money::new(line.unit_price, currency)),
            amount: Some(Money::new(line.amount, currency)),
            source_type: line.source_type.clone(),
            contract_line_id: line.contract_line_id.map(id_of),
            billing_schedule_line_id: line.billing_schedule_line_id.map(id_of),
        }
    }
}

/// An amount credited against an invoice, with the invoice after the credit.
#[derive(SimpleObject)]
pub struct CreditNote {
    pub id: ID,
    pub number: String,
    #[graphql(requires_scopes = "finance", requires_scopes = "tenant_admin")]
    pub amount: Option<Money>,
    pub reason: String,
    pub issued_at: chrono::DateTime<chrono::Utc>,
    pub invoice: Invoice,
}

fn invoice_at(ctx: &Context<'_>, invoice: crate::domain::Invoice) -> Result<Invoice> {
    Ok(Invoice::at(invoice, business_date(ctx)?))
}

#[Object]
impl InvoiceMutation {
    /// Turns ready billing lines into `DRAFT` invoices, one per contract (of one customer
    /// when `customerAccountId` is given); the lines become `INVOICED`.
    async fn generate_invoices(&self, ctx: &Context<'_>, customer_account_id: Option<ID>) -> Result<Vec<Invoice>> {
        let clock = *ctx.data::<Clock>()?;
        let customer = customer_account_id.as_ref().map(uuid_of);
        let command = Command {
            operation: "generateInvoices",
            entity_type: "Invoice",
            allowed_roles: INVOICE_EDITORS,
            target: None,
        };
        let invoices =
            command::run(ctx, command, move |tx| Box::pin(billing_commands::generate_invoices(tx, clock, customer)))
                .await?;
        invoices.into_iter().map(|invoice| invoice_at(ctx, invoice)).collect()
    }

    /// `DRAFT → ISSUED`: numbered `INV-<year>-<n>`, dated today, due after the customer's
    /// payment terms; announces `finance.invoice.issued`.
    async fn issue_invoice(&self, ctx: &Context<'_>, id: ID) -> Result<Invoice> {
        advance_invoice(ctx, "issueInvoice", &id, InvoiceStep::Issue).await
    }

    /// `DRAFT | ISSUED → VOID`; an issued invoice only while nothing is paid. Announces
    /// `finance.invoice.voided` for issued invoices.
    async fn void_invoice(&self, ctx: &Context<'_>, id: ID, reason: Option<String>) -> Result<Invoice> {
        advance_invoice(ctx, "voidInvoice", &id, InvoiceStep::Void { reason }).await
    }

    /// `ISSUED | PARTIALLY_PAID → UNCOLLECTIBLE`; announces `finance.invoice.written_off`.
    async fn write_off_invoice(&self, ctx: &Context<'_>, id: ID, reason: String) -> Result<Invoice> {
        advance_invoice(ctx, "writeOffInvoice", &id, InvoiceStep::WriteOff { reason }).await
    }

    /// Credits `amount` (positive, at most the open balance) against an open invoice;
    /// announces `finance.credit_note.issued`.
    async fn issue_credit_note(
        &self,
        ctx: &Context<'_>,
        invoice_id: ID,
        amount: rust_decimal::Decimal,
        reason: String,
    ) -> Result<CreditNote> {
        let clock = *ctx.data::<Clock>()?;
        let invoice_id = uuid_of(&invoice_id);
        let command = Command {
            operation: "issueCreditNote",
            entity_type: "Invoice",
            allowed_roles: INVOICE_EDITORS,
            target: invoice_id,
        };
        let (note, invoice) = command::run(ctx, command, move |tx| {
            Box::pin(billing_commands::issue_credit_note(tx, clock, invoice_id, amount, reason))
        })
        .await?;
        Ok(CreditNote {
            id: id_of(note.id),
            number: note.number,
            amount: Some(Money::new(note.amount, note.currency)),
            reason: note.reason,
            issued_at: note.issued_at,
            invoice: invoice_at(ctx, invoice)?,
        })
    }
}

#[derive(Default)]
pub struct InvoiceMutation;

async fn advance_invoice(ctx: &Context<'_>, operation: &'static str, id: &ID, step: InvoiceStep) -> Result<Invoice> {
    let clock = *ctx.data::<Clock>()?;
    let invoice_id = uuid_of(id);
    let command = Command { operation, entity_type: "Invoice", allowed_roles: INVOICE_EDITORS, target: invoice_id };
    let changed =
        command::run(ctx, command, move |tx| Box::pin(billing_commands::advance_invoice(tx, clock, invoice_id, step)))
            .await?;
    invoice_at(ctx, changed)
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::payments::PaymentMethod")]
pub enum PaymentMethod {
    Ach,
    Wire,
    Card,
    Check,
    DirectDebit,
}

#[derive(async_graphql::InputObject)]
pub struct AllocationInput {
    pub invoice_id: ID,
    /// Positive, at most the invoice's open balance.
    pub amount: rust_decimal::Decimal,
}

#[derive(async_graphql::InputObject)]
pub struct RecordPaymentInput {
    pub customer_account_id: ID,
    /// Positive, to the cent.
    pub amount: rust_decimal::Decimal,
    /// ISO 4217; each allocated invoice must be in it.
    pub currency: String,
    pub method: PaymentMethod,
    /// The bank or card reference.
    pub reference: String,
    /// Σ at most `amount`; the rest stays on account.
    #[graphql(default)]
    pub allocations: Vec<AllocationInput>,
}

/// The part of a payment applied to one invoice, and the invoice after it.
#[derive(SimpleObject)]
pub struct PaymentAllocation {
    #[graphql(requires_scopes = "finance", requires_scopes = "tenant_admin")]
    pub amount: Option<Money>,
    pub invoice: Invoice,
}

/// Money received from a customer.
#[derive(SimpleObject)]
pub struct Payment {
    pub id: ID,
    pub received_at: chrono::DateTime<chrono::Utc>,
    #[graphql(requires_scopes = "finance", requires_scopes = "tenant_admin")]
    pub amount: Option<Money>,
    /// On-account credit: what no invoice took.
    #[graphql(requires_scopes = "finance", requires_scopes = "tenant_admin")]
    pub unallocated: Option<Money>,
    pub method: PaymentMethod,
    pub reference: String,
    pub allocations: Vec<PaymentAllocation>,
}

#[derive(Default)]
pub struct PaymentMutation;

#[Object]
impl PaymentMutation {
    /// Records money received from a customer and applies it to the customer's open
    /// invoices (`PARTIALLY_PAID` or `PAID`); the remainder stays on account. Announces
    /// `finance.payment.received`. Retrying with the same `idempotencyKey` answers the
    /// first payment and writes nothing.
    async fn record_payment(
        &self,
        ctx: &Context<'_>,
        input: RecordPaymentInput,
        idempotency_key: Option<String>,
    ) -> Result<Payment> {
        let clock = *ctx.data::<Clock>()?;
        let payment = billing_commands::NewPayment {
            customer_account_id: uuid_of(&input.customer_account_id),
            amount: input.amount,
            currency: input.currency,
            method: input.method.into(),
            reference: input.reference,
            allocations: input
                .allocations
                .iter()
                .map(|allocation| (uuid_of(&allocation.invoice_id), allocation.amount))
                .collect(),
        };
        let command = Command {
            operation: "recordPayment",
            entity_type: "Payment",
            allowed_roles: INVOICE_EDITORS,
            target: None,
        };
        let (payment, applied) = command::run_idempotent(ctx, command, idempotency_key, move |tx| {
            Box::pin(billing_commands::record_payment(tx, clock, payment))
        })
        .await?;
        let method = crate::domain::payments::PaymentMethod::parse(&payment.method)
            .map_err(|error| async_graphql::Error::new(error.to_string()))?;
        let mut allocations = Vec::with_capacity(applied.len());
        for (allocation, invoice) in applied {
            allocations.push(PaymentAllocation {
                amount: Some(Money::new(allocation.amount, payment.currency.clone())),
                invoice: invoice_at(ctx, invoice)?,
            });
        }
        Ok(Payment {
            id: id_of(payment.id),
            received_at: payment.received_at,
            amount: Some(Money::new(payment.amount, payment.currency.clone())),
            unallocated: Some(Money::new(payment.unallocated_amount, payment.currency)),
            method: method.into(),
            reference: payment.reference,
            allocations,
        })
    }
}
