//! What delivery does with other services' events (docs/domain.md#delivery-commands):
//! keeps its copy of catalog's published packages and blueprint versions (the newest
//! version wins, so late or repeated deliveries cannot undo a newer one) and of finance's
//! customer names, and runs the cross-service command
//! `delivery.command.create_engagement_from_blueprint` (automation A1).

use atrium_kit::{
    TenantTransaction,
    command::{self, CommandError},
    events::{DomainEvent, EventHandler, HandlerError},
};
use futures::future::BoxFuture;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    calendar::BusinessCalendar,
    commands::{self, CREATE_FROM_BLUEPRINT_TYPE, CreateFromBlueprint},
    domain::blueprint::BlueprintVersion,
    entities::{catalog_blueprint_version, catalog_package, customer_name},
};

pub const PACKAGE_PUBLISHED: &str = "catalog.package.published";
pub const BLUEPRINT_VERSION_PUBLISHED: &str = "catalog.blueprint.version_published";
pub const CUSTOMER_CREATED: &str = "finance.customer.created";

/// Delivery's event consumer. The event runtime calls it inside the event's tenant
/// transaction; everything it writes commits with the event's inbox record.
#[derive(Debug, Clone)]
pub struct DeliveryEvents {
    calendar: BusinessCalendar,
}

impl Default for DeliveryEvents {
    fn default() -> Self {
        Self::new()
    }
}

impl DeliveryEvents {
    /// Dates count from each tenant's current business date.
    pub fn new() -> Self {
        DeliveryEvents { calendar: BusinessCalendar::TenantClock }
    }

    /// As `new`, with "today" from `calendar` (tests pin a date).
    pub fn with_calendar(calendar: BusinessCalendar) -> Self {
        DeliveryEvents { calendar }
    }

    async fn apply(&self, tx: &TenantTransaction, event: &DomainEvent) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            PACKAGE_PUBLISHED => apply_package(tx, event).await,
            BLUEPRINT_VERSION_PUBLISHED => apply_blueprint_version(tx, event).await,
            CUSTOMER_CREATED => apply_customer(tx, event).await,
            CREATE_FROM_BLUEPRINT_TYPE => self.create_engagement_from_blueprint(tx, event).await,
            _ => Ok(()),
        }
    }

    /// Runs the command once per idempotency key: a redelivery, or a second command with
    /// the same key, finds the engagement the first created and changes nothing. A package
    /// without a blueprint (or unknown to delivery) is nothing to do.
    async fn create_engagement_from_blueprint(
        &self,
        tx: &TenantTransaction,
        event: &DomainEvent,
    ) -> Result<(), HandlerError> {
        let request: CreateFromBlueprint = parse(event)?;
        if let Some(existing) =
            commands::engagement_created_with_key(tx, &request.idempotency_key).await.map_err(refused)?
        {
            tracing::info!(key = request.idempotency_key, %existing, "engagement already created for this key");
            return Ok(());
        }
        let Some(blueprint) = commands::blueprint_of_package(tx, request.service_package_id).await.map_err(refused)?
        else {
            tracing::info!(package = %request.service_package_id, "package has no known blueprint; no engagement");
            return Ok(());
        };
        let today = self.calendar.today(tx.tenant_id());
        let command = commands::command("createEngagementFromBlueprint", "Engagement", commands::DELIVERY_ROLES, None);
        command::execute_within(tx, &command, |tx| {
            Box::pin(async move { commands::create_engagement_from_blueprint(tx, &request, &blueprint, today).await })
        })
        .await
        .map_err(refused)?;
        Ok(())
    }
}

impl EventHandler for DeliveryEvents {
    fn wants(&self, event_type: &str) -> bool {
        matches!(
            event_type,
            PACKAGE_PUBLISHED | BLUEPRINT_VERSION_PUBLISHED | CUSTOMER_CREATED | CREATE_FROM_BLUEPRINT_TYPE
        )
    }

    fn handle<'t>(
        &'t self,
        tx: &'t TenantTransaction,
        event: &'t DomainEvent,
    ) -> BoxFuture<'t, Result<(), HandlerError>> {
        Box::pin(self.apply(tx, event))
    }
}

fn parse<T: for<'de> Deserialize<'de>>(event: &DomainEvent) -> Result<T, HandlerError> {
    serde_json::from_value(event.data.clone()).map_err(|error| {
        HandlerError::Poison(format!("{} {} has unreadable data: {error}", event.event_type, event.id))
    })
}

/// The database may recover; a refusal (bad data, a forbidden or impossible command) will not.
fn refused(error: CommandError) -> HandlerError {
    match error {
        CommandError::Database(error) => HandlerError::Retryable(error.to_string()),
        other => HandlerError::Poison(other.to_string()),
    }
}

#[derive(Deserialize)]
struct PackagePublished {
    #[serde(default)]
    blueprint_id: Option<Uuid>,
}

async fn apply_package(tx: &TenantTransaction, event: &DomainEvent) -> Result<(), HandlerError> {
    let data: PackagePublished = parse(event)?;
    let stored = catalog_package::Entity::find_by_id((tx.tenant_id(), event.subject.id)).one(tx.connection()).await?;
    let row = catalog_package::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        package_id: Set(event.subject.id),
        blueprint_id: Set(data.blueprint_id),
        version: Set(event.subject.version),
    };
    match stored {
        None => catalog_package::Entity::insert(row).exec_without_returning(tx.connection()).await.map(|_| ())?,
        Some(stored) if stored.version < event.subject.version => {
            catalog_package::Entity::update(row).exec(tx.connection()).await.map(|_| ())?
        }
        Some(_) => {}
    }
    Ok(())
}

async fn apply_blueprint_version(tx: &TenantTransaction, event: &DomainEvent) -> Result<(), HandlerError> {
    let version: BlueprintVersion = parse(event)?;
    let payload = serde_json::to_string(&version).map_err(|error| HandlerError::Poison(error.to_string()))?;
    let stored = catalog_blueprint_version::Entity::find_by_id((tx.tenant_id(), version.blueprint_id))
        .one(tx.connection())
        .await?;
    let row = catalog_blueprint_version::ActiveModel {
        tenant_id: Set(tx.tenant_id()),
        blueprint_id: Set(version.blueprint_id),
        blueprint_version_id: Set(version.blueprint_version_id),
        version: Set(version.version),
        payload: Set(payload),
    };
    match stored {
        None => {
            catalog_blueprint_version::Entity::insert(row).exec_without_returning(tx.connection()).await.map(|_| ())?
        }
        Some(stored) if stored.version < version.version => {
            catalog_blueprint_version::Entity::update(row).exec(tx.connection()).await.map(|_| ())?
        }
        Some(_) => {}
    }
    Ok(())
}

#[derive(Deserialize)]
struct CustomerCreated {
    name: String,
}

async fn apply_customer(tx: &TenantTransaction, event: &DomainEvent) -> Result<(), HandlerError> {
    let data: CustomerCreated = parse(event)?;
    let customer_id = event.refs.get("customer_account_id").copied().unwrap_or(event.subject.id);
    let exists = customer_name::Entity::find()
        .filter(customer_name::Column::TenantId.eq(tx.tenant_id()))
        .filter(customer_name::Column::CustomerAccountId.eq(customer_id))
        .one(tx.connection())
        .await?
        .is_some();
    if !exists {
        let row = customer_name::ActiveModel {
            tenant_id: Set(tx.tenant_id()),
            customer_account_id: Set(customer_id),
            name: Set(data.name),
        };
        customer_name::Entity::insert(row).exec_without_returning(tx.connection()).await?;
    }
    Ok(())
}
