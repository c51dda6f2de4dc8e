//! Blueprint versions (docs/domain.md#blueprint-versions): the immutable milestone and task
//! plan an engagement is instantiated from, the rules a version must satisfy to be
//! published, and the publication lifecycle of blueprints and service packages.

use std::collections::HashSet;

use atrium_kit::command::StateMachine;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{ApprovalStatus, MilestonePhase, OwnerRole, PublicationStatus, TaskKind};

/// Longest plan a version may describe, in days after the engagement starts; anything
/// longer is a typo, not a playbook.
pub const MAX_DAYS: i32 = 3650;
/// Upper bounds of the exact-decimal columns (two decimal places each).
const MAX_BUDGET_HOURS: i64 = 1_000_000;
const MAX_ESTIMATE_HOURS: i64 = 10_000;
const MAX_WEIGHT: i64 = 1_000;
const FULL_FEE_PCT: i64 = 100;

/// A published version: immutable, numbered 1, 2, … per blueprint.
#[derive(Debug, Clone, PartialEq)]
pub struct BlueprintVersion {
    pub id: Uuid,
    pub blueprint_id: Uuid,
    pub version: i32,
    pub target_onboard_days: i32,
    pub target_go_live_days: i32,
    pub hypercare_days: i32,
    pub budget_hours: Decimal,
    pub published_at: DateTime<Utc>,
    pub approval_status: ApprovalStatus,
    /// In `seq` order.
    pub milestones: Vec<MilestoneTemplate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MilestoneTemplate {
    pub id: Uuid,
    /// 1-based position within the version.
    pub seq: i32,
    pub code: String,
    pub name: String,
    pub phase: MilestonePhase,
    /// Due this many days after the engagement starts.
    pub offset_days: i32,
    pub weight: Decimal,
    pub is_go_live: bool,
    pub is_billing: bool,
    /// Percentage points of the fixed fee billed at this milestone (`25.00` = 25 %).
    pub billing_pct: Decimal,
    pub requires_customer_acceptance: bool,
    /// In `seq` order.
    pub tasks: Vec<TaskTemplate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskTemplate {
    pub id: Uuid,
    pub milestone_template_id: Uuid,
    /// 1-based position within the version (not the milestone), so dependencies name
    /// tasks of other milestones too.
    pub seq: i32,
    pub title: String,
    pub kind: TaskKind,
    pub required: bool,
    pub owner_role: OwnerRole,
    pub customer_facing: bool,
    pub offset_days: i32,
    pub estimate_hours: Decimal,
    pub depends_on_seq: Vec<i32>,
}

impl BlueprintVersion {
    /// The onboarding checklist: checklist tasks of the onboarding milestones.
    pub fn onboarding_checklist(&self) -> impl Iterator<Item = &TaskTemplate> {
        self.milestones
            .iter()
            .filter(|milestone| milestone.phase == MilestonePhase::Onboarding)
            .flat_map(|milestone| milestone.tasks.iter())
            .filter(|task| task.kind == TaskKind::Checklist)
    }
}

/// What a publication supplies: a version without ids, numbers or timestamps.
#[derive(Debug, Clone)]
pub struct VersionDraft {
    pub target_onboard_days: i32,
    pub target_go_live_days: i32,
    pub hypercare_days: i32,
    pub budget_hours: Decimal,
    pub milestones: Vec<MilestoneDraft>,
}

#[derive(Debug, Clone)]
pub struct MilestoneDraft {
    pub code: String,
    pub name: String,
    pub phase: MilestonePhase,
    pub offset_days: i32,
    pub weight: Decimal,
    pub is_go_live: bool,
    pub is_billing: bool,
    pub billing_pct: Decimal,
    pub requires_customer_acceptance: bool,
    pub tasks: Vec<TaskDraft>,
}

#[derive(Debug, Clone)]
pub struct TaskDraft {
    pub title: String,
    pub kind: TaskKind,
    pub required: bool,
    pub owner_role: OwnerRole,
    pub customer_facing: bool,
    pub offset_days: i32,
    pub estimate_hours: Decimal,
    pub depends_on_seq: Vec<i32>,
}

/// Two decimal places, as stored: `45` and `45.0` both become `45.00`.
pub fn two_places(value: Decimal) -> Decimal {
    let mut value = value.round_dp(2);
    value.rescale(2);
    value
}

fn within(value: Decimal, low: i64, high: i64) -> bool {
    value >= Decimal::from(low) && value <= Decimal::from(high) && value.normalize().scale() <= 2
}

fn day_count_ok(days: i32) -> bool {
    (0..=MAX_DAYS).contains(&days)
}

impl VersionDraft {
    /// Checks everything a version must satisfy; the message names the first problem found
    /// in terms of the input's fields.
    pub fn validate(&self) -> Result<(), String> {
        for (field, days) in [
            ("targetOnboardDays", self.target_onboard_days),
            ("targetGoLiveDays", self.target_go_live_days),
            ("hypercareDays", self.hypercare_days),
        ] {
            if !day_count_ok(days) {
                return Err(format!("{field} must be between 0 and {MAX_DAYS}, got {days}"));
            }
        }
        if self.target_onboard_days > self.target_go_live_days {
            return Err(format!(
                "targetOnboardDays ({}) must not exceed targetGoLiveDays ({})",
                self.target_onboard_days, self.target_go_live_days
            ));
        }
        if !within(self.budget_hours, 0, MAX_BUDGET_HOURS) {
            return Err(format!(
                "budgetHours must be between 0 and {MAX_BUDGET_HOURS} with at most two decimals, got {}",
                self.budget_hours
            ));
        }
        if self.milestones.is_empty() {
            return Err("a blueprint version needs at least one milestone".to_owned());
        }
        let mut codes = HashSet::new();
        let mut previous_offset = 0;
        let mut task_seq = 0;
        for (index, milestone) in self.milestones.iter().enumerate() {
            let code = milestone.code.trim();
            if code.is_empty() {
                return Err(format!("milestone {}: code must not be blank", index + 1));
            }
            if !codes.insert(code) {
                return Err(format!("duplicate milestone code \"{code}\": codes must be unique within a version"));
            }
            if milestone.name.trim().is_empty() {
                return Err(format!("milestone \"{code}\": name must not be blank"));
            }
            if milestone.offset_days < 0 {
                return Err(format!(
                    "milestone \"{code}\": offsetDays must not be negative, got {}",
                    milestone.offset_days
                ));
            }
            if milestone.offset_days > MAX_DAYS {
                return Err(format!("milestone \"{code}\": offsetDays must not exceed {MAX_DAYS}"));
            }
            if milestone.offset_days < previous_offset {
                return Err(format!(
                    "milestone \"{code}\": offsetDays ({}) is before the previous milestone's ({previous_offset}); \
                     list milestones in due order",
                    milestone.offset_days
                ));
            }
            previous_offset = milestone.offset_days;
            if milestone.weight <= Decimal::ZERO || !within(milestone.weight, 0, MAX_WEIGHT) {
                return Err(format!(
                    "milestone \"{code}\": weight must be above 0 and at most {MAX_WEIGHT} with at most two decimals"
                ));
            }
            if !within(milestone.billing_pct, 0, FULL_FEE_PCT) {
                return Err(format!(
                    "milestone \"{code}\": billingPct must be between 0 and 100 with at most two decimals"
                ));
            }
            if !milestone.is_billing && !milestone.billing_pct.is_zero() {
                return Err(format!("milestone \"{code}\": billingPct must be 0 unless isBilling is true"));
            }
            for task in &milestone.tasks {
                task_seq += 1;
                validate_task(code, task_seq, task)?;
            }
        }
        let go_live: Vec<&str> =
            self.milestones.iter().filter(|milestone| milestone.is_go_live).map(|m| m.code.trim()).collect();
        if go_live.len() > 1 {
            return Err(format!(
                "a version has at most one go-live milestone; isGoLive is set on {}",
                go_live.iter().map(|code| format!("\"{code}\"")).collect::<Vec<_>>().join(", ")
            ));
        }
        let billing: Vec<&MilestoneDraft> = self.milestones.iter().filter(|milestone| milestone.is_billing).collect();
        let billed: Decimal = billing.iter().map(|milestone| milestone.billing_pct).sum();
        if !billing.is_empty() && billed != Decimal::from(FULL_FEE_PCT) {
            return Err(format!("the billing milestones' billingPct must add up to 100, they add up to {billed}"));
        }
        Ok(())
    }

    /// The version as published: numbered `version`, ids from `new_id(scope, ordinal)`
    /// (scopes `blueprint_version`, `milestone_template`, `task_template`), decimals at two
    /// places, codes and titles trimmed. Call [`VersionDraft::validate`] first.
    pub fn publish(
        self,
        blueprint_id: Uuid,
        version: i32,
        published_at: DateTime<Utc>,
        new_id: &mut dyn FnMut(&str, u64) -> Uuid,
    ) -> BlueprintVersion {
        let id = new_id("blueprint_version", 0);
        let mut task_seq = 0;
        let milestones = self
            .milestones
            .into_iter()
            .zip(1..)
            .map(|(milestone, seq)| {
                let milestone_id = new_id("milestone_template", seq as u64);
                let tasks = milestone
                    .tasks
                    .into_iter()
                    .map(|task| {
                        task_seq += 1;
                        TaskTemplate {
                            id: new_id("task_template", task_seq as u64),
                            milestone_template_id: milestone_id,
                            seq: task_seq,
                            title: task.title.trim().to_owned(),
                            kind: task.kind,
                            required: task.required,
                            owner_role: task.owner_role,
                            customer_facing: task.customer_facing,
                            offset_days: task.offset_days,
                            estimate_hours: two_places(task.estimate_hours),
                            depends_on_seq: task.depends_on_seq,
                        }
                    })
                    .collect();
                MilestoneTemplate {
                    id: milestone_id,
                    seq,
                    code: milestone.code.trim().to_owned(),
                    name: milestone.name.trim().to_owned(),
                    phase: milestone.phase,
                    offset_days: milestone.offset_days,
                    weight: two_places(milestone.weight),
                    is_go_live: milestone.is_go_live,
                    is_billing: milestone.is_billing,
                    billing_pct: two_places(milestone.billing_pct),
                    requires_customer_acceptance: milestone.requires_customer_acceptance,
                    tasks,
                }
            })
            .collect();
        BlueprintVersion {
            id,
            blueprint_id,
            version,
            target_onboard_days: self.target_onboard_days,
            target_go_live_days: self.target_go_live_days,
            hypercare_days: self.hypercare_days,
            budget_hours: two_places(self.budget_hours),
            published_at,
            // No approval workflow exists: publishing is the tenant admin's approval.
            approval_status: ApprovalStatus::Approved,
            milestones,
        }
    }
}

fn validate_task(milestone: &str, seq: i32, task: &TaskDraft) -> Result<(), String> {
    let title = task.title.trim();
    if title.is_empty() {
        return Err(format!("milestone \"{milestone}\", task {seq}: title must not be blank"));
    }
    if !day_count_ok(task.offset_days) {
        return Err(format!(
            "milestone \"{milestone}\", task \"{title}\": offsetDays must be between 0 and {MAX_DAYS}, got {}",
            task.offset_days
        ));
    }
    if !within(task.estimate_hours, 0, MAX_ESTIMATE_HOURS) {
        return Err(format!(
            "milestone \"{milestone}\", task \"{title}\": estimateHours must be between 0 and {MAX_ESTIMATE_HOURS} \
             with at most two decimals"
        ));
    }
    if let Some(later) = task.depends_on_seq.iter().find(|&&other| other < 1 || other >= seq) {
        return Err(format!(
            "milestone \"{milestone}\", task \"{title}\" (task {seq}) depends on task {later}, which does not come \
             before it"
        ));
    }
    Ok(())
}

/// The publication lifecycle of a service package: `draft → published → retired`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageLifecycle(pub PublicationStatus);

/// The publication lifecycle of a blueprint: `draft → published → retired`; publishing a
/// further version keeps a published blueprint published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlueprintLifecycle(pub PublicationStatus);

fn publication_next(status: PublicationStatus) -> &'static [PublicationStatus] {
    match status {
        PublicationStatus::Draft => &[PublicationStatus::Published],
        PublicationStatus::Published => &[PublicationStatus::Retired],
        PublicationStatus::Retired => &[],
    }
}

fn publication_name(status: PublicationStatus) -> &'static str {
    match status {
        PublicationStatus::Draft => "DRAFT",
        PublicationStatus::Published => "PUBLISHED",
        PublicationStatus::Retired => "RETIRED",
    }
}

