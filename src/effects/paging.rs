//! Paging through a listing until it ends, even on a server that ignores `page`/`offset`: paging
//! stops when a page repeats the one before or brings only ids already seen, ids seen before are
//! dropped from later pages, and entries that could not be read are counted. What happened is
//! logged as it happens and told to the app when the listing ends (`PagingReport`). Several pages
//! are asked for at once and taken in order (`page_through`).

use std::collections::HashSet;

use futures::StreamExt;
use futures::stream::FuturesOrdered;

use crate::api::{ApiError, Page, PageResult};

/// Pages fetched at most, whatever the server says: a listing that seems endless is cut here.
const MAX_PAGES: usize = 10_000;
/// Pages asked for at most at once while loading a listing.
const WINDOW: usize = 8;

/// Why paging stopped before the server said it was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Page `page` (from 1) was exactly page `page - 1` again.
    Repeated { page: usize, kept: usize },
    /// Page `page` (from 1) held only ids earlier pages had.
    NothingNew { page: usize, kept: usize },
    /// `MAX_PAGES` pages were fetched and the server still had more.
    TooMany { kept: usize },
}

/// What went wrong while paging through one listing. Empty when nothing did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PagingReport {
    /// (page from 1, entries on it that could not be read and were skipped), pages in order.
    pub unreadable: Vec<(usize, usize)>,
    /// Entries dropped because an earlier entry had their id.
    pub duplicates: usize,
    pub stopped: Option<Stop>,
}

/// "1 referral" / "2 referrals".
fn count(n: usize, (one, many): (&str, &str)) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl PagingReport {
    pub fn is_empty(&self) -> bool {
        self == &PagingReport::default()
    }

    /// Sentences for the status bar, naming entries with `noun` (singular, plural).
    pub fn sentences(&self, noun: (&str, &str)) -> Vec<String> {
        let mut sentences = Vec::new();
        match self.unreadable.as_slice() {
            [] => {}
            [(page, n)] => sentences.push(format!(
                "{} on page {page} could not be read.",
                count(*n, noun)
            )),
            pages => {
                let total = pages.iter().map(|(_, n)| n).sum();
                let numbers: Vec<String> = pages.iter().map(|(p, _)| p.to_string()).collect();
                sentences.push(format!(
                    "{} on pages {} could not be read.",
                    count(total, noun),
                    numbers.join(", ")
                ));
            }
        }
        if self.duplicates > 0 {
            sentences.push(format!(
                "{} sent more than once shown once.",
                count(self.duplicates, noun)
            ));
        }
        let (_, many) = noun;
        match &self.stopped {
            None => {}
            Some(Stop::Repeated { page, kept }) => sentences.push(format!(
                "The server sent page {} again as page {page}: stopped at {kept} {many} — it may not support paging.",
                page.saturating_sub(1)
            )),
            Some(Stop::NothingNew { page, kept }) => sentences.push(format!(
                "Page {page} brought only {many} already loaded: stopped at {kept} {many} — the server may not support paging."
            )),
            Some(Stop::TooMany { kept }) => sentences.push(format!(
                "Stopped after {MAX_PAGES} pages ({kept} {many}): the server kept sending more."
            )),
        }
        sentences
    }
}

/// The stop rule, page by page: which items of each page are new, and whether to fetch another.
#[derive(Debug, Default)]
struct Pager {
    /// Pages taken so far; the next page to fetch has this index (from 0).
    pages: usize,
    /// Every id delivered so far.
    seen: HashSet<String>,
    /// The fingerprint of the page before, to notice it sent again.
    previous: Option<u64>,
    report: PagingReport,
}

