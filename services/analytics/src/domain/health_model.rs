//! The tenant-configurable health model as data (docs/domain.md#health-score): measures per
//! profile with their group, weight, thresholds and scoring; bands; trend settings; the
//! minimum data coverage; the overrides. Scoring a customer's [`CustomerFacts`] under a
//! model, the trend and sustained-decline rules, model validation and renewal readiness
//! (docs/domain.md#renewals) are pure functions here. The per-measure scoring formulas are
//! `super::health`'s.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    facts::CustomerFacts,
    health::{Bands, HealthBand, band_for, linear_score, manual_score},
    lifecycle::LifecycleStage,
};

/// Which weights apply: onboarding while the customer is being implemented, steady state
/// afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    Onboarding,
    SteadyState,
}

impl Profile {
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Onboarding => "onboarding",
            Profile::SteadyState => "steady_state",
        }
    }

    /// Onboarding, implementing and hypercare score on the onboarding profile; every other
    /// stage (and a customer without a known stage) on steady state.
    pub fn for_stage(stage: Option<LifecycleStage>) -> Self {
        match stage {
            Some(LifecycleStage::Onboarding | LifecycleStage::Implementing | LifecycleStage::Hypercare) => {
                Profile::Onboarding
            }
            _ => Profile::SteadyState,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    Delivery,
    Support,
    Financial,
    Adoption,
    Relationship,
}

impl Group {
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Delivery => "delivery",
            Group::Support => "support",
            Group::Financial => "financial",
            Group::Adoption => "adoption",
            Group::Relationship => "relationship",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoringKind {
    Linear,
    Manual,
}

/// One measure of one profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureSpec {
    pub profile: Profile,
    pub group: Group,
    /// A [`CustomerFacts::measure_value`] code.
    pub code: String,
    pub weight: f64,
    pub scoring: ScoringKind,
    /// Linear measures only.
    pub green_at: Option<f64>,
    pub red_at: Option<f64>,
    /// An inactive measure is kept in the model but neither scored nor weighted.
    pub active: bool,
}

/// The caps applied after the weighted score (docs/domain.md#health-score).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overrides {
    pub enabled: bool,
    /// The cap of the red conditions (non-renewing, urgent SLA breach, disputes, go-live
    /// slip, churn-risk flag).
    pub red_cap: i32,
    /// The cap of the yellow conditions (an invoice 90+ days past due, an escalation of
    /// level 2 or more).
    pub yellow_cap: i32,
    /// Open disputes above this share of ARR cap at red.
    pub dispute_share_of_arr_above: f64,
    /// A go-live variance above this many days caps at red.
    pub go_live_variance_days_above: f64,
}

/// Everything a tenant may configure in a model version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelDefinition {
    pub bands: Bands,
    pub trend_lookback_days: i32,
    pub trend_threshold: i32,
    /// Below this share of the profile's weight with data the customer has no score.
    pub min_data_coverage: f64,
    /// Days before the renewal date at which the renewal window opens.
    pub renewal_window_days: i32,
    pub overrides: Overrides,
    pub measures: Vec<MeasureSpec>,
}

fn measure(profile: Profile, group: Group, code: &str, weight: f64, thresholds: Option<(f64, f64)>) -> MeasureSpec {
    MeasureSpec {
        profile,
        group,
        code: code.to_owned(),
        weight,
        scoring: if thresholds.is_some() { ScoringKind::Linear } else { ScoringKind::Manual },
        green_at: thresholds.map(|(green, _)| green),
        red_at: thresholds.map(|(_, red)| red),
        active: true,
    }
}

