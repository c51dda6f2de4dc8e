//! sea-orm entities of the support database. Crate-private: only repositories use them.

pub(crate) mod ticket;
