//! Demo data (docs/domain.md#demo-data) for delivery: engagements for most demo customers,
//! each with its blueprint's milestones and onboarding checklist (dates relative to the
//! tenant's business date), including the story conditions (Prairie Foods' 35-day go-live
//! slip with UAT at risk, Blue Heron's two-day-old onboarding, Harborview's control testing
//! forecast 18 days late); and delivery's copies of the demo customers' names, packages and
//! blueprints, so the onboarding automation works on demo data.
//! Deterministic and idempotent: a tenant that has any engagement is left alone; each
//! tenant is written in its own tenant transaction (so RLS applies on PostgreSQL).

use atrium_kit::{
    TenantTransaction,
    demo::{self, DemoTenant, SeedRng, Story},
};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::{operations_seed, reporting_seed};
use crate::{
    calendar::BusinessCalendar,
    domain::{
        EngagementStatus, EngagementType, MilestonePhase, MilestoneStatus, Rag, TaskKind, TaskStatus,
        blueprint::{self, BlueprintVersion},
    },
    entities::{catalog_blueprint_version, catalog_package, customer_name, engagement, milestone, task},
    error::DeliveryError,
};

/// A milestone of a blueprint: due `offset_days` after the engagement starts.
struct MilestoneTemplate {
    name: &'static str,
    phase: MilestonePhase,
    offset_days: i64,
    is_go_live: bool,
    is_billing: bool,
    /// Percentage points of the fixed fee (catalog's demo blueprints); 0 for non-billing.
    billing_pct: i64,
}

const fn step(name: &'static str, phase: MilestonePhase, offset_days: i64) -> MilestoneTemplate {
    MilestoneTemplate { name, phase, offset_days, is_go_live: false, is_billing: false, billing_pct: 0 }
}

const fn billing(mut template: MilestoneTemplate, pct: i64) -> MilestoneTemplate {
    template.is_billing = true;
    template.billing_pct = pct;
    template
}

impl MilestoneTemplate {
    fn billing_fraction(&self) -> Option<Decimal> {
        self.is_billing.then(|| Decimal::new(self.billing_pct, 2))
    }
}

const fn go_live(mut template: MilestoneTemplate) -> MilestoneTemplate {
    template.is_go_live = true;
    template
}

use MilestonePhase::{Build, Deploy, Design, Hypercare, Onboarding, Run, Test};

const BC_ESSENTIALS: &[MilestoneTemplate] = &[
    step("Kickoff & onboarding", Onboarding, 14),
    billing(step("Design sign-off", Design, 30), 20),
    step("Data migration", Build, 50),
    step("Configuration", Build, 65),
    billing(step("UAT", Test, 80), 30),
    billing(go_live(step("Go-live", Deploy, 90)), 30),
    billing(step("Hypercare exit", Hypercare, 120), 20),
];
const NETSUITE_STANDARD: &[MilestoneTemplate] = &[
    step("Kickoff & onboarding", Onboarding, 21),
    billing(step("Requirements sign-off", Design, 40), 20),
    step("Solution design", Design, 55),
    step("Build & configuration", Build, 75),
    billing(step("Data migration", Build, 90), 20),
    billing(step("UAT", Test, 105), 30),
    billing(go_live(step("Go-live", Deploy, 120)), 30),
];
// Managed-service transitions have no go-live milestone: they close from delivering.
const MANAGED_SERVICES_TRANSITION: &[MilestoneTemplate] = &[
    step("Kickoff & onboarding", Onboarding, 7),
    step("Knowledge transfer", Design, 20),
    step("Runbooks & tooling", Build, 35),
    billing(step("Service cutover", Run, 45), 100),
];
const HELIX_ONBOARDING: &[MilestoneTemplate] = &[
    step("Kickoff & onboarding", Onboarding, 7),
    step("Tenant provisioning", Build, 15),
    billing(step("Data import", Build, 30), 50),
    step("Training & UAT", Test, 45),
    billing(go_live(step("Go-live", Deploy, 60)), 50),
];
const SOX_READINESS: &[MilestoneTemplate] = &[
    step("Kickoff & scoping", Onboarding, 21),
    billing(step("Risk assessment", Design, 45), 35),
    step("Control design", Design, 75),
    billing(step("Control testing", Test, 110), 25),
    step("Remediation", Build, 135),
    billing(go_live(step("Readiness sign-off", Deploy, 150)), 40),
];
const EINVOICING_READINESS: &[MilestoneTemplate] = &[
    step("Kickoff & onboarding", Onboarding, 14),
    billing(step("Mandate gap analysis", Design, 30), 40),
    step("Integration build", Build, 60),
    step("Test submissions", Test, 75),
    billing(go_live(step("Go-live on mandate", Deploy, 90)), 60),
];

