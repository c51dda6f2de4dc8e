//! Engagement status transitions are conditional updates: a transition decided on a
//! status that moved in the meantime is refused instead of overwriting the newer state.

use atrium_delivery::{
    domain::EngagementStatus,
    error::DeliveryError,
    repository::{self},
};
use atrium_kit::{
    TenantTransaction,
    testing::{TestDatabase, context_for},
};
use sea_orm::Database;

use crate::helpers::spawn;

#[tokio::test]
async fn an_engagement_transition_decided_on_a_stale_read_conflicts_on_postgres() {
    let Some(database) = TestDatabase::create("delivery_stale_status").await else { return };
    let _delivery = spawn(database.runtime_url.clone(), Some(database.owner_url.clone())).await;
    let runtime = Database::connect(&database.runtime_url).await.expect("runtime role connects");
    let context = context_for("ridgeline", "delivery_manager");

    let first = TenantTransaction::begin(&runtime, &context).await.expect("begin");
    let second = TenantTransaction::begin(&runtime, &context).await.expect("begin");
    let delivering = [EngagementStatus::Delivering];
    let engagement = repository::engagements_page(&first, Some(&delivering), None, 1)
        .await
        .expect("page")
        .pop()
        .expect("a delivering engagement");
    let stale = repository::engagements_by_ids(&second, &[engagement.id]).await.expect("read").pop().expect("it");

    let held = repository::transition_engagement(&first, &engagement, EngagementStatus::OnHold).await.expect("hold");
    assert_eq!(held.paused_from_status, Some(EngagementStatus::Delivering));
    first.commit().await.expect("commit");
    let outcome = repository::transition_engagement(&second, &stale, EngagementStatus::Live).await;
    let error = outcome.expect_err("a transition based on a status that moved meanwhile must be refused");
    assert!(matches!(error, DeliveryError::StatusMoved { expected: "delivering", .. }), "{error}");
    drop(second);

    let check = TenantTransaction::begin(&runtime, &context).await.expect("begin");
    let stored = repository::engagements_by_ids(&check, &[engagement.id]).await.expect("read").pop().expect("it");
    assert_eq!(stored.status, EngagementStatus::OnHold, "the first transition survives");
    assert_eq!(stored.paused_from_status, Some(EngagementStatus::Delivering));
}

#[tokio::test]
async fn an_engagement_transition_the_state_machine_forbids_changes_nothing_on_postgres() {
    let Some(database) = TestDatabase::create("delivery_forbidden_transition").await else { return };
    let _delivery = spawn(database.runtime_url.clone(), Some(database.owner_url.clone())).await;
    let runtime = Database::connect(&database.runtime_url).await.expect("runtime role connects");
    let tx = TenantTransaction::begin(&runtime, &context_for("ridgeline", "delivery_manager")).await.expect("begin");
    let engagement = repository::engagements_page(&tx, Some(&[EngagementStatus::Delivering]), None, 1)
        .await
        .expect("page")
        .pop()
        .expect("a delivering engagement");
    let refused = repository::transition_engagement(&tx, &engagement, EngagementStatus::Draft).await;
    assert!(matches!(refused, Err(DeliveryError::TransitionNotAllowed(_))), "{refused:?}");
}
