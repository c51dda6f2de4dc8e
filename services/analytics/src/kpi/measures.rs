//! The KPI formulas as implemented (docs/domain.md#kpis), each a pure function of the read
//! models, the window and the day it ends.

use rust_decimal::{Decimal, prelude::ToPrimitive};
use std::collections::BTreeMap;
use uuid::Uuid;

use super::{
    KpiValue, KpiWindow, Period,
    correlation::{DecidedRenewal, observations, support_renewal_correlation},
};
use crate::read_models::{rows::ReadModels, tenant_day};

/// Days a milestone may be done after its due date and still count as attained.
pub const MILESTONE_GRACE_DAYS: i64 = 0;

/// Every KPI of `models` over `window` ending on `period_end`; `health_scores` are the latest
/// customer health scores (empty when health is not available), `renewals` the decided
/// renewals (the correlation's cohort always spans the 12 months to `period_end`).
pub fn all(
    models: &ReadModels,
    window: KpiWindow,
    period_end: chrono::NaiveDate,
    health_scores: &[(Uuid, i32)],
    renewals: &[DecidedRenewal],
) -> Vec<KpiValue> {
    let period = window.range(period_end);
    vec![
        time_to_onboard(models, period),
        tto_on_target_rate(models, period),
        go_live_variance(models, period),
        milestone_attainment(models, period),
        grr(models, period),
        nrr(models, period),
        logo_churn(models, period),
        sla_attainment(models, period),
        ar_over_60_share(models, period.end),
        dso(models, period),
        implementation_margin_variance(models, period),
        entitlement_billable_share(models, period),
        tenant_service_health(models, period.end, health_scores),
        support_renewal_correlation(&observations(models, renewals, period_end)),
    ]
}

fn to_f64(amount: Decimal) -> f64 {
    amount.to_f64().unwrap_or_default()
}

/// The median of `values` (sorted in place); the mean of the middle two for an even count.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    Some(if values.len().is_multiple_of(2) { (values[middle - 1] + values[middle]) / 2.0 } else { values[middle] })
}

/// Median TTO_e (contract signed → onboarding completed, days) of engagements whose
/// onboarding completed in the window. A median has no numerator: those stay null.
pub fn time_to_onboard(models: &ReadModels, period: Period) -> KpiValue {
    let mut days: Vec<f64> = models
        .engagements
        .iter()
        .filter(|engagement| engagement.onboarding_completed_on.is_some_and(|done| period.contains(done)))
        .filter_map(|engagement| engagement.time_to_onboard_days())
        .map(|days| days as f64)
        .collect();
    let n = days.len() as i64;
    match median(&mut days) {
        Some(value) => KpiValue {
            code: "time_to_onboard",
            value: Some(value),
            numerator: None,
            denominator: None,
            n,
            reason: None,
        },
        None => KpiValue::missing("time_to_onboard", "no_data", 0),
    }
}

/// Share of the window's onboarded engagements (with a known target) whose TTO_e ≤ target days.
pub fn tto_on_target_rate(models: &ReadModels, period: Period) -> KpiValue {
    let measured: Vec<(i64, i64)> = models
        .engagements
        .iter()
        .filter(|engagement| engagement.onboarding_completed_on.is_some_and(|done| period.contains(done)))
        .filter_map(|engagement| Some((engagement.time_to_onboard_days()?, engagement.target_onboard_days()?)))
        .collect();
    let on_target = measured.iter().filter(|(days, target)| days <= target).count();
    KpiValue::ratio("tto_on_target_rate", on_target as f64, measured.len() as f64, measured.len() as i64)
}

/// Mean go-live variance (actual − target, days) of engagements that went live in the window.
pub fn go_live_variance(models: &ReadModels, period: Period) -> KpiValue {
    let variances: Vec<i64> = models
        .engagements
        .iter()
        .filter(|engagement| engagement.go_live_actual_date.is_some_and(|live| period.contains(live)))
        .filter_map(|engagement| engagement.go_live_variance_days())
        .collect();
    let n = variances.len() as i64;
    KpiValue::ratio("go_live_variance_days", variances.iter().sum::<i64>() as f64, n as f64, n)
}

