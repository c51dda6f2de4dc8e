//! sea-orm entities of the analytics database. Crate-private: only repositories use them.

pub(crate) mod automation_rule;
pub(crate) mod automation_run;
pub(crate) mod cs_action;
pub(crate) mod cs_action_step;
pub(crate) mod customer_lifecycle;
pub(crate) mod customer_signal;
pub(crate) mod health_measure_score;
pub(crate) mod health_model;
pub(crate) mod health_snapshot;
pub(crate) mod lifecycle_event;
pub(crate) mod notification;
pub(crate) mod playbook;
pub(crate) mod rm_engagement;