/// Type and milestones of a demo blueprint (names as in `demo::TENANTS`).
fn blueprint_template(name: &str) -> (EngagementType, &'static [MilestoneTemplate]) {
    match name {
        "BC Essentials 90-day" => (EngagementType::Implementation, BC_ESSENTIALS),
        "NetSuite Standard 120-day" => (EngagementType::Implementation, NETSUITE_STANDARD),
        "Managed Services Transition 45-day" => (EngagementType::ManagedServiceTransition, MANAGED_SERVICES_TRANSITION),
        "Helix Cloud Onboarding 60-day" => (EngagementType::Onboarding, HELIX_ONBOARDING),
        "SOX Readiness 150-day" => (EngagementType::ComplianceProgram, SOX_READINESS),
        _ => (EngagementType::ComplianceProgram, EINVOICING_READINESS),
    }
}

/// One engagement to seed: its blueprint, status, start relative to today, how many days
/// every open milestone's forecast slips behind its due date, and the manager's RAG.
struct EngagementPlan {
    blueprint: usize,
    status: EngagementStatus,
    start_offset_days: i64,
    slip_days: i64,
    rag: Rag,
}

const fn plan(
    blueprint: usize,
    status: EngagementStatus,
    start_offset_days: i64,
    slip_days: i64,
    rag: Rag,
) -> EngagementPlan {
    EngagementPlan { blueprint, status, start_offset_days, slip_days, rag }
}

fn story_plans(story: Story) -> Vec<EngagementPlan> {
    use EngagementStatus::{Closed, Delivering, Live, Onboarding};
    match story {
        // Go-live target today−10 (start + 90), forecast today+25: variance 35; UAT (due
        // today−20) forecast today+15 ⇒ late and at risk.
        Story::PrairieFoods => vec![plan(0, Delivering, -100, 35, Rag::Red)],
        Story::LakeshoreDental => vec![plan(0, Closed, -420, 5, Rag::Green)],
        // Live since its go-live; the retainer's advisory hours are logged against it.
        Story::CedarValley => vec![plan(1, Live, -380, 10, Rag::Green)],
        Story::SummitAg => vec![plan(0, Closed, -300, 0, Rag::Green)],
        // Contract signed two days ago and onboarding begun since, as the planned onboarding
        // automation will do it (docs/domain.md#not-yet-implemented).
        Story::BlueHeron => vec![plan(0, Onboarding, -2, 0, Rag::Green)],
        Story::Rheinwerk => vec![plan(0, Closed, -500, 12, Rag::Green)],
        // Control testing due today+5, forecast today+23 (18 days late).
        Story::Harborview => vec![plan(0, Delivering, -105, 18, Rag::Amber)],
        Story::LumenPay => vec![plan(1, Delivering, -40, 0, Rag::Green)],
        Story::ThamesMutual => vec![plan(1, Closed, -400, -3, Rag::Green)],
    }
}

