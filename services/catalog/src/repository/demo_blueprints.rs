//! Version 1 of each demo blueprint (docs/domain.md#demo-data): its milestones (the same
//! plans delivery's seed schedules its demo engagements by) with their tasks, and for the
//! onboarding milestone the onboarding checklist.

use rust_decimal::Decimal;

use crate::domain::{
    EngagementType, MilestonePhase, OwnerRole, TaskKind,
    blueprints::{MilestoneDraft, TaskDraft, VersionDraft},
};

struct Task {
    title: &'static str,
    kind: TaskKind,
    owner: OwnerRole,
    customer_facing: bool,
    offset_days: i32,
    /// Tenths of an hour.
    estimate_tenths: i64,
}

/// An onboarding checklist item: half an hour, required.
const fn check(title: &'static str, owner: OwnerRole, offset_days: i32) -> Task {
    Task { title, kind: TaskKind::Checklist, owner, customer_facing: false, offset_days, estimate_tenths: 5 }
}

/// A checklist item the customer sees in the portal.
const fn shared(mut task: Task) -> Task {
    task.customer_facing = true;
    task
}

const fn work(title: &'static str, owner: OwnerRole, offset_days: i32, hours: i64) -> Task {
    Task { title, kind: TaskKind::Work, owner, customer_facing: false, offset_days, estimate_tenths: hours * 10 }
}

struct Milestone {
    code: &'static str,
    name: &'static str,
    phase: MilestonePhase,
    offset_days: i32,
    /// Percentage points of the fixed fee; 0: not a billing milestone.
    billing_pct: i64,
    is_go_live: bool,
    requires_customer_acceptance: bool,
    tasks: &'static [Task],
}

const fn step(
    code: &'static str,
    name: &'static str,
    phase: MilestonePhase,
    offset_days: i32,
    tasks: &'static [Task],
) -> Milestone {
    Milestone {
        code,
        name,
        phase,
        offset_days,
        billing_pct: 0,
        is_go_live: false,
        requires_customer_acceptance: false,
        tasks,
    }
}

const fn billing(mut milestone: Milestone, pct: i64) -> Milestone {
    milestone.billing_pct = pct;
    milestone
}

const fn accepted(mut milestone: Milestone) -> Milestone {
    milestone.requires_customer_acceptance = true;
    milestone
}

const fn go_live(mut milestone: Milestone) -> Milestone {
    milestone.is_go_live = true;
    milestone
}

use MilestonePhase::{Build, Deploy, Design, Hypercare, Onboarding, Run, Test};
use OwnerRole::{Consultant, Csm, Customer, DeliveryManager, Finance, Support};

const BC_ESSENTIALS: &[Milestone] = &[
    step(
        "KICKOFF",
        "Kickoff & onboarding",
        Onboarding,
        14,
        &[
            shared(check("Welcome call held", Csm, 1)),
            check("Stakeholder map completed", Csm, 2),
            shared(check("Admin users provisioned in the customer portal", Support, 2)),
            shared(check("Data migration template sent", Consultant, 3)),
            check("Sandbox environment provisioned", Consultant, 5),
            shared(check("Kickoff meeting scheduled and deck shared", DeliveryManager, 5)),
            shared(check("Success criteria agreed", Csm, 7)),
            check("Communication plan agreed", DeliveryManager, 7),
            shared(check("Billing contact confirmed", Finance, 10)),
            shared(check("Support handbook shared", Support, 12)),
        ],
    ),
    accepted(billing(
        step(
            "DESIGN_SIGNOFF",
            "Design sign-off",
            Design,
            30,
            &[work("Fit-gap workshops", Consultant, 20, 16), work("Solution design document", Consultant, 28, 12)],
        ),
        20,
    )),
    step(
        "DATA_MIGRATION",
        "Data migration",
        Build,
        50,
        &[
            shared(work("Master data extract delivered", Customer, 38, 0)),
            work("Data mapping and load", Consultant, 48, 24),
        ],
    ),
    step(
        "CONFIGURATION",
        "Configuration",
        Build,
        65,
        &[work("Finance and posting setup", Consultant, 58, 24), work("Reports and approvals", Consultant, 64, 16)],
    ),
    accepted(billing(
        step(
            "UAT",
            "UAT",
            Test,
            80,
            &[
                work("UAT scripts prepared", Consultant, 70, 8),
                shared(work("UAT executed and signed", Customer, 79, 0)),
            ],
        ),
        30,
    )),
    accepted(billing(
        go_live(step(
            "GO_LIVE",
            "Go-live",
            Deploy,
            90,
            &[
                work("Cutover plan rehearsed", DeliveryManager, 86, 6),
                work("Opening balances loaded", Consultant, 89, 8),
            ],
        )),
        30,
    )),
    billing(
        step(
            "HYPERCARE_EXIT",
            "Hypercare exit",
            Hypercare,
            120,
            &[work("Hypercare daily check-ins", Support, 100, 12), work("Handover to managed support", Csm, 118, 2)],
        ),
        20,
    ),
];

