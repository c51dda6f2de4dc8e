//! sea-orm entities of the catalog database. Crate-private: only repositories use them.

pub(crate) mod blueprint;
pub(crate) mod blueprint_version;
pub(crate) mod channel_partner;
pub(crate) mod milestone_template;
pub(crate) mod service_package;
pub(crate) mod task_template;
pub(crate) mod tenant;
pub(crate) mod tenant_branding;
