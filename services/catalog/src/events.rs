//! The domain events catalog publishes (docs/domain.md#events): a package published for
//! sale and a blueprint version published, each carrying everything a consumer needs to
//! keep its own copy (delivery instantiates engagements from the version's templates
//! without calling catalog). Decimals travel as strings with two places.

use atrium_kit::{
    TenantContext,
    events::{DomainEvent, Subject},
};
use serde_json::{Value, json};

use crate::domain::{Blueprint, BlueprintVersion, ServicePackage};

pub const PACKAGE_PUBLISHED: &str = "catalog.package.published";
pub const BLUEPRINT_VERSION_PUBLISHED: &str = "catalog.blueprint.version_published";

/// `catalog.package.published` about `package` as it is now (its `version` after the change).
pub fn package_published(context: &TenantContext, package: &ServicePackage) -> DomainEvent {
    let subject = Subject { entity_type: "ServicePackage".to_owned(), id: package.id, version: package.version };
    DomainEvent::new(context, PACKAGE_PUBLISHED, subject).with_data(json!({
        "code": package.code,
        "name": package.name,
        "blueprint_id": package.blueprint_id,
        "category": package.category.as_str(),
        "billing_model": package.billing_model.as_str(),
    }))
}

/// `catalog.blueprint.version_published`: the subject is the blueprint at the version's
/// number, so consumers keep the highest version they have seen as current.
pub fn blueprint_version_published(
    context: &TenantContext,
    blueprint: &Blueprint,
    version: &BlueprintVersion,
) -> DomainEvent {
    let subject =
        Subject { entity_type: "Blueprint".to_owned(), id: blueprint.id, version: i64::from(version.version) };
    DomainEvent::new(context, BLUEPRINT_VERSION_PUBLISHED, subject).with_data(version_data(blueprint, version))
}

fn version_data(blueprint: &Blueprint, version: &BlueprintVersion) -> Value {
    let milestones: Vec<Value> = version
        .milestones
        .iter()
        .map(|milestone| {
            let tasks: Vec<Value> = milestone
                .tasks
                .iter()
                .map(|task| {
                    json!({
                        "task_template_id": task.id,
                        "seq": task.seq,
                        "title": task.title,
                        "kind": task.kind.as_str(),
                        "required": task.required,
                        "owner_role": task.owner_role.as_str(),
                        "customer_facing": task.customer_facing,
                        "offset_days": task.offset_days,
                        "estimate_hours": task.estimate_hours.to_string(),
                    })
                })
                .collect();
            json!({
                "milestone_template_id": milestone.id,
                "seq": milestone.seq,
                "code": milestone.code,
                "name": milestone.name,
                "phase": milestone.phase.as_str(),
                "offset_days": milestone.offset_days,
                "weight": milestone.weight.to_string(),
                "is_go_live": milestone.is_go_live,
                "is_billing": milestone.is_billing,
                "billing_pct": milestone.billing_pct.to_string(),
                "requires_customer_acceptance": milestone.requires_customer_acceptance,
                "tasks": tasks,
            })
        })
        .collect();
    json!({
        "blueprint_id": blueprint.id,
        "blueprint_version_id": version.id,
        "name": blueprint.name,
        "engagement_type": blueprint.engagement_type.as_str(),
        "version": version.version,
        "target_onboard_days": version.target_onboard_days,
        "target_go_live_days": version.target_go_live_days,
        "hypercare_days": version.hypercare_days,
        "budget_hours": version.budget_hours.to_string(),
        "milestones": milestones,
    })
}
