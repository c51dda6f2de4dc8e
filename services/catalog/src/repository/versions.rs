//! Blueprint versions with their milestone and task templates (written once, never
//! updated), the blueprint's move to a new current version and a package's publication.
//! Both moves are conditional on the row's `version`, so a concurrent change is never
//! overwritten.

use std::collections::HashMap;

use atrium_kit::TenantTransaction;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::{blueprint_from_row, package_from_row};
use crate::{
    domain::{
        ApprovalStatus, Blueprint, BlueprintVersion, MilestonePhase, MilestoneTemplate, OwnerRole, PublicationStatus,
        ServicePackage, TaskKind, TaskTemplate, blueprints::two_places,
    },
    entities::{blueprint, blueprint_version, milestone_template, service_package, task_template},
    error::CatalogError,
};

/// The versions with these ids, with their templates.
pub async fn versions_by_ids(tx: &TenantTransaction, ids: &[Uuid]) -> Result<Vec<BlueprintVersion>, CatalogError> {
    let rows = blueprint_version::Entity::find()
        .filter(blueprint_version::Column::TenantId.eq(tx.tenant_id()))
        .filter(blueprint_version::Column::Id.is_in(ids.iter().copied()))
        .all(tx.connection())
        .await?;
    assemble(tx, rows).await
}

/// Every version of these blueprints, oldest first per blueprint, with their templates.
pub async fn versions_of_blueprints(
    tx: &TenantTransaction,
    blueprint_ids: &[Uuid],
) -> Result<Vec<BlueprintVersion>, CatalogError> {
    let rows = blueprint_version::Entity::find()
        .filter(blueprint_version::Column::TenantId.eq(tx.tenant_id()))
        .filter(blueprint_version::Column::BlueprintId.is_in(blueprint_ids.iter().copied()))
        .order_by_asc(blueprint_version::Column::BlueprintId)
        .order_by_asc(blueprint_version::Column::Version)
        .all(tx.connection())
        .await?;
    assemble(tx, rows).await
}

/// The number the next version of `blueprint_id` gets: one above the highest so far.
pub async fn next_version_number(tx: &TenantTransaction, blueprint_id: Uuid) -> Result<i32, CatalogError> {
    let highest: Option<i32> = blueprint_version::Entity::find()
        .select_only()
        .column(blueprint_version::Column::Version)
        .filter(blueprint_version::Column::TenantId.eq(tx.tenant_id()))
        .filter(blueprint_version::Column::BlueprintId.eq(blueprint_id))
        .order_by_desc(blueprint_version::Column::Version)
        .limit(1)
        .into_tuple()
        .one(tx.connection())
        .await?;
    Ok(highest.unwrap_or(0) + 1)
}

/// Stores `version` with its milestone and task templates.
pub async fn insert_version(tx: &TenantTransaction, version: &BlueprintVersion) -> Result<(), CatalogError> {
    let tenant_id = tx.tenant_id();
    let connection = tx.connection();
    blueprint_version::Entity::insert(blueprint_version::ActiveModel {
        tenant_id: Set(tenant_id),
        id: Set(version.id),
        blueprint_id: Set(version.blueprint_id),
        version: Set(version.version),
        target_onboard_days: Set(version.target_onboard_days),
        target_go_live_days: Set(version.target_go_live_days),
        hypercare_days: Set(version.hypercare_days),
        budget_hours: Set(version.budget_hours),
        published_at: Set(version.published_at),
        approval_status: Set(version.approval_status.as_str().to_owned()),
    })
    .exec_without_returning(connection)
    .await?;
    let milestones = version.milestones.iter().map(|milestone| milestone_template::ActiveModel {
        tenant_id: Set(tenant_id),
        id: Set(milestone.id),
        blueprint_version_id: Set(version.id),
        seq: Set(milestone.seq),
        code: Set(milestone.code.clone()),
        name: Set(milestone.name.clone()),
        phase: Set(milestone.phase.as_str().to_owned()),
        offset_days: Set(milestone.offset_days),
        weight: Set(milestone.weight),
        is_go_live: Set(milestone.is_go_live),
        is_billing: Set(milestone.is_billing),
        billing_pct: Set(milestone.billing_pct),
        requires_customer_acceptance: Set(milestone.requires_customer_acceptance),
    });
    milestone_template::Entity::insert_many(milestones).exec_without_returning(connection).await?;
    let mut tasks = Vec::new();
    for task in version.milestones.iter().flat_map(|milestone| &milestone.tasks) {
        tasks.push(task_template::ActiveModel {
            tenant_id: Set(tenant_id),
            id: Set(task.id),
            blueprint_version_id: Set(version.id),
            milestone_template_id: Set(task.milestone_template_id),
            seq: Set(task.seq),
            title: Set(task.title.clone()),
            kind: Set(task.kind.as_str().to_owned()),
            required: Set(task.required),
            owner_role: Set(task.owner_role.as_str().to_owned()),
            customer_facing: Set(task.customer_facing),
            offset_days: Set(task.offset_days),
            estimate_hours: Set(task.estimate_hours),
            depends_on_seq: Set(serde_json::to_string(&task.depends_on_seq)?),
        });
    }
    if !tasks.is_empty() {
        task_template::Entity::insert_many(tasks).exec_without_returning(connection).await?;
    }
    Ok(())
}

