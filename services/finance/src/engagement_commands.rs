//! The domain part of keeping engagement financials (docs/domain.md#engagement-financials):
//! opening an engagement's ledger from delivery's engagement and its contract line, and
//! adding approved change requests, approved time and the close to it; each change
//! announces `finance.engagement_financials.updated` with the derived figures.

use atrium_kit::{
    TenantTransaction,
    command::{CommandError, Outcome},
    events::{DomainEvent, Subject},
};
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

use crate::{
    billing_commands::internal,
    domain::{
        Clock,
        engagement_financials::{self, EngagementLedger},
    },
    error::FinanceError,
    repository,
};

/// Event-driven only: the platform's automation role.
pub const FINANCIALS_ROLES: &[&str] = &[atrium_kit::tenant::AUTOMATION_ROLE];

/// An engagement as delivery announces it.
#[derive(Debug, Clone)]
pub struct NewEngagement {
    pub engagement_id: Uuid,
    pub customer_account_id: Uuid,
    pub contract_line_id: Option<Uuid>,
    pub currency: Option<String>,
    pub budget_hours: Option<Decimal>,
    pub planned_cost_rate: Option<Decimal>,
}

/// What one delivery event adds to a ledger.
#[derive(Debug, Clone, Copy)]
pub enum LedgerChange {
    ChangeApproved { hours: Decimal, price: Decimal },
    TimeApproved { hours: Decimal, cost: Decimal },
    Closed,
}

/// Opens the ledger of a new engagement: revenue from its contract line (in the contract's
/// currency), the budget and planned rate delivery names. Nothing when it already has one
/// (a redelivery) or neither a contract line nor a currency says what it is worth.
pub async fn open_ledger(
    tx: &TenantTransaction,
    clock: Clock,
    engagement: NewEngagement,
) -> Result<Outcome<Option<EngagementLedger>>, CommandError> {
    let nothing = |detail: &str| Outcome { value: None, entity_ids: vec![], detail: detail.to_owned(), events: vec![] };
    if !repository::engagement_financials::ledgers_of(tx, &[engagement.engagement_id])
        .await
        .map_err(internal)?
        .is_empty()
    {
        return Ok(nothing("the engagement already has its financials"));
    }
    let line = match engagement.contract_line_id {
        Some(id) => repository::billing::contract_line_by_id(tx, id).await.map_err(internal)?,
        None => None,
    };
    let contract_currency = match &line {
        Some(line) => repository::contracts_by_ids(tx, &[line.contract_id])
            .await
            .map_err(internal)?
            .pop()
            .map(|contract| contract.currency),
        None => None,
    };
    let Some(currency) = contract_currency.or(engagement.currency) else {
        return Ok(nothing("no contract line and no currency; no financials"));
    };
    let ledger = EngagementLedger {
        engagement_id: engagement.engagement_id,
        customer_account_id: engagement.customer_account_id,
        currency,
        contract_revenue: line.map_or(Decimal::ZERO, |line| line.amount),
        budget_hours: engagement.budget_hours.unwrap_or_default().max(Decimal::ZERO),
        planned_cost_rate: engagement.planned_cost_rate.filter(|rate| *rate > Decimal::ZERO),
        change_hours: Decimal::ZERO,
        change_price: Decimal::ZERO,
        actual_hours: Decimal::ZERO,
        actual_cost: Decimal::ZERO,
        closed: false,
        version: 1,
    };
    repository::engagement_financials::insert_ledger(tx, &ledger, clock.now()).await.map_err(internal)?;
    let event = updated_event(tx, &ledger);
    let detail = format!("financials opened: revenue {} {}", ledger.contract_revenue, ledger.currency);
    Ok(Outcome { entity_ids: vec![ledger.engagement_id], detail, events: vec![event], value: Some(ledger) })
}

/// Adds `change` to the engagement's ledger; nothing when finance keeps none for it (an
/// engagement without a contract line or currency) or the amounts are in another currency.
pub async fn change_ledger(
    tx: &TenantTransaction,
    clock: Clock,
    engagement_id: Uuid,
    currency: Option<&str>,
    change: LedgerChange,
) -> Result<Outcome<Option<EngagementLedger>>, CommandError> {
    let nothing = |detail: String| Outcome { value: None, entity_ids: vec![], detail, events: vec![] };
    let Some(read) = repository::engagement_financials::ledgers_of(tx, &[engagement_id]).await.map_err(internal)?.pop()
    else {
        return Ok(nothing("no financials kept for the engagement".to_owned()));
    };
    if let Some(currency) = currency
        && currency != read.currency
    {
        return Ok(nothing(format!("amounts in {currency}, the engagement is in {}; not added", read.currency)));
    }
    let mut changed = read.clone();
    let detail = match change {
        LedgerChange::ChangeApproved { hours, price } => {
            changed.change_hours += hours;
            changed.change_price += price;
            format!("change approved: {hours} h, {price} {}", read.currency)
        }
        LedgerChange::TimeApproved { hours, cost } => {
            changed.actual_hours += hours;
            changed.actual_cost += cost;
            format!("time approved: {hours} h costing {cost} {}", read.currency)
        }
        LedgerChange::Closed => {
            if read.closed {
                return Ok(nothing("already closed".to_owned()));
            }
            changed.closed = true;
            "engagement closed".to_owned()
        }
    };
    let changed = match repository::engagement_financials::update_ledger(tx, &read, &changed, clock.now()).await {
        Ok(changed) => changed,
        Err(FinanceError::Stale { .. }) => return Err(CommandError::stale("EngagementFinancials")),
        Err(error) => return Err(internal(error)),
    };
    let event = updated_event(tx, &changed);
    Ok(Outcome { entity_ids: vec![engagement_id], detail, events: vec![event], value: Some(changed) })
}

fn text(value: Option<Decimal>) -> Option<String> {
    value.map(|value| value.to_string())
}

/// `finance.engagement_financials.updated` with the figures after the change.
fn updated_event(tx: &TenantTransaction, ledger: &EngagementLedger) -> DomainEvent {
    let figures = engagement_financials::figures(ledger);
    let subject =
        Subject { entity_type: "EngagementFinancials".to_owned(), id: ledger.engagement_id, version: ledger.version };
    DomainEvent::new(tx.context(), "finance.engagement_financials.updated", subject)
        .with_ref("customer_account_id", ledger.customer_account_id)
        .with_ref("engagement_id", ledger.engagement_id)
        .with_data(json!({
            "revenue_plan": figures.revenue_plan.to_string(),
            "cost_plan": text(figures.cost_plan),
            "actual_cost_to_date": figures.actual_cost_to_date.to_string(),
            "cost_eac": text(figures.cost_eac),
            "revenue_eac": figures.revenue_eac.to_string(),
            "planned_margin_pct": text(figures.planned_margin_pct),
            "forecast_margin_pct": text(figures.forecast_margin_pct),
            "margin_variance_pp": text(figures.margin_variance_pp),
            "status": figures.status.map(|status| status.as_str()),
            "currency": ledger.currency,
            "closed": ledger.closed,
        }))
}
