//! Drawdown of entitlements by approved time (docs/domain.md#entitlements):
//! `delivery.time_entry.approved` draws its hours from the customer's active grant of the
//! entry's category covering its work date, once per time entry, as an automation command
//! (audited). Time of a category no grant covers is nothing to the ledger.

use atrium_kit::{
    TenantTransaction,
    command::{self, Command},
    events::{DomainEvent, HandlerError},
};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use uuid::Uuid;

use super::{parse, refused};
use crate::{
    commands::ledger::{self, ApprovedTime, DRAWDOWN_ROLES},
    domain::Clock,
};

pub const TIME_ENTRY_APPROVED: &str = "delivery.time_entry.approved";

#[derive(Deserialize)]
struct TimeEntryApproved {
    time_entry_id: Uuid,
    work_date: NaiveDate,
    /// A decimal string, e.g. `"2.50"`.
    hours: Decimal,
    #[serde(default)]
    category: Option<String>,
}

pub async fn draw_down(tx: &TenantTransaction, clock: Clock, event: &DomainEvent) -> Result<(), HandlerError> {
    let entry: TimeEntryApproved = parse(event)?;
    let Some(category) = entry.category else { return Ok(()) };
    let Some(&customer_account_id) = event.refs.get("customer_account_id") else {
        return Err(HandlerError::Poison(format!("{TIME_ENTRY_APPROVED} {} names no customer_account_id", event.id)));
    };
    let time = ApprovedTime {
        time_entry_id: entry.time_entry_id,
        customer_account_id,
        work_date: entry.work_date,
        hours: entry.hours,
        category,
    };
    let command = Command {
        operation: "drawDownEntitlement",
        entity_type: "EntitlementGrant",
        allowed_roles: DRAWDOWN_ROLES,
        target: None,
    };
    command::execute_within(tx, &command, move |tx| Box::pin(ledger::draw_down(tx, clock, time)))
        .await
        .map_err(refused)?;
    Ok(())
}
