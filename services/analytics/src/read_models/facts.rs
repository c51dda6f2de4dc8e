//! The customer facts the read models evidence (docs/domain.md#customer-facts): delivery,
//! support, financial and adoption values of one customer on one day, computed from its
//! read-model rows and its journaled events. A fact stays `None` when analytics holds no
//! row that could evidence it.

use rust_decimal::{Decimal, prelude::ToPrimitive};

pub use super::rows::JournalEntry;
use super::{rows::ReadModels, tenant_day};
use crate::{
    domain::facts::CustomerFacts,
    kpi::{KpiWindow, measures},
};

pub const CHANGE_REQUEST_SUBMITTED: &str = "delivery.change_request.submitted";
pub const ESCALATION_CREATED: &str = "support.escalation.created";

/// Fills `facts` (for `facts.as_of`) from the customer's own rows and journal entries.
pub fn fill(facts: &mut CustomerFacts, models: &ReadModels, journal: &[JournalEntry]) {
    let Some(as_of) = facts.as_of else { return };
    let d90 = KpiWindow::D90.range(as_of);
    let count_in = |event_type: &str, from_days_ago: i64, to_days_ago: i64| {
        journal
            .iter()
            .filter(|entry| entry.event_type == event_type)
            .filter(|entry| {
                let age = (as_of - tenant_day(models.tenant_id, entry.occurred_at)).num_days();
                (from_days_ago..=to_days_ago).contains(&age)
            })
            .count() as f64
    };

    if let Some(customer) = models.customers.first() {
        facts.channel_partner_id = facts.channel_partner_id.or(customer.channel_partner_id);
        facts.subscription_non_renewing = customer.non_renewing;
    }

    // Delivery.
    facts.milestone_attainment_90d = measures::milestone_attainment(models, d90).value;
    facts.go_live_variance_days = models
        .engagements
        .iter()
        .filter(|engagement| engagement.is_open())
        .filter_map(|engagement| engagement.go_live_variance_days())
        .max()
        .map(|days| days as f64);
    if !models.engagements.is_empty() {
        let recent = count_in(CHANGE_REQUEST_SUBMITTED, 0, 29);
        let prior = count_in(CHANGE_REQUEST_SUBMITTED, 30, 119) / 3.0;
        facts.change_requests_30d = Some(recent);
        facts.change_requests_prior = Some(prior);
        facts.cr_trend_ratio = Some(recent / prior.max(0.5));
    }

    if !models.tasks.is_empty() {
        // Customer-facing tasks still open after their due date.
        facts.customer_tasks_overdue = Some(
            models
                .tasks
                .iter()
                .filter(|task| task.customer_facing && task.completed_on.is_none())
                .filter(|task| task.due_date.is_some_and(|due| due < as_of))
                .count() as f64,
        );
        // Checklist tasks due by today: done by their due date / all of them.
        let due: Vec<_> = models
            .tasks
            .iter()
            .filter(|task| task.kind.as_deref() == Some("checklist"))
            .filter(|task| task.due_date.is_some_and(|due| due <= as_of))
            .collect();
        if !due.is_empty() {
            let on_time =
                due.iter().filter(|task| task.completed_on.is_some_and(|done| Some(done) <= task.due_date)).count();
            facts.onboarding_checklist_on_time = Some(on_time as f64 / due.len() as f64);
        }
    }

    // Support.
    if !models.tickets.is_empty() {
        facts.sla_attainment_90d = measures::sla_attainment(models, d90).value;
        facts.open_urgent_high = Some(
            models
                .tickets
                .iter()
                .filter(|ticket| ticket.is_open() && matches!(ticket.priority.as_deref(), Some("urgent" | "high")))
                .count() as f64,
        );
        let answers: Vec<i32> = models
            .tickets
            .iter()
            .filter(|ticket| ticket.csat_at.is_some_and(|at| d90.contains(tenant_day(models.tenant_id, at))))
            .filter_map(|ticket| ticket.csat_score)
            .collect();
        if !answers.is_empty() {
            facts.csat_90d = Some(answers.iter().filter(|score| **score >= 4).count() as f64 / answers.len() as f64);
        }
        facts.escalations_90d = Some(count_in(ESCALATION_CREATED, 0, 89));
        facts.urgent_sla_breach_7d =
            models.tickets.iter().filter(|ticket| ticket.priority.as_deref() == Some("urgent")).any(|ticket| {
                ticket
                    .ended_clocks()
                    .iter()
                    .any(|(at, breached)| *breached && (as_of - tenant_day(models.tenant_id, *at)).num_days() < 7)
            });
        facts.open_escalation_max_level = models.tickets.iter().filter_map(|ticket| ticket.open_escalation_level).max();
    }

    // Financial.
    let mrr: Decimal = models
        .mrr_movements
        .iter()
        .filter(|movement| movement.effective_date.is_some_and(|effective| effective <= as_of))
        .map(|movement| movement.mrr_delta)
        .sum();
    if !models.mrr_movements.is_empty() {
        facts.arr = Some(mrr * Decimal::from(12));
    }
    if !models.invoices.is_empty() {
        let open: Vec<_> = models.invoices.iter().filter(|invoice| invoice.is_open()).collect();
        facts.ar_over_60_share = Some(measures::ar_over_60_share(models, as_of).value.unwrap_or(0.0));
        facts.max_days_past_due = open.iter().filter_map(|invoice| invoice.days_past_due(as_of)).max();
        let disputed: Decimal = open.iter().map(|invoice| invoice.disputed_amount).sum();
        facts.open_dispute_amount = Some(disputed);
        if let Some(arr) = facts.arr.filter(|arr| *arr > Decimal::ZERO) {
            facts.dispute_share_of_arr = (disputed / arr).to_f64();
        }
    }
}
