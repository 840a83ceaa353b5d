//! What one keystroke, one arriving page, one saved row, a sort and one frame cost with 100,000 referrals
//! loaded: none of them may grow with the list (issue 11); opening the stats view, one pass over the
//! rows shown (issue 13); and what decoding a page of 100 from the wire costs on each backend. Run
//! with `cargo bench --bench store`.
//!
//! The referrals are made up by `common` and loaded through `State`'s own methods, as arriving
//! pages would be.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::{loaded, referral};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use referee::api::{firstpromoter, vantio};
use referee::app::State;
use referee::app::order::Sort;
use referee::app::text::TextBuffer;
use referee::domain::Record;
use referee::domain::schema::V1_SCHEMA;

fn set_filter(state: &mut State, text: &str) {
    state.list.filter = TextBuffer::single(text);
    state.refilter();
}

/// One keystroke at 100k: the filter goes from `before` to `after` (only the change is timed).
fn keystroke(c: &mut Criterion) {
    let mut state = loaded_v1(100_000);
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

/// An answer of 100 referrals decoded as a load decodes it (off the UI task), per backend.
fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode a page of 100");
    let page = |referral: fn(usize) -> Record| {
        let rows: Vec<serde_json::Value> = (0..100).map(|n| referral(n).to_json()).collect();
        rows
    };
    let v1 = serde_json::to_vec(&serde_json::json!({ "referrals": page(|n| referral(n, None)) }))
        .expect("JSON");
    let v2 = serde_json::to_vec(&page(common::referral_v2)).expect("JSON");
    group.bench_function("vantio", |b| {
        b.iter(|| vantio::decode_referrals_page(black_box(&v1)).expect("a page"))
    });
    group.bench_function("firstpromoter", |b| {
        b.iter(|| firstpromoter::decode_referrals_page(black_box(&v2)).expect("a page"))
    });
    group.finish();
}

/// A page of 100 arriving into 100k, with and without a filter typed.
fn page_insert(c: &mut Criterion) {
    let mut group = c.benchmark_group("page of 100 into 100k");
    for filter in ["", "nguy"] {
        group.bench_with_input(BenchmarkId::new("filter", filter), &filter, |b, filter| {
            let mut state = loaded_v1(100_000);
            set_filter(&mut state, filter);
            let mut next = 100_000;
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    // Keep the store near 100k: start again once it has doubled.
                    if next >= 200_000 {
                        state = loaded_v1(100_000);
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
    let mut state = loaded_v1(100_000);
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

/// Sorting 100k by each column from the loaded order (only the sort is timed); the cursor
/// stays on its referral.
fn sort(c: &mut Criterion) {
    let mut state = loaded_v1(100_000);
    state.move_selection(50_000);
    let mut group = c.benchmark_group("sort 100k");
    group.sample_size(10);
    for (column, spec) in state.schema.columns.iter().enumerate() {
        group.bench_function(spec.title, |b| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    state.set_sort(None);
                    let start = Instant::now();
                    state.set_sort(Some(Sort {
                        column,
                        descending: true,
                    }));
                    spent += start.elapsed();
                    black_box(state.list.selected);
                }
                spent
            })
        });
    }
    group.finish();
}

/// Opening the stats view on 100k, with no filter and with one: one pass over the rows shown
/// (every fourth referral verified, on one of the last 40 days).
fn stats(c: &mut Criterion) {
    let mut state = loaded(&V1_SCHEMA, 100_000, |i| {
        let mut record = referral(i, None);
        if record.text("status") == "verified" {
            let at = format!("2026-{:02}-{:02}T09:30:00Z", 10 + (i / 30) % 2, 1 + i % 28);
            record.insert("verified_at", serde_json::Value::String(at));
        }
        record
    });
    let mut group = c.benchmark_group("stats of 100k");
    group.sample_size(10);
    for filter in ["", "nguy"] {
        set_filter(&mut state, filter);
        group.bench_with_input(BenchmarkId::new("filter", filter), &filter, |b, _| {
            b.iter(|| {
                referee::app::update(&mut state, referee::app::Action::Stats);
                let total = state.stats.as_ref().map(|view| view.stats.total);
                referee::app::update(&mut state, referee::app::Action::Stats);
                black_box(total)
            })
        });
    }
    group.finish();
}

/// One frame, 160×50, the cursor half-way down, of the list and of the list with the detail pane
/// open: the same at 1k and 100k.
fn render(c: &mut Criterion) {
    for (name, detail) in [("render list", false), ("render detail", true)] {
        render_at_sizes(c, name, detail);
    }
}

fn render_at_sizes(c: &mut Criterion, name: &str, detail: bool) {
    let mut group = c.benchmark_group(name);
    for n in [1_000, 100_000] {
        let mut state = loaded_v1(n);
        state.move_selection((n / 2) as isize);
        if detail {
            referee::app::update(&mut state, referee::app::Action::OpenDetail);
        }
        let mut terminal = Terminal::new(TestBackend::new(160, 50)).expect("a test terminal");
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                terminal
                    .draw(|frame| {
                        referee::ui::render(&state, frame);
                    })
                    .expect("drawn");
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    keystroke,
    decode,
    page_insert,
    replace_one,
    sort,
    stats,
    render
);
criterion_main!(benches);

/// A v1 console with referrals `0..n` loaded.
fn loaded_v1(n: usize) -> State {
    loaded(&V1_SCHEMA, n, |i| referral(i, None))
}
