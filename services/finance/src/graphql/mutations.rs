//! Finance mutations: customer accounts and the contract lifecycle
//! (docs/domain.md#contract-lifecycle), each one command of the kit's command pattern
//! (role check, tenant transaction, guarded conditional update, audit entry, outbox events;
//! creations idempotent on an optional `idempotencyKey`). The domain parts live in
//! `crate::commands`.

use async_graphql::{Context, ID, InputObject, Object, Result};
use atrium_kit::command::{self, Command};
use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{
    schema::uuid_of,
    types::{Contract, ContractType, CustomerAccount, Segment},
};
use crate::{
    commands::{
        self, CONTRACT_ACTIVATORS, CONTRACT_APPROVERS, CONTRACT_EDITORS, ContractStep, NewContract, NewCustomerAccount,
    },
    domain::{self, Clock},
};

#[derive(InputObject)]
pub struct CreateCustomerAccountInput {
    pub name: String,
    pub legal_name: Option<String>,
    pub segment: Segment,
    pub erp_platform: String,
    pub data_region: String,
    /// ISO 4217, e.g. `USD`.
    pub billing_currency: String,
    /// Default 30.
    pub payment_terms_days: Option<i32>,
    /// Default 0.
    pub named_users: Option<i32>,
    /// Set when sold through a channel partner.
    pub channel_partner_id: Option<ID>,
    pub csm_user_id: Option<String>,
    pub account_owner_user_id: Option<String>,
}

#[derive(InputObject)]
pub struct ContractLineInput {
    /// The catalog package sold, if any.
    pub service_package_id: Option<ID>,
    pub description: String,
    /// Positive; fractions allowed (e.g. hours).
    pub quantity: Decimal,
    pub unit_price: Decimal,
    /// Fraction 0–1; default 0.
    pub discount_pct: Option<Decimal>,
}

#[derive(InputObject)]
pub struct CreateContractInput {
    pub customer_account_id: ID,
    #[graphql(name = "type")]
    pub contract_type: ContractType,
    /// Default: the tenant's next `CTR-00001`-style number.
    pub number: Option<String>,
    pub start_date: NaiveDate,
    /// After `startDate`.
    pub end_date: NaiveDate,
    /// ISO 4217, e.g. `USD`.
    pub currency: String,
    /// At least one.
    pub lines: Vec<ContractLineInput>,
}

/// An optional client id that must be a uuid when given.
fn optional_uuid(id: Option<&ID>, field: &str) -> Result<Option<uuid::Uuid>> {
    match id {
        None => Ok(None),
        Some(id) => uuid_of(id)
            .map(Some)
            .ok_or_else(|| atrium_kit::ErrorCode::BadUserInput.graphql_error(format!("{field} is not an id"))),
    }
}

#[derive(Default)]
pub struct BaseMutation;

#[Object]
impl BaseMutation {
    /// Opens a `PROSPECT` customer account and announces `finance.customer.created`.
    /// Retrying with the same `idempotencyKey` answers the first account and writes nothing.
    async fn create_customer_account(
        &self,
        ctx: &Context<'_>,
        input: CreateCustomerAccountInput,
        idempotency_key: Option<String>,
    ) -> Result<CustomerAccount> {
        let command = Command {
            operation: "createCustomerAccount",
            entity_type: "CustomerAccount",
            allowed_roles: CONTRACT_EDITORS,
            target: None,
        };
        let account = NewCustomerAccount {
            channel_partner_id: optional_uuid(input.channel_partner_id.as_ref(), "channelPartnerId")?,
            name: input.name,
            legal_name: input.legal_name,
            segment: input.segment.into(),
            erp_platform: input.erp_platform,
            data_region: input.data_region,
            billing_currency: input.billing_currency,
            payment_terms_days: input.payment_terms_days,
            named_users: input.named_users,
            csm_user_id: input.csm_user_id,
            account_owner_user_id: input.account_owner_user_id,
        };
        let created = command::run_idempotent(ctx, command, idempotency_key, move |tx| {
            Box::pin(commands::create_customer_account(tx, account))
        })
        .await?;
        Ok(created.into())
    }