impl ModelDefinition {
    /// `standard_v1`: both profiles, weights and thresholds as listed in
    /// docs/domain.md#health-score.
    pub fn standard_v1() -> Self {
        use Group::*;
        use Profile::*;
        let linear = |green, red| Some((green, red));
        let steady = [
            (Delivery, "milestone_attainment_90d", 8.0, linear(0.90, 0.60)),
            (Delivery, "go_live_variance_days", 6.0, linear(0.0, 30.0)),
            (Delivery, "cr_trend_ratio", 6.0, linear(1.0, 3.0)),
            (Support, "sla_attainment_90d", 10.0, linear(0.95, 0.80)),
            (Support, "open_urgent_high", 5.0, linear(0.0, 3.0)),
            (Support, "csat_90d", 5.0, linear(0.90, 0.70)),
            (Support, "escalations_90d", 5.0, linear(0.0, 3.0)),
            (Financial, "ar_over_60_share", 8.0, linear(0.0, 0.25)),
            (Financial, "dispute_share_of_arr", 6.0, linear(0.0, 0.10)),
            (Financial, "avg_days_beyond_terms_180d", 6.0, linear(5.0, 30.0)),
            (Adoption, "entitlement_usage_ratio_90d", 10.0, linear(0.80, 0.40)),
            (Adoption, "portal_active_user_share_30d", 5.0, linear(0.60, 0.20)),
            (Adoption, "customer_tasks_overdue", 5.0, linear(0.0, 5.0)),
            (Relationship, "csm_pulse", 8.0, None),
            (Relationship, "days_since_exec_touch", 7.0, linear(45.0, 120.0)),
        ];
        // Group totals 40/15/15/10/20; within a group the steady-state proportions where
        // they divide evenly (delivery 8:6:6 doubled), else equal shares.
        let onboarding = [
            (Delivery, "onboarding_checklist_on_time", 16.0, linear(0.90, 0.60)),
            (Delivery, "go_live_variance_days", 12.0, linear(0.0, 30.0)),
            (Delivery, "cr_trend_ratio", 12.0, linear(1.0, 3.0)),
            (Support, "sla_attainment_90d", 6.0, linear(0.95, 0.80)),
            (Support, "open_urgent_high", 3.0, linear(0.0, 3.0)),
            (Support, "csat_90d", 3.0, linear(0.90, 0.70)),
            (Support, "escalations_90d", 3.0, linear(0.0, 3.0)),
            (Financial, "ar_over_60_share", 5.0, linear(0.0, 0.25)),
            (Financial, "dispute_share_of_arr", 5.0, linear(0.0, 0.10)),
            (Financial, "avg_days_beyond_terms_180d", 5.0, linear(5.0, 30.0)),
            (Adoption, "customer_tasks_overdue", 10.0, linear(0.0, 5.0)),
            (Relationship, "csm_pulse", 10.0, None),
            (Relationship, "days_since_exec_touch", 10.0, linear(45.0, 120.0)),
        ];
        let measures = steady
            .into_iter()
            .map(|(group, code, weight, thresholds)| measure(SteadyState, group, code, weight, thresholds))
            .chain(
                onboarding
                    .into_iter()
                    .map(|(group, code, weight, thresholds)| measure(Onboarding, group, code, weight, thresholds)),
            )
            .collect();
        ModelDefinition {
            bands: Bands { red_max: 50, yellow_max: 75 },
            trend_lookback_days: 30,
            trend_threshold: 5,
            min_data_coverage: 0.5,
            renewal_window_days: 120,
            overrides: Overrides {
                enabled: true,
                red_cap: 50,
                yellow_cap: 75,
                dispute_share_of_arr_above: 0.20,
                go_live_variance_days_above: 45.0,
            },
            measures,
        }
    }

    pub fn profile_measures(&self, profile: Profile) -> impl Iterator<Item = &MeasureSpec> {
        self.measures.iter().filter(move |measure| measure.profile == profile && measure.active)
    }

    /// The model's problems, each with a stable code; empty when it can be activated.
    pub fn validate(&self) -> Vec<ModelProblem> {
        let mut problems = Vec::new();
        for measure in &self.measures {
            if !(measure.weight.is_finite() && measure.weight > 0.0) {
                problems
                    .push(ModelProblem::new("WEIGHT_NOT_POSITIVE", format!("{}: weight must be > 0", measure.code)));
            }
            if !KNOWN_CODES.contains(&measure.code.as_str()) {
                problems.push(ModelProblem::new("UNKNOWN_MEASURE", format!("{}: no such measure", measure.code)));
            }
            if measure.scoring == ScoringKind::Linear {
                match (measure.green_at, measure.red_at) {
                    (Some(green), Some(red)) if green.is_finite() && red.is_finite() && green != red => {}
                    (Some(_), Some(_)) => problems.push(ModelProblem::new(
                        "THRESHOLDS_NOT_DISTINCT",
                        format!("{}: green_at and red_at must differ", measure.code),
                    )),
                    _ => problems.push(ModelProblem::new(
                        "THRESHOLDS_MISSING",
                        format!("{}: a linear measure needs green_at and red_at", measure.code),
                    )),
                }
            }
        }
        let bands = self.bands;
        if !(0 <= bands.red_max && bands.red_max < bands.yellow_max && bands.yellow_max < 100) {
            problems.push(ModelProblem::new("BANDS_NOT_ORDERED", "bands must satisfy 0 ≤ red_max < yellow_max < 100"));
        }
        if !(self.min_data_coverage > 0.0 && self.min_data_coverage <= 1.0) {
            problems.push(ModelProblem::new("COVERAGE_OUT_OF_RANGE", "min_data_coverage must be in (0, 1]"));
        }
        if self.trend_lookback_days < 1 || self.trend_threshold < 1 || self.renewal_window_days < 1 {
            problems.push(ModelProblem::new("SETTING_NOT_POSITIVE", "trend and renewal settings must be ≥ 1"));
        }
        for profile in [Profile::Onboarding, Profile::SteadyState] {
            if self.profile_measures(profile).next().is_none() {
                problems.push(ModelProblem::new(
                    "PROFILE_EMPTY",
                    format!("profile {} has no active measure", profile.as_str()),
                ));
            }
        }
        problems
    }
}

