//! Files referee keeps under its data folder: the write journal (`referee.db`, which is also the
//! audit log, and holds the edit form's drafts) and the old `audit.jsonl` it replaces.

pub mod audit;
pub mod drafts;
pub mod journal;