    /// Drafts a contract of one of the tenant's customers with priced lines (amount =
    /// quantity × unit price × (1 − discount), to the cent; total = Σ amounts). Retrying
    /// with the same `idempotencyKey` answers the first contract and writes nothing.
    async fn create_contract(
        &self,
        ctx: &Context<'_>,
        input: CreateContractInput,
        idempotency_key: Option<String>,
    ) -> Result<Contract> {
        let command = Command {
            operation: "createContract",
            entity_type: "Contract",
            allowed_roles: CONTRACT_EDITORS,
            target: None,
        };
        let mut lines = Vec::with_capacity(input.lines.len());
        for line in input.lines {
            lines.push(domain::ContractLineDraft {
                service_package_id: optional_uuid(line.service_package_id.as_ref(), "servicePackageId")?,
                description: line.description,
                quantity: line.quantity,
                unit_price: line.unit_price,
                discount_pct: line.discount_pct.unwrap_or(Decimal::ZERO),
            });
        }
        let contract = NewContract {
            customer_account_id: uuid_of(&input.customer_account_id),
            contract_type: input.contract_type.into(),
            number: input.number,
            start_date: input.start_date,
            end_date: input.end_date,
            currency: input.currency,
            lines,
        };
        let created = command::run_idempotent(ctx, command, idempotency_key, move |tx| {
            Box::pin(commands::create_contract(tx, contract))
        })
        .await?;
        Ok(created.into())
    }

    /// `DRAFT → PENDING_APPROVAL`; announces `finance.contract.submitted`.
    async fn submit_contract(&self, ctx: &Context<'_>, id: ID) -> Result<Contract> {
        advance(ctx, "submitContract", CONTRACT_EDITORS, &id, ContractStep::Submit).await
    }

    /// `PENDING_APPROVAL → APPROVED`; announces `finance.contract.approved`.
    async fn approve_contract(&self, ctx: &Context<'_>, id: ID) -> Result<Contract> {
        advance(ctx, "approveContract", CONTRACT_APPROVERS, &id, ContractStep::Approve).await
    }

    /// `PENDING_APPROVAL → DRAFT`, with the reason in the audit trail.
    async fn reject_contract(&self, ctx: &Context<'_>, id: ID, reason: String) -> Result<Contract> {
        advance(ctx, "rejectContract", CONTRACT_APPROVERS, &id, ContractStep::Reject { reason }).await
    }

    /// `APPROVED → OUT_FOR_SIGNATURE`.
    async fn send_contract_for_signature(&self, ctx: &Context<'_>, id: ID) -> Result<Contract> {
        advance(ctx, "sendContractForSignature", CONTRACT_EDITORS, &id, ContractStep::SendForSignature).await
    }

    /// `OUT_FOR_SIGNATURE → SIGNED` (an `APPROVED` contract passes through
    /// `OUT_FOR_SIGNATURE` in the same change); records the signer and announces
    /// `finance.contract.signed` with the lines.
    async fn sign_contract(
        &self,
        ctx: &Context<'_>,
        id: ID,
        signer_name: String,
        signer_email: String,
    ) -> Result<Contract> {
        advance(ctx, "signContract", CONTRACT_EDITORS, &id, ContractStep::Sign { signer_name, signer_email }).await
    }

    /// `SIGNED → ACTIVE` from the start date on (today in the tenant's time zone);
    /// announces `finance.contract.activated`.
    async fn activate_contract(&self, ctx: &Context<'_>, id: ID) -> Result<Contract> {
        advance(ctx, "activateContract", CONTRACT_ACTIVATORS, &id, ContractStep::Activate).await
    }
}

async fn advance(
    ctx: &Context<'_>,
    operation: &'static str,
    allowed_roles: &'static [&'static str],
    id: &ID,
    step: ContractStep,
) -> Result<Contract> {
    let contract_id = uuid_of(id);
    let clock = *ctx.data::<Clock>()?;
    let command = Command { operation, entity_type: "Contract", allowed_roles, target: contract_id };
    let changed =
        command::run(ctx, command, move |tx| Box::pin(commands::advance_contract(tx, clock, contract_id, step)))
            .await?;
    Ok(changed.into())
}
