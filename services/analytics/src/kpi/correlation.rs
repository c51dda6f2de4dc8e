//! Support-to-renewal correlation (docs/domain.md#kpis): Pearson's r between a support
//! feature and the renewal outcome (point-biserial, outcome 1 = renewed or downsized,
//! 0 = churned), published only with n ≥ 20 and at least 3 of each outcome.

use super::KpiValue;
pub use crate::read_models::rows::DecidedRenewal;

pub const MIN_SAMPLE: usize = 20;
pub const MIN_PER_CLASS: usize = 3;

/// One decided renewal: the feature value over its lookback and whether it renewed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenewalObservation {
    pub feature: f64,
    pub renewed: bool,
}

/// The cohort of renewals dated in the 12 months ending `period_end`, each with x1 = the
/// SLA breach rate of its customer's clocks ended in `[renewal_date − 180 d, renewal_date)`.
/// A customer without ended clocks has no breach rate and stays out (no guess).
pub fn observations(
    models: &crate::read_models::rows::ReadModels,
    renewals: &[DecidedRenewal],
    period_end: chrono::NaiveDate,
) -> Vec<RenewalObservation> {
    let cohort = super::KpiWindow::T12M.range(period_end);
    renewals
        .iter()
        .filter(|renewal| cohort.contains(renewal.renewal_date))
        .filter_map(|renewal| {
            let lookback_start = renewal.renewal_date - chrono::Duration::days(180);
            let clocks: Vec<bool> = models
                .tickets
                .iter()
                .filter(|ticket| ticket.customer_account_id == renewal.customer_account_id)
                .flat_map(|ticket| ticket.ended_clocks())
                .filter(|(at, _)| {
                    let day = crate::read_models::tenant_day(models.tenant_id, *at);
                    lookback_start <= day && day < renewal.renewal_date
                })
                .map(|(_, breached)| breached)
                .collect();
            (!clocks.is_empty()).then(|| RenewalObservation {
                feature: clocks.iter().filter(|breached| **breached).count() as f64 / clocks.len() as f64,
                renewed: renewal.renewed,
            })
        })
        .collect()
}

/// Pearson's r of `(x, y)`; `None` when either side has no variance or there are fewer than 2 pairs.
pub fn pearson(pairs: &[(f64, f64)]) -> Option<f64> {
    let n = pairs.len() as f64;
    if pairs.len() < 2 {
        return None;
    }
    let mean_x = pairs.iter().map(|(x, _)| x).sum::<f64>() / n;
    let mean_y = pairs.iter().map(|(_, y)| y).sum::<f64>() / n;
    let covariance: f64 = pairs.iter().map(|(x, y)| (x - mean_x) * (y - mean_y)).sum();
    let spread_x: f64 = pairs.iter().map(|(x, _)| (x - mean_x).powi(2)).sum();
    let spread_y: f64 = pairs.iter().map(|(_, y)| (y - mean_y).powi(2)).sum();
    if spread_x == 0.0 || spread_y == 0.0 {
        return None;
    }
    Some(covariance / (spread_x * spread_y).sqrt())
}

