//! Engagement financials (docs/domain.md#engagement-financials): an engagement's planned
//! and forecast margin from its contract line, approved change requests and approved
//! time, and the implementation margin variance (IMV) in percentage points with its
//! green, amber or red status. Plain arithmetic on exact decimals.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// IMV at or below this is amber (percentage points).
pub const AMBER_AT_PP: Decimal = Decimal::from_parts(5, 0, 0, true, 0);
/// IMV at or below this is red (percentage points).
pub const RED_AT_PP: Decimal = Decimal::from_parts(10, 0, 0, true, 0);

/// What finance keeps per engagement; every figure below is derived from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngagementLedger {
    pub engagement_id: Uuid,
    pub customer_account_id: Uuid,
    pub currency: String,
    /// The contract line's amount (0 when the engagement bills no line).
    pub contract_revenue: Decimal,
    /// Baseline budget hours and the planned blended cost rate, when delivery names them.
    pub budget_hours: Decimal,
    pub planned_cost_rate: Option<Decimal>,
    /// Σ impact of approved change requests.
    pub change_hours: Decimal,
    pub change_price: Decimal,
    /// Σ approved time: hours and `cost_amount`.
    pub actual_hours: Decimal,
    pub actual_cost: Decimal,
    pub closed: bool,
    pub version: i64,
}

/// Green, amber or red by IMV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarginStatus {
    Green,
    Amber,
    Red,
}

impl MarginStatus {
    pub fn of(imv_pp: Decimal) -> Self {
        if imv_pp <= RED_AT_PP {
            MarginStatus::Red
        } else if imv_pp <= AMBER_AT_PP {
            MarginStatus::Amber
        } else {
            MarginStatus::Green
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MarginStatus::Green => "green",
            MarginStatus::Amber => "amber",
            MarginStatus::Red => "red",
        }
    }
}

/// The figures of one engagement. Margins are fractions (0.35 = 35 %) with four places,
/// IMV is in percentage points with two; all `None` without a revenue plan or a planned
/// cost rate (nothing to compare against).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngagementFinancials {
    pub revenue_plan: Decimal,
    pub cost_plan: Option<Decimal>,
    pub actual_cost_to_date: Decimal,
    pub remaining_hours_estimate: Decimal,
    pub cost_eac: Option<Decimal>,
    pub revenue_eac: Decimal,
    pub planned_margin_pct: Option<Decimal>,
    pub forecast_margin_pct: Option<Decimal>,
    pub margin_variance_pp: Option<Decimal>,
    pub status: Option<MarginStatus>,
}

/// `value` rounded half away from zero and shown with exactly `places` decimals.
fn to_places(value: Decimal, places: u32) -> Decimal {
    let mut value = value.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
    value.rescale(places);
    value
}

fn fraction(value: Decimal) -> Decimal {
    to_places(value, 4)
}