/// A deterministic mix for the other customers: mostly one current engagement, sometimes
/// an older closed one before it, occasionally none.
fn generated_plans(tenant: &DemoTenant, rng: &mut SeedRng) -> Vec<EngagementPlan> {
    use EngagementStatus::{Closed, Delivering, Live, OnHold, Onboarding};
    let blueprint = rng.between(0, tenant.blueprints.len() as i64 - 1) as usize;
    let (_, milestones) = blueprint_template(tenant.blueprints[blueprint]);
    let has_go_live = milestones.iter().any(|milestone| milestone.is_go_live);
    let go_live_offset = milestones.iter().find(|m| m.is_go_live).map_or(45, |m| m.offset_days);
    let mut plans = Vec::new();
    if rng.between(0, 2) == 0 {
        plans.push(plan(blueprint, Closed, -rng.between(420, 600), rng.between(-5, 20), Rag::Green));
    }
    let current = match rng.between(0, 9) {
        0 => None,
        1 | 2 => Some(plan(blueprint, Closed, -rng.between(200, 380), rng.between(-5, 15), Rag::Green)),
        3 | 4 if has_go_live => Some(plan(blueprint, Live, -(go_live_offset + rng.between(5, 20)), 0, Rag::Green)),
        5 => Some(plan(blueprint, Onboarding, -rng.between(1, 6), 0, Rag::Green)),
        6 => Some(plan(blueprint, OnHold, -rng.between(30, 60), rng.between(10, 25), Rag::Amber)),
        _ => {
            let slip = rng.between(-2, 12);
            let rag = if slip > 7 { Rag::Amber } else { Rag::Green };
            Some(plan(blueprint, Delivering, -rng.between(20, go_live_offset - 10), slip, rag))
        }
    };
    plans.extend(current);
    plans
}

/// Seeds every demo tenant not seeded yet, with dates relative to that tenant's
/// `calendar` date.
pub async fn seed_demo_tenants(database: &DatabaseConnection, calendar: BusinessCalendar) -> Result<(), DeliveryError> {
    for demo_tenant in demo::TENANTS {
        let tx = TenantTransaction::begin(database, &demo::seed_context(demo_tenant)).await?;
        let today = calendar.today(tx.tenant_id());
        let seeded = engagement::Entity::find()
            .filter(engagement::Column::TenantId.eq(tx.tenant_id()))
            .one(tx.connection())
            .await?
            .is_some();
        if seeded {
            continue;
        }
        seed_tenant(&tx, demo_tenant, today).await?;
        tx.commit().await?;
        tracing::info!(tenant = demo_tenant.slug, "seeded delivery demo data");
    }
    Ok(())
}