/// Makes `version` the current version of `blueprint` (published, with the version's
/// targets and milestone count copied onto the blueprint row) and returns the blueprint as
/// stored. Conditional on the blueprint's `version` as read: [`CatalogError::Moved`] when
/// it changed meanwhile.
pub async fn make_current(
    tx: &TenantTransaction,
    blueprint: &Blueprint,
    version: &BlueprintVersion,
) -> Result<Blueprint, CatalogError> {
    let milestone_count = i32::try_from(version.milestones.len()).unwrap_or(i32::MAX);
    let updated = blueprint::Entity::update_many()
        .col_expr(blueprint::Column::CurrentVersionId, Expr::value(version.id))
        .col_expr(blueprint::Column::Status, Expr::value(PublicationStatus::Published.as_str()))
        .col_expr(blueprint::Column::TargetOnboardDays, Expr::value(version.target_onboard_days))
        .col_expr(blueprint::Column::TargetGoLiveDays, Expr::value(version.target_go_live_days))
        .col_expr(blueprint::Column::MilestoneCount, Expr::value(milestone_count))
        .col_expr(blueprint::Column::Version, Expr::col(blueprint::Column::Version).add(1))
        .filter(blueprint::Column::TenantId.eq(tx.tenant_id()))
        .filter(blueprint::Column::Id.eq(blueprint.id))
        .filter(blueprint::Column::Version.eq(blueprint.version))
        .exec(tx.connection())
        .await?;
    if updated.rows_affected != 1 {
        return Err(CatalogError::Moved { entity: "Blueprint", id: blueprint.id });
    }
    let row = blueprint::Entity::find_by_id((tx.tenant_id(), blueprint.id))
        .one(tx.connection())
        .await?
        .ok_or(CatalogError::Moved { entity: "Blueprint", id: blueprint.id })?;
    blueprint_from_row(row)
}

/// Moves `package` from its status as read to published; conditional on its `version`.
pub async fn publish_package(tx: &TenantTransaction, package: &ServicePackage) -> Result<ServicePackage, CatalogError> {
    let updated = service_package::Entity::update_many()
        .col_expr(service_package::Column::Status, Expr::value(PublicationStatus::Published.as_str()))
        .col_expr(service_package::Column::Version, Expr::col(service_package::Column::Version).add(1))
        .filter(service_package::Column::TenantId.eq(tx.tenant_id()))
        .filter(service_package::Column::Id.eq(package.id))
        .filter(service_package::Column::Version.eq(package.version))
        .exec(tx.connection())
        .await?;
    if updated.rows_affected != 1 {
        return Err(CatalogError::Moved { entity: "ServicePackage", id: package.id });
    }
    let row = service_package::Entity::find_by_id((tx.tenant_id(), package.id))
        .one(tx.connection())
        .await?
        .ok_or(CatalogError::Moved { entity: "ServicePackage", id: package.id })?;
    package_from_row(row)
}

/// Loads the templates of `rows` (two statements however many versions) and nests them.
async fn assemble(
    tx: &TenantTransaction,
    rows: Vec<blueprint_version::Model>,
) -> Result<Vec<BlueprintVersion>, CatalogError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let version_ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let milestone_rows = milestone_template::Entity::find()
        .filter(milestone_template::Column::TenantId.eq(tx.tenant_id()))
        .filter(milestone_template::Column::BlueprintVersionId.is_in(version_ids.iter().copied()))
        .order_by_asc(milestone_template::Column::Seq)
        .all(tx.connection())
        .await?;
    let task_rows = task_template::Entity::find()
        .filter(task_template::Column::TenantId.eq(tx.tenant_id()))
        .filter(task_template::Column::BlueprintVersionId.is_in(version_ids.iter().copied()))
        .order_by_asc(task_template::Column::Seq)
        .all(tx.connection())
        .await?;
    let mut tasks_by_milestone: HashMap<Uuid, Vec<TaskTemplate>> = HashMap::new();
    for row in task_rows {
        let task = TaskTemplate {
            id: row.id,
            milestone_template_id: row.milestone_template_id,
            seq: row.seq,
            title: row.title,
            kind: TaskKind::parse(&row.kind)?,
            required: row.required,
            owner_role: OwnerRole::parse(&row.owner_role)?,
            customer_facing: row.customer_facing,
            offset_days: row.offset_days,
            estimate_hours: two_places(row.estimate_hours),
            depends_on_seq: serde_json::from_str(&row.depends_on_seq)?,
        };
        tasks_by_milestone.entry(row.milestone_template_id).or_default().push(task);
    }
    let mut milestones_by_version: HashMap<Uuid, Vec<MilestoneTemplate>> = HashMap::new();
    for row in milestone_rows {
        let milestone = MilestoneTemplate {
            id: row.id,
            seq: row.seq,
            code: row.code,
            name: row.name,
            phase: MilestonePhase::parse(&row.phase)?,
            offset_days: row.offset_days,
            weight: two_places(row.weight),
            is_go_live: row.is_go_live,
            is_billing: row.is_billing,
            billing_pct: two_places(row.billing_pct),
            requires_customer_acceptance: row.requires_customer_acceptance,
            tasks: tasks_by_milestone.remove(&row.id).unwrap_or_default(),
        };
        milestones_by_version.entry(row.blueprint_version_id).or_default().push(milestone);
    }
    rows.into_iter()
        .map(|row| {
            Ok(BlueprintVersion {
                id: row.id,
                blueprint_id: row.blueprint_id,
                version: row.version,
                target_onboard_days: row.target_onboard_days,
                target_go_live_days: row.target_go_live_days,
                hypercare_days: row.hypercare_days,
                budget_hours: two_places(row.budget_hours),
                published_at: row.published_at,
                approval_status: ApprovalStatus::parse(&row.approval_status)?,
                milestones: milestones_by_version.remove(&row.id).unwrap_or_default(),
            })
        })
        .collect()
}