/// The derived figures: revenue plan = contract revenue + approved change price; cost plan
/// = (budget + change hours) × planned rate; remaining hours = planned hours − actual
/// (never below 0; none once closed); cost EAC = actual cost + remaining hours × the actual
/// blended rate (actual cost ÷ actual hours, the planned rate before any time); revenue EAC
/// = the revenue plan (fixed fee and milestone billing); margins (revenue − cost) ÷ revenue;
/// IMV = (forecast − planned margin) × 100, from the unrounded margins.
pub fn figures(ledger: &EngagementLedger) -> EngagementFinancials {
    let revenue_plan = ledger.contract_revenue + ledger.change_price;
    let planned_hours = ledger.budget_hours + ledger.change_hours;
    let remaining_hours_estimate =
        if ledger.closed { Decimal::ZERO } else { (planned_hours - ledger.actual_hours).max(Decimal::ZERO) };
    let actual_rate = if ledger.actual_hours > Decimal::ZERO {
        Some(ledger.actual_cost / ledger.actual_hours)
    } else {
        ledger.planned_cost_rate
    };
    let cost_plan = ledger.planned_cost_rate.map(|rate| planned_hours * rate);
    let cost_eac = actual_rate.map(|rate| ledger.actual_cost + remaining_hours_estimate * rate);
    let revenue_eac = revenue_plan;
    let margin = |revenue: Decimal, cost: Decimal| (revenue > Decimal::ZERO).then(|| (revenue - cost) / revenue);
    let planned = cost_plan.and_then(|cost| margin(revenue_plan, cost));
    let forecast = cost_eac.and_then(|cost| margin(revenue_eac, cost));
    let variance =
        planned.zip(forecast).map(|(planned, forecast)| to_places((forecast - planned) * Decimal::ONE_HUNDRED, 2));
    let money = |value: Decimal| to_places(value, 2);
    EngagementFinancials {
        revenue_plan: money(revenue_plan),
        cost_plan: cost_plan.map(money),
        actual_cost_to_date: money(ledger.actual_cost),
        remaining_hours_estimate: money(remaining_hours_estimate),
        cost_eac: cost_eac.map(money),
        revenue_eac: money(revenue_eac),
        planned_margin_pct: planned.map(fraction),
        forecast_margin_pct: forecast.map(fraction),
        margin_variance_pp: variance,
        status: variance.map(MarginStatus::of),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn ledger() -> EngagementLedger {
        EngagementLedger {
            engagement_id: Uuid::nil(),
            customer_account_id: Uuid::nil(),
            currency: "USD".to_owned(),
            contract_revenue: d("100000"),
            budget_hours: d("400"),
            planned_cost_rate: Some(d("150")),
            change_hours: Decimal::ZERO,
            change_price: Decimal::ZERO,
            actual_hours: Decimal::ZERO,
            actual_cost: Decimal::ZERO,
            closed: false,
            version: 1,
        }
    }

    #[test]
    fn on_plan_the_variance_is_zero() {
        // Revenue 100,000; cost plan 400 h × 150 = 60,000; planned margin 40,000 / 100,000 = 0.4.
        // No time yet: EAC = 0 + 400 × 150 = 60,000, forecast 0.4, IMV 0 pp, green.
        let figures = figures(&ledger());
        assert_eq!(figures.cost_plan, Some(d("60000")));
        assert_eq!(figures.planned_margin_pct, Some(d("0.4")));
        assert_eq!(figures.forecast_margin_pct, Some(d("0.4")));
        assert_eq!(figures.margin_variance_pp, Some(d("0")));
        assert_eq!(figures.status, Some(MarginStatus::Green));
    }

    #[test]
    fn golden_imv_with_an_expensive_team_and_a_change_request() {
        // Change request: +40 h, +8,000.00. Revenue plan 100,000 + 8,000 = 108,000.
        // Cost plan (400 + 40) × 150 = 66,000; planned margin (108,000 − 66,000) / 108,000
        // = 42,000 / 108,000 = 0.38888… → 0.3889.
        // Approved time: 300 h costing 54,000.00 (180/h). Remaining 440 − 300 = 140 h.
        // Cost EAC 54,000 + 140 × 180 = 79,200; forecast (108,000 − 79,200) / 108,000
        // = 28,800 / 108,000 = 0.26666… → 0.2667.
        // IMV = (0.26666… − 0.38888…) × 100 = −12.2222… → −12.22 pp: red (≤ −10).
        let mut ledger = ledger();
        ledger.change_hours = d("40");
        ledger.change_price = d("8000");
        ledger.actual_hours = d("300");
        ledger.actual_cost = d("54000");
        let figures = figures(&ledger);
        assert_eq!(figures.revenue_plan, d("108000"));
        assert_eq!(figures.cost_plan, Some(d("66000")));
        assert_eq!(figures.remaining_hours_estimate, d("140"));
        assert_eq!(figures.cost_eac, Some(d("79200")));
        assert_eq!(figures.planned_margin_pct, Some(d("0.3889")));
        assert_eq!(figures.forecast_margin_pct, Some(d("0.2667")));
        assert_eq!(figures.margin_variance_pp, Some(d("-12.22")));
        assert_eq!(figures.status, Some(MarginStatus::Red));
    }

    #[test]
    fn amber_from_minus_five_and_closed_engagements_count_actuals_only() {
        // 200 h at 165/h = 33,000 spent, 200 h left of 400: EAC 33,000 + 200 × 165 = 66,000;
        // forecast (100,000 − 66,000) / 100,000 = 0.34; IMV (0.34 − 0.40) × 100 = −6 pp: amber.
        let mut ledger = ledger();
        ledger.actual_hours = d("200");
        ledger.actual_cost = d("33000");
        let open = figures(&ledger);
        assert_eq!(open.margin_variance_pp, Some(d("-6")));
        assert_eq!(open.status, Some(MarginStatus::Amber));
        // Closed at that point: EAC = the 33,000 spent; forecast 0.67; IMV +27 pp: green.
        ledger.closed = true;
        let closed = figures(&ledger);
        assert_eq!(closed.cost_eac, Some(d("33000")));
        assert_eq!(closed.margin_variance_pp, Some(d("27")));
        assert_eq!(closed.status, Some(MarginStatus::Green));
        assert_eq!(MarginStatus::of(d("-5")), MarginStatus::Amber);
        assert_eq!(MarginStatus::of(d("-4.99")), MarginStatus::Green);
        assert_eq!(MarginStatus::of(d("-10")), MarginStatus::Red);
    }

    #[test]
    fn without_a_planned_rate_or_revenue_there_is_nothing_to_compare() {
        let mut ledger = ledger();
        ledger.planned_cost_rate = None;
        assert_eq!(figures(&ledger).margin_variance_pp, None);
        let mut ledger = self::tests::ledger();
        ledger.contract_revenue = Decimal::ZERO;
        assert_eq!(figures(&ledger).status, None);
    }
}
