//! How much memory 100,000 loaded referrals hold, v1 and v2, against the JSON they came as (issue
//! 11's goal: at most twice the JSON). Not a timing: it prints bytes.
//! Run with `cargo bench --bench memory`.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use referee::domain::schema::{V1_SCHEMA, V2_SCHEMA, V2_STATES};
use referee::domain::{Record, Schema};
use serde_json::json;

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `dealloc` is passed on unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const N: usize = 100_000;

fn main() {
    measure("v1", &V1_SCHEMA, |n| common::referral(n, None));
    measure("v2", &V2_SCHEMA, referral_v2);
}

/// Prints what `N` referrals made by `referral` hold, as records and loaded in a console. Values
/// records share are held once for the process, so they are counted in the first "as records".
fn measure(name: &str, schema: &'static Schema, referral: fn(usize) -> Record) {
    let json: usize = (0..N)
        .map(|n| referral(n).to_json().to_string().len())
        .sum();
    let before = LIVE.load(Ordering::Relaxed);
    let records: Vec<_> = (0..N).map(referral).collect();
    let bare = LIVE.load(Ordering::Relaxed) - before;
    drop(records);
    let before = LIVE.load(Ordering::Relaxed);
    let state = common::loaded(schema, N, referral);
    let loaded = LIVE.load(Ordering::Relaxed) - before;
    let mb = |bytes: usize| bytes as f64 / 1e6;
    println!("{N} {name} referrals: their JSON {:.1} MB", mb(json));
    println!(
        "  as records: {:.1} MB ({:.2}× the JSON, {} bytes each)",
        mb(bare),
        bare as f64 / json as f64,
        bare / N
    );
    println!(
        "  loaded in the console (with id index and search text): {:.1} MB ({:.2}× the JSON)",
        mb(loaded),
        loaded as f64 / json as f64
    );
    std::hint::black_box(state);
}

/// FirstPromoter (v2) referral number `n`, shaped as the sandbox answers: one of 40 promoter
/// campaigns nested whole, a split with a partner on every third referral, its own times.
pub fn referral_v2(n: usize) -> Record {
    let first = common::FIRST[n % common::FIRST.len()];
    let last = common::LAST[(n / common::FIRST.len()) % common::LAST.len()];
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
                "name": format!("{} {}", common::FIRST[n % 40 % common::FIRST.len()], common::LAST[n % 40 % common::LAST.len()]),
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