/// MAR: milestones due in the window (not waived/cancelled, engagement not cancelled),
/// attained when done no later than due date + grace; open ones count against.
pub fn milestone_attainment(models: &ReadModels, period: Period) -> KpiValue {
    let cancelled: Vec<Uuid> = models
        .engagements
        .iter()
        .filter(|engagement| engagement.status == "cancelled")
        .map(|engagement| engagement.engagement_id)
        .collect();
    let due: Vec<_> = models
        .milestones
        .iter()
        .filter(|milestone| milestone.due_date.is_some_and(|due| period.contains(due)))
        .filter(|milestone| !matches!(milestone.status.as_str(), "waived" | "cancelled"))
        .filter(|milestone| !cancelled.contains(&milestone.engagement_id))
        .collect();
    let attained = due
        .iter()
        .filter(|milestone| {
            let deadline = milestone.due_date.unwrap() + chrono::Duration::days(MILESTONE_GRACE_DAYS);
            milestone.done_on().is_some_and(|done| done <= deadline && done <= period.end)
        })
        .count();
    KpiValue::ratio("milestone_attainment_rate", attained as f64, due.len() as f64, due.len() as i64)
}

/// `MRR_c` per customer just before `day` (movements effective before it).
fn mrr_before(models: &ReadModels, day: chrono::NaiveDate) -> BTreeMap<Uuid, Decimal> {
    let mut mrr = BTreeMap::new();
    for movement in &models.mrr_movements {
        if movement.effective_date.is_some_and(|effective| effective < day) {
            *mrr.entry(movement.customer_account_id).or_insert(Decimal::ZERO) += movement.mrr_delta;
        }
    }
    mrr
}

/// The cohort C0 (MRR at the window's start > 0) with `(MRR_c(t0), MRR_c(t1))`.
fn retention_cohort(models: &ReadModels, period: Period) -> Vec<(Decimal, Decimal)> {
    let start = mrr_before(models, period.start);
    let end = mrr_before(models, period.end + chrono::Duration::days(1));
    start
        .iter()
        .filter(|(_, mrr)| **mrr > Decimal::ZERO)
        .map(|(customer, mrr)| (*mrr, end.get(customer).copied().unwrap_or_default().max(Decimal::ZERO)))
        .collect()
}

/// GRR = Σ min(MRR_c(t1), MRR_c(t0)) / Σ MRR_c(t0) over C0.
pub fn grr(models: &ReadModels, period: Period) -> KpiValue {
    let cohort = retention_cohort(models, period);
    let kept: Decimal = cohort.iter().map(|(start, end)| (*end).min(*start)).sum();
    let start: Decimal = cohort.iter().map(|(start, _)| *start).sum();
    KpiValue::ratio("grr", to_f64(kept), to_f64(start), cohort.len() as i64)
}

/// NRR = Σ MRR_c(t1) / Σ MRR_c(t0) over C0.
pub fn nrr(models: &ReadModels, period: Period) -> KpiValue {
    let cohort = retention_cohort(models, period);
    let end: Decimal = cohort.iter().map(|(_, end)| *end).sum();
    let start: Decimal = cohort.iter().map(|(start, _)| *start).sum();
    KpiValue::ratio("nrr", to_f64(end), to_f64(start), cohort.len() as i64)
}

/// Logo churn = |{c ∈ C0 : MRR_c(t1) = 0}| / |C0|.
pub fn logo_churn(models: &ReadModels, period: Period) -> KpiValue {
    let cohort = retention_cohort(models, period);
    let churned = cohort.iter().filter(|(_, end)| end.is_zero()).count();
    KpiValue::ratio("logo_churn", churned as f64, cohort.len() as f64, cohort.len() as i64)
}

/// SLA attainment: first-response and resolution clocks that ended (fulfilled or breached)
/// in the window; met = ended without a breach.
pub fn sla_attainment(models: &ReadModels, period: Period) -> KpiValue {
    let clocks: Vec<bool> = models
        .tickets
        .iter()
        .flat_map(|ticket| ticket.ended_clocks())
        .filter(|(at, _)| period.contains(tenant_day(models.tenant_id, *at)))
        .map(|(_, breached)| breached)
        .collect();
    let met = clocks.iter().filter(|breached| !**breached).count();
    KpiValue::ratio("sla_attainment", met as f64, clocks.len() as f64, clocks.len() as i64)
}

/// Share of open AR (balance due) more than 60 days past due on `as_of`.
pub fn ar_over_60_share(models: &ReadModels, as_of: chrono::NaiveDate) -> KpiValue {
    let open: Vec<_> = models.invoices.iter().filter(|invoice| invoice.is_open()).collect();
    let over: Decimal = open
        .iter()
        .filter(|invoice| invoice.days_past_due(as_of).is_some_and(|days| days > 60))
        .map(|invoice| invoice.balance_due)
        .sum();
    let total: Decimal = open.iter().map(|invoice| invoice.balance_due).sum();
    KpiValue::ratio("ar_over_60_share", to_f64(over), to_f64(total), open.len() as i64)
}

