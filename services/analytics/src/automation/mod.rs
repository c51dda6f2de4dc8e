//! The automation engine (docs/domain.md#automation-rules): rules as data — a trigger (an
//! event type analytics consumes, or a schedule), a condition in the rule language over a
//! fact bundle, and actions — run once per trigger and recorded as automation runs.
//!
//! Guarantees: a rule runs once per (rule, trigger event) and once per (rule, subject,
//! day) for schedules (the run key, unique per rule); `cooldown_hours` keeps a rule from
//! acting on one subject again too soon; a run whose actions cannot be carried out is
//! recorded `failed` and retried with backoff by the scheduled job, up to five attempts,
//! after which tenant admins get an in-app alert. Every write happens in the caller's
//! transaction through `command::execute_within`, so the run, its effects, their audit
//! entries and the outbox rows commit together (with the event's inbox record, or the
//! scheduled pass).

pub mod actions;
pub mod bundle;
pub mod schedule;
pub mod seed;

use atrium_kit::{
    TenantTransaction, calendar,
    changes::{ChangeKind, outbox},
    command::{self, Command, CommandError, Outcome},
    events::{DomainEvent, HandlerError, Subject},
    tenant::AUTOMATION_ROLE,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    domain::{
        AutomationRunRecord,
        automation::{AutomationRule, RunOutcome, condition_holds},
    },
    error::AnalyticsError,
    repository::{automation as rules, cs_actions as actions_store, facts},
};

use actions::{ActionFailure, RunContext};

/// Attempts at a failing run before tenant admins are alerted.
pub const MAX_ATTEMPTS: i32 = 5;

/// The pause before the next attempt after `attempts` failed ones: 5 minutes, doubling.
pub fn retry_delay(attempts: i32) -> Duration {
    Duration::minutes(5 * (1_i64 << (attempts.clamp(1, 10) - 1)))
}

const RUN_AUTOMATION_RULE: Command = Command {
    operation: "runAutomationRule",
    entity_type: "AutomationRun",
    allowed_roles: &[AUTOMATION_ROLE],
    target: None,
};

/// Event types the seeded rules name beyond those the consumer wants for the journey;
/// a rule edited to name another type runs once analytics receives that type.
pub fn wants(event_type: &str) -> bool {
    event_type == "finance.invoice.aging_bucket_changed"
        || event_type == "delivery.milestone.forecast_changed"
        || event_type == "delivery.milestone.became_late"
        || event_type == "delivery.change_request.submitted"
        || event_type == "support.sla.warning"
        || event_type == "support.sla.breached"
        || event_type == "analytics.health.band_changed"
}

/// What triggered a run.
#[derive(Debug, Clone)]
pub enum Trigger {
    Event(Box<DomainEvent>),
    /// A scheduled rule for one customer on one business day.
    Schedule {
        customer_account_id: Uuid,
        date: NaiveDate,
    },
}

impl Trigger {
    fn to_payload(&self) -> Value {
        match self {
            Trigger::Event(event) => json!({ "event": event }),
            Trigger::Schedule { customer_account_id, date } => {
                json!({ "schedule": { "customer_account_id": customer_account_id, "date": date } })
            }
        }
    }

    fn from_payload(payload: &str) -> Option<Trigger> {
        let value: Value = serde_json::from_str(payload).ok()?;
        if let Some(event) = value.get("event") {
            return serde_json::from_value(event.clone()).ok().map(|event| Trigger::Event(Box::new(event)));
        }
        let schedule = value.get("schedule")?;
        Some(Trigger::Schedule {
            customer_account_id: serde_json::from_value(schedule.get("customer_account_id")?.clone()).ok()?,
            date: serde_json::from_value(schedule.get("date")?.clone()).ok()?,
        })
    }

    fn event(&self) -> Option<&DomainEvent> {
        match self {
            Trigger::Event(event) => Some(event),
            Trigger::Schedule { .. } => None,
        }
    }

    fn customer(&self) -> Option<Uuid> {
        match self {
            Trigger::Event(event) => event.refs.get("customer_account_id").copied(),
            Trigger::Schedule { customer_account_id, .. } => Some(*customer_account_id),
        }
    }

