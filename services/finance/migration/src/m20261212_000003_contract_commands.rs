//! The contract journey's schema (docs/domain.md#contract-lifecycle): everything the kit's
//! command pattern writes to (audit log, outbox with event columns, idempotency), the
//! `version` that conditional updates and domain events carry on customer accounts and
//! contracts, the contract fields signature needs, the customer's success owners, and
//! `contract_lines` with exact amounts. Rows of earlier migrations stay valid: versions
//! start at 1, discounts at 0 and the new text columns are null.

use atrium_kit::{
    command,
    rls::{self, SecondLevelScope},
};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const CONTRACT_LINES: &str = "contract_lines";

/// Contract lines follow their contract's second-level scope (nothing copied to drift).
const CONTRACT_LINE_SCOPE: SecondLevelScope<'static> =
    SecondLevelScope::Parent { column: "contract_id", parent_table: "contracts" };

/// `(table, column)` added by this step; SQLite alters one column per statement.
fn added_columns() -> Vec<(&'static str, ColumnDef)> {
    vec![
        ("customer_accounts", ColumnDef::new("version").big_integer().not_null().default(1).to_owned()),
        ("customer_accounts", ColumnDef::new("csm_user_id").string().null().to_owned()),
        ("customer_accounts", ColumnDef::new("account_owner_user_id").string().null().to_owned()),
        ("contracts", ColumnDef::new("version").big_integer().not_null().default(1).to_owned()),
        ("contracts", ColumnDef::new("signer_name").string().null().to_owned()),
        ("contracts", ColumnDef::new("signer_email").string().null().to_owned()),
        // A fraction (0.1000 = 10 %), docs/domain.md#conventions.
        ("contracts", ColumnDef::new("discount_pct").decimal_len(7, 4).not_null().default(0).to_owned()),
    ]
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        command::create_command_tables(manager).await?;
        for (table, mut column) in added_columns() {
            manager.alter_table(Table::alter().table(table).add_column(&mut column).to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(CONTRACT_LINES)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("contract_id").uuid().not_null())
                    // Catalog's package: a plain uuid, no foreign key across services.
                    .col(ColumnDef::new("service_package_id").uuid().null())
                    .col(ColumnDef::new("description").string().not_null())
                    .col(ColumnDef::new("quantity").decimal_len(18, 4).not_null())
                    .col(ColumnDef::new("unit_price").decimal_len(18, 2).not_null())
                    .col(ColumnDef::new("discount_pct").decimal_len(7, 4).not_null())
                    .col(ColumnDef::new("amount").decimal_len(18, 2).not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("contract_lines_contract_id_fkey")
                            .from(CONTRACT_LINES, ("tenant_id", "contract_id"))
                            .to("contracts", ("tenant_id", "id"))
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("contract_lines_by_contract")
                    .table(CONTRACT_LINES)
                    .col("tenant_id")
                    .col("contract_id")
                    .to_owned(),
            )
            .await?;
        rls::enable_tenant_isolation(manager, CONTRACT_LINES).await?;
        rls::enable_second_level_scopes(manager, CONTRACT_LINES, CONTRACT_LINE_SCOPE).await?;
        rls::grant_runtime_role(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(CONTRACT_LINES).to_owned()).await?;
        for (table, column) in added_columns().into_iter().rev() {
            manager
                .alter_table(Table::alter().table(table).drop_column(Alias::new(column.get_column_name())).to_owned())
                .await?;
        }
        command::idempotency::drop_idempotency_table(manager).await?;
        atrium_kit::changes::drop_outbox_table(manager).await?;
        atrium_kit::audit::drop_audit_table(manager).await
    }
}
