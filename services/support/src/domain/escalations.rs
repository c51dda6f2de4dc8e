//! Escalations, CSAT and SLA attainment (docs/domain.md#escalations-and-csat): escalation
//! levels and their lifecycle, the rule for a valid satisfaction score, and the attainment
//! figure per priority over a period. Pure rules; commands and queries use them.

use std::collections::BTreeMap;

use atrium_kit::{command::StateMachine, stored_enum};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{SlaClock, SlaClockStatus, TicketPriority};

stored_enum!(EscalationStatus { Open => "open", Acknowledged => "acknowledged", Resolved => "resolved" });
stored_enum!(EscalationReason {
    SlaWarning => "sla_warning",
    SlaBreached => "sla_breached",
    CustomerRequest => "customer_request",
    UrgentIncident => "urgent_incident",
    RepeatedReopen => "repeated_reopen",
    PartnerEscalation => "partner_escalation",
    AutomationRule => "automation_rule",
});

/// Team lead, support manager, CSM/executive.
pub const MAX_ESCALATION_LEVEL: i32 = 3;

/// `open → acknowledged → resolved`, or straight `open → resolved`; resolved is final.
impl StateMachine for EscalationStatus {
    const ENTITY: &'static str = "Escalation";

    fn allowed_next(self) -> &'static [Self] {
        use EscalationStatus::{Acknowledged, Open, Resolved};
        match self {
            Open => &[Acknowledged, Resolved],
            Acknowledged => &[Resolved],
            Resolved => &[],
        }
    }

    fn name(self) -> &'static str {
        match self {
            EscalationStatus::Open => "OPEN",
            EscalationStatus::Acknowledged => "ACKNOWLEDGED",
            EscalationStatus::Resolved => "RESOLVED",
        }
    }
}

/// The level a new escalation of a ticket takes: one above the highest it reached, or the
/// one asked for if higher; never above [`MAX_ESCALATION_LEVEL`]. `None` when the ticket is
/// at the top already or the requested level is not above the current one.
pub fn next_escalation_level(highest_so_far: Option<i32>, requested: Option<i32>) -> Option<i32> {
    let current = highest_so_far.unwrap_or(0);
    let level = requested.unwrap_or(current + 1);
    (level > current && (1..=MAX_ESCALATION_LEVEL).contains(&level)).then_some(level)
}

/// A satisfaction score is 1 to 5; 4 and 5 count as a good rating.
pub fn csat_rating(score: i32) -> Option<&'static str> {
    match score {
        4 | 5 => Some("good"),
        1..=3 => Some("bad"),
        _ => None,
    }
}

/// SLA attainment of one priority over a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaAttainment {
    pub priority: TicketPriority,
    /// Clocks fulfilled in the period without a breach.
    pub met: u32,
    /// Clocks breached in the period (whether fulfilled later or not).
    pub missed: u32,
}

impl SlaAttainment {
    /// `met / (met + missed)`, four places; `None` without decided clocks.
    pub fn ratio(&self) -> Option<Decimal> {
        let decided = self.met + self.missed;
        (decided > 0).then(|| (Decimal::from(self.met) / Decimal::from(decided)).round_dp(4))
    }
}

/// Met and missed clocks over every priority, and their ratio (four places; `None`
/// without decided clocks).
pub fn overall_attainment(figures: &[SlaAttainment]) -> (u32, u32, Option<Decimal>) {
    let met: u32 = figures.iter().map(|figure| figure.met).sum();
    let missed: u32 = figures.iter().map(|figure| figure.missed).sum();
    let decided = met + missed;
    (met, missed, (decided > 0).then(|| (Decimal::from(met) / Decimal::from(decided)).round_dp(4)))
}

/// The instant a clock's outcome was decided: its breach, or else its fulfilment. Running
/// and paused clocks are undecided.
pub fn decided_at(clock: &SlaClock) -> Option<DateTime<Utc>> {
    match (clock.breached_at, clock.status) {
        (Some(breached), _) => Some(breached),
        (None, SlaClockStatus::Fulfilled) => clock.fulfilled_at,
        _ => None,
    }
}

