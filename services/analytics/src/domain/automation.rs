//! Automation rules (docs/domain.md#automation-rules): trigger → condition → actions.
//! This module decides, from a rule and its trigger event, whether the rule applies and
//! which cross-service commands its actions send; the event consumer runs the decision
//! and records it as an automation run. Pure functions over plain values.
//!
//! Conditions are a small JSON language evaluated on a fact bundle built from the
//! trigger: `{"fact": <name>, "op": "eq"|"ne"|"gt"|"gte"|"lt"|"lte"|"in"|"contains",
//! "value": <json>}` (`in`: the fact is one of the listed values; `contains`: the fact, a
//! list, holds the value), `{"all": [..]}`, `{"any": [..]}`, `{"not": <condition>}`, and
//! `null` or `{}` for "always". A fact the bundle lacks makes its comparison false (and
//! so its `not` true).

use atrium_kit::{TenantContext, events::DomainEvent, stored_enum};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use uuid::Uuid;

stored_enum!(RunOutcome {
    SkippedCondition => "skipped_condition",
    SkippedCooldown => "skipped_cooldown",
    Succeeded => "succeeded",
    Failed => "failed",
});

/// The action that creates an engagement per contract line (delivery's command).
pub const CREATE_ENGAGEMENT_ACTION: &str = "delivery.create_engagement_from_blueprint";
/// The action that activates the created engagement's onboarding; it travels as
/// `then_activate` on the create command, since only delivery knows the engagement's id.
pub const ACTIVATE_ONBOARDING_ACTION: &str = "delivery.activate_onboarding";
/// The service analytics sends commands as.
pub const SENDER: &str = "analytics";
/// Delivery's command for [`CREATE_ENGAGEMENT_ACTION`].
pub const CREATE_ENGAGEMENT_COMMAND: &str = "create_engagement_from_blueprint";

/// A stored automation rule.
#[derive(Debug, Clone, PartialEq)]
pub struct AutomationRule {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub trigger: Value,
    pub condition: Value,
    pub actions: Vec<RuleAction>,
    pub cooldown_hours: i32,
    pub enabled: bool,
    pub version: i64,
}

impl AutomationRule {
    /// The event type that triggers the rule; `None` for scheduled rules.
    pub fn trigger_event(&self) -> Option<&str> {
        self.trigger.get("event").and_then(Value::as_str)
    }

    /// The event types that trigger the rule: `{"event": t}` or `{"events": [t, ..]}`.
    pub fn trigger_events(&self) -> Vec<&str> {
        let listed = self.trigger.get("events").and_then(Value::as_array);
        let mut events: Vec<&str> = listed.into_iter().flatten().filter_map(Value::as_str).collect();
        events.extend(self.trigger_event());
        events
    }

    /// The schedule of a scheduled rule, e.g. `daily 06:00`.
    pub fn trigger_schedule(&self) -> Option<&str> {
        self.trigger.get("schedule").and_then(Value::as_str)
    }

    /// Whether the cooldown and the run's subject are the customer rather than the
    /// trigger event's subject (`{"subject": "customer"}` in the trigger).
    pub fn subject_is_customer(&self) -> bool {
        self.trigger.get("subject").and_then(Value::as_str) == Some("customer")
    }

    pub fn has_action(&self, action_type: &str) -> bool {
        self.actions.iter().any(|action| action.action_type == action_type)
    }
}

/// One action of a rule: its type and optional parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleAction {
    #[serde(rename = "type")]
    pub action_type: String,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub params: Value,
}

/// A condition that cannot be evaluated (a stored rule with an unknown operator or shape).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("condition: {0}")]
pub struct ConditionError(pub String);