    /// The subject the run is about (and its cooldown counts for).
    fn subject(&self, rule: &AutomationRule) -> Subject {
        let customer_subject = |id| Subject { entity_type: "CustomerAccount".to_owned(), id, version: 0 };
        match self {
            Trigger::Event(event) => match event.refs.get("customer_account_id") {
                Some(customer) if rule.subject_is_customer() => customer_subject(*customer),
                _ => event.subject.clone(),
            },
            Trigger::Schedule { customer_account_id, .. } => customer_subject(*customer_account_id),
        }
    }

    /// `rule_id:subject_id:trigger_event_id`, or `rule_id:subject_id:date` for schedules.
    fn run_key(&self, rule: &AutomationRule) -> String {
        let subject = self.subject(rule).id;
        match self {
            Trigger::Event(event) => format!("{}:{subject}:{}", rule.id, event.id),
            Trigger::Schedule { date, .. } => format!("{}:{subject}:{date}", rule.id),
        }
    }
}

/// Runs every enabled rule `event` triggers, once per rule and event.
pub async fn on_event(tx: &TenantTransaction, event: &DomainEvent) -> Result<(), HandlerError> {
    let triggered = rules::enabled_rules_triggered_by(tx, &event.event_type).await.map_err(analytics_error)?;
    for rule in triggered {
        run_once(tx, rule, Trigger::Event(Box::new(event.clone())), Utc::now()).await.map_err(handler_error)?;
    }
    Ok(())
}

/// Runs `rule` for `trigger` unless it ran for it already; true when it ran.
pub async fn run_once(
    tx: &TenantTransaction,
    rule: AutomationRule,
    trigger: Trigger,
    now: DateTime<Utc>,
) -> Result<bool, CommandError> {
    let run_key = trigger.run_key(&rule);
    let already = match &trigger {
        Trigger::Event(event) => rules::has_run_for_trigger(tx, rule.id, event.id).await,
        Trigger::Schedule { .. } => rules::has_run_with_key(tx, rule.id, &run_key).await,
    };
    if already.map_err(command_error)? {
        return Ok(false);
    }
    let command = Command { target: Some(rule.id), ..RUN_AUTOMATION_RULE };
    command::execute_within(tx, &command, move |tx| {
        Box::pin(async move { run(tx, rule, trigger, run_key, now).await })
    })
    .await?;
    Ok(true)
}

/// One run: facts, condition, cooldown, actions, and the run record.
async fn run(
    tx: &TenantTransaction,
    rule: AutomationRule,
    trigger: Trigger,
    run_key: String,
    now: DateTime<Utc>,
) -> Result<Outcome<()>, CommandError> {
    let today = calendar::tenant_date(tx.tenant_id(), now);
    let fact_bundle = load_facts(tx, &trigger, today).await.map_err(command_error)?;
    let subject = trigger.subject(&rule);
    let mut record = AutomationRunRecord {
        id: Uuid::now_v7(),
        rule_id: rule.id,
        rule_version: rule.version,
        subject_type: subject.entity_type.clone(),
        subject_id: subject.id,
        triggered_by_event_id: trigger.event().map(|event| event.id),
        started_at: now,
        finished_at: now,
        outcome: RunOutcome::Succeeded,
        actions_result: "[]".to_owned(),
        run_key: Some(run_key.clone()),
        attempts: 1,
        next_retry_at: None,
        trigger_payload: None,
    };
    let mut events = Vec::new();
    let mut entity_ids = vec![record.id, rule.id];
    match condition_holds(&rule.condition, &fact_bundle) {
        Err(error) => {
            // A condition that cannot be read will not become readable by retrying.
            record.outcome = RunOutcome::Failed;
            record.actions_result = json!({ "error": error.to_string() }).to_string();
        }
        Ok(false) => record.outcome = RunOutcome::SkippedCondition,
        Ok(true) if in_cooldown(tx, &rule, subject.id, now).await? => record.outcome = RunOutcome::SkippedCooldown,
        Ok(true) => {
            let context = RunContext {
                tenant_id: tx.tenant_id(),
                rule: &rule,
                event: trigger.event(),
                customer_account_id: trigger.customer(),
                subject,
                run_key,
                facts: &fact_bundle,
                today,
                now,
            };
            match carry_out(tx, &context).await? {
                Ok((results, effects, customers)) => {
                    record.actions_result = Value::Array(results).to_string();
                    events.extend(effects);
                    entity_ids.extend(customers);
                }
                Err(results) => {
                    record.outcome = RunOutcome::Failed;
                    record.actions_result = Value::Array(results).to_string();
                    record.next_retry_at = Some(now + retry_delay(1));
                    record.trigger_payload = Some(trigger.to_payload().to_string());
                }
            }
        }
    }
    record.finished_at = Utc::now().max(now);
    rules::record_run(tx, &record).await.map_err(command_error)?;
    if matches!(record.outcome, RunOutcome::Succeeded | RunOutcome::Failed) {
        events.push(run_completed(tx, &rule, &record));
    }
    Ok(Outcome {
        value: (),
        detail: format!("{} {} for {} {}", rule.code, record.outcome.as_str(), record.subject_type, record.subject_id),
        entity_ids,
        events,
    })
}

