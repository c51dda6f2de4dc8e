//! The domain parts of finance's commands (docs/domain.md#contract-lifecycle): each runs
//! inside the kit's command transaction (`atrium_kit::command`), loads what it changes
//! under the caller's tenant and scopes, guards the transition, writes with a conditional
//! update and returns the answer with the domain events to publish. Who may run them and
//! the audit, outbox and idempotency steps are the kit's.

pub mod ledger;

use atrium_kit::{
    TenantTransaction,
    changes::{self, ChangeKind},
    command::{CommandError, Outcome, guard_transition},
    events::{DomainEvent, Subject},
};
use chrono::NaiveDate;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    config::SERVICE,
    domain::{
        self, Clock, Contract, ContractLine, ContractLineDraft, ContractStatus, ContractType, ContractWithLines,
        CustomerAccount, CustomerStatus, Segment,
    },
    error::FinanceError,
    repository::{self, ContractSignature},
};

/// Roles that open customer accounts and draft, submit, send and sign contracts.
pub const CONTRACT_EDITORS: &[&str] = &["tenant_admin", "finance"];
/// Roles that approve or reject a contract submitted for approval.
pub const CONTRACT_APPROVERS: &[&str] = &["tenant_admin", "finance"];
/// Roles that activate a signed contract; the platform does it on the start date too.
pub const CONTRACT_ACTIVATORS: &[&str] = &["tenant_admin", "finance", atrium_kit::tenant::AUTOMATION_ROLE];

/// A customer account as a client proposes it.
#[derive(Debug, Clone)]
pub struct NewCustomerAccount {
    pub name: String,
    pub legal_name: Option<String>,
    pub segment: Segment,
    pub erp_platform: String,
    pub data_region: String,
    pub billing_currency: String,
    pub payment_terms_days: Option<i32>,
    pub named_users: Option<i32>,
    pub channel_partner_id: Option<Uuid>,
    pub csm_user_id: Option<String>,
    pub account_owner_user_id: Option<String>,
}

/// Payment terms when none are given (docs/domain.md#finance).
const DEFAULT_PAYMENT_TERMS_DAYS: i32 = 30;

fn is_currency_code(text: &str) -> bool {
    text.len() == 3 && text.chars().all(|letter| letter.is_ascii_uppercase())
}

/// `createCustomerAccount`: a new `prospect` account (it becomes a customer with its
/// first contract) and `finance.customer.created`.
pub async fn create_customer_account(
    tx: &TenantTransaction,
    input: NewCustomerAccount,
) -> Result<Outcome<CustomerAccount>, CommandError> {
    if input.name.trim().is_empty() {
        return Err(CommandError::Invalid("name is empty".to_owned()));
    }
    if !is_currency_code(&input.billing_currency) {
        return Err(CommandError::Invalid(format!(
            "billingCurrency `{}` is not an ISO 4217 code such as USD",
            input.billing_currency
        )));
    }
    let payment_terms_days = input.payment_terms_days.unwrap_or(DEFAULT_PAYMENT_TERMS_DAYS);
    if !(0..=365).contains(&payment_terms_days) {
        return Err(CommandError::Invalid(format!("paymentTermsDays must be 0 to 365, got {payment_terms_days}")));
    }
    let named_users = input.named_users.unwrap_or(0);
    if named_users < 0 {
        return Err(CommandError::Invalid(format!("namedUsers must not be negative, got {named_users}")));
    }
    let account = CustomerAccount {
        id: Uuid::now_v7(),
        channel_partner_id: input.channel_partner_id,
        name: input.name.trim().to_owned(),
        legal_name: input.legal_name,
        segment: input.segment,
        erp_platform: input.erp_platform,
        data_region: input.data_region,
        billing_currency: input.billing_currency,
        payment_terms_days,
        named_users,
        status: CustomerStatus::Prospect,
        customer_since: None,
        csm_user_id: input.csm_user_id,
        account_owner_user_id: input.account_owner_user_id,
        version: 1,
    };
    repository::insert_customer_account(tx, &account).await.map_err(internal)?;
    let subject = Subject { entity_type: "CustomerAccount".to_owned(), id: account.id, version: account.version };
    let event = DomainEvent::new(tx.context(), "finance.customer.created", subject)
        .with_ref("customer_account_id", account.id)
        .with_data(json!({
            "name": account.name,
            "segment": account.segment.as_str(),
            "csm_user_id": account.csm_user_id,
        }));
    Ok(Outcome {
        entity_ids: vec![account.id],
        detail: "created prospect".to_owned(),
        events: vec![event],
        value: account,
    })
}

