//! Demo data (docs/domain.md#demo-data) for support: 2–8 tickets per demo customer of every
//! tenant, with the demo category mix (how-to heavy; compliance requests at Veritas),
//! two-tier support at Helix (partner L1, some escalated to provider L2), and the story
//! conditions: Rheinwerk's run of high-priority tickets with some still open, Prairie
//! Foods' two open urgent/high tickets, and no open urgent/high tickets at healthy Summit
//! Ag and Thames Mutual. Timestamps are relative to the seed instant. Idempotent: a tenant
//! with any ticket is left alone. Every tenant gets the standard SLA policy on office
//! hours, and every seeded ticket its clocks as its history would have left them
//! (Rheinwerk's include breached high-priority resolution targets), a public reply for
//! every answered ticket, a satisfaction score for about a third of the solved ones, and
//! Rheinwerk's two escalations. Each tenant is written in its own tenant transaction, so
//! on PostgreSQL the seed passes through the same RLS policies as requests.

use atrium_kit::{
    TenantTransaction,
    demo::{self, DemoCustomer, DemoTenant, SeedRng, Story},
};
use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    domain::{
        Escalation, SlaClock, SlaClockStatus, SlaMetric, SlaPolicy, SupportTierLevel, TicketCategory, TicketChannel,
        TicketPriority, TicketStatus,
        business_hours::BusinessHoursSchedule,
        escalations::EscalationReason,
        sla::{ClockError, METRICS_STARTED_ON_CREATE, standard_targets},
    },
    entities::{csat_response, ticket, ticket_comment},
    error::SupportError,
};

pub async fn seed_demo_tenants(database: &DatabaseConnection) -> Result<(), SupportError> {
    let now = Utc::now();
    for demo_tenant in demo::TENANTS {
        let tx = TenantTransaction::begin(database, &demo::seed_context(demo_tenant)).await?;
        let seeded = ticket::Entity::find()
            .filter(ticket::Column::TenantId.eq(tx.tenant_id()))
            .one(tx.connection())
            .await?
            .is_some();
        let policy = match super::sla::policy(&tx, None).await? {
            Some(policy) => policy,
            None => {
                let policy = standard_policy(demo_tenant);
                super::sla::insert_policy(&tx, &policy, "Office hours").await?;
                policy
            }
        };
        if seeded {
            tx.commit().await?;
            continue;
        }
        let PlannedRows { tickets: rows, clocks, comments, csat, escalations } =
            plan_tenant(demo_tenant, tx.tenant_id(), &policy, now)?;
        ticket::Entity::insert_many(rows).exec(tx.connection()).await?;
        super::sla::insert_clocks(&tx, &clocks).await?;
        if !comments.is_empty() {
            ticket_comment::Entity::insert_many(comments).exec(tx.connection()).await?;
        }
        if !csat.is_empty() {
            csat_response::Entity::insert_many(csat).exec(tx.connection()).await?;
        }
        for escalation in &escalations {
            super::sla::insert_escalation(&tx, escalation).await?;
        }
        tx.commit().await?;
        tracing::info!(tenant = demo_tenant.slug, "seeded support demo data");
    }
    Ok(())
}

/// Every demo tenant's SLA policy: the standard targets on weekdays 09:00–17:00 in the
/// tenant's time zone, with the year-end holidays, pausing while pending or on hold.
pub fn standard_policy(tenant: &DemoTenant) -> SlaPolicy {
    let holidays = ["2026-12-25", "2026-12-26", "2027-01-01"].map(|day| day.parse().expect("holiday date"));
    SlaPolicy {
        id: demo::id("sla_policy", 1, tenant.slug),
        code: "standard".to_owned(),
        name: "Standard support".to_owned(),
        schedule: BusinessHoursSchedule::weekdays(
            tenant.timezone,
            NaiveTime::from_hms_opt(9, 0, 0).expect("09:00"),
            NaiveTime::from_hms_opt(17, 0, 0).expect("17:00"),
        )
        .with_holidays(holidays),
        pause_on: vec![TicketStatus::Pending, TicketStatus::OnHold],
        targets: standard_targets(),
    }
}

