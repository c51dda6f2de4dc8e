//! sea-orm entities of the analytics database. Crate-private: only repositories use them.

pub(crate) mod customer_signal;
pub(crate) mod health_model;
