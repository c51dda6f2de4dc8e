//! What a rule's actions do (docs/domain.md#automation-rules): each action of a run is
//! first planned — its `when` condition checked, its parameters and targets resolved —
//! and only when every action could be planned are the effects written, so a failing
//! action leaves nothing half done and the whole run is retried.
//!
//! Effects: CS actions (optionally from a playbook, with its steps) and in-app
//! notifications are rows analytics writes; cross-service actions are commands in
//! analytics' outbox with the run's idempotency key (`rule_id:subject_id:trigger`).

use atrium_kit::{
    TenantContext, TenantTransaction,
    events::{DomainEvent, Subject},
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::{
    domain::{
        automation::{
            self, ACTIVATE_ONBOARDING_ACTION, AutomationRule, CREATE_ENGAGEMENT_ACTION, RuleAction, SENDER,
            SignedContract,
        },
        cs_action::{CsAction, CsActionPriority, CsActionStatus, CsActionStep, CsActionType, Notification},
    },
    error::AnalyticsError,
    repository::{cs_actions as actions_store, lifecycle as journey},
};

pub const CREATE_CS_ACTION: &str = "analytics.create_cs_action";
pub const START_PLAYBOOK: &str = "analytics.start_playbook";
pub const NOTIFY: &str = "notify";
pub const FLAG_BILLING_LINE_AT_RISK: &str = "finance.flag_billing_line_at_risk";
pub const ESCALATE: &str = "support.escalate";
pub const PUBLISH_PARTNER_SCORECARD: &str = "analytics.publish_partner_scorecard";

/// Everything the actions of one run need to know about their trigger.
pub struct RunContext<'a> {
    pub tenant_id: Uuid,
    pub rule: &'a AutomationRule,
    /// The trigger event; `None` for scheduled runs.
    pub event: Option<&'a DomainEvent>,
    pub customer_account_id: Option<Uuid>,
    pub subject: Subject,
    /// `rule_id:subject_id:trigger`.
    pub run_key: String,
    pub facts: &'a Map<String, Value>,
    pub today: NaiveDate,
    pub now: DateTime<Utc>,
}

/// The effects of a run's actions, ready to be written, and per action what became of it.
#[derive(Default)]
pub struct Planned {
    cs_actions: Vec<(CsAction, Vec<CsActionStep>, String)>,
    notifications: Vec<(Notification, String)>,
    pub commands: Vec<DomainEvent>,
    pub results: Vec<Value>,
}

/// Why an action could not be carried out; the run fails and is retried.
#[derive(Debug)]
pub enum ActionFailure {
    /// The action cannot be carried out with what the trigger and the tenant hold (yet).
    Unusable {
        results: Vec<Value>,
    },
    Database(AnalyticsError),
}

impl From<AnalyticsError> for ActionFailure {
    fn from(error: AnalyticsError) -> Self {
        ActionFailure::Database(error)
    }
}

/// Plans every action of the run's rule.
pub async fn plan(tx: &TenantTransaction, run: &RunContext<'_>) -> Result<Planned, ActionFailure> {
    let mut planned = Planned::default();
    let mut failed = false;
    let mut delivery_planned = false;
    for (index, action) in run.rule.actions.iter().enumerate() {
        let when = action.params.get("when").cloned().unwrap_or(Value::Null);
        match automation::condition_holds(&when, run.facts) {
            Ok(true) => {}
            Ok(false) => {
                planned.results.push(json!({ "type": action.action_type, "status": "not_applicable" }));
                continue;
            }
            Err(error) => {
                failed = true;
                planned
                    .results
                    .push(json!({ "type": action.action_type, "status": "failed", "error": error.to_string() }));
                continue;
            }
        }
        let outcome = match action.action_type.as_str() {
            CREATE_CS_ACTION => plan_cs_action(tx, run, action, index, None, &mut planned).await?,
            START_PLAYBOOK => {
                let code = param_str(action, "playbook").unwrap_or_default();
                match actions_store::playbook_by_code(tx, code).await? {
                    Some(playbook) => plan_cs_action(tx, run, action, index, Some(playbook), &mut planned).await?,
                    None => Err(format!("no playbook `{code}`")),
                }
            }
            NOTIFY => plan_notifications(run, action, index, &mut planned),
            FLAG_BILLING_LINE_AT_RISK => plan_flag_billing_line(run, action, &mut planned),
            ESCALATE => plan_escalation(run, action, &mut planned),
            CREATE_ENGAGEMENT_ACTION | ACTIVATE_ONBOARDING_ACTION if !delivery_planned => {
                delivery_planned = true;
                plan_delivery(run, &mut planned)
            }
            CREATE_ENGAGEMENT_ACTION | ACTIVATE_ONBOARDING_ACTION => Ok(()),
            _ => {
                // `analytics.publish_partner_scorecard` waits for partner scorecards.
                planned.results.push(json!({ "type": action.action_type, "status": "unsupported" }));
                Ok(())
            }
        };
        if let Err(error) = outcome {
            failed = true;
            planned.results.push(json!({ "type": action.action_type, "status": "failed", "error": error }));
        }
    }
    if failed {
        return Err(ActionFailure::Unusable { results: planned.results });
    }
    Ok(planned)
}