macro_rules! publication_lifecycle {
    ($lifecycle:ident, $entity:literal) => {
        impl StateMachine for $lifecycle {
            const ENTITY: &'static str = $entity;

            fn allowed_next(self) -> &'static [Self] {
                use PublicationStatus::{Published, Retired};
                match publication_next(self.0) {
                    [] => &[],
                    [Published] => &[$lifecycle(Published)],
                    [Retired] => &[$lifecycle(Retired)],
                    _ => unreachable!("each publication status has at most one successor"),
                }
            }

            fn name(self) -> &'static str {
                publication_name(self.0)
            }
        }
    };
}

publication_lifecycle!(PackageLifecycle, "ServicePackage");
publication_lifecycle!(BlueprintLifecycle, "Blueprint");

#[cfg(test)]
mod tests {
    use super::*;

    fn task(title: &str, depends_on_seq: Vec<i32>) -> TaskDraft {
        TaskDraft {
            title: title.to_owned(),
            kind: TaskKind::Checklist,
            required: true,
            owner_role: OwnerRole::Csm,
            customer_facing: false,
            offset_days: 1,
            estimate_hours: Decimal::ONE,
            depends_on_seq,
        }
    }

    fn milestone(code: &str, offset_days: i32, billing_pct: i64) -> MilestoneDraft {
        MilestoneDraft {
            code: code.to_owned(),
            name: format!("Milestone {code}"),
            phase: MilestonePhase::Build,
            offset_days,
            weight: Decimal::ONE,
            is_go_live: false,
            is_billing: billing_pct > 0,
            billing_pct: Decimal::from(billing_pct),
            requires_customer_acceptance: false,
            tasks: vec![task("Kickoff call", vec![]), task("Send data template", vec![1])],
        }
    }

