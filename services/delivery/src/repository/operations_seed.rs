//! Demo staff, time history and change requests (docs/domain.md#demo-data): every demo
//! tenant gets eight staff members (the demo `consultant`, `delivery_manager` and `csm`
//! users among them), four weeks of time on its running engagements, and the story
//! conditions: Cedar Valley's retainer with 9 advisory hours in the last 90 days (under
//! used) and Prairie Foods' change requests rising (4 in the last 30 days, 1 in the 90
//! before). Dates are relative to the tenant's business date.

use atrium_kit::{
    TenantTransaction,
    demo::{self, DemoTenant, Story},
};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use rust_decimal::Decimal;
use sea_orm::{ActiveValue::Set, EntityTrait};
use uuid::Uuid;

use crate::{
    domain::{
        EngagementStatus,
        operations::{ChangeRequestStatus, StaffRole, TimeCategory, TimeEntryStatus},
    },
    entities::{change_request, staff_member, time_entry},
    error::DeliveryError,
};

/// What the operations seed needs to know of a seeded engagement.
pub(super) struct SeededEngagement {
    pub id: Uuid,
    pub story: Option<Story>,
    pub status: EngagementStatus,
    /// The delivery manager's view the engagement is seeded with.
    pub rag: crate::domain::Rag,
}

/// One demo staff member: the user they sign in as (`<role>@<tenant>`), rates per hour.
struct StaffPlan {
    name: &'static str,
    role: StaffRole,
    user_role: Option<&'static str>,
    cost_rate: i64,
    bill_rate: i64,
}

const STAFF: &[StaffPlan] = &[
    StaffPlan {
        name: "Avery Lindqvist",
        role: StaffRole::Consultant,
        user_role: Some("consultant"),
        cost_rate: 68,
        bill_rate: 165,
    },
    StaffPlan {
        name: "Jordan Okafor",
        role: StaffRole::ProjectManager,
        user_role: Some("delivery_manager"),
        cost_rate: 88,
        bill_rate: 210,
    },
    StaffPlan { name: "Sam Reyes", role: StaffRole::SeniorConsultant, user_role: None, cost_rate: 82, bill_rate: 195 },
    StaffPlan {
        name: "Riley Novak",
        role: StaffRole::SolutionArchitect,
        user_role: None,
        cost_rate: 95,
        bill_rate: 225,
    },
    StaffPlan { name: "Casey Brandt", role: StaffRole::Consultant, user_role: None, cost_rate: 62, bill_rate: 150 },
    StaffPlan { name: "Morgan Haddad", role: StaffRole::Consultant, user_role: None, cost_rate: 65, bill_rate: 160 },
    StaffPlan { name: "Taylor Ishikawa", role: StaffRole::Csm, user_role: Some("csm"), cost_rate: 70, bill_rate: 0 },
    StaffPlan {
        name: "Quinn Adeyemi",
        role: StaffRole::SupportEngineer,
        user_role: None,
        cost_rate: 58,
        bill_rate: 140,
    },
];

/// Staff who log project time, by index into `STAFF`.
pub(super) const DELIVERY_STAFF: [usize; 5] = [0, 2, 3, 4, 5];

/// Weekdays of time history before today.
const HISTORY_WEEKDAYS: usize = 20;
/// Entries of the last week are still waiting for approval.
const PENDING_DAYS: i64 = 7;

pub fn staff_member_id(tenant: &DemoTenant, ordinal: usize) -> Uuid {
    demo::id("staff_member", ordinal as u64, &format!("{}/{}", tenant.slug, STAFF[ordinal].name))
}

fn at_five_pm(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(NaiveTime::MIN).and_utc() + Duration::hours(17)
}

