//! The scheduled support jobs (docs/domain.md#sla-clocks): the SLA evaluator, which warns
//! at 80 % of a target and marks clocks breached once due, and the ticket timers, which
//! solve tickets pending for 14 days and close tickets solved for 4. Each pass runs per
//! tenant through the kit's command pattern with the `automation` role; what it acts on is
//! marked in the same transaction as its events (a clock's `warned_at` / `breached_at`,
//! the ticket's status), and every write is conditional on what was read, so a second
//! pass or a second replica never announces anything twice.

use std::{
    collections::{HashMap, hash_map::Entry},
    sync::Arc,
    time::Duration,
};

use atrium_kit::schedule::{ScheduledJob, TenantTick};
use atrium_kit::{
    TenantContext, TenantTransaction,
    command::{self, Command, CommandError, Outcome},
};
use chrono::{DateTime, TimeDelta, Utc};
use futures::future::BoxFuture;
use sea_orm::{DatabaseConnection, DbErr};
use uuid::Uuid;

use crate::{
    commands::{self, AUTOMATION, internal},
    domain::{SlaClockStatus, SlaPolicy, TicketStatus},
    repository,
};

/// Lease key and audit actor of the SLA evaluator.
pub const SLA_EVALUATOR: &str = "support.sla_evaluator";
/// Lease key and audit actor of auto-solve and auto-close.
pub const TICKET_TIMERS: &str = "support.ticket_timers";

/// Pending tickets without movement for this long are solved.
pub const AUTO_SOLVE_AFTER: TimeDelta = TimeDelta::days(14);
/// Solved tickets are closed this long after solving.
pub const AUTO_CLOSE_AFTER: TimeDelta = TimeDelta::days(4);

/// The SLA evaluator as a scheduled job: a pass a minute, so a warning or breach is
/// announced at most about a minute late.
pub struct SlaEvaluatorJob;

impl ScheduledJob for SlaEvaluatorJob {
    fn name(&self) -> &'static str {
        SLA_EVALUATOR
    }

    fn every(&self) -> Duration {
        Duration::from_secs(60)
    }

    fn run_for_tenant<'a>(
        &'a self,
        database: &'a DatabaseConnection,
        tick: &'a TenantTick,
    ) -> BoxFuture<'a, Result<u64, DbErr>> {
        Box::pin(evaluate_sla_clocks(database, tick.tenant_id, tick.now))
    }
}

/// Auto-solve and auto-close as a scheduled job: every ten minutes (the thresholds are days).
pub struct TicketTimersJob;

impl ScheduledJob for TicketTimersJob {
    fn name(&self) -> &'static str {
        TICKET_TIMERS
    }

    fn every(&self) -> Duration {
        Duration::from_secs(600)
    }

    fn run_for_tenant<'a>(
        &'a self,
        database: &'a DatabaseConnection,
        tick: &'a TenantTick,
    ) -> BoxFuture<'a, Result<u64, DbErr>> {
        Box::pin(run_ticket_timers(database, tick.tenant_id, tick.now))
    }
}

/// Every scheduled job of the support service.
pub fn jobs() -> Vec<Arc<dyn ScheduledJob>> {
    vec![Arc::new(SlaEvaluatorJob), Arc::new(TicketTimersJob)]
}

fn database_error(error: CommandError) -> DbErr {
    match error {
        CommandError::Database(error) => error,
        other => DbErr::Custom(other.to_string()),
    }
}

/// One evaluator pass for `tenant_id` at `now`: the number of warnings and breaches
/// announced. A pass with nothing to announce writes nothing (not even an audit entry).
pub async fn evaluate_sla_clocks(
    database: &DatabaseConnection,
    tenant_id: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let context = TenantContext::automation(tenant_id, &format!("schedule:{SLA_EVALUATOR}"));
    let tx = TenantTransaction::begin_write(database, &context).await?;
    let command =
        Command { operation: "evaluateSlaClocks", entity_type: "SlaClock", allowed_roles: AUTOMATION, target: None };
    let announced =
        command::execute_within(&tx, &command, |tx| Box::pin(evaluate(tx, now))).await.map_err(database_error)?;
    if announced > 0 {
        tx.commit().await?;
    }
    Ok(announced)
}