/// Plans and writes the run's actions: `Ok` with the results, the events to publish
/// (commands and `cs_action.created`) and the customers changed; `Err` with the results
/// when an action could not be carried out (nothing written).
async fn carry_out(
    tx: &TenantTransaction,
    context: &RunContext<'_>,
) -> Result<Result<(Vec<Value>, Vec<DomainEvent>, Vec<Uuid>), Vec<Value>>, CommandError> {
    let planned = match actions::plan(tx, context).await {
        Ok(planned) => planned,
        Err(ActionFailure::Unusable { results }) => return Ok(Err(results)),
        Err(ActionFailure::Database(error)) => return Err(command_error(error)),
    };
    let (mut events, customers) = actions::write(tx, context.rule, &planned).await.map_err(command_error)?;
    for customer in &customers {
        // CS actions are a field of `CustomerAccount`: cached answers go.
        outbox::record_change(tx, "analytics", "CustomerAccount", &customer.to_string(), ChangeKind::Updated).await?;
    }
    events.extend(planned.commands.iter().cloned());
    Ok(Ok((planned.results, events, customers)))
}

/// Tries the failed runs whose retry is due at `now` again; returns how many it tried.
pub async fn retry_due_runs(tx: &TenantTransaction, now: DateTime<Utc>) -> Result<u64, CommandError> {
    let due = rules::due_retries(tx, now).await.map_err(command_error)?;
    let count = due.len() as u64;
    for run in due {
        let command = Command { target: Some(run.id), ..RUN_AUTOMATION_RULE };
        command::execute_within(tx, &command, move |tx| Box::pin(async move { retry(tx, run, now).await })).await?;
    }
    Ok(count)
}