    fn draft() -> VersionDraft {
        VersionDraft {
            target_onboard_days: 7,
            target_go_live_days: 30,
            hypercare_days: 14,
            budget_hours: Decimal::new(12050, 2),
            milestones: vec![milestone("KICKOFF", 7, 40), milestone("GO_LIVE", 30, 60)],
        }
    }

    fn rejection(change: impl FnOnce(&mut VersionDraft)) -> String {
        let mut draft = draft();
        change(&mut draft);
        draft.validate().expect_err("the draft is invalid")
    }

    #[test]
    fn a_well_formed_draft_passes() {
        assert_eq!(draft().validate(), Ok(()));
    }

    #[test]
    fn each_broken_rule_is_named() {
        assert!(rejection(|d| d.milestones.clear()).contains("at least one milestone"));
        assert!(rejection(|d| d.milestones[1].code = " KICKOFF ".into()).contains("duplicate milestone code"));
        assert!(rejection(|d| d.milestones[0].offset_days = -1).contains("must not be negative"));
        assert!(rejection(|d| d.milestones[0].tasks[0].offset_days = -3).contains("offsetDays must be between"));
        assert!(rejection(|d| d.milestones[0].offset_days = 40).contains("due order"));
        assert!(
            rejection(|d| d.milestones.iter_mut().for_each(|m| m.is_go_live = true))
                .contains("at most one go-live milestone")
        );
        assert!(rejection(|d| d.milestones[1].billing_pct = Decimal::from(50)).contains("add up to 100"));
        assert!(rejection(|d| d.milestones[0].is_billing = false).contains("must be 0 unless isBilling"));
        assert!(rejection(|d| d.milestones[0].tasks[0].depends_on_seq = vec![2]).contains("does not come before"));
        assert!(rejection(|d| d.budget_hours = Decimal::new(1_005, 3)).contains("budgetHours"));
        assert!(rejection(|d| d.target_onboard_days = 31).contains("must not exceed targetGoLiveDays"));
    }