/// Every code [`CustomerFacts::measure_value`] answers.
pub const KNOWN_CODES: &[&str] = &[
    "milestone_attainment_90d",
    "onboarding_checklist_on_time",
    "go_live_variance_days",
    "cr_trend_ratio",
    "sla_attainment_90d",
    "open_urgent_high",
    "csat_90d",
    "escalations_90d",
    "ar_over_60_share",
    "dispute_share_of_arr",
    "avg_days_beyond_terms_180d",
    "entitlement_usage_ratio_90d",
    "portal_active_user_share_30d",
    "customer_tasks_overdue",
    "csm_pulse",
    "days_since_exec_touch",
];

/// Why a model version cannot be saved or activated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelProblem {
    pub code: &'static str,
    pub message: String,
}

impl ModelProblem {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        ModelProblem { code, message: message.into() }
    }
}

/// One measure as scored for one customer.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredMeasure {
    pub code: String,
    pub group: Group,
    pub raw_value: Option<f64>,
    pub score: Option<i32>,
    /// The model's weight.
    pub weight: f64,
    /// The weight after redistribution (0 without data); these sum to the profile's weight
    /// when any measure has data.
    pub effective_weight: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthResult {
    pub profile: Profile,
    /// `None` when coverage is below the model's minimum: not enough data is no score.
    pub score: Option<i32>,
    pub band: HealthBand,
    /// Weight with data ÷ the profile's weight, 0–1.
    pub coverage: f64,
    /// The conditions that capped the score, `; `-separated; `None` when none did.
    pub override_reason: Option<String>,
    pub measures: Vec<ScoredMeasure>,
}

fn score_measure(spec: &MeasureSpec, value: f64) -> Option<i32> {
    match spec.scoring {
        ScoringKind::Manual => manual_score(value),
        ScoringKind::Linear => linear_score(value, spec.green_at?, spec.red_at?),
    }
}

/// Scores `facts` on the profile of their lifecycle stage.
pub fn score(model: &ModelDefinition, facts: &CustomerFacts) -> HealthResult {
    score_profile(model, Profile::for_stage(facts.stage), facts)
}

/// The weighted score with missing weight redistributed proportionally, first to the
/// measures with data in the same group, then across the groups with data; the score is
/// `round(Σ effective_w · s / Σ w)`, then capped by the overrides.
pub fn score_profile(model: &ModelDefinition, profile: Profile, facts: &CustomerFacts) -> HealthResult {
    let specs: Vec<&MeasureSpec> = model.profile_measures(profile).collect();
    let mut measures: Vec<ScoredMeasure> = specs
        .iter()
        .map(|spec| {
            let raw_value = facts.measure_value(&spec.code);
            ScoredMeasure {
                code: spec.code.clone(),
                group: spec.group,
                raw_value,
                score: raw_value.and_then(|value| score_measure(spec, value)),
                weight: spec.weight,
                effective_weight: 0.0,
            }
        })
        .collect();
    let total_weight: f64 = measures.iter().map(|measure| measure.weight).sum();
    let group_weight = |group: Group, covered_only: bool| -> f64 {
        measures
            .iter()
            .filter(|measure| measure.group == group && (!covered_only || measure.score.is_some()))
            .map(|measure| measure.weight)
            .sum()
    };
    let groups = [Group::Delivery, Group::Support, Group::Financial, Group::Adoption, Group::Relationship];
    let covered_weight: f64 = groups.iter().map(|&group| group_weight(group, true)).sum();
    let covered_group_weight: f64 =
        groups.iter().filter(|&&group| group_weight(group, true) > 0.0).map(|&group| group_weight(group, false)).sum();
    let factors: Vec<(Group, f64)> = groups
        .iter()
        .filter_map(|&group| {
            let covered = group_weight(group, true);
            (covered > 0.0).then(|| (group, group_weight(group, false) / covered * total_weight / covered_group_weight))
        })
        .collect();
    for measure in &mut measures {
        if measure.score.is_some() {
            let factor = factors.iter().find(|(group, _)| *group == measure.group).map_or(0.0, |(_, f)| *f);
            measure.effective_weight = measure.weight * factor;
        }
    }
    let coverage = if total_weight > 0.0 { covered_weight / total_weight } else { 0.0 };
    let weighted: f64 = measures
        .iter()
        .filter_map(|measure| measure.score.map(|score| f64::from(score) * measure.effective_weight))
        .sum();
    let weighted_score =
        (covered_weight > 0.0 && coverage >= model.min_data_coverage).then(|| (weighted / total_weight).round() as i32);
    let (score, override_reason) = match weighted_score {
        Some(score) => {
            let (cap, reasons) = override_cap(&model.overrides, facts);
            (Some(cap.map_or(score, |cap| score.min(cap))), (!reasons.is_empty()).then(|| reasons.join("; ")))
        }
        None => (None, None),
    };
    let band = score.map_or(HealthBand::Unknown, |score| band_for(score, model.bands));
    HealthResult { profile, score, band, coverage, override_reason, measures }
}

