//! Deterministic v1 demo data: three campus ambassador programs, 40 ambassadors with their posters,
//! poster scans (impressions) and the referrals that came from them.
//!
//! Everything derives from a fixed seed and a fixed calendar (ambassadors join from 2025-08-18,
//! scans happen 2026-01-05 to 2026-10-30), never from the clock, so the same count always gives the
//! same rows. A quarter more scans than referrals are generated: scans nobody signed up from, which
//! `POST /referrals` can use.

use std::collections::HashSet;

use jiff::{SignedDuration, Timestamp};
use rusqlite::Connection;
use serde_json::{Map, Value};

use super::store::{self, Impression, Referral, Status, User};
use crate::sandbox::db;
use crate::sandbox::names::{self, FIRST_NAMES, LAST_NAMES, MAIL_DOMAINS};
use crate::sandbox::prng::Prng;

const SEED: u64 = 0x5EED_0000_2026_0105;
const AMBASSADORS: usize = 40;
/// 2025-08-18T00:00:00Z, the first ambassador's start.
const FIRST_JOIN: Timestamp = Timestamp::constant(1_755_475_200, 0);
/// 2026-01-04T00:00:00Z, after which ambassadors join no more.
const LAST_JOIN: Timestamp = Timestamp::constant(1_767_484_800, 0);
/// 2026-01-05T00:00:00Z, the first scan.
const FIRST_SCAN: Timestamp = Timestamp::constant(1_767_571_200, 0);
/// 2026-10-30T22:00:00Z: the last scan, leaving time for its signup the same day.
const LAST_SCAN: Timestamp = Timestamp::constant(1_793_404_800 - 2 * 3600, 0);

/// The mail domain of each program's campus; a program's index is its campus index.
const CAMPUSES: [&str; 3] = ["northbridge.edu", "lakeshore.edu", "westfield-state.edu"];

const LOCATIONS: &[&str] = &[
    "Campus Center, North Entrance",
    "Library, 2nd floor",
    "Library, main lobby",
    "Student Union",
    "Student Union food court",
    "Gym entrance",
    "Dining Hall B",
    "Science Building lobby",
    "Engineering Quad",
    "Bookstore checkout",
    "Career Center notice board",
    "Dorm A laundry room",
    "Maple Hall elevator",
    "Bus stop, Main St",
    "Coffee Lab on College Ave",
    "Arts Building stairwell",
    "Rec Center lockers",
    "Parking Garage C, level 1",
];

/// Where referred people say they heard about the program, weighted by repetition.
const SOURCES: &[&str] = &[
    "poster_qr_code",
    "poster_qr_code",
    "poster_qr_code",
    "poster_qr_code",
    "poster_qr_code",
    "flyer",
    "instagram",
    "instagram",
    "tiktok",
    "word_of_mouth",
    "campus_event",
];

const CAMPAIGNS: &[&str] = &[
    "spring_launch_2026",
    "finals_week_study_pass",
    "summer_sublet_promo",
    "fall_welcome_week",
    "refer_a_roommate",
];

const NOTES: &[&str] = &[
    "Asked about the student discount",
    "Signed up at the info table",
    "Came with a friend who already uses the app",
    "Wants the annual plan",
    "Follow up after exams",
];

const ADMINS: &[&str] = &["admin_maria", "admin_kwame", "admin_sofie", "admin_raj"];

const REJECTION_REASONS: &[&str] = &[
    "Duplicate signup",
    "Referred person is an existing customer",
    "Self-referral by the ambassador",
    "Email bounced",
    "Refund requested within 14 days",
    "Outside the program's campus",
];

