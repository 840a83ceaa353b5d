//! Made-up v1 referrals for the benchmarks, and a console with referrals loaded.

use referee::app::State;
use referee::app::state::Session;
use referee::domain::{Clock, MetadataMode, Record, Schema};
use serde_json::json;

pub const FIRST: &[&str] = &[
    "Aisha", "Ben", "Camila", "Daniel", "Elena", "Felix", "Grace", "Hana", "Isaac", "Julia", "Kai",
    "Linh", "Mateo", "Nadia", "Omar", "Priya",
];
pub const LAST: &[&str] = &[
    "Nguyen",
    "Garcia",
    "Smith",
    "Okafor",
    "Kowalski",
    "Tanaka",
    "Haddad",
    "Silva",
    "Novak",
    "Johansson",
    "Mensah",
    "Rossi",
    "Dubois",
];
const STATUSES: &[&str] = &["pending", "verified", "converted", "rejected"];

/// Referral number `n`, named `first` unless given another name.
pub fn referral(n: usize, first: Option<&str>) -> Record {
    let first = first.unwrap_or(FIRST[n % FIRST.len()]);
    let last = LAST[(n / FIRST.len()) % LAST.len()];
    let values = json!({
        "id": format!("ref_{n:06}"),
        "first_name": first,
        "last_name": last,
        "email": format!("{}.{}{n}@example.com", first.to_lowercase(), last.to_lowercase()),
        "status": STATUSES[n % STATUSES.len()],
        "program_id": format!("prog_{}", n % 7),
        "student_id": format!("amb_{}", n % 5000),
        "impression_id": format!("imp_{n}"),
        "created_at": "2026-11-01T09:30:00Z",
        "updated_at": "2026-11-02T09:30:00Z",
        "metadata": {"source": "bench", "batch": n % 10},
    });
    Record::new(
        format!("ref_{n:06}"),
        values.as_object().cloned().unwrap_or_default(),
    )
}

/// A console for `schema` with `referral(0..n)` loaded, in pages of 100 as they would arrive.
pub fn loaded(schema: &'static Schema, n: usize, referral: impl Fn(usize) -> Record) -> State {
    let session = Session {
        profile: "bench".into(),
        backend: schema.backend,
        admin_id: Some("admin_1".into()),
        metadata_mode: MetadataMode::Merge,
        concurrency: 8,
        read_only: false,
    };
    let now = "2026-11-21T10:00:00Z".parse().expect("a valid time");
    let clock = Clock::fixed(now, jiff::tz::TimeZone::UTC);
    let mut state = State::new(session, schema, clock);
    state.viewport = (160, 50);
    for start in (0..n).step_by(100) {
        state.append_records((start..(start + 100).min(n)).map(&referral).collect());
    }
    state
}
