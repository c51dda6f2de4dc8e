//! Support GraphQL object types and enums, mapped from domain values, and the fields
//! support contributes to finance's `CustomerAccount`.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, Enum, ID, Result, SimpleObject};
use atrium_kit::pagination::{PageInfo, PageRequest};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use async_graphql::dataloader::DataLoader;

use super::loaders::{
    CachedLoader, ClocksByTicketLoader, CommentsByTicketLoader, EscalationsByTicketLoader, TicketsByCustomerLoader,
};
use crate::{domain, repository::TicketFilter};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::TicketChannel")]
pub enum TicketChannel {
    Email,
    Portal,
    Phone,
    Chat,
    Api,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::TicketCategory")]
pub enum TicketCategory {
    HowTo,
    Defect,
    DataFix,
    ConfigChange,
    Outage,
    BillingQuestion,
    ComplianceRequest,
    ChangeRequest,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::TicketPriority")]
pub enum TicketPriority {
    Urgent,
    High,
    Normal,
    Low,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::TicketStatus")]
pub enum TicketStatus {
    New,
    Open,
    Pending,
    OnHold,
    Solved,
    Closed,
}

/// Who works a ticket in two-tier support: the channel partner's first line, or the
/// provider's second or third line. (Not catalog's `SupportTier`, which is a package level.)
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::SupportTierLevel")]
pub enum SupportTierLevel {
    #[graphql(name = "PARTNER_L1")]
    PartnerL1,
    #[graphql(name = "PROVIDER_L2")]
    ProviderL2,
    #[graphql(name = "PROVIDER_L3")]
    ProviderL3,
}

fn id_of(id: Uuid) -> ID {
    ID(id.to_string())
}

/// Ticket list filters from GraphQL arguments.
pub fn ticket_filter(status: Option<Vec<TicketStatus>>, priority: Option<Vec<TicketPriority>>) -> TicketFilter {
    TicketFilter {
        statuses: status.unwrap_or_default().into_iter().map(Into::into).collect(),
        priorities: priority.unwrap_or_default().into_iter().map(Into::into).collect(),
    }
}

/// Finance's customer account, extended with its support tickets. Support stores only
/// the id; every contributed field loads under the caller's tenant, so another tenant's
/// id yields no tickets, never data.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct CustomerAccount {
    pub id: ID,
    #[graphql(skip)]
    pub key: Uuid,
}

impl CustomerAccount {
    pub fn stub(key: Uuid) -> Self {
        CustomerAccount { id: id_of(key), key }
    }

    /// All tickets of this customer, from the request's shared per-parent loader.
    async fn all_tickets(&self, ctx: &Context<'_>) -> Result<Arc<Vec<domain::Ticket>>> {
        let loader = ctx.data::<CachedLoader<TicketsByCustomerLoader>>()?;
        let tickets = loader.load_one(self.key).await.map_err(|error| async_graphql::Error::new(error.to_string()))?;
        Ok(tickets.unwrap_or_default())
    }
}

#[ComplexObject]
impl CustomerAccount {
    /// The customer's tickets, oldest first, optionally only some statuses or priorities.
    async fn tickets(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<Vec<TicketStatus>>,
        priority: Option<Vec<TicketPriority>>,
    ) -> Result<TicketConnection> {
        let page = PageRequest::parse(first, after.as_deref())?;
        let filter = ticket_filter(status, priority);
        let tickets = self.all_tickets(ctx).await?;
        let matching: Vec<&domain::Ticket> = tickets.iter().filter(|ticket| filter.matches(ticket)).collect();
        let (nodes, page_info) = page.slice(&matching, |ticket| ticket.id);
        Ok(TicketConnection { nodes: nodes.into_iter().cloned().map(Into::into).collect(), page_info })
    }

    /// Open (new, open, pending, on hold) tickets of urgent or high priority: the
    /// `open_urgent_high` health measure.
    async fn open_urgent_high_ticket_count(&self, ctx: &Context<'_>) -> Result<i32> {
        let count = domain::open_urgent_high_count(self.all_tickets(ctx).await?.iter());
        Ok(i32::try_from(count).unwrap_or(i32::MAX))
    }