/// A ticket to seed, created `days_ago` days before the seed instant.
struct PlannedTicket {
    days_ago: i64,
    category: TicketCategory,
    priority: TicketPriority,
    status: TicketStatus,
    /// Hours from creation to solving, when the story fixes them (else random).
    solved_after_hours: Option<i64>,
}

impl PlannedTicket {
    fn new(days_ago: i64, category: TicketCategory, priority: TicketPriority, status: TicketStatus) -> Self {
        PlannedTicket { days_ago, category, priority, status, solved_after_hours: None }
    }

    fn solved_after(mut self, hours: i64) -> Self {
        self.solved_after_hours = Some(hours);
        self
    }
}

/// The instants of a seeded ticket's history that its clocks follow.
#[derive(Debug, Clone, Copy)]
struct TicketHistory {
    created_at: DateTime<Utc>,
    responded: Option<DateTime<Utc>>,
    paused_at: Option<DateTime<Utc>>,
    solved_at: Option<DateTime<Utc>>,
}

/// A seeded ticket's clocks as its history would have left them: started at creation, the
/// first response met at `responded`, the resolution clock paused when the ticket started
/// waiting or met when it was solved; a clock whose due time passed first is breached (at
/// its due time), as the evaluator would have marked it.
fn replayed_clocks(
    policy: &SlaPolicy,
    ticket_id: Uuid,
    priority: TicketPriority,
    history: &TicketHistory,
    now: DateTime<Utc>,
) -> Result<Vec<SlaClock>, SupportError> {
    let TicketHistory { created_at, responded, paused_at, solved_at } = *history;
    let clock_error = |error: ClockError| SupportError::Database(sea_orm::DbErr::Custom(error.to_string()));
    let mut clocks = Vec::new();
    for metric in METRICS_STARTED_ON_CREATE {
        let Some(target) = policy.target(priority, metric) else { continue };
        let mut clock = SlaClock::start(ticket_id, target, &policy.schedule, created_at).map_err(clock_error)?;
        clock.id = demo::id("sla_clock", clocks.len() as u64, &format!("{ticket_id}/{}", metric.as_str()));
        let (ends_at, ends_by_pause) = match metric {
            SlaMetric::FirstResponse => (responded.or(solved_at), false),
            _ => match solved_at {
                Some(solved) => (Some(solved), false),
                None => (paused_at, paused_at.is_some()),
            },
        };
        let until = ends_at.unwrap_or(now);
        if clock.due_at.is_some_and(|due| due <= until) {
            clock.breach(until).map_err(clock_error)?;
        }
        match ends_at {
            // A clock breached before the ticket started waiting stays breached.
            Some(at) if ends_by_pause && clock.status == SlaClockStatus::Running => {
                clock.pause(&policy.schedule, at).map_err(clock_error)?;
            }
            Some(_) if ends_by_pause => {}
            Some(at) => clock.fulfil(&policy.schedule, at).map_err(clock_error)?,
            None => {}
        }
        clocks.push(clock);
    }
    Ok(clocks)
}

/// Picks from `(weight, value)` pairs whose weights sum to 100.
fn weighted<T: Copy>(rng: &mut SeedRng, choices: &[(i64, T)]) -> T {
    let mut roll = rng.between(1, 100);
    for (weight, value) in choices {
        if roll <= *weight {
            return *value;
        }
        roll -= weight;
    }
    choices[choices.len() - 1].1
}

/// The demo ticket mix (docs/domain.md#demo-data): Ridgeline's (also used for Helix), and
/// Veritas' with 35 % compliance requests.
fn category_mix(tenant: &DemoTenant) -> &'static [(i64, TicketCategory)] {
    use TicketCategory::{BillingQuestion, ComplianceRequest, ConfigChange, DataFix, Defect, HowTo, Outage};
    match tenant.slug {
        "veritas" => &[
            (35, ComplianceRequest),
            (30, HowTo),
            (13, Defect),
            (8, DataFix),
            (7, ConfigChange),
            (5, BillingQuestion),
            (2, Outage),
        ],
        _ => &[(55, HowTo), (20, Defect), (10, DataFix), (8, ConfigChange), (5, BillingQuestion), (2, Outage)],
    }
}