/// `support_renewal_correlation`: r(x1 = SLA breach rate, y); numerator = renewed count,
/// denominator = n (the cohort), null with `insufficient_sample` below the publish rule.
pub fn support_renewal_correlation(observations: &[RenewalObservation]) -> KpiValue {
    let n = observations.len();
    let renewed = observations.iter().filter(|observation| observation.renewed).count();
    let churned = n - renewed;
    if n < MIN_SAMPLE || renewed < MIN_PER_CLASS || churned < MIN_PER_CLASS {
        return KpiValue {
            code: "support_renewal_correlation",
            value: None,
            numerator: Some(renewed as f64),
            denominator: Some(n as f64),
            n: n as i64,
            reason: Some("insufficient_sample"),
        };
    }
    let pairs: Vec<(f64, f64)> = observations
        .iter()
        .map(|observation| (observation.feature, if observation.renewed { 1.0 } else { 0.0 }))
        .collect();
    let value = pearson(&pairs);
    KpiValue {
        code: "support_renewal_correlation",
        value,
        numerator: Some(renewed as f64),
        denominator: Some(n as f64),
        n: n as i64,
        reason: value.is_none().then_some("no_variance"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(churned: &[f64], renewed: &[f64]) -> Vec<RenewalObservation> {
        churned
            .iter()
            .map(|&feature| RenewalObservation { feature, renewed: false })
            .chain(renewed.iter().map(|&feature| RenewalObservation { feature, renewed: true }))
            .collect()
    }

    #[test]
    fn pearson_of_a_small_hand_computed_sample() {
        // x = 1,2,3,4; y = 0,0,1,1. mean x 2.5, mean y 0.5.
        // cov = (-1.5)(-0.5)+(-0.5)(-0.5)+(0.5)(0.5)+(1.5)(0.5) = 0.75+0.25+0.25+0.75 = 2.0
        // Sxx = 2.25+0.25+0.25+2.25 = 5.0, Syy = 4 × 0.25 = 1.0 → r = 2 / √5 = 0.894427…
        let r = pearson(&[(1.0, 0.0), (2.0, 0.0), (3.0, 1.0), (4.0, 1.0)]).unwrap();
        assert!((r - 2.0 / 5f64.sqrt()).abs() < 1e-12, "{r}");
        assert_eq!(pearson(&[(1.0, 1.0), (1.0, 0.0)]), None);
    }

    #[test]
    fn golden_point_biserial_correlation_of_breach_rate_and_renewal() {
        // 5 churned with breach rates 0.4 each, 15 renewed with 0.1 each: n = 20, p = 15/20 = 0.75.
        // Point-biserial r = (M1 − M0)/s · √(p q), s = population sd of x.
        // mean x = (5×0.4 + 15×0.1)/20 = 3.5/20 = 0.175;
        // var x = (5×0.225² + 15×0.075²)/20 = (0.253125 + 0.084375)/20 = 0.016875; s = 0.129904
        // r = (0.1 − 0.4)/0.129904 × √(0.75×0.25) = −2.309401 × 0.433013 = −1.0 (two-point x: perfect).
        let value = support_renewal_correlation(&sample(&[0.4; 5], &[0.1; 15]));
        assert_eq!((value.n, value.numerator, value.denominator), (20, Some(15.0), Some(20.0)));
        assert!((value.value.unwrap() + 1.0).abs() < 1e-9, "{value:?}");

        // A mixed sample: churned x = 0.5,0.3,0.2; renewed x = 0.0 ×8, 0.1 ×8, 0.3 ×1 (n = 20).
        // Σx = 1.0 + 0.8 + 0.3 = 2.1, mean 0.105; Σx² = 0.25+0.09+0.04 + 0.08 + 0.09 = 0.55
        // Sxx = 0.55 − 20×0.105² = 0.55 − 0.2205 = 0.3295
        // y mean = 17/20 = 0.85, Syy = 20 × 0.85 × 0.15 = 2.55
        // Sxy = Σ x·y − n·x̄·ȳ = (0.8 + 0.3) − 20×0.105×0.85 = 1.1 − 1.785 = −0.685
        // r = −0.685 / √(0.3295 × 2.55) = −0.685 / 0.916638 = −0.747296
        let mut renewed = vec![0.0; 8];
        renewed.extend([0.1; 8]);
        renewed.push(0.3);
        let value = support_renewal_correlation(&sample(&[0.5, 0.3, 0.2], &renewed));
        assert_eq!(value.n, 20);
        assert!((value.value.unwrap() + 0.747296).abs() < 1e-5, "{value:?}");
    }

    #[test]
    fn the_cohort_takes_decided_renewals_of_the_last_year_with_their_lookback_breach_rate() {
        use crate::read_models::rows::{ReadModels, TicketRow};
        use chrono::{NaiveDate, TimeZone, Utc};
        let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
        let at = |text: &str| Utc.from_utc_datetime(&day(text).and_hms_opt(12, 0, 0).unwrap());
        let (served, silent) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        let models = ReadModels {
            tickets: vec![TicketRow {
                customer_account_id: served,
                // Lookback of a 2026-06-01 renewal: [2025-12-03, 2026-06-01).
                first_response_outcome: Some("breached".into()),
                first_response_at: Some(at("2026-05-01")),
                resolution_outcome: Some("fulfilled".into()),
                resolution_at: Some(at("2026-05-10")),
                ..Default::default()
            }],
            ..Default::default()
        };
        let renewal = |customer, date: &str, renewed| DecidedRenewal {
            customer_account_id: customer,
            renewal_date: day(date),
            renewed,
        };
        let renewals = [
            renewal(served, "2026-06-01", true),
            // No clocks: no breach rate, left out.
            renewal(silent, "2026-06-01", false),
            // Dated before the 12 months ending 2026-12-31.
            renewal(served, "2025-12-31", false),
        ];
        // x1 = 1 breached of 2 clocks = 0.5.
        assert_eq!(
            observations(&models, &renewals, day("2026-12-31")),
            vec![RenewalObservation { feature: 0.5, renewed: true }]
        );
    }

    #[test]
    fn publish_rule_needs_twenty_renewals_and_three_per_class() {
        // 19 decided renewals: too few.
        let value = support_renewal_correlation(&sample(&[0.4; 4], &[0.1; 15]));
        assert_eq!((value.value, value.reason, value.n), (None, Some("insufficient_sample"), 19));
        // 20 but only 2 churned.
        let value = support_renewal_correlation(&sample(&[0.4; 2], &[0.1; 18]));
        assert_eq!((value.value, value.reason), (None, Some("insufficient_sample")));
        // 20 with 3 churned: published.
        let value = support_renewal_correlation(&sample(&[0.4, 0.5, 0.3], &[0.1; 17]));
        assert!(value.value.is_some());
    }
}
