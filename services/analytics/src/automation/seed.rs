//! The automation rules A1–A12 and the playbooks every tenant starts with
//! (docs/domain.md#automation-rules, docs/domain.md#cs-actions-and-playbooks), as data
//! in the rule language over the fact bundle. Tenants edit them; seeding is idempotent by
//! code, so an edited rule keeps its edits.

use atrium_kit::demo::{self, DemoTenant};
use serde_json::{Value, json};

use crate::domain::{
    automation::{ACTIVATE_ONBOARDING_ACTION, AutomationRule, CREATE_ENGAGEMENT_ACTION, RuleAction},
    cs_action::{CsActionType, Playbook, PlaybookStep},
};

use super::actions::{
    CREATE_CS_ACTION, ESCALATE, FLAG_BILLING_LINE_AT_RISK, NOTIFY, PUBLISH_PARTNER_SCORECARD, START_PLAYBOOK,
};

fn fact(name: &str, op: &str, value: Value) -> Value {
    json!({ "fact": name, "op": op, "value": value })
}

fn action(action_type: &str, params: Value) -> RuleAction {
    RuleAction { action_type: action_type.to_owned(), params }
}

struct RuleSpec {
    code: &'static str,
    name: &'static str,
    trigger: Value,
    condition: Value,
    actions: Vec<RuleAction>,
    cooldown_hours: i32,
    enabled: bool,
}

