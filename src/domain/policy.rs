//! What the status keys mean on a backend: its `Policy` turns a key (and a reason) on some referrals
//! into the writes that would really happen, before anything is asked or sent. Each backend's policy
//! lives next to its schema; nothing outside them knows a backend's status words.

use serde_json::{Map, Value};

use super::clock::Clock;
use super::metadata_mode::MetadataMode;
use super::mutation::Mutation;
use super::record::Record;
use super::schema::Schema;

/// The status keys of list, detail and triage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuickKey {
    Verify,
    Convert,
    Pending,
    Reject,
}

/// What a status word means, so it can be coloured without the UI knowing a backend's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Waiting for someone to act.
    Waiting,
    /// On its way (converted, a signup).
    Progressing,
    /// Where it should end (verified, an active customer).
    Good,
    /// A paying customer.
    Customer,
    /// Refused (rejected, denied).
    Refused,
    /// Money went back.
    Reversed,
    /// No longer in play.
    Closed,
    /// A word this backend does not document.
    Unknown,
}

/// What a plan needs besides the referrals.
#[derive(Debug, Clone, Copy)]
pub struct PlanContext<'a> {
    pub schema: &'static Schema,
    pub admin_id: Option<&'a str>,
    pub clock: &'a Clock,
    pub mode: MetadataMode,
}

/// The writes a key would make, and the referrals it leaves alone with why.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub mutations: Vec<Mutation>,
    /// Referrals already as the key would leave them, or that the key does not act on: (id, why).
    pub skipped: Vec<(String, String)>,
}

impl Plan {
    /// The referrals the writes touch.
    pub fn ids(&self) -> Vec<String> {
        self.mutations.iter().flat_map(Mutation::ids).collect()
    }
}

/// One backend's meaning of the status keys.
pub trait Policy: Sync + std::fmt::Debug {
    /// The writes `key` makes on `records`; Err says why the key does nothing on this backend.
    /// A rejection carries `reason` (`None` while only asking whether the key applies).
    fn plan(
        &self,
        context: &PlanContext,
        records: &[&Record],
        key: QuickKey,
        reason: Option<&str>,
    ) -> Result<Plan, String>;

    /// The key's verb in prompts and help: "Mark verified", "Approve".
    fn verb(&self, key: QuickKey) -> &'static str;

    /// The words `referee bulk --status` takes on this backend, each with the key it means.
    fn status_words(&self) -> &'static [(&'static str, QuickKey)];

    /// Where a rejection's reason goes, said when asking for it.
    fn reason_note(&self) -> &'static str;

    /// What `:find` looks referrals up by.
    fn find_by(&self) -> &'static [&'static str];

    /// In the form, a changed status brings the fields that go with it, exactly as the status keys
    /// would (`wanted` holds every field the form has); Err names the field and the problem.
    fn companions(
        &self,
        _context: &PlanContext,
        _record: &Record,
        _wanted: &mut Map<String, Value>,
    ) -> Result<(), (&'static str, String)> {
        Ok(())
    }

    /// Said once a session, at the first verify, when no admin id is configured and this backend
    /// would have recorded it.
    fn admin_note(&self) -> Option<&'static str> {
        None
    }

    /// What a status word of this backend means, for its colour.
    fn tone(&self, status: &str) -> Tone;

    /// Whether `key` can be taken back with `u` once applied (said before it is sent).
    fn undoable(&self, records: &[&Record], key: QuickKey) -> bool;
}
