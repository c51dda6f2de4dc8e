//! Customer health scoring (docs/domain.md#health-score), the slice computed at read time: inputs owned
//! by support and finance arrive through Federation `@requires`, the rest are analytics'
//! own signals. Pure functions; a measure without data is left out, never guessed.

use atrium_kit::stored_enum;
use chrono::NaiveDate;

stored_enum!(ModelStatus { Draft => "draft", Active => "active", Retired => "retired" });
stored_enum!(MeasureGroup {
    Delivery => "delivery",
    Support => "support",
    Financial => "financial",
    Adoption => "adoption",
    Relationship => "relationship",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HealthBand {
    Red,
    Yellow,
    Green,
    Unknown,
}

/// How a raw value becomes a 0–100 score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scoring {
    /// Linear between the thresholds; the direction follows from which one is larger.
    Linear { green_at: f64, red_at: f64 },
    /// Entered 1–5 by a person: 1→0, 2→25, 3→50, 4→75, 5→100.
    Manual,
}

/// The measures of this slice, by code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MeasureCode {
    OpenUrgentHigh,
    ArOver60Share,
    CsmPulse,
    DaysSinceExecTouch,
}

impl MeasureCode {
    pub fn as_str(self) -> &'static str {
        match self {
            MeasureCode::OpenUrgentHigh => "open_urgent_high",
            MeasureCode::ArOver60Share => "ar_over_60_share",
            MeasureCode::CsmPulse => "csm_pulse",
            MeasureCode::DaysSinceExecTouch => "days_since_exec_touch",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeasureDefinition {
    pub code: MeasureCode,
    pub group: MeasureGroup,
    pub scoring: Scoring,
    pub weight: f64,
}

/// Score bands with inclusive upper bounds: red 0–`red_max`, yellow up to `yellow_max`,
/// green above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Bands {
    pub red_max: i32,
    pub yellow_max: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthModelDefinition {
    pub measures: Vec<MeasureDefinition>,
    pub bands: Bands,
    /// Below this share of the model's weight with data, the band is `Unknown`.
    pub min_data_coverage: f64,
}

impl HealthModelDefinition {
    /// `standard_v1`, steady-state profile, restricted to the measures this slice has
    /// inputs for (measures, weights and thresholds listed in docs/domain.md#health-score).
    pub fn standard_v1() -> Self {
        use MeasureCode::*;
        let linear = |green_at, red_at| Scoring::Linear { green_at, red_at };
        HealthModelDefinition {
            measures: vec![
                MeasureDefinition {
                    code: OpenUrgentHigh,
                    group: MeasureGroup::Support,
                    scoring: linear(0.0, 3.0),
                    weight: 5.0,
                },
                MeasureDefinition {
                    code: ArOver60Share,
                    group: MeasureGroup::Financial,
                    scoring: linear(0.0, 0.25),
                    weight: 8.0,
                },
                MeasureDefinition {
                    code: CsmPulse,
                    group: MeasureGroup::Relationship,
                    scoring: Scoring::Manual,
                    weight: 8.0,
                },
                MeasureDefinition {
                    code: DaysSinceExecTouch,
                    group: MeasureGroup::Relationship,
                    scoring: linear(45.0, 120.0),
                    weight: 7.0,
                },
            ],
            bands: Bands { red_max: 50, yellow_max: 75 },
            min_data_coverage: 0.5,
        }
    }

    pub fn total_weight(&self) -> f64 {
        self.measures.iter().map(|measure| measure.weight).sum()
    }
}

/// Raw values for one customer; `None` means no data for that measure.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HealthInputs {
    /// Open urgent + high tickets (support).
    pub open_urgent_high: Option<f64>,
    /// Open AR more than 60 days past due ÷ open AR (finance).
    pub ar_over_60_share: Option<f64>,
    /// 1–5 (analytics).
    pub csm_pulse: Option<i32>,
    /// Days since the last executive touch or QBR (analytics).
    pub days_since_exec_touch: Option<f64>,
}

impl HealthInputs {
    fn raw_value(&self, code: MeasureCode) -> Option<f64> {
        match code {
            MeasureCode::OpenUrgentHigh => self.open_urgent_high,
            MeasureCode::ArOver60Share => self.ar_over_60_share,
            MeasureCode::CsmPulse => self.csm_pulse.map(f64::from),
            MeasureCode::DaysSinceExecTouch => self.days_since_exec_touch,
        }
    }
}

/// Whole days from the last executive touch to `today` (a future date counts as today).
pub fn days_since(last: Option<NaiveDate>, today: NaiveDate) -> Option<f64> {
    last.map(|last| (today - last).num_days().max(0) as f64)
}

#[derive(Debug, Clone, PartialEq)]
pub struct MeasureScore {
    pub code: MeasureCode,
    pub group: MeasureGroup,
    pub raw_value: Option<f64>,
    pub score: Option<i32>,
    pub weight: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthAssessment {
    /// `None` when no measure has data.
    pub score: Option<i32>,
    pub band: HealthBand,
    /// Weight with data ÷ the model's weight, 0–1.
    pub coverage: f64,
    pub measures: Vec<MeasureScore>,
}

/// `clamp(100·(v − red)/(green − red), 0, 100)`, rounded. The formula itself handles
/// both directions (lower-is-better has `green < red`); equal thresholds cannot score.
pub fn linear_score(value: f64, green_at: f64, red_at: f64) -> Option<i32> {
    if green_at == red_at || !value.is_finite() {
        return None;
    }
    let score = (100.0 * (value - red_at) / (green_at - red_at)).clamp(0.0, 100.0);
    Some(score.round() as i32)
}

/// 1→0, 2→25, 3→50, 4→75, 5→100; anything else is not a valid entry (no score).
pub fn manual_score(value: f64) -> Option<i32> {
    let allowed = (1.0..=5.0).contains(&value) && value.fract() == 0.0;
    allowed.then_some(((value - 1.0) * 25.0) as i32)
}

pub fn measure_score(scoring: Scoring, value: f64) -> Option<i32> {
    match scoring {
        Scoring::Linear { green_at, red_at } => linear_score(value, green_at, red_at),
        Scoring::Manual => manual_score(value),
    }
}

/// Red up to `red_max`, yellow up to `yellow_max`, green above (inclusive upper bounds).
pub fn band_for(score: i32, bands: Bands) -> HealthBand {
    if score <= bands.red_max {
        HealthBand::Red
    } else if score <= bands.yellow_max {
        HealthBand::Yellow
    } else {
        HealthBand::Green
    }
}

/// Scores every measure, then `round(Σ w·s / Σ w)` over the measures with data (their
/// rounded scores, so the overall is reproducible from what is shown). Coverage below
/// the model's minimum makes the band `Unknown`; the score is still reported.
pub fn assess(model: &HealthModelDefinition, inputs: &HealthInputs) -> HealthAssessment {
    let measures: Vec<MeasureScore> = model
        .measures
        .iter()
        .map(|definition| {
            let raw_value = inputs.raw_value(definition.code);
            MeasureScore {
                code: definition.code,
                group: definition.group,
                raw_value,
                score: raw_value.and_then(|value| measure_score(definition.scoring, value)),
                weight: definition.weight,
            }
        })
        .collect();
    let (weighted_sum, covered_weight) = measures
        .iter()
        .filter_map(|measure| measure.score.map(|score| (f64::from(score) * measure.weight, measure.weight)))
        .fold((0.0, 0.0), |(sum, weight), (s, w)| (sum + s, weight + w));
    let total_weight = model.total_weight();
    let coverage = if total_weight > 0.0 { covered_weight / total_weight } else { 0.0 };
    let score = (covered_weight > 0.0).then(|| (weighted_sum / covered_weight).round() as i32);
    let band = match score {
        Some(score) if coverage >= model.min_data_coverage => band_for(score, model.bands),
        _ => HealthBand::Unknown,
    };
    HealthAssessment { score, band, coverage, measures }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(open: Option<f64>, ar: Option<f64>, pulse: Option<i32>, days: Option<f64>) -> HealthInputs {
        HealthInputs { open_urgent_high: open, ar_over_60_share: ar, csm_pulse: pulse, days_since_exec_touch: days }
    }

    #[test]
    fn linear_scoring_is_100_at_green_0_at_red_and_proportional_between() {
        // Higher is better.
        assert_eq!(linear_score(0.9, 0.9, 0.6), Some(100));
        assert_eq!(linear_score(0.6, 0.9, 0.6), Some(0));
        assert_eq!(linear_score(0.75, 0.9, 0.6), Some(50));
        // Lower is better: direction inferred from the thresholds.
        assert_eq!(linear_score(0.0, 0.0, 3.0), Some(100));
        assert_eq!(linear_score(3.0, 0.0, 3.0), Some(0));
        assert_eq!(linear_score(1.0, 0.0, 3.0), Some(67));
        assert_eq!(linear_score(2.0, 0.0, 3.0), Some(33));
    }

    #[test]
    fn linear_scoring_clamps_beyond_the_thresholds() {
        assert_eq!(linear_score(7.0, 0.0, 3.0), Some(0));
        assert_eq!(linear_score(-1.0, 0.0, 3.0), Some(100));
        assert_eq!(linear_score(20.0, 45.0, 120.0), Some(100));
        assert_eq!(linear_score(400.0, 45.0, 120.0), Some(0));
    }

    #[test]
    fn linear_scoring_refuses_equal_thresholds() {
        assert_eq!(linear_score(1.0, 2.0, 2.0), None);
    }

    #[test]
    fn manual_scores_map_one_to_five_onto_zero_to_hundred() {
        let scores: Vec<Option<i32>> = (1..=5).map(|value| manual_score(f64::from(value))).collect();
        assert_eq!(scores, vec![Some(0), Some(25), Some(50), Some(75), Some(100)]);
    }

    #[test]
    fn manual_scores_outside_one_to_five_have_no_score() {
        assert_eq!(manual_score(0.0), None);
        assert_eq!(manual_score(6.0), None);
        assert_eq!(manual_score(2.5), None);
    }

    #[test]
    fn bands_have_inclusive_upper_bounds() {
        let bands = HealthModelDefinition::standard_v1().bands;
        assert_eq!(band_for(0, bands), HealthBand::Red);
        assert_eq!(band_for(50, bands), HealthBand::Red);
        assert_eq!(band_for(51, bands), HealthBand::Yellow);
        assert_eq!(band_for(75, bands), HealthBand::Yellow);
        assert_eq!(band_for(76, bands), HealthBand::Green);
        assert_eq!(band_for(100, bands), HealthBand::Green);
    }

    #[test]
    fn overall_score_is_the_weighted_mean_of_the_measure_scores() {
        let model = HealthModelDefinition::standard_v1();
        // 5·67 + 8·100 + 8·0 + 7·13 = 1226; / 28 = 43.8 → 44.
        let assessment = assess(&model, &inputs(Some(1.0), Some(0.0), Some(1), Some(110.0)));
        let scores: Vec<Option<i32>> = assessment.measures.iter().map(|m| m.score).collect();
        assert_eq!(scores, vec![Some(67), Some(100), Some(0), Some(13)]);
        assert_eq!(assessment.score, Some(44));
        assert_eq!(assessment.band, HealthBand::Red);
        assert_eq!(assessment.coverage, 1.0);
    }

    #[test]
    fn a_healthy_customer_is_green() {
        let assessment =
            assess(&HealthModelDefinition::standard_v1(), &inputs(Some(0.0), Some(0.0), Some(4), Some(60.0)));
        assert_eq!(assessment.score, Some(88));
        assert_eq!(assessment.band, HealthBand::Green);
    }

    #[test]
    fn missing_measures_leave_the_weighted_mean_of_the_rest() {
        let model = HealthModelDefinition::standard_v1();
        // Only AR (8, score 100) and pulse (8, score 50): (800 + 400) / 16 = 75.
        let assessment = assess(&model, &inputs(None, Some(0.0), Some(3), None));
        assert_eq!(assessment.score, Some(75));
        assert_eq!(assessment.band, HealthBand::Yellow);
        assert!((assessment.coverage - 16.0 / 28.0).abs() < 1e-9);
        let open = &assessment.measures[0];
        assert_eq!((open.raw_value, open.score), (None, None));
    }

    #[test]
    fn coverage_below_half_makes_the_band_unknown_but_keeps_the_score() {
        let model = HealthModelDefinition::standard_v1();
        // Support (5) + financial (8) = 13 of 28 < 0.5.
        let assessment = assess(&model, &inputs(Some(0.0), Some(0.0), None, None));
        assert_eq!(assessment.score, Some(100));
        assert_eq!(assessment.band, HealthBand::Unknown);
        assert!((assessment.coverage - 13.0 / 28.0).abs() < 1e-9);
    }

    #[test]
    fn coverage_of_exactly_half_is_enough_for_a_band() {
        let model = HealthModelDefinition {
            measures: vec![
                MeasureDefinition {
                    code: MeasureCode::CsmPulse,
                    group: MeasureGroup::Relationship,
                    scoring: Scoring::Manual,
                    weight: 1.0,
                },
                MeasureDefinition {
                    code: MeasureCode::OpenUrgentHigh,
                    group: MeasureGroup::Support,
                    scoring: Scoring::Linear { green_at: 0.0, red_at: 3.0 },
                    weight: 1.0,
                },
            ],
            ..HealthModelDefinition::standard_v1()
        };
        let assessment = assess(&model, &inputs(None, None, Some(5), None));
        assert_eq!(assessment.coverage, 0.5);
        assert_eq!(assessment.band, HealthBand::Green);
    }

    #[test]
    fn no_data_at_all_has_no_score_and_an_unknown_band() {
        let assessment = assess(&HealthModelDefinition::standard_v1(), &HealthInputs::default());
        assert_eq!(assessment.score, None);
        assert_eq!(assessment.band, HealthBand::Unknown);
        assert_eq!(assessment.coverage, 0.0);
        assert_eq!(assessment.measures.len(), 4);
    }

    #[test]
    fn an_invalid_manual_entry_counts_as_missing() {
        let assessment =
            assess(&HealthModelDefinition::standard_v1(), &inputs(Some(0.0), Some(0.0), Some(9), Some(45.0)));
        assert_eq!(assessment.measures[2].score, None);
        assert!((assessment.coverage - 20.0 / 28.0).abs() < 1e-9);
        assert_eq!(assessment.score, Some(100));
    }

    #[test]
    fn days_since_counts_whole_days_and_never_goes_negative() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        assert_eq!(days_since(Some(today - chrono::Duration::days(45)), today), Some(45.0));
        assert_eq!(days_since(Some(today + chrono::Duration::days(3)), today), Some(0.0));
        assert_eq!(days_since(None, today), None);
    }

    #[test]
    fn the_slice_weights_follow_the_standard_model() {
        let model = HealthModelDefinition::standard_v1();
        let weights: Vec<(&str, &str, f64)> =
            model.measures.iter().map(|m| (m.code.as_str(), m.group.as_str(), m.weight)).collect();
        assert_eq!(
            weights,
            vec![
                ("open_urgent_high", "support", 5.0),
                ("ar_over_60_share", "financial", 8.0),
                ("csm_pulse", "relationship", 8.0),
                ("days_since_exec_touch", "relationship", 7.0),
            ]
        );
        assert_eq!(model.total_weight(), 28.0);
    }
}
