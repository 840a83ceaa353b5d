//! How much memory 100,000 loaded referrals hold, v1 and v2, against the JSON they came as (issue
//! 11's goal: at most twice the JSON). Not a timing: it prints bytes.
//! Run with `cargo bench --bench memory`.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use referee::domain::schema::{V1_SCHEMA, V2_SCHEMA};
use referee::domain::{Record, Schema};

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
    measure("v2", &V2_SCHEMA, common::referral_v2);
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