impl Pager {
    /// Takes the next page: its items whose ids were not seen before, and whether to fetch more.
    fn take<T>(&mut self, page: Page<T>, id: fn(&T) -> &str) -> (Vec<T>, bool) {
        self.pages += 1;
        let number = self.pages;
        if !page.skipped.is_empty() {
            self.report.unreadable.push((number, page.skipped.len()));
        }
        let sent_something = !page.items.is_empty() || !page.skipped.is_empty();
        let repeated = self.previous == Some(page.fingerprint) && sent_something;
        self.previous = Some(page.fingerprint);
        let kept = self.seen.len();
        if repeated {
            // The repeat's unreadable entries were counted on the page it repeats.
            self.report.unreadable.retain(|(p, _)| *p != number);
            self.report.stopped = Some(Stop::Repeated { page: number, kept });
            return (Vec::new(), false);
        }
        let offered = page.items.len();
        let new: Vec<T> = page
            .items
            .into_iter()
            .filter(|item| self.seen.insert(id(item).to_string()))
            .collect();
        if offered > 0 && new.is_empty() {
            self.report.stopped = Some(Stop::NothingNew { page: number, kept });
            return (new, false);
        }
        self.report.duplicates += offered - new.len();
        if !page.last && self.pages >= MAX_PAGES {
            self.report.stopped = Some(Stop::TooMany {
                kept: self.seen.len(),
            });
            return (new, false);
        }
        (new, !page.last)
    }
}