fn rule_specs() -> Vec<RuleSpec> {
    let renewal_within = |days: i64| {
        json!({ "all": [fact("customer.days_to_renewal", "gte", json!(0)),
                        fact("customer.days_to_renewal", "lte", json!(days))] })
    };
    vec![
        RuleSpec {
            code: "A1",
            name: "Contract signed → onboarding",
            trigger: json!({ "event": "finance.contract.signed" }),
            condition: fact("contract.line_count", "gte", json!(1)),
            actions: vec![
                action(CREATE_ENGAGEMENT_ACTION, Value::Null),
                action(ACTIVATE_ONBOARDING_ACTION, Value::Null),
            ],
            cooldown_hours: 0,
            enabled: true,
        },
        RuleSpec {
            code: "A2",
            name: "Milestone threatens billing",
            trigger: json!({ "events": ["delivery.milestone.forecast_changed", "delivery.milestone.became_late"] }),
            condition: json!({ "all": [
                fact("event.is_billing", "eq", json!(true)),
                fact("event.billing_amount", "gte", json!(5000)),
                { "any": [fact("event.type", "eq", json!("delivery.milestone.became_late")),
                          fact("event.slip_days", "gt", json!(0))] },
            ] }),
            actions: vec![
                action(FLAG_BILLING_LINE_AT_RISK, json!({ "reason": "Milestone forecast past its due date" })),
                action(
                    CREATE_CS_ACTION,
                    json!({ "cs_action_type": "finance", "priority": "high",
                    "owner_role": "delivery_manager", "due_in_days": 3,
                    "reason": "Billing milestone at risk: review with finance" }),
                ),
                action(NOTIFY, json!({ "template": "milestone_billing_risk", "recipients": ["csm"] })),
            ],
            cooldown_hours: 0,
            enabled: true,
        },
        RuleSpec {
            code: "A3",
            name: "Renewal playbook — usage",
            trigger: json!({ "schedule": "daily 06:00" }),
            condition: json!({ "all": [
                renewal_within(120),
                fact("customer.entitlement_usage_ratio_90d", "lt", json!(0.5)),
                { "not": fact("customer.open_cs_action_types", "contains", json!("renewal")) },
            ] }),
            actions: vec![action(START_PLAYBOOK, json!({ "playbook": "value_realization", "priority": "high" }))],
            cooldown_hours: 0,
            enabled: true,
        },
        RuleSpec {
            code: "A4",
            name: "Renewal playbook — profitability",
            trigger: json!({ "schedule": "daily 06:00" }),
            condition: json!({ "all": [
                renewal_within(120),
                fact("customer.gross_margin_t12m", "lt", json!(0.25)),
                { "not": fact("customer.open_cs_action_types", "contains", json!("renewal")) },
            ] }),
            actions: vec![action(
                START_PLAYBOOK,
                json!({ "playbook": "reprice_or_rescope", "priority": "high",
                "owner_role": "csm" }),
            )],
            cooldown_hours: 0,
            enabled: true,
        },
        RuleSpec {
            code: "A5",
            name: "Renewal playbook — expansion",
            trigger: json!({ "schedule": "daily 06:00" }),
            condition: json!({ "all": [
                renewal_within(150),
                fact("customer.health_band", "eq", json!("green")),
                fact("customer.entitlement_usage_ratio_90d", "gt", json!(1.2)),
                { "not": fact("customer.open_cs_action_types", "contains", json!("expansion")) },
            ] }),
            actions: vec![action(START_PLAYBOOK, json!({ "playbook": "expansion_upsell", "priority": "medium" }))],
            cooldown_hours: 0,
            enabled: true,
        },
        RuleSpec {
            code: "A6",
            name: "Partner scorecards",
            trigger: json!({ "schedule": "monthly 1 06:00" }),
            condition: Value::Null,
            // Partner scorecards do not exist yet: the action answers `unsupported`, so the
            // rule starts disabled.
            actions: vec![action(PUBLISH_PARTNER_SCORECARD, Value::Null)],
            cooldown_hours: 0,
            enabled: false,
        },
        RuleSpec {
            code: "A7",
            name: "Go-live slip",
            trigger: json!({ "event": "delivery.engagement.go_live_forecast_changed" }),
            condition: json!({ "all": [
                fact("event.variance_days", "gt", json!(7)),
                fact("event.shift_days", "gte", json!(5)),
            ] }),
            actions: vec![
                action(
                    CREATE_CS_ACTION,
                    json!({ "cs_action_type": "risk", "priority": "high", "owner_role": "csm",
                    "due_in_days": 3,
                    "reason": "Go-live forecast slipped {event.shift_days} days (now {event.variance_days} days late)" }),
                ),
                action(
                    NOTIFY,
                    json!({ "template": "go_live_slip_exec", "recipients": ["exec"],
                    "when": fact("event.variance_days", "gt", json!(30)) }),
                ),
            ],
            cooldown_hours: 0,
            enabled: true,
        },
        RuleSpec {
            code: "A8",
            name: "Change requests increasing",
            trigger: json!({ "event": "delivery.change_request.submitted", "subject": "customer" }),
            condition: json!({ "all": [
                fact("customer.change_requests_30d", "gte", json!(2)),
                fact("customer.cr_trend_ratio", "gt", json!(1.5)),
            ] }),
            actions: vec![
                action(
                    CREATE_CS_ACTION,
                    json!({ "cs_action_type": "risk", "priority": "medium", "owner_role": "csm",
                    "due_in_days": 7, "reason": "Scope creep review" }),
                ),
                action(NOTIFY, json!({ "template": "scope_creep_review", "recipients": ["delivery_manager"] })),
            ],
            cooldown_hours: 14 * 24,
            enabled: true,
        },
        RuleSpec {
            code: "A9",
            name: "Invoice aging",
            trigger: json!({ "event": "finance.invoice.aging_bucket_changed" }),
            condition: fact("event.bucket", "in", json!(["31_60", "61_90", "90_plus"])),
            actions: vec![
                action(
                    NOTIFY,
                    json!({ "template": "dunning_31_60", "recipients": ["finance"],
                    "when": fact("event.bucket", "eq", json!("31_60")) }),
                ),
                action(
                    CREATE_CS_ACTION,
                    json!({ "cs_action_type": "finance", "priority": "high", "owner_role": "csm",
                    "due_in_days": 5, "reason": "Invoice {event.days_past_due} days past due",
                    "when": fact("event.bucket", "eq", json!("61_90")) }),
                ),
                action(
                    NOTIFY,
                    json!({ "template": "dunning_61_90", "recipients": ["csm"],
                    "when": fact("event.bucket", "eq", json!("61_90")) }),
                ),
                action(
                    CREATE_CS_ACTION,
                    json!({ "cs_action_type": "finance", "priority": "urgent",
                    "owner_role": "finance", "due_in_days": 2,
                    "reason": "Invoice over 90 days past due: finance lead escalation",
                    "when": fact("event.bucket", "eq", json!("90_plus")) }),
                ),
                action(
                    NOTIFY,
                    json!({ "template": "dunning_90_plus", "recipients": ["finance", "csm"],
                    "when": fact("event.bucket", "eq", json!("90_plus")) }),
                ),
            ],
            cooldown_hours: 0,
            enabled: true,
        },
        RuleSpec {
            code: "A10",
            name: "SLA escalation",
            trigger: json!({ "events": ["support.sla.warning", "support.sla.breached"] }),
            condition: json!({ "any": [
                fact("event.priority", "in", json!(["urgent", "high"])),
                fact("customer.health_band", "eq", json!("red")),
            ] }),
            actions: vec![
                action(
                    ESCALATE,
                    json!({ "level": 1, "reason": "SLA warning ({event.metric}, {event.priority})",
                    "when": { "all": [fact("event.type", "eq", json!("support.sla.warning")),
                                      { "not": fact("customer.in_renewal_window", "eq", json!(true)) }] } }),
                ),
                action(
                    ESCALATE,
                    json!({ "level": 2, "reason": "SLA breached ({event.metric}, {event.priority})",
                    "when": { "all": [fact("event.type", "eq", json!("support.sla.breached")),
                                      { "not": fact("customer.in_renewal_window", "eq", json!(true)) }] } }),
                ),
                action(
                    ESCALATE,
                    json!({ "level": 3, "reason": "SLA at risk during the renewal window",
                    "when": fact("customer.in_renewal_window", "eq", json!(true)) }),
                ),
                action(NOTIFY, json!({ "template": "sla_escalation", "recipients": ["csm"] })),
            ],
            cooldown_hours: 0,
            enabled: true,
        },
        RuleSpec {
            code: "A11",
            name: "Under-used advisory hours",
            trigger: json!({ "schedule": "weekly mon 06:00" }),
            condition: json!({ "all": [
                { "any": [fact("customer.entitlement_usage_ratio_90d", "lt", json!(0.5)),
                          fact("customer.entitlement_pace_ratio", "lt", json!(0.5))] },
                { "not": fact("customer.open_cs_action_types", "contains", json!("lifecycle")) },
            ] }),
            actions: vec![action(
                CREATE_CS_ACTION,
                json!({ "cs_action_type": "lifecycle", "priority": "medium",
                "owner_role": "csm", "due_in_days": 7,
                "reason": "Book an advisory session: {customer.entitlement_forfeit_forecast_hours} hours forecast to be forfeited" }),
            )],
            cooldown_hours: 0,
            enabled: true,
        },
        RuleSpec {
            code: "A12",
            name: "Health band drop",
            trigger: json!({ "event": "analytics.health.band_changed" }),
            condition: fact("event.to", "eq", json!("red")),
            actions: vec![action(START_PLAYBOOK, json!({ "playbook": "risk_recovery", "priority": "urgent" }))],
            cooldown_hours: 0,
            enabled: true,
        },
    ]
}