/// Writes the planned rows; returns the events they caused (`analytics.cs_action.created`)
/// and the customers whose cached answers change.
pub async fn write(
    tx: &TenantTransaction,
    rule: &AutomationRule,
    planned: &Planned,
) -> Result<(Vec<DomainEvent>, Vec<Uuid>), AnalyticsError> {
    let mut events = Vec::new();
    let mut customers = Vec::new();
    for (action, steps, key) in &planned.cs_actions {
        if actions_store::insert_cs_action(tx, action, steps, key).await? {
            events.push(cs_action_event(tx.context(), "analytics.cs_action.created", action, Some(&rule.code)));
            customers.push(action.customer_account_id);
        }
    }
    for (notification, key) in &planned.notifications {
        actions_store::insert_notification(tx, notification, key).await?;
    }
    Ok((events, customers))
}

/// `analytics.cs_action.created` / `analytics.cs_action.closed` for `action`.
pub fn cs_action_event(
    context: &TenantContext,
    event_type: &str,
    action: &CsAction,
    rule_code: Option<&str>,
) -> DomainEvent {
    let subject = Subject { entity_type: "CsAction".to_owned(), id: action.id, version: action.version };
    let mut data = json!({
        "cs_action_id": action.id,
        "type": action.action_type.as_str(),
        "priority": action.priority.as_str(),
    });
    if let Some(code) = rule_code {
        data["rule_code"] = json!(code);
    }
    let mut event =
        DomainEvent::new(context, event_type, subject).with_ref("customer_account_id", action.customer_account_id);
    if let Some(partner) = action.channel_partner_id {
        event = event.with_ref("channel_partner_id", partner);
    }
    event.with_data(data)
}

/// The failure alert after the last retry: an in-app notification for tenant admins.
pub fn failure_alert(rule: &AutomationRule, run_id: Uuid, customer: Option<Uuid>, now: DateTime<Utc>) -> Notification {
    Notification {
        id: Uuid::now_v7(),
        customer_account_id: customer,
        recipient_role: "tenant_admin".to_owned(),
        template: "automation_run_failed".to_owned(),
        message: json!({ "rule_code": rule.code, "automation_run_id": run_id }).to_string(),
        source_rule_id: Some(rule.id),
        created_at: now,
    }
}

