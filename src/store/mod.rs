//! Files referee keeps under its data folder: the write journal (`referee.db`, which is also the
//! audit log) and the old `audit.jsonl` it replaces.

pub mod audit;
pub mod journal;