/// The rules a tenant starts with.
pub fn default_rules(demo_tenant: &DemoTenant) -> Vec<AutomationRule> {
    rule_specs()
        .into_iter()
        .map(|spec| AutomationRule {
            id: demo::id("automation_rule", 1, &format!("{}/{}", demo_tenant.slug, spec.code)),
            code: spec.code.to_owned(),
            name: spec.name.to_owned(),
            trigger: spec.trigger,
            condition: spec.condition,
            actions: spec.actions,
            cooldown_hours: spec.cooldown_hours,
            enabled: spec.enabled,
            version: 1,
        })
        .collect()
}

/// The playbooks a tenant starts with.
pub fn default_playbooks(demo_tenant: &DemoTenant) -> Vec<Playbook> {
    let step = |title: &str, owner_role: &str, due_offset_days: i64| PlaybookStep {
        title: title.to_owned(),
        owner_role: owner_role.to_owned(),
        due_offset_days,
    };
    let playbook = |code: &str, name: &str, action_type: CsActionType, steps: Vec<PlaybookStep>| Playbook {
        id: demo::id("playbook", 0, &format!("{}/{code}", demo_tenant.slug)),
        code: code.to_owned(),
        name: name.to_owned(),
        trigger_kind: "automation".to_owned(),
        action_type,
        steps,
    };
    vec![
        playbook(
            "value_realization",
            "Value realization",
            CsActionType::Renewal,
            vec![
                step("Schedule an advisory session", "csm", 7),
                step("Send the usage summary", "csm", 10),
                step("Executive check-in", "exec", 21),
            ],
        ),
        playbook(
            "reprice_or_rescope",
            "Reprice or rescope",
            CsActionType::Renewal,
            vec![
                step("Review delivery cost against revenue", "finance", 7),
                step("Prepare a repriced or rescoped renewal offer", "csm", 14),
            ],
        ),
        playbook(
            "expansion_upsell",
            "Expansion upsell",
            CsActionType::Expansion,
            vec![step("Quote the next retainer tier", "csm", 10)],
        ),
        playbook(
            "risk_recovery",
            "Risk recovery",
            CsActionType::Risk,
            vec![step("Root-cause review", "csm", 5), step("Agree a recovery plan with the customer", "csm", 10)],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::automation::condition_holds;

    #[test]
    fn twelve_rules_whose_conditions_all_read() {
        let tenant = &demo::TENANTS[0];
        let rules = default_rules(tenant);
        let codes: Vec<&str> = rules.iter().map(|rule| rule.code.as_str()).collect();
        assert_eq!(codes, ["A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "A9", "A10", "A11", "A12"]);
        let empty = serde_json::Map::new();
        for rule in &rules {
            assert!(condition_holds(&rule.condition, &empty).is_ok(), "{}", rule.code);
            // Either a schedule or events, never both or neither.
            assert!(rule.trigger_schedule().is_some() == rule.trigger_events().is_empty(), "{}", rule.code);
            if let Some(schedule) = rule.trigger_schedule() {
                assert!(super::super::schedule::Schedule::parse(schedule).is_ok(), "{}", rule.code);
            }
            for action in &rule.actions {
                let when = action.params.get("when").cloned().unwrap_or(Value::Null);
                assert!(condition_holds(&when, &empty).is_ok(), "{} {}", rule.code, action.action_type);
            }
        }
        let playbooks: Vec<String> = default_playbooks(tenant).into_iter().map(|playbook| playbook.code).collect();
        for rule in &rules {
            for action in rule.actions.iter().filter(|action| action.action_type == START_PLAYBOOK) {
                let code = action.params["playbook"].as_str().unwrap();
                assert!(playbooks.iter().any(|known| known == code), "{} names {code}", rule.code);
            }
        }
    }

    #[test]
    fn a9_acts_by_bucket() {
        let rules = default_rules(&demo::TENANTS[0]);
        let a9 = rules.iter().find(|rule| rule.code == "A9").unwrap();
        let applicable = |bucket: &str| -> Vec<&str> {
            let mut facts = serde_json::Map::new();
            facts.insert("event.bucket".to_owned(), json!(bucket));
            if !condition_holds(&a9.condition, &facts).unwrap() {
                return Vec::new();
            }
            a9.actions
                .iter()
                .filter(|action| {
                    condition_holds(&action.params.get("when").cloned().unwrap_or(Value::Null), &facts).unwrap()
                })
                .map(|action| action.params["template"].as_str().unwrap_or(action.action_type.as_str()))
                .collect()
        };
        assert_eq!(applicable("1_30"), Vec::<&str>::new());
        assert_eq!(applicable("31_60"), ["dunning_31_60"]);
        assert_eq!(applicable("61_90"), [CREATE_CS_ACTION, "dunning_61_90"]);
        assert_eq!(applicable("90_plus"), [CREATE_CS_ACTION, "dunning_90_plus"]);
    }
}