fn generated_tickets(tenant: &DemoTenant, count: i64, rng: &mut SeedRng) -> Vec<PlannedTicket> {
    use TicketPriority::{High, Low, Normal, Urgent};
    use TicketStatus::{New, OnHold, Open, Pending, Solved};
    let mut tickets: Vec<PlannedTicket> = (0..count)
        .map(|_| {
            let days_ago = rng.between(1, 180);
            let category = weighted(rng, category_mix(tenant));
            let priority = if category == TicketCategory::Outage {
                Urgent
            } else {
                weighted(rng, &[(5, Urgent), (20, High), (50, Normal), (25, Low)])
            };
            // Only recent tickets are still being worked on.
            let status = if days_ago <= 14 {
                weighted(rng, &[(15, New), (25, Open), (15, Pending), (7, OnHold), (38, Solved)])
            } else {
                Solved
            };
            PlannedTicket::new(days_ago, category, priority, status)
        })
        .collect();
    tickets.sort_by_key(|ticket| std::cmp::Reverse(ticket.days_ago));
    tickets
}

/// The story tickets (docs/domain.md#story-accounts), or a generated mix for everyone else.
fn tickets_of(tenant: &DemoTenant, customer: &DemoCustomer, rng: &mut SeedRng) -> Vec<PlannedTicket> {
    use TicketCategory::{ComplianceRequest, ConfigChange, DataFix, Defect, HowTo, Outage};
    use TicketPriority::{High, Normal, Urgent};
    use TicketStatus::{OnHold, Open, Pending, Solved};
    match customer.story {
        Some(Story::Rheinwerk) => vec![
            // Two months of high-priority trouble, three tickets still open. Two were
            // solved long after their three-business-day resolution target, and the one on
            // hold had run past it before it started waiting: breached SLAs.
            PlannedTicket::new(58, ComplianceRequest, High, Solved),
            PlannedTicket::new(51, Defect, High, Solved).solved_after(240),
            PlannedTicket::new(44, Outage, Urgent, Solved),
            PlannedTicket::new(37, DataFix, High, Solved).solved_after(200),
            PlannedTicket::new(29, ComplianceRequest, Normal, Solved),
            PlannedTicket::new(20, Defect, High, OnHold),
            PlannedTicket::new(9, ComplianceRequest, High, Pending),
            PlannedTicket::new(4, DataFix, High, Open),
        ],
        Some(Story::PrairieFoods) => {
            let mut tickets = calm(generated_tickets(tenant, 4, rng));
            tickets.push(PlannedTicket::new(6, DataFix, High, Pending));
            tickets.push(PlannedTicket::new(3, Defect, Urgent, Open));
            tickets
        }
        Some(Story::SummitAg | Story::ThamesMutual) => {
            let count = rng.between(2, 5);
            calm(generated_tickets(tenant, count, rng))
        }
        Some(Story::BlueHeron) => {
            vec![PlannedTicket::new(2, HowTo, Normal, Solved), PlannedTicket::new(1, ConfigChange, Normal, Open)]
        }
        _ => {
            let count = rng.between(2, 8);
            generated_tickets(tenant, count, rng)
        }
    }
}

/// Healthy or scripted accounts keep generated tickets from adding open urgent/high work:
/// such a ticket is recorded as normal priority instead.
fn calm(mut tickets: Vec<PlannedTicket>) -> Vec<PlannedTicket> {
    for ticket in &mut tickets {
        if ticket.status.is_open() && ticket.priority.is_urgent_or_high() {
            ticket.priority = TicketPriority::Normal;
        }
    }
    tickets
}