async fn plan_cs_action(
    tx: &TenantTransaction,
    run: &RunContext<'_>,
    action: &RuleAction,
    index: usize,
    playbook: Option<crate::domain::cs_action::Playbook>,
    planned: &mut Planned,
) -> Result<Result<(), String>, AnalyticsError> {
    let Some(customer) = run.customer_account_id else {
        return Ok(Err("the trigger names no customer".to_owned()));
    };
    let action_type = match param_str(action, "cs_action_type").or(playbook.as_ref().map(|p| p.action_type.as_str())) {
        Some(kind) => match CsActionType::parse(kind) {
            Ok(kind) => kind,
            Err(error) => return Ok(Err(error.to_string())),
        },
        None => return Ok(Err("missing `cs_action_type`".to_owned())),
    };
    let priority = match CsActionPriority::parse(param_str(action, "priority").unwrap_or("medium")) {
        Ok(priority) => priority,
        Err(error) => return Ok(Err(error.to_string())),
    };
    let channel_partner_id = journey::channel_partner_of(tx, customer).await?;
    let id = Uuid::now_v7();
    let due_date = match &playbook {
        Some(playbook) => playbook.due_on(run.today),
        None => run.today + Duration::days(action.params.get("due_in_days").and_then(Value::as_i64).unwrap_or(7)),
    };
    let steps: Vec<CsActionStep> = playbook
        .iter()
        .flat_map(|playbook| playbook.steps.iter())
        .enumerate()
        .map(|(ordinal, step)| CsActionStep {
            id: Uuid::now_v7(),
            cs_action_id: id,
            ordinal: ordinal as i32 + 1,
            title: step.title.clone(),
            owner_role: step.owner_role.clone(),
            due_date: step.due_on(run.today),
            done: false,
        })
        .collect();
    let default_reason = playbook.as_ref().map_or_else(|| run.rule.name.clone(), |playbook| playbook.name.clone());
    let record = CsAction {
        id,
        customer_account_id: customer,
        channel_partner_id,
        playbook_id: playbook.as_ref().map(|playbook| playbook.id),
        action_type,
        priority,
        owner_role: param_str(action, "owner_role").unwrap_or("csm").to_owned(),
        due_date,
        status: CsActionStatus::Open,
        reason: param_str(action, "reason").map_or(default_reason, |reason| interpolate(reason, run.facts)),
        source_rule_id: Some(run.rule.id),
        created_at: run.now,
        closed_at: None,
        version: 1,
    };
    planned.results.push(json!({
        "type": action.action_type,
        "status": "created",
        "cs_action_id": id,
        "playbook": playbook.as_ref().map(|playbook| playbook.code.clone()),
    }));
    let key = format!("{}:{index}", run.run_key);
    planned.cs_actions.push((record, steps, key));
    Ok(Ok(()))
}

