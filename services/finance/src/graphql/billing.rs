//! Billing's part of the finance API (docs/domain.md#billing-schedules): schedule and
//! line types, `Contract.billingSchedules` through per-request DataLoaders (one statement
//! per nesting level), and the billing mutations, each one command of the kit.

use std::sync::Arc;

use async_graphql::{
    ComplexObject, Context, Enum, ID, Object, Result, SimpleObject,
    dataloader::{DataLoader, HashMapCache, Loader},
};
use atrium_kit::{
    TenantTransaction,
    command::{self, Command},
};
use chrono::NaiveDate;
use std::collections::HashMap;
use uuid::Uuid;

use super::{money::Money, schema::uuid_of};
use crate::{
    billing_commands::{self, BILLING_EDITORS},
    domain::billing as domain,
    error::FinanceError,
    repository,
};

type LoadResult<V> = Result<HashMap<Uuid, V>, Arc<FinanceError>>;

fn group_by_parent<T>(children: Vec<T>, parent_of: impl Fn(&T) -> Uuid) -> HashMap<Uuid, Arc<Vec<T>>> {
    let mut groups: HashMap<Uuid, Vec<T>> = HashMap::new();
    for child in children {
        groups.entry(parent_of(&child)).or_default().push(child);
    }
    groups.into_iter().map(|(parent, children)| (parent, Arc::new(children))).collect()
}

/// Every schedule of each contract key.
pub struct SchedulesByContractLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for SchedulesByContractLoader {
    type Value = Arc<Vec<domain::BillingSchedule>>;
    type Error = Arc<FinanceError>;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Self::Value> {
        let rows = repository::billing::schedules_of_contracts(&self.0, keys).await.map_err(Arc::new)?;
        Ok(group_by_parent(rows, |schedule| schedule.contract_id))
    }
}

/// Every line of each schedule key, in `seq` order.
pub struct LinesByScheduleLoader(pub Arc<TenantTransaction>);

impl Loader<Uuid> for LinesByScheduleLoader {
    type Value = Arc<Vec<domain::BillingScheduleLine>>;
    type Error = Arc<FinanceError>;

    async fn load(&self, keys: &[Uuid]) -> LoadResult<Self::Value> {
        let rows = repository::billing::lines_of_schedules(&self.0, keys).await.map_err(Arc::new)?;
        Ok(group_by_parent(rows, |line| line.billing_schedule_id))
    }
}

/// Installs billing's loaders over the request's transaction.
pub fn install_loaders(request: async_graphql::Request, tx: &Arc<TenantTransaction>) -> async_graphql::Request {
    request
        .data(DataLoader::with_cache(SchedulesByContractLoader(tx.clone()), tokio::spawn, HashMapCache::default()))
        .data(DataLoader::with_cache(LinesByScheduleLoader(tx.clone()), tokio::spawn, HashMapCache::default()))
}

fn load_failed(error: Arc<FinanceError>) -> async_graphql::Error {
    async_graphql::Error::new(error.to_string())
}

fn id_of(id: Uuid) -> ID {
    ID(id.to_string())
}

