//! Files referee keeps under its data folder: the audit log of every write.

pub mod audit;
pub mod journal;