/// The lowest cap whose condition holds and every condition that holds, in the order of
/// docs/domain.md#health-score.
pub fn override_cap(overrides: &Overrides, facts: &CustomerFacts) -> (Option<i32>, Vec<&'static str>) {
    if !overrides.enabled {
        return (None, Vec::new());
    }
    let red = [
        (facts.subscription_non_renewing, "subscription_non_renewing"),
        (facts.urgent_sla_breach_7d, "urgent_sla_breach_7d"),
        (
            facts.dispute_share_of_arr.is_some_and(|share| share > overrides.dispute_share_of_arr_above),
            "open_disputes_over_arr_share",
        ),
        (
            facts.go_live_variance_days.is_some_and(|days| days > overrides.go_live_variance_days_above),
            "go_live_variance_over_limit",
        ),
        (facts.churn_risk_flag, "csm_churn_risk_flag"),
    ];
    // "90+ days past due" is finance's `90_plus` aging bucket: 91 days and more.
    let yellow = [
        (facts.max_days_past_due.is_some_and(|days| days > 90), "invoice_90_plus_days_past_due"),
        (facts.open_escalation_max_level.is_some_and(|level| level >= 2), "escalation_level_2_open"),
    ];
    let red_reasons: Vec<&'static str> = red.iter().filter(|(holds, _)| *holds).map(|(_, reason)| *reason).collect();
    let yellow_reasons: Vec<&'static str> =
        yellow.iter().filter(|(holds, _)| *holds).map(|(_, reason)| *reason).collect();
    let cap = if !red_reasons.is_empty() {
        Some(overrides.red_cap)
    } else if !yellow_reasons.is_empty() {
        Some(overrides.yellow_cap)
    } else {
        None
    };
    (cap, red_reasons.into_iter().chain(yellow_reasons).collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    Up,
    Flat,
    Down,
}

impl Trend {
    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Up => "up",
            Trend::Flat => "flat",
            Trend::Down => "down",
        }
    }
}

/// `up` when the score rose by at least `threshold` since the earlier snapshot, `down`
/// when it fell by at least as much, else `flat` (also when either score is missing).
pub fn trend(current: Option<i32>, earlier: Option<i32>, threshold: i32) -> Trend {
    match (current, earlier) {
        (Some(current), Some(earlier)) if current - earlier >= threshold => Trend::Up,
        (Some(current), Some(earlier)) if current - earlier <= -threshold => Trend::Down,
        _ => Trend::Flat,
    }
}

/// Three consecutive weekly drops: `weekly` holds the scores of the last four weeks'
/// snapshots, newest first (today, 7, 14 and 21 days earlier); each must be strictly
/// below the one a week before it.
pub fn sustained_decline(weekly: &[Option<i32>]) -> bool {
    weekly.len() >= 4
        && weekly[..4].windows(2).all(|pair| matches!((pair[0], pair[1]), (Some(newer), Some(older)) if newer < older))
}

/// The days whose snapshots [`sustained_decline`] compares.
pub fn weekly_points(today: NaiveDate) -> [NaiveDate; 4] {
    [0, 7, 14, 21].map(|days| today - chrono::Duration::days(days))
}

impl Trend {
    pub fn parse(text: &str) -> Self {
        match text {
            "up" => Trend::Up,
            "down" => Trend::Down,
            _ => Trend::Flat,
        }
    }
}

pub fn band_as_str(band: HealthBand) -> &'static str {
    match band {
        HealthBand::Red => "red",
        HealthBand::Yellow => "yellow",
        HealthBand::Green => "green",
        HealthBand::Unknown => "unknown",
    }
}

pub fn parse_band(text: &str) -> HealthBand {
    match text {
        "red" => HealthBand::Red,
        "yellow" => HealthBand::Yellow,
        "green" => HealthBand::Green,
        _ => HealthBand::Unknown,
    }
}