/// DSO = open AR at the window's end / amount invoiced in the window × window days.
/// Numerator is AR × days, denominator the amount invoiced; n the invoices issued.
pub fn dso(models: &ReadModels, period: Period) -> KpiValue {
    let ar: Decimal =
        models.invoices.iter().filter(|invoice| invoice.is_open()).map(|invoice| invoice.balance_due).sum();
    let issued: Vec<_> = models
        .invoices
        .iter()
        .filter(|invoice| invoice.status != "void" && invoice.status != "voided")
        .filter(|invoice| invoice.issue_date.is_some_and(|issued| period.contains(issued)))
        .collect();
    let invoiced: Decimal = issued.iter().map(|invoice| invoice.total).sum();
    KpiValue::ratio("dso", to_f64(ar) * period.days() as f64, to_f64(invoiced), issued.len() as i64)
}

/// IMV: revenue-weighted mean margin variance (pp) of engagements whose financials closed
/// in the window: Σ revenue_plan × IMV_pp / Σ revenue_plan.
pub fn implementation_margin_variance(models: &ReadModels, period: Period) -> KpiValue {
    let closed: Vec<(Decimal, Decimal)> = models
        .engagements
        .iter()
        .filter(|engagement| engagement.financials_closed_on.is_some_and(|closed| period.contains(closed)))
        .filter_map(|engagement| Some((engagement.revenue_plan?, engagement.margin_variance_pp?)))
        .collect();
    let weighted: Decimal = closed.iter().map(|(revenue, variance)| revenue * variance).sum();
    let revenue: Decimal = closed.iter().map(|(revenue, _)| *revenue).sum();
    KpiValue::ratio("implementation_margin_variance_pp", to_f64(weighted), to_f64(revenue), closed.len() as i64)
}

/// Share of approved hours in the window booked against an entitlement grant (advisory
/// hours consumed / all approved hours): the usage side of §entitlements the events carry.
pub fn entitlement_billable_share(models: &ReadModels, period: Period) -> KpiValue {
    let entries: Vec<_> =
        models.time_entries.iter().filter(|entry| entry.work_date.is_some_and(|day| period.contains(day))).collect();
    let entitled: Decimal =
        entries.iter().filter(|entry| entry.entitlement_grant_id.is_some()).map(|entry| entry.hours).sum();
    let all: Decimal = entries.iter().map(|entry| entry.hours).sum();
    KpiValue::ratio("entitlement_hours_share", to_f64(entitled), to_f64(all), entries.len() as i64)
}

/// `clamp(100 · (v − red)/(green − red), 0, 100)`, the health model's linear scoring.
pub fn linear_score(value: f64, green_at: f64, red_at: f64) -> f64 {
    (100.0 * (value - red_at) / (green_at - red_at)).clamp(0.0, 100.0)
}

/// TSH = Σ w_i s_i / Σ w_i over the available components (customer health ARR-weighted,
/// SLA attainment 90 d, MAR 90 d, AR > 60 share, GRR T12M); n = components available.
pub fn tenant_service_health(models: &ReadModels, as_of: chrono::NaiveDate, health_scores: &[(Uuid, i32)]) -> KpiValue {
    let arr = mrr_before(models, as_of + chrono::Duration::days(1));
    let (weighted, weights) = health_scores.iter().fold((0.0, 0.0), |(sum, total), (customer, score)| {
        let weight = arr.get(customer).map(|mrr| to_f64(*mrr) * 12.0).unwrap_or(0.0);
        (sum + weight * f64::from(*score), total + weight)
    });
    let customer_health = (weights > 0.0).then(|| weighted / weights);
    let d90 = KpiWindow::D90.range(as_of);
    let components = [
        (customer_health, 80.0, 55.0, 0.40),
        (sla_attainment(models, d90).value, 0.95, 0.80, 0.20),
        (milestone_attainment(models, d90).value, 0.90, 0.65, 0.20),
        (ar_over_60_share(models, as_of).value, 0.05, 0.25, 0.10),
        (grr(models, KpiWindow::T12M.range(as_of)).value, 0.92, 0.80, 0.10),
    ];
    let available: Vec<(f64, f64)> = components
        .iter()
        .filter_map(|(raw, green, red, weight)| Some((linear_score((*raw)?, *green, *red), *weight)))
        .collect();
    let numerator: f64 = available.iter().map(|(score, weight)| score * weight).sum();
    let denominator: f64 = available.iter().map(|(_, weight)| weight).sum();
    KpiValue::ratio("tenant_service_health", numerator, denominator, available.len() as i64)
}
