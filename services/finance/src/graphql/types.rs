//! Finance GraphQL object types and enums, mapped from domain values. Nested lists and
//! references resolve through the per-request DataLoaders, never one statement per parent.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, Enum, ID, Result, SimpleObject};
use atrium_kit::pagination::{PageInfo, PageRequest};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use uuid::Uuid;

use super::loaders::{
    CachedLoader, ContractsByCustomerLoader, CustomerAccountLoader, InvoicesByCustomerLoader, LinesByContractLoader,
    SubscriptionsByCustomerLoader,
};
use crate::{domain, error::FinanceError};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::Segment")]
pub enum Segment {
    Smb,
    MidMarket,
    Enterprise,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::CustomerStatus")]
pub enum CustomerStatus {
    Prospect,
    Active,
    Former,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::ContractType")]
pub enum ContractType {
    Msa,
    Sow,
    OrderForm,
    Renewal,
    Amendment,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::ContractStatus")]
pub enum ContractStatus {
    Draft,
    PendingApproval,
    Approved,
    OutForSignature,
    Signed,
    Active,
    Expired,
    Terminated,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::SubscriptionStatus")]
pub enum SubscriptionStatus {
    Pending,
    Active,
    PastDue,
    NonRenewing,
    Cancelled,
    Expired,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::BillingInterval")]
pub enum BillingInterval {
    Month,
    Quarter,
    Year,
}

/// How a contract line is billed (catalog's `BillingModel` describes packages; this is
/// the line's own term).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::BillingModel", name = "ContractBillingModel")]
pub enum BillingModel {
    Fixed,
    Milestone,
    Recurring,
    #[graphql(name = "T_AND_M")]
    TimeAndMaterials,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::InvoiceStatus")]
pub enum InvoiceStatus {
    Draft,
    Issued,
    PartiallyPaid,
    Paid,
    Disputed,
    Void,
    Uncollectible,
}

/// Due-date-basis aging bucket of an invoice, edges 30/60/90 days past due.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::AgingBucket")]
pub enum AgingBucket {
    NotDue,
    #[graphql(name = "DAYS_1_30")]
    Days1To30,
    #[graphql(name = "DAYS_31_60")]
    Days31To60,
    #[graphql(name = "DAYS_61_90")]
    Days61To90,
    #[graphql(name = "DAYS_90_PLUS")]
    Days90Plus,
}

/// Today for the caller's tenant, from the service's clock (docs/domain.md#conventions).
pub(super) fn business_date(ctx: &Context<'_>) -> Result<NaiveDate> {
    let clock = ctx.data::<domain::Clock>()?;
    Ok(clock.today(ctx.data::<atrium_kit::TenantContext>()?.tenant_id))
}

fn id_of(id: Uuid) -> ID {
    ID(id.to_string())
}

/// A loader failure as a resolver error; the masking extension keeps its text internal.
fn load_failed(error: Arc<FinanceError>) -> async_graphql::Error {
    async_graphql::Error::new(error.to_string())
}

/// Money as served: two decimals on every backend and for computed sums.
fn money(value: Decimal) -> Decimal {
    let mut value = value.round_dp(2);
    value.rescale(2);
    value
}

/// A customer of the tenant (system of record: finance).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct CustomerAccount {
    pub id: ID,
    pub name: String,
    pub legal_name: Option<String>,
    pub segment: Segment,
    pub erp_platform: String,
    pub data_region: String,
    pub billing_currency: String,
    pub payment_terms_days: i32,
    pub named_users: i32,
    pub status: CustomerStatus,
    pub customer_since: Option<NaiveDate>,
    /// Set when the customer was sold through a channel partner (catalog's `ChannelPartner`).
    pub channel_partner_id: Option<ID>,
    /// The customer success manager's user id.
    pub csm_user_id: Option<String>,
    /// Incremented by every change of the account.
    pub version: i64,
    #[graphql(skip)]
    pub key: Uuid,
}

impl From<domain::CustomerAccount> for CustomerAccount {
    fn from(account: domain::CustomerAccount) -> Self {
        CustomerAccount {
            id: id_of(account.id),
            name: account.name,
            legal_name: account.legal_name,
            segment: account.segment.into(),
            erp_platform: account.erp_platform,
            data_region: account.data_region,
            billing_currency: account.billing_currency,
            payment_terms_days: account.payment_terms_days,
            named_users: account.named_users,
            status: account.status.into(),
            customer_since: account.customer_since,
            channel_partner_id: account.channel_partner_id.map(id_of),
            csm_user_id: account.csm_user_id,
            version: account.version,
            key: account.id,
        }
    }
}

impl CustomerAccount {
    /// All invoices of this customer, from the request's shared per-parent loader.
    async fn all_invoices(&self, ctx: &Context<'_>) -> Result<Arc<Vec<domain::Invoice>>> {
        let loader = ctx.data::<CachedLoader<InvoicesByCustomerLoader>>()?;
        Ok(loader.load_one(self.key).await.map_err(load_failed)?.unwrap_or_default())
    }
}

#[ComplexObject]
impl CustomerAccount {
    /// The customer's invoices, oldest first, optionally only some statuses.
    async fn invoices(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<Vec<InvoiceStatus>>,
    ) -> Result<InvoiceConnection> {
        let page = PageRequest::parse(first, after.as_deref())?;
        let statuses: Vec<domain::InvoiceStatus> = status.unwrap_or_default().into_iter().map(Into::into).collect();
        let invoices = self.all_invoices(ctx).await?;
        let matching: Vec<&domain::Invoice> =
            invoices.iter().filter(|invoice| statuses.is_empty() || statuses.contains(&invoice.status)).collect();
        let (nodes, page_info) = page.slice(&matching, |invoice| invoice.id);
        let today = business_date(ctx)?;
        Ok(InvoiceConnection {
            nodes: nodes.into_iter().map(|invoice| Invoice::at(invoice.clone(), today)).collect(),
            page_info,
        })
    }