async fn seed_tenant(tx: &TenantTransaction, demo_tenant: &DemoTenant, today: NaiveDate) -> Result<(), DeliveryError> {
    let mut rng = SeedRng::new(&format!("delivery/{}", demo_tenant.slug));
    let mut engagements = Vec::new();
    let mut milestones = Vec::new();
    let mut tasks = Vec::new();
    let mut seeded = Vec::new();
    for (customer_ordinal, customer) in demo_tenant.customers.iter().enumerate() {
        let plans = match customer.story {
            Some(story) => story_plans(story),
            None => generated_plans(demo_tenant, &mut rng),
        };
        for plan in plans {
            let ordinal = engagements.len() as u64;
            let number = format!("ENG-{:04}", ordinal + 1);
            let id = demo::id("engagement", ordinal, &format!("{}/{number}", demo_tenant.slug));
            let blueprint_name = demo_tenant.blueprints[plan.blueprint];
            let (engagement_type, templates) = blueprint_template(blueprint_name);
            let start = today + Duration::days(plan.start_offset_days);
            let planned = plan_milestones(&plan, templates, start, today);

            let go_live = planned.iter().zip(templates).find(|(_, template)| template.is_go_live);
            let go_live_target = go_live.and_then(|(milestone, _)| milestone.due);
            let go_live_forecast = go_live.and_then(|(milestone, _)| milestone.forecast);
            let go_live_actual = go_live.and_then(|(milestone, _)| milestone.completed_on);
            let percent_complete = (planned.iter().map(|milestone| milestone.percent_complete).sum::<Decimal>()
                / Decimal::from(planned.len().max(1)))
            .round_dp(4);

            for (seq, (milestone, template)) in planned.iter().zip(templates).enumerate() {
                milestones.push(milestone::ActiveModel {
                    tenant_id: Set(tx.tenant_id()),
                    id: Set(demo::id(
                        "milestone",
                        ordinal * 16 + seq as u64,
                        &format!("{}/{number}/{seq}", demo_tenant.slug),
                    )),
                    engagement_id: Set(id),
                    seq: Set(seq as i32 + 1),
                    name: Set(template.name.to_owned()),
                    phase: Set(template.phase.as_str().to_owned()),
                    status: Set(milestone.status.as_str().to_owned()),
                    due_date: Set(milestone.due),
                    forecast_date: Set(milestone.forecast),
                    completed_at: Set(milestone.completed_on.map(end_of_working_day)),
                    is_go_live: Set(template.is_go_live),
                    is_billing: Set(template.is_billing),
                    percent_complete: Set(milestone.percent_complete),
                    version: Set(1),
                    milestone_template_id: Set(None),
                    requires_acceptance: Set(false),
                    accepted_at: Set(None),
                    billing_pct: Set(template.billing_fraction()),
                    late_emitted_at: Set(None),
                });
            }
            let onboarding = templates.iter().position(|template| template.phase == MilestonePhase::Onboarding);
            if let Some(onboarding) = onboarding {
                let milestone_id = demo::id(
                    "milestone",
                    ordinal * 16 + onboarding as u64,
                    &format!("{}/{number}/{onboarding}", demo_tenant.slug),
                );
                for (index, item) in ONBOARDING_CHECKLIST.iter().enumerate() {
                    let task_id = demo::id(
                        "task",
                        ordinal * 16 + index as u64,
                        &format!("{}/{number}/task/{index}", demo_tenant.slug),
                    );
                    tasks.push(checklist_task(tx, item, index, task_id, id, milestone_id, plan.status, start, today));
                }
            }
            seeded.push(operations_seed::SeededEngagement {
                id,
                story: customer.story,
                status: plan.status,
                rag: plan.rag,
            });
            engagements.push(engagement::ActiveModel {
                tenant_id: Set(tx.tenant_id()),
                id: Set(id),
                number: Set(number),
                name: Set(format!("{} – {blueprint_name}", customer.name)),
                customer_account_id: Set(demo::customer_id(demo_tenant, customer_ordinal)),
                channel_partner_id: Set(customer.partner.map(|partner| demo::partner_id(demo_tenant, partner))),
                blueprint_id: Set(Some(demo::blueprint_id(demo_tenant, plan.blueprint))),
                engagement_type: Set(engagement_type.as_str().to_owned()),
                status: Set(plan.status.as_str().to_owned()),
                paused_from_status: Set(
                    (plan.status == EngagementStatus::OnHold).then(|| EngagementStatus::Delivering.as_str().to_owned())
                ),
                rag: Set(plan.rag.as_str().to_owned()),
                start_date: Set(Some(start)),
                go_live_target_date: Set(go_live_target),
                go_live_forecast_date: Set(go_live_forecast),
                go_live_actual_date: Set(go_live_actual),
                percent_complete: Set(percent_complete),
                created_at: Set(end_of_working_day(start)),
                version: Set(1),
                contract_id: Set(None),
                contract_line_id: Set(None),
                service_package_id: Set(None),
                blueprint_version_id: Set(None),
                target_onboard_date: Set(None),
                onboarding_completed_at: Set(None),
                delivery_manager_user_id: Set(None),
                csm_user_id: Set(None),
                hold_reason: Set(None),
                source_rule: Set(None),
                creation_key: Set(None),
                currency: Set(Some(demo_tenant.reporting_currency.to_owned())),
                budget_hours: Set(None),
            });
        }
    }
    let connection = tx.connection();
    engagement::Entity::insert_many(engagements).exec(connection).await?;
    milestone::Entity::insert_many(milestones).exec(connection).await?;
    task::Entity::insert_many(tasks).exec(connection).await?;
    operations_seed::seed_operations(tx, demo_tenant, &seeded, today).await?;
    reporting_seed::seed_reporting(tx, demo_tenant, &seeded, today).await?;
    seed_copies(tx, demo_tenant).await
}

