//! sea-orm entities of the delivery database. Crate-private: only repositories use them.

pub(crate) mod engagement;
pub(crate) mod milestone;
