//! Disputes in the finance API (docs/domain.md#invoices-payments-and-disputes): the
//! `Dispute` type, `Invoice.disputes` through a per-request DataLoader (one statement for
//! all invoices of a level), and the dispute mutations, each one command of the kit.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Context, Enum, ID, Object, Result, SimpleObject,
    dataloader::{DataLoader, HashMapCache, Loader},
};
use atrium_kit::{
    TenantTransaction,
    command::{self, Command},
    subgraph_http::uuid_of,
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{
    money::Money,
    types::{Invoice, business_date},
};
use crate::{
    dispute_commands::{self, DISPUTE_EDITORS},
    domain::{self, Clock},
    error::FinanceError,
    repository,
};

/// Every dispute of each invoice key, oldest first.
pub struct DisputesByInvoiceLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for DisputesByInvoiceLoader {
    type Value = Arc<Vec<domain::disputes::Dispute>>;
    type Error = Arc<FinanceError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = repository::disputes::disputes_of_invoices(&self.0, keys).await.map_err(Arc::new)?;
        let mut groups: HashMap<Uuid, Vec<domain::disputes::Dispute>> = HashMap::new();
        for dispute in rows {
            groups.entry(dispute.invoice_id).or_default().push(dispute);
        }
        Ok(groups.into_iter().map(|(invoice, disputes)| (invoice, Arc::new(disputes))).collect())
    }
}

/// Installs the dispute loader over the request's transaction.
pub fn install_loaders(request: async_graphql::Request, tx: &Arc<TenantTransaction>) -> async_graphql::Request {
    request.data(DataLoader::with_cache(DisputesByInvoiceLoader(tx.clone()), tokio::spawn, HashMapCache::default()))
}