const NETSUITE_STANDARD: &[Milestone] = &[
    step(
        "KICKOFF",
        "Kickoff & onboarding",
        Onboarding,
        21,
        &[
            shared(check("Welcome call held", Csm, 1)),
            check("Stakeholder map completed", Csm, 3),
            shared(check("Kickoff meeting scheduled", DeliveryManager, 3)),
            shared(check("NetSuite admin users provisioned", Support, 5)),
            shared(check("Data migration templates sent", Consultant, 5)),
            check("Sandbox account provisioned", Consultant, 7),
            shared(check("Integration inventory returned", Customer, 12)),
            shared(check("Success criteria agreed", Csm, 14)),
            shared(check("Billing contact confirmed", Finance, 18)),
        ],
    ),
    accepted(billing(
        step(
            "REQUIREMENTS_SIGNOFF",
            "Requirements sign-off",
            Design,
            40,
            &[work("Requirements workshops", Consultant, 30, 24), work("Requirements document", Consultant, 38, 12)],
        ),
        20,
    )),
    step("SOLUTION_DESIGN", "Solution design", Design, 55, &[work("Solution design document", Consultant, 52, 20)]),
    step(
        "BUILD",
        "Build & configuration",
        Build,
        75,
        &[
            work("Account and subsidiary setup", Consultant, 62, 24),
            work("Workflows and saved searches", Consultant, 72, 32),
        ],
    ),
    billing(
        step(
            "DATA_MIGRATION",
            "Data migration",
            Build,
            90,
            &[
                shared(work("Legacy data extract delivered", Customer, 80, 0)),
                work("Data loads and reconciliation", Consultant, 88, 32),
            ],
        ),
        20,
    ),
    accepted(billing(
        step(
            "UAT",
            "UAT",
            Test,
            105,
            &[
                work("UAT scripts prepared", Consultant, 95, 12),
                shared(work("UAT executed and signed", Customer, 104, 0)),
            ],
        ),
        30,
    )),
    accepted(billing(
        go_live(step(
            "GO_LIVE",
            "Go-live",
            Deploy,
            120,
            &[work("Cutover plan rehearsed", DeliveryManager, 115, 8), work("Go-live support", Consultant, 120, 16)],
        )),
        30,
    )),
];

// Managed-service transitions have no go-live milestone: they close from delivering.
const MANAGED_SERVICES_TRANSITION: &[Milestone] = &[
    step(
        "KICKOFF",
        "Kickoff & onboarding",
        Onboarding,
        7,
        &[
            shared(check("Transition kickoff scheduled", DeliveryManager, 1)),
            shared(check("Current support contacts collected", Customer, 2)),
            shared(check("Admin access to production granted", Customer, 3)),
            check("Ticket history export requested", Support, 3),
            shared(check("Escalation matrix agreed", Csm, 5)),
            shared(check("Support portal users provisioned", Support, 5)),
            shared(check("Billing contact confirmed", Finance, 6)),
        ],
    ),
    step(
        "KNOWLEDGE_TRANSFER",
        "Knowledge transfer",
        Design,
        20,
        &[work("Knowledge-transfer sessions", Consultant, 15, 12), work("Known-issues register", Support, 19, 4)],
    ),
    step(
        "RUNBOOKS",
        "Runbooks & tooling",
        Build,
        35,
        &[work("Runbooks written", Support, 30, 12), work("Monitoring and alerting set up", Consultant, 34, 8)],
    ),
    accepted(billing(
        step(
            "SERVICE_CUTOVER",
            "Service cutover",
            Run,
            45,
            &[
                work("Shadow support fortnight", Support, 42, 16),
                shared(work("Service acceptance signed", Customer, 45, 0)),
            ],
        ),
        100,
    )),
];

