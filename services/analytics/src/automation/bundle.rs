//! The fact bundle an automation rule's condition is evaluated on
//! (docs/domain.md#automation-rules): the trigger event as `event.*` (its type, subject,
//! refs and data, nested objects flattened with dots, decimal strings as numbers) and
//! the customer's [`CustomerFacts`] as `customer.*`. A fact without evidence is left out,
//! so comparisons on it are false.

use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Map, Value, json};

use crate::domain::{cs_action::CsActionType, facts::CustomerFacts};
use atrium_kit::events::DomainEvent;

/// The facts of one trigger: the event (if an event triggered the rule) and the customer
/// it concerns (if known), with the types of the customer's open CS actions.
pub fn fact_bundle(
    event: Option<&DomainEvent>,
    customer: Option<&CustomerFacts>,
    open_cs_action_types: &[CsActionType],
) -> Map<String, Value> {
    let mut facts = Map::new();
    if let Some(event) = event {
        add_event_facts(&mut facts, event);
    }
    if let Some(customer) = customer {
        add_customer_facts(&mut facts, customer);
        let types: Vec<&str> = open_cs_action_types.iter().map(|kind| kind.as_str()).collect();
        facts.insert("customer.open_cs_action_types".to_owned(), json!(types));
    }
    facts
}

fn add_event_facts(facts: &mut Map<String, Value>, event: &DomainEvent) {
    facts.insert("event.type".to_owned(), json!(event.event_type));
    facts.insert("event.subject_type".to_owned(), json!(event.subject.entity_type));
    facts.insert("event.subject_id".to_owned(), json!(event.subject.id));
    for (role, id) in &event.refs {
        facts.insert(format!("event.{role}"), json!(id));
    }
    if let Value::Object(data) = &event.data {
        flatten("event", data, facts);
    }
    // A shift between two dates (e.g. a go-live forecast moving from `old` to `new`), in
    // days: later is positive.
    let date = |key: &str| event.data.get(key).and_then(Value::as_str).and_then(|text| text.parse::<NaiveDate>().ok());
    if let (Some(old), Some(new)) = (date("old"), date("new")) {
        facts.insert("event.shift_days".to_owned(), json!((new - old).num_days()));
    }
    if let Some(lines) = event.data.get("lines").and_then(Value::as_array) {
        facts.insert("contract.line_count".to_owned(), json!(lines.len()));
    }
}

fn flatten(prefix: &str, data: &Map<String, Value>, facts: &mut Map<String, Value>) {
    for (key, value) in data {
        let name = format!("{prefix}.{key}");
        match value {
            Value::Object(inner) => flatten(&name, inner, facts),
            Value::String(text) if is_decimal(text) => {
                facts.insert(name, text.parse::<f64>().map_or_else(|_| value.clone(), |number| json!(number)));
            }
            other => {
                facts.insert(name, other.clone());
            }
        }
    }
}

/// `1250.00`, `-3`, `0.5`: how events carry amounts and percentages.
fn is_decimal(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let fraction = parts.next();
    !whole.is_empty()
        && whole.bytes().all(|byte| byte.is_ascii_digit())
        && fraction.is_none_or(|fraction| !fraction.is_empty() && fraction.bytes().all(|byte| byte.is_ascii_digit()))
}