    async fn contracts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<ContractConnection> {
        let page = PageRequest::parse(first, after.as_deref())?;
        let loader = ctx.data::<CachedLoader<ContractsByCustomerLoader>>()?;
        let contracts = loader.load_one(self.key).await.map_err(load_failed)?.unwrap_or_default();
        let (nodes, page_info) = page.slice(&contracts, |contract| contract.id);
        Ok(ContractConnection { nodes: nodes.into_iter().map(Into::into).collect(), page_info })
    }

    async fn subscriptions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<SubscriptionConnection> {
        let page = PageRequest::parse(first, after.as_deref())?;
        let loader = ctx.data::<CachedLoader<SubscriptionsByCustomerLoader>>()?;
        let subscriptions = loader.load_one(self.key).await.map_err(load_failed)?.unwrap_or_default();
        let (nodes, page_info) = page.slice(&subscriptions, |subscription| subscription.id);
        Ok(SubscriptionConnection { nodes: nodes.into_iter().map(Into::into).collect(), page_info })
    }

    /// Σ balance due of the customer's open (issued, partially paid, disputed) invoices.
    /// Visible to `finance` and `tenant_admin` only (nullable: other callers get null).
    #[graphql(requires_scopes = "finance", requires_scopes = "tenant_admin")]
    async fn open_balance(&self, ctx: &Context<'_>) -> Result<Option<Decimal>> {
        Ok(Some(money(domain::open_balance(self.all_invoices(ctx).await?.iter()))))
    }

    /// The customer's entitlement grants with their figures for the period containing
    /// `on` (default today): used, remaining and forfeited hours.
    async fn entitlements(
        &self,
        ctx: &Context<'_>,
        on: Option<NaiveDate>,
    ) -> Result<Vec<super::ledger::EntitlementBalance>> {
        super::ledger::entitlement_balances(ctx, super::ledger::GrantsOf::Customer(self.key), on).await
    }

    /// Σ disputed amount of the customer's open invoices (their currencies as billed).
    /// Visible to `finance` and `tenant_admin` only (nullable: other callers get null).
    #[graphql(requires_scopes = "finance", requires_scopes = "tenant_admin")]
    async fn open_dispute_amount(&self, ctx: &Context<'_>) -> Result<Option<Decimal>> {
        let invoices = self.all_invoices(ctx).await?;
        let open = invoices.iter().filter(|invoice| invoice.status.is_open());
        Ok(Some(money(open.map(|invoice| invoice.disputed_amount).sum())))
    }