/// A contract as a client proposes it.
#[derive(Debug, Clone)]
pub struct NewContract {
    /// `None` when the client's id is not an id at all: no such customer.
    pub customer_account_id: Option<Uuid>,
    pub contract_type: ContractType,
    pub number: Option<String>,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub currency: String,
    pub lines: Vec<ContractLineDraft>,
}

/// Longest contract number a client may choose.
const MAX_CONTRACT_NUMBER_LENGTH: usize = 40;

/// `createContract`: a `draft` contract of a customer of the tenant, with its priced lines
/// and their exact total. No domain event (drafts are internal); the change is recorded
/// for the gateway's cache.
pub async fn create_contract(
    tx: &TenantTransaction,
    input: NewContract,
) -> Result<Outcome<ContractWithLines>, CommandError> {
    let customer_id = input.customer_account_id.ok_or(CommandError::NotFound("CustomerAccount"))?;
    let customer = repository::customer_accounts_by_ids(tx, &[customer_id])
        .await
        .map_err(internal)?
        .pop()
        .ok_or(CommandError::NotFound("CustomerAccount"))?;
    let (priced, total) = domain::price_contract(input.start_date, input.end_date, &input.currency, input.lines)
        .map_err(CommandError::Invalid)?;
    let number = match input.number.map(|number| number.trim().to_owned()) {
        Some(number) if number.is_empty() || number.len() > MAX_CONTRACT_NUMBER_LENGTH => {
            return Err(CommandError::Invalid(format!(
                "number must have 1 to {MAX_CONTRACT_NUMBER_LENGTH} characters"
            )));
        }
        Some(number) => {
            if repository::contract_number_taken(tx, &number).await.map_err(internal)? {
                return Err(CommandError::Conflict(format!("contract number {number} is already used")));
            }
            number
        }
        None => repository::next_contract_number(tx).await.map_err(internal)?,
    };
    let contract = Contract {
        id: Uuid::now_v7(),
        number,
        customer_account_id: customer.id,
        channel_partner_id: customer.channel_partner_id,
        contract_type: input.contract_type,
        status: ContractStatus::Draft,
        start_date: input.start_date,
        end_date: input.end_date,
        signed_at: None,
        signer_name: None,
        signer_email: None,
        total_value: total,
        currency: input.currency,
        discount_pct: rust_decimal::Decimal::ZERO,
        auto_renew: false,
        version: 1,
    };
    let lines: Vec<ContractLine> = priced
        .into_iter()
        .map(|line| ContractLine {
            id: Uuid::now_v7(),
            contract_id: contract.id,
            service_package_id: line.draft.service_package_id,
            description: line.draft.description.trim().to_owned(),
            quantity: line.draft.quantity,
            unit_price: domain::round_money(line.draft.unit_price),
            discount_pct: line.draft.discount_pct,
            amount: line.amount,
            billing_model: line.terms.billing_model,
            billing_interval: line.terms.billing_interval,
            service_start: Some(line.terms.service_start),
            service_end: Some(line.terms.service_end),
            entitlement: line.terms.entitlement,
        })
        .collect();
    match repository::insert_contract(tx, &contract, &lines).await {
        Ok(()) => {}
        // A concurrent draft took the same number between our check and our insert.
        Err(FinanceError::Database(error))
            if matches!(error.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) =>
        {
            return Err(CommandError::Conflict(format!(
                "contract number {} was taken concurrently; retry",
                contract.number
            )));
        }
        Err(error) => return Err(internal(error)),
    }
    record_changed(tx, "Contract", contract.id, ChangeKind::Created).await?;
    record_changed(tx, "CustomerAccount", customer.id, ChangeKind::Updated).await?;
    let detail =
        format!("draft {} with {} line(s), total {} {}", contract.number, lines.len(), total, contract.currency);
    Ok(Outcome { entity_ids: vec![contract.id], detail, events: vec![], value: ContractWithLines { contract, lines } })
}

