//! Engagements that run (docs/domain.md#delivery): the command tables (audit log, outbox
//! with event columns and relay functions, idempotency), a `version` on engagements and
//! milestones for conditional updates, the engagement columns activation fills in,
//! `tasks` (onboarding checklist items and work tasks), and delivery's copies of what it
//! needs from other services' events: published packages and the newest version of each
//! blueprint (catalog), customer names (finance).

use atrium_kit::{
    changes, command,
    rls::{self, SecondLevelScope},
};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TASK_SCOPE: SecondLevelScope<'static> =
    SecondLevelScope::Parent { column: "engagement_id", parent_table: "engagements" };

/// Columns added one statement each: SQLite alters one column at a time.
fn engagement_columns() -> Vec<ColumnDef> {
    vec![
        ColumnDef::new("version").big_integer().not_null().default(1).to_owned(),
        ColumnDef::new("contract_id").uuid().null().to_owned(),
        ColumnDef::new("contract_line_id").uuid().null().to_owned(),
        ColumnDef::new("service_package_id").uuid().null().to_owned(),
        ColumnDef::new("blueprint_version_id").uuid().null().to_owned(),
        ColumnDef::new("target_onboard_date").date().null().to_owned(),
        ColumnDef::new("onboarding_completed_at").timestamp_with_time_zone().null().to_owned(),
        ColumnDef::new("delivery_manager_user_id").string().null().to_owned(),
        ColumnDef::new("csm_user_id").string().null().to_owned(),
        ColumnDef::new("hold_reason").string().null().to_owned(),
        ColumnDef::new("source_rule").string().null().to_owned(),
        // The idempotency key of the cross-service command that created the engagement:
        // unique per tenant, so a redelivered command can never create a second one.
        ColumnDef::new("creation_key").string().null().to_owned(),
    ]
}

fn milestone_columns() -> Vec<ColumnDef> {
    vec![
        ColumnDef::new("version").big_integer().not_null().default(1).to_owned(),
        ColumnDef::new("milestone_template_id").uuid().null().to_owned(),
        ColumnDef::new("requires_acceptance").boolean().not_null().default(false).to_owned(),
        ColumnDef::new("accepted_at").timestamp_with_time_zone().null().to_owned(),
    ]
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        command::create_command_tables(manager).await?;
        changes::secure_outbox_relay(manager).await?;
        for column in engagement_columns() {
            manager.alter_table(Table::alter().table("engagements").add_column(column).to_owned()).await?;
        }
        for column in milestone_columns() {
            manager.alter_table(Table::alter().table("milestones").add_column(column).to_owned()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("engagements_creation_key")
                    .table("engagements")
                    .col("tenant_id")
                    .col("creation_key")
                    .unique()
                    .to_owned(),
            )
            .await?;
        create_tasks(manager).await?;
        create_copies(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["customer_names", "catalog_blueprint_versions", "catalog_packages", "tasks"] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager.drop_index(Index::drop().name("engagements_creation_key").table("engagements").to_owned()).await?;
        for column in milestone_columns() {
            let name = column.get_column_name();
            manager.alter_table(Table::alter().table("milestones").drop_column(name).to_owned()).await?;
        }
        for column in engagement_columns() {
            let name = column.get_column_name();
            manager.alter_table(Table::alter().table("engagements").drop_column(name).to_owned()).await?;
        }
        changes::drop_outbox_relay_functions(manager).await?;
        command::idempotency::drop_idempotency_table(manager).await
    }
}

async fn create_tasks(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table("tasks")
                .col(ColumnDef::new("tenant_id").uuid().not_null())
                .col(ColumnDef::new("id").uuid().not_null())
                .col(ColumnDef::new("engagement_id").uuid().not_null())
                .col(ColumnDef::new("milestone_id").uuid().null())
                .col(ColumnDef::new("task_template_id").uuid().null())
                .col(ColumnDef::new("seq").integer().not_null())
                .col(ColumnDef::new("title").string().not_null())
                .col(ColumnDef::new("kind").string().not_null())
                .col(ColumnDef::new("required").boolean().not_null())
                .col(ColumnDef::new("owner_role").string().not_null())
                .col(ColumnDef::new("assignee_user_id").string().null())
                .col(ColumnDef::new("customer_facing").boolean().not_null())
                .col(ColumnDef::new("status").string().not_null())
                // Days after the engagement's start the task falls due; the due date itself
                // is set when the task is activated.
                .col(ColumnDef::new("offset_days").integer().null())
                .col(ColumnDef::new("due_date").date().null())
                .col(ColumnDef::new("completed_at").timestamp_with_time_zone().null())
                .col(ColumnDef::new("version").big_integer().not_null().default(1))
                .primary_key(Index::create().col("tenant_id").col("id"))
                .foreign_key(
                    ForeignKey::create()
                        .name("tasks_engagement")
                        .from("tasks", ("tenant_id", "engagement_id"))
                        .to("engagements", ("tenant_id", "id"))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
    // Tasks load for many engagements at once, in creation (id) order.
    manager
        .create_index(
            Index::create()
                .name("tasks_by_engagement")
                .table("tasks")
                .col("tenant_id")
                .col("engagement_id")
                .col("id")
                .to_owned(),
        )
        .await?;
    rls::enable_tenant_isolation(manager, "tasks").await?;
    rls::enable_second_level_scopes(manager, "tasks", TASK_SCOPE).await
}

async fn create_copies(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table("catalog_packages")
                .col(ColumnDef::new("tenant_id").uuid().not_null())
                .col(ColumnDef::new("package_id").uuid().not_null())
                .col(ColumnDef::new("blueprint_id").uuid().null())
                .col(ColumnDef::new("version").big_integer().not_null())
                .primary_key(Index::create().col("tenant_id").col("package_id"))
                .to_owned(),
        )
        .await?;
    // Only the newest published version of each blueprint: engagements start from it.
    manager
        .create_table(
            Table::create()
                .table("catalog_blueprint_versions")
                .col(ColumnDef::new("tenant_id").uuid().not_null())
                .col(ColumnDef::new("blueprint_id").uuid().not_null())
                .col(ColumnDef::new("blueprint_version_id").uuid().not_null())
                .col(ColumnDef::new("version").big_integer().not_null())
                .col(ColumnDef::new("payload").text().not_null())
                .primary_key(Index::create().col("tenant_id").col("blueprint_id"))
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table("customer_names")
                .col(ColumnDef::new("tenant_id").uuid().not_null())
                .col(ColumnDef::new("customer_account_id").uuid().not_null())
                .col(ColumnDef::new("name").string().not_null())
                .primary_key(Index::create().col("tenant_id").col("customer_account_id"))
                .to_owned(),
        )
        .await?;
    for table in ["catalog_packages", "catalog_blueprint_versions", "customer_names"] {
        rls::enable_tenant_isolation(manager, table).await?;
    }
    Ok(())
}
