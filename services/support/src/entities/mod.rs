//! sea-orm entities of the support database. Crate-private: only repositories use them.

pub(crate) mod business_hours_schedule;
pub(crate) mod csat_response;
pub(crate) mod escalation;
pub(crate) mod sla_clock;
pub(crate) mod sla_policy;
pub(crate) mod sla_target;
pub(crate) mod ticket;
pub(crate) mod ticket_comment;
