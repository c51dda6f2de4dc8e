//! The analytics read models and KPIs on one hand-built dataset (docs/domain.md#kpis,
//! docs/domain.md#analytics-read-models): finance, delivery and support envelopes go through
//! the real consumer into the database (some twice, some out of order), then every KPI over
//! the 90 days ending 2026-12-31 is compared to the values worked out by hand below, the
//! customer facts to theirs, and a rebuild from the journal must answer the same.
//!
//! Dataset (tenant `helix`, window D90 = [2026-10-03, 2026-12-31]):
//! customers A and B belong to channel partner P, C and D are direct.
//! - Contracts: K1 (A) signed 2026-10-01, K2 (B) 2026-09-15, K3 (C) 2026-11-01.
//! - Engagements: E1 (A, K1) activated 2026-10-05 target onboard 2026-11-04 (30 d), onboarded
//!   2026-10-29 (TTO 28), go-live target 2026-12-01, live 2026-12-11 (variance +10);
//!   E2 (B, K2) activated 2026-09-20 target 2026-10-20 (30 d), onboarded 2026-11-04 (TTO 50),
//!   go-live target 2026-12-20, live 2026-12-18 (variance −2); E3 (C, K3) activated
//!   2026-11-02 target 2026-12-02 (30 d), onboarded 2026-11-20 (TTO 19).
//! - Milestones: E1 M1 due 10-20 done 10-19 ✓; M2 due 11-30 needs acceptance, completed 11-28,
//!   accepted 12-03 ✗; M3 due 12-15 done 12-14 ✓. E2 M4 due 11-10 done 11-10 ✓; M5 due 09-01
//!   (outside). E3 M6 due 12-20 done 12-19 ✓.
//! - MRR movements: A +1000 2025-06-01, +200 2026-11-01; B +500 2026-02-01, −100 2026-12-01;
//!   C +300 2026-03-01, −300 2026-12-15; D +400 2026-11-15 (new logo).
//! - Invoices: I1 (A) issued 09-01 due 10-01 balance 1000; I2 (B) issued 11-01 due 12-01 total
//!   and balance 500; I3 (C) issued 10-15 total 800, paid (the older `issued` arrives late);
//!   I4 (A) issued 10-20 due 10-30 total 600, partially paid to 300.
//! - Ticket clocks: T1 (A) first response met 12-01, resolution breached 12-02 (fulfilled
//!   late 12-03); T2 (B) both met 11-15/11-16 (+ a next-response breach, not counted);
//!   T3 (C) first response breached 10-10; T4 (C) met 09-01 (outside).
//! - Engagement financials: E1 closed 12-20 revenue 10000 IMV −4 pp; E2 closed 12-22 revenue
//!   30000 IMV −12 pp (an older not-closed version arrives late); E3 open.
//! - Time: A 8 h on grant G (12-01) and 4 h without (12-02); B 4 h on grant G2 (11-01).

use atrium_analytics::{
    events::AnalyticsEvents,
    kpi::{KpiValue, KpiWindow, snapshots},
    read_models::rebuild,
    repository::facts,
};
use atrium_kit::{
    TenantContext, TenantTransaction, demo,
    events::{DomainEvent, EventHandler, Subject},
    testing::{self, TestDatabase, context_for},
};
use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestAnalytics, spawn_with_database};

const SLUG: &str = "helix";

fn period_end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
}

struct Dataset {
    tenant: Uuid,
    partner: Uuid,
    a: Uuid,
    b: Uuid,
    c: Uuid,
    d: Uuid,
}

impl Dataset {
    fn new() -> Self {
        let tenant = demo::tenant_by_slug(SLUG).unwrap();
        Dataset {
            tenant: demo::tenant_id(SLUG),
            partner: demo::partner_id(tenant, 0),
            a: Uuid::now_v7(),
            b: Uuid::now_v7(),
            c: Uuid::now_v7(),
            d: Uuid::now_v7(),
        }
    }

    fn partner_of(&self, customer: Uuid) -> Option<Uuid> {
        (customer == self.a || customer == self.b).then_some(self.partner)
    }