async fn evaluate(tx: &TenantTransaction, now: DateTime<Utc>) -> Result<Outcome<u64>, CommandError> {
    let mut clocks = repository::sla::running_clocks(tx).await.map_err(internal)?;
    let mut ticket_ids: Vec<Uuid> = clocks.iter().map(|clock| clock.ticket_id).collect();
    ticket_ids.sort();
    ticket_ids.dedup();
    let tickets: HashMap<Uuid, _> = repository::tickets_by_ids(tx, &ticket_ids)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|ticket| (ticket.id, ticket))
        .collect();
    let mut policies: HashMap<Option<Uuid>, Option<SlaPolicy>> = HashMap::new();
    let (mut events, mut entity_ids, mut warnings, mut breaches) = (Vec::new(), Vec::new(), 0, 0);
    for clock in &mut clocks {
        let Some(ticket) = tickets.get(&clock.ticket_id) else { continue };
        if let Entry::Vacant(slot) = policies.entry(ticket.sla_policy_id) {
            slot.insert(repository::sla::policy(tx, ticket.sla_policy_id).await.map_err(internal)?);
        }
        let Some(Some(policy)) = policies.get(&ticket.sla_policy_id) else { continue };
        let read_version = clock.version;
        let kind = if clock.due_at.is_some_and(|due| now >= due) {
            if clock.breach(now).is_err() {
                continue;
            }
            "support.sla.breached"
        } else if clock.should_warn(&policy.schedule, now).unwrap_or(false) {
            clock.warned_at = Some(now);
            clock.version += 1;
            "support.sla.warning"
        } else {
            continue;
        };
        // Another pass that moved the clock first has announced it; this one stays quiet.
        if !repository::sla::update_clock(tx, read_version, clock).await.map_err(internal)? {
            continue;
        }
        if clock.status == SlaClockStatus::Breached {
            breaches += 1;
        } else {
            warnings += 1;
        }
        let data = serde_json::json!({ "breached_at": clock.breached_at, "warned_at": clock.warned_at });
        events.push(commands::sla_event(tx, kind, ticket, clock, &policy.code, data));
        entity_ids.push(clock.id);
    }
    Ok(Outcome {
        value: warnings + breaches,
        entity_ids,
        detail: format!("{warnings} warnings, {breaches} breaches"),
        events,
    })
}

/// One pass of the ticket timers for `tenant_id` at `now`: pending tickets untouched for
/// 14 days are solved, tickets solved 4 days ago closed, each in its own command
/// transaction. Returns the tickets moved; a ticket someone else moved first is skipped.
pub async fn run_ticket_timers(
    database: &DatabaseConnection,
    tenant_id: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let context = TenantContext::automation(tenant_id, &format!("schedule:{TICKET_TIMERS}"));
    let due = {
        let tx = TenantTransaction::begin(database, &context).await?;
        let pending = repository::tickets_in_status_since(&tx, TicketStatus::Pending, now - AUTO_SOLVE_AFTER)
            .await
            .map_err(|error| database_error(internal(error)))?;
        let solved = repository::tickets_in_status_since(&tx, TicketStatus::Solved, now - AUTO_CLOSE_AFTER)
            .await
            .map_err(|error| database_error(internal(error)))?;
        let mut due: Vec<(Uuid, TicketStatus, &'static str)> =
            pending.into_iter().map(|ticket| (ticket.id, TicketStatus::Solved, "autoSolveTicket")).collect();
        due.extend(solved.into_iter().map(|ticket| (ticket.id, TicketStatus::Closed, "autoCloseTicket")));
        due
    };
    let mut moved = 0;
    for (ticket_id, next, operation) in due {
        let tx = TenantTransaction::begin_write(database, &context).await?;
        let command = Command { operation, entity_type: "Ticket", allowed_roles: AUTOMATION, target: Some(ticket_id) };
        match command::execute_within(&tx, &command, |tx| Box::pin(commands::change_status(tx, ticket_id, next, now)))
            .await
        {
            Ok(_) => {
                tx.commit().await?;
                moved += 1;
            }
            // Moved on since it was listed (a person, or another replica): not due any more.
            Err(CommandError::Conflict(_) | CommandError::InvalidTransition { .. } | CommandError::NotFound(_)) => {}
            Err(error) => return Err(database_error(error)),
        }
    }
    Ok(moved)
}
