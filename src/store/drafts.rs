//! Drafts of the edit form: what was typed in it, per profile and referral, kept in the journal's
//! SQLite file (`referee.db`, table `drafts`, schema version 2) so a crash, a `kill -9` or a lost
//! connection loses nothing typed. Each call is one statement, so a draft is either the old one or
//! the new one, never half of each. A referral has at most one draft per profile.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};
use serde_json::{Map, Value};

use super::journal::{Journal, JournalError};

/// A saved draft: the text in each edited field (field key -> text) and when it was saved.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub fields: Map<String, Value>,
    pub saved_at: Timestamp,
}

impl Journal {
    /// Keeps `fields` as the draft of referral `id` for `profile`, replacing any earlier one.
    pub fn save_draft(
        &self,
        profile: &str,
        id: &str,
        fields: &Map<String, Value>,
        time: Timestamp,
    ) -> Result<(), JournalError> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO drafts (profile, referral, fields, saved_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (profile, referral) DO UPDATE
                SET fields = excluded.fields, saved_at = excluded.saved_at",
            params![
                profile,
                id,
                Value::Object(fields.clone()).to_string(),
                time.to_string()
            ],
        )
        .map_err(self.sql())?;
        Ok(())
    }

    /// The draft of referral `id` for `profile`, if one is kept. A damaged one is an error.
    pub fn draft(&self, profile: &str, id: &str) -> Result<Option<Draft>, JournalError> {
        let conn = self.lock();
        let row: Option<(String, String)> = conn
            .query_row(
                "SELECT fields, saved_at FROM drafts WHERE profile = ?1 AND referral = ?2",
                params![profile, id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.sql())?;
        drop(conn);
        let Some((fields, saved_at)) = row else {
            return Ok(None);
        };
        let damaged = |what: String| JournalError::Damaged {
            where_: self
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "(in memory)".into()),
            entry: 0,
            what: format!("the draft of {id}: {what}"),
        };
        let fields = match serde_json::from_str::<Value>(&fields) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return Err(damaged("its fields are not a JSON object".into())),
            Err(e) => return Err(damaged(e.to_string())),
        };
        let saved_at = saved_at
            .parse()
            .map_err(|e| damaged(format!("its time `{saved_at}`: {e}")))?;
        Ok(Some(Draft { fields, saved_at }))
    }

    /// Forgets the draft of referral `id` for `profile` (there may be none).
    pub fn discard_draft(&self, profile: &str, id: &str) -> Result<(), JournalError> {
        let conn = self.lock();
        conn.execute(
            "DELETE FROM drafts WHERE profile = ?1 AND referral = ?2",
            params![profile, id],
        )
        .map_err(self.sql())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_draft_round_trips() {
        let journal = Journal::in_memory();
        assert_eq!(journal.draft("demo", "ref_1").unwrap(), None);
        let typed = fields(json!({"email": "a@b.example", "metadata": "{\n  \"k\": 1\n}"}));
        let time = at("2026-11-21T17:42:05.5Z");
        journal.save_draft("demo", "ref_1", &typed, time).unwrap();
        assert_eq!(
            journal.draft("demo", "ref_1").unwrap(),
            Some(Draft {
                fields: typed,
                saved_at: time
            })
        );
        assert_eq!(journal.draft("demo", "ref_2").unwrap(), None);
    }

    #[test]
    fn drafts_are_per_profile() {
        let journal = Journal::in_memory();
        let time = at("2026-11-21T10:00:00Z");
        journal
            .save_draft("demo", "ref_1", &fields(json!({"email": "demo"})), time)
            .unwrap();
        journal
            .save_draft("prod", "ref_1", &fields(json!({"email": "prod"})), time)
            .unwrap();
        let email = |profile: &str| {
            journal.draft(profile, "ref_1").unwrap().unwrap().fields["email"].clone()
        };
        assert_eq!(
            (email("demo"), email("prod")),
            (json!("demo"), json!("prod"))
        );
        journal.discard_draft("demo", "ref_1").unwrap();
        assert_eq!(journal.draft("demo", "ref_1").unwrap(), None);
        assert_eq!(
            email("prod"),
            json!("prod"),
            "the other profile's draft is kept"
        );
    }

    #[test]
    fn saving_again_replaces_the_draft() {
        let journal = Journal::in_memory();
        journal
            .save_draft(
                "demo",
                "ref_1",
                &fields(json!({"email": "a", "name": "b"})),
                at("2026-11-21T10:00:00Z"),
            )
            .unwrap();
        let later = at("2026-11-21T10:00:01Z");
        journal
            .save_draft("demo", "ref_1", &fields(json!({"email": "ab"})), later)
            .unwrap();
        assert_eq!(
            journal.draft("demo", "ref_1").unwrap(),
            Some(Draft {
                fields: fields(json!({"email": "ab"})),
                saved_at: later
            })
        );
    }

    #[test]
    fn discarding_removes_it_and_a_missing_one_is_fine() {
        let journal = Journal::in_memory();
        journal.discard_draft("demo", "ref_1").unwrap();
        journal
            .save_draft(
                "demo",
                "ref_1",
                &fields(json!({"email": "a"})),
                at("2026-11-21T10:00:00Z"),
            )
            .unwrap();
        journal.discard_draft("demo", "ref_1").unwrap();
        assert_eq!(journal.draft("demo", "ref_1").unwrap(), None);
    }

    #[test]
    fn a_draft_survives_the_process_dying_and_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        let typed = fields(json!({"email": "kept@b.example"}));
        let time = at("2026-11-21T17:42:00Z");
        journal.save_draft("demo", "ref_7", &typed, time).unwrap();
        // No orderly close: the process is killed here.
        std::mem::forget(journal);
        let journal = Journal::open(dir.path()).unwrap();
        assert_eq!(
            journal.draft("demo", "ref_7").unwrap(),
            Some(Draft {
                fields: typed,
                saved_at: time
            })
        );
    }

    #[test]
    fn a_version_1_file_is_migrated_keeping_its_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(super::super::journal::FILE_NAME);
        {
            // A journal as version 1 wrote it: no drafts table.
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE schema_version (version INTEGER NOT NULL);
                 INSERT INTO schema_version (version) VALUES (1);
                 CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 CREATE TABLE entries (
                    entry INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL,
                    time_us INTEGER NOT NULL, profile TEXT NOT NULL, backend TEXT NOT NULL,
                    admin_id TEXT, why TEXT NOT NULL, kind TEXT NOT NULL, ids TEXT NOT NULL,
                    action TEXT, body TEXT NOT NULL, before TEXT NOT NULL, wanted TEXT NOT NULL,
                    detail TEXT NOT NULL);
                 CREATE TABLE outcomes (
                    entry INTEGER PRIMARY KEY REFERENCES entries (entry), time TEXT NOT NULL,
                    verdict TEXT NOT NULL, status INTEGER, after TEXT NOT NULL, message TEXT);
                 INSERT INTO entries (time, time_us, profile, backend, why, kind, ids, body,
                                      before, wanted, detail)
                 VALUES ('2026-11-21T10:00:00Z', 1795255200000000, 'demo', 'vantio', 'quick',
                         'write', '[\"ref_1\"]', '{}', '{}', '{}', 'null');",
            )
            .unwrap();
        }
        let journal = Journal::open(dir.path()).unwrap();
        assert_eq!(journal.entries(None).unwrap().len(), 1, "entries kept");
        journal
            .save_draft(
                "demo",
                "ref_1",
                &fields(json!({"email": "a"})),
                at("2026-11-21T10:00:00Z"),
            )
            .unwrap();
        drop(journal);
        let conn = rusqlite::Connection::open(&path).unwrap();
        let version: i64 = conn
            .query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, 2);
        drop(conn);
        let journal = Journal::open(dir.path()).unwrap();
        assert!(journal.draft("demo", "ref_1").unwrap().is_some());
        assert_eq!(journal.entries(None).unwrap().len(), 1);
    }
}
