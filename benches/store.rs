//! What one keystroke, one arriving page, one saved row and one frame cost with 100,000 referrals
//! loaded: none of them may grow with the list (issue 11). Run with `cargo bench --bench store`.
//!
//! The referrals are made up here (v1 fields, names from a short list so filters match many rows)
//! and loaded through `State`'s own methods, as pages arriving would be.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use referee::app::State;
use referee::app::state::Session;
use referee::app::text::TextBuffer;
use referee::domain::schema::V1_SCHEMA;
use referee::domain::{Clock, MetadataMode, Record};
use serde_json::json;

const FIRST: &[&str] = &[
    "Aisha", "Ben", "Camila", "Daniel", "Elena", "Felix", "Grace", "Hana", "Isaac", "Julia", "Kai",
    "Linh", "Mateo", "Nadia", "Omar", "Priya",
];
const LAST: &[&str] = &[
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
fn referral(n: usize, first: Option<&str>) -> Record {
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

/// A v1 console with referrals `0..n` loaded, in pages of 100 as they would arrive.
fn loaded(n: usize) -> State {
    let session = Session {
        profile: "bench".into(),
        backend: "vantio",
        admin_id: Some("admin_1".into()),
        metadata_mode: MetadataMode::Merge,
        concurrency: 8,
    };
    let now = "2026-11-21T10:00:00Z".parse().expect("a valid time");
    let clock = Clock::fixed(now, jiff::tz::TimeZone::UTC);
    let mut state = State::new(session, &V1_SCHEMA, clock);
    state.viewport = (160, 50);
    for start in (0..n).step_by(100) {
        state.append_records(
            (start..(start + 100).min(n))
                .map(|i| referral(i, None))
                .collect(),
        );
    }
    state
}

fn set_filter(state: &mut State, text: &str) {
    state.list.filter = TextBuffer::single(text);
    state.refilter();
}

/// One keystroke at 100k: the filter goes from `before` to `after` (only the change is timed).
fn keystroke(c: &mut Criterion) {
    let mut state = loaded(100_000);
    let mut group = c.benchmark_group("keystroke at 100k");
    let steps = [
        ("", "n"),
        ("n", "ng"),
        ("ngu", "nguy"),
        ("nguy", "ngu"),
        ("ng", "n"),
        ("n", ""),
        ("grace", "grace "),
        ("linh", "linh n"),
        ("linh ng", "linh n"),
        ("zz", "zzz"),
    ];
    for (before, after) in steps {
        let name = format!("{before:?} -> {after:?}");
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    set_filter(&mut state, before);
                    let start = Instant::now();
                    set_filter(&mut state, after);
                    spent += start.elapsed();
                    black_box(state.list.visible.len());
                }
                spent
            })
        });
    }
    group.finish();
}

/// A page of 100 arriving into 100k, with and without a filter typed.
fn page_insert(c: &mut Criterion) {
    let mut group = c.benchmark_group("page of 100 into 100k");
    for filter in ["", "nguy"] {
        group.bench_with_input(BenchmarkId::new("filter", filter), &filter, |b, filter| {
            let mut state = loaded(100_000);
            set_filter(&mut state, filter);
            let mut next = 100_000;
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    // Keep the store near 100k: start again once it has doubled.
                    if next >= 200_000 {
                        state = loaded(100_000);
                        set_filter(&mut state, filter);
                        next = 100_000;
                    }
                    let page: Vec<Record> = (next..next + 100).map(|i| referral(i, None)).collect();
                    next += 100;
                    let start = Instant::now();
                    state.append_records(page);
                    spent += start.elapsed();
                }
                spent
            })
        });
    }
    group.finish();
}

/// A saved row put back into 100k with a filter typed, its name changing so it leaves and rejoins
/// the rows shown.
fn replace_one(c: &mut Criterion) {
    let mut state = loaded(100_000);
    set_filter(&mut state, "ng");
    let names = ["Nguyen", "Bo"];
    let mut turn = 0;
    c.bench_function("replace 1 in 100k", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                turn += 1;
                let fresh = referral(50_000, Some(names[turn % 2]));
                let start = Instant::now();
                state.replace_records(vec![fresh]);
                spent += start.elapsed();
            }
            spent
        })
    });
}

/// One frame of the list, 160×50, the cursor half-way down: the same at 1k and 100k.
fn render(c: &mut Criterion) {
    let mut group = c.benchmark_group("render list");
    for n in [1_000, 100_000] {
        let mut state = loaded(n);
        state.move_selection((n / 2) as isize);
        let mut terminal = Terminal::new(TestBackend::new(160, 50)).expect("a test terminal");
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                terminal
                    .draw(|frame| referee::ui::render(&state, frame))
                    .expect("drawn");
            })
        });
    }
    group.finish();
}

criterion_group!(benches, keystroke, page_insert, replace_one, render);
criterion_main!(benches);
