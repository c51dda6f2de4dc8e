//! Delivery's writes (docs/domain.md#delivery-commands): the domain parts the kit's command
//! pattern runs for the mutations and for the cross-service command
//! `delivery.command.create_engagement_from_blueprint`. Each loads what it changes under
//! the tenant filter (another tenant's id is `NOT_FOUND`), guards the transition with the
//! state machines of `domain::state_machines` plus the guards that need other rows,
//! writes with updates conditional on the `version` it read (`CONFLICT` when it moved) and
//! describes the change as domain events.

use atrium_kit::{
    TenantTransaction,
    command::{Command, CommandError, Outcome, guard_transition},
    events::{DomainEvent, Subject},
    tenant::AUTOMATION_ROLE,
};
use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    sea_query::{Expr, SimpleExpr},
};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::{
    domain::{
        Engagement, EngagementStatus, EngagementType, Milestone, MilestonePhase, MilestoneStatus, Task, TaskKind,
        TaskStatus,
        blueprint::{BlueprintVersion, offset_date},
        state_machines::guard_engagement_transition,
    },
    entities::{catalog_blueprint_version, catalog_package, customer_name, engagement, milestone, task},
    error::DeliveryError,
    repository,
};

/// Who may activate onboarding and tick off tasks: the delivery team, the customer's CSM
/// and the onboarding automation.
pub const ONBOARDING_ROLES: &[&str] = &["delivery_manager", "tenant_admin", "csm", AUTOMATION_ROLE];
/// Who may move an engagement or a milestone along its lifecycle.
pub const DELIVERY_ROLES: &[&str] = &["delivery_manager", "tenant_admin", AUTOMATION_ROLE];
/// Who may record a customer's acceptance of a milestone.
pub const ACCEPTANCE_ROLES: &[&str] = &["delivery_manager", "tenant_admin", "csm", AUTOMATION_ROLE];
/// The cross-service command's name, and its type as an event.
pub const CREATE_FROM_BLUEPRINT: &str = "create_engagement_from_blueprint";
pub const CREATE_FROM_BLUEPRINT_TYPE: &str = "delivery.command.create_engagement_from_blueprint";

pub fn command(
    operation: &'static str,
    entity_type: &'static str,
    roles: &'static [&'static str],
    target: Option<Uuid>,
) -> Command {
    Command { operation, entity_type, allowed_roles: roles, target }
}

/// The parameters of `delivery.command.create_engagement_from_blueprint`.
#[derive(Debug, Clone, Deserialize)]
pub struct CreateFromBlueprint {
    pub customer_account_id: Uuid,
    #[serde(default)]
    pub contract_id: Option<Uuid>,
    #[serde(default)]
    pub contract_line_id: Option<Uuid>,
    /// The contract's currency (ISO 4217), when the command carries it.
    #[serde(default)]
    pub currency: Option<String>,
    pub service_package_id: Uuid,
    #[serde(default)]
    pub start_date: Option<NaiveDate>,
    #[serde(default)]
    pub then_activate: bool,
    #[serde(default)]
    pub rule_code: Option<String>,
    pub idempotency_key: String,
}

/// A delivery error inside a command: a defect or the database, never the caller's fault.
fn internal(error: DeliveryError) -> CommandError {
    match error {
        DeliveryError::Database(error) => CommandError::Database(error),
        other => CommandError::Database(sea_orm::DbErr::Custom(other.to_string())),
    }
}

async fn load_engagement(tx: &TenantTransaction, id: Uuid) -> Result<Engagement, CommandError> {
    repository::engagements_by_ids(tx, &[id]).await.map_err(internal)?.pop().ok_or(CommandError::NotFound("Engagement"))
}

async fn load_milestone(tx: &TenantTransaction, id: Uuid) -> Result<Milestone, CommandError> {
    repository::milestones_by_ids(tx, &[id]).await.map_err(internal)?.pop().ok_or(CommandError::NotFound("Milestone"))
}

async fn load_task(tx: &TenantTransaction, id: Uuid) -> Result<Task, CommandError> {
    repository::tasks_by_ids(tx, &[id]).await.map_err(internal)?.pop().ok_or(CommandError::NotFound("Task"))
}