/// Attainment per priority of the clocks decided in `[from, to)`: each clock counts once,
/// in the period of its decision (so a clock breached in March and answered in April is a
/// miss of March only). Priorities without decided clocks are left out.
pub fn sla_attainment<'a>(
    clocks: impl IntoIterator<Item = (TicketPriority, &'a SlaClock)>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<SlaAttainment> {
    let mut per_priority: BTreeMap<u8, SlaAttainment> = BTreeMap::new();
    for (priority, clock) in clocks {
        let Some(decided) = decided_at(clock) else { continue };
        if decided < from || decided >= to {
            continue;
        }
        let order = match priority {
            TicketPriority::Urgent => 0,
            TicketPriority::High => 1,
            TicketPriority::Normal => 2,
            TicketPriority::Low => 3,
        };
        let entry = per_priority.entry(order).or_insert(SlaAttainment { priority, met: 0, missed: 0 });
        if clock.breached_at.is_some() {
            entry.missed += 1;
        } else {
            entry.met += 1;
        }
    }
    per_priority.into_values().collect()
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::domain::SlaMetric;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn every_escalation_transition_is_allowed_or_refused_as_the_table_says() {
        use EscalationStatus::{Acknowledged, Open, Resolved};
        let all = [Open, Acknowledged, Resolved];
        let allowed = [(Open, Acknowledged), (Open, Resolved), (Acknowledged, Resolved)];
        for from in all {
            for to in all {
                assert_eq!(from.can_become(to), allowed.contains(&(from, to)), "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn escalation_levels_only_go_up_to_three() {
        assert_eq!(next_escalation_level(None, None), Some(1));
        assert_eq!(next_escalation_level(Some(1), None), Some(2));
        assert_eq!(next_escalation_level(Some(1), Some(3)), Some(3));
        assert_eq!(next_escalation_level(Some(2), Some(2)), None);
        assert_eq!(next_escalation_level(Some(3), None), None);
        assert_eq!(next_escalation_level(None, Some(4)), None);
        assert_eq!(next_escalation_level(None, Some(0)), None);
    }

    #[test]
    fn csat_scores_are_one_to_five_and_four_or_five_is_good() {
        let ratings: Vec<Option<&str>> = (0..=6).map(csat_rating).collect();
        assert_eq!(ratings, [None, Some("bad"), Some("bad"), Some("bad"), Some("good"), Some("good"), None]);
    }

    fn clock(fulfilled_at: Option<&str>, breached_at: Option<&str>) -> SlaClock {
        let status = match (fulfilled_at, breached_at) {
            (Some(_), _) => SlaClockStatus::Fulfilled,
            (None, Some(_)) => SlaClockStatus::Breached,
            (None, None) => SlaClockStatus::Running,
        };
        SlaClock {
            id: Uuid::now_v7(),
            ticket_id: Uuid::nil(),
            metric: SlaMetric::Resolution,
            status,
            target_minutes: 60,
            business_hours: true,
            started_at: at("2026-10-01T09:00:00Z"),
            running_since: None,
            elapsed_seconds: 0,
            due_at: None,
            fulfilled_at: fulfilled_at.map(at),
            breached_at: breached_at.map(at),
            warned_at: None,
            version: 1,
        }
    }

    #[test]
    fn attainment_counts_each_clock_once_in_the_period_of_its_decision() {
        use TicketPriority::{High, Low, Normal};
        let clocks = [
            // High, November: met 11-03, met 11-20, breached 11-10 (fulfilled 11-12),
            // breached 11-25 still open ⇒ 2 met, 2 missed ⇒ 2/4 = 0.5.
            (High, clock(Some("2026-11-03T10:00:00Z"), None)),
            (High, clock(Some("2026-11-20T10:00:00Z"), None)),
            (High, clock(Some("2026-11-12T10:00:00Z"), Some("2026-11-10T10:00:00Z"))),
            (High, clock(None, Some("2026-11-25T10:00:00Z"))),
            // High, breached in October and fulfilled in November: October's miss only.
            (High, clock(Some("2026-11-02T10:00:00Z"), Some("2026-10-30T10:00:00Z"))),
            // Normal, November: 2 met, 1 missed ⇒ 2/3 = 0.6667 (four places).
            (Normal, clock(Some("2026-11-05T10:00:00Z"), None)),
            (Normal, clock(Some("2026-11-06T10:00:00Z"), None)),
            (Normal, clock(None, Some("2026-11-29T23:59:59Z"))),
            // Normal decided on 12-01 00:00 belongs to December (the end is exclusive).
            (Normal, clock(Some("2026-12-01T00:00:00Z"), None)),
            // Low: still running, undecided.
            (Low, clock(None, None)),
        ];
        let november = sla_attainment(
            clocks.iter().map(|(priority, clock)| (*priority, clock)),
            at("2026-11-01T00:00:00Z"),
            at("2026-12-01T00:00:00Z"),
        );
        assert_eq!(
            november,
            [
                SlaAttainment { priority: High, met: 2, missed: 2 },
                SlaAttainment { priority: Normal, met: 2, missed: 1 }
            ]
        );
        assert_eq!(november[0].ratio(), Some(Decimal::new(5, 1)));
        assert_eq!(november[1].ratio(), Some(Decimal::new(6667, 4)));
        // Overall November: met 2 + 2 = 4, missed 2 + 1 = 3 ⇒ 4/7 = 0.571428… ⇒ 0.5714.
        assert_eq!(overall_attainment(&november), (4, 3, Some(Decimal::new(5714, 4))));
        assert_eq!(overall_attainment(&[]), (0, 0, None));
        let october = sla_attainment(
            clocks.iter().map(|(priority, clock)| (*priority, clock)),
            at("2026-10-01T00:00:00Z"),
            at("2026-11-01T00:00:00Z"),
        );
        assert_eq!(october, [SlaAttainment { priority: High, met: 0, missed: 1 }]);
        assert_eq!(october[0].ratio(), Some(Decimal::ZERO));
    }
}