    /// Open AR more than 60 days past due divided by open AR; null when nothing is open.
    async fn ar_over_60_share(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        Ok(domain::ar_over_60_share(self.all_invoices(ctx).await?.iter(), business_date(ctx)?))
    }
}

/// Loads the customer account a finance record belongs to.
async fn customer_account_of(ctx: &Context<'_>, id: Uuid) -> Result<CustomerAccount> {
    let loader = ctx.data::<async_graphql::dataloader::DataLoader<CustomerAccountLoader>>()?;
    loader
        .load_one(id)
        .await
        .map_err(load_failed)?
        .map(Into::into)
        .ok_or_else(|| async_graphql::Error::new(format!("customer account {id} of a finance record is missing")))
}

/// An invoice with its amounts and, derived as of today, its days past due and bucket.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Invoice {
    pub id: ID,
    pub number: String,
    pub status: InvoiceStatus,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub currency: String,
    // Money is visible to `finance` and `tenant_admin` only (`@requiresScopes`); the
    // gateway answers null for other callers, hence nullable.
    #[graphql(requires_scopes = "finance", requires_scopes = "tenant_admin")]
    pub total: Option<Decimal>,
    #[graphql(requires_scopes = "finance", requires_scopes = "tenant_admin")]
    pub amount_paid: Option<Decimal>,
    #[graphql(requires_scopes = "finance", requires_scopes = "tenant_admin")]
    pub balance_due: Option<Decimal>,
    #[graphql(requires_scopes = "finance", requires_scopes = "tenant_admin")]
    pub disputed_amount: Option<Decimal>,
    #[graphql(requires_scopes = "finance", requires_scopes = "tenant_admin")]
    pub amount_credited: Option<Decimal>,
    /// Whole days past the due date as of today; 0 when not overdue.
    pub days_past_due: i32,
    pub aging_bucket: AgingBucket,
    /// Incremented by every change; invoice events carry it.
    pub version: i64,
    #[graphql(skip)]
    pub customer_account_id: Uuid,
    #[graphql(skip)]
    pub key: Uuid,
}

impl Invoice {
    /// The invoice as seen on `today` (days past due and bucket are never stored).
    pub fn at(invoice: domain::Invoice, today: NaiveDate) -> Self {
        let days_past_due = invoice.days_past_due(today);
        Invoice {
            id: id_of(invoice.id),
            number: invoice.number,
            status: invoice.status.into(),
            issue_date: invoice.issue_date,
            due_date: invoice.due_date,
            currency: invoice.currency,
            total: Some(invoice.total),
            amount_paid: Some(invoice.amount_paid),
            balance_due: Some(invoice.balance_due),
            disputed_amount: Some(invoice.disputed_amount),
            amount_credited: Some(invoice.amount_credited),
            version: invoice.version,
            key: invoice.id,
            days_past_due: i32::try_from(days_past_due).unwrap_or(i32::MAX),
            aging_bucket: domain::aging_bucket(days_past_due, domain::AgingEdges::default()).into(),
            customer_account_id: invoice.customer_account_id,
        }
    }
}

#[ComplexObject]
impl Invoice {
    async fn customer_account(&self, ctx: &Context<'_>) -> Result<CustomerAccount> {
        customer_account_of(ctx, self.customer_account_id).await
    }

    /// What the invoice bills (docs/domain.md#invoices-payments-and-disputes).
    async fn lines(&self, ctx: &Context<'_>) -> Result<Vec<super::billing::InvoiceLine>> {
        super::billing::lines_of_invoice(ctx, self.key, &self.currency).await
    }