    /// SLA attainment of the customer's tickets over the last `windowDays` days (1 to
    /// 366, default 90) up to now: clocks met against clocks breached, each counted when
    /// its outcome was decided, overall and per priority.
    async fn sla_attainment(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 90)] window_days: i32,
    ) -> Result<CustomerSlaAttainment> {
        if !(1..=366).contains(&window_days) {
            return Err(atrium_kit::ErrorCode::BadUserInput.graphql_error("windowDays: must be 1 to 366"));
        }
        let tickets = self.all_tickets(ctx).await?;
        let ids: Vec<Uuid> = tickets.iter().map(|ticket| ticket.id).collect();
        let tx = atrium_kit::subgraph_http::request_transaction(ctx)?;
        let clocks = crate::repository::sla::clocks_of_tickets(&tx, &ids).await?;
        let priorities: std::collections::HashMap<Uuid, domain::TicketPriority> =
            tickets.iter().map(|ticket| (ticket.id, ticket.priority)).collect();
        let to = Utc::now();
        let from = to - chrono::TimeDelta::days(i64::from(window_days));
        let figures = domain::escalations::sla_attainment(
            clocks.iter().filter_map(|clock| priorities.get(&clock.ticket_id).map(|priority| (*priority, clock))),
            from,
            to,
        );
        let (met, missed, attainment) = domain::escalations::overall_attainment(&figures);
        Ok(CustomerSlaAttainment {
            window_days,
            met: i32::try_from(met).unwrap_or(i32::MAX),
            missed: i32::try_from(missed).unwrap_or(i32::MAX),
            attainment,
            by_priority: figures.into_iter().map(Into::into).collect(),
        })
    }
}

/// A customer's SLA attainment over a trailing window (`CustomerAccount.slaAttainment`).
#[derive(SimpleObject)]
pub struct CustomerSlaAttainment {
    pub window_days: i32,
    /// Clocks fulfilled in the window without a breach.
    pub met: i32,
    /// Clocks breached in the window.
    pub missed: i32,
    /// `met / (met + missed)`, four places; null without decided clocks.
    pub attainment: Option<rust_decimal::Decimal>,
    pub by_priority: Vec<SlaAttainment>,
}

/// A customer request or incident.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Ticket {
    #[graphql(skip)]
    pub key: Uuid,
    pub id: ID,
    pub number: String,
    pub subject: String,
    pub channel: TicketChannel,
    pub category: TicketCategory,
    pub priority: TicketPriority,
    pub status: TicketStatus,
    pub tier: SupportTierLevel,
    pub created_at: DateTime<Utc>,
    pub first_responded_at: Option<DateTime<Utc>>,
    pub solved_at: Option<DateTime<Utc>>,
    /// Who works the ticket (identity-provider subject), once assigned.
    pub assignee_user_id: Option<String>,
    /// The customer the ticket belongs to; finance resolves the rest of it.
    pub customer_account: CustomerAccount,
}

#[ComplexObject]
impl Ticket {
    /// The ticket's SLA clocks (first response, resolution), one per metric.
    async fn sla_clocks(&self, ctx: &Context<'_>) -> Result<Vec<SlaClock>> {
        let loader = ctx.data::<DataLoader<ClocksByTicketLoader>>()?;
        let clocks = loader.load_one(self.key).await.map_err(|error| async_graphql::Error::new(error.to_string()))?;
        Ok(clocks.map(|clocks| clocks.iter().cloned().map(Into::into).collect()).unwrap_or_default())
    }

    /// The ticket's escalations, lowest level first.
    async fn escalations(&self, ctx: &Context<'_>) -> Result<Vec<Escalation>> {
        let loader = ctx.data::<DataLoader<EscalationsByTicketLoader>>()?;
        let escalations =
            loader.load_one(self.key).await.map_err(|error| async_graphql::Error::new(error.to_string()))?;
        escalations
            .map(|escalations| escalations.iter().cloned().map(Escalation::try_from).collect())
            .unwrap_or(Ok(Vec::new()))
    }