/// The disputes of `invoice_id` (`Invoice.disputes`).
pub async fn disputes_of_invoice(ctx: &Context<'_>, invoice_id: Uuid, currency: &str) -> Result<Vec<Dispute>> {
    let loader = ctx.data::<DataLoader<DisputesByInvoiceLoader, HashMapCache>>()?;
    let disputes = loader
        .load_one(invoice_id)
        .await
        .map_err(|error| async_graphql::Error::new(error.to_string()))?
        .unwrap_or_default();
    Ok(disputes.iter().cloned().map(|dispute| Dispute::of(dispute, currency)).collect())
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::DisputeReason")]
pub enum DisputeReason {
    Scope,
    Quality,
    Pricing,
    Duplicate,
    NotReceived,
    Other,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::DisputeStatus")]
pub enum DisputeStatus {
    Open,
    UnderReview,
    /// Decided for the customer (upheld in whole or in part).
    ResolvedCustomer,
    /// Decided for the provider (rejected).
    ResolvedProvider,
    Withdrawn,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::disputes::DisputeOutcome")]
pub enum DisputeOutcome {
    /// The whole disputed amount is credited.
    Upheld,
    /// Nothing is credited.
    Rejected,
    /// Part of the disputed amount is credited.
    PartiallyUpheld,
}

/// A customer's challenge of (part of) an invoice.
#[derive(SimpleObject)]
pub struct Dispute {
    pub id: ID,
    pub invoice_id: ID,
    pub opened_at: DateTime<Utc>,
    pub reason: DisputeReason,
    pub note: Option<String>,
    #[graphql(requires_scopes = "finance", requires_scopes = "tenant_admin")]
    pub amount: Option<Money>,
    pub status: DisputeStatus,
    pub outcome: Option<DisputeOutcome>,
    /// What the resolution credited (null while undecided).
    #[graphql(requires_scopes = "finance", requires_scopes = "tenant_admin")]
    pub credited_amount: Option<Money>,
    pub credit_note_id: Option<ID>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Incremented by every change; dispute events carry it.
    pub version: i64,
}

impl Dispute {
    /// A dispute is always in its invoice's currency; only the amount is stored.
    fn of(dispute: domain::disputes::Dispute, currency: &str) -> Self {
        Dispute {
            id: ID(dispute.id.to_string()),
            invoice_id: ID(dispute.invoice_id.to_string()),
            opened_at: dispute.opened_at,
            reason: dispute.reason.into(),
            note: dispute.note,
            amount: Some(Money::new(dispute.amount, currency)),
            status: dispute.status.into(),
            outcome: dispute.outcome.map(Into::into),
            credited_amount: dispute.credited_amount.map(|amount| Money::new(amount, currency)),
            credit_note_id: dispute.credit_note_id.map(|id| ID(id.to_string())),
            resolved_at: dispute.resolved_at,
            version: dispute.version,
        }
    }
}

/// A dispute with its invoice after the command.
#[derive(SimpleObject)]
pub struct DisputeChange {
    pub dispute: Dispute,
    pub invoice: Invoice,
}

fn change_of(ctx: &Context<'_>, (dispute, invoice): dispute_commands::DisputeWithInvoice) -> Result<DisputeChange> {
    let dispute = Dispute::of(dispute, &invoice.currency);
    Ok(DisputeChange { dispute, invoice: Invoice::at(invoice, business_date(ctx)?) })
}

#[derive(Default)]
pub struct DisputeMutation;

#[Object]
impl DisputeMutation {
    /// Disputes `amount` (positive, at most the balance due) of an `ISSUED` or
    /// `PARTIALLY_PAID` invoice, which becomes `DISPUTED`; announces
    /// `finance.invoice.disputed`.
    async fn open_dispute(
        &self,
        ctx: &Context<'_>,
        invoice_id: ID,
        amount: Decimal,
        reason: DisputeReason,
        note: Option<String>,
    ) -> Result<DisputeChange> {
        let clock = *ctx.data::<Clock>()?;
        let invoice_id = uuid_of(&invoice_id);
        let command = Command {
            operation: "openDispute",
            entity_type: "Dispute",
            allowed_roles: DISPUTE_EDITORS,
            target: invoice_id,
        };
        let reason = reason.into();
        let opened = command::run(ctx, command, move |tx| {
            Box::pin(dispute_commands::open_dispute(tx, clock, invoice_id, amount, reason, note))
        })
        .await?;
        change_of(ctx, opened)
    }

    /// `OPEN → UNDER_REVIEW`.
    async fn review_dispute(&self, ctx: &Context<'_>, id: ID) -> Result<Dispute> {
        let dispute_id = uuid_of(&id);
        let command = Command {
            operation: "reviewDispute",
            entity_type: "Dispute",
            allowed_roles: DISPUTE_EDITORS,
            target: dispute_id,
        };
        let reviewed =
            command::run(ctx, command, move |tx| Box::pin(dispute_commands::review_dispute(tx, dispute_id))).await?;
        let tx = atrium_kit::subgraph_http::request_transaction(ctx)?;
        let invoice = repository::invoices_by_ids(&tx, &[reviewed.invoice_id]).await?.pop();
        Ok(Dispute::of(reviewed, invoice.as_ref().map_or("", |invoice| invoice.currency.as_str())))
    }

    /// Decides an open or under-review dispute: `UPHELD` credits the disputed amount,
    /// `PARTIALLY_UPHELD` `creditAmount` (above 0, below the disputed amount), each as a
    /// credit note; `REJECTED` credits nothing. The invoice leaves `DISPUTED` for
    /// `ISSUED`, `PARTIALLY_PAID` or `PAID`. Announces `finance.dispute.resolved`.
    async fn resolve_dispute(
        &self,
        ctx: &Context<'_>,
        id: ID,
        outcome: DisputeOutcome,
        credit_amount: Option<Decimal>,
    ) -> Result<DisputeChange> {
        let clock = *ctx.data::<Clock>()?;
        let dispute_id = uuid_of(&id);
        let command = Command {
            operation: "resolveDispute",
            entity_type: "Dispute",
            allowed_roles: DISPUTE_EDITORS,
            target: dispute_id,
        };
        let outcome = outcome.into();
        let resolved = command::run(ctx, command, move |tx| {
            Box::pin(dispute_commands::resolve_dispute(tx, clock, dispute_id, outcome, credit_amount))
        })
        .await?;
        change_of(ctx, resolved)
    }
}
