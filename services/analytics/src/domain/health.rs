//! The scoring rules every health model shares (docs/domain.md#health-score): a measure's
//! linear or manual 0–100 score, the bands, and the model's status. The model itself, as
//! data, and the weighted score are `super::health_model`.

use atrium_kit::stored_enum;

stored_enum!(ModelStatus { Draft => "draft", Active => "active", Retired => "retired" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HealthBand {
    Red,
    Yellow,
    Green,
    Unknown,
}

/// Score bands with inclusive upper bounds: red 0–`red_max`, yellow up to `yellow_max`,
/// green above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Bands {
    pub red_max: i32,
    pub yellow_max: i32,
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let bands = Bands { red_max: 50, yellow_max: 75 };
        assert_eq!(band_for(0, bands), HealthBand::Red);
        assert_eq!(band_for(50, bands), HealthBand::Red);
        assert_eq!(band_for(51, bands), HealthBand::Yellow);
        assert_eq!(band_for(75, bands), HealthBand::Yellow);
        assert_eq!(band_for(76, bands), HealthBand::Green);
        assert_eq!(band_for(100, bands), HealthBand::Green);
    }
}
