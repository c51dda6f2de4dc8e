//! Second-level scopes (docs/domain.md#second-level-scopes) as repository conditions: a partner user sees only
//! rows of its channel partner, a customer-portal user only rows of its own account. This
//! is the rule the PostgreSQL restrictive policies of [`crate::rls`] enforce; SQLite has no
//! RLS, so repositories add these conditions to every query next to their `tenant_id`
//! filter, and on PostgreSQL they keep the plans selective.

use sea_orm::{ColumnTrait, Condition};

use crate::TenantContext;

/// True when the caller holds a partner or customer scope.
pub fn is_scoped(context: &TenantContext) -> bool {
    context.channel_partner_id.is_some() || context.customer_account_id.is_some()
}

/// The condition for a table that stores its partner (`partner`, null for direct
/// customers, which partner users therefore never see) and its customer (`customer`).
/// Without scopes it is the empty condition (`TRUE`), which matches every row.
pub fn condition(context: &TenantContext, partner: impl ColumnTrait, customer: impl ColumnTrait) -> Condition {
    let mut condition = Condition::all();
    if let Some(partner_id) = context.channel_partner_id {
        condition = condition.add(partner.eq(partner_id));
    }
    if let Some(customer_account_id) = context.customer_account_id {
        condition = condition.add(customer.eq(customer_account_id));
    }
    condition
}

#[cfg(test)]
mod tests {
    use sea_orm::{DatabaseBackend, EntityTrait, QueryFilter, QueryTrait, entity::prelude::*};

    use super::*;
    use crate::ClientKind;

    mod invoice {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "invoices")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub channel_partner_id: Option<Uuid>,
            pub customer_account_id: Uuid,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    fn context(partner: Option<Uuid>, customer: Option<Uuid>) -> TenantContext {
        TenantContext {
            tenant_id: Uuid::nil(),
            subject: "someone".to_owned(),
            roles: vec!["partner_user".to_owned()],
            client_kind: ClientKind::PartnerPortal,
            channel_partner_id: partner,
            customer_account_id: customer,
        }
    }

    fn where_clause(context: &TenantContext) -> String {
        let condition = condition(context, invoice::Column::ChannelPartnerId, invoice::Column::CustomerAccountId);
        let sql = invoice::Entity::find().filter(condition).build(DatabaseBackend::Sqlite).to_string();
        sql.split_once(" WHERE ").map(|(_, clause)| clause.to_owned()).unwrap_or_default()
    }

    #[test]
    fn an_unscoped_context_adds_no_condition() {
        let unscoped = context(None, None);
        assert!(!is_scoped(&unscoped));
        assert_eq!(where_clause(&unscoped), "TRUE");
    }

    #[test]
    fn a_partner_scope_matches_the_partner_column() {
        let partner = Uuid::from_u128(7);
        let scoped = context(Some(partner), None);
        assert!(is_scoped(&scoped));
        assert_eq!(where_clause(&scoped), format!("\"invoices\".\"channel_partner_id\" = '{partner}'"));
    }

    #[test]
    fn both_scopes_must_hold_together() {
        let (partner, customer) = (Uuid::from_u128(7), Uuid::from_u128(9));
        assert_eq!(
            where_clause(&context(Some(partner), Some(customer))),
            format!(
                "\"invoices\".\"channel_partner_id\" = '{partner}' AND \"invoices\".\"customer_account_id\" = \
                 '{customer}'"
            )
        );
    }
}