struct Ambassador {
    user: User,
    campus: usize,
    /// (poster id, where it hangs)
    posters: Vec<(String, &'static str)>,
}

struct DemoData {
    users: Vec<User>,
    impressions: Vec<Impression>,
    referrals: Vec<Referral>,
}

/// Inserts `count` referrals and everything they refer to, in one transaction.
pub fn insert_demo_data(conn: &mut Connection, count: usize) -> rusqlite::Result<()> {
    let data = generate(count);
    let tx = conn.transaction()?;
    for user in &data.users {
        store::insert_user(&tx, user)?;
    }
    for impression in &data.impressions {
        store::insert_impression(&tx, impression)?;
    }
    for referral in &data.referrals {
        store::insert_referral(&tx, referral, None)?;
    }
    tx.commit()
}

fn generate(count: usize) -> DemoData {
    let mut rng = Prng::new(SEED);
    let programs: Vec<String> = CAMPUSES.iter().map(|_| rng.id("prog_")).collect();
    let ambassadors = ambassadors(&mut rng, &programs);
    // Emails already used, per campus index, lowercased.
    let mut taken: [HashSet<String>; CAMPUSES.len()] = Default::default();
    let mut impressions = Vec::new();
    let mut referrals = Vec::with_capacity(count);
    for _ in 0..count {
        // A few ambassadors bring in most referrals.
        let top = rng.index(AMBASSADORS) + 1;
        let ambassador = &ambassadors[rng.index(top)];
        let (impression, scanned) = scan(&mut rng, ambassador);
        referrals.push(referral(
            &mut rng,
            ambassador,
            &impression,
            scanned,
            &mut taken[ambassador.campus],
        ));
        impressions.push(impression);
    }
    for _ in 0..count / 4 + 10 {
        let ambassador = &ambassadors[rng.index(AMBASSADORS)];
        impressions.push(scan(&mut rng, ambassador).0);
    }
    DemoData {
        users: ambassadors.into_iter().map(|a| a.user).collect(),
        impressions,
        referrals,
    }
}

fn ambassadors(rng: &mut Prng, programs: &[String]) -> Vec<Ambassador> {
    let mut taken: [HashSet<String>; CAMPUSES.len()] = Default::default();
    (0..AMBASSADORS)
        .map(|_| {
            let campus = rng.index(CAMPUSES.len());
            let first_name = *rng.pick(FIRST_NAMES);
            let last_name = *rng.pick(LAST_NAMES);
            let mailbox = names::mailbox(first_name, last_name, rng);
            let email = names::unique_email(&mut taken[campus], &mailbox, CAMPUSES[campus]);
            let user = User {
                id: rng.id("user_"),
                first_name: first_name.to_owned(),
                last_name: last_name.to_owned(),
                email,
                program_id: programs[campus].clone(),
                created_at: db::timestamp(rng.timestamp_between(FIRST_JOIN, LAST_JOIN)),
            };
            let posters = (0..2 + rng.index(3))
                .map(|_| (rng.id("post_"), *rng.pick(LOCATIONS)))
                .collect();
            Ambassador {
                user,
                campus,
                posters,
            }
        })
        .collect()
}

/// A scan of one of the ambassador's posters, and when it happened.
fn scan(rng: &mut Prng, ambassador: &Ambassador) -> (Impression, Timestamp) {
    let (poster_id, location) = rng.pick(&ambassador.posters);
    let scanned = rng.timestamp_between(FIRST_SCAN, LAST_SCAN);
    let impression = Impression {
        id: rng.id("imp_"),
        poster_id: poster_id.clone(),
        program_id: ambassador.user.program_id.clone(),
        student_id: ambassador.user.id.clone(),
        location: (*location).to_owned(),
        created_at: db::timestamp(scanned),
    };
    (impression, scanned)
}

fn referral(
    rng: &mut Prng,
    ambassador: &Ambassador,
    impression: &Impression,
    scanned: Timestamp,
    // Emails already used in the ambassador's program, lowercased.
    taken: &mut HashSet<String>,
) -> Referral {
    let first_name = *rng.pick(FIRST_NAMES);
    let last_name = *rng.pick(LAST_NAMES);
    let mailbox = names::mailbox(first_name, last_name, rng);
    // Students often sign up with their campus address.
    let domain = if rng.chance(30) {
        CAMPUSES[ambassador.campus]
    } else {
        rng.pick(MAIL_DOMAINS)
    };
    let email = names::unique_email(taken, &mailbox, domain);
    let profile_picture = rng.chance(35).then(|| {
        format!(
            "https://avatars.example.com/{}-{}-{}.jpg",
            names::plain(first_name),
            names::plain(last_name),
            rng.below(1000)
        )
    });
    let status = match rng.below(100) {
        0..30 => Status::Pending,
        30..65 => Status::Converted,
        65..90 => Status::Verified,
        _ => Status::Rejected,
    };
    let created = scanned + minutes(1 + rng.below(90));
    let verified =
        (status == Status::Verified).then(|| created + minutes(60 + rng.below(21 * 24 * 60)));
    let created_at = db::timestamp(created);
    let verified_at = verified.map(db::timestamp);
    Referral {
        id: rng.id("ref_"),
        impression_id: impression.id.clone(),
        first_name: first_name.to_owned(),
        last_name: last_name.to_owned(),
        email,
        profile_picture,
        status,
        program_id: impression.program_id.clone(),
        student_id: impression.student_id.clone(),
        updated_at: verified_at.clone().unwrap_or_else(|| created_at.clone()),
        created_at,
        verified_at,
        metadata: metadata(rng, status, &impression.location),
    }
}

/// Pending and converted referrals sometimes carry no metadata at all.
fn metadata(rng: &mut Prng, status: Status, location: &str) -> Option<Map<String, Value>> {
    let reviewed = matches!(status, Status::Verified | Status::Rejected);
    if !reviewed && rng.chance(12) {
        return None;
    }
    let mut metadata = Map::new();
    let mut put = |key: &str, value: String| metadata.insert(key.to_owned(), value.into());
    put("source", rng.pick(SOURCES).to_string());
    put("location", slug(location));
    if rng.chance(35) {
        put("campaign", rng.pick(CAMPAIGNS).to_string());
    }
    if rng.chance(15) {
        put("notes", rng.pick(NOTES).to_string());
    }
    match status {
        Status::Verified => {
            put("verified_by", rng.pick(ADMINS).to_string());
        }
        Status::Rejected if rng.chance(80) => {
            put("rejection_reason", rng.pick(REJECTION_REASONS).to_string());
        }
        _ => {}
    }
    Some(metadata)
}

/// `Library, 2nd floor` → `library_2nd_floor`, the way the vendor's examples spell locations.
fn slug(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.join("_")
}

fn minutes(n: u64) -> SignedDuration {
    SignedDuration::from_mins(n as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_constants_are_the_documented_dates() {
        assert_eq!(db::timestamp(FIRST_JOIN), "2025-08-18T00:00:00Z");
        assert_eq!(db::timestamp(LAST_JOIN), "2026-01-04T00:00:00Z");
        assert_eq!(db::timestamp(FIRST_SCAN), "2026-01-05T00:00:00Z");
        assert_eq!(db::timestamp(LAST_SCAN), "2026-10-30T22:00:00Z");
    }

    #[test]
    fn same_count_gives_the_same_data() {
        let (a, b) = (generate(60), generate(60));
        assert_eq!(a.users, b.users);
        assert_eq!(a.impressions, b.impressions);
        assert_eq!(a.referrals, b.referrals);
    }

    #[test]
    fn spreads_over_three_programs_and_forty_ambassadors() {
        let data = generate(500);
        assert_eq!(data.users.len(), AMBASSADORS);
        let programs: HashSet<&str> = data.users.iter().map(|u| u.program_id.as_str()).collect();
        assert_eq!(programs.len(), 3);
        assert_eq!(data.referrals.len(), 500);
        assert_eq!(data.impressions.len(), 500 + 500 / 4 + 10);
        let students: HashSet<&str> = data
            .referrals
            .iter()
            .map(|r| r.student_id.as_str())
            .collect();
        assert!(students.len() > 20, "{}", students.len());
    }

    #[test]
    fn statuses_follow_the_intended_mix() {
        let data = generate(2000);
        let share = |status| {
            let n = data.referrals.iter().filter(|r| r.status == status).count();
            n * 100 / data.referrals.len()
        };
        for (status, expected) in [
            (Status::Pending, 30),
            (Status::Converted, 35),
            (Status::Verified, 25),
            (Status::Rejected, 10),
        ] {
            assert!(
                share(status).abs_diff(expected) <= 4,
                "{status:?}: {}",
                share(status)
            );
        }
    }

    #[test]
    fn referral_emails_are_unique_per_program() {
        let data = generate(3000);
        let mut seen = HashSet::new();
        for r in &data.referrals {
            assert!(
                seen.insert((&r.program_id, r.email.to_lowercase())),
                "{}",
                r.email
            );
        }
    }

    #[test]
    fn timestamps_are_ordered_and_inside_the_calendar() {
        let data = generate(500);
        for r in &data.referrals {
            assert!(r.created_at.as_str() >= "2026-01-05T00:00:00Z");
            assert!(r.created_at.as_str() < "2026-10-31T00:00:00Z");
            match (&r.verified_at, r.status) {
                (Some(verified), Status::Verified) => {
                    assert!(verified > &r.created_at);
                    assert_eq!(&r.updated_at, verified);
                }
                (None, _) => assert_eq!(r.updated_at, r.created_at),
                (Some(_), status) => panic!("{status:?} with verified_at"),
            }
        }
    }

    #[test]
    fn metadata_carries_review_details() {
        let data = generate(500);
        for r in &data.referrals {
            let meta = r.metadata.as_ref();
            if r.status == Status::Verified {
                assert!(meta.is_some_and(|m| m.contains_key("verified_by")));
            }
        }
        let rejected_with_reason = data
            .referrals
            .iter()
            .filter(|r| {
                r.metadata
                    .as_ref()
                    .is_some_and(|m| m.contains_key("rejection_reason"))
            })
            .count();
        assert!(rejected_with_reason > 20);
        assert!(data.referrals.iter().any(|r| r.metadata.is_none()));
        assert!(data.referrals.iter().any(|r| r.profile_picture.is_some()));
    }

    #[test]
    fn slugs_locations() {
        assert_eq!(slug("Library, 2nd floor"), "library_2nd_floor");
        assert_eq!(
            slug("Campus Center, North Entrance"),
            "campus_center_north_entrance"
        );
    }
}
