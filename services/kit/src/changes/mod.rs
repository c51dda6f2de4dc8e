//! Change events: what a service tells the gateway when one of its entities changed, so
//! cached responses that contain the entity can be invalidated.
//!
//! A service records a [`ChangeEvent`] with [`record_change`] inside the same
//! [`crate::TenantTransaction`] as the change itself (a transactional outbox): the event
//! exists exactly when the change was committed. The relay ([`relay`]) then delivers the
//! outbox to the gateway's [`CHANGES_PATH`] as a signed [`ChangeBatch`], at least once, and
//! deletes what was delivered. Consumers must therefore treat events idempotently.
//!
//! Batches are signed with HMAC-SHA256 under the shared context keys (the same keys the
//! gateway signs tenant contexts with), see [`sign_batch`] and [`verify_batch`].

pub mod outbox;
pub mod relay;

pub use atrium_contract::changes::{
    CHANGES_PATH, ChangeBatch, ChangeEvent, ChangeKind, ChangeSignatureError, SIGNATURE_HEADER, sign_batch,
    verify_batch,
};
pub use outbox::{
    DELIVERIES_TABLE, GATEWAY_DESTINATION, OUTBOX_TABLE, PendingChange, PendingRow, create_outbox_delivery_table,
    create_outbox_table, delete_changes, delete_completed, delete_expired_changes, delete_expired_rows,
    drop_outbox_relay_functions, drop_outbox_table, has_outbox, mark_delivered, oldest_pending, pending_changes,
    pending_for, record_change, secure_outbox_relay,
};
pub use relay::{ChangeRelay, ChangesConfig, LOCAL_GATEWAY_URL, RelayError, RelayHandle};
