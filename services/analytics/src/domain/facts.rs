//! What analytics knows about one customer on one day (docs/domain.md#customer-facts): the
//! raw values the health measures score, the facts automation conditions test and the
//! inputs of renewal readiness, in one plain value. Every fact without evidence is `None`
//! (or `false` for flags), never a guess; the loader lives in
//! `repository::facts`.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::lifecycle::LifecycleStage;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerFacts {
    pub customer_account_id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    /// The day the facts describe (the tenant's business date).
    pub as_of: Option<NaiveDate>,
    pub stage: Option<LifecycleStage>,

    // Delivery.
    /// Milestone attainment rate of the customer's engagements over the trailing 90 days.
    pub milestone_attainment_90d: Option<f64>,
    /// Share of onboarding checklist tasks done by their due date (the onboarding profile's
    /// stand-in for milestone attainment).
    pub onboarding_checklist_on_time: Option<f64>,
    /// The largest go-live variance in days among open engagements (positive = late).
    pub go_live_variance_days: Option<f64>,
    /// Change requests submitted in the last 30 days.
    pub change_requests_30d: Option<f64>,
    /// Change requests submitted in days 31–120, divided by 3.
    pub change_requests_prior: Option<f64>,
    /// `change_requests_30d / max(change_requests_prior, 0.5)`.
    pub cr_trend_ratio: Option<f64>,
    /// Overdue customer-facing tasks.
    pub customer_tasks_overdue: Option<f64>,

    // Support.
    pub sla_attainment_90d: Option<f64>,
    pub open_urgent_high: Option<f64>,
    /// Positive share of CSAT answers in the last 90 days.
    pub csat_90d: Option<f64>,
    pub escalations_90d: Option<f64>,
    /// An urgent ticket breached an SLA in the last 7 days.
    pub urgent_sla_breach_7d: bool,
    /// The highest level among open escalations.
    pub open_escalation_max_level: Option<i32>,

    // Financial (amounts in the tenant's reporting currency).
    pub ar_over_60_share: Option<f64>,
    pub dispute_share_of_arr: Option<f64>,
    pub avg_days_beyond_terms_180d: Option<f64>,
    /// Days past due of the customer's oldest open invoice.
    pub max_days_past_due: Option<i64>,
    pub open_dispute_amount: Option<Decimal>,
    pub arr: Option<Decimal>,
    /// A subscription of the customer is `non_renewing`.
    pub subscription_non_renewing: bool,
    /// Gross margin over the trailing 12 months: (recognized revenue − delivery cost) ÷ revenue.
    pub gross_margin_t12m: Option<f64>,

    // Adoption.
    pub entitlement_usage_ratio_90d: Option<f64>,
    /// Consumption pace in the current entitlement period (1.0 = on pace).
    pub entitlement_pace_ratio: Option<f64>,
    /// Hours expected to be forfeited at the end of the current period.
    pub entitlement_forfeit_forecast_hours: Option<f64>,
    pub portal_active_user_share_30d: Option<f64>,

    // Relationship.
    /// The CSM's 1–5 pulse.
    pub csm_pulse: Option<i32>,
    pub days_since_exec_touch: Option<f64>,
    /// A CSM flagged the customer as a churn risk.
    pub churn_risk_flag: bool,

    // Health and renewal, as last computed.
    pub health_score: Option<i32>,
    /// `red`, `yellow`, `green` or `unknown`.
    pub health_band: Option<String>,
    pub renewal_date: Option<NaiveDate>,
}

impl CustomerFacts {
    /// The raw value of a health measure, by its code (docs/domain.md#health-score);
    /// `None` for an unknown code or a measure without data.
    pub fn measure_value(&self, code: &str) -> Option<f64> {
        match code {
            "milestone_attainment_90d" => self.milestone_attainment_90d,
            "onboarding_checklist_on_time" => self.onboarding_checklist_on_time,
            "go_live_variance_days" => self.go_live_variance_days,
            "cr_trend_ratio" => self.cr_trend_ratio,
            "sla_attainment_90d" => self.sla_attainment_90d,
            "open_urgent_high" => self.open_urgent_high,
            "csat_90d" => self.csat_90d,
            "escalations_90d" => self.escalations_90d,
            "ar_over_60_share" => self.ar_over_60_share,
            "dispute_share_of_arr" => self.dispute_share_of_arr,
            "avg_days_beyond_terms_180d" => self.avg_days_beyond_terms_180d,
            "entitlement_usage_ratio_90d" => self.entitlement_usage_ratio_90d,
            "portal_active_user_share_30d" => self.portal_active_user_share_30d,
            "customer_tasks_overdue" => self.customer_tasks_overdue,
            "csm_pulse" => self.csm_pulse.map(f64::from),
            "days_since_exec_touch" => self.days_since_exec_touch,
            _ => None,
        }
    }

    /// Days from `as_of` to the renewal date (negative once it has passed).
    pub fn days_to_renewal(&self) -> Option<i64> {
        Some((self.renewal_date? - self.as_of?).num_days())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measure_values_follow_their_codes_and_missing_data_stays_missing() {
        let facts = CustomerFacts { csm_pulse: Some(4), ar_over_60_share: Some(0.2), ..CustomerFacts::default() };
        assert_eq!(facts.measure_value("csm_pulse"), Some(4.0));
        assert_eq!(facts.measure_value("ar_over_60_share"), Some(0.2));
        assert_eq!(facts.measure_value("sla_attainment_90d"), None);
        assert_eq!(facts.measure_value("no_such_measure"), None);
    }

    #[test]
    fn days_to_renewal_needs_both_dates() {
        let as_of = NaiveDate::from_ymd_opt(2026, 1, 1);
        let facts = CustomerFacts { as_of, renewal_date: NaiveDate::from_ymd_opt(2026, 3, 2), ..Default::default() };
        assert_eq!(facts.days_to_renewal(), Some(60));
        assert_eq!(CustomerFacts { as_of, ..Default::default() }.days_to_renewal(), None);
    }
}