/// A step of a contract's lifecycle requested by a client.
#[derive(Debug, Clone)]
pub enum ContractStep {
    Submit,
    Approve,
    Reject { reason: String },
    SendForSignature,
    Sign { signer_name: String, signer_email: String },
    Activate,
}

impl ContractStep {
    /// The state the step ends in.
    fn target(&self) -> ContractStatus {
        match self {
            ContractStep::Submit => ContractStatus::PendingApproval,
            ContractStep::Approve => ContractStatus::Approved,
            ContractStep::Reject { .. } => ContractStatus::Draft,
            ContractStep::SendForSignature => ContractStatus::OutForSignature,
            ContractStep::Sign { .. } => ContractStatus::Signed,
            ContractStep::Activate => ContractStatus::Active,
        }
    }

    /// The event announcing the step (docs/domain.md#events); steps without one record a
    /// plain change for the gateway's cache.
    fn event_type(&self) -> Option<&'static str> {
        match self {
            ContractStep::Submit => Some("finance.contract.submitted"),
            ContractStep::Approve => Some("finance.contract.approved"),
            ContractStep::Sign { .. } => Some("finance.contract.signed"),
            ContractStep::Activate => Some("finance.contract.activated"),
            ContractStep::Reject { .. } | ContractStep::SendForSignature => None,
        }
    }
}

/// Runs one lifecycle step on contract `contract_id` (`None`: not an id, so not found).
/// Signing an `approved` contract sends it for signature and signs it in one change, so
/// "submit, approve, sign" is a complete journey for a contract signed on paper.
pub async fn advance_contract(
    tx: &TenantTransaction,
    clock: Clock,
    contract_id: Option<Uuid>,
    step: ContractStep,
) -> Result<Outcome<ContractWithLines>, CommandError> {
    let contract_id = contract_id.ok_or(CommandError::NotFound("Contract"))?;
    let contract = repository::contracts_by_ids(tx, &[contract_id])
        .await
        .map_err(internal)?
        .pop()
        .ok_or(CommandError::NotFound("Contract"))?;
    let next = step.target();
    match (&step, contract.status) {
        (ContractStep::Sign { .. }, ContractStatus::Approved) => {
            guard_transition(ContractStatus::Approved, ContractStatus::OutForSignature)?;
            guard_transition(ContractStatus::OutForSignature, next)?;
        }
        _ => guard_transition(contract.status, next)?,
    }
    let today = clock.today(tx.tenant_id());
    let mut signature = None;
    match &step {
        ContractStep::Reject { reason } if reason.trim().is_empty() => {
            return Err(CommandError::Invalid("a rejection needs a reason".to_owned()));
        }
        ContractStep::Sign { signer_name, signer_email } => {
            if signer_name.trim().is_empty() {
                return Err(CommandError::Invalid("signerName is empty".to_owned()));
            }
            if !looks_like_email(signer_email) {
                return Err(CommandError::Invalid(format!("signerEmail `{signer_email}` is not an email address")));
            }
            signature = Some(ContractSignature {
                signed_at: clock.now(),
                signer_name: signer_name.trim().to_owned(),
                signer_email: signer_email.trim().to_owned(),
            });
        }
        ContractStep::Activate if !domain::may_activate(contract.start_date, today) => {
            return Err(CommandError::Invalid(format!(
                "the contract starts on {}; it can be activated from that date on (today is {today} in the \
                 tenant's time zone)",
                contract.start_date
            )));
        }
        _ => {}
    }
    let changed = match repository::change_contract_status(tx, &contract, next, signature).await {
        Ok(changed) => changed,
        Err(FinanceError::Stale { .. }) => return Err(CommandError::stale("Contract")),
        Err(error) => return Err(internal(error)),
    };
    // The customer follows its contracts: a customer since its first signature, active
    // with an active contract (a plain change for the cache; no customer event yet).
    let customer_changed = match step {
        ContractStep::Sign { .. } => {
            repository::record_first_signature(tx, changed.customer_account_id, today).await.map_err(internal)?
        }
        ContractStep::Activate => {
            repository::mark_customer_active(tx, changed.customer_account_id).await.map_err(internal)?
        }
        _ => false,
    };
    if customer_changed {
        record_changed(tx, "CustomerAccount", changed.customer_account_id, ChangeKind::Updated).await?;
    }
    let lines = repository::lines_of_contracts(tx, &[changed.id]).await.map_err(internal)?;
    let mut events = match step.event_type() {
        Some(event_type) => vec![contract_event(tx, event_type, &changed, &lines, today)],
        None => {
            record_changed(tx, "Contract", changed.id, ChangeKind::Updated).await?;
            vec![]
        }
    };
    // The ledger follows the contract: entitlements from signature, recurring revenue
    // from activation (docs/domain.md#entitlements, #subscriptions-and-mrr).
    match step {
        ContractStep::Sign { .. } => {
            ledger::grant_entitlements(tx, &changed, &lines).await?;
        }
        ContractStep::Activate => events.extend(ledger::start_subscription(tx, clock, &changed, &lines).await?),
        _ => {}
    }
    let mut detail = format!("{} -> {}", contract.status.as_str(), next.as_str());
    if let ContractStep::Reject { reason } = &step {
        detail = format!("{detail}: {}", reason.trim());
    }
    Ok(Outcome { entity_ids: vec![changed.id], detail, events, value: ContractWithLines { contract: changed, lines } })
}