/// Fetches pages from 0 until the last (or until the stop rule ends it), handing each page's new
/// items to `deliver` in page order with the report on the final one; stops early if `deliver`
/// says so. `what` names the listing in the log.
///
/// Pages are fetched `WINDOW` at a time (pages are addressed by number, so page 5 need not wait for
/// page 4): the window opens one page wider with each page delivered, so a listing of one page
/// costs one request, and never holds a page more than `WINDOW` ahead of the next one to deliver.
/// Answers are taken in page order whatever order they arrive in; when a page ends the listing,
/// the requests still out for pages after it are dropped and their answers never read. Every
/// request still goes through the HTTP core's pacing, so the window never outruns a rate limit.
pub async fn page_through<T, F, Fut>(
    what: &str,
    fetch: F,
    id: fn(&T) -> &str,
    mut deliver: impl FnMut(Vec<T>, Option<PagingReport>) -> bool,
) -> Result<(), ApiError>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = PageResult<T>>,
{
    let mut pager = Pager::default();
    let mut out = FuturesOrdered::new();
    // The next page to ask for.
    let mut asked = 0;
    loop {
        let width = (pager.pages + 1).min(WINDOW);
        while asked < pager.pages + width && asked < MAX_PAGES {
            out.push_back(fetch(asked));
            asked += 1;
        }
        let Some(page) = out.next().await else {
            unreachable!("a page is always out until the pager stops");
        };
        let page = page?;
        for why in &page.skipped {
            tracing::warn!("{what}, page {}: skipped {why}", pager.pages + 1);
        }
        let (items, more) = pager.take(page, id);
        if !more {
            let report = std::mem::take(&mut pager.report);
            if !report.is_empty() {
                let said = report.sentences(("entry", "entries")).join(" ");
                tracing::warn!("{what}: {said}");
            }
            deliver(items, Some(report));
            return Ok(());
        }
        if !deliver(items, None) {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::{Cell, RefCell};

    /// A page of these ids; pages with the same `fingerprint` were sent byte for byte the same.
    fn fingerprinted(ids: &[&str], last: bool, fingerprint: u64) -> Page<String> {
        Page {
            items: strings(ids),
            last,
            skipped: Vec::new(),
            fingerprint,
        }
    }

    fn id(s: &String) -> &str {
        s
    }

    /// Feeds the pages to a pager until it says stop: what each page delivered, and the report.
    fn run(pages: Vec<Page<String>>) -> (Vec<Vec<String>>, PagingReport) {
        let mut pager = Pager::default();
        let mut delivered = Vec::new();
        for page in pages {
            let (items, more) = pager.take(page, id);
            delivered.push(items);
            if !more {
                return (delivered, pager.report);
            }
        }
        panic!("the pager wanted more pages than the server had: {delivered:?}")
    }

    fn strings(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_normal_listing_ends_at_the_servers_last_page_with_nothing_to_report() {
        let (delivered, report) = run(vec![
            fingerprinted(&["1", "2"], false, 1),
            fingerprinted(&["3"], false, 2),
            fingerprinted(&[], true, 3),
        ]);
        assert_eq!(delivered, [strings(&["1", "2"]), strings(&["3"]), vec![]]);
        assert!(report.is_empty());
        assert!(report.sentences(("referral", "referrals")).is_empty());
    }

    #[test]
    fn a_page_sent_again_stops_paging_and_delivers_nothing_of_it() {
        let (delivered, report) = run(vec![
            fingerprinted(&["1", "2"], false, 1),
            fingerprinted(&["3", "4"], false, 2),
            fingerprinted(&["3", "4"], false, 2),
        ]);
        assert_eq!(delivered.concat(), strings(&["1", "2", "3", "4"]));
        assert_eq!(report.stopped, Some(Stop::Repeated { page: 3, kept: 4 }));
        assert_eq!(
            report.sentences(("referral", "referrals")),
            [
                "The server sent page 2 again as page 3: stopped at 4 referrals — it may not support paging."
            ]
        );
    }

    #[test]
    fn a_repeated_page_of_entries_that_cannot_be_read_also_stops() {
        let unreadable = |fingerprint| Page {
            items: Vec::<String>::new(),
            last: false,
            skipped: vec!["entry 1: no id".to_string()],
            fingerprint,
        };
        let (_, report) = run(vec![unreadable(7), unreadable(7)]);
        assert_eq!(report.stopped, Some(Stop::Repeated { page: 2, kept: 0 }));
        assert_eq!(
            report.unreadable,
            [(1, 1)],
            "the repeat is not counted twice"
        );
    }

    #[test]
    fn a_page_of_only_known_ids_stops_paging() {
        // Shuffled and changed (another fingerprint), but nothing new: the server ignores paging.
        let (delivered, report) = run(vec![
            fingerprinted(&["1", "2"], false, 1),
            fingerprinted(&["2", "1"], false, 2),
        ]);
        assert_eq!(delivered, [strings(&["1", "2"]), vec![]]);
        assert_eq!(report.stopped, Some(Stop::NothingNew { page: 2, kept: 2 }));
        assert_eq!(
            report.sentences(("referral", "referrals")),
            [
                "Page 2 brought only referrals already loaded: stopped at 2 referrals — the server may not support paging."
            ]
        );
    }

    #[test]
    fn a_page_with_some_known_ids_keeps_only_the_new_ones_and_goes_on() {
        let (delivered, report) = run(vec![
            fingerprinted(&["1", "2"], false, 1),
            fingerprinted(&["2", "3", "3"], false, 2),
            fingerprinted(&[], true, 3),
        ]);
        assert_eq!(delivered, [strings(&["1", "2"]), strings(&["3"]), vec![]]);
        assert_eq!(report.stopped, None);
        assert_eq!(report.duplicates, 2);
        assert_eq!(
            report.sentences(("referral", "referrals")),
            ["2 referrals sent more than once shown once."]
        );
    }

    #[test]
    fn entries_that_cannot_be_read_are_counted_per_page() {
        let with_skipped = |ids: &[&str], skipped: usize, last, fingerprint| {
            let mut page = fingerprinted(ids, last, fingerprint);
            page.skipped = vec!["entry: no id".to_string(); skipped];
            page
        };
        let (delivered, report) = run(vec![
            with_skipped(&["1"], 2, false, 1),
            with_skipped(&[], 0, true, 2),
        ]);
        assert_eq!(delivered.concat(), strings(&["1"]));
        assert_eq!(
            report.sentences(("referral", "referrals")),
            ["2 referrals on page 1 could not be read."]
        );
        let (_, report) = run(vec![
            with_skipped(&["1"], 1, false, 1),
            with_skipped(&["2"], 0, false, 2),
            with_skipped(&["3"], 2, true, 3),
        ]);
        assert_eq!(
            report.sentences(("referral", "referrals")),
            ["3 referrals on pages 1, 3 could not be read."]
        );
    }

    /// A listing served by a fake fetch whose answers come back out of order: page `i` takes
    /// more turns of the scheduler the earlier it sits in the window. Records what was asked and
    /// when, against what had been delivered by then.
    struct Served {
        /// Page `i` as the fake server sends it (pages past the end are served too).
        pages: Vec<Page<String>>,
        /// (page asked for, pages delivered when it was asked), in the order asked.
        asked: RefCell<Vec<(usize, usize)>>,
        /// Pages answered, in the order their answers arrived.
        answered: RefCell<Vec<usize>>,
        /// Requests out now, and the most that were out at once.
        out: Cell<usize>,
        most_out: Cell<usize>,
        delivered: Cell<usize>,
    }

    impl Served {
        fn new(pages: Vec<Page<String>>) -> Served {
            Served {
                pages,
                asked: RefCell::default(),
                answered: RefCell::default(),
                out: Cell::new(0),
                most_out: Cell::new(0),
                delivered: Cell::new(0),
            }
        }

        async fn fetch(&self, index: usize) -> PageResult<String> {
            self.asked.borrow_mut().push((index, self.delivered.get()));
            self.out.set(self.out.get() + 1);
            self.most_out.set(self.most_out.get().max(self.out.get()));
            for _ in 0..(WINDOW - index % WINDOW) * 3 {
                tokio::task::yield_now().await;
            }
            self.out.set(self.out.get() - 1);
            self.answered.borrow_mut().push(index);
            match self.pages.get(index) {
                Some(page) => Ok(page.clone()),
                None => Err(ApiError::Refused {
                    status: 500,
                    message: format!("page {index} was never meant to be read"),
                }),
            }
        }

        /// Pages through the listing, stopping after `stop_after` deliveries if given: what each
        /// delivery held, and the report.
        async fn load(
            &self,
            stop_after: Option<usize>,
        ) -> (Result<(), ApiError>, Vec<Vec<String>>, Option<PagingReport>) {
            let mut delivered = Vec::new();
            let mut report = None;
            let result = page_through(
                "test",
                |i| self.fetch(i),
                id,
                |items, end| {
                    delivered.push(items);
                    self.delivered.set(delivered.len());
                    report = end;
                    stop_after != Some(delivered.len())
                },
            )
            .await;
            (result, delivered, report)
        }
    }

    /// `count` pages of two ids each, then a page of one (the short, last page), then pages a
    /// server ignoring the end would still send.
    fn listing(count: usize) -> Vec<Page<String>> {
        let page = |i: usize, n: usize, last| {
            let ids: Vec<String> = (0..n).map(|k| format!("{i}.{k}")).collect();
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            fingerprinted(&ids, last, i as u64)
        };
        let mut pages: Vec<_> = (0..count).map(|i| page(i, 2, false)).collect();
        pages.push(page(count, 1, true));
        pages.extend((count + 1..count + 1 + 2 * WINDOW).map(|i| page(i, 2, false)));
        pages
    }

    #[tokio::test]
    async fn pages_answered_out_of_order_are_delivered_in_order() {
        let served = Served::new(listing(20));
        let (result, delivered, report) = served.load(None).await;
        result.unwrap();
        let expected: Vec<Vec<String>> = (0..=20)
            .map(|i| {
                let n = if i == 20 { 1 } else { 2 };
                (0..n).map(|k| format!("{i}.{k}")).collect()
            })
            .collect();
        assert_eq!(delivered, expected);
        assert_eq!(report, Some(PagingReport::default()));
        let answered = served.answered.borrow();
        assert!(
            answered.windows(2).any(|w| w[1] < w[0]),
            "the answers did come back out of order: {answered:?}"
        );
    }

    #[tokio::test]
    async fn the_window_opens_page_by_page_and_never_runs_ahead() {
        let served = Served::new(listing(30));
        served.load(None).await.0.unwrap();
        assert_eq!(served.most_out.get(), WINDOW);
        for &(page, delivered) in served.asked.borrow().iter() {
            let width = (delivered + 1).min(WINDOW);
            assert!(
                page < delivered + width,
                "page {page} asked for with {delivered} delivered"
            );
        }
        // A listing of one page costs one request.
        let served = Served::new(listing(0));
        let (result, delivered, _) = served.load(None).await;
        result.unwrap();
        assert_eq!(delivered, [strings(&["0.0"])]);
        assert_eq!(*served.asked.borrow(), [(0, 0)]);
    }

    #[tokio::test]
    async fn nothing_after_the_short_page_is_delivered_or_read() {
        let mut pages = listing(12);
        // Page 14 would bring more and the pages after it would fail: the load ends at the
        // short page 13 before their answers are looked at.
        pages.truncate(14);
        let served = Served::new(pages);
        let (result, delivered, report) = served.load(None).await;
        result.unwrap();
        assert_eq!(delivered.len(), 13);
        assert_eq!(delivered.last().unwrap(), &strings(&["12.0"]));
        assert!(report.is_some_and(|r| r.is_empty()));
        let furthest = served.asked.borrow().iter().map(|(p, _)| *p).max();
        assert!(
            furthest.is_some_and(|p| p > 13),
            "pages past the end were asked for"
        );
    }

    #[tokio::test]
    async fn the_stop_rules_hold_with_pages_in_flight() {
        // A server that ignores paging: every page is the first again.
        let same = vec![fingerprinted(&["1", "2"], false, 1); 3 * WINDOW];
        let served = Served::new(same);
        let (result, delivered, report) = served.load(None).await;
        result.unwrap();
        assert_eq!(delivered, [strings(&["1", "2"]), vec![]]);
        let report = report.expect("the last delivery has the report");
        assert_eq!(report.stopped, Some(Stop::Repeated { page: 2, kept: 2 }));

        // Shuffled but nothing new.
        let mut pages = listing(3);
        pages[2] = fingerprinted(&["1.1", "0.0"], false, 77);
        let (result, delivered, report) = Served::new(pages).load(None).await;
        result.unwrap();
        assert_eq!(delivered.len(), 3);
        let report = report.expect("the last delivery has the report");
        assert_eq!(report.stopped, Some(Stop::NothingNew { page: 3, kept: 4 }));
    }

    #[tokio::test]
    async fn a_failed_page_ends_the_load_after_the_pages_before_it() {
        let mut pages = listing(10);
        pages.truncate(4);
        let served = Served::new(pages);
        let (result, delivered, report) = served.load(None).await;
        assert!(result.is_err(), "page 5 failed");
        assert_eq!(delivered.len(), 4);
        assert_eq!(report, None);
    }

    #[tokio::test]
    async fn the_load_stops_when_the_app_says_so() {
        let served = Served::new(listing(40));
        let (result, delivered, _) = served.load(Some(5)).await;
        result.unwrap();
        assert_eq!(delivered.len(), 5);
        let furthest = served.asked.borrow().iter().map(|(p, _)| *p).max();
        assert!(furthest.is_some_and(|p| p < 5 + WINDOW));
    }

    #[test]
    fn a_listing_that_never_ends_is_cut_at_the_page_limit() {
        let mut pager = Pager::default();
        let mut more = true;
        while more {
            let fresh = pager.pages.to_string();
            let page = fingerprinted(&[&fresh], false, pager.pages as u64);
            (_, more) = pager.take(page, id);
            assert!(pager.pages <= MAX_PAGES);
        }
        assert_eq!(
            pager.report.stopped,
            Some(Stop::TooMany { kept: MAX_PAGES })
        );
    }
}
