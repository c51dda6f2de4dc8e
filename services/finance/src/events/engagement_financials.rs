//! Engagement financials from delivery's events (docs/domain.md#engagement-financials):
//! a created engagement opens its ledger; approved change requests, approved time and the
//! close add to it. Each is an audited automation command; the event inbox makes each
//! event count once.

use atrium_kit::{
    TenantTransaction,
    command::{self, Command},
    events::{DomainEvent, HandlerError},
};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::{parse, refused};
use crate::{
    domain::Clock,
    engagement_commands::{self, FINANCIALS_ROLES, LedgerChange, NewEngagement},
};

pub const CHANGE_REQUEST_APPROVED: &str = "delivery.change_request.approved";
pub const ENGAGEMENT_CLOSED: &str = "delivery.engagement.closed";

fn command() -> Command {
    Command {
        operation: "updateEngagementFinancials",
        entity_type: "EngagementFinancials",
        allowed_roles: FINANCIALS_ROLES,
        target: None,
    }
}

#[derive(Deserialize)]
struct EngagementCreated {
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    budget_hours: Option<Decimal>,
    #[serde(default)]
    planned_cost_rate: Option<Decimal>,
}

fn engagement_of(event: &DomainEvent) -> uuid::Uuid {
    event.refs.get("engagement_id").copied().unwrap_or(event.subject.id)
}

/// Opens the ledger of a new engagement of a known customer.
pub async fn engagement_created(tx: &TenantTransaction, clock: Clock, event: &DomainEvent) -> Result<(), HandlerError> {
    let data: EngagementCreated = parse(event)?;
    let Some(&customer_account_id) = event.refs.get("customer_account_id") else { return Ok(()) };
    let engagement = NewEngagement {
        engagement_id: engagement_of(event),
        customer_account_id,
        contract_line_id: event.refs.get("contract_line_id").copied(),
        currency: data.currency.filter(|currency| currency.len() == 3),
        budget_hours: data.budget_hours,
        planned_cost_rate: data.planned_cost_rate,
    };
    command::execute_within(tx, &command(), |tx| Box::pin(engagement_commands::open_ledger(tx, clock, engagement)))
        .await
        .map_err(refused)?;
    Ok(())
}

#[derive(Deserialize)]
struct ChangeApproved {
    impact_hours: Decimal,
    impact_price: Decimal,
    #[serde(default)]
    currency: Option<String>,
}

/// Entitlement drawdown reads the same event; time without a cost is none of the margin's
/// business, so missing amounts are not an error here.
#[derive(Deserialize)]
struct TimeApproved {
    #[serde(default)]
    hours: Decimal,
    #[serde(default)]
    cost_amount: Option<Decimal>,
    #[serde(default)]
    currency: Option<String>,
}

async fn change(
    tx: &TenantTransaction,
    clock: Clock,
    event: &DomainEvent,
    currency: Option<String>,
    change: LedgerChange,
) -> Result<(), HandlerError> {
    let engagement_id = engagement_of(event);
    command::execute_within(tx, &command(), |tx| {
        Box::pin(async move {
            engagement_commands::change_ledger(tx, clock, engagement_id, currency.as_deref(), change).await
        })
    })
    .await
    .map_err(refused)?;
    Ok(())
}

pub async fn change_request_approved(
    tx: &TenantTransaction,
    clock: Clock,
    event: &DomainEvent,
) -> Result<(), HandlerError> {
    let data: ChangeApproved = parse(event)?;
    let approved = LedgerChange::ChangeApproved { hours: data.impact_hours, price: data.impact_price };
    change(tx, clock, event, data.currency, approved).await
}

pub async fn time_entry_approved(
    tx: &TenantTransaction,
    clock: Clock,
    event: &DomainEvent,
) -> Result<(), HandlerError> {
    let data: TimeApproved = parse(event)?;
    let Some(cost) = data.cost_amount else { return Ok(()) };
    change(tx, clock, event, data.currency, LedgerChange::TimeApproved { hours: data.hours, cost }).await
}

pub async fn engagement_closed(tx: &TenantTransaction, clock: Clock, event: &DomainEvent) -> Result<(), HandlerError> {
    change(tx, clock, event, None, LedgerChange::Closed).await
}
