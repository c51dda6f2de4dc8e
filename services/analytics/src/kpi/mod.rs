//! The executive KPIs (docs/domain.md#kpis): pure functions over read-model rows, each
//! answering value, numerator, denominator and n (and a reason when the value is null),
//! the nightly `KpiSnapshot` job and the live values GraphQL serves.

pub mod correlation;
pub mod measures;
pub mod snapshots;

use chrono::{Duration, NaiveDate};

/// The trailing window a KPI is computed over, ending on (and including) `period_end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
pub enum KpiWindow {
    D30,
    D90,
    D180,
    T12M,
}

impl KpiWindow {
    pub const ALL: [KpiWindow; 4] = [KpiWindow::D30, KpiWindow::D90, KpiWindow::D180, KpiWindow::T12M];

    pub fn days(self) -> i64 {
        match self {
            KpiWindow::D30 => 30,
            KpiWindow::D90 => 90,
            KpiWindow::D180 => 180,
            KpiWindow::T12M => 365,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KpiWindow::D30 => "d30",
            KpiWindow::D90 => "d90",
            KpiWindow::D180 => "d180",
            KpiWindow::T12M => "t12m",
        }
    }

    /// `[start, end]`, both days included.
    pub fn range(self, period_end: NaiveDate) -> Period {
        Period { start: period_end - Duration::days(self.days() - 1), end: period_end }
    }
}

/// Calendar days `[start, end]`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Period {
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.start <= day && day <= self.end
    }

    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }
}

/// One KPI's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiValue {
    pub code: &'static str,
    pub value: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub n: i64,
    /// Why `value` is null (`no_data`, `insufficient_sample`, `not_available`).
    pub reason: Option<&'static str>,
}

impl KpiValue {
    /// `numerator / denominator`, null with `no_data` when the denominator is zero.
    pub fn ratio(code: &'static str, numerator: f64, denominator: f64, n: i64) -> KpiValue {
        let value = (denominator != 0.0).then(|| numerator / denominator);
        KpiValue {
            code,
            value,
            numerator: Some(numerator),
            denominator: Some(denominator),
            n,
            reason: value.is_none().then_some("no_data"),
        }
    }

    pub fn missing(code: &'static str, reason: &'static str, n: i64) -> KpiValue {
        KpiValue { code, value: None, numerator: None, denominator: None, n, reason: Some(reason) }
    }
}
