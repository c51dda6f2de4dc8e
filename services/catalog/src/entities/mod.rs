//! sea-orm entities of the catalog database. Crate-private: only repositories use them.

pub(crate) mod blueprint;
pub(crate) mod channel_partner;
pub(crate) mod service_package;
pub(crate) mod tenant;
pub(crate) mod tenant_branding;
