//! Made-up v1 referrals for the benchmarks, and a console with referrals loaded.

use referee::app::State;
use referee::app::state::Session;
use referee::domain::schema::V2_STATES;
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

/// FirstPromoter (v2) referral number `n`, shaped as the sandbox answers: one of 40 promoter
/// campaigns nested whole, a split with a partner on every third referral, its own times.
pub fn referral_v2(n: usize) -> Record {
    let first = FIRST[n % FIRST.len()];
    let last = LAST[(n / FIRST.len()) % LAST.len()];
    let link = |k: usize| 1000 + k % 40;
    let splits = match n % 3 {
        0 => json!([{"promoter_campaign_id": link(n + 1), "promoter_id": 200 + (n + 1) % 40,
            "percentage": 20.0}]),
        _ => json!([]),
    };
    let source = ["api", "coupon", "cookie", "manual_admin"][n % 4];
    let created_at = format!(
        "2026-{:02}-{:02}T{:02}:{:02}:00.000Z",
        1 + n % 12,
        1 + n % 28,
        n % 24,
        n % 60
    );
    let values = json!({
        "id": 5000 + n,
        "email": format!("{}.{}{n}@example.com", first.to_lowercase(), last.to_lowercase()),
        "uid": format!("cus_{n:08}"),
        "username": null,
        "first_name": first,
        "last_name": last,
        "website": null,
        "comment": null,
        "state": V2_STATES[n % V2_STATES.len()],
        "is_expired": n.is_multiple_of(11),
        "metadata": {"source": "bench"},
        "entry_source": source,
        "created_at": created_at,
        "customer_since": n.is_multiple_of(2).then(|| format!("2026-12-{:02}T10:00:00.000Z", 1 + n % 28)),
        "promoter_campaign": {
            "id": link(n),
            "campaign_id": 10 + n % 40 % 3,
            "promoter_id": 200 + n % 40,
            "created_at": format!("2025-06-{:02}T08:00:00.000Z", 1 + n % 40 % 28),
            "promoter": {
                "id": 200 + n % 40,
                "email": format!("promoter{}@example.com", n % 40),
                "name": format!("{} {}", FIRST[n % 40 % FIRST.len()], LAST[n % 40 % LAST.len()]),
            },
            "campaign": {"id": 10 + n % 40 % 3, "name": "Affiliates 2026", "color": "#3366ff"},
        },
        "fraud_check": "no_suspicion",
        "created_by_user_email": null,
        "split_details": splits,
    });
    Record::new(
        (5000 + n).to_string(),
        values.as_object().cloned().unwrap_or_default(),
    )
}