/// `finance.contract.<step>` about `contract` after the change; `signed` carries what
/// delivery needs to start work: the dates and the lines.
fn contract_event(
    tx: &TenantTransaction,
    event_type: &str,
    contract: &Contract,
    lines: &[ContractLine],
    today: NaiveDate,
) -> DomainEvent {
    let subject = Subject { entity_type: "Contract".to_owned(), id: contract.id, version: contract.version };
    let mut data = json!({ "number": contract.number, "status": contract.status.as_str() });
    if contract.status == ContractStatus::Signed {
        // The business date of the signature in the tenant's zone, not the UTC instant's date.
        data["signed_date"] = json!(today);
        data["start_date"] = json!(contract.start_date);
        data["lines"] = Value::Array(
            lines
                .iter()
                .map(|line| {
                    json!({
                        "contract_line_id": line.id,
                        "service_package_id": line.service_package_id,
                        "description": line.description,
                        "amount": line.amount.to_string(),
                    })
                })
                .collect(),
        );
    }
    DomainEvent::new(tx.context(), event_type, subject)
        .with_ref("customer_account_id", contract.customer_account_id)
        .with_ref("contract_id", contract.id)
        .with_data(data)
}

/// A plain change row for the gateway's cache, for changes without a domain event.
pub(crate) async fn record_changed(
    tx: &TenantTransaction,
    entity_type: &str,
    id: Uuid,
    change: ChangeKind,
) -> Result<(), CommandError> {
    changes::record_change(tx, SERVICE.name, entity_type, &id.to_string(), change).await?;
    Ok(())
}

/// A light check; the address is the signer's to confirm, not ours to verify.
fn looks_like_email(text: &str) -> bool {
    let text = text.trim();
    match text.split_once('@') {
        Some((local, domain)) => !local.is_empty() && domain.contains('.') && !text.contains(char::is_whitespace),
        None => false,
    }
}

/// A finance error inside a command: a defect or the database, never the caller's fault.
pub(crate) fn internal(error: FinanceError) -> CommandError {
    match error {
        FinanceError::Database(error) => CommandError::Database(error),
        other => CommandError::Database(sea_orm::DbErr::Custom(other.to_string())),
    }
}
