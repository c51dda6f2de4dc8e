//! Catalog mutations, each a command of the kit's command pattern
//! (docs/domain.md#writes-the-command-pattern): publishing a blueprint version
//! (docs/domain.md#blueprint-versions) and publishing a service package. Only tenant
//! admins change the catalog; each change commits with its audit entry and its event.

use async_graphql::{Context, ID, Object, Result};
use atrium_kit::{
    ErrorCode, TenantContext, TenantTransaction,
    command::{self, Command, CommandError, Outcome, guard_transition},
};
use chrono::Utc;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use atrium_kit::subgraph_http::uuid_of;

use super::types::{BlueprintVersion, BlueprintVersionInput, ServicePackage};
use crate::{
    domain::{
        self, PublicationStatus,
        blueprints::{BlueprintLifecycle, PackageLifecycle, VersionDraft},
    },
    error::CatalogError,
    events, repository,
};

/// Who may change the catalog.
const CATALOG_EDITORS: &[&str] = &["tenant_admin"];

pub struct Mutation;

#[Object]
impl Mutation {
    /// Publishes the next version of a blueprint (1 more than the highest so far) from its
    /// targets, milestones and tasks, and makes it the current version; earlier versions
    /// stay as they were. A draft blueprint becomes published; a retired one refuses with
    /// `INVALID_TRANSITION`. An input breaking a rule (no milestones, duplicate codes,
    /// negative offsets, more than one go-live milestone, billing shares not adding up to
    /// 100, …) answers `BAD_USER_INPUT` naming the rule. Emits
    /// `catalog.blueprint.version_published`. A retry with the same `idempotencyKey`
    /// answers the version the first attempt published and writes nothing.
    async fn publish_blueprint_version(
        &self,
        ctx: &Context<'_>,
        blueprint_id: ID,
        input: BlueprintVersionInput,
        idempotency_key: Option<String>,
    ) -> Result<BlueprintVersion> {
        let blueprint_id =
            uuid_of(&blueprint_id).ok_or_else(|| ErrorCode::NotFound.graphql_error("no Blueprint with this id"))?;
        let draft = VersionDraft::from(input);
        let command = Command {
            operation: "publishBlueprintVersion",
            entity_type: "Blueprint",
            allowed_roles: CATALOG_EDITORS,
            target: Some(blueprint_id),
        };
        let version_id = command::run_idempotent(ctx, command, idempotency_key, |tx| {
            Box::pin(publish_version(tx, blueprint_id, draft))
        })
        .await?;
        // Read back in a transaction of its own: the request's began before the command's
        // commit.
        let tx = TenantTransaction::begin(ctx.data::<DatabaseConnection>()?, ctx.data::<TenantContext>()?).await?;
        let version = repository::versions_by_ids(&tx, &[version_id]).await?.pop();
        version.map(Into::into).ok_or_else(|| ErrorCode::NotFound.graphql_error("no BlueprintVersion with this id"))
    }

    /// Publishes a draft service package (`DRAFT → PUBLISHED`; anything else answers
    /// `INVALID_TRANSITION`), emitting `catalog.package.published`. A package whose
    /// blueprint has no published version is refused with `BAD_USER_INPUT`: selling it
    /// would start engagements without a plan.
    async fn publish_service_package(&self, ctx: &Context<'_>, id: ID) -> Result<ServicePackage> {
        let package_id =
            uuid_of(&id).ok_or_else(|| ErrorCode::NotFound.graphql_error("no ServicePackage with this id"))?;
        let command = Command {
            operation: "publishServicePackage",
            entity_type: "ServicePackage",
            allowed_roles: CATALOG_EDITORS,
            target: Some(package_id),
        };
        let published = command::run(ctx, command, |tx| Box::pin(publish_package(tx, package_id))).await?;
        Ok(published.into())
    }
}

/// The domain part of `publishBlueprintVersion`.
async fn publish_version(
    tx: &TenantTransaction,
    blueprint_id: Uuid,
    draft: VersionDraft,
) -> Result<Outcome<Uuid>, CommandError> {
    let blueprint = repository::blueprints_by_ids(tx, &[blueprint_id])
        .await
        .map_err(internal)?
        .pop()
        .ok_or(CommandError::NotFound("Blueprint"))?;
    if blueprint.status != PublicationStatus::Published {
        guard_transition(BlueprintLifecycle(blueprint.status), BlueprintLifecycle(PublicationStatus::Published))?;
    }
    draft.validate().map_err(CommandError::Invalid)?;
    let number = repository::next_version_number(tx, blueprint.id).await.map_err(internal)?;
    let version = draft.publish(blueprint.id, number, Utc::now(), &mut |_, _| Uuid::now_v7());
    // The blueprint row first: its conditional update makes a concurrent publication wait
    // and then lose with CONFLICT, instead of both numbering a version `number`.
    let published = repository::make_current(tx, &blueprint, &version).await.map_err(internal)?;
    repository::insert_version(tx, &version).await.map_err(internal)?;
    let event = events::blueprint_version_published(tx.context(), &published, &version);
    Ok(Outcome {
        entity_ids: vec![blueprint.id, version.id],
        detail: format!("version {number} with {} milestones", version.milestones.len()),
        events: vec![event],
        value: version.id,
    })
}

/// The domain part of `publishServicePackage`.
async fn publish_package(
    tx: &TenantTransaction,
    package_id: Uuid,
) -> Result<Outcome<domain::ServicePackage>, CommandError> {
    let package = repository::service_packages_by_ids(tx, &[package_id])
        .await
        .map_err(internal)?
        .pop()
        .ok_or(CommandError::NotFound("ServicePackage"))?;
    guard_transition(PackageLifecycle(package.status), PackageLifecycle(PublicationStatus::Published))?;
    if let Some(blueprint_id) = package.blueprint_id {
        let blueprint = repository::blueprints_by_ids(tx, &[blueprint_id]).await.map_err(internal)?.pop();
        if blueprint.and_then(|blueprint| blueprint.current_version_id).is_none() {
            return Err(CommandError::Invalid(
                "the package's blueprint has no published version; publish one first".to_owned(),
            ));
        }
    }
    let published = repository::publish_package(tx, &package).await.map_err(internal)?;
    let event = events::package_published(tx.context(), &published);
    Ok(Outcome {
        entity_ids: vec![published.id],
        detail: format!("{} -> {}", package.status.as_str(), published.status.as_str()),
        events: vec![event],
        value: published,
    })
}

/// A catalog error inside a command: a lost race is a conflict, anything else a defect or
/// the database, never the caller's fault.
fn internal(error: CatalogError) -> CommandError {
    match error {
        CatalogError::Moved { entity, .. } => CommandError::stale(entity),
        CatalogError::Database(error) => CommandError::Database(error),
        other => CommandError::Database(sea_orm::DbErr::Custom(other.to_string())),
    }
}