    /// Public replies and internal notes, oldest first.
    async fn comments(&self, ctx: &Context<'_>) -> Result<Vec<TicketComment>> {
        let loader = ctx.data::<DataLoader<CommentsByTicketLoader>>()?;
        let comments = loader.load_one(self.key).await.map_err(|error| async_graphql::Error::new(error.to_string()))?;
        Ok(comments.map(|comments| comments.iter().cloned().map(Into::into).collect()).unwrap_or_default())
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::SlaMetric")]
pub enum SlaMetric {
    FirstResponse,
    NextResponse,
    Resolution,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::SlaClockStatus")]
pub enum SlaClockStatus {
    /// Accruing business time.
    Running,
    /// Standing still while the ticket waits (pending, on hold).
    Paused,
    /// The metric was met (possibly late: see `breachedAt`).
    Fulfilled,
    /// Past due and not yet met.
    Breached,
}

/// One ticket's clock for one SLA metric.
#[derive(SimpleObject)]
pub struct SlaClock {
    pub id: ID,
    pub metric: SlaMetric,
    pub status: SlaClockStatus,
    pub target_minutes: i32,
    /// Counted in business hours (false: around the clock).
    pub business_hours: bool,
    pub started_at: DateTime<Utc>,
    /// When the target is used up if the clock keeps running; null while paused.
    pub due_at: Option<DateTime<Utc>>,
    /// Minutes accrued before the current running stretch (all of them once paused or ended).
    pub elapsed_minutes: i32,
    pub fulfilled_at: Option<DateTime<Utc>>,
    pub breached_at: Option<DateTime<Utc>>,
}

impl From<domain::SlaClock> for SlaClock {
    fn from(clock: domain::SlaClock) -> Self {
        SlaClock {
            id: id_of(clock.id),
            metric: clock.metric.into(),
            status: clock.status.into(),
            target_minutes: i32::try_from(clock.target_minutes).unwrap_or(i32::MAX),
            business_hours: clock.business_hours,
            started_at: clock.started_at,
            due_at: clock.due_at,
            elapsed_minutes: i32::try_from(clock.elapsed_seconds / 60).unwrap_or(i32::MAX),
            fulfilled_at: clock.fulfilled_at,
            breached_at: clock.breached_at,
        }
    }
}

/// A reply to the requester (`public`) or an internal note.
#[derive(SimpleObject)]
pub struct TicketComment {
    pub id: ID,
    /// Identity-provider subject of the author.
    pub author: String,
    pub public: bool,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl From<domain::TicketComment> for TicketComment {
    fn from(comment: domain::TicketComment) -> Self {
        TicketComment {
            id: id_of(comment.id),
            author: comment.author_subject,
            public: comment.public,
            body: comment.body,
            created_at: comment.created_at,
        }
    }
}

impl From<domain::Ticket> for Ticket {
    fn from(ticket: domain::Ticket) -> Self {
        Ticket {
            key: ticket.id,
            id: id_of(ticket.id),
            number: ticket.number,
            subject: ticket.subject,
            channel: ticket.channel.into(),
            category: ticket.category.into(),
            priority: ticket.priority.into(),
            status: ticket.status.into(),
            tier: ticket.tier.into(),
            created_at: ticket.created_at,
            first_responded_at: ticket.first_responded_at,
            solved_at: ticket.solved_at,
            assignee_user_id: ticket.assignee_user_id,
            customer_account: CustomerAccount::stub(ticket.customer_account_id),
        }
    }
}

#[derive(SimpleObject)]
pub struct TicketConnection {
    pub nodes: Vec<Ticket>,
    pub page_info: PageInfo,
}

/// How an audited mutation ended.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "atrium_kit::audit::AuditOutcome")]
pub enum AuditOutcome {
    Succeeded,
    /// Refused by a rule; nothing changed.
    Rejected,
    /// Broke off by an internal failure; nothing changed.
    Failed,
}

/// One entry of the support audit trail: who changed what, when, with which outcome.
#[derive(SimpleObject)]
pub struct AuditEntry {
    pub id: ID,
    pub occurred_at: DateTime<Utc>,
    /// Identity-provider subject of the caller.
    pub subject: String,
    /// `partner_portal`, `dashboard`, `bi` or `service`.
    pub client_kind: String,
    /// The mutation field, e.g. `changeTicketStatus`.
    pub operation: String,
    pub entity_type: String,
    pub entity_ids: Vec<ID>,
    pub outcome: AuditOutcome,
    pub detail: Option<String>,
}

impl From<atrium_kit::audit::AuditEntry> for AuditEntry {
    fn from(entry: atrium_kit::audit::AuditEntry) -> Self {
        AuditEntry {
            id: id_of(entry.id),
            occurred_at: entry.occurred_at,
            subject: entry.subject,
            client_kind: entry.client_kind.as_str().to_owned(),
            operation: entry.operation,
            entity_type: entry.entity_type,
            entity_ids: entry.entity_ids.into_iter().map(id_of).collect(),
            outcome: entry.outcome.into(),
            detail: entry.detail,
        }
    }
}

#[derive(SimpleObject)]
pub struct AuditEntryConnection {
    pub nodes: Vec<AuditEntry>,
    pub page_info: PageInfo,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::escalations::EscalationReason")]
pub enum EscalationReason {
    SlaWarning,
    SlaBreached,
    CustomerRequest,
    UrgentIncident,
    RepeatedReopen,
    PartnerEscalation,
    /// Raised by one of analytics' automation rules (`support.command.escalate`).
    AutomationRule,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::escalations::EscalationStatus")]
pub enum EscalationStatus {
    Open,
    Acknowledged,
    Resolved,
}

/// A ticket raised to a level: 1 team lead, 2 support manager, 3 CSM or executive.
#[derive(SimpleObject)]
pub struct Escalation {
    pub id: ID,
    pub level: i32,
    pub reason: EscalationReason,
    pub status: EscalationStatus,
    /// Identity-provider subject of who escalated (`automation:<rule>` for an
    /// automation rule's command).
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub resolution_note: Option<String>,
    /// The escalated ticket.
    pub ticket_id: ID,
}

impl TryFrom<domain::Escalation> for Escalation {
    type Error = async_graphql::Error;

    fn try_from(escalation: domain::Escalation) -> Result<Self> {
        let corrupt = |error: atrium_kit::errors::UnknownStoredValue| async_graphql::Error::new(error.to_string());
        Ok(Escalation {
            id: id_of(escalation.id),
            level: escalation.level,
            reason: domain::escalations::EscalationReason::parse(&escalation.reason).map_err(corrupt)?.into(),
            status: domain::escalations::EscalationStatus::parse(&escalation.status).map_err(corrupt)?.into(),
            created_by: escalation.created_by,
            created_at: escalation.created_at,
            acknowledged_at: escalation.acknowledged_at,
            acknowledged_by: escalation.acknowledged_by,
            resolved_at: escalation.resolved_at,
            resolved_by: escalation.resolved_by,
            resolution_note: escalation.resolution_note,
            ticket_id: id_of(escalation.ticket_id),
        })
    }
}

/// A requester's satisfaction with a solved ticket.
#[derive(SimpleObject)]
pub struct CsatResponse {
    pub id: ID,
    /// 1 (very unhappy) to 5 (very happy); 4 and 5 count as good.
    pub score: i32,
    pub comment: Option<String>,
    pub received_at: DateTime<Utc>,
}

impl From<domain::CsatResponse> for CsatResponse {
    fn from(response: domain::CsatResponse) -> Self {
        CsatResponse {
            id: id_of(response.id),
            score: response.score,
            comment: response.comment,
            received_at: response.received_at,
        }
    }
}

/// SLA attainment of one priority over a period: clocks met without a breach against
/// clocks breached, each counted in the period its outcome was decided.
#[derive(SimpleObject)]
pub struct SlaAttainment {
    pub priority: TicketPriority,
    pub met: i32,
    pub missed: i32,
    /// `met / (met + missed)`, four places.
    pub attainment: Option<rust_decimal::Decimal>,
}

impl From<domain::escalations::SlaAttainment> for SlaAttainment {
    fn from(figure: domain::escalations::SlaAttainment) -> Self {
        SlaAttainment {
            priority: figure.priority.into(),
            met: i32::try_from(figure.met).unwrap_or(i32::MAX),
            missed: i32::try_from(figure.missed).unwrap_or(i32::MAX),
            attainment: figure.ratio(),
        }
    }
}