/// An engagement event at `version`, with the references every engagement event carries.
pub(crate) fn engagement_event(
    tx: &TenantTransaction,
    engagement: &Engagement,
    event_type: &str,
    version: i64,
) -> DomainEvent {
    let subject = Subject { entity_type: "Engagement".to_owned(), id: engagement.id, version };
    let mut event = DomainEvent::new(tx.context(), event_type, subject)
        .with_ref("customer_account_id", engagement.customer_account_id)
        .with_ref("engagement_id", engagement.id);
    if let Some(contract_id) = engagement.contract_id {
        event = event.with_ref("contract_id", contract_id);
    }
    event
}

fn milestone_event(tx: &TenantTransaction, engagement: &Engagement, milestone: &Milestone, verb: &str) -> DomainEvent {
    let subject = Subject { entity_type: "Milestone".to_owned(), id: milestone.id, version: milestone.version + 1 };
    DomainEvent::new(tx.context(), &format!("delivery.milestone.{verb}"), subject)
        .with_ref("customer_account_id", engagement.customer_account_id)
        .with_ref("engagement_id", engagement.id)
        .with_data(json!({
            "name": milestone.name,
            "seq": milestone.seq,
            "is_go_live": milestone.is_go_live,
            "is_billing": milestone.is_billing,
        }))
}

/// Writes `changes` and the next version to the engagement as read; `CONFLICT` when its
/// version moved meanwhile. Returns the new version.
async fn update_engagement(
    tx: &TenantTransaction,
    engagement: &Engagement,
    changes: Vec<(engagement::Column, SimpleExpr)>,
) -> Result<i64, CommandError> {
    let next_version = engagement.version + 1;
    let mut update = engagement::Entity::update_many().col_expr(engagement::Column::Version, Expr::value(next_version));
    for (column, value) in changes {
        update = update.col_expr(column, value);
    }
    let result = update
        .filter(engagement::Column::TenantId.eq(tx.tenant_id()))
        .filter(engagement::Column::Id.eq(engagement.id))
        .filter(engagement::Column::Version.eq(engagement.version))
        .exec(tx.connection())
        .await?;
    if result.rows_affected != 1 {
        return Err(CommandError::stale("Engagement"));
    }
    Ok(next_version)
}

async fn update_milestone(
    tx: &TenantTransaction,
    milestone: &Milestone,
    changes: Vec<(milestone::Column, SimpleExpr)>,
) -> Result<(), CommandError> {
    let mut update =
        milestone::Entity::update_many().col_expr(milestone::Column::Version, Expr::value(milestone.version + 1));
    for (column, value) in changes {
        update = update.col_expr(column, value);
    }
    let result = update
        .filter(milestone::Column::TenantId.eq(tx.tenant_id()))
        .filter(milestone::Column::Id.eq(milestone.id))
        .filter(milestone::Column::Version.eq(milestone.version))
        .exec(tx.connection())
        .await?;
    if result.rows_affected != 1 {
        return Err(CommandError::stale("Milestone"));
    }
    Ok(())
}