pub(super) async fn seed_operations(
    tx: &TenantTransaction,
    tenant: &DemoTenant,
    engagements: &[SeededEngagement],
    today: NaiveDate,
) -> Result<(), DeliveryError> {
    let currency = tenant.reporting_currency.to_owned();
    let staff = STAFF.iter().enumerate().map(|(ordinal, plan)| staff_member::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(staff_member_id(tenant, ordinal)),
        user_id: Set(plan.user_role.map(|role| format!("{role}@{}", tenant.slug))),
        name: Set(plan.name.to_owned()),
        role: Set(plan.role.as_str().to_owned()),
        cost_rate: Set(Decimal::from(plan.cost_rate)),
        bill_rate: Set(Decimal::from(plan.bill_rate)),
        rate_currency: Set(currency.clone()),
        weekly_capacity_hours: Set(Decimal::from(40)),
        time_zone: Set(tenant.timezone.to_owned()),
        active: Set(true),
        version: Set(1),
    });
    staff_member::Entity::insert_many(staff).exec(tx.connection()).await?;

    let history: Vec<NaiveDate> = (1..)
        .map(|days| today - Duration::days(days))
        .filter(|day| !matches!(day.weekday(), Weekday::Sat | Weekday::Sun))
        .take(HISTORY_WEEKDAYS)
        .collect();
    let mut entries = Vec::new();
    let mut entry = |engagement: Uuid, staff: usize, day: NaiveDate, hours: Decimal, category: TimeCategory| {
        let plan = &STAFF[staff];
        let approved = (today - day).num_days() > PENDING_DAYS;
        let ordinal = entries.len() as u64;
        entries.push(time_entry::ActiveModel {
            tenant_id: Set(tx.tenant_id()),
            id: Set(demo::id("time_entry", ordinal, &format!("{}/{ordinal}", tenant.slug))),
            staff_member_id: Set(staff_member_id(tenant, staff)),
            engagement_id: Set(engagement),
            work_date: Set(day),
            hours: Set(hours),
            billable: Set(true),
            category: Set(category.as_str().to_owned()),
            note: Set(None),
            status: Set(if approved { TimeEntryStatus::Approved } else { TimeEntryStatus::Submitted }
                .as_str()
                .to_owned()),
            cost_rate: Set(Decimal::from(plan.cost_rate)),
            bill_rate: Set(Decimal::from(plan.bill_rate)),
            currency: Set(currency.clone()),
            rejection_reason: Set(None),
            submitted_at: Set(Some(at_five_pm(day))),
            decided_at: Set(approved.then(|| at_five_pm(day + Duration::days(2)))),
            decided_by: Set(approved.then(|| format!("delivery_manager@{}", tenant.slug))),
            version: Set(if approved { 2 } else { 1 }),
        });
    };
    let mut project = 0;
    for engagement in engagements {
        if engagement.story == Some(Story::CedarValley) {
            // 3 × 3 advisory hours in the last 90 days against 24 a month: usage 9 ÷ 72 = 0.125.
            for days_ago in [70, 40, 12] {
                entry(engagement.id, 2, today - Duration::days(days_ago), Decimal::from(3), TimeCategory::Advisory);
            }
            continue;
        }
        if !matches!(engagement.status, EngagementStatus::Onboarding | EngagementStatus::Delivering) {
            continue;
        }
        let staff = DELIVERY_STAFF[project % DELIVERY_STAFF.len()];
        project += 1;
        for day in &history {
            entry(engagement.id, staff, *day, Decimal::from(6), TimeCategory::Implementation);
        }
    }
    // Bounded statements: SQLite limits the parameters of one statement.
    while !entries.is_empty() {
        let rest = entries.split_off(entries.len().min(500));
        time_entry::Entity::insert_many(std::mem::replace(&mut entries, rest)).exec(tx.connection()).await?;
    }

    let prairie = engagements.iter().find(|engagement| engagement.story == Some(Story::PrairieFoods));
    if let Some(prairie) = prairie {
        // 1 in the 90 days before the last 30 (55 days ago), 4 in the last 30: rising.
        let requests = [
            (55, "Additional warehouse location", 24, 3_600, 5, ChangeRequestStatus::Approved),
            (24, "EDI integration with distributor", 40, 6_000, 7, ChangeRequestStatus::Approved),
            (16, "Extra approval workflow for purchasing", 16, 2_400, 3, ChangeRequestStatus::Approved),
            (9, "Recipe costing report", 12, 1_800, 2, ChangeRequestStatus::Submitted),
            (3, "Lot tracking for allergens", 32, 4_800, 6, ChangeRequestStatus::Submitted),
        ];
        let rows = requests.iter().enumerate().map(|(index, (days_ago, title, hours, price, days, status))| {
            let submitted = today - Duration::days(*days_ago);
            let decided = *status != ChangeRequestStatus::Submitted;
            change_request::ActiveModel {
                tenant_id: Set(tx.tenant_id()),
                id: Set(demo::id("change_request", index as u64, &format!("{}/prairie/{index}", tenant.slug))),
                engagement_id: Set(prairie.id),
                number: Set(format!("CR-{:03}", index + 1)),
                title: Set((*title).to_owned()),
                reason: Set(Some("customer request".to_owned())),
                impact_hours: Set(Decimal::from(*hours)),
                impact_price: Set(Decimal::from(*price)),
                impact_days: Set(*days),
                status: Set(status.as_str().to_owned()),
                submitted_at: Set(at_five_pm(submitted)),
                decided_at: Set(decided.then(|| at_five_pm(submitted + Duration::days(2)))),
                decided_by: Set(decided.then(|| format!("delivery_manager@{}", tenant.slug))),
                decision_reason: Set(None),
                version: Set(if decided { 2 } else { 1 }),
            }
        });
        change_request::Entity::insert_many(rows).exec(tx.connection()).await?;
    }
    Ok(())
}
