//! sea-orm entities of the delivery database. Crate-private: only repositories use them.

pub(crate) mod assignment;
pub(crate) mod catalog_blueprint_version;
pub(crate) mod catalog_package;
pub(crate) mod change_request;
pub(crate) mod customer_name;
pub(crate) mod engagement;
pub(crate) mod milestone;
pub(crate) mod staff_member;
pub(crate) mod status_report;
pub(crate) mod task;
pub(crate) mod time_entry;
pub(crate) mod time_off;