    /// The invoice's disputes, oldest first (docs/domain.md#invoices-payments-and-disputes).
    async fn disputes(&self, ctx: &Context<'_>) -> Result<Vec<super::disputes::Dispute>> {
        super::disputes::disputes_of_invoice(ctx, self.key, &self.currency).await
    }
}

/// An MSA, SOW, order form, renewal or amendment, moving through the contract lifecycle
/// (docs/domain.md#contract-lifecycle).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Contract {
    pub id: ID,
    pub number: String,
    #[graphql(name = "type")]
    pub contract_type: ContractType,
    pub status: ContractStatus,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// Σ line amounts.
    pub total_value: Decimal,
    pub currency: String,
    pub auto_renew: bool,
    pub signed_at: Option<DateTime<Utc>>,
    pub signer_name: Option<String>,
    pub signer_email: Option<String>,
    /// Incremented by every change; domain events about the contract carry it.
    pub version: i64,
    #[graphql(skip)]
    pub customer_account_id: Uuid,
    #[graphql(skip)]
    pub key: Uuid,
    /// Lines a command already holds, so its answer needs no read of its own writes.
    #[graphql(skip)]
    pub known_lines: Option<Vec<domain::ContractLine>>,
}

impl From<domain::Contract> for Contract {
    fn from(contract: domain::Contract) -> Self {
        Contract {
            id: id_of(contract.id),
            number: contract.number,
            contract_type: contract.contract_type.into(),
            status: contract.status.into(),
            start_date: contract.start_date,
            end_date: contract.end_date,
            total_value: contract.total_value,
            currency: contract.currency,
            auto_renew: contract.auto_renew,
            signed_at: contract.signed_at,
            signer_name: contract.signer_name,
            signer_email: contract.signer_email,
            version: contract.version,
            customer_account_id: contract.customer_account_id,
            key: contract.id,
            known_lines: None,
        }
    }
}

impl From<domain::ContractWithLines> for Contract {
    fn from(changed: domain::ContractWithLines) -> Self {
        Contract { known_lines: Some(changed.lines), ..changed.contract.into() }
    }
}

#[ComplexObject]
impl Contract {
    async fn customer_account(&self, ctx: &Context<'_>) -> Result<CustomerAccount> {
        customer_account_of(ctx, self.customer_account_id).await
    }

    /// The contract's entitlement grants (from its signature) with their figures for the
    /// period containing `on` (default today).
    async fn entitlements(
        &self,
        ctx: &Context<'_>,
        on: Option<NaiveDate>,
    ) -> Result<Vec<super::ledger::EntitlementBalance>> {
        super::ledger::entitlement_balances(ctx, super::ledger::GrantsOf::Contract(self.key), on).await
    }

    /// What the contract sells, in entry order.
    async fn lines(&self, ctx: &Context<'_>) -> Result<Vec<ContractLine>> {
        if let Some(lines) = &self.known_lines {
            return Ok(lines.iter().cloned().map(Into::into).collect());
        }
        let loader = ctx.data::<CachedLoader<LinesByContractLoader>>()?;
        let lines = loader.load_one(self.key).await.map_err(load_failed)?.unwrap_or_default();
        Ok(lines.iter().cloned().map(Into::into).collect())
    }