/// Whether `condition` holds for `facts`.
pub fn condition_holds(condition: &Value, facts: &Map<String, Value>) -> Result<bool, ConditionError> {
    let Some(fields) = condition.as_object() else {
        return if condition.is_null() { Ok(true) } else { Err(ConditionError("must be an object".to_owned())) };
    };
    if fields.is_empty() {
        return Ok(true);
    }
    if let Some(all) = fields.get("all") {
        for part in list(all, "all")? {
            if !condition_holds(part, facts)? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    if let Some(any) = fields.get("any") {
        for part in list(any, "any")? {
            if condition_holds(part, facts)? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    if let Some(negated) = fields.get("not") {
        return Ok(!condition_holds(negated, facts)?);
    }
    let fact = fields.get("fact").and_then(Value::as_str).ok_or_else(|| ConditionError("missing `fact`".to_owned()))?;
    let operator = fields.get("op").and_then(Value::as_str).ok_or_else(|| ConditionError("missing `op`".to_owned()))?;
    let expected = fields.get("value").unwrap_or(&Value::Null);
    let Some(actual) = facts.get(fact) else { return Ok(false) };
    compare(actual, operator, expected)
}

/// Checks a condition's shape and operators without facts (an edit is refused before it
/// is stored, not when it first runs).
pub fn validate_condition(condition: &Value) -> Result<(), ConditionError> {
    let Some(fields) = condition.as_object() else {
        return if condition.is_null() { Ok(()) } else { Err(ConditionError("must be an object".to_owned())) };
    };
    if fields.is_empty() {
        return Ok(());
    }
    for combinator in ["all", "any"] {
        if let Some(parts) = fields.get(combinator) {
            return list(parts, combinator)?.iter().try_for_each(validate_condition);
        }
    }
    if let Some(negated) = fields.get("not") {
        return validate_condition(negated);
    }
    fields.get("fact").and_then(Value::as_str).ok_or_else(|| ConditionError("missing `fact`".to_owned()))?;
    let operator = fields.get("op").and_then(Value::as_str).ok_or_else(|| ConditionError("missing `op`".to_owned()))?;
    let expected = fields.get("value").unwrap_or(&Value::Null);
    match operator {
        "eq" | "ne" | "contains" => Ok(()),
        "gt" | "gte" | "lt" | "lte" if expected.is_number() => Ok(()),
        "gt" | "gte" | "lt" | "lte" => Err(ConditionError(format!("`{operator}` compares numbers only"))),
        "in" => list(expected, "in").map(|_| ()),
        other => Err(ConditionError(format!("unknown operator `{other}`"))),
    }
}

fn list<'a>(value: &'a Value, name: &str) -> Result<&'a Vec<Value>, ConditionError> {
    value.as_array().ok_or_else(|| ConditionError(format!("`{name}` must be a list")))
}

fn compare(actual: &Value, operator: &str, expected: &Value) -> Result<bool, ConditionError> {
    let ordered = || match (actual.as_f64(), expected.as_f64()) {
        (Some(actual), Some(expected)) => Ok(actual.partial_cmp(&expected)),
        _ => Err(ConditionError(format!("`{operator}` compares numbers only"))),
    };
    use std::cmp::Ordering::{Equal, Greater, Less};
    Ok(match operator {
        "eq" => actual == expected,
        "ne" => actual != expected,
        "gt" => ordered()? == Some(Greater),
        "gte" => matches!(ordered()?, Some(Greater | Equal)),
        "lt" => ordered()? == Some(Less),
        "lte" => matches!(ordered()?, Some(Less | Equal)),
        "in" => list(expected, "in")?.contains(actual),
        "contains" => match actual {
            Value::Array(items) => items.contains(expected),
            _ => false,
        },
        other => return Err(ConditionError(format!("unknown operator `{other}`"))),
    })
}

/// A contract as `finance.contract.signed` describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedContract {
    pub contract_id: Uuid,
    pub customer_account_id: Uuid,
    pub start_date: Option<String>,
    pub lines: Vec<ContractLine>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ContractLine {
    pub contract_line_id: Uuid,
    pub service_package_id: Uuid,
}

impl SignedContract {
    /// Reads the contract from its `finance.contract.signed` event.
    pub fn from_event(event: &DomainEvent) -> Result<Self, String> {
        let customer_account_id = *event
            .refs
            .get("customer_account_id")
            .ok_or_else(|| format!("event {} names no customer_account_id", event.id))?;
        let contract_id = event.refs.get("contract_id").copied().unwrap_or(event.subject.id);
        let lines = match event.data.get("lines") {
            None | Some(Value::Null) => Vec::new(),
            Some(lines) => serde_json::from_value(lines.clone())
                .map_err(|error| format!("event {} has unreadable lines: {error}", event.id))?,
        };
        let start_date = event.data.get("start_date").and_then(Value::as_str).map(str::to_owned);
        Ok(SignedContract { contract_id, customer_account_id, start_date, lines })
    }

    /// The facts conditions of contract-triggered rules read.
    pub fn facts(&self) -> Map<String, Value> {
        let mut facts = Map::new();
        facts.insert("contract.line_count".to_owned(), json!(self.lines.len()));
        facts
    }
}

/// `<rule id>:<contract id>:<trigger event id>:<contract line id>`: one engagement per
/// line and trigger, however often the trigger is delivered.
pub fn engagement_idempotency_key(rule_id: Uuid, contract_id: Uuid, trigger_event_id: Uuid, line_id: Uuid) -> String {
    format!("{rule_id}:{contract_id}:{trigger_event_id}:{line_id}")
}

/// What a rule's actions amount to for one trigger: the commands to send and, per
/// action, what became of it (the run's `actions_result`).
#[derive(Debug, Clone, PartialEq)]
pub struct ActionPlan {
    pub commands: Vec<DomainEvent>,
    pub results: Vec<Value>,
}

/// Plans `rule`'s actions for a signed contract: one delivery command per contract line
/// for [`CREATE_ENGAGEMENT_ACTION`] (with `then_activate` when the rule also activates
/// onboarding), sent in the name of `automation:<rule code>`. Actions analytics cannot
/// carry out yet are reported as `unsupported` and send nothing.
pub fn plan_contract_actions(rule: &AutomationRule, trigger: &DomainEvent, contract: &SignedContract) -> ActionPlan {
    let context = TenantContext::automation(trigger.tenant_id, &format!("automation:{}", rule.code));
    let then_activate = rule.has_action(ACTIVATE_ONBOARDING_ACTION);
    let creates = rule.has_action(CREATE_ENGAGEMENT_ACTION);
    let mut plan = ActionPlan { commands: Vec::new(), results: Vec::new() };
    for action in &rule.actions {
        match action.action_type.as_str() {
            CREATE_ENGAGEMENT_ACTION => {
                let mut sent = Vec::new();
                for line in &contract.lines {
                    let key =
                        engagement_idempotency_key(rule.id, contract.contract_id, trigger.id, line.contract_line_id);
                    let data = json!({
                        "customer_account_id": contract.customer_account_id,
                        "contract_id": contract.contract_id,
                        "contract_line_id": line.contract_line_id,
                        "service_package_id": line.service_package_id,
                        "start_date": contract.start_date,
                        "then_activate": then_activate,
                        "rule_code": rule.code,
                    });
                    let subject = trigger.subject.clone();
                    let command = DomainEvent::command(
                        &context,
                        SENDER,
                        "delivery",
                        CREATE_ENGAGEMENT_COMMAND,
                        subject,
                        &key,
                        data,
                    )
                    .with_ref("customer_account_id", contract.customer_account_id)
                    .with_ref("contract_id", contract.contract_id);
                    sent.push(json!({
                        "command_id": command.id,
                        "command_type": command.event_type,
                        "contract_line_id": line.contract_line_id,
                        "idempotency_key": key,
                    }));
                    plan.commands.push(command);
                }
                plan.results.push(json!({ "type": action.action_type, "status": "sent", "commands": sent }));
            }
            ACTIVATE_ONBOARDING_ACTION if creates => {
                plan.results.push(json!({ "type": action.action_type, "status": "sent_as_then_activate" }));
            }
            _ => plan.results.push(json!({ "type": action.action_type, "status": "unsupported" })),
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use atrium_kit::events::Subject;

    fn facts(line_count: usize) -> Map<String, Value> {
        let mut facts = Map::new();
        facts.insert("contract.line_count".to_owned(), json!(line_count));
        facts
    }

    #[test]
    fn conditions_compare_facts() {
        let at_least_one_line = json!({ "fact": "contract.line_count", "op": "gte", "value": 1 });
        let cases = [
            (Value::Null, 0, true),
            (json!({}), 0, true),
            (at_least_one_line.clone(), 0, false),
            (at_least_one_line.clone(), 2, true),
            (json!({ "fact": "contract.line_count", "op": "eq", "value": 2 }), 2, true),
            (json!({ "fact": "contract.line_count", "op": "lt", "value": 2 }), 2, false),
            (json!({ "fact": "unknown.fact", "op": "eq", "value": 2 }), 2, false),
            (
                json!({ "all": [at_least_one_line.clone(), { "fact": "contract.line_count", "op": "lte", "value": 3 }] }),
                4,
                false,
            ),
            (json!({ "any": [{ "fact": "contract.line_count", "op": "eq", "value": 0 }, at_least_one_line] }), 0, true),
        ];
        for (condition, line_count, expected) in cases {
            assert_eq!(condition_holds(&condition, &facts(line_count)), Ok(expected), "{condition} with {line_count}");
        }
    }

    #[test]
    fn negation_membership_and_containment() {
        let mut facts = Map::new();
        facts.insert("event.bucket".to_owned(), json!("61_90"));
        facts.insert("customer.open_cs_action_types".to_owned(), json!(["risk"]));
        let cases = [
            (json!({ "fact": "event.bucket", "op": "in", "value": ["61_90", "90_plus"] }), true),
            (json!({ "fact": "event.bucket", "op": "in", "value": ["31_60"] }), false),
            (json!({ "fact": "customer.open_cs_action_types", "op": "contains", "value": "risk" }), true),
            (json!({ "fact": "customer.open_cs_action_types", "op": "contains", "value": "renewal" }), false),
            (json!({ "not": { "fact": "event.bucket", "op": "eq", "value": "61_90" } }), false),
            // A missing fact compares false, so its negation holds.
            (json!({ "not": { "fact": "customer.health_band", "op": "eq", "value": "red" } }), true),
        ];
        for (condition, expected) in cases {
            assert_eq!(condition_holds(&condition, &facts), Ok(expected), "{condition}");
        }
        assert!(condition_holds(&json!({ "fact": "event.bucket", "op": "in", "value": "61_90" }), &facts).is_err());
    }

    #[test]
    fn malformed_conditions_are_errors_not_answers() {
        for condition in [
            json!("yes"),
            json!({ "fact": "contract.line_count", "op": "matches", "value": 1 }),
            json!({ "fact": "contract.line_count", "op": "gt", "value": "one" }),
            json!({ "all": 1 }),
            json!({ "op": "eq", "value": 1 }),
        ] {
            assert!(condition_holds(&condition, &facts(1)).is_err(), "{condition}");
            assert!(validate_condition(&condition).is_err(), "{condition}");
        }
        // Validation needs no facts: an unknown operator on a missing fact is still refused.
        assert!(validate_condition(&json!({ "not": { "fact": "nowhere", "op": "like", "value": 1 } })).is_err());
        assert!(
            validate_condition(&json!({ "any": [{ "fact": "event.bucket", "op": "in", "value": ["61_90"] }] })).is_ok()
        );
    }

    fn rule(actions: &[&str]) -> AutomationRule {
        AutomationRule {
            id: Uuid::from_u128(1),
            code: "A1".to_owned(),
            name: "Contract signed → onboarding".to_owned(),
            trigger: json!({ "event": "finance.contract.signed" }),
            condition: Value::Null,
            actions: actions
                .iter()
                .map(|action| RuleAction { action_type: (*action).to_owned(), params: Value::Null })
                .collect(),
            cooldown_hours: 0,
            enabled: true,
            version: 1,
        }
    }

    fn signed(lines: usize) -> (DomainEvent, SignedContract) {
        let context = TenantContext::automation(Uuid::from_u128(9), "user:finance");
        let subject = Subject { entity_type: "Contract".to_owned(), id: Uuid::from_u128(2), version: 4 };
        let lines: Vec<Value> = (0..lines)
            .map(|n| json!({ "contract_line_id": Uuid::from_u128(100 + n as u128), "service_package_id": Uuid::from_u128(200), "description": "x", "amount": "10.00" }))
            .collect();
        let event = DomainEvent::new(&context, "finance.contract.signed", subject)
            .with_ref("customer_account_id", Uuid::from_u128(3))
            .with_ref("contract_id", Uuid::from_u128(2))
            .with_data(json!({ "number": "C-1", "status": "signed", "start_date": "2026-01-05", "lines": lines }));
        let contract = SignedContract::from_event(&event).unwrap();
        (event, contract)
    }

    #[test]
    fn a1_sends_one_create_command_per_line_that_also_activates() {
        let (event, contract) = signed(2);
        assert_eq!(contract.facts()["contract.line_count"], 2);
        let plan =
            plan_contract_actions(&rule(&[CREATE_ENGAGEMENT_ACTION, ACTIVATE_ONBOARDING_ACTION]), &event, &contract);
        assert_eq!(plan.commands.len(), 2);
        let first = &plan.commands[0];
        assert_eq!(first.event_type, "delivery.command.create_engagement_from_blueprint");
        assert_eq!(first.producer, "analytics");
        assert_eq!(first.actor, "automation:A1");
        assert_eq!(first.subject, event.subject);
        assert_eq!(first.data["then_activate"], true);
        assert_eq!(first.data["start_date"], "2026-01-05");
        assert_eq!(
            first.idempotency_key(),
            Some(
                format!("{}:{}:{}:{}", Uuid::from_u128(1), Uuid::from_u128(2), event.id, Uuid::from_u128(100)).as_str()
            )
        );
        assert_eq!(plan.results[1]["status"], "sent_as_then_activate");
    }

    #[test]
    fn without_the_activation_action_engagements_stay_draft_and_unknown_actions_send_nothing() {
        let (event, contract) = signed(1);
        let plan = plan_contract_actions(&rule(&[CREATE_ENGAGEMENT_ACTION, "notify"]), &event, &contract);
        assert_eq!(plan.commands.len(), 1);
        assert_eq!(plan.commands[0].data["then_activate"], false);
        assert_eq!(plan.results[1], json!({ "type": "notify", "status": "unsupported" }));
        let alone = plan_contract_actions(&rule(&[ACTIVATE_ONBOARDING_ACTION]), &event, &contract);
        assert!(alone.commands.is_empty());
        assert_eq!(alone.results[0]["status"], "unsupported");
    }
}