const HELIX_ONBOARDING: &[Milestone] = &[
    step(
        "KICKOFF",
        "Kickoff & onboarding",
        Onboarding,
        7,
        &[
            shared(check("Partner welcome call held", Csm, 1)),
            shared(check("Kickoff meeting scheduled", DeliveryManager, 1)),
            check("Helix tenant requested", Consultant, 2),
            shared(check("Admin users provisioned", Support, 3)),
            shared(check("Data import template sent", Consultant, 3)),
            shared(check("Chart of accounts received", Customer, 5)),
            check("Partner portal branding confirmed", Csm, 6),
            shared(check("Billing contact confirmed", Finance, 6)),
        ],
    ),
    step(
        "TENANT_PROVISIONING",
        "Tenant provisioning",
        Build,
        15,
        &[
            work("Tenant configured from the template", Consultant, 12, 6),
            work("Localisation packs enabled", Consultant, 14, 4),
        ],
    ),
    billing(
        step(
            "DATA_IMPORT",
            "Data import",
            Build,
            30,
            &[
                shared(work("Opening data delivered", Customer, 22, 0)),
                work("Data import and validation", Consultant, 29, 12),
            ],
        ),
        50,
    ),
    step(
        "TRAINING_UAT",
        "Training & UAT",
        Test,
        45,
        &[work("Key-user training", Consultant, 38, 8), shared(work("UAT signed", Customer, 44, 0))],
    ),
    accepted(billing(
        go_live(step(
            "GO_LIVE",
            "Go-live",
            Deploy,
            60,
            &[
                work("Go-live checklist run", DeliveryManager, 58, 4),
                work("First period close assisted", Consultant, 60, 6),
            ],
        )),
        50,
    )),
];

const SOX_READINESS: &[Milestone] = &[
    step(
        "KICKOFF",
        "Kickoff & scoping",
        Onboarding,
        21,
        &[
            shared(check("Engagement letter countersigned", Customer, 2)),
            shared(check("Kickoff meeting scheduled", DeliveryManager, 3)),
            check("Audit committee contacts mapped", Csm, 5),
            shared(check("Prior audit findings requested", Consultant, 5)),
            shared(check("Process owner list received", Customer, 10)),
            check("Evidence repository provisioned", Consultant, 10),
            shared(check("Admin users provisioned", Support, 12)),
            shared(check("Status reporting cadence agreed", DeliveryManager, 14)),
        ],
    ),
    billing(
        step(
            "RISK_ASSESSMENT",
            "Risk assessment",
            Design,
            45,
            &[
                work("Significant accounts and processes scoped", Consultant, 35, 32),
                work("Risk and control matrix drafted", Consultant, 44, 40),
            ],
        ),
        35,
    ),
    step(
        "CONTROL_DESIGN",
        "Control design",
        Design,
        75,
        &[work("Walkthroughs", Consultant, 60, 48), work("Control design gaps reported", Consultant, 74, 24)],
    ),
    accepted(billing(
        step(
            "CONTROL_TESTING",
            "Control testing",
            Test,
            110,
            &[work("Test of design", Consultant, 90, 60), work("Test of operating effectiveness", Consultant, 108, 80)],
        ),
        25,
    )),
    step(
        "REMEDIATION",
        "Remediation",
        Build,
        135,
        &[
            shared(work("Remediation plans owned", Customer, 120, 0)),
            work("Remediated controls retested", Consultant, 134, 40),
        ],
    ),
    accepted(billing(
        go_live(step(
            "READINESS_SIGNOFF",
            "Readiness sign-off",
            Deploy,
            150,
            &[
                work("Readiness report", DeliveryManager, 145, 16),
                shared(work("Audit committee briefing", Csm, 150, 4)),
            ],
        )),
        40,
    )),
];

const EINVOICING_READINESS: &[Milestone] = &[
    step(
        "KICKOFF",
        "Kickoff & onboarding",
        Onboarding,
        14,
        &[
            shared(check("Kickoff meeting scheduled", DeliveryManager, 2)),
            shared(check("Mandate scope confirmed", Consultant, 4)),
            shared(check("E-invoicing network credentials requested", Customer, 5)),
            shared(check("Invoice sample set received", Customer, 7)),
            shared(check("Admin users provisioned", Support, 7)),
            check("Test environment provisioned", Consultant, 10),
            shared(check("Billing contact confirmed", Finance, 12)),
        ],
    ),
    accepted(billing(
        step(
            "GAP_ANALYSIS",
            "Mandate gap analysis",
            Design,
            30,
            &[work("Invoice data gap analysis", Consultant, 24, 16), work("Gap report", Consultant, 29, 8)],
        ),
        40,
    )),
    step(
        "INTEGRATION_BUILD",
        "Integration build",
        Build,
        60,
        &[
            work("Access-point connection", Consultant, 45, 24),
            work("Invoice mapping to the mandated format", Consultant, 58, 32),
        ],
    ),
    step(
        "TEST_SUBMISSIONS",
        "Test submissions",
        Test,
        75,
        &[work("Test invoices submitted", Consultant, 70, 12), shared(work("Test results accepted", Customer, 74, 0))],
    ),
    accepted(billing(
        go_live(step(
            "GO_LIVE",
            "Go-live on mandate",
            Deploy,
            90,
            &[
                work("Production switch-over", Consultant, 88, 8),
                work("First live submissions monitored", Support, 90, 6),
            ],
        )),
        60,
    )),
];