    /// How the contract's lines are billed (docs/domain.md#billing-schedules).
    async fn billing_schedules(&self, ctx: &Context<'_>) -> Result<Vec<super::billing::BillingSchedule>> {
        super::billing::schedules_of_contract(ctx, self.key).await
    }
}

/// One thing a contract sells: `amount` = quantity × unit price × (1 − discount), to the cent.
#[derive(SimpleObject)]
pub struct ContractLine {
    pub id: ID,
    pub description: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    /// Fraction 0–1 (0.1 = 10 % off).
    pub discount_pct: f64,
    pub amount: Decimal,
    /// The catalog package sold; resolved by the catalog subgraph.
    pub service_package: Option<ServicePackage>,
    pub billing_model: BillingModel,
    /// The interval a recurring line bills (and its entitlement period).
    pub billing_interval: Option<BillingInterval>,
    /// Null only on lines recorded before service dates existed (the contract's apply).
    pub service_start: Option<NaiveDate>,
    pub service_end: Option<NaiveDate>,
    /// Work the line entitles to each billing interval, e.g. `advisory`.
    pub entitlement_kind: Option<String>,
    pub entitlement_hours_per_period: Option<Decimal>,
}

impl From<domain::ContractLine> for ContractLine {
    fn from(line: domain::ContractLine) -> Self {
        ContractLine {
            id: id_of(line.id),
            description: line.description,
            quantity: line.quantity.normalize(),
            unit_price: money(line.unit_price),
            discount_pct: line.discount_pct.to_f64().unwrap_or_default(),
            amount: money(line.amount),
            service_package: line.service_package_id.map(|id| ServicePackage { id: id_of(id) }),
            billing_model: line.billing_model.into(),
            billing_interval: line.billing_interval.map(Into::into),
            service_start: line.service_start,
            service_end: line.service_end,
            entitlement_kind: line.entitlement.as_ref().map(|terms| terms.kind.clone()),
            entitlement_hours_per_period: line.entitlement.map(|terms| money(terms.hours_per_period)),
        }
    }
}

/// A recurring service (managed support, retainer, hosting) billed per interval
/// (docs/domain.md#subscriptions-and-mrr). Named `CustomerSubscription` in the API: a type
/// named `Subscription` would be the schema's subscription root by GraphQL's default
/// naming.
#[derive(SimpleObject)]
#[graphql(name = "CustomerSubscription", complex)]
pub struct Subscription {
    pub id: ID,
    pub status: SubscriptionStatus,
    pub billing_interval: BillingInterval,
    /// Monthly recurring revenue, normalised to one month: Σ of the open item versions.
    pub mrr: Decimal,
    pub currency: String,
    pub start_date: NaiveDate,
    pub renewal_date: Option<NaiveDate>,
    /// Set while a cancellation is scheduled for the period end (`NON_RENEWING`).
    pub cancel_at_period_end: bool,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<super::ledger::CancelReason>,
    /// Incremented by every change; domain events about the subscription carry it.
    pub version: i64,
    /// The catalog package subscribed to; resolved by the catalog subgraph.
    pub service_package: Option<ServicePackage>,
    #[graphql(skip)]
    pub customer_account_id: Uuid,
    #[graphql(skip)]
    pub key: Uuid,
    /// Items a command already holds, so its answer needs no read of its own writes.
    #[graphql(skip)]
    pub known_items: Option<Vec<domain::subscriptions::SubscriptionItem>>,
}

impl From<domain::Subscription> for Subscription {
    fn from(subscription: domain::Subscription) -> Self {
        Subscription {
            id: id_of(subscription.id),
            status: subscription.status.into(),
            billing_interval: subscription.billing_interval.into(),
            mrr: money(subscription.mrr),
            currency: subscription.currency,
            start_date: subscription.start_date,
            renewal_date: subscription.renewal_date,
            cancel_at_period_end: subscription.cancel_at_period_end,
            cancelled_at: subscription.cancelled_at,
            cancel_reason: subscription.cancel_reason.map(Into::into),
            version: subscription.version,
            service_package: subscription.service_package_id.map(|id| ServicePackage { id: id_of(id) }),
            customer_account_id: subscription.customer_account_id,
            key: subscription.id,
            known_items: None,
        }
    }
}

impl From<crate::commands::ledger::SubscriptionWithItems> for Subscription {
    fn from(changed: crate::commands::ledger::SubscriptionWithItems) -> Self {
        Subscription { known_items: Some(changed.items), ..changed.subscription.into() }
    }
}

#[ComplexObject]
impl Subscription {
    async fn customer_account(&self, ctx: &Context<'_>) -> Result<CustomerAccount> {
        customer_account_of(ctx, self.customer_account_id).await
    }

    /// Every item version, oldest first; the open versions make up the MRR.
    async fn items(&self, ctx: &Context<'_>) -> Result<Vec<super::ledger::SubscriptionItem>> {
        let items = match &self.known_items {
            Some(items) => Arc::new(items.clone()),
            None => super::ledger::items_of(ctx, self.key).await?,
        };
        Ok(items.iter().map(|item| super::ledger::SubscriptionItem::of(item, &self.currency)).collect())
    }
}

/// Reference to catalog's `ServicePackage`; finance never resolves it.
#[derive(SimpleObject)]
#[graphql(unresolvable)]
pub struct ServicePackage {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct CustomerAccountConnection {
    pub nodes: Vec<CustomerAccount>,
    pub page_info: PageInfo,
}

#[derive(SimpleObject)]
pub struct InvoiceConnection {
    pub nodes: Vec<Invoice>,
    pub page_info: PageInfo,
}

#[derive(SimpleObject)]
pub struct ContractConnection {
    pub nodes: Vec<Contract>,
    pub page_info: PageInfo,
}

#[derive(SimpleObject)]
pub struct SubscriptionConnection {
    pub nodes: Vec<Subscription>,
    pub page_info: PageInfo,
}
