//! support subgraph (under construction).