/// `(engagement type, hypercare days, budget hours, milestones)` of a demo blueprint.
fn blueprint_plan(name: &str) -> (EngagementType, i32, i64, &'static [Milestone]) {
    match name {
        "BC Essentials 90-day" => (EngagementType::Implementation, 30, 240, BC_ESSENTIALS),
        "NetSuite Standard 120-day" => (EngagementType::Implementation, 30, 420, NETSUITE_STANDARD),
        "Managed Services Transition 45-day" => {
            (EngagementType::ManagedServiceTransition, 0, 64, MANAGED_SERVICES_TRANSITION)
        }
        "Helix Cloud Onboarding 60-day" => (EngagementType::Onboarding, 14, 96, HELIX_ONBOARDING),
        "SOX Readiness 150-day" => (EngagementType::ComplianceProgram, 0, 600, SOX_READINESS),
        _ => (EngagementType::ComplianceProgram, 14, 180, EINVOICING_READINESS),
    }
}

/// The engagement type of a demo blueprint.
pub fn engagement_type(name: &str) -> EngagementType {
    blueprint_plan(name).0
}

/// Version 1 of a demo blueprint. Its onboarding target is the onboarding milestone's due
/// day and its go-live target the go-live milestone's (or, without one, the last
/// milestone's), so blueprint and milestones cannot disagree.
pub fn first_version(name: &str) -> VersionDraft {
    let (_, hypercare_days, budget_hours, milestones) = blueprint_plan(name);
    let due_day = |pick: &dyn Fn(&Milestone) -> bool| milestones.iter().find(|m| pick(m)).map(|m| m.offset_days);
    let last_day = milestones.last().map_or(0, |milestone| milestone.offset_days);
    VersionDraft {
        target_onboard_days: due_day(&|m| m.phase == Onboarding).unwrap_or(0),
        target_go_live_days: due_day(&|m| m.is_go_live).unwrap_or(last_day),
        hypercare_days,
        budget_hours: Decimal::from(budget_hours),
        milestones: milestones.iter().map(milestone_draft).collect(),
    }
}

fn milestone_draft(milestone: &Milestone) -> MilestoneDraft {
    MilestoneDraft {
        code: milestone.code.to_owned(),
        name: milestone.name.to_owned(),
        phase: milestone.phase,
        offset_days: milestone.offset_days,
        weight: Decimal::ONE,
        is_go_live: milestone.is_go_live,
        is_billing: milestone.billing_pct > 0,
        billing_pct: Decimal::from(milestone.billing_pct),
        requires_customer_acceptance: milestone.requires_customer_acceptance,
        tasks: milestone
            .tasks
            .iter()
            .map(|task| TaskDraft {
                title: task.title.to_owned(),
                kind: task.kind,
                required: true,
                owner_role: task.owner,
                customer_facing: task.customer_facing || task.owner == Customer,
                offset_days: task.offset_days,
                estimate_hours: Decimal::new(task.estimate_tenths, 1),
                depends_on_seq: Vec::new(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use atrium_kit::demo;

    use super::*;

    #[test]
    fn every_demo_blueprint_has_a_valid_first_version_with_an_onboarding_checklist() {
        for name in demo::TENANTS.iter().flat_map(|tenant| tenant.blueprints.iter()) {
            let draft = first_version(name);
            assert_eq!(draft.validate(), Ok(()), "{name}");
            let checklist = draft.milestones[0].tasks.iter().filter(|task| task.kind == TaskKind::Checklist).count();
            assert_eq!(draft.milestones[0].phase, Onboarding, "{name}");
            assert!((6..=10).contains(&checklist), "{name}: {checklist} checklist tasks");
        }
    }

    #[test]
    fn the_bc_blueprint_bills_twenty_thirty_thirty_twenty() {
        let draft = first_version("BC Essentials 90-day");
        let billing: Vec<String> =
            draft.milestones.iter().filter(|m| m.is_billing).map(|m| m.billing_pct.to_string()).collect();
        assert_eq!(billing, ["20", "30", "30", "20"]);
        assert_eq!((draft.target_onboard_days, draft.target_go_live_days), (14, 90));
        assert_eq!(draft.milestones[0].tasks.len(), 10);
    }
}
