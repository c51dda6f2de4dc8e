//! support migrations (under construction).