fn subject(category: TicketCategory, rng: &mut SeedRng) -> &'static str {
    let choices: &[&'static str] = match category {
        TicketCategory::HowTo => &[
            "How do I set up a recurring journal?",
            "Where do I change the default payment terms?",
            "How can I export the aged receivables report?",
        ],
        TicketCategory::Defect => &[
            "Posting to the general ledger fails with an error",
            "Sales invoice PDF shows the wrong tax total",
            "Bank reconciliation skips imported lines",
        ],
        TicketCategory::DataFix => &[
            "Opening balances are off after the migration",
            "Duplicate vendor records need merging",
            "Wrong currency on imported customer records",
        ],
        TicketCategory::ConfigChange => &[
            "Add a new dimension for cost centres",
            "Change the approval workflow for purchase orders",
            "Enable a second company for the subsidiary",
        ],
        TicketCategory::Outage => &["Users cannot log in", "System unavailable since this morning"],
        TicketCategory::BillingQuestion => &["Question about the latest invoice", "Please update our billing contact"],
        TicketCategory::ComplianceRequest => &[
            "Evidence request for the quarterly control review",
            "Data subject access request needs a response",
            "Update the records-of-processing register",
        ],
        TicketCategory::ChangeRequest => &["Extend the integration to the warehouse system"],
    };
    choices[rng.between(0, choices.len() as i64 - 1) as usize]
}

fn tier(tenant: &DemoTenant, priority: TicketPriority, rng: &mut SeedRng) -> SupportTierLevel {
    let roll = rng.between(1, 100);
    if tenant.kind == "oem_vendor" {
        // Two-tier support: partners answer first, 18 % escalate to the provider.
        if roll <= 18 { SupportTierLevel::ProviderL2 } else { SupportTierLevel::PartnerL1 }
    } else if priority == TicketPriority::Urgent && roll <= 50 {
        SupportTierLevel::ProviderL3
    } else {
        SupportTierLevel::ProviderL2
    }
}

/// Everything seeded for one tenant.
#[derive(Default)]
struct PlannedRows {
    tickets: Vec<ticket::ActiveModel>,
    clocks: Vec<SlaClock>,
    comments: Vec<ticket_comment::ActiveModel>,
    csat: Vec<csat_response::ActiveModel>,
    escalations: Vec<Escalation>,
}