    #[test]
    fn publishing_numbers_tasks_across_the_version_and_fixes_two_decimal_places() {
        let mut ordinal = 0;
        let version = draft().publish(Uuid::nil(), 3, Utc::now(), &mut |_, _| {
            ordinal += 1;
            Uuid::from_u128(ordinal)
        });
        assert_eq!(version.version, 3);
        let seqs: Vec<(i32, Vec<i32>)> =
            version.milestones.iter().map(|m| (m.seq, m.tasks.iter().map(|t| t.seq).collect())).collect();
        assert_eq!(seqs, vec![(1, vec![1, 2]), (2, vec![3, 4])]);
        assert_eq!(version.milestones[1].billing_pct.to_string(), "60.00");
        assert_eq!(version.budget_hours.to_string(), "120.50");
        assert!(version.milestones.iter().flat_map(|m| &m.tasks).all(|t| t.milestone_template_id != t.id));
    }

    #[test]
    fn a_blueprint_is_published_once_and_retired_for_good() {
        use PublicationStatus::{Draft, Published, Retired};
        assert!(BlueprintLifecycle(Draft).can_become(BlueprintLifecycle(Published)));
        assert!(!PackageLifecycle(Published).can_become(PackageLifecycle(Published)));
        assert!(PackageLifecycle(Retired).allowed_next().is_empty());
        assert_eq!(PackageLifecycle(Published).name(), "PUBLISHED");
    }
}