    /// An envelope about `customer` on `day` at noon UTC.
    fn event(
        &self,
        customer: Uuid,
        event_type: &str,
        subject: (&str, Uuid, i64),
        day: &str,
        data: Value,
    ) -> DomainEvent {
        let subject = Subject { entity_type: subject.0.to_owned(), id: subject.1, version: subject.2 };
        let context = TenantContext::automation(self.tenant, "test");
        let mut event =
            DomainEvent::new(&context, event_type, subject).with_ref("customer_account_id", customer).with_data(data);
        if let Some(partner) = self.partner_of(customer) {
            event = event.with_ref("channel_partner_id", partner);
        }
        let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
        event.occurred_at = Utc.from_utc_datetime(&day.and_hms_opt(12, 0, 0).unwrap());
        event
    }
}

async fn deliver(database: &DatabaseConnection, event: &DomainEvent) {
    let handler = AnalyticsEvents::new();
    assert!(handler.wants(&event.event_type), "{}", event.event_type);
    let context = TenantContext::automation(event.tenant_id, "consumer:analytics");
    let tx = TenantTransaction::begin(database, &context).await.unwrap();
    handler.handle(&tx, event).await.expect("event applied");
    tx.commit().await.unwrap();
}

/// Every event of the dataset, in the order (and with the repeats) the test delivers them.
fn dataset_events(data: &Dataset) -> Vec<DomainEvent> {
    let mut events = Vec::new();
    let (k1, k2, k3) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    for (customer, contract, signed) in
        [(data.a, k1, "2026-10-01"), (data.b, k2, "2026-09-15"), (data.c, k3, "2026-11-01")]
    {
        events.push(
            data.event(
                customer,
                "finance.contract.signed",
                ("Contract", contract, 3),
                signed,
                json!({ "signed_date": signed, "lines": [] }),
            )
            .with_ref("contract_id", contract),
        );
    }

    let milestone_ids: Vec<Uuid> = (0..6).map(|_| Uuid::now_v7()).collect();
    let milestone = |index: usize, due: &str, acceptance: bool| json!({ "milestone_id": milestone_ids[index], "due_date": due, "requires_acceptance": acceptance });
    struct Plan {
        customer: Uuid,
        contract: Uuid,
        activated: (&'static str, &'static str, &'static str),
        onboarded: &'static str,
        live: Option<&'static str>,
        milestones: Vec<Value>,
    }
    let plans = [
        Plan {
            customer: data.a,
            contract: k1,
            activated: ("2026-10-05", "2026-11-04", "2026-12-01"),
            onboarded: "2026-10-29",
            live: Some("2026-12-11"),
            milestones: vec![
                milestone(0, "2026-10-20", false),
                milestone(1, "2026-11-30", true),
                milestone(2, "2026-12-15", false),
            ],
        },
        Plan {
            customer: data.b,
            contract: k2,
            activated: ("2026-09-20", "2026-10-20", "2026-12-20"),
            onboarded: "2026-11-04",
            live: Some("2026-12-18"),
            milestones: vec![milestone(3, "2026-11-10", false), milestone(4, "2026-09-01", false)],
        },
        Plan {
            customer: data.c,
            contract: k3,
            activated: ("2026-11-02", "2026-12-02", "2027-02-01"),
            onboarded: "2026-11-20",
            live: None,
            milestones: vec![milestone(5, "2026-12-20", false)],
        },
    ];
    let mut engagements = Vec::new();
    for plan in plans {
        let engagement = Uuid::now_v7();
        engagements.push((plan.customer, engagement));
        let on = |event_type: &str, version: i64, day: &str, body: Value| {
            data.event(plan.customer, event_type, ("Engagement", engagement, version), day, body)
                .with_ref("engagement_id", engagement)
                .with_ref("contract_id", plan.contract)
        };
        events.push(on(
            "delivery.engagement.created",
            1,
            plan.activated.0,
            json!({ "status": "draft", "milestones": plan.milestones }),
        ));
        events.push(on(
            "delivery.engagement.activated",
            2,
            plan.activated.0,
            json!({ "status": "onboarding", "start_date": plan.activated.0, "target_onboard_date": plan.activated.1,
                    "go_live_target_date": plan.activated.2 }),
        ));
        events.push(on(
            "delivery.engagement.onboarding_completed",
            3,
            plan.onboarded,
            json!({ "from": "onboarding", "to": "delivering" }),
        ));
        if let Some(live) = plan.live {
            events.push(on("delivery.engagement.went_live", 4, live, json!({ "from": "delivering", "to": "live" })));
        }
    }
    let done = |index: usize, customer: Uuid, engagement: Uuid, verb: &str, version: i64, day: &str| {
        data.event(
            customer,
            &format!("delivery.milestone.{verb}"),
            ("Milestone", milestone_ids[index], version),
            day,
            json!({}),
        )
        .with_ref("engagement_id", engagement)
    };
    let (e1, e2, e3) = (engagements[0].1, engagements[1].1, engagements[2].1);
    let tasks: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
    events.push(
        data.event(
            data.a,
            "delivery.onboarding_task.activated",
            ("Engagement", e1, 2),
            "2026-10-05",
            json!({ "task_ids": tasks, "tasks": [
                { "task_id": tasks[0], "kind": "checklist", "customer_facing": true, "due_date": "2026-10-10" },
                { "task_id": tasks[1], "kind": "checklist", "customer_facing": false, "due_date": "2026-10-15" },
                { "task_id": tasks[2], "kind": "work", "customer_facing": true, "due_date": "2026-12-20" },
                { "task_id": tasks[3], "kind": "checklist", "customer_facing": true, "due_date": "2027-01-15" },
            ] }),
        )
        .with_ref("engagement_id", e1),
    );
    for (task, day) in [(tasks[0], "2026-10-09"), (tasks[1], "2026-10-20")] {
        events.push(
            data.event(data.a, "delivery.task.completed", ("Task", task, 2), day, json!({ "kind": "checklist" }))
                .with_ref("engagement_id", e1),
        );
    }
    events.push(done(0, data.a, e1, "completed", 2, "2026-10-19"));
    events.push(done(1, data.a, e1, "completed", 2, "2026-11-28"));
    events.push(done(1, data.a, e1, "accepted", 3, "2026-12-03"));
    events.push(done(2, data.a, e1, "completed", 2, "2026-12-14"));
    events.push(done(3, data.b, e2, "completed", 2, "2026-11-10"));
    events.push(done(4, data.b, e2, "completed", 2, "2026-08-30"));
    events.push(done(5, data.c, e3, "completed", 2, "2026-12-19"));

    for (customer, delta, day, kind) in [
        (data.a, "1000.00", "2025-06-01", "new"),
        (data.a, "200.00", "2026-11-01", "expansion"),
        (data.b, "500.00", "2026-02-01", "new"),
        (data.b, "-100.00", "2026-12-01", "contraction"),
        (data.c, "300.00", "2026-03-01", "new"),
        (data.c, "-300.00", "2026-12-15", "churn"),
        (data.d, "400.00", "2026-11-15", "new"),
    ] {
        let movement = Uuid::now_v7();
        events.push(data.event(
            customer,
            "finance.mrr.changed",
            ("MrrMovement", movement, 1),
            day,
            json!({ "movement_id": movement, "movement_type": kind, "effective_date": day, "mrr_delta": delta, "currency": "EUR" }),
        ));
    }

    let invoice = |customer: Uuid, id: Uuid, verb: &str, version: i64, fields: (&str, &str, &str, &str, &str)| {
        let (status, issued, due, total, balance) = fields;
        data.event(
            customer,
            &format!("finance.invoice.{verb}"),
            ("Invoice", id, version),
            issued,
            json!({ "status": status, "issue_date": issued, "due_date": due, "currency": "EUR", "total": total,
                    "amount_paid": "0.00", "amount_credited": "0.00", "balance_due": balance, "disputed_amount": "0.00" }),
        )
        .with_ref("invoice_id", id)
    };
    let (i1, i2, i3, i4) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    events.push(invoice(data.a, i1, "issued", 1, ("issued", "2026-09-01", "2026-10-01", "1000.00", "1000.00")));
    events.push(invoice(data.b, i2, "issued", 1, ("issued", "2026-11-01", "2026-12-01", "500.00", "500.00")));
    // The payment's event arrives before the issue's: the older version must not reopen it.
    events.push(invoice(data.c, i3, "paid", 2, ("paid", "2026-10-15", "2026-11-14", "800.00", "0.00")));
    events.push(invoice(data.c, i3, "issued", 1, ("issued", "2026-10-15", "2026-11-14", "800.00", "800.00")));
    events.push(invoice(data.a, i4, "issued", 1, ("issued", "2026-10-20", "2026-10-30", "600.00", "600.00")));
    events.push(invoice(
        data.a,
        i4,
        "payment_applied",
        2,
        ("partially_paid", "2026-10-20", "2026-10-30", "600.00", "300.00"),
    ));

    let (t1, t2, t3, t4) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let ticket = |customer: Uuid, id: Uuid, event_type: &str, version: i64, day: &str, body: Value| {
        data.event(customer, event_type, ("Ticket", id, version), day, body)
    };
    let clock = |customer: Uuid, id: Uuid, event_type: &str, day: &str, body: Value| {
        data.event(customer, event_type, ("SlaClock", Uuid::now_v7(), 2), day, body).with_ref("ticket_id", id)
    };
    // T1's priority change (version 2) arrives before its creation (version 1).
    events.push(ticket(
        data.a,
        t1,
        "support.ticket.priority_changed",
        2,
        "2026-12-01",
        json!({ "from": "high", "to": "urgent" }),
    ));
    events.push(ticket(data.a, t1, "support.ticket.created", 1, "2026-12-01", json!({ "priority": "high" })));
    events.push(clock(
        data.a,
        t1,
        "support.sla.fulfilled",
        "2026-12-01",
        json!({ "metric": "first_response", "priority": "urgent", "breached": false }),
    ));
    events.push(clock(
        data.a,
        t1,
        "support.sla.breached",
        "2026-12-02",
        json!({ "metric": "resolution", "priority": "urgent" }),
    ));
    events.push(clock(
        data.a,
        t1,
        "support.sla.fulfilled",
        "2026-12-03",
        json!({ "metric": "resolution", "priority": "urgent", "breached": true }),
    ));
    let escalation = data
        .event(
            data.a,
            "support.escalation.created",
            ("Escalation", Uuid::now_v7(), 1),
            "2026-12-05",
            json!({ "level": 2, "ticket_id": t1 }),
        )
        .with_ref("ticket_id", t1);
    events.push(escalation.clone());
    events.push(escalation);
    events.push(ticket(data.b, t2, "support.ticket.created", 1, "2026-11-15", json!({ "priority": "high" })));
    events.push(clock(
        data.b,
        t2,
        "support.sla.fulfilled",
        "2026-11-15",
        json!({ "metric": "first_response", "priority": "high", "breached": false }),
    ));
    events.push(clock(
        data.b,
        t2,
        "support.sla.breached",
        "2026-11-15",
        json!({ "metric": "next_response", "priority": "high" }),
    ));
    events.push(clock(
        data.b,
        t2,
        "support.sla.fulfilled",
        "2026-11-16",
        json!({ "metric": "resolution", "priority": "high", "breached": false }),
    ));
    events.push(ticket(
        data.b,
        t2,
        "support.ticket.solved",
        2,
        "2026-11-16",
        json!({ "from": "open", "to": "solved" }),
    ));
    events.push(
        data.event(
            data.b,
            "support.csat.received",
            ("CsatResponse", Uuid::now_v7(), 1),
            "2026-11-20",
            json!({ "score": 5, "rating": "good" }),
        )
        .with_ref("ticket_id", t2),
    );
    events.push(ticket(data.c, t3, "support.ticket.created", 1, "2026-10-10", json!({ "priority": "normal" })));
    events.push(clock(
        data.c,
        t3,
        "support.sla.breached",
        "2026-10-10",
        json!({ "metric": "first_response", "priority": "normal" }),
    ));
    events.push(ticket(data.c, t4, "support.ticket.created", 1, "2026-09-01", json!({ "priority": "low" })));
    events.push(clock(
        data.c,
        t4,
        "support.sla.fulfilled",
        "2026-09-01",
        json!({ "metric": "first_response", "priority": "low", "breached": false }),
    ));

    let financials = |customer: Uuid,
                      engagement: Uuid,
                      version: i64,
                      day: &str,
                      revenue: &str,
                      imv: &str,
                      closed: bool| {
        data.event(
            customer,
            "finance.engagement_financials.updated",
            ("EngagementFinancials", engagement, version),
            day,
            json!({ "revenue_plan": revenue, "margin_variance_pp": imv, "status": "amber", "currency": "EUR", "closed": closed }),
        )
        .with_ref("engagement_id", engagement)
    };
    events.push(financials(data.a, e1, 1, "2026-12-20", "10000.00", "-4.0", true));
    events.push(financials(data.b, e2, 2, "2026-12-22", "30000.00", "-12.0", true));
    events.push(financials(data.b, e2, 1, "2026-11-01", "30000.00", "0.0", false));
    events.push(financials(data.c, e3, 1, "2026-12-01", "5000.00", "2.0", false));

    for (customer, engagement, day, hours, grant) in [
        (data.a, e1, "2026-12-01", "8.00", Some(Uuid::now_v7())),
        (data.a, e1, "2026-12-02", "4.00", None),
        (data.b, e2, "2026-11-01", "4.00", Some(Uuid::now_v7())),
    ] {
        let entry = Uuid::now_v7();
        events.push(
            data.event(
                customer,
                "delivery.time_entry.approved",
                ("TimeEntry", entry, 2),
                day,
                json!({ "time_entry_id": entry, "work_date": day, "hours": hours, "billable": true,
                        "cost_amount": "0.00", "bill_amount": "0.00", "currency": "EUR", "entitlement_grant_id": grant }),
            )
            .with_ref("engagement_id", engagement),
        );
    }
    events
}

async fn kpis(database: &DatabaseConnection, tenant: Uuid, partner: Option<Uuid>) -> Vec<KpiValue> {
    kpis_on(database, tenant, partner, period_end()).await
}

async fn kpis_on(database: &DatabaseConnection, tenant: Uuid, partner: Option<Uuid>, day: NaiveDate) -> Vec<KpiValue> {
    let tx = TenantTransaction::begin(database, &TenantContext::automation(tenant, "test")).await.unwrap();
    snapshots::compute(&tx, partner, KpiWindow::D90, day).await.unwrap()
}

fn kpi<'a>(all: &'a [KpiValue], code: &str) -> &'a KpiValue {
    all.iter().find(|kpi| kpi.code == code).unwrap_or_else(|| panic!("no KPI {code}"))
}