fn plan_tenant(
    tenant: &DemoTenant,
    tenant_id: Uuid,
    policy: &SlaPolicy,
    now: DateTime<Utc>,
) -> Result<PlannedRows, SupportError> {
    let mut rng = SeedRng::new(&format!("support/{}", tenant.slug));
    // Replies, ratings and escalations draw from their own stream, so the ticket book
    // stays what it was before they were seeded.
    let mut aftercare = SeedRng::new(&format!("support-aftercare/{}", tenant.slug));
    let mut planned_rows = PlannedRows::default();
    let (mut rows, mut clocks) = (Vec::new(), Vec::new());
    let mut sequence = 0u64;
    for (ordinal, customer) in tenant.customers.iter().enumerate() {
        let customer_id = demo::customer_id(tenant, ordinal);
        let channel_partner_id = customer.partner.map(|partner| demo::partner_id(tenant, partner));
        let mail_domain: String =
            customer.name.to_ascii_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        for planned in tickets_of(tenant, customer, &mut rng) {
            sequence += 1;
            let number = format!("TCK-{sequence:06}");
            let created_at =
                now - TimeDelta::days(planned.days_ago) - TimeDelta::hours(rng.between(0, 20)) - TimeDelta::hours(1);
            let responded =
                (planned.status != TicketStatus::New).then(|| created_at + TimeDelta::minutes(rng.between(10, 240)));
            let solve_hours = rng.between(2, 96);
            let solved_at = (!planned.status.is_open()).then(|| {
                let hours = planned.solved_after_hours.unwrap_or(solve_hours);
                (created_at + TimeDelta::hours(hours)).min(now - TimeDelta::minutes(30))
            });
            // Waiting tickets started waiting halfway between creation and now.
            let paused_at = matches!(planned.status, TicketStatus::Pending | TicketStatus::OnHold)
                .then(|| created_at + (now - created_at) / 2);
            // Solved tickets are written closed four days later, as the planned auto-close
            // timer would do (docs/domain.md#ticket-lifecycle).
            let closed_at = solved_at.map(|solved| solved + TimeDelta::days(4)).filter(|closed| *closed < now);
            let status = if closed_at.is_some() { TicketStatus::Closed } else { planned.status };
            let channel = weighted(
                &mut rng,
                &[
                    (40, TicketChannel::Email),
                    (35, TicketChannel::Portal),
                    (15, TicketChannel::Phone),
                    (8, TicketChannel::Chat),
                    (2, TicketChannel::Api),
                ],
            );
            let ticket_id = demo::id("ticket", sequence, &format!("{}/{number}", tenant.slug));
            let history = TicketHistory { created_at, responded, paused_at, solved_at };
            let ticket_clocks = replayed_clocks(policy, ticket_id, planned.priority, &history, now)?;
            let agent = format!("agent-{}@{}", aftercare.between(1, 6), tenant.slug);
            if let Some(responded) = responded {
                planned_rows.comments.push(ticket_comment::ActiveModel {
                    tenant_id: Set(tenant_id),
                    id: Set(demo::id("ticket_comment", sequence, &format!("{}/{number}", tenant.slug))),
                    ticket_id: Set(ticket_id),
                    author_subject: Set(agent.clone()),
                    author_type: Set("agent".to_owned()),
                    public: Set(true),
                    body: Set("Thanks for reaching out, we are looking into it.".to_owned()),
                    created_at: Set(responded),
                });
            }
            // About one solved ticket in three is rated, 88 % of ratings good.
            if let Some(solved) = solved_at
                && aftercare.between(1, 3) == 1
            {
                let score =
                    if aftercare.between(1, 100) <= 88 { aftercare.between(4, 5) } else { aftercare.between(1, 3) };
                planned_rows.csat.push(csat_response::ActiveModel {
                    tenant_id: Set(tenant_id),
                    id: Set(demo::id("csat_response", sequence, &format!("{}/{number}", tenant.slug))),
                    ticket_id: Set(ticket_id),
                    score: Set(score as i32),
                    comment: Set(None),
                    received_at: Set(solved + TimeDelta::hours(2)),
                });
            }
            // Rheinwerk's on-hold ticket ran past its target: escalated to the team lead on
            // the breach and on to the support manager.
            if customer.story == Some(Story::Rheinwerk) && planned.status == TicketStatus::OnHold {
                let breached = ticket_clocks.iter().filter_map(|clock| clock.breached_at).max().unwrap_or(created_at);
                for (level, reason) in [(1, EscalationReason::SlaBreached), (2, EscalationReason::CustomerRequest)] {
                    planned_rows.escalations.push(Escalation {
                        id: demo::id("escalation", level as u64, &format!("{}/{number}", tenant.slug)),
                        ..Escalation::open(
                            ticket_id,
                            level,
                            reason,
                            format!("lead@{}", tenant.slug),
                            breached + TimeDelta::hours(i64::from(level)),
                        )
                    });
                }
            }
            clocks.extend(ticket_clocks);
            let status_changed_at = closed_at.or(solved_at).or(paused_at).or(responded).unwrap_or(created_at);
            rows.push(ticket::ActiveModel {
                tenant_id: Set(tenant_id),
                id: Set(ticket_id),
                number: Set(number),
                customer_account_id: Set(customer_id),
                subscription_id: Set(None),
                channel_partner_id: Set(channel_partner_id),
                requester_name: Set(format!("{} accounts team", customer.name)),
                requester_email: Set(format!("accounts@{mail_domain}.example")),
                subject: Set(subject(planned.category, &mut rng).to_owned()),
                channel: Set(channel.as_str().to_owned()),
                category: Set(planned.category.as_str().to_owned()),
                priority: Set(planned.priority.as_str().to_owned()),
                status: Set(status.as_str().to_owned()),
                tier: Set(tier(tenant, planned.priority, &mut rng).as_str().to_owned()),
                created_at: Set(created_at),
                first_responded_at: Set(responded),
                solved_at: Set(solved_at),
                closed_at: Set(closed_at),
                reopen_count: Set(0),
                version: Set(1),
                sla_policy_id: Set(Some(policy.id)),
                assignee_user_id: Set(None),
                status_changed_at: Set(Some(status_changed_at)),
            });
        }
    }
    planned_rows.tickets = rows;
    planned_rows.clocks = clocks;
    Ok(planned_rows)
}