fn add_customer_facts(facts: &mut Map<String, Value>, customer: &CustomerFacts) {
    let mut put = |name: &str, value: Option<Value>| {
        if let Some(value) = value {
            facts.insert(format!("customer.{name}"), value);
        }
    };
    let number = |value: Option<f64>| value.map(|value| json!(value));
    let decimal =
        |value: Option<rust_decimal::Decimal>| value.and_then(|value| value.to_f64()).map(|value| json!(value));
    put("id", Some(json!(customer.customer_account_id)));
    put("channel_partner_id", customer.channel_partner_id.map(|id| json!(id)));
    put("stage", customer.stage.map(|stage| json!(stage.as_str())));
    put(
        "in_renewal_window",
        customer.stage.map(|stage| json!(stage == crate::domain::lifecycle::LifecycleStage::RenewalWindow)),
    );
    put("milestone_attainment_90d", number(customer.milestone_attainment_90d));
    put("onboarding_checklist_on_time", number(customer.onboarding_checklist_on_time));
    put("go_live_variance_days", number(customer.go_live_variance_days));
    put("change_requests_30d", number(customer.change_requests_30d));
    put("change_requests_prior", number(customer.change_requests_prior));
    put("cr_trend_ratio", number(customer.cr_trend_ratio));
    put("customer_tasks_overdue", number(customer.customer_tasks_overdue));
    put("sla_attainment_90d", number(customer.sla_attainment_90d));
    put("open_urgent_high", number(customer.open_urgent_high));
    put("csat_90d", number(customer.csat_90d));
    put("escalations_90d", number(customer.escalations_90d));
    put("urgent_sla_breach_7d", Some(json!(customer.urgent_sla_breach_7d)));
    put("open_escalation_max_level", customer.open_escalation_max_level.map(|level| json!(level)));
    put("ar_over_60_share", number(customer.ar_over_60_share));
    put("dispute_share_of_arr", number(customer.dispute_share_of_arr));
    put("avg_days_beyond_terms_180d", number(customer.avg_days_beyond_terms_180d));
    put("max_days_past_due", customer.max_days_past_due.map(|days| json!(days)));
    put("open_dispute_amount", decimal(customer.open_dispute_amount));
    put("arr", decimal(customer.arr));
    put("subscription_non_renewing", Some(json!(customer.subscription_non_renewing)));
    put("gross_margin_t12m", number(customer.gross_margin_t12m));
    put("entitlement_usage_ratio_90d", number(customer.entitlement_usage_ratio_90d));
    put("entitlement_pace_ratio", number(customer.entitlement_pace_ratio));
    put("entitlement_forfeit_forecast_hours", number(customer.entitlement_forfeit_forecast_hours));
    put("portal_active_user_share_30d", number(customer.portal_active_user_share_30d));
    put("csm_pulse", customer.csm_pulse.map(|pulse| json!(pulse)));
    put("days_since_exec_touch", number(customer.days_since_exec_touch));
    put("churn_risk_flag", Some(json!(customer.churn_risk_flag)));
    put("health_score", customer.health_score.map(|score| json!(score)));
    put("health_band", customer.health_band.as_ref().map(|band| json!(band)));
    put("renewal_date", customer.renewal_date.map(|date| json!(date)));
    put("days_to_renewal", customer.days_to_renewal().map(|days| json!(days)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use atrium_kit::{TenantContext, events::Subject};
    use uuid::Uuid;

    use crate::domain::lifecycle::LifecycleStage;

    #[test]
    fn event_data_refs_and_customer_facts_meet_in_one_bundle() {
        let context = TenantContext::automation(Uuid::from_u128(9), "user:delivery");
        let subject = Subject { entity_type: "Engagement".to_owned(), id: Uuid::from_u128(2), version: 3 };
        let event = DomainEvent::new(&context, "delivery.engagement.go_live_forecast_changed", subject)
            .with_ref("customer_account_id", Uuid::from_u128(3))
            .with_data(json!({ "old": "2026-03-01", "new": "2026-03-13", "target": "2026-02-20",
                               "variance_days": 21, "money": { "amount": "1250.00", "currency": "EUR" } }));
        let customer = CustomerFacts {
            customer_account_id: Uuid::from_u128(3),
            stage: Some(LifecycleStage::RenewalWindow),
            csm_pulse: Some(2),
            ..Default::default()
        };
        let facts = fact_bundle(Some(&event), Some(&customer), &[CsActionType::Risk]);
        assert_eq!(facts["event.type"], "delivery.engagement.go_live_forecast_changed");
        assert_eq!(facts["event.customer_account_id"], json!(Uuid::from_u128(3)));
        assert_eq!(facts["event.variance_days"], 21);
        // 2026-03-01 → 2026-03-13: 12 days later.
        assert_eq!(facts["event.shift_days"], 12);
        assert_eq!(facts["event.money.amount"], 1250.0);
        assert_eq!(facts["event.money.currency"], "EUR");
        assert_eq!(facts["customer.stage"], "renewal_window");
        assert_eq!(facts["customer.in_renewal_window"], true);
        assert_eq!(facts["customer.csm_pulse"], 2);
        assert_eq!(facts["customer.open_cs_action_types"], json!(["risk"]));
        // No evidence, no fact.
        assert!(!facts.contains_key("customer.health_band"));
        assert!(!facts.contains_key("customer.sla_attainment_90d"));
    }

    #[test]
    fn only_plain_decimals_become_numbers() {
        for (text, decimal) in [
            ("1250.00", true),
            ("-3", true),
            ("0.5", true),
            ("1_30", false),
            ("90_plus", false),
            ("1.", false),
            ("", false),
        ] {
            assert_eq!(is_decimal(text), decimal, "{text}");
        }
    }
}