/// A customer's health as computed and stored on a day.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthSnapshot {
    pub id: Uuid,
    pub customer_account_id: Uuid,
    pub channel_partner_id: Option<Uuid>,
    /// `<name>@<version>` of the model that computed it; kept when the model changes.
    pub model_version: String,
    pub profile: String,
    pub as_of: NaiveDate,
    pub score: Option<i32>,
    pub band: HealthBand,
    pub trend: Trend,
    /// The score of the customer's snapshot before this one.
    pub previous_score: Option<i32>,
    pub override_reason: Option<String>,
    pub coverage: f64,
    pub computed_at: DateTime<Utc>,
}

/// Event-driven recomputes within this long of the customer's last snapshot are skipped
/// unless the band changes.
pub const RECOMPUTE_DEBOUNCE: TimeDelta = TimeDelta::minutes(15);

/// Whether an event-driven recompute stores a snapshot: always without a previous one or
/// once [`RECOMPUTE_DEBOUNCE`] has passed; sooner only when the band moved (a band change
/// is what people and rules react to, so it is never held back).
pub fn recompute_is_due(last: Option<&HealthSnapshot>, now: DateTime<Utc>, new_band: HealthBand) -> bool {
    match last {
        None => true,
        Some(last) => now - last.computed_at >= RECOMPUTE_DEBOUNCE || last.band != new_band,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    NeedsAttention,
    AtRisk,
}

impl Readiness {
    pub fn as_str(self) -> &'static str {
        match self {
            Readiness::Ready => "ready",
            Readiness::NeedsAttention => "needs_attention",
            Readiness::AtRisk => "at_risk",
        }
    }

    pub fn for_score(score: i32) -> Self {
        if score >= 75 {
            Readiness::Ready
        } else if score > 50 {
            Readiness::NeedsAttention
        } else {
            Readiness::AtRisk
        }
    }
}