async fn retry(
    tx: &TenantTransaction,
    mut run: AutomationRunRecord,
    now: DateTime<Utc>,
) -> Result<Outcome<()>, CommandError> {
    let rule = rules::rule_by_id(tx, run.rule_id).await.map_err(command_error)?;
    let trigger = run.trigger_payload.as_deref().and_then(Trigger::from_payload);
    run.attempts += 1;
    run.finished_at = now;
    let mut events = Vec::new();
    let mut entity_ids = vec![run.id, run.rule_id];
    let result = match (&rule, &trigger) {
        (Some(rule), Some(trigger)) if rule.enabled => {
            let today = calendar::tenant_date(tx.tenant_id(), now);
            let fact_bundle = load_facts(tx, trigger, today).await.map_err(command_error)?;
            let context = RunContext {
                tenant_id: tx.tenant_id(),
                rule,
                event: trigger.event(),
                customer_account_id: trigger.customer(),
                subject: trigger.subject(rule),
                run_key: run.run_key.clone().unwrap_or_else(|| trigger.run_key(rule)),
                facts: &fact_bundle,
                today,
                now,
            };
            carry_out(tx, &context).await?
        }
        // A rule switched off or removed meanwhile, or a trigger that no longer reads:
        // retrying cannot help.
        _ => Err(vec![json!({ "error": "the rule is disabled or its trigger is unreadable" })]),
    };
    match result {
        Ok((results, effects, customers)) => {
            run.outcome = RunOutcome::Succeeded;
            run.next_retry_at = None;
            run.actions_result = Value::Array(results).to_string();
            events.extend(effects);
            entity_ids.extend(customers);
        }
        Err(results) => {
            run.outcome = RunOutcome::Failed;
            run.actions_result = json!({ "attempt": run.attempts, "actions": results }).to_string();
            if run.attempts >= MAX_ATTEMPTS || rule.as_ref().is_none_or(|rule| !rule.enabled) {
                run.next_retry_at = None;
                if let Some(rule) = &rule {
                    let alert = actions::failure_alert(rule, run.id, trigger.as_ref().and_then(Trigger::customer), now);
                    actions_store::insert_notification(tx, &alert, &format!("alert:{}", run.id))
                        .await
                        .map_err(command_error)?;
                }
            } else {
                run.next_retry_at = Some(now + retry_delay(run.attempts));
            }
        }
    }
    rules::save_retry(tx, &run).await.map_err(command_error)?;
    if let Some(rule) = &rule
        && run.next_retry_at.is_none()
    {
        events.push(run_completed(tx, rule, &run));
    }
    Ok(Outcome {
        value: (),
        detail: format!("retry {} of run {}: {}", run.attempts, run.id, run.outcome.as_str()),
        entity_ids,
        events,
    })
}

async fn load_facts(
    tx: &TenantTransaction,
    trigger: &Trigger,
    today: NaiveDate,
) -> Result<serde_json::Map<String, Value>, AnalyticsError> {
    let (customer_facts, open_types) = match trigger.customer() {
        Some(customer) => {
            let loaded = facts::customer_facts(tx, &[customer], today).await?;
            let open_types = actions_store::open_cs_action_types(tx, customer).await?;
            (loaded.into_iter().next(), open_types)
        }
        None => (None, Vec::new()),
    };
    Ok(bundle::fact_bundle(trigger.event(), customer_facts.as_ref(), &open_types))
}

/// `analytics.automation.run_completed` {rule_code, outcome}.
fn run_completed(tx: &TenantTransaction, rule: &AutomationRule, run: &AutomationRunRecord) -> DomainEvent {
    let subject = Subject { entity_type: "AutomationRun".to_owned(), id: run.id, version: i64::from(run.attempts) };
    let mut event = DomainEvent::new(tx.context(), "analytics.automation.run_completed", subject)
        .with_ref("automation_rule_id", rule.id)
        .with_data(json!({ "rule_code": rule.code, "outcome": run.outcome.as_str() }));
    if run.subject_type == "CustomerAccount" {
        event = event.with_ref("customer_account_id", run.subject_id);
    }
    event
}

async fn in_cooldown(
    tx: &TenantTransaction,
    rule: &AutomationRule,
    subject_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, CommandError> {
    if rule.cooldown_hours <= 0 {
        return Ok(false);
    }
    let last = rules::last_success_for_subject(tx, rule.id, subject_id).await.map_err(command_error)?;
    Ok(last.is_some_and(|last| now - last < Duration::hours(i64::from(rule.cooldown_hours))))
}

fn command_error(error: AnalyticsError) -> CommandError {
    match error {
        AnalyticsError::Database(error) => CommandError::Database(error),
        other => CommandError::Invalid(other.to_string()),
    }
}

fn analytics_error(error: AnalyticsError) -> HandlerError {
    match error {
        AnalyticsError::Database(error) => error.into(),
        other => HandlerError::Poison(other.to_string()),
    }
}

/// A database hiccup may pass; anything else this event caused will not.
fn handler_error(error: CommandError) -> HandlerError {
    match error {
        CommandError::Database(error) => error.into(),
        other => HandlerError::Poison(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_doubling_from_five_minutes() {
        let minutes: Vec<i64> = (1..=4).map(|attempts| retry_delay(attempts).num_minutes()).collect();
        assert_eq!(minutes, [5, 10, 20, 40]);
    }
}