#[track_caller]
fn assert_kpi(
    all: &[KpiValue],
    code: &str,
    value: Option<f64>,
    numerator: Option<f64>,
    denominator: Option<f64>,
    n: i64,
) {
    let kpi = kpi(all, code);
    let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        (None, None) => true,
        _ => false,
    };
    assert!(
        close(kpi.value, value) && close(kpi.numerator, numerator) && close(kpi.denominator, denominator) && kpi.n == n,
        "{code}: got {kpi:?}, expected value {value:?} = {numerator:?} / {denominator:?}, n {n}"
    );
}

async fn assert_golden_kpis(analytics: &TestAnalytics, database: &DatabaseConnection) {
    let data = Dataset::new();
    for event in dataset_events(&data) {
        deliver(database, &event).await;
    }
    let all = kpis(database, data.tenant, None).await;

    // TTO_e = 28 (E1), 50 (E2), 19 (E3) → median 28, n 3.
    assert_kpi(&all, "time_to_onboard", Some(28.0), None, None, 3);
    // On target (≤ 30 d): E1 and E3 → 2 / 3.
    assert_kpi(&all, "tto_on_target_rate", Some(2.0 / 3.0), Some(2.0), Some(3.0), 3);
    // Went live in W: E1 +10, E2 −2 → 8 / 2 = 4 days.
    assert_kpi(&all, "go_live_variance_days", Some(4.0), Some(8.0), Some(2.0), 2);
    // Due in W: M1 M2 M3 M4 M6 (M5 outside) → attained M1 M3 M4 M6 = 4 / 5.
    assert_kpi(&all, "milestone_attainment_rate", Some(0.8), Some(4.0), Some(5.0), 5);
    // C0 at 2026-10-03: A 1000, B 500, C 300 (D is new) = 1800.
    // GRR = min(1200,1000) + min(400,500) + min(0,300) = 1400 / 1800.
    assert_kpi(&all, "grr", Some(1400.0 / 1800.0), Some(1400.0), Some(1800.0), 3);
    // NRR = (1200 + 400 + 0) / 1800.
    assert_kpi(&all, "nrr", Some(1600.0 / 1800.0), Some(1600.0), Some(1800.0), 3);
    // Logo churn: C → 1 / 3.
    assert_kpi(&all, "logo_churn", Some(1.0 / 3.0), Some(1.0), Some(3.0), 3);
    // Clocks ended in W: T1 fr ✓, T1 res ✗, T2 fr ✓, T2 res ✓, T3 fr ✗ → 3 / 5.
    assert_kpi(&all, "sla_attainment", Some(0.6), Some(3.0), Some(5.0), 5);
    // Open AR: I1 1000 (91 dpd), I2 500 (30 dpd), I4 300 (62 dpd) = 1800; > 60: 1300.
    assert_kpi(&all, "ar_over_60_share", Some(1300.0 / 1800.0), Some(1300.0), Some(1800.0), 3);
    // DSO = 1800 × 90 / invoiced in W (I2 500 + I3 800 + I4 600 = 1900) = 85.26 days.
    assert_kpi(&all, "dso", Some(162_000.0 / 1900.0), Some(162_000.0), Some(1900.0), 3);
    // IMV = (10000 × −4 + 30000 × −12) / 40000 = −400000 / 40000 = −10 pp.
    assert_kpi(&all, "implementation_margin_variance_pp", Some(-10.0), Some(-400_000.0), Some(40_000.0), 2);
    // Hours on grants 8 + 4 = 12 of 16.
    assert_kpi(&all, "entitlement_hours_share", Some(0.75), Some(12.0), Some(16.0), 3);
    // TSH: the dataset's breaches and disputes snapshotted its customers' health, every
    // latest score at most 55 (red_at) or none (checked here), so customer health → 0;
    // SLA 0.6 → 0, MAR 0.8 → 100·(0.8−0.65)/0.25 = 60, AR 0.722 → 0, GRR T12M
    // (C0 = A: 1000 → 1200) 1.0 → 100.
    // (0×0.4 + 0×0.2 + 60×0.2 + 0×0.1 + 100×0.1) / 1.0 = 22, n 5 components.
    let tx = TenantTransaction::begin(database, &TenantContext::automation(data.tenant, "test")).await.unwrap();
    let scores = tx
        .connection()
        .query_all_raw(Statement::from_string(
            tx.connection().get_database_backend(),
            "SELECT score FROM health_snapshots WHERE score IS NOT NULL",
        ))
        .await
        .unwrap();
    assert!(!scores.is_empty(), "the dataset's events snapshot health");
    for row in scores {
        assert!(row.try_get::<i32>("", "score").unwrap() <= 55, "a score above red_at would raise TSH");
    }
    drop(tx);
    assert_kpi(&all, "tenant_service_health", Some(22.0), Some(22.0), Some(1.0), 5);
    // No decided renewals (no `renewals` rows): 0 renewed of 0, not published.
    assert_kpi(&all, "support_renewal_correlation", None, Some(0.0), Some(0.0), 0);
    assert_eq!(kpi(&all, "support_renewal_correlation").reason, Some("insufficient_sample"));

    // Partner P (A, B): MAR M1 ✓ M2 ✗ M3 ✓ M4 ✓ = 3 / 4; GRR (1000 + 400) / 1500.
    let partner = kpis(database, data.tenant, Some(data.partner)).await;
    assert_kpi(&partner, "milestone_attainment_rate", Some(0.75), Some(3.0), Some(4.0), 4);
    assert_kpi(&partner, "grr", Some(1400.0 / 1500.0), Some(1400.0), Some(1500.0), 2);

    // The escalation delivered twice counts once; T1 stays urgent though its creation came late.
    let tx = TenantTransaction::begin(database, &TenantContext::automation(data.tenant, "test")).await.unwrap();
    let row = tx
        .connection()
        .query_one_raw(Statement::from_sql_and_values(
            tx.connection().get_database_backend(),
            "SELECT escalations, priority FROM rm_ticket_sla WHERE tenant_id = $1 AND customer_account_id = $2",
            vec![data.tenant.into(), data.a.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<i32>("", "escalations").unwrap(), 1);
    assert_eq!(row.try_get::<String>("", "priority").unwrap(), "urgent");

    // Customer A's facts on 2026-12-31.
    let found = facts::customer_facts(&tx, &[data.a, data.b], period_end()).await.unwrap();
    let a = &found[0];
    assert_eq!(a.channel_partner_id, Some(data.partner));
    // ARR = 12 × (1000 + 200).
    assert_eq!(a.arr, Some(Decimal::from(14_400)));
    // A's open AR: I1 1000 and I4 300, both > 60 dpd; the oldest 91 days past due.
    assert_eq!((a.ar_over_60_share, a.max_days_past_due), (Some(1.0), Some(91)));
    // M1 ✓ M2 ✗ M3 ✓ = 2 / 3; T1: 1 met of 2 clocks.
    assert_eq!(a.milestone_attainment_90d, Some(2.0 / 3.0));
    assert_eq!(a.sla_attainment_90d, Some(0.5));
    assert_eq!((a.open_urgent_high, a.escalations_90d, a.open_escalation_max_level), (Some(1.0), Some(1.0), Some(2)));
    // E1 is live (open), 10 days past its go-live target.
    assert_eq!(a.go_live_variance_days, Some(10.0));
    assert!(!a.urgent_sla_breach_7d, "the breach was 29 days before");
    // Tasks: the customer-facing work task due 12-20 is open (the one due 2027-01-15 is not
    // due yet) → 1 overdue; checklist due by 12-31: TK1 on time, TK2 late → 1 / 2.
    assert_eq!((a.customer_tasks_overdue, a.onboarding_checklist_on_time), (Some(1.0), Some(0.5)));
    // B answered CSAT 5 → positive share 1.0; no open urgent/high (T2 solved).
    assert_eq!((found[1].csat_90d, found[1].open_urgent_high), (Some(1.0), Some(0.0)));
    // Facts load only the asked customers' rows, and those alone decide them: A asked alone
    // has the same facts as A asked with B.
    let alone = facts::customer_facts(&tx, &[data.a], period_end()).await.unwrap();
    assert_eq!(alone, found[..1].to_vec());
    drop(tx);

    // A rebuild from the journal answers the same.
    let journaled = journal_count(database, data.tenant).await;
    let mut reports = Vec::new();
    let replayed = rebuild::rebuild_tenant(database, data.tenant, |progress| reports.push(progress)).await.unwrap();
    assert_eq!(replayed, journaled);
    assert_eq!(reports.last().map(|progress| (progress.replayed, progress.total)), Some((journaled, journaled)));
    assert_eq!(kpis(database, data.tenant, None).await, all);
    assert_eq!(kpis(database, data.tenant, Some(data.partner)).await, partner);

    // The nightly job stores every KPI per window for the tenant and for partner P, once per
    // day: 14 KPIs × 4 windows × 2 scopes = 112 rows; the tenant-level 56 are announced.
    assert_eq!(snapshots::store_snapshots(database, data.tenant, period_end()).await.unwrap(), 112);
    assert_eq!(snapshots::store_snapshots(database, data.tenant, period_end()).await.unwrap(), 0);
    let tx = TenantTransaction::begin(database, &TenantContext::automation(data.tenant, "test")).await.unwrap();
    let stored = tx
        .connection()
        .query_one_raw(Statement::from_sql_and_values(
            tx.connection().get_database_backend(),
            "SELECT value, numerator, denominator, n FROM kpi_snapshots WHERE tenant_id = $1 AND kpi_code = 'sla_attainment' \
             AND kpi_window = 'd90' AND period_end = '2026-12-31' AND channel_partner_id IS NULL",
            vec![data.tenant.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    let text = |column: &str| stored.try_get::<String>("", column).unwrap();
    assert_eq!((text("value"), text("numerator"), text("denominator")), ("0.6".into(), "3".into(), "5".into()));
    assert_eq!(stored.try_get::<i32>("", "n").unwrap(), 5);
    let announced = tx
        .connection()
        .query_one_raw(Statement::from_sql_and_values(
            tx.connection().get_database_backend(),
            "SELECT COUNT(*) AS announced FROM change_outbox WHERE tenant_id = $1 AND event_type = $2",
            vec![data.tenant.into(), "analytics.kpi.snapshot_published".into()],
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(announced.try_get::<i64>("", "announced").unwrap(), 56);
    drop(tx);

    // GraphQL answers the live values (ending today) for a CSM.
    let query = "query($representations: [_Any!]!) { _entities(representations: $representations) { \
                 ... on Tenant { kpis(window: D90) { code window value numerator denominator n reason } } } }";
    let variables = json!({ "representations": [{ "__typename": "Tenant", "id": data.tenant }] });
    let answer = analytics.data(SLUG, query, variables.clone()).await;
    let served = answer["_entities"][0]["kpis"].as_array().unwrap();
    assert_eq!(served.len(), all.len());
    assert!(served.iter().all(|kpi| kpi["window"] == "D90"), "{answer}");
    // A partner user reads its partner's values on `Tenant` and on its own `ChannelPartner`,
    // never another partner's.
    let today = atrium_kit::calendar::tenant_date(data.tenant, Utc::now());
    let expected: Vec<Value> = kpis_on(database, data.tenant, Some(data.partner), today)
        .await
        .iter()
        .map(|kpi| json!({ "code": kpi.code, "numerator": kpi.numerator, "denominator": kpi.denominator, "n": kpi.n }))
        .collect();
    let whole_tenant: Vec<Value> = kpis_on(database, data.tenant, None, today)
        .await
        .iter()
        .map(|kpi| json!({ "code": kpi.code, "numerator": kpi.numerator, "denominator": kpi.denominator, "n": kpi.n }))
        .collect();
    // C and D are direct customers: the partner's cohort is smaller than the tenant's.
    assert_ne!(expected, whole_tenant);
    let mut partner_user = context_for(SLUG, "partner_user");
    partner_user.channel_partner_id = Some(data.partner);
    let (_, body) = analytics.query(Some(&partner_user), query, variables.clone()).await;
    let served: Vec<Value> = body["data"]["_entities"][0]["kpis"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|kpi| json!({ "code": kpi["code"], "numerator": kpi["numerator"], "denominator": kpi["denominator"], "n": kpi["n"] }))
        .collect();
    assert_eq!(served, expected, "{body}");
    let partner_query = "query($representations: [_Any!]!) { _entities(representations: $representations) { \
                         ... on ChannelPartner { kpis { code n } } } }";
    let own = json!({ "representations": [{ "__typename": "ChannelPartner", "id": data.partner }] });
    let (_, body) = analytics.query(Some(&partner_user), partner_query, own).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["_entities"][0]["kpis"].as_array().map(Vec::len), Some(expected.len()), "{body}");
    let foreign = json!({ "representations": [{ "__typename": "ChannelPartner", "id": Uuid::now_v7() }] });
    let (_, body) = analytics.query(Some(&partner_user), partner_query, foreign).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");

    // A customer user may not read them.
    let mut customer = context_for(SLUG, "customer_user");
    customer.customer_account_id = Some(data.a);
    let (_, body) = analytics.query(Some(&customer), query, variables).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
}

async fn journal_count(database: &DatabaseConnection, tenant: Uuid) -> u64 {
    let tx = TenantTransaction::begin(database, &TenantContext::automation(tenant, "test")).await.unwrap();
    let row = tx
        .connection()
        .query_one_raw(Statement::from_sql_and_values(
            tx.connection().get_database_backend(),
            "SELECT COUNT(*) AS journaled FROM event_journal WHERE tenant_id = $1",
            vec![tenant.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "journaled").unwrap() as u64
}

#[tokio::test]
async fn golden_kpis_from_events_and_their_rebuild_on_sqlite() {
    let (analytics, database) = spawn_with_database(testing::sqlite_url("analytics"), None).await;
    assert_golden_kpis(&analytics, &database).await;
}

#[tokio::test]
async fn golden_kpis_from_events_and_their_rebuild_on_postgres() {
    let Some(test_database) = TestDatabase::create("analytics").await else { return };
    let (analytics, database) =
        spawn_with_database(test_database.runtime_url.clone(), Some(test_database.owner_url.clone())).await;
    assert_golden_kpis(&analytics, &database).await;
}
