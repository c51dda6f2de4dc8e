//! Blueprints become instantiable: immutable published versions with their milestone and
//! task templates, the blueprint's pointer to its current version, `version` columns on
//! the blueprint and package rows (their lifecycles are guarded state machines), and
//! everything the kit's command pattern writes to (audit log, outbox, idempotency).

use atrium_kit::{audit, changes, command, rls};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// In creation order; dropped in reverse.
const TEMPLATE_TABLES: &[&str] = &["blueprint_versions", "milestone_templates", "task_templates"];

/// A `(tenant_id, <column>) → <parent>(tenant_id, id)` foreign key.
fn tenant_foreign_key(table: &'static str, column: &'static str, parent: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("{table}_{column}_fkey"))
        .from(table, ("tenant_id", column))
        .to(parent, ("tenant_id", "id"))
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

/// Hours, weights and percentages are exact decimals with two places.
fn exact(name: &'static str, precision: u32) -> ColumnDef {
    ColumnDef::new(name).decimal_len(precision, 2).not_null().to_owned()
}

/// One column per statement: SQLite alters a table one change at a time.
async fn add_column(manager: &SchemaManager<'_>, table: &'static str, column: ColumnDef) -> Result<(), DbErr> {
    manager.alter_table(Table::alter().table(table).add_column(column).to_owned()).await
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        command::create_command_tables(manager).await?;
        add_column(manager, "blueprints", ColumnDef::new("current_version_id").uuid().null().to_owned()).await?;
        add_column(manager, "blueprints", ColumnDef::new("version").big_integer().not_null().default(1).to_owned())
            .await?;
        add_column(
            manager,
            "service_packages",
            ColumnDef::new("version").big_integer().not_null().default(1).to_owned(),
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("blueprint_versions")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("blueprint_id").uuid().not_null())
                    .col(ColumnDef::new("version").integer().not_null())
                    .col(ColumnDef::new("target_onboard_days").integer().not_null())
                    .col(ColumnDef::new("target_go_live_days").integer().not_null())
                    .col(ColumnDef::new("hypercare_days").integer().not_null())
                    .col(exact("budget_hours", 10))
                    .col(ColumnDef::new("published_at").timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new("approval_status").string().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(&mut tenant_foreign_key("blueprint_versions", "blueprint_id", "blueprints"))
                    .to_owned(),
            )
            .await?;
        // Version numbers are unique per blueprint: two concurrent publications cannot both
        // become version n.
        manager
            .create_index(
                Index::create()
                    .name("blueprint_versions_number_per_blueprint")
                    .table("blueprint_versions")
                    .col("tenant_id")
                    .col("blueprint_id")
                    .col("version")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("milestone_templates")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("blueprint_version_id").uuid().not_null())
                    .col(ColumnDef::new("seq").integer().not_null())
                    .col(ColumnDef::new("code").string().not_null())
                    .col(ColumnDef::new("name").string().not_null())
                    .col(ColumnDef::new("phase").string().not_null())
                    .col(ColumnDef::new("offset_days").integer().not_null())
                    .col(exact("weight", 7))
                    .col(ColumnDef::new("is_go_live").boolean().not_null())
                    .col(ColumnDef::new("is_billing").boolean().not_null())
                    .col(exact("billing_pct", 5))
                    .col(ColumnDef::new("requires_customer_acceptance").boolean().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(&mut tenant_foreign_key(
                        "milestone_templates",
                        "blueprint_version_id",
                        "blueprint_versions",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("milestone_templates_code_per_version")
                    .table("milestone_templates")
                    .col("tenant_id")
                    .col("blueprint_version_id")
                    .col("code")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("task_templates")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("blueprint_version_id").uuid().not_null())
                    .col(ColumnDef::new("milestone_template_id").uuid().not_null())
                    .col(ColumnDef::new("seq").integer().not_null())
                    .col(ColumnDef::new("title").string().not_null())
                    .col(ColumnDef::new("kind").string().not_null())
                    .col(ColumnDef::new("required").boolean().not_null())
                    .col(ColumnDef::new("owner_role").string().not_null())
                    .col(ColumnDef::new("customer_facing").boolean().not_null())
                    .col(ColumnDef::new("offset_days").integer().not_null())
                    .col(exact("estimate_hours", 8))
                    // A JSON array of the seqs (within the version) this task waits for.
                    .col(ColumnDef::new("depends_on_seq").text().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(&mut tenant_foreign_key(
                        "task_templates",
                        "blueprint_version_id",
                        "blueprint_versions",
                    ))
                    .foreign_key(&mut tenant_foreign_key(
                        "task_templates",
                        "milestone_template_id",
                        "milestone_templates",
                    ))
                    .to_owned(),
            )
            .await?;
        // The runtime role's grants on these tables come from the default privileges of the
        // first migration; granting on all tables again would give it UPDATE and DELETE on
        // the append-only audit log.
        for table in TEMPLATE_TABLES {
            rls::enable_tenant_isolation(manager, table).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TEMPLATE_TABLES.iter().rev() {
            manager.drop_table(Table::drop().table(*table).to_owned()).await?;
        }
        manager.alter_table(Table::alter().table("service_packages").drop_column("version").to_owned()).await?;
        manager.alter_table(Table::alter().table("blueprints").drop_column("version").to_owned()).await?;
        manager.alter_table(Table::alter().table("blueprints").drop_column("current_version_id").to_owned()).await?;
        command::idempotency::drop_idempotency_table(manager).await?;
        changes::drop_outbox_table(manager).await?;
        audit::drop_audit_table(manager).await
    }
}