/// One item of the onboarding checklist every demo blueprint carries.
struct ChecklistItem {
    title: &'static str,
    owner_role: &'static str,
    offset_days: i64,
    required: bool,
}

const fn item(title: &'static str, owner_role: &'static str, offset_days: i64, required: bool) -> ChecklistItem {
    ChecklistItem { title, owner_role, offset_days, required }
}

const ONBOARDING_CHECKLIST: &[ChecklistItem] = &[
    item("Welcome call", "csm", 2, true),
    item("Kickoff workshop", "delivery_manager", 5, true),
    item("Access and data collection", "customer", 7, true),
    item("Success plan agreed", "csm", 10, false),
];

/// A checklist task as the engagement's status implies: not yet activated for drafts,
/// done on its due date once onboarding is over, and while onboarding done only when
/// already due (so the required items still open keep the engagement onboarding).
#[allow(clippy::too_many_arguments)]
fn checklist_task(
    tx: &TenantTransaction,
    item: &ChecklistItem,
    index: usize,
    id: uuid::Uuid,
    engagement_id: uuid::Uuid,
    milestone_id: uuid::Uuid,
    engagement_status: EngagementStatus,
    start: NaiveDate,
    today: NaiveDate,
) -> task::ActiveModel {
    let due = start + Duration::days(item.offset_days);
    let status = match engagement_status {
        EngagementStatus::Draft => TaskStatus::Inactive,
        EngagementStatus::Cancelled => TaskStatus::Cancelled,
        EngagementStatus::Onboarding if due >= today => TaskStatus::Todo,
        _ => TaskStatus::Done,
    };
    task::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(id),
        engagement_id: Set(engagement_id),
        milestone_id: Set(Some(milestone_id)),
        task_template_id: Set(None),
        seq: Set(index as i32 + 1),
        title: Set(item.title.to_owned()),
        kind: Set(TaskKind::Checklist.as_str().to_owned()),
        required: Set(item.required),
        owner_role: Set(item.owner_role.to_owned()),
        assignee_user_id: Set(None),
        customer_facing: Set(true),
        status: Set(status.as_str().to_owned()),
        offset_days: Set(Some(item.offset_days as i32)),
        due_date: Set((status != TaskStatus::Inactive).then_some(due)),
        completed_at: Set((status == TaskStatus::Done).then(|| end_of_working_day(due.min(today)))),
        version: Set(1),
    }
}

/// Delivery's copies of other services' demo data, as their events would have left them:
/// customer names, packages with their blueprints, and each demo blueprint at version 0
/// (so the first version catalog publishes replaces it).
async fn seed_copies(tx: &TenantTransaction, demo_tenant: &DemoTenant) -> Result<(), DeliveryError> {
    let connection = tx.connection();
    let names = demo_tenant.customers.iter().enumerate().map(|(ordinal, customer)| customer_name::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        customer_account_id: Set(demo::customer_id(demo_tenant, ordinal)),
        name: Set(customer.name.to_owned()),
    });
    customer_name::Entity::insert_many(names).exec(connection).await?;
    let packages = demo_tenant.packages.iter().filter_map(|code| {
        Some(catalog_package::ActiveModel {
            tenant_id: Set(tx.tenant_id()),
            package_id: Set(demo::package_id(demo_tenant, code)?),
            blueprint_id: Set(package_blueprint(code).map(|ordinal| demo::blueprint_id(demo_tenant, ordinal))),
            version: Set(0),
        })
    });
    catalog_package::Entity::insert_many(packages).exec(connection).await?;
    let mut versions = Vec::new();
    for (ordinal, name) in demo_tenant.blueprints.iter().enumerate() {
        let blueprint = demo_blueprint_version(demo_tenant, ordinal, name);
        versions.push(catalog_blueprint_version::ActiveModel {
            tenant_id: Set(tx.tenant_id()),
            blueprint_id: Set(blueprint.blueprint_id),
            blueprint_version_id: Set(blueprint.blueprint_version_id),
            version: Set(blueprint.version),
            payload: Set(serde_json::to_string(&blueprint).map_err(|error| sea_orm::DbErr::Custom(error.to_string()))?),
        });
    }
    catalog_blueprint_version::Entity::insert_many(versions).exec(connection).await?;
    Ok(())
}