fn plan_notifications(
    run: &RunContext<'_>,
    action: &RuleAction,
    index: usize,
    planned: &mut Planned,
) -> Result<(), String> {
    let template = param_str(action, "template").ok_or("missing `template`")?;
    let recipients: Vec<&str> = action
        .params
        .get("recipients")
        .and_then(Value::as_array)
        .map(|roles| roles.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if recipients.is_empty() {
        return Err("missing `recipients`".to_owned());
    }
    let message = json!({
        "rule_code": run.rule.code,
        "customer_account_id": run.customer_account_id,
        "subject_type": run.subject.entity_type,
        "subject_id": run.subject.id,
    });
    for role in &recipients {
        let notification = Notification {
            id: Uuid::now_v7(),
            customer_account_id: run.customer_account_id,
            recipient_role: (*role).to_owned(),
            template: template.to_owned(),
            message: message.to_string(),
            source_rule_id: Some(run.rule.id),
            created_at: run.now,
        };
        planned.notifications.push((notification, format!("{}:{index}:{role}", run.run_key)));
    }
    planned.results.push(json!({ "type": action.action_type, "status": "notified", "template": template,
                                 "recipients": recipients }));
    Ok(())
}

fn plan_flag_billing_line(run: &RunContext<'_>, action: &RuleAction, planned: &mut Planned) -> Result<(), String> {
    let event = run.event.ok_or("needs a trigger event naming a milestone")?;
    let milestone_id = event
        .refs
        .get("milestone_id")
        .copied()
        .or((event.subject.entity_type == "Milestone").then_some(event.subject.id))
        .ok_or("the trigger names no milestone")?;
    let slip = ["expected_slip_days", "slip_days", "days_late", "variance_days"]
        .iter()
        .find_map(|key| run.facts.get(&format!("event.{key}")).and_then(Value::as_f64))
        .unwrap_or(0.0);
    let data = json!({
        "milestone_id": milestone_id,
        "reason": param_str(action, "reason").map(|reason| interpolate(reason, run.facts))
            .unwrap_or_else(|| run.rule.name.clone()),
        "expected_slip_days": slip.round() as i64,
        "rule_code": run.rule.code,
    });
    let command = send(run, "finance", "flag_billing_line_at_risk", data).with_ref("milestone_id", milestone_id);
    planned.results.push(json!({ "type": action.action_type, "status": "sent", "command_id": command.id,
                                 "idempotency_key": run.run_key }));
    planned.commands.push(command);
    Ok(())
}

fn plan_escalation(run: &RunContext<'_>, action: &RuleAction, planned: &mut Planned) -> Result<(), String> {
    let customer = run.customer_account_id.ok_or("the trigger names no customer")?;
    let level = action.params.get("level").and_then(Value::as_i64).unwrap_or(1);
    if !(1..=3).contains(&level) {
        return Err(format!("escalation level {level} is not 1–3"));
    }
    let ticket_id = run.event.and_then(|event| {
        event.refs.get("ticket_id").copied().or((event.subject.entity_type == "Ticket").then_some(event.subject.id))
    });
    let data = json!({
        "customer_account_id": customer,
        "ticket_id": ticket_id,
        "level": level,
        "reason": param_str(action, "reason").map(|reason| interpolate(reason, run.facts))
            .unwrap_or_else(|| run.rule.name.clone()),
        "rule_code": run.rule.code,
    });
    let mut command = send(run, "support", "escalate", data);
    if let Some(ticket) = ticket_id {
        command = command.with_ref("ticket_id", ticket);
    }
    planned.results.push(json!({ "type": action.action_type, "status": "sent", "level": level,
                                 "command_id": command.id, "idempotency_key": run.run_key }));
    planned.commands.push(command);
    Ok(())
}

/// A1's delivery actions: one create command per contract line (which also activates
/// when the rule has the activation action), as before.
fn plan_delivery(run: &RunContext<'_>, planned: &mut Planned) -> Result<(), String> {
    let event = run.event.ok_or("needs a `finance.contract.signed` trigger")?;
    let contract = SignedContract::from_event(event)?;
    let mut delivery_rule = run.rule.clone();
    delivery_rule
        .actions
        .retain(|action| [CREATE_ENGAGEMENT_ACTION, ACTIVATE_ONBOARDING_ACTION].contains(&action.action_type.as_str()));
    let plan = automation::plan_contract_actions(&delivery_rule, event, &contract);
    planned.commands.extend(plan.commands);
    planned.results.extend(plan.results);
    Ok(())
}

/// A command to `owner` in analytics' outbox, keyed by the run.
fn send(run: &RunContext<'_>, owner: &str, name: &str, data: Value) -> DomainEvent {
    let context = TenantContext::automation(run.tenant_id, &format!("automation:{}", run.rule.code));
    let mut command = DomainEvent::command(&context, SENDER, owner, name, run.subject.clone(), &run.run_key, data);
    if let Some(customer) = run.customer_account_id {
        command = command.with_ref("customer_account_id", customer);
    }
    command
}

fn param_str<'a>(action: &'a RuleAction, name: &str) -> Option<&'a str> {
    action.params.get(name).and_then(Value::as_str)
}

/// Replaces `{fact}` in `text` with the fact's value (text as is, other values as JSON).
pub fn interpolate(text: &str, facts: &Map<String, Value>) -> String {
    let mut result = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else { break };
        let name = &rest[open + 1..open + close];
        result.push_str(&rest[..open]);
        match facts.get(name) {
            Some(Value::String(value)) => result.push_str(value),
            Some(value) => result.push_str(&value.to_string()),
            None => result.push_str(&rest[open..=open + close]),
        }
        rest = &rest[open + close + 1..];
    }
    result.push_str(rest);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_name_their_facts() {
        let mut facts = Map::new();
        facts.insert("event.bucket".to_owned(), json!("61_90"));
        facts.insert("event.days_past_due".to_owned(), json!(64));
        assert_eq!(
            interpolate("Invoice {event.bucket} days past due ({event.days_past_due} d), {unknown}", &facts),
            "Invoice 61_90 days past due (64 d), {unknown}"
        );
        assert_eq!(interpolate("no braces", &facts), "no braces");
        assert_eq!(interpolate("open { only", &facts), "open { only");
    }
}