/// `0.50·health + 0.20·s(entitlement usage) + 0.15·s(days since exec touch) +
/// 0.15·commercial`, commercial = 100 − 50·[open dispute] − 50·[gross margin T12M < 25 %].
/// A component without data gives its weight to the others proportionally; without a
/// health score there is no readiness.
pub fn readiness(health_score: Option<i32>, facts: &CustomerFacts) -> Option<(i32, Readiness)> {
    let health = f64::from(health_score?);
    let usage = facts.entitlement_usage_ratio_90d.and_then(|ratio| linear_score(ratio, 0.80, 0.40));
    let exec_touch = facts.days_since_exec_touch.and_then(|days| linear_score(days, 45.0, 120.0));
    let dispute = facts.open_dispute_amount.map(|amount| amount > rust_decimal::Decimal::ZERO);
    let low_margin = facts.gross_margin_t12m.map(|margin| margin < 0.25);
    let commercial = (dispute.is_some() || low_margin.is_some()).then(|| {
        100.0 - 50.0 * f64::from(u8::from(dispute == Some(true))) - 50.0 * f64::from(u8::from(low_margin == Some(true)))
    });
    // Weights in percent, so the sums are exact.
    let components =
        [(50.0, Some(health)), (20.0, usage.map(f64::from)), (15.0, exec_touch.map(f64::from)), (15.0, commercial)];
    let (sum, weight) = components
        .iter()
        .filter_map(|(weight, value)| value.map(|value| (weight * value, *weight)))
        .fold((0.0, 0.0), |(sum, total), (part, weight)| (sum + part, total + weight));
    let score = (sum / weight).round() as i32;
    Some((score, Readiness::for_score(score)))
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;

    /// Makes one override condition hold.
    type Condition = fn(&mut CustomerFacts);

    fn steady_facts() -> CustomerFacts {
        CustomerFacts {
            // Delivery: MAR 0.75 → 50, variance 15 → 50, CR ratio 2.0 → 50.
            milestone_attainment_90d: Some(0.75),
            go_live_variance_days: Some(15.0),
            cr_trend_ratio: Some(2.0),
            // Support: SLA 0.95 → 100, open 0 → 100, CSAT 0.80 → 50, escalations 3 → 0.
            sla_attainment_90d: Some(0.95),
            open_urgent_high: Some(0.0),
            csat_90d: Some(0.80),
            escalations_90d: Some(3.0),
            // Financial: AR over 60 0.0 → 100; dispute share and days beyond terms missing.
            ar_over_60_share: Some(0.0),
            // Adoption: missing entirely.
            // Relationship: pulse 4 → 75, exec touch 45 days → 100.
            csm_pulse: Some(4),
            days_since_exec_touch: Some(45.0),
            ..Default::default()
        }
    }

    #[test]
    fn steady_state_score_redistributes_within_the_group_then_across_groups() {
        let model = ModelDefinition::standard_v1();
        let result = score_profile(&model, Profile::SteadyState, &steady_facts());
        // Covered weight: delivery 20 + support 25 + financial 8 (of 20) + relationship 15
        // = 68 of 100 → coverage 0.68.
        assert!((result.coverage - 0.68).abs() < 1e-9);
        // Group means: delivery (8·50 + 6·50 + 6·50)/20 = 50; support (10·100 + 5·100 +
        // 5·50 + 5·0)/25 = 70; financial 100 (AR alone carries the group's 20);
        // relationship (8·75 + 7·100)/15 = 86.67. Adoption (20) has no data: its weight
        // goes to the four groups in proportion 20:25:20:15 (of 80).
        // Score = (20·50 + 25·70 + 20·100 + 15·86.67) / 80 = (1000 + 1750 + 2000 + 1300)/80
        // = 6050/80 = 75.625 → 76 → green (76 is above yellow's 75).
        assert_eq!(result.score, Some(76));
        assert_eq!(result.band, HealthBand::Green);
        let ar = result.measures.iter().find(|m| m.code == "ar_over_60_share").unwrap();
        // 8 · (20/8) · (100/80) = 25.
        assert!((ar.effective_weight - 25.0).abs() < 1e-9);
        let total: f64 = result.measures.iter().map(|m| m.effective_weight).sum();
        assert!((total - 100.0).abs() < 1e-9);
        assert_eq!(result.override_reason, None);
    }

    #[test]
    fn a_plain_weighted_mean_would_differ_from_the_group_redistribution() {
        // The same facts averaged flat over the 68 covered weight: (8·50 + 6·50 + 6·50 +
        // 10·100 + 5·100 + 5·50 + 5·0 + 8·100 + 8·75 + 7·100)/68 = 4850/68 = 71.3 → 71,
        // which is yellow: the redistribution rule matters.
        let result = score_profile(&ModelDefinition::standard_v1(), Profile::SteadyState, &steady_facts());
        assert_ne!(result.score, Some(71));
    }

    #[test]
    fn onboarding_score_uses_the_onboarding_weights_and_checklist_measure() {
        let model = ModelDefinition::standard_v1();
        let facts = CustomerFacts {
            stage: Some(LifecycleStage::Implementing),
            // Delivery 40: checklist 0.90 → 100 (16), variance 30 → 0 (12), CR missing.
            onboarding_checklist_on_time: Some(0.90),
            go_live_variance_days: Some(30.0),
            // Milestone attainment is a steady-state measure: ignored here.
            milestone_attainment_90d: Some(0.0),
            // Support 15: open urgent/high 0 → 100 (3) only.
            open_urgent_high: Some(0.0),
            // Adoption 10: 5 overdue customer tasks → 0.
            customer_tasks_overdue: Some(5.0),
            // Relationship 20: pulse 3 → 50 (10), exec touch 120 days → 0 (10).
            csm_pulse: Some(3),
            days_since_exec_touch: Some(120.0),
            ..Default::default()
        };
        let result = score(&model, &facts);
        assert_eq!(result.profile, Profile::Onboarding);
        // Covered: 16 + 12 + 3 + 10 + 20 = 61 of 100 → 0.61 ≥ 0.5.
        assert!((result.coverage - 0.61).abs() < 1e-9);
        // Group means: delivery (16·100 + 12·0)/28 = 57.14; support 100; adoption 0;
        // relationship (10·50 + 10·0)/20 = 25. Financial (15) missing: the covered
        // groups weigh 40 + 15 + 10 + 20 = 85.
        // Score = (40·57.14 + 15·100 + 10·0 + 20·25)/85 = (2285.7 + 1500 + 0 + 500)/85
        // = 4285.7/85 = 50.42 → 50 → red.
        assert_eq!(result.score, Some(50));
        assert_eq!(result.band, HealthBand::Red);
    }

    #[test]
    fn too_little_data_is_no_score_and_an_unknown_band_not_a_perfect_score() {
        let model = ModelDefinition::standard_v1();
        // Only the relationship measures and AR: 15 + 8 = 23 of 100 < 0.5, though every
        // one of them scores 100.
        let facts = CustomerFacts {
            csm_pulse: Some(5),
            days_since_exec_touch: Some(10.0),
            ar_over_60_share: Some(0.0),
            ..Default::default()
        };
        let result = score(&model, &facts);
        assert!((result.coverage - 0.23).abs() < 1e-9);
        assert_eq!(result.score, None);
        assert_eq!(result.band, HealthBand::Unknown);
        let nothing = score(&model, &CustomerFacts::default());
        assert_eq!((nothing.score, nothing.band, nothing.coverage), (None, HealthBand::Unknown, 0.0));
    }

    #[test]
    fn each_red_condition_caps_the_score_at_50_with_its_reason() {
        let model = ModelDefinition::standard_v1();
        // Unmodified, these facts score 76 (see the steady-state golden test).
        let cases: [(Condition, &str); 5] = [
            (|f| f.subscription_non_renewing = true, "subscription_non_renewing"),
            (|f| f.urgent_sla_breach_7d = true, "urgent_sla_breach_7d"),
            // Dispute share 0.25 > 0.20; it also scores the dispute measure 0, so the
            // weighted score changes too, but the cap is what lands at 50.
            (|f| f.dispute_share_of_arr = Some(0.25), "open_disputes_over_arr_share"),
            // 46 days > 45.
            (|f| f.go_live_variance_days = Some(46.0), "go_live_variance_over_limit"),
            (|f| f.churn_risk_flag = true, "csm_churn_risk_flag"),
        ];
        for (apply, reason) in cases {
            let mut facts = steady_facts();
            apply(&mut facts);
            let result = score(&model, &facts);
            assert_eq!(result.score, Some(50), "{reason}");
            assert_eq!(result.band, HealthBand::Red, "{reason}");
            assert_eq!(result.override_reason.as_deref(), Some(reason));
        }
    }

    #[test]
    fn each_yellow_condition_caps_the_score_at_75() {
        let model = ModelDefinition::standard_v1();
        let cases: [(Condition, &str); 2] = [
            (|f| f.max_days_past_due = Some(91), "invoice_90_plus_days_past_due"),
            (|f| f.open_escalation_max_level = Some(2), "escalation_level_2_open"),
        ];
        for (apply, reason) in cases {
            let mut facts = steady_facts();
            apply(&mut facts);
            let result = score(&model, &facts);
            assert_eq!(result.score, Some(75), "{reason}: 76 capped");
            assert_eq!(result.band, HealthBand::Yellow);
            assert_eq!(result.override_reason.as_deref(), Some(reason));
        }
        // 90 days is still the 61–90 bucket; level 1 is not capped.
        let mut facts = steady_facts();
        facts.max_days_past_due = Some(90);
        facts.open_escalation_max_level = Some(1);
        assert_eq!(score(&model, &facts).score, Some(76));
    }

    #[test]
    fn red_and_yellow_conditions_together_cap_at_red_and_name_both() {
        let mut facts = steady_facts();
        facts.churn_risk_flag = true;
        facts.open_escalation_max_level = Some(3);
        let result = score(&ModelDefinition::standard_v1(), &facts);
        assert_eq!(result.score, Some(50));
        assert_eq!(result.override_reason.as_deref(), Some("csm_churn_risk_flag; escalation_level_2_open"));
    }

    #[test]
    fn a_cap_never_raises_a_score() {
        let mut facts = steady_facts();
        facts.csm_pulse = Some(1);
        facts.days_since_exec_touch = Some(120.0);
        facts.max_days_past_due = Some(120);
        // Relationship now 0: (1000 + 1750 + 2000 + 0)/80 = 59.375 → 59, below the 75 cap.
        let result = score(&ModelDefinition::standard_v1(), &facts);
        assert_eq!(result.score, Some(59));
        assert_eq!(result.override_reason.as_deref(), Some("invoice_90_plus_days_past_due"));
    }

    #[test]
    fn trend_compares_with_the_earlier_snapshot_by_the_threshold() {
        assert_eq!(trend(Some(70), Some(65), 5), Trend::Up);
        assert_eq!(trend(Some(70), Some(66), 5), Trend::Flat);
        assert_eq!(trend(Some(60), Some(65), 5), Trend::Down);
        assert_eq!(trend(Some(61), Some(65), 5), Trend::Flat);
        assert_eq!(trend(None, Some(65), 5), Trend::Flat);
        assert_eq!(trend(Some(65), None, 5), Trend::Flat);
    }

    #[test]
    fn sustained_decline_needs_three_consecutive_weekly_drops() {
        // 80 → 76 → 71 → 64 (oldest first): three drops.
        assert!(sustained_decline(&[Some(64), Some(71), Some(76), Some(80)]));
        // One week flat breaks the run.
        assert!(!sustained_decline(&[Some(64), Some(71), Some(71), Some(80)]));
        // A missing week breaks it too; two drops are not enough.
        assert!(!sustained_decline(&[Some(64), None, Some(76), Some(80)]));
        assert!(!sustained_decline(&[Some(64), Some(71), Some(76)]));
        let today = NaiveDate::from_ymd_opt(2026, 6, 22).unwrap();
        assert_eq!(weekly_points(today)[3], NaiveDate::from_ymd_opt(2026, 6, 1).unwrap());
    }

    #[test]
    fn readiness_weights_health_usage_exec_touch_and_commercial() {
        let facts = CustomerFacts {
            // s(0.60; 0.80/0.40) = 50.
            entitlement_usage_ratio_90d: Some(0.60),
            // s(60; 45/120) = 100·(60 − 120)/(45 − 120) = 80.
            days_since_exec_touch: Some(60.0),
            // An open dispute: commercial = 100 − 50 = 50 (margin 0.30 is fine).
            open_dispute_amount: Some(Decimal::new(120000, 2)),
            gross_margin_t12m: Some(0.30),
            ..Default::default()
        };
        // 0.50·80 + 0.20·50 + 0.15·80 + 0.15·50 = 40 + 10 + 12 + 7.5 = 69.5 → 70.
        assert_eq!(readiness(Some(80), &facts), Some((70, Readiness::NeedsAttention)));
        // No dispute, margin 0.20 < 0.25: commercial 50 again; health 100:
        // 50 + 10 + 12 + 7.5 = 79.5 → 80 → ready.
        let facts = CustomerFacts { open_dispute_amount: Some(Decimal::ZERO), gross_margin_t12m: Some(0.20), ..facts };
        assert_eq!(readiness(Some(100), &facts), Some((80, Readiness::Ready)));
        assert_eq!(readiness(None, &facts), None);
    }

    #[test]
    fn readiness_without_some_components_reweighs_the_rest() {
        // Only health 40 and exec touch 120 days → 0: (0.50·40 + 0.15·0)/0.65 = 30.8 → 31.
        let facts = CustomerFacts { days_since_exec_touch: Some(120.0), ..Default::default() };
        assert_eq!(readiness(Some(40), &facts), Some((31, Readiness::AtRisk)));
        assert_eq!(Readiness::for_score(75), Readiness::Ready);
        assert_eq!(Readiness::for_score(74), Readiness::NeedsAttention);
        assert_eq!(Readiness::for_score(51), Readiness::NeedsAttention);
        assert_eq!(Readiness::for_score(50), Readiness::AtRisk);
    }

    #[test]
    fn standard_v1_weights_sum_to_100_per_profile_and_it_validates() {
        let model = ModelDefinition::standard_v1();
        for profile in [Profile::Onboarding, Profile::SteadyState] {
            let total: f64 = model.profile_measures(profile).map(|m| m.weight).sum();
            assert_eq!(total, 100.0, "{profile:?}");
        }
        assert_eq!(model.validate(), vec![]);
    }

    #[test]
    fn validation_names_each_problem_with_a_code() {
        let mut model = ModelDefinition::standard_v1();
        model.measures[0].weight = 0.0;
        model.measures[1].green_at = Some(30.0);
        model.bands = Bands { red_max: 80, yellow_max: 75 };
        model.measures[2].code = "vibes".to_owned();
        let codes: Vec<&str> = model.validate().iter().map(|problem| problem.code).collect();
        assert_eq!(
            codes,
            vec!["WEIGHT_NOT_POSITIVE", "THRESHOLDS_NOT_DISTINCT", "UNKNOWN_MEASURE", "BANDS_NOT_ORDERED"]
        );
    }

    fn snapshot(band: HealthBand, computed_at: DateTime<Utc>) -> HealthSnapshot {
        HealthSnapshot {
            id: Uuid::nil(),
            customer_account_id: Uuid::nil(),
            channel_partner_id: None,
            model_version: "standard_v1@1".to_owned(),
            profile: "steady_state".to_owned(),
            as_of: computed_at.date_naive(),
            score: Some(60),
            band,
            trend: Trend::Flat,
            previous_score: None,
            override_reason: None,
            coverage: 1.0,
            computed_at,
        }
    }

    #[test]
    fn event_driven_recomputes_are_debounced_for_15_minutes_unless_the_band_moves() {
        let last_at = DateTime::parse_from_rfc3339("2026-06-01T10:00:00Z").unwrap().with_timezone(&Utc);
        let last = snapshot(HealthBand::Yellow, last_at);
        let at = |minutes| last_at + TimeDelta::minutes(minutes);
        assert!(recompute_is_due(None, at(0), HealthBand::Yellow));
        assert!(!recompute_is_due(Some(&last), at(14), HealthBand::Yellow));
        assert!(recompute_is_due(Some(&last), at(14), HealthBand::Red));
        assert!(recompute_is_due(Some(&last), at(15), HealthBand::Yellow));
    }

    #[test]
    fn the_definition_round_trips_through_json() {
        let model = ModelDefinition::standard_v1();
        let text = serde_json::to_string(&model).unwrap();
        assert_eq!(serde_json::from_str::<ModelDefinition>(&text).unwrap(), model);
    }
}