/// Which demo blueprint (by ordinal) a demo package instantiates (catalog's demo catalog).
fn package_blueprint(code: &str) -> Option<usize> {
    match code {
        "BC-IMPL-ESS" | "HLX-ONB" | "SOX-READY" => Some(0),
        "NS-IMPL-STD" | "EINV-READY" => Some(1),
        "MST-TRANS" => Some(2),
        _ => None,
    }
}

/// A demo blueprint as a published version: the seed's milestone templates, the onboarding
/// checklist on the onboarding milestone.
fn demo_blueprint_version(demo_tenant: &DemoTenant, ordinal: usize, name: &str) -> BlueprintVersion {
    let scope = format!("{}/{name}", demo_tenant.slug);
    let (engagement_type, templates) = blueprint_template(name);
    let onboard_days = templates.iter().find(|t| t.phase == MilestonePhase::Onboarding).map_or(14, |t| t.offset_days);
    let go_live_days = templates.iter().find(|t| t.is_go_live).or(templates.last()).map_or(90, |t| t.offset_days);
    let milestones = templates
        .iter()
        .enumerate()
        .map(|(seq, template)| blueprint::MilestoneTemplate {
            milestone_template_id: demo::id("milestone_template", (ordinal * 16 + seq) as u64, &scope),
            seq: seq as i32 + 1,
            code: format!("M{}", seq + 1),
            name: template.name.to_owned(),
            phase: template.phase.as_str().to_owned(),
            offset_days: template.offset_days,
            is_go_live: template.is_go_live,
            is_billing: template.is_billing,
            billing_pct: template.is_billing.then(|| Decimal::from(template.billing_pct)),
            requires_customer_acceptance: template.is_go_live,
            tasks: if template.phase == MilestonePhase::Onboarding && seq == 0 {
                ONBOARDING_CHECKLIST
                    .iter()
                    .enumerate()
                    .map(|(index, item)| blueprint::TaskTemplate {
                        task_template_id: demo::id("task_template", (ordinal * 16 + index) as u64, &scope),
                        seq: index as i32 + 1,
                        title: item.title.to_owned(),
                        kind: TaskKind::Checklist.as_str().to_owned(),
                        required: item.required,
                        owner_role: item.owner_role.to_owned(),
                        customer_facing: true,
                        offset_days: item.offset_days,
                    })
                    .collect()
            } else {
                Vec::new()
            },
        })
        .collect();
    BlueprintVersion {
        blueprint_id: demo::blueprint_id(demo_tenant, ordinal),
        blueprint_version_id: demo::id("blueprint_version", ordinal as u64, &scope),
        name: name.to_owned(),
        engagement_type: engagement_type.as_str().to_owned(),
        version: 0,
        target_onboard_days: onboard_days,
        target_go_live_days: go_live_days,
        hypercare_days: 30,
        budget_hours: None,
        milestones,
    }
}

struct PlannedMilestone {
    status: MilestoneStatus,
    due: Option<NaiveDate>,
    forecast: Option<NaiveDate>,
    completed_on: Option<NaiveDate>,
    percent_complete: Decimal,
}

