//! Loads [`CustomerFacts`] for customers from analytics' own tables (signals, lifecycle,
//! read models). Each fact comes from the one table that holds its evidence; a customer
//! analytics has heard nothing about has facts with every value `None`.

use atrium_kit::TenantTransaction;
use chrono::NaiveDate;
use uuid::Uuid;

use crate::{domain::facts::CustomerFacts, error::AnalyticsError, read_models};

/// The facts of each customer in `customer_account_ids` on `as_of`, in the given order.
pub async fn customer_facts(
    tx: &TenantTransaction,
    customer_account_ids: &[Uuid],
    as_of: NaiveDate,
) -> Result<Vec<CustomerFacts>, AnalyticsError> {
    let mut facts: Vec<CustomerFacts> = customer_account_ids
        .iter()
        .map(|&customer_account_id| CustomerFacts { customer_account_id, as_of: Some(as_of), ..Default::default() })
        .collect();
    let signals = super::signals_of_customers(tx, customer_account_ids).await?;
    let lifecycles = super::lifecycle::lifecycles_of_customers(tx, customer_account_ids).await?;
    let read_models = read_models::rows::load_customers(tx, customer_account_ids).await?;
    let journal = read_models::rows::journal_entries(
        tx,
        &[read_models::facts::CHANGE_REQUEST_SUBMITTED, read_models::facts::ESCALATION_CREATED],
    )
    .await?;
    for customer in &mut facts {
        if let Some(signal) = signals.iter().find(|signal| signal.customer_account_id == customer.customer_account_id) {
            customer.csm_pulse = signal.csm_pulse;
            customer.days_since_exec_touch =
                signal.last_exec_touch_on.map(|touched| (as_of - touched).num_days().max(0) as f64);
        }
        if let Some(lifecycle) =
            lifecycles.iter().find(|lifecycle| lifecycle.customer_account_id == customer.customer_account_id)
        {
            customer.stage = Some(lifecycle.stage);
        }
        let id = customer.customer_account_id;
        let own_journal: Vec<_> = journal.iter().filter(|(of, _)| *of == id).map(|(_, entry)| entry.clone()).collect();
        read_models::facts::fill(customer, &read_models.of_customer(id), &own_journal);
    }
    // Health, as last computed (docs/domain.md#health-snapshots).
    super::health_snapshots::fill_facts(tx, &mut facts).await?;
    Ok(facts)
}