/// The billing schedules of `contract_id` (`Contract.billingSchedules`).
pub async fn schedules_of_contract(ctx: &Context<'_>, contract_id: Uuid) -> Result<Vec<BillingSchedule>> {
    let loader = ctx.data::<DataLoader<SchedulesByContractLoader, HashMapCache>>()?;
    let schedules = loader.load_one(contract_id).await.map_err(load_failed)?.unwrap_or_default();
    Ok(schedules.iter().cloned().map(Into::into).collect())
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::BillingScheduleKind")]
pub enum BillingScheduleKind {
    FixedDates,
    Milestone,
    Recurring,
    TimeAndMaterials,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::BillingTrigger")]
pub enum BillingTrigger {
    Date,
    MilestoneCompleted,
    MilestoneAccepted,
    PeriodEnd,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::BillingLineStatus")]
pub enum BillingLineStatus {
    Planned,
    Ready,
    Invoiced,
    AtRisk,
    Deferred,
    Cancelled,
}

/// How one contract line is billed.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct BillingSchedule {
    pub id: ID,
    pub kind: BillingScheduleKind,
    pub currency: String,
    /// The contract line billed.
    pub contract_line_id: Option<ID>,
    /// Delivery's engagement whose milestones trigger the lines.
    pub engagement_id: Option<ID>,
    #[graphql(skip)]
    pub key: Uuid,
}

impl From<domain::BillingSchedule> for BillingSchedule {
    fn from(schedule: domain::BillingSchedule) -> Self {
        BillingSchedule {
            id: id_of(schedule.id),
            kind: schedule.kind.into(),
            currency: schedule.currency,
            contract_line_id: schedule.contract_line_id.map(id_of),
            engagement_id: schedule.engagement_id.map(id_of),
            key: schedule.id,
        }
    }
}

#[ComplexObject]
impl BillingSchedule {
    /// The schedule's lines in order; their amounts add up to the billed part of the line.
    async fn lines(&self, ctx: &Context<'_>) -> Result<Vec<BillingScheduleLine>> {
        let loader = ctx.data::<DataLoader<LinesByScheduleLoader, HashMapCache>>()?;
        let lines = loader.load_one(self.key).await.map_err(load_failed)?.unwrap_or_default();
        Ok(lines.iter().cloned().map(Into::into).collect())
    }
}

/// One amount of a billing schedule, invoiced once its trigger is met.
#[derive(SimpleObject)]
pub struct BillingScheduleLine {
    pub id: ID,
    pub seq: i32,
    pub description: String,
    pub planned_date: Option<NaiveDate>,
    /// Visible to `finance` and `tenant_admin` only (null for other callers).
    #[graphql(requires_scopes = "finance", requires_scopes = "tenant_admin")]
    pub amount: Option<Money>,
    pub trigger: BillingTrigger,
    /// Delivery's milestone that triggers the line.
    pub milestone_id: Option<ID>,
    pub status: BillingLineStatus,
    pub risk_reason: Option<String>,
    /// The invoice billing the line, once invoiced.
    pub invoice_id: Option<ID>,
    /// Incremented by every change of the line.
    pub version: i64,
}

impl From<domain::BillingScheduleLine> for BillingScheduleLine {
    fn from(line: domain::BillingScheduleLine) -> Self {
        BillingScheduleLine {
            id: id_of(line.id),
            seq: line.seq,
            description: line.description,
            planned_date: line.planned_date,
            amount: Some(Money::new(line.amount, line.currency)),
            trigger: line.trigger.into(),
            milestone_id: line.milestone_id.map(id_of),
            status: line.status.into(),
            risk_reason: line.risk_reason,
            invoice_id: line.invoice_id.map(id_of),
            version: line.version,
        }
    }
}

#[derive(Default)]
pub struct BillingMutation;

#[Object]
impl BillingMutation {
    /// `PLANNED → AT_RISK` with a reason; announces `finance.billing_line.at_risk`.
    async fn flag_billing_line_at_risk(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> Result<BillingScheduleLine> {
        let line_id = uuid_of(&id);
        let command = Command {
            operation: "flagBillingLineAtRisk",
            entity_type: "BillingScheduleLine",
            allowed_roles: BILLING_EDITORS,
            target: line_id,
        };
        let changed =
            command::run(ctx, command, move |tx| Box::pin(billing_commands::flag_line_at_risk(tx, line_id, reason)))
                .await?;
        Ok(changed.into())
    }

    /// `AT_RISK → PLANNED`, the reason cleared.
    async fn clear_billing_line_risk(&self, ctx: &Context<'_>, id: ID) -> Result<BillingScheduleLine> {
        let line_id = uuid_of(&id);
        let command = Command {
            operation: "clearBillingLineRisk",
            entity_type: "BillingScheduleLine",
            allowed_roles: BILLING_EDITORS,
            target: line_id,
        };
        let changed =
            command::run(ctx, command, move |tx| Box::pin(billing_commands::clear_line_risk(tx, line_id))).await?;
        Ok(changed.into())
    }
}