/// Milestone states consistent with the engagement's status as of `today`: finished work
/// completed on its forecast date, the first open milestone in progress, the rest not
/// started.
fn plan_milestones(
    plan: &EngagementPlan,
    templates: &[MilestoneTemplate],
    start: NaiveDate,
    today: NaiveDate,
) -> Vec<PlannedMilestone> {
    let go_live_seq = templates.iter().position(|template| template.is_go_live);
    let mut previous_forecast = start;
    let mut open_seen = false;
    templates
        .iter()
        .enumerate()
        .map(|(seq, template)| {
            let due = start + Duration::days(template.offset_days);
            let forecast = due + Duration::days(plan.slip_days);
            let done = match plan.status {
                EngagementStatus::Closed => true,
                // Live: go-live reached; only hypercare after it is still running.
                EngagementStatus::Live => go_live_seq.is_none_or(|go_live| seq <= go_live),
                EngagementStatus::Draft | EngagementStatus::Cancelled => false,
                _ => forecast < today,
            };
            let planned = if done {
                PlannedMilestone {
                    status: MilestoneStatus::Completed,
                    due: Some(due),
                    forecast: Some(forecast),
                    completed_on: Some(forecast.min(today)),
                    percent_complete: Decimal::ONE,
                }
            } else if !open_seen && plan.status != EngagementStatus::Draft {
                open_seen = true;
                let span = (forecast - previous_forecast).num_days().max(1);
                let elapsed = (today - previous_forecast).num_days().clamp(0, span);
                let progress = (Decimal::from(elapsed) / Decimal::from(span))
                    .clamp(Decimal::new(5, 2), Decimal::new(95, 2))
                    .round_dp(2);
                PlannedMilestone {
                    status: MilestoneStatus::InProgress,
                    due: Some(due),
                    forecast: Some(forecast),
                    completed_on: None,
                    percent_complete: progress,
                }
            } else {
                PlannedMilestone {
                    status: MilestoneStatus::NotStarted,
                    due: Some(due),
                    forecast: Some(forecast),
                    completed_on: None,
                    percent_complete: Decimal::ZERO,
                }
            };
            previous_forecast = forecast;
            planned
        })
        .collect()
}

fn end_of_working_day(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(NaiveTime::MIN).and_utc() + Duration::hours(17)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prairie_foods_slips_its_go_live_by_35_days_with_uat_at_risk() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let plans = story_plans(Story::PrairieFoods);
        let start = today + Duration::days(plans[0].start_offset_days);
        let planned = plan_milestones(&plans[0], BC_ESSENTIALS, start, today);
        let go_live = &planned[5];
        assert_eq!(go_live.due, Some(today - Duration::days(10)));
        assert_eq!(go_live.forecast, Some(today + Duration::days(25)));
        let uat = &planned[4];
        assert!(crate::domain::schedule::milestone_at_risk(
            today,
            uat.due,
            uat.forecast,
            uat.percent_complete,
            uat.status
        ));
    }

    #[test]
    fn harborview_control_testing_is_forecast_18_days_late() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let plans = story_plans(Story::Harborview);
        let start = today + Duration::days(plans[0].start_offset_days);
        let planned = plan_milestones(&plans[0], SOX_READINESS, start, today);
        let control_testing = &planned[3];
        assert_eq!(SOX_READINESS[3].name, "Control testing");
        let slip = control_testing.forecast.unwrap() - control_testing.due.unwrap();
        assert_eq!(slip.num_days(), 18);
        assert_eq!(control_testing.status, MilestoneStatus::InProgress);
    }

    #[test]
    fn every_blueprint_has_four_to_seven_milestones() {
        for (_, milestones) in [
            "BC Essentials 90-day",
            "NetSuite Standard 120-day",
            "Managed Services Transition 45-day",
            "Helix Cloud Onboarding 60-day",
            "SOX Readiness 150-day",
            "E-invoicing Readiness 90-day",
        ]
        .map(blueprint_template)
        {
            assert!((4..=7).contains(&milestones.len()));
        }
    }
}