async fn update_task(
    tx: &TenantTransaction,
    task: &Task,
    changes: Vec<(task::Column, SimpleExpr)>,
) -> Result<(), CommandError> {
    let mut update = task::Entity::update_many().col_expr(task::Column::Version, Expr::value(task.version + 1));
    for (column, value) in changes {
        update = update.col_expr(column, value);
    }
    let result = update
        .filter(task::Column::TenantId.eq(tx.tenant_id()))
        .filter(task::Column::Id.eq(task.id))
        .filter(task::Column::Version.eq(task.version))
        .exec(tx.connection())
        .await?;
    if result.rows_affected != 1 {
        return Err(CommandError::stale("Task"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Creating an engagement from a blueprint (automation A1).

/// The engagement an earlier run of the command with this key created, if any.
pub async fn engagement_created_with_key(tx: &TenantTransaction, key: &str) -> Result<Option<Uuid>, CommandError> {
    let row = engagement::Entity::find()
        .filter(engagement::Column::TenantId.eq(tx.tenant_id()))
        .filter(engagement::Column::CreationKey.eq(key))
        .one(tx.connection())
        .await?;
    Ok(row.map(|row| row.id))
}

/// The newest published version of the blueprint `package_id` instantiates, from
/// delivery's copy of catalog; `None` for a package without a blueprint or not known yet.
pub async fn blueprint_of_package(
    tx: &TenantTransaction,
    package_id: Uuid,
) -> Result<Option<BlueprintVersion>, CommandError> {
    let package = catalog_package::Entity::find_by_id((tx.tenant_id(), package_id)).one(tx.connection()).await?;
    let Some(blueprint_id) = package.and_then(|package| package.blueprint_id) else { return Ok(None) };
    let version =
        catalog_blueprint_version::Entity::find_by_id((tx.tenant_id(), blueprint_id)).one(tx.connection()).await?;
    let Some(version) = version else { return Ok(None) };
    let blueprint = serde_json::from_str(&version.payload)
        .map_err(|error| sea_orm::DbErr::Custom(format!("stored blueprint version is unreadable: {error}")))?;
    Ok(Some(blueprint))
}

/// The customer's name for the engagement's: delivery's copy of finance's, the demo
/// registry's for demo customers, else a short form of the id.
async fn customer_name(tx: &TenantTransaction, customer_account_id: Uuid) -> Result<String, CommandError> {
    let copy = customer_name::Entity::find_by_id((tx.tenant_id(), customer_account_id)).one(tx.connection()).await?;
    if let Some(row) = copy {
        return Ok(row.name);
    }
    let demo_name = atrium_kit::demo::TENANTS
        .iter()
        .filter(|tenant| atrium_kit::demo::tenant_id(tenant.slug) == tx.tenant_id())
        .flat_map(|tenant| {
            (0..tenant.customers.len())
                .map(move |ordinal| (atrium_kit::demo::customer_id(tenant, ordinal), ordinal, tenant))
        })
        .find(|(id, _, _)| *id == customer_account_id)
        .map(|(_, ordinal, tenant)| tenant.customers[ordinal].name.to_owned());
    Ok(demo_name.unwrap_or_else(|| format!("Customer {}", &customer_account_id.simple().to_string()[..8])))
}

/// The channel partner the customer was sold through: as on its other engagements, else
/// the demo registry's; `None` for direct customers (and customers delivery cannot place).
async fn channel_partner_of(tx: &TenantTransaction, customer_account_id: Uuid) -> Result<Option<Uuid>, CommandError> {
    let sibling = engagement::Entity::find()
        .filter(engagement::Column::TenantId.eq(tx.tenant_id()))
        .filter(engagement::Column::CustomerAccountId.eq(customer_account_id))
        .filter(engagement::Column::ChannelPartnerId.is_not_null())
        .one(tx.connection())
        .await?;
    if let Some(sibling) = sibling {
        return Ok(sibling.channel_partner_id);
    }
    let demo_partner = atrium_kit::demo::TENANTS
        .iter()
        .filter(|tenant| atrium_kit::demo::tenant_id(tenant.slug) == tx.tenant_id())
        .find_map(|tenant| {
            let ordinal = (0..tenant.customers.len())
                .find(|ordinal| atrium_kit::demo::customer_id(tenant, *ordinal) == customer_account_id)?;
            tenant.customers[ordinal].partner.map(|partner| atrium_kit::demo::partner_id(tenant, partner))
        });
    Ok(demo_partner)
}

/// Creates a draft engagement from `blueprint` for the command `request`: milestones from
/// its templates (not started, due `start + offset`), tasks inactive; with
/// `then_activate` also activates onboarding. Answers the new engagement's id.
pub async fn create_engagement_from_blueprint(
    tx: &TenantTransaction,
    request: &CreateFromBlueprint,
    blueprint: &BlueprintVersion,
    today: NaiveDate,
) -> Result<Outcome<Uuid>, CommandError> {
    let engagement_type = EngagementType::parse(&blueprint.engagement_type)
        .map_err(|_| CommandError::Invalid(format!("unknown engagement type {}", blueprint.engagement_type)))?;
    let start = request.start_date.unwrap_or(today);
    let existing = engagement::Entity::find()
        .filter(engagement::Column::TenantId.eq(tx.tenant_id()))
        .count(tx.connection())
        .await?;
    let id = Uuid::now_v7();
    let name = format!("{} – {}", customer_name(tx, request.customer_account_id).await?, blueprint.name);
    let go_live_target = offset_date(start, blueprint.target_go_live_days);
    let row = engagement::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        id: Set(id),
        number: Set(format!("ENG-{:04}", existing + 1)),
        name: Set(name.clone()),
        customer_account_id: Set(request.customer_account_id),
        channel_partner_id: Set(channel_partner_of(tx, request.customer_account_id).await?),
        blueprint_id: Set(Some(blueprint.blueprint_id)),
        engagement_type: Set(engagement_type.as_str().to_owned()),
        status: Set(EngagementStatus::Draft.as_str().to_owned()),
        paused_from_status: Set(None),
        rag: Set(crate::domain::Rag::Green.as_str().to_owned()),
        start_date: Set(Some(start)),
        go_live_target_date: Set(Some(go_live_target)),
        go_live_forecast_date: Set(Some(go_live_target)),
        go_live_actual_date: Set(None),
        percent_complete: Set(Decimal::ZERO),
        created_at: Set(Utc::now()),
        version: Set(1),
        contract_id: Set(request.contract_id),
        contract_line_id: Set(request.contract_line_id),
        service_package_id: Set(Some(request.service_package_id)),
        blueprint_version_id: Set(Some(blueprint.blueprint_version_id)),
        target_onboard_date: Set(Some(offset_date(start, blueprint.target_onboard_days))),
        onboarding_completed_at: Set(None),
        delivery_manager_user_id: Set(None),
        csm_user_id: Set(None),
        hold_reason: Set(None),
        source_rule: Set(request.rule_code.clone()),
        creation_key: Set(Some(request.idempotency_key.clone())),
        currency: Set(request.currency.as_deref().map(str::to_ascii_uppercase).filter(|code| code.len() == 3)),
        budget_hours: Set(blueprint.budget_hours),
    };
    engagement::Entity::insert(row).exec_without_returning(tx.connection()).await?;

    let mut templates = blueprint.milestones.clone();
    templates.sort_by_key(|template| template.seq);
    let mut milestones = Vec::new();
    let mut tasks = Vec::new();
    for (index, template) in templates.iter().enumerate() {
        let phase = MilestonePhase::parse(&template.phase)
            .map_err(|_| CommandError::Invalid(format!("unknown milestone phase {}", template.phase)))?;
        let milestone_id = Uuid::now_v7();
        let due = offset_date(start, template.offset_days);
        milestones.push(milestone::ActiveModel {
            tenant_id: Set(tx.tenant_id()),
            id: Set(milestone_id),
            engagement_id: Set(id),
            seq: Set(index as i32 + 1),
            name: Set(template.name.clone()),
            phase: Set(phase.as_str().to_owned()),
            status: Set(MilestoneStatus::NotStarted.as_str().to_owned()),
            due_date: Set(Some(due)),
            forecast_date: Set(Some(due)),
            completed_at: Set(None),
            is_go_live: Set(template.is_go_live),
            is_billing: Set(template.is_billing),
            percent_complete: Set(Decimal::ZERO),
            version: Set(1),
            milestone_template_id: Set(Some(template.milestone_template_id)),
            requires_acceptance: Set(template.requires_customer_acceptance),
            accepted_at: Set(None),
            billing_pct: Set(template.billing_fraction()),
            late_emitted_at: Set(None),
        });
        let mut task_templates = template.tasks.clone();
        task_templates.sort_by_key(|task| task.seq);
        for task_template in task_templates {
            let kind = TaskKind::parse(&task_template.kind)
                .map_err(|_| CommandError::Invalid(format!("unknown task kind {}", task_template.kind)))?;
            tasks.push(task::ActiveModel {
                tenant_id: Set(tx.tenant_id()),
                id: Set(Uuid::now_v7()),
                engagement_id: Set(id),
                milestone_id: Set(Some(milestone_id)),
                task_template_id: Set(Some(task_template.task_template_id)),
                seq: Set(tasks.len() as i32 + 1),
                title: Set(task_template.title.clone()),
                kind: Set(kind.as_str().to_owned()),
                required: Set(task_template.required),
                owner_role: Set(task_template.owner_role.clone()),
                assignee_user_id: Set(None),
                customer_facing: Set(task_template.customer_facing),
                status: Set(TaskStatus::Inactive.as_str().to_owned()),
                offset_days: Set(i32::try_from(task_template.offset_days).ok()),
                due_date: Set(None),
                completed_at: Set(None),
                version: Set(1),
            });
        }
    }
    if !milestones.is_empty() {
        milestone::Entity::insert_many(milestones).exec_without_returning(tx.connection()).await?;
    }
    if !tasks.is_empty() {
        task::Entity::insert_many(tasks).exec_without_returning(tx.connection()).await?;
    }

    let created = load_engagement(tx, id).await?;
    let created_milestones = repository::milestones_of_engagements(tx, &[id]).await.map_err(internal)?;
    let planned_cost_rate =
        repository::operations::blended_cost_rate(tx, created.currency.as_deref()).await.map_err(internal)?;
    let mut events =
        vec![engagement_created_event(tx, &created, &created_milestones, blueprint, request, planned_cost_rate)];
    let mut detail = format!("created {} from blueprint version {}", created.number, blueprint.version);
    if request.then_activate {
        let activation = activate(tx, &created, today).await?;
        events.extend(activation.events);
        detail.push_str("; draft -> onboarding");
    }
    Ok(Outcome { value: id, entity_ids: vec![id], detail, events })
}

/// `delivery.engagement.created` (docs/domain.md#delivery-commands): the engagement, its
/// currency and its milestones with their billing shares, from which finance builds the
/// contract line's billing schedule, and its budget hours and planned blended cost rate,
/// from which finance plans its cost; refs name the contract line when known.
fn engagement_created_event(
    tx: &TenantTransaction,
    engagement: &Engagement,
    milestones: &[Milestone],
    blueprint: &BlueprintVersion,
    request: &CreateFromBlueprint,
    planned_cost_rate: Option<Decimal>,
) -> DomainEvent {
    let mut event = engagement_event(tx, engagement, "delivery.engagement.created", engagement.version);
    if let Some(contract_line_id) = engagement.contract_line_id {
        event = event.with_ref("contract_line_id", contract_line_id);
    }
    event.with_data(json!({
        "status": "draft",
        "blueprint_version_id": blueprint.blueprint_version_id,
        "name": engagement.name,
        "source_rule": request.rule_code,
        "currency": engagement.currency,
        "budget_hours": engagement.budget_hours,
        "planned_cost_rate": planned_cost_rate,
        "milestones": milestones.iter().map(milestone_summary).collect::<Vec<_>>(),
    }))
}

/// A milestone as `delivery.engagement.created` lists it (interfaces B1).
pub fn milestone_summary(milestone: &Milestone) -> serde_json::Value {
    json!({
        "milestone_id": milestone.id,
        "seq": milestone.seq,
        "name": milestone.name,
        "due_date": milestone.due_date,
        "is_go_live": milestone.is_go_live,
        "is_billing": milestone.is_billing,
        "billing_pct": milestone.billing_pct.map(fraction_text),
        "requires_acceptance": milestone.requires_acceptance,
    })
}

/// A fraction as a string with at least two places ("0.40", "0.125"): exact, never rounded.
fn fraction_text(fraction: Decimal) -> String {
    let mut fraction = fraction.normalize();
    if fraction.scale() < 2 {
        fraction.rescale(2);
    }
    fraction.to_string()
}

// ---------------------------------------------------------------------------------------
// Onboarding.

/// `activateOnboarding`: draft → onboarding.
pub async fn activate_onboarding(
    tx: &TenantTransaction,
    engagement_id: Uuid,
    today: NaiveDate,
) -> Result<Outcome<Engagement>, CommandError> {
    let engagement = load_engagement(tx, engagement_id).await?;
    let activation = activate(tx, &engagement, today).await?;
    Ok(Outcome {
        value: load_engagement(tx, engagement_id).await?,
        entity_ids: activation.entity_ids,
        detail: "draft -> onboarding".to_owned(),
        events: activation.events,
    })
}

struct Activation {
    entity_ids: Vec<Uuid>,
    events: Vec<DomainEvent>,
}

/// Moves a draft engagement to onboarding (start = its start date, else today) and its
/// onboarding checklist to do: due `start + offset`, assigned by owner role where the
/// engagement knows the person (a delivery manager activating an engagement without one
/// becomes its delivery manager).
async fn activate(
    tx: &TenantTransaction,
    engagement: &Engagement,
    today: NaiveDate,
) -> Result<Activation, CommandError> {
    guard_engagement_transition(engagement.status, EngagementStatus::Onboarding, engagement.paused_from_status)?;
    let start = engagement.start_date.unwrap_or(today);
    let caller = tx.context();
    let delivery_manager = engagement
        .delivery_manager_user_id
        .clone()
        .or_else(|| caller.has_role("delivery_manager").then(|| caller.subject.clone()));
    let version = update_engagement(
        tx,
        engagement,
        vec![
            (engagement::Column::Status, Expr::value(EngagementStatus::Onboarding.as_str())),
            (engagement::Column::StartDate, Expr::value(start)),
            (engagement::Column::DeliveryManagerUserId, Expr::value(delivery_manager.clone())),
        ],
    )
    .await?;

    let onboarding_milestones = onboarding_milestone_ids(tx, engagement.id).await?;
    let checklist = task::Entity::find()
        .filter(task::Column::TenantId.eq(tx.tenant_id()))
        .filter(task::Column::EngagementId.eq(engagement.id))
        .filter(task::Column::MilestoneId.is_in(onboarding_milestones))
        .filter(task::Column::Kind.eq(TaskKind::Checklist.as_str()))
        .filter(task::Column::Status.eq(TaskStatus::Inactive.as_str()))
        .all(tx.connection())
        .await?;
    let mut task_ids = Vec::new();
    let mut activated_tasks = Vec::new();
    for row in checklist {
        let task = repository::task_from_row(row).map_err(internal)?;
        guard_transition(task.status, TaskStatus::Todo)?;
        let assignee = match task.owner_role.as_str() {
            "delivery_manager" => delivery_manager.clone(),
            "csm" => engagement.csm_user_id.clone(),
            _ => None,
        };
        let due = offset_date(start, task.offset_days.unwrap_or_default().into());
        update_task(
            tx,
            &task,
            vec![
                (task::Column::Status, Expr::value(TaskStatus::Todo.as_str())),
                (task::Column::DueDate, Expr::value(due)),
                (task::Column::AssigneeUserId, Expr::value(assignee)),
            ],
        )
        .await?;
        task_ids.push(task.id);
        activated_tasks.push(json!({
            "task_id": task.id,
            "title": task.title,
            "kind": task.kind.as_str(),
            "due_date": due,
            "customer_facing": task.customer_facing,
            "required": task.required,
            "owner_role": task.owner_role,
        }));
    }
    let activated = engagement_event(tx, engagement, "delivery.engagement.activated", version).with_data(json!({
        "status": "onboarding",
        "start_date": start,
        "target_onboard_date": engagement.target_onboard_date,
        "go_live_target_date": engagement.go_live_target_date,
    }));
    let tasks_activated = engagement_event(tx, engagement, "delivery.onboarding_task.activated", version)
        .with_data(json!({ "task_ids": task_ids, "tasks": activated_tasks }));
    let mut entity_ids = vec![engagement.id];
    entity_ids.extend(&task_ids);
    Ok(Activation { entity_ids, events: vec![activated, tasks_activated] })
}

async fn onboarding_milestone_ids(tx: &TenantTransaction, engagement_id: Uuid) -> Result<Vec<Uuid>, CommandError> {
    let rows = milestone::Entity::find()
        .filter(milestone::Column::TenantId.eq(tx.tenant_id()))
        .filter(milestone::Column::EngagementId.eq(engagement_id))
        .filter(milestone::Column::Phase.eq(MilestonePhase::Onboarding.as_str()))
        .all(tx.connection())
        .await?;
    Ok(rows.into_iter().map(|row| row.id).collect())
}

/// Required onboarding checklist tasks neither done nor cancelled.
async fn open_required_checklist_tasks(tx: &TenantTransaction, engagement_id: Uuid) -> Result<u64, CommandError> {
    let onboarding_milestones = onboarding_milestone_ids(tx, engagement_id).await?;
    let open = task::Entity::find()
        .filter(task::Column::TenantId.eq(tx.tenant_id()))
        .filter(task::Column::EngagementId.eq(engagement_id))
        .filter(task::Column::MilestoneId.is_in(onboarding_milestones))
        .filter(task::Column::Kind.eq(TaskKind::Checklist.as_str()))
        .filter(task::Column::Required.eq(true))
        .filter(task::Column::Status.is_not_in([TaskStatus::Done.as_str(), TaskStatus::Cancelled.as_str()]))
        .count(tx.connection())
        .await?;
    Ok(open)
}

/// `completeTask`: → done. Completing the last open required checklist task of an
/// onboarding engagement completes its onboarding (→ delivering) in the same command.
pub async fn complete_task(
    tx: &TenantTransaction,
    task_id: Uuid,
    today: NaiveDate,
) -> Result<Outcome<Task>, CommandError> {
    let task = load_task(tx, task_id).await?;
    guard_transition(task.status, TaskStatus::Done)?;
    let engagement = load_engagement(tx, task.engagement_id).await?;
    update_task(
        tx,
        &task,
        vec![
            (task::Column::Status, Expr::value(TaskStatus::Done.as_str())),
            (task::Column::CompletedAt, Expr::value(Utc::now())),
        ],
    )
    .await?;
    let subject = Subject { entity_type: "Task".to_owned(), id: task.id, version: task.version + 1 };
    let mut events = vec![
        DomainEvent::new(tx.context(), "delivery.task.completed", subject)
            .with_ref("customer_account_id", engagement.customer_account_id)
            .with_ref("engagement_id", engagement.id)
            .with_data(json!({
                "title": task.title,
                "kind": task.kind.as_str(),
                "due_date": task.due_date,
                "customer_facing": task.customer_facing,
                "required": task.required,
                "milestone_id": task.milestone_id,
                "completed_on": today,
            })),
    ];
    let mut entity_ids = vec![task.id];
    let mut detail = format!("{} -> done", task.status.as_str());
    if engagement.status == EngagementStatus::Onboarding
        && task.kind == TaskKind::Checklist
        && open_required_checklist_tasks(tx, engagement.id).await? == 0
    {
        let moved = move_engagement(tx, &engagement, EngagementStatus::Delivering, None, today).await?;
        events.push(moved);
        entity_ids.push(engagement.id);
        detail.push_str("; engagement onboarding -> delivering");
    }
    let value = load_task(tx, task_id).await?;
    Ok(Outcome { value, entity_ids, detail, events })
}

// ---------------------------------------------------------------------------------------
// Engagement status.

/// `changeEngagementStatus`: any transition of the lifecycle table; activation from draft
/// does what `activateOnboarding` does.
pub async fn change_engagement_status(
    tx: &TenantTransaction,
    engagement_id: Uuid,
    next: EngagementStatus,
    reason: Option<String>,
    today: NaiveDate,
) -> Result<Outcome<Engagement>, CommandError> {
    let engagement = load_engagement(tx, engagement_id).await?;
    let detail = format!("{} -> {}", engagement.status.as_str(), next.as_str());
    let (entity_ids, events) = if engagement.status == EngagementStatus::Draft && next == EngagementStatus::Onboarding {
        let activation = activate(tx, &engagement, today).await?;
        (activation.entity_ids, activation.events)
    } else {
        (vec![engagement.id], vec![move_engagement(tx, &engagement, next, reason, today).await?])
    };
    Ok(Outcome { value: load_engagement(tx, engagement_id).await?, entity_ids, detail, events })
}

/// Moves `engagement` to `next` (any transition but activation) after the guards that
/// need other rows; answers the transition's event.
async fn move_engagement(
    tx: &TenantTransaction,
    engagement: &Engagement,
    next: EngagementStatus,
    reason: Option<String>,
    today: NaiveDate,
) -> Result<DomainEvent, CommandError> {
    use EngagementStatus::{Cancelled, Closed, Delivering, Live, OnHold, Onboarding};
    let from = engagement.status;
    guard_engagement_transition(from, next, engagement.paused_from_status)?;
    let milestones = repository::milestones_of_engagements(tx, &[engagement.id]).await.map_err(internal)?;
    let go_live = milestones.iter().find(|milestone| milestone.is_go_live);
    match (from, next) {
        (Onboarding, Delivering) if open_required_checklist_tasks(tx, engagement.id).await? > 0 => {
            return Err(CommandError::Conflict("required onboarding checklist tasks are still open".to_owned()));
        }
        (Delivering, Live)
            if !go_live.is_some_and(|milestone| {
                matches!(milestone.status, MilestoneStatus::Completed | MilestoneStatus::Accepted)
            }) =>
        {
            return Err(CommandError::Conflict("the go-live milestone is not completed".to_owned()));
        }
        (Delivering, Closed) if go_live.is_some() => {
            return Err(CommandError::Conflict(
                "an engagement with a go-live milestone closes after going live".to_owned(),
            ));
        }
        (Live, Closed) if milestones.iter().any(|milestone| !milestone.status.is_done()) => {
            return Err(CommandError::Conflict("milestones are still open".to_owned()));
        }
        _ => {}
    }
    let paused_from = match next {
        OnHold => Some(from),
        _ if from == OnHold => None,
        _ => engagement.paused_from_status,
    };
    let mut changes = vec![
        (engagement::Column::Status, Expr::value(next.as_str())),
        (engagement::Column::PausedFromStatus, Expr::value(paused_from.map(EngagementStatus::as_str))),
        (engagement::Column::HoldReason, Expr::value(if next == OnHold { reason.clone() } else { None })),
    ];
    if (from, next) == (Onboarding, Delivering) {
        changes.push((engagement::Column::OnboardingCompletedAt, Expr::value(Utc::now())));
    }
    if next == Live {
        changes.push((engagement::Column::GoLiveActualDate, Expr::value(today)));
    }
    let version = update_engagement(tx, engagement, changes).await?;
    let event_type = match (from, next) {
        (Onboarding, Delivering) => "delivery.engagement.onboarding_completed",
        (_, Live) => "delivery.engagement.went_live",
        (_, Closed) => "delivery.engagement.closed",
        (_, Cancelled) => "delivery.engagement.cancelled",
        (_, OnHold) => "delivery.engagement.on_hold",
        (OnHold, _) => "delivery.engagement.resumed",
        _ => "delivery.engagement.status_changed",
    };
    let mut data = json!({ "from": from.as_str(), "to": next.as_str() });
    if let Some(reason) = reason {
        data["reason"] = json!(reason);
    }
    Ok(engagement_event(tx, engagement, event_type, version).with_data(data))
}

// ---------------------------------------------------------------------------------------
// Milestones.

/// Which milestone command: its target state and its event's verb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MilestoneStep {
    Start,
    Complete,
    Accept,
}

/// `startMilestone`, `completeMilestone`, `acceptMilestone`. Completing the go-live
/// milestone of a delivering engagement takes it live in the same command.
pub async fn advance_milestone(
    tx: &TenantTransaction,
    milestone_id: Uuid,
    step: MilestoneStep,
    today: NaiveDate,
) -> Result<Outcome<Milestone>, CommandError> {
    let milestone = load_milestone(tx, milestone_id).await?;
    let engagement = load_engagement(tx, milestone.engagement_id).await?;
    let (next, verb) = match step {
        MilestoneStep::Start => (MilestoneStatus::InProgress, "started"),
        MilestoneStep::Complete => (MilestoneStatus::Completed, "completed"),
        MilestoneStep::Accept => (MilestoneStatus::Accepted, "accepted"),
    };
    guard_transition(milestone.status, next)?;
    if step == MilestoneStep::Accept && !milestone.requires_acceptance {
        return Err(CommandError::InvalidTransition {
            entity: "Milestone",
            current: "COMPLETED".to_owned(),
            requested: "ACCEPTED".to_owned(),
            allowed: Vec::new(),
        });
    }
    if matches!(engagement.status, EngagementStatus::Draft | EngagementStatus::Closed | EngagementStatus::Cancelled) {
        return Err(CommandError::Conflict(format!(
            "milestones of a {} engagement do not move",
            engagement.status.as_str()
        )));
    }
    let mut changes = vec![(milestone::Column::Status, Expr::value(next.as_str()))];
    match step {
        MilestoneStep::Start => {}
        MilestoneStep::Complete => {
            changes.push((milestone::Column::CompletedAt, Expr::value(Utc::now())));
            changes.push((milestone::Column::PercentComplete, Expr::value(Decimal::ONE)));
        }
        MilestoneStep::Accept => changes.push((milestone::Column::AcceptedAt, Expr::value(Utc::now()))),
    }
    update_milestone(tx, &milestone, changes).await?;
    let mut events = vec![milestone_event(tx, &engagement, &milestone, verb)];
    let mut entity_ids = vec![milestone.id];
    let mut detail = format!("{} -> {}", milestone.status.as_str(), next.as_str());
    if step == MilestoneStep::Complete && milestone.is_go_live && engagement.status == EngagementStatus::Delivering {
        events.push(move_engagement(tx, &engagement, EngagementStatus::Live, None, today).await?);
        entity_ids.push(engagement.id);
        detail.push_str("; engagement delivering -> live");
    }
    Ok(Outcome { value: load_milestone(tx, milestone_id).await?, entity_ids, detail, events })
}
