//! Backend-neutral records, the schema that describes them, validation, diffs and quick decisions.
//! Everything here is pure: no I/O and no clock reads.

pub mod clock;
pub mod conflict;
pub mod diff;
pub mod filter;
pub mod metadata_mode;
pub mod mutation;
pub mod policy;
pub mod record;
pub mod schema;
pub mod splits;
pub mod stats;
pub mod validate;

pub use clock::Clock;
pub use metadata_mode::MetadataMode;
pub use record::Record;
pub use schema::Schema;
