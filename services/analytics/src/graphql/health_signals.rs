//! The manual health measures (docs/domain.md#manual-measures): a CSM (or tenant admin)
//! records the 1–5 pulse with a comment, or an executive touch / QBR on a date. Each is a
//! command (audited, with its event), stores a new health snapshot of the customer in the
//! same transaction (never debounced) and announces the `CustomerAccount` change for cached health answers.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use atrium_kit::{
    ErrorCode, TenantTransaction, calendar,
    changes::{self, ChangeKind},
    command::{self, Command, CommandError, Outcome},
    events::{DomainEvent, Subject},
};
use chrono::{NaiveDate, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::{
    config::SERVICE,
    health::{self, Cadence, internal},
    repository::{
        self, health_models,
        health_signals::{self, RecordedSignals},
    },
};

const SIGNAL_RECORDERS: &[&str] = &["csm", "tenant_admin"];

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ExecTouchKind {
    /// A meeting with the customer's executive sponsor.
    ExecTouch,
    /// A quarterly business review held.
    QbrHeld,
}

/// The manual inputs of a customer's health after a change.
#[derive(SimpleObject)]
pub struct CustomerHealthSignals {
    pub customer_account_id: ID,
    pub csm_pulse: Option<i32>,
    pub csm_pulse_comment: Option<String>,
    pub last_exec_touch_on: Option<NaiveDate>,
}

impl From<RecordedSignals> for CustomerHealthSignals {
    fn from(recorded: RecordedSignals) -> Self {
        CustomerHealthSignals {
            customer_account_id: ID(recorded.signals.customer_account_id.to_string()),
            csm_pulse: recorded.signals.csm_pulse,
            csm_pulse_comment: recorded.csm_pulse_comment,
            last_exec_touch_on: recorded.signals.last_exec_touch_on,
        }
    }
}

#[derive(Default)]
pub struct HealthSignalsMutation;

#[Object]
impl HealthSignalsMutation {
    /// The CSM's pulse for a customer, 1 (critical) to 5 (excellent); the comment is kept
    /// with the pulse's measure score.
    async fn record_csm_pulse(
        &self,
        ctx: &Context<'_>,
        customer_account_id: ID,
        pulse: i32,
        comment: Option<String>,
    ) -> Result<CustomerHealthSignals> {
        let customer = customer_of(&customer_account_id)?;
        let command = signal_command("recordCsmPulse", customer);
        let recorded = command::run(ctx, command, move |tx| {
            Box::pin(async move {
                if !(1..=5).contains(&pulse) {
                    return Err(CommandError::Invalid("pulse must be between 1 and 5".to_owned()));
                }
                let comment = comment.map(|text| text.trim().to_owned()).filter(|text| !text.is_empty());
                let partner = known_customer(tx, customer).await?;
                let recorded = health_signals::record_pulse(tx, customer, partner, pulse, comment.clone())
                    .await
                    .map_err(internal)?;
                let event = signal_event(tx, "analytics.csm_pulse.recorded", customer, partner)
                    .with_data(json!({ "pulse": pulse, "comment": comment }));
                finish(tx, customer, recorded, event, format!("csm pulse {pulse}")).await
            })
        })
        .await?;
        Ok(recorded.into())
    }

    /// An executive touch or QBR with the customer on `on` (not in the future); the last
    /// one counts for `days_since_exec_touch`.
    async fn record_exec_touch(
        &self,
        ctx: &Context<'_>,
        customer_account_id: ID,
        kind: ExecTouchKind,
        on: NaiveDate,
    ) -> Result<CustomerHealthSignals> {
        let customer = customer_of(&customer_account_id)?;
        let command = signal_command("recordExecTouch", customer);
        let kind = match kind {
            ExecTouchKind::ExecTouch => "exec_touch",
            ExecTouchKind::QbrHeld => "qbr_held",
        };
        let recorded = command::run(ctx, command, move |tx| {
            Box::pin(async move {
                if on > calendar::tenant_date(tx.tenant_id(), Utc::now()) {
                    return Err(CommandError::Invalid("an executive touch cannot be in the future".to_owned()));
                }
                let partner = known_customer(tx, customer).await?;
                let recorded = health_signals::record_exec_touch(tx, customer, partner, on).await.map_err(internal)?;
                let event = signal_event(tx, "analytics.exec_touch.recorded", customer, partner)
                    .with_data(json!({ "kind": kind, "on": on.to_string() }));
                finish(tx, customer, recorded, event, format!("{kind} on {on}")).await
            })
        })
        .await?;
        Ok(recorded.into())
    }
}

fn signal_command(operation: &'static str, customer: Uuid) -> Command {
    Command { operation, entity_type: "CustomerAccount", allowed_roles: SIGNAL_RECORDERS, target: Some(customer) }
}

fn customer_of(id: &ID) -> Result<Uuid> {
    Uuid::parse_str(id.as_str()).map_err(|_| ErrorCode::NotFound.graphql_error("no CustomerAccount with this id"))
}

/// The customer's channel partner, if analytics knows the customer at all (its signals or
/// lifecycle, under the caller's scopes); another tenant's or an unknown id is not found.
async fn known_customer(tx: &TenantTransaction, customer: Uuid) -> Result<Option<Uuid>, CommandError> {
    if !health_models::is_known_customer(tx, customer).await.map_err(internal)? {
        return Err(CommandError::NotFound("CustomerAccount"));
    }
    repository::lifecycle::channel_partner_of(tx, customer).await.map_err(internal)
}

fn signal_event(tx: &TenantTransaction, event_type: &str, customer: Uuid, partner: Option<Uuid>) -> DomainEvent {
    // The customer's manual inputs are the subject; the clock orders its versions.
    let subject =
        Subject { entity_type: "CustomerSignals".to_owned(), id: customer, version: Utc::now().timestamp_millis() };
    let event = DomainEvent::new(tx.context(), event_type, subject).with_ref("customer_account_id", customer);
    match partner {
        Some(partner) => event.with_ref("channel_partner_id", partner),
        None => event,
    }
}

/// The change's cache announcement and the customer's recomputed snapshot.
async fn finish(
    tx: &TenantTransaction,
    customer: Uuid,
    recorded: RecordedSignals,
    event: DomainEvent,
    detail: String,
) -> Result<Outcome<RecordedSignals>, CommandError> {
    changes::record_change(tx, SERVICE.name, "CustomerAccount", &customer.to_string(), ChangeKind::Updated).await?;
    let now = Utc::now();
    let today = calendar::tenant_date(tx.tenant_id(), now);
    // A person's entry is always recorded in a snapshot (with the pulse's comment).
    let recomputed = health::recompute(tx, vec![customer], today, now, Cadence::Scheduled).await?;
    let mut events = vec![event];
    events.extend(recomputed.events);
    let mut entity_ids = vec![customer];
    entity_ids.extend(recomputed.entity_ids);
    Ok(Outcome { value: recorded, entity_ids, detail, events })
}
