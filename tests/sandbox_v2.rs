//! The sandbox's FirstPromoter API v2 over real HTTP on 127.0.0.1, each test on its own SQLite file.

mod sandbox_common;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use referee::sandbox::Quirk;
use referee::sandbox::SandboxConfig;
use reqwest::{Method, RequestBuilder, StatusCode};
use sandbox_common::{
    ACCOUNT, Answer, KEY, Sandbox, assert_put_waits_but_not_reads, config, keys, send, send_partial,
};
use serde_json::{Value, json};
use tempfile::TempDir;

const REFERRAL_KEYS: [&str; 18] = [
    "id",
    "email",
    "uid",
    "username",
    "first_name",
    "last_name",
    "website",
    "comment",
    "state",
    "is_expired",
    "metadata",
    "entry_source",
    "created_at",
    "customer_since",
    "promoter_campaign",
    "fraud_check",
    "created_by_user_email",
    "split_details",
];

/// A batch process: the spec's keys in its order, then the sandbox's `action`.
const BATCH_KEYS: [&str; 13] = [
    "id",
    "status",
    "total",
    "selected_total",
    "processed_count",
    "failed_count",
    "action_label",
    "created_at",
    "updated_at",
    "meta",
    "progress",
    "processing_errors",
    "action",
];

/// A promoter-campaign link as nested in a referral.
const NESTED_LINK_KEYS: [&str; 6] = [
    "id",
    "campaign_id",
    "promoter_id",
    "created_at",
    "promoter",
    "campaign",
];

/// A promoter-campaign link as `/promoter_campaigns` lists it.
const LISTED_LINK_KEYS: [&str; 6] = [
    "id",
    "campaign_id",
    "promoter_id",
    "state",
    "promoter",
    "campaign",
];

/// Which credentials a request carries.
#[derive(Clone, Copy)]
struct Auth {
    key: Option<&'static str>,
    account: Option<&'static str>,
}

const GOOD: Auth = Auth {
    key: Some(KEY),
    account: Some(ACCOUNT),
};

/// The right key for an account this server does not host.
const OTHER_ACCOUNT: Auth = Auth {
    key: Some(KEY),
    account: Some("acc_other"),
};

impl Sandbox {
    fn builder(&self, method: Method, path: &str, auth: Auth) -> RequestBuilder {
        let url = format!("{}{path}", self.running.v2_base_url());
        let mut request = self.client.request(method, url);
        if let Some(key) = auth.key {
            request = request.bearer_auth(key);
        }
        if let Some(account) = auth.account {
            request = request.header("Account-ID", account);
        }
        request
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        auth: Auth,
        body: Option<String>,
    ) -> Answer {
        send(self.builder(method, path, auth), body).await
    }

    async fn get(&self, path: &str) -> Answer {
        self.request(Method::GET, path, GOOD, None).await
    }

    async fn put(&self, path: &str, body: Value) -> Answer {
        self.request(Method::PUT, path, GOOD, Some(body.to_string()))
            .await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.request(Method::POST, path, GOOD, Some(body.to_string()))
            .await
    }

    /// Every referral, fetched page by page.
    async fn all_referrals(&self) -> Vec<Value> {
        self.all_matching("").await
    }

    /// Every referral the query (`&`-joined filters, or empty) matches, fetched page by page.
    async fn all_matching(&self, query: &str) -> Vec<Value> {
        let mut all = Vec::new();
        for page in 1.. {
            let rows = self
                .get(&format!("/referrals?per_page=100&page={page}&{query}"))
                .await
                .array();
            if rows.is_empty() {
                return all;
            }
            all.extend(rows);
        }
        unreachable!()
    }

    async fn referral(&self, id: i64) -> Value {
        self.get(&format!("/referrals/{id}")).await.ok()
    }

    async fn links(&self) -> Vec<Value> {
        self.get("/promoter_campaigns?per_page=100").await.array()
    }

    /// Polls a batch until it is no longer pending or in progress; returns every state seen.
    async fn wait_for_batch(&self, id: i64) -> Vec<Value> {
        let mut seen = Vec::new();
        for _ in 0..200 {
            let batch = self.get(&format!("/batch_processes/{id}")).await.ok();
            let done = !matches!(batch["status"].as_str(), Some("pending" | "in_progress"));
            seen.push(batch);
            if done {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("batch {id} never finished: {:?}", seen.last());
    }
}

impl Answer {
    fn array(self) -> Vec<Value> {
        self.ok().as_array().expect("a bare JSON array").clone()
    }

    fn assert_error(&self, status: StatusCode, message: &str, code: &str) {
        assert_eq!(
            (self.status, &self.body),
            (status, &json!({"message": message, "code": code}))
        );
    }

    /// The `errors` object of a 422 `Validation failed`.
    fn field_errors(self) -> Value {
        assert_eq!(
            self.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            self.body
        );
        assert_eq!(self.body["message"], "Validation failed");
        assert_eq!(self.body["code"], "invalid_params");
        self.body["errors"].clone()
    }
}

fn id(value: &Value) -> i64 {
    value["id"].as_i64().unwrap()
}

fn ids(rows: &[Value]) -> Vec<i64> {
    rows.iter().map(id).collect()
}

/// Asserts `link` has `expected` keys, and its promoter and campaign their documented ones.
fn assert_link_keys(link: &Value, expected: [&str; 6]) {
    assert_eq!(keys(link), expected);
    assert_eq!(keys(&link["promoter"]), ["id", "email", "name"]);
    assert_eq!(keys(&link["campaign"]), ["id", "name", "color"]);
}

fn is_timestamp(value: &Value) -> bool {
    value.as_str().is_some_and(|text| {
        text.len() == 20 && text.ends_with('Z') && text.parse::<jiff::Timestamp>().is_ok()
    })
}

fn first(rows: &[Value], test: impl Fn(&Value) -> bool) -> &Value {
    rows.iter()
        .find(|r| test(r))
        .expect("a seeded referral like that")
}

/// Deep pages (past the first 1,000 rows the sandbox pages by SQL `OFFSET`) are the rows a plain
/// `LIMIT/OFFSET` query on the file gives, filtered or not.
#[tokio::test]
async fn deep_pages_are_the_rows_a_plain_offset_query_gives() {
    let sandbox = Sandbox::start(2_500).await;
    let file = rusqlite::Connection::open(sandbox.dir.path().join("sandbox.db")).unwrap();
    for (query, filter) in [
        ("", "1"),
        ("filters[type]=lead", "customer_since IS NULL"),
        ("filters[type]=customer", "customer_since IS NOT NULL"),
    ] {
        for (page, per_page) in [(11, 100), (13, 77), (51, 20), (25, 100), (26, 100)] {
            let sql = format!(
                "SELECT id FROM v2_referrals WHERE {filter} ORDER BY id LIMIT ?1 OFFSET ?2"
            );
            let mut stmt = file.prepare(&sql).unwrap();
            let offset = (page - 1) * per_page;
            let rows = stmt
                .query_map([per_page, offset], |row| row.get(0))
                .unwrap();
            let plain: Vec<i64> = rows.map(Result::unwrap).collect();
            let path = format!("/referrals?page={page}&per_page={per_page}&{query}");
            assert_eq!(ids(&sandbox.get(&path).await.array()), plain, "{path}");
        }
    }
}

#[tokio::test]
async fn every_request_needs_the_key_and_the_account() {
    let sandbox = Sandbox::start(3).await;
    let refusals = [
        Auth {
            key: Some(KEY),
            account: None,
        },
        OTHER_ACCOUNT,
        Auth {
            key: None,
            account: Some(ACCOUNT),
        },
        Auth {
            key: Some("sk_wrong"),
            account: Some(ACCOUNT),
        },
    ];
    for auth in refusals {
        for (method, path) in [
            (Method::GET, "/referrals"),
            (Method::GET, "/referrals/5001"),
            (Method::PUT, "/referrals/5001"),
            (Method::POST, "/referrals/approve"),
            (Method::GET, "/promoter_campaigns"),
            (Method::GET, "/no_such_thing"),
        ] {
            let answer = sandbox.request(method, path, auth, Some("{}".into())).await;
            answer.assert_error(StatusCode::UNAUTHORIZED, "Unauthorized", "unauthorized");
        }
    }
    let body = json!({"username": "intruder"}).to_string();
    let put = sandbox
        .request(Method::PUT, "/referrals/5001", OTHER_ACCOUNT, Some(body))
        .await;
    assert_eq!(put.status, StatusCode::UNAUTHORIZED);
    assert_ne!(sandbox.referral(5001).await["username"], "intruder");
    let lowercase_header = sandbox
        .client
        .get(format!("{}/referrals", sandbox.running.v2_base_url()))
        .bearer_auth(KEY)
        .header("account-id", ACCOUNT)
        .send()
        .await
        .unwrap();
    assert_eq!(lowercase_header.status(), StatusCode::OK);
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json_404s() {
    let sandbox = Sandbox::start(3).await;
    for (method, path) in [
        (Method::GET, "/promoters"),
        (Method::GET, "/referrals/5001/commissions"),
        (Method::DELETE, "/referrals/5001"),
        (Method::GET, "/referrals/approve"),
        (Method::POST, "/referrals"),
    ] {
        sandbox
            .request(method, path, GOOD, None)
            .await
            .assert_error(StatusCode::NOT_FOUND, "Not found", "not_found");
    }
}

#[tokio::test]
async fn referrals_are_a_bare_array_of_documented_objects() {
    let sandbox = Sandbox::start(60).await;
    let rows = sandbox.get("/referrals").await.array();
    assert_eq!(rows.len(), 20, "default per_page");
    assert_eq!(ids(&rows), (5001..5021).collect::<Vec<_>>(), "id order");
    let all = sandbox.all_referrals().await;
    assert_eq!(all.len(), 60);
    let states: HashSet<&str> = all.iter().map(|r| r["state"].as_str().unwrap()).collect();
    assert!(states.len() >= 5, "{states:?}");
    for r in &all {
        assert_eq!(keys(r), REFERRAL_KEYS);
        assert!(is_timestamp(&r["created_at"]), "{}", r["created_at"]);
        assert!(r["customer_since"].is_null() || is_timestamp(&r["customer_since"]));
        assert!(r["metadata"].is_null() || r["metadata"].is_object());
        assert!(r["split_details"].is_array());
        assert!(r["email"].is_string() || r["uid"].is_string());
        let link = &r["promoter_campaign"];
        assert_link_keys(link, NESTED_LINK_KEYS);
        assert_eq!(link["promoter"]["id"], link["promoter_id"]);
        assert_eq!(link["campaign"]["id"], link["campaign_id"]);
        assert!(link["campaign"]["color"].as_str().unwrap().starts_with('#'));
    }
    let split = first(&all, |r| !r["split_details"].as_array().unwrap().is_empty());
    assert_eq!(
        keys(&split["split_details"][0]),
        ["promoter_campaign_id", "promoter_id", "percentage"]
    );
    for r in &all {
        for share in r["split_details"].as_array().unwrap() {
            assert!(share["percentage"].is_u64(), "{share}");
            assert_ne!(
                share["promoter_campaign_id"], r["promoter_campaign"]["id"],
                "the own promoter campaign keeps the rest, it is not a partner"
            );
        }
    }
}

#[tokio::test]
async fn referrals_carry_names_website_comment_and_expiry() {
    let sandbox = Sandbox::start(200).await;
    let all = sandbox.all_referrals().await;
    for r in &all {
        for field in ["first_name", "last_name", "website", "comment"] {
            assert!(
                r[field].is_null() || r[field].as_str().is_some_and(|t| !t.is_empty()),
                "{field} of {}",
                id(r)
            );
        }
        assert!(r["is_expired"].is_boolean(), "{}", id(r));
        assert!(
            r["website"].is_null() || r["website"].as_str().unwrap().starts_with("https://"),
            "{}",
            r["website"]
        );
        assert!(
            r["first_name"].is_string() || r["last_name"].is_null(),
            "a last name comes with a first one"
        );
    }
    let count = |test: &dyn Fn(&Value) -> bool| all.iter().filter(|r| test(r)).count();
    assert!(count(&|r| r["first_name"].is_string() && r["last_name"].is_string()) > 130);
    assert!(count(&|r| r["first_name"].is_null()) > 0);
    assert!(count(&|r| r["first_name"].is_string() && r["last_name"].is_null()) > 0);
    assert!(count(&|r| r["website"].is_string()) > 10);
    assert!(count(&|r| r["comment"].is_string()) > 10);
    assert!((1..40).contains(&count(&|r| r["is_expired"] == true)));

    let named = first(&all, |r| {
        r["website"].is_string() && r["first_name"].is_string()
    });
    let path = format!("/referrals/{}", id(named));
    assert_eq!(&sandbox.get(&path).await.ok(), named);
    let after = sandbox
        .put(
            &path,
            json!({"first_name": "Changed", "website": null, "comment": "new",
                   "is_expired": named["is_expired"] == false, "username": "profile_kept"}),
        )
        .await
        .ok();
    for field in [
        "first_name",
        "last_name",
        "website",
        "comment",
        "is_expired",
    ] {
        assert_eq!(after[field], named[field], "{field} is not a PUT field");
    }
    assert_eq!(after["username"], "profile_kept");
    assert_eq!(sandbox.get(&path).await.ok(), after);
}

/// Each referral's stored `cancelled_at` (not answered: the spec has no such referral field).
fn stored_cancelled_at(sandbox: &Sandbox) -> HashMap<i64, Option<String>> {
    let conn = rusqlite::Connection::open(sandbox.dir.path().join("sandbox.db")).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, cancelled_at FROM v2_referrals")
        .unwrap();
    stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test]
async fn customer_since_and_cancelled_at_filters_take_inclusive_days() {
    let sandbox = Sandbox::start(300).await;
    let all = sandbox.all_referrals().await;
    let cancelled_at = stored_cancelled_at(&sandbox);
    for r in &all {
        let cancelled = matches!(r["state"].as_str(), Some("cancelled" | "refunded"));
        assert_eq!(cancelled_at[&id(r)].is_some(), cancelled, "{}", id(r));
        assert!(!r.as_object().unwrap().contains_key("cancelled_at"));
    }
    let day_of = |text: Option<&str>| text.map(|t| t[..10].to_owned());
    let since = |r: &Value| day_of(r["customer_since"].as_str());
    let cancelled = |r: &Value| day_of(cancelled_at[&id(r)].as_deref());
    let expect = |day: &dyn Fn(&Value) -> Option<String>, from: &str, to: &str| -> Vec<i64> {
        all.iter()
            .filter(|r| day(r).is_some_and(|d| from <= d.as_str() && d.as_str() <= to))
            .map(id)
            .collect()
    };

    let spring = sandbox
        .all_matching(
            "filters[customer_since][from]=2026-04-01&filters[customer_since][to]=2026-06-30",
        )
        .await;
    let expected = expect(&since, "2026-04-01", "2026-06-30");
    assert_eq!(ids(&spring), expected);
    assert!(!expected.is_empty());
    let customers = all.iter().filter(|r| since(r).is_some()).count();
    assert!(expected.len() < customers);
    let day = first(&all, |r| since(r).is_some()).clone();
    let day = since(&day).unwrap();
    let one_day = sandbox
        .all_matching(&format!(
            "filters[customer_since][from]={day}&filters[customer_since][to]={day}"
        ))
        .await;
    assert_eq!(ids(&one_day), expect(&since, &day, &day));
    assert!(!one_day.is_empty(), "bounds are inclusive");
    let leads_never = sandbox
        .all_matching("filters[customer_since][to]=2099-12-31&filters[type]=lead")
        .await;
    assert!(
        leads_never.is_empty(),
        "a lead has no customer_since to match"
    );

    let from_july = sandbox
        .all_matching("filters[cancelled_at][from]=2026-07-01")
        .await;
    let expected = expect(&cancelled, "2026-07-01", "9999-12-31");
    assert_eq!(ids(&from_july), expected);
    assert!(!expected.is_empty());
    let until_july = sandbox
        .all_matching("filters[cancelled_at][to]=2026-06-30")
        .await;
    let expected = expect(&cancelled, "0000-01-01", "2026-06-30");
    assert_eq!(ids(&until_july), expected);
    assert!(!expected.is_empty());
    let refunded_ever = sandbox
        .all_matching("filters[cancelled_at][from]=2000-01-01&filters[state]=refunded")
        .await;
    assert_eq!(
        ids(&refunded_ever),
        ids(&all
            .iter()
            .filter(|r| r["state"] == "refunded")
            .cloned()
            .collect::<Vec<_>>())
    );
    assert!(!refunded_ever.is_empty());
}

#[tokio::test]
async fn pages_run_out_into_an_empty_array() {
    let sandbox = Sandbox::start(45).await;
    let mut seen = Vec::new();
    for (page, expected) in [(1, 20), (2, 20), (3, 5), (4, 0)] {
        let rows = sandbox
            .get(&format!("/referrals?page={page}&per_page=20"))
            .await
            .array();
        assert_eq!(rows.len(), expected, "page {page}");
        seen.extend(ids(&rows));
    }
    assert_eq!(seen, (5001..5046).collect::<Vec<_>>());
    assert!(sandbox.get("/referrals?page=900").await.array().is_empty());
    assert_eq!(sandbox.get("/referrals?per_page=7").await.array().len(), 7);
}

#[tokio::test]
async fn per_page_is_clamped_to_one_hundred() {
    let sandbox = Sandbox::start(130).await;
    assert_eq!(
        sandbox.get("/referrals?per_page=500").await.array().len(),
        100
    );
    let second = sandbox.get("/referrals?per_page=500&page=2").await.array();
    assert_eq!(ids(&second), (5101..5131).collect::<Vec<_>>());
}

#[tokio::test]
async fn bad_list_parameters_are_422_naming_each() {
    let sandbox = Sandbox::start(5).await;
    for (query, field) in [
        ("page=0", "page"),
        ("page=two", "page"),
        ("per_page=0", "per_page"),
        ("per_page=-5", "per_page"),
        ("ids[]=abc", "ids"),
        ("filters[type]=vip", "filters[type]"),
        ("filters[state]=approved", "filters[state]"),
        ("filters[promoter_id]=x", "filters[promoter_id]"),
        (
            "filters[created_at][from]=2026-13-01",
            "filters[created_at][from]",
        ),
        (
            "filters[created_at][to]=01/02/2026",
            "filters[created_at][to]",
        ),
        (
            "filters[customer_since][from]=2026-02-30",
            "filters[customer_since][from]",
        ),
        (
            "filters[customer_since][to]=today",
            "filters[customer_since][to]",
        ),
        (
            "filters[cancelled_at][from]=2026-1-5",
            "filters[cancelled_at][from]",
        ),
        (
            "filters[cancelled_at][to]=2026-05-01T00:00:00Z",
            "filters[cancelled_at][to]",
        ),
    ] {
        let errors = sandbox
            .get(&format!("/referrals?{query}"))
            .await
            .field_errors();
        assert_eq!(keys(&errors), [field], "{query}");
    }
    let errors = sandbox
        .get("/referrals?page=0&filters[state]=x&filters[type]=y")
        .await
        .field_errors();
    assert_eq!(keys(&errors), ["page", "filters[type]", "filters[state]"]);
    sandbox
        .get("/promoter_campaigns?per_page=abc")
        .await
        .field_errors();
}

#[tokio::test]
async fn filters_narrow_the_list() {
    let sandbox = Sandbox::start(200).await;
    let all = sandbox.all_referrals().await;
    let list = |query: String| {
        let sandbox = &sandbox;
        async move { sandbox.all_matching(&query).await }
    };
    let expect = |test: &dyn Fn(&Value) -> bool| -> Vec<i64> {
        all.iter().filter(|r| test(r)).map(id).collect()
    };

    let customers = list("filters[type]=customer".into()).await;
    let leads = list("filters[type]=lead".into()).await;
    assert_eq!(ids(&customers), expect(&|r| !r["customer_since"].is_null()));
    assert_eq!(ids(&leads), expect(&|r| r["customer_since"].is_null()));
    assert!(!customers.is_empty() && !leads.is_empty());

    let denied = list("filters[state]=denied".into()).await;
    assert_eq!(ids(&denied), expect(&|r| r["state"] == "denied"));
    assert!(!denied.is_empty());
    let denied_leads = list("filters[state]=denied&filters[type]=lead".into()).await;
    assert_eq!(
        ids(&denied_leads),
        expect(&|r| r["state"] == "denied" && r["customer_since"].is_null())
    );

    let promoter = all[0]["promoter_campaign"]["promoter_id"].as_i64().unwrap();
    let by_promoter = list(format!("filters[promoter_id]={promoter}")).await;
    assert_eq!(
        ids(&by_promoter),
        expect(&|r| r["promoter_campaign"]["promoter_id"] == promoter)
    );
    assert!(list("filters[promoter_id]=999999".into()).await.is_empty());

    let in_march =
        list("filters[created_at][from]=2026-03-01&filters[created_at][to]=2026-03-31".into())
            .await;
    let march = expect(&|r| r["created_at"].as_str().unwrap().starts_with("2026-03"));
    assert_eq!(ids(&in_march), march);
    assert!(!march.is_empty());
    let day = all[10]["created_at"].as_str().unwrap()[..10].to_owned();
    let one_day = list(format!(
        "filters[created_at][from]={day}&filters[created_at][to]={day}"
    ))
    .await;
    assert!(
        ids(&one_day).contains(&id(&all[10])),
        "bounds are inclusive"
    );
    let from = list(format!("filters[created_at][from]={day}")).await;
    assert_eq!(
        ids(&from),
        expect(&|r| r["created_at"].as_str().unwrap()[..10] >= *day)
    );

    let wanted = [id(&all[7]), id(&all[3]), 999_999];
    let picked = list(format!(
        "ids[]={}&ids%5B%5D={}&ids[]={}",
        wanted[0], wanted[1], wanted[2]
    ))
    .await;
    assert_eq!(ids(&picked), [id(&all[3]), id(&all[7])]);
}

#[tokio::test]
async fn q_searches_email_uid_username_and_website_ignoring_case() {
    let sandbox = Sandbox::start(200).await;
    let all = sandbox.all_referrals().await;
    let search = |q: String| {
        let sandbox = &sandbox;
        async move { ids(&sandbox.all_matching(&format!("q={}", encode(&q))).await) }
    };
    let matching = |needle: &str| -> Vec<i64> {
        let needle = needle.to_lowercase();
        all.iter()
            .filter(|r| {
                ["email", "uid", "username", "website"].iter().any(|field| {
                    r[*field]
                        .as_str()
                        .is_some_and(|v| v.to_lowercase().contains(&needle))
                })
            })
            .map(id)
            .collect()
    };
    let email = first(&all, |r| r["email"].is_string())["email"]
        .as_str()
        .unwrap()
        .to_owned();
    let local = email.split('@').next().unwrap().to_uppercase();
    let found = search(local.clone()).await;
    assert!(found.contains(&id(first(&all, |r| r["email"] == email))));
    assert_eq!(found, matching(&local));

    let uid = first(&all, |r| r["uid"].is_string())["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(search(uid[4..10].to_owned()).await, matching(&uid[4..10]));
    assert!(!matching(&uid[4..10]).is_empty());
    let username = first(&all, |r| r["username"].is_string())["username"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(search(username.clone()).await, matching(&username));
    let site = first(&all, |r| r["website"].is_string())["website"]
        .as_str()
        .unwrap()
        .trim_start_matches("https://")
        .to_uppercase();
    let by_site = search(site.clone()).await;
    assert_eq!(by_site, matching(&site));
    assert!(!by_site.is_empty());
    assert!(search("gmail.com".into()).await.len() > 20);
    assert!(search("no-such-person-xyz".into()).await.is_empty());
    assert!(search("%".into()).await.is_empty(), "no LIKE wildcards");
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn get_by_id_and_by_find_by() {
    let sandbox = Sandbox::start(200).await;
    let all = sandbox.all_referrals().await;
    let target = first(&all, |r| r["uid"].is_string() && r["email"].is_string());
    assert_eq!(&sandbox.referral(id(target)).await, target);

    let uid = target["uid"].as_str().unwrap();
    let by_uid = sandbox
        .get(&format!("/referrals/{uid}?find_by=uid"))
        .await
        .ok();
    assert_eq!(&by_uid, target);

    let email = target["email"].as_str().unwrap().to_uppercase();
    let by_email = sandbox
        .get(&format!("/referrals/{}?find_by=email", encode(&email)))
        .await
        .ok();
    assert_eq!(id(&by_email), id(target), "emails ignore case");

    let named = first(&all, |r| r["username"].is_string());
    let username = named["username"].as_str().unwrap();
    let by_username = sandbox
        .get(&format!("/referrals/{username}?find_by=username"))
        .await
        .ok();
    assert_eq!(&by_username, named);

    let plus = "Ann.Lee+promo@example.com";
    sandbox
        .put(
            &format!("/referrals/{}", id(target)),
            json!({"email": plus}),
        )
        .await
        .ok();
    let encoded = "Ann.Lee%2Bpromo%40example.com";
    let found = sandbox
        .get(&format!("/referrals/{encoded}?find_by=email"))
        .await
        .ok();
    assert_eq!(
        (id(&found), found["email"].as_str()),
        (id(target), Some(plus))
    );
}

#[tokio::test]
async fn unknown_referrals_are_404() {
    let sandbox = Sandbox::start(10).await;
    for path in [
        "/referrals/999999",
        "/referrals/abc",
        "/referrals/5001.0",
        "/referrals/nobody%40example.com?find_by=email",
        "/referrals/cus_missing?find_by=uid",
        "/referrals/5001?find_by=username",
    ] {
        sandbox.get(path).await.assert_error(
            StatusCode::NOT_FOUND,
            "Referral not found",
            "not_found",
        );
    }
    sandbox
        .put("/referrals/999999", json!({"username": "x"}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "Referral not found", "not_found");
    let errors = sandbox
        .get("/referrals/5001?find_by=name")
        .await
        .field_errors();
    assert_eq!(errors, json!({"find_by": ["is not included in the list"]}));
}

#[tokio::test]
async fn put_changes_only_the_fields_sent() {
    let sandbox = Sandbox::start(60).await;
    let before = sandbox.referral(5003).await;
    let links = sandbox.links().await;
    let other = links
        .iter()
        .find(|l| l["id"] != before["promoter_campaign"]["id"])
        .unwrap();
    // Split partners: neither the referral's promoter campaign before nor after the move.
    let partners: Vec<&Value> = links
        .iter()
        .filter(|l| l["id"] != other["id"] && l["id"] != before["promoter_campaign"]["id"])
        .take(2)
        .collect();
    let steps = [
        json!({"email": "renamed@example.org"}),
        json!({"uid": "cus_sandbox_1"}),
        json!({"username": "renamed_user"}),
        json!({"promoter_campaign_id": other["id"]}),
        json!({"split_details": [
            {"promoter_campaign_id": partners[0]["id"], "percentage": 70},
            {"promoter_campaign_id": partners[1]["id"], "percentage": 30},
        ]}),
        json!({"fraud_check": "ad_source"}),
    ];
    let mut expected = before.clone();
    for step in steps {
        let after = sandbox.put("/referrals/5003", step.clone()).await.ok();
        let (field, value) = step.as_object().unwrap().iter().next().unwrap();
        match field.as_str() {
            "promoter_campaign_id" => {
                let link = &after["promoter_campaign"];
                assert_eq!(link["id"], other["id"]);
                assert_eq!(link["campaign_id"], other["campaign_id"]);
                assert_eq!(link["promoter_id"], other["promoter_id"]);
                assert_eq!(link["promoter"], other["promoter"]);
                assert_eq!(link["campaign"], other["campaign"]);
                assert!(is_timestamp(&link["created_at"]));
                expected["promoter_campaign"] = link.clone();
            }
            "split_details" => {
                expected[field] = json!([
                    {"promoter_campaign_id": partners[0]["id"],
                     "promoter_id": partners[0]["promoter_id"], "percentage": 70},
                    {"promoter_campaign_id": partners[1]["id"],
                     "promoter_id": partners[1]["promoter_id"], "percentage": 30},
                ]);
            }
            _ => expected[field] = value.clone(),
        }
        assert_eq!(after, expected, "after {step}");
        assert_eq!(sandbox.referral(5003).await, expected, "stored {step}");
    }
    assert_eq!(keys(&expected), REFERRAL_KEYS);
    assert!(!expected.as_object().unwrap().contains_key("updated_at"));

    let cleared = sandbox
        .put(
            "/referrals/5003",
            json!({"username": null, "split_details": [], "uid": ""}),
        )
        .await
        .ok();
    assert_eq!(cleared["username"], Value::Null);
    assert_eq!(cleared["uid"], Value::Null);
    assert_eq!(cleared["split_details"], json!([]));
    assert_eq!(cleared["email"], "renamed@example.org");
    let untouched = sandbox
        .put("/referrals/5003", json!({"state": "denied"}))
        .await
        .ok();
    assert_eq!(
        untouched["state"], before["state"],
        "state is not a PUT field"
    );
}

#[tokio::test]
async fn put_accepts_flat_split_keys_and_find_by() {
    let sandbox = Sandbox::start(30).await;
    let link = sandbox.links().await.remove(2);
    let flat = sandbox
        .put(
            "/referrals/5002",
            json!({"split_details[percentage]": 40, "split_details[promoter_campaign_id]": link["id"]}),
        )
        .await
        .ok();
    assert_eq!(
        flat["split_details"],
        json!([{"promoter_campaign_id": link["id"], "promoter_id": link["promoter_id"],
                "percentage": 40}])
    );
    let errors = sandbox
        .put(
            "/referrals/5002",
            json!({"split_details[percentage]": 40, "split_details[promoter_campaign_id]": 4242}),
        )
        .await
        .field_errors();
    assert_eq!(
        errors,
        json!({"split_details": ["promoter campaign 4242 does not exist"]})
    );

    let email = "find.me+1@example.com";
    sandbox
        .put("/referrals/5004", json!({"email": email}))
        .await
        .ok();
    let by_query = sandbox
        .put(
            &format!("/referrals/{}?find_by=email", encode(email)),
            json!({"username": "via_query"}),
        )
        .await
        .ok();
    assert_eq!(
        (id(&by_query), &by_query["username"]),
        (5004, &json!("via_query"))
    );
    let by_body = sandbox
        .put(
            "/referrals/via_query",
            json!({"find_by": "username", "uid": "cus_via_body"}),
        )
        .await
        .ok();
    assert_eq!(
        (id(&by_body), &by_body["uid"]),
        (5004, &json!("cus_via_body"))
    );
}

#[tokio::test]
async fn put_rejects_each_rule_with_its_message() {
    let sandbox = Sandbox::start(40).await;
    let all = sandbox.all_referrals().await;
    let other_email = first(&all, |r| r["email"].is_string() && id(r) != 5001)["email"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = id(&sandbox.links().await[0]);
    let cases = [
        (
            json!({"email": "ann@localhost"}),
            json!({"email": ["is invalid"]}),
        ),
        (
            json!({"email": "not an email"}),
            json!({"email": ["is invalid"]}),
        ),
        (json!({"email": 42}), json!({"email": ["is invalid"]})),
        (
            json!({"email": other_email.to_uppercase()}),
            json!({"email": ["has already been taken"]}),
        ),
        (
            json!({"email": null, "uid": null}),
            json!({"email": ["can't be blank when uid is blank"]}),
        ),
        (
            json!({"promoter_campaign_id": 4242}),
            json!({"promoter_campaign_id": ["does not exist"]}),
        ),
        (
            json!({"split_details": [{"promoter_campaign_id": link, "percentage": 120}]}),
            json!({"split_details": ["percentage must be between 0 and 100"]}),
        ),
        (
            json!({"split_details": [{"promoter_campaign_id": link, "percentage": -1}]}),
            json!({"split_details": ["percentage must be between 0 and 100"]}),
        ),
        (
            json!({"split_details": [
                {"promoter_campaign_id": link, "percentage": 60},
                {"promoter_campaign_id": link + 1, "percentage": 50},
            ]}),
            json!({"split_details": ["percentages must not add up to more than 100"]}),
        ),
        (
            json!({"split_details": [{"promoter_campaign_id": 777, "percentage": 10}]}),
            json!({"split_details": ["promoter campaign 777 does not exist"]}),
        ),
        (
            json!({"fraud_check": "very_suspicious"}),
            json!({"fraud_check": ["is not included in the list"]}),
        ),
    ];
    let before = sandbox.referral(5001).await;
    for (body, errors) in cases {
        let answer = sandbox.put("/referrals/5001", body.clone()).await;
        assert_eq!(answer.field_errors(), errors, "{body}");
    }
    assert_eq!(sandbox.referral(5001).await, before, "nothing changed");

    let all_at_once = sandbox
        .put(
            "/referrals/5001",
            json!({
                "email": "bad@",
                "promoter_campaign_id": 1,
                "split_details": [{"promoter_campaign_id": 9, "percentage": 101}],
                "fraud_check": "x",
            }),
        )
        .await
        .field_errors();
    assert_eq!(
        keys(&all_at_once),
        [
            "email",
            "promoter_campaign_id",
            "split_details",
            "fraud_check"
        ]
    );
    assert_eq!(
        all_at_once["split_details"],
        json!([
            "percentage must be between 0 and 100",
            "promoter campaign 9 does not exist",
        ])
    );

    for body in ["[1, 2]", "\"email\"", "not json", ""] {
        let answer = sandbox
            .request(Method::PUT, "/referrals/5001", GOOD, Some(body.into()))
            .await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(keys(&answer.body), ["message", "code"], "{body}");
        assert_eq!(answer.body["code"], "invalid_params");
    }
    assert_eq!(sandbox.referral(5001).await, before, "nothing changed");
}

#[tokio::test]
async fn approve_up_to_five_runs_at_once() {
    let sandbox = Sandbox::start(200).await;
    let all = sandbox.all_referrals().await;
    let pending_lead = first(&all, |r| r["state"] == "pending");
    let denied_customer = first(&all, |r| {
        r["state"] == "denied" && !r["customer_since"].is_null()
    });
    let denied_lead = first(&all, |r| {
        r["state"] == "denied" && r["customer_since"].is_null()
    });
    let cancelled = first(&all, |r| r["state"] == "cancelled");
    let picked = [pending_lead, denied_customer, denied_lead, cancelled];
    let answer = sandbox
        .post(
            "/referrals/approve",
            json!({"ids": [id(picked[0]), id(picked[1]), id(picked[2]), id(picked[3]), 999_999]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let batch = answer.body;
    assert_eq!(keys(&batch), BATCH_KEYS);
    assert_eq!(batch["status"], "completed");
    assert_eq!(batch["action"], "approve");
    assert_eq!(batch["action_label"], "Approve referrals");
    assert_eq!(batch["meta"], json!({}));
    assert_eq!(batch["selected_total"], 5);
    assert!(is_timestamp(&batch["updated_at"]));
    assert!(batch["updated_at"].as_str() >= batch["created_at"].as_str());
    assert_eq!(
        (
            &batch["total"],
            &batch["processed_count"],
            &batch["failed_count"],
            &batch["progress"]
        ),
        (&json!(5), &json!(5), &json!(1), &json!(100))
    );
    let errors = batch["processing_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].as_str().unwrap().contains("999999"), "{errors:?}");
    assert!(is_timestamp(&batch["created_at"]));

    let expected = ["signup", "active", "signup", "cancelled"];
    for (referral, state) in picked.iter().zip(expected) {
        assert_eq!(sandbox.referral(id(referral)).await["state"], state);
    }
    let stored = sandbox
        .get(&format!("/batch_processes/{}", id(&batch)))
        .await
        .ok();
    assert_eq!(stored, batch);

    let all_unknown = sandbox
        .post("/referrals/approve", json!({"ids": [999_998, 999_999]}))
        .await
        .ok();
    assert_eq!(
        all_unknown["status"], "completed",
        "a 200 is pending or completed, never failed"
    );
    assert_eq!(all_unknown["failed_count"], 2);
    assert_eq!(
        all_unknown["processing_errors"].as_array().unwrap().len(),
        2
    );
    assert!(id(&all_unknown) > id(&batch));
}

#[tokio::test]
async fn approving_eight_runs_in_the_background_at_a_visible_pace() {
    let sandbox = Sandbox::start(300).await;
    let all = sandbox.all_referrals().await;
    let waiting: Vec<&Value> = all
        .iter()
        .filter(|r| r["state"] == "pending" || r["state"] == "denied")
        .take(8)
        .collect();
    assert_eq!(waiting.len(), 8);
    let answer = sandbox
        .post(
            "/referrals/approve",
            json!({"ids": waiting.iter().map(|r| id(r)).collect::<Vec<_>>()}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED);
    assert_eq!(answer.body["status"], "pending");
    assert_eq!(
        (
            &answer.body["total"],
            &answer.body["processed_count"],
            &answer.body["progress"]
        ),
        (&json!(8), &json!(0), &json!(0))
    );
    let seen = sandbox.wait_for_batch(id(&answer.body)).await;
    let last = seen.last().unwrap();
    assert_eq!(last["status"], "completed");
    assert_eq!(
        (
            &last["processed_count"],
            &last["failed_count"],
            &last["progress"]
        ),
        (&json!(8), &json!(0), &json!(100))
    );
    assert!(
        seen.iter().any(|b| b["status"] == "in_progress"
            && (1..8).contains(&b["processed_count"].as_i64().unwrap())),
        "progress was visible: {seen:?}"
    );
    let counts: Vec<i64> = seen
        .iter()
        .map(|b| b["processed_count"].as_i64().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    for referral in waiting {
        let now = sandbox.referral(id(referral)).await;
        let expected = if referral["customer_since"].is_null() {
            "signup"
        } else {
            "active"
        };
        assert_eq!(now["state"], expected, "{}", id(referral));
    }
}

#[tokio::test]
async fn disable_enable_and_move_to_promoter() {
    let sandbox = Sandbox::start(120).await;
    let all = sandbox.all_referrals().await;
    let customer = first(&all, |r| r["state"] == "active");
    let lead = first(&all, |r| r["state"] == "signup");
    let pending = first(&all, |r| r["state"] == "pending");
    let pair = json!({"ids": [id(customer), id(lead)]});

    let disabled = sandbox.post("/referrals/disable", pair.clone()).await.ok();
    assert_eq!(
        (&disabled["status"], &disabled["action"]),
        (&json!("completed"), &json!("disable"))
    );
    for r in [customer, lead] {
        assert_eq!(sandbox.referral(id(r)).await["state"], "denied");
    }
    let enabled = sandbox
        .post(
            "/referrals/enable",
            json!({"ids": [id(customer), id(lead), id(pending)]}),
        )
        .await
        .ok();
    assert_eq!(enabled["processed_count"], 3);
    assert_eq!(sandbox.referral(id(customer)).await["state"], "active");
    assert_eq!(sandbox.referral(id(lead)).await["state"], "signup");
    assert_eq!(
        sandbox.referral(id(pending)).await["state"],
        "pending",
        "enable only touches denied referrals"
    );

    let target = sandbox
        .links()
        .await
        .into_iter()
        .find(|l| l["id"] != customer["promoter_campaign"]["id"])
        .unwrap();
    let moved = sandbox
        .post(
            "/referrals/move_to_promoter",
            json!({"ids": [id(customer)], "promoter_campaign_id": target["id"],
                   "move_associated_commissions": true}),
        )
        .await
        .ok();
    assert_eq!(
        (&moved["action"], &moved["action_label"]),
        (
            &json!("move_to_promoter"),
            &json!("Move referrals to promoter")
        )
    );
    assert_eq!(
        moved["meta"],
        json!({"promoter_campaign_id": target["id"], "move_associated_commissions": true})
    );
    let after = sandbox.referral(id(customer)).await;
    assert_eq!(after["promoter_campaign"]["id"], target["id"]);
    assert_eq!(after["promoter_campaign"]["promoter"], target["promoter"]);
    assert_eq!(after["state"], "active", "moving keeps the state");
}

#[tokio::test]
async fn batch_bodies_are_checked() {
    let sandbox = Sandbox::start(10).await;
    for path in [
        "/referrals/approve",
        "/referrals/disable",
        "/referrals/enable",
    ] {
        for body in [json!({}), json!({"ids": []}), json!({"ids": null})] {
            let errors = sandbox.post(path, body.clone()).await.field_errors();
            assert_eq!(errors, json!({"ids": ["can't be blank"]}), "{path} {body}");
        }
        let errors = sandbox
            .post(path, json!({"ids": "5001"}))
            .await
            .field_errors();
        assert_eq!(keys(&errors), ["ids"]);
        let errors = sandbox
            .post(path, json!({"ids": [5001, "x"]}))
            .await
            .field_errors();
        assert_eq!(keys(&errors), ["ids"]);
    }
    let move_to = "/referrals/move_to_promoter";
    let errors = sandbox
        .post(move_to, json!({"ids": [5001]}))
        .await
        .field_errors();
    assert_eq!(errors, json!({"promoter_campaign_id": ["can't be blank"]}));
    let errors = sandbox
        .post(
            move_to,
            json!({"ids": [5001], "promoter_campaign_id": 4242}),
        )
        .await
        .field_errors();
    assert_eq!(errors, json!({"promoter_campaign_id": ["does not exist"]}));
    let errors = sandbox
        .post(
            move_to,
            json!({"ids": [], "promoter_campaign_id": 1001, "move_associated_commissions": "yes"}),
        )
        .await
        .field_errors();
    assert_eq!(keys(&errors), ["ids", "move_associated_commissions"]);
    let answer = sandbox
        .request(
            Method::POST,
            "/referrals/approve",
            GOOD,
            Some("[5001]".into()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(keys(&answer.body), ["message", "code"]);

    let repeated = sandbox
        .post("/referrals/disable", json!({"ids": [5001, "5001", 5002]}))
        .await
        .ok();
    assert_eq!(
        (&repeated["total"], &repeated["selected_total"]),
        (&json!(2), &json!(3)),
        "repeats count once in total, every time in selected_total"
    );

    for path in ["/batch_processes/424242", "/batch_processes/abc"] {
        sandbox.get(path).await.assert_error(
            StatusCode::NOT_FOUND,
            "Batch process not found",
            "not_found",
        );
    }
}

#[tokio::test]
async fn promoter_campaigns_list_and_search() {
    let sandbox = Sandbox::start(20).await;
    let links = sandbox.links().await;
    assert!(links.len() >= 25, "{}", links.len());
    assert_eq!(
        ids(&links),
        (1001..1001 + links.len() as i64).collect::<Vec<_>>()
    );
    for link in &links {
        assert_link_keys(link, LISTED_LINK_KEYS);
    }
    let campaigns: HashSet<&str> = links
        .iter()
        .map(|l| l["campaign"]["name"].as_str().unwrap())
        .collect();
    assert!(campaigns.contains("Partner Program"), "{campaigns:?}");
    let default_page = sandbox.get("/promoter_campaigns").await.array();
    assert_eq!(default_page.len(), 20);
    let page_two = sandbox
        .get("/promoter_campaigns?per_page=10&page=2")
        .await
        .array();
    assert_eq!(page_two, links[10..20]);
    assert!(
        sandbox
            .get("/promoter_campaigns?page=50")
            .await
            .array()
            .is_empty()
    );

    let search = |q: &str| {
        let url = format!("/promoter_campaigns/search?q={}", encode(q));
        let sandbox = &sandbox;
        async move { sandbox.get(&url).await.array() }
    };
    let partner = search("PARTNER program").await;
    let partner_links = links
        .iter()
        .filter(|l| l["campaign"]["name"] == "Partner Program")
        .count();
    assert_eq!(partner.len(), partner_links.min(5));
    assert!(
        partner
            .iter()
            .all(|l| l["campaign"]["name"] == "Partner Program")
    );
    let gmail = search("gmail").await;
    assert!(gmail.len() <= 5 && !gmail.is_empty());
    assert!(
        gmail
            .iter()
            .all(|l| l["promoter"]["email"].as_str().unwrap().contains("gmail"))
    );
    let someone = &links[7];
    let name = someone["promoter"]["name"].as_str().unwrap().to_lowercase();
    let by_name = search(&name).await;
    assert!(
        by_name.iter().any(|l| l["id"] == someone["id"]),
        "{by_name:?}"
    );
    assert!(search("nobody-at-all").await.is_empty());
    for path in [
        "/promoter_campaigns/search",
        "/promoter_campaigns/search?q=",
    ] {
        let errors = sandbox.get(path).await.field_errors();
        assert_eq!(
            errors,
            json!({"q": ["can't be blank: say what to search for"]}),
            "{path}"
        );
    }
}

#[tokio::test]
async fn split_percentages_are_whole_numbers() {
    let sandbox = Sandbox::start(30).await;
    let before = sandbox.referral(5002).await;
    let partners: Vec<Value> = sandbox
        .links()
        .await
        .into_iter()
        .filter(|l| l["id"] != before["promoter_campaign"]["id"])
        .take(2)
        .collect();
    let share = |link: &Value, percentage: Value| json!({"promoter_campaign_id": link["id"], "percentage": percentage});
    for bad in [json!(33.5), json!(0.5), json!(99.99), json!("25")] {
        let errors = sandbox
            .put(
                "/referrals/5002",
                json!({"split_details": [share(&partners[0], bad.clone())]}),
            )
            .await
            .field_errors();
        assert_eq!(
            errors,
            json!({"split_details": ["percentage must be a whole number"]}),
            "{bad}"
        );
    }
    assert_eq!(sandbox.referral(5002).await, before, "nothing changed");

    let body = json!({"split_details": [share(&partners[0], json!(25.0)), share(&partners[1], json!(40))]});
    let answer = sandbox.put("/referrals/5002", body).await;
    let text = answer.body.to_string();
    let after = answer.ok();
    let percentages: Vec<&Value> = after["split_details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["percentage"])
        .collect();
    assert_eq!(percentages, [&json!(25), &json!(40)]);
    assert!(percentages.iter().all(|p| p.is_u64()), "{text}");
    assert!(!text.contains("25.0"), "answered as an integer: {text}");
    assert_eq!(sandbox.referral(5002).await, after, "stored as an integer");
}

#[tokio::test]
async fn a_split_shares_with_other_promoter_campaigns_only() {
    let sandbox = Sandbox::start(30).await;
    let before = sandbox.referral(5004).await;
    let own = before["promoter_campaign"]["id"].as_i64().unwrap();
    let others: Vec<i64> = ids(&sandbox.links().await)
        .into_iter()
        .filter(|l| *l != own)
        .take(2)
        .collect();
    let (partner, third) = (others[0], others[1]);
    let own_refused = |link: i64| {
        json!({"split_details": [format!(
            "promoter campaign {link} is the referral's own: it keeps what the others do not share"
        )]})
    };
    for split in [
        json!([{"promoter_campaign_id": own, "percentage": 20}]),
        json!([{"promoter_campaign_id": partner, "percentage": 20},
               {"promoter_campaign_id": own, "percentage": 30}]),
    ] {
        let errors = sandbox
            .put("/referrals/5004", json!({"split_details": split}))
            .await
            .field_errors();
        assert_eq!(errors, own_refused(own));
    }
    let moving_onto_the_partner = json!({
        "promoter_campaign_id": partner,
        "split_details": [{"promoter_campaign_id": partner, "percentage": 10}],
    });
    let errors = sandbox
        .put("/referrals/5004", moving_onto_the_partner)
        .await
        .field_errors();
    assert_eq!(errors, own_refused(partner), "own means after the change");
    assert_eq!(sandbox.referral(5004).await, before, "nothing changed");

    let swapped = sandbox
        .put(
            "/referrals/5004",
            json!({
                "promoter_campaign_id": partner,
                "split_details": [{"promoter_campaign_id": own, "percentage": 10},
                                  {"promoter_campaign_id": third, "percentage": 5}],
            }),
        )
        .await
        .ok();
    assert_eq!(swapped["promoter_campaign"]["id"], partner);
    let split_links = |r: &Value| -> Vec<i64> {
        r["split_details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["promoter_campaign_id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(split_links(&swapped), [own, third]);

    let moved_to_third = sandbox
        .put("/referrals/5004", json!({"promoter_campaign_id": third}))
        .await
        .ok();
    assert_eq!(moved_to_third["promoter_campaign"]["id"], third);
    assert_eq!(
        split_links(&moved_to_third),
        [own],
        "the partner that became the referral's own leaves the split"
    );

    let batch = sandbox
        .post(
            "/referrals/move_to_promoter",
            json!({"ids": [5004], "promoter_campaign_id": own}),
        )
        .await
        .ok();
    assert_eq!(batch["meta"]["move_associated_commissions"], false);
    let back = sandbox.referral(5004).await;
    assert_eq!(back["promoter_campaign"]["id"], own);
    assert_eq!(
        back["split_details"],
        json!([]),
        "a batch move does the same"
    );
}

#[tokio::test]
async fn the_same_fraud_check_cannot_be_set_twice_unless_cleared() {
    let sandbox = Sandbox::start(10).await;
    let current = sandbox.referral(5001).await["fraud_check"]
        .as_str()
        .unwrap()
        .to_owned();
    let again = |value: &str| {
        json!({"fraud_check": [format!(
            "is already {value}: clear it (null) before setting it again"
        )]})
    };
    let errors = sandbox
        .put("/referrals/5001", json!({"fraud_check": current}))
        .await
        .field_errors();
    assert_eq!(errors, again(&current));
    let other = if current == "ad_source" {
        "same_ip_suspicion"
    } else {
        "ad_source"
    };
    let set = |value: Value| {
        let sandbox = &sandbox;
        async move {
            sandbox
                .put("/referrals/5001", json!({"fraud_check": value}))
                .await
        }
    };
    assert_eq!(set(json!(other)).await.ok()["fraud_check"], other);
    assert_eq!(set(json!(other)).await.field_errors(), again(other));
    assert_eq!(set(Value::Null).await.ok()["fraud_check"], Value::Null);
    assert_eq!(sandbox.referral(5001).await["fraud_check"], Value::Null);
    assert_eq!(
        set(Value::Null).await.ok()["fraud_check"],
        Value::Null,
        "clearing twice is fine"
    );
    assert_eq!(set(json!(other)).await.ok()["fraud_check"], other);
}

#[tokio::test]
async fn rate_limit_is_per_account_with_retry_after() {
    let sandbox = Sandbox::start_changed(5, |base| SandboxConfig {
        rate_limit: 3,
        ..base
    })
    .await;
    for _ in 0..3 {
        let answer = sandbox.get("/referrals?per_page=1").await;
        assert_eq!(answer.status, StatusCode::OK);
        assert!(!answer.headers.contains_key("retry-after"));
    }
    let refused = sandbox
        .put("/referrals/5001", json!({"username": "x"}))
        .await;
    refused.assert_error(
        StatusCode::TOO_MANY_REQUESTS,
        "Rate limit exceeded",
        "rate_limited",
    );
    let retry_after = refused.header("retry-after");
    // The window ends within a minute; Retry-After counts to the whole second after that.
    assert!((1..=61).contains(&retry_after), "{retry_after}");
    let stranger = sandbox
        .request(Method::GET, "/referrals", OTHER_ACCOUNT, None)
        .await;
    assert_eq!(stranger.status, StatusCode::UNAUTHORIZED, "own window");
    let v1 = sandbox
        .client
        .get(format!("{}/referrals", sandbox.running.v1_base_url()))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(v1.status(), StatusCode::OK, "v1 counts separately");
    let still = sandbox.get("/referrals/5001").await;
    assert_eq!(still.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_short_rate_window_reopens_after_retry_after() {
    let sandbox = Sandbox::start_changed(5, |base| SandboxConfig {
        rate_limit: 3,
        rate_window: Duration::from_secs(2),
        ..base
    })
    .await;
    for _ in 0..3 {
        sandbox.get("/referrals?per_page=1").await.ok();
    }
    let refused = sandbox.get("/referrals?per_page=1").await;
    refused.assert_error(
        StatusCode::TOO_MANY_REQUESTS,
        "Rate limit exceeded",
        "rate_limited",
    );
    let retry_after = refused.header("retry-after");
    assert!(
        (1..=3).contains(&retry_after),
        "a two-second window, not a minute: {retry_after}"
    );
    tokio::time::sleep(Duration::from_secs(u64::try_from(retry_after).unwrap())).await;
    for _ in 0..3 {
        sandbox.get("/referrals?per_page=1").await.ok();
    }
    let again = sandbox.get("/referrals?per_page=1").await;
    assert_eq!(
        again.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the new window has the same limit"
    );
}

#[tokio::test]
async fn a_write_delay_holds_writes_but_not_reads() {
    const DELAY: Duration = Duration::from_millis(800);
    let sandbox = Sandbox::start_changed(5, |base| SandboxConfig {
        write_delay: DELAY,
        ..base
    })
    .await;
    let before = sandbox.referral(5001).await;
    let put = assert_put_waits_but_not_reads(
        DELAY,
        sandbox.put("/referrals/5001", json!({"username": "delayed"})),
        sandbox.get("/referrals/5001"),
        &before,
    )
    .await;
    assert_eq!(put.ok()["username"], "delayed");
    assert_eq!(sandbox.referral(5001).await["username"], "delayed");

    let started = Instant::now();
    let batch = sandbox
        .post("/referrals/approve", json!({"ids": [5002]}))
        .await
        .ok();
    assert_eq!(batch["status"], "completed");
    assert!(started.elapsed() >= DELAY, "batch POSTs wait too");
}

#[tokio::test]
async fn chaos_refuses_writes_without_changing_anything_until_turned_off() {
    let sandbox = Sandbox::start_changed(5, |base| SandboxConfig { chaos: 1.0, ..base }).await;
    let before = sandbox.all_referrals().await;
    let link = sandbox.links().await.remove(1);
    let writes = [
        ("PUT", "/referrals/5001", json!({"username": "chaos"})),
        ("POST", "/referrals/approve", json!({"ids": [5001, 5002]})),
        ("POST", "/referrals/disable", json!({"ids": [5001, 5002]})),
        ("POST", "/referrals/enable", json!({"ids": [5001, 5002]})),
        (
            "POST",
            "/referrals/move_to_promoter",
            json!({"ids": [5001], "promoter_campaign_id": link["id"]}),
        ),
    ];
    for (method, path, body) in &writes {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        sandbox
            .request(method, path, GOOD, Some(body.to_string()))
            .await
            .assert_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Injected failure (chaos)",
                "server_error",
            );
    }
    assert_eq!(
        sandbox.all_referrals().await,
        before,
        "reads still answer, and show nothing changed"
    );
    sandbox.get("/batch_processes/1").await.assert_error(
        StatusCode::NOT_FOUND,
        "Batch process not found",
        "not_found",
    );

    sandbox.running.set_chaos(0.0);
    let changed = sandbox
        .put("/referrals/5001", json!({"username": "calm"}))
        .await
        .ok();
    assert_eq!(changed["username"], "calm");
    assert_eq!(sandbox.referral(5001).await, changed);
    let batch = sandbox
        .post("/referrals/disable", json!({"ids": [5002]}))
        .await
        .ok();
    assert_eq!(
        (&batch["id"], &batch["status"]),
        (&json!(1), &json!("completed"))
    );
    assert_eq!(sandbox.referral(5002).await["state"], "denied");
}

#[tokio::test]
async fn one_server_serves_v1_and_v2_from_one_file() {
    let sandbox = Sandbox::start(12).await;
    let v1 = sandbox
        .client
        .get(format!("{}/referrals", sandbox.running.v1_base_url()))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(v1.status(), StatusCode::OK);
    let v1_body: Value = v1.json().await.unwrap();
    assert_eq!(v1_body["referrals"].as_array().unwrap().len(), 12);
    assert_eq!(sandbox.all_referrals().await.len(), 12);
    assert_eq!(
        sandbox.running.v2_base_url(),
        format!("http://{}/api/v2/company", sandbox.running.addr())
    );

    let conn = rusqlite::Connection::open(sandbox.dir.path().join("sandbox.db")).unwrap();
    let count = |table: &str| -> i64 {
        conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| {
            row.get(0)
        })
        .unwrap()
    };
    assert_eq!((count("v1_referrals"), count("v2_referrals")), (12, 12));
}

#[tokio::test]
async fn restarts_keep_changes_and_batches_and_stop_unfinished_ones() {
    let dir = TempDir::new().unwrap();
    let sandbox = Sandbox::start_with(config(&dir, 30), dir).await;
    let changed = sandbox
        .put("/referrals/5005", json!({"username": "kept_user"}))
        .await
        .ok();
    let small = sandbox
        .post("/referrals/disable", json!({"ids": [5001]}))
        .await
        .ok();
    let denied_among_big = |rows: &[Value]| {
        rows.iter()
            .filter(|r| (5010..5030).contains(&id(r)) && r["state"] == "denied")
            .count() as i64
    };
    let denied_before = denied_among_big(&sandbox.all_referrals().await);
    let big = sandbox
        .post(
            "/referrals/disable",
            json!({"ids": (5010..5030).collect::<Vec<_>>()}),
        )
        .await;
    assert_eq!(big.status, StatusCode::ACCEPTED);
    let Sandbox { running, dir, .. } = sandbox;
    running.shutdown().await;

    let again = Sandbox::start_with(config(&dir, 400), dir).await;
    assert_eq!(again.all_referrals().await.len(), 30, "not seeded again");
    assert_eq!(again.referral(5005).await, changed);
    let stored = again
        .get(&format!("/batch_processes/{}", id(&small)))
        .await
        .ok();
    assert_eq!(stored, small);
    let stopped = again
        .get(&format!("/batch_processes/{}", id(&big.body)))
        .await
        .ok();
    assert_eq!(stopped["status"], "stopped");
    let processed = stopped["processed_count"].as_i64().unwrap();
    assert!(processed < 20, "{processed}");
    let denied_after = denied_among_big(&again.all_referrals().await);
    assert!(denied_after <= denied_before + processed);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let later = again
        .get(&format!("/batch_processes/{}", id(&big.body)))
        .await
        .ok();
    assert_eq!(later, stopped, "the old run no longer works on it");
}

#[tokio::test]
async fn the_same_seed_gives_the_same_data_and_zero_gives_none() {
    let (a, b) = (Sandbox::start(90).await, Sandbox::start(90).await);
    assert_eq!(a.all_referrals().await, b.all_referrals().await);
    assert_eq!(a.links().await, b.links().await);
    let empty = Sandbox::start(0).await;
    assert!(empty.get("/referrals").await.array().is_empty());
    assert!(empty.links().await.is_empty());
}

#[tokio::test]
async fn a_database_from_an_older_referee_is_refused_with_what_to_do() {
    let dir = TempDir::new().unwrap();
    let config = config(&dir, 5);
    let old = rusqlite::Connection::open(&config.db_path).unwrap();
    old.execute_batch("CREATE TABLE v2_referrals (id INTEGER PRIMARY KEY, email TEXT)")
        .unwrap();
    drop(old);
    let err = referee::sandbox::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .err()
        .expect("an older layout is refused");
    let message = format!("{err:#}");
    assert!(
        message.contains("made by an older referee")
            && message.contains("v2_referrals")
            && message.contains("--reset-demo"),
        "{message}"
    );
}

// `--quirks`: each test starts a plain sandbox and a quirky one from the same seed (the same data)
// and compares what they answer.

#[tokio::test]
async fn quirk_nulls_leaves_the_gaps_the_spec_allows() {
    let plain = Sandbox::start(40).await;
    let quirky = Sandbox::with_quirks(40, &[Quirk::Nulls]).await;
    let (expected, rows) = (
        plain.get("/referrals").await.array(),
        quirky.get("/referrals").await.array(),
    );
    assert_eq!(ids(&rows), ids(&expected));
    let without = |referral: &Value, key: &str| {
        let mut referral = referral.as_object().unwrap().clone();
        referral.shift_remove(key);
        Value::Object(referral)
    };
    let first_shares_gapped = |referral: &Value| {
        let mut referral = referral.clone();
        for share in referral["split_details"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .step_by(2)
        {
            share
                .as_object_mut()
                .unwrap()
                .shift_remove("promoter_campaign_id");
        }
        referral
    };
    for (plain_row, row) in expected.iter().zip(&rows) {
        let mut want = first_shares_gapped(plain_row);
        match id(plain_row) % 4 {
            1 => {
                want["email"] = Value::Null;
                want["username"] = Value::Null;
            }
            2 => want = without(&want, "state"),
            3 => want["promoter_campaign"] = without(&want["promoter_campaign"], "id"),
            _ => {}
        }
        assert_eq!(row, &want, "{}", id(plain_row));
    }
    assert!(!rows[1].as_object().unwrap().contains_key("state"), "5002");
    assert_eq!(quirky.referral(5001).await["email"], Value::Null);
    assert!(
        !quirky.referral(5003).await["promoter_campaign"]
            .as_object()
            .unwrap()
            .contains_key("id")
    );

    let partners: Vec<Value> = quirky
        .links()
        .await
        .into_iter()
        .filter(|l| l["id"] != expected[3]["promoter_campaign"]["id"])
        .take(2)
        .collect();
    let split = json!({"split_details": [
        {"promoter_campaign_id": partners[0]["id"], "percentage": 20},
        {"promoter_campaign_id": partners[1]["id"], "percentage": 30},
    ]});
    let after = quirky.put("/referrals/5004", split).await.ok();
    assert_eq!(
        after["split_details"],
        json!([{"promoter_id": partners[0]["promoter_id"], "percentage": 20},
               {"promoter_campaign_id": partners[1]["id"],
                "promoter_id": partners[1]["promoter_id"], "percentage": 30}]),
        "the first share has no promoter_campaign_id, the second has"
    );
}

#[tokio::test]
async fn quirk_string_ids_answers_ids_and_percentages_as_strings() {
    let plain = Sandbox::start(60).await;
    let quirky = Sandbox::with_quirks(60, &[Quirk::StringIds]).await;
    let rows = quirky.get("/referrals?per_page=100").await.array();
    let expected = plain.get("/referrals?per_page=100").await.array();
    let text = |value: &Value| Value::String(value.to_string());
    for (row, want) in rows.iter().zip(&expected) {
        assert_eq!(row["id"], text(&want["id"]));
        let (link, want_link) = (&row["promoter_campaign"], &want["promoter_campaign"]);
        for key in ["id", "campaign_id", "promoter_id"] {
            assert_eq!(link[key], text(&want_link[key]), "{key}");
        }
        assert_eq!(link["promoter"]["id"], text(&want_link["promoter"]["id"]));
        assert_eq!(link["campaign"]["id"], text(&want_link["campaign"]["id"]));
        assert_eq!(row["email"], want["email"], "other fields as they were");
    }
    let with_split = first(&rows, |r| {
        !r["split_details"].as_array().unwrap().is_empty()
    });
    let share = &with_split["split_details"][0];
    assert!(
        share["promoter_campaign_id"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .is_ok()
    );
    assert!(share["promoter_id"].is_string());
    let percentage = share["percentage"].as_str().unwrap();
    assert!(percentage.ends_with(".0"), "{percentage}");

    let batch = quirky
        .post("/referrals/disable", json!({"ids": ["5001", 5002]}))
        .await
        .ok();
    assert_eq!((&batch["id"], &batch["total"]), (&json!("1"), &json!(2)));
    assert_eq!(quirky.get("/batch_processes/1").await.ok()["id"], "1");
    assert_eq!(quirky.links().await[0]["id"], "1001");
    assert_eq!(quirky.referral(5001).await["id"], "5001");
}

#[tokio::test]
async fn quirk_no_paging_answers_the_first_page_every_time() {
    let sandbox = Sandbox::with_quirks(45, &[Quirk::NoPaging]).await;
    let first_page = sandbox.get("/referrals").await.array();
    assert_eq!(ids(&first_page), (5001..5021).collect::<Vec<_>>());
    for query in ["page=2", "page=3&per_page=5", "per_page=100", "page=9"] {
        let rows = sandbox.get(&format!("/referrals?{query}")).await.array();
        assert_eq!(rows, first_page, "{query}");
    }
    let filtered = sandbox
        .get("/referrals?page=2&filters[type]=lead")
        .await
        .array();
    assert!(
        filtered.iter().all(|r| r["customer_since"].is_null()) && !filtered.is_empty(),
        "other parameters still count"
    );
    let links = sandbox.get("/promoter_campaigns").await.array();
    assert_eq!(
        sandbox.get("/promoter_campaigns?page=2").await.array(),
        links
    );
}

#[tokio::test]
async fn quirk_broken_rows_makes_one_referral_per_page_unreadable() {
    let sandbox = Sandbox::with_quirks(30, &[Quirk::BrokenRows]).await;
    for page in [1, 2] {
        let rows = sandbox
            .get(&format!("/referrals?per_page=10&page={page}"))
            .await
            .array();
        let first_id = 5001 + (page - 1) * 10;
        assert_eq!(rows[1]["id"], json!({"id": first_id + 1}), "page {page}");
        for (n, row) in rows.iter().enumerate().filter(|(n, _)| *n != 1) {
            assert_eq!(row["id"], json!(first_id + n as i64), "page {page}");
        }
    }
    let one = sandbox.get("/referrals?ids[]=5007").await.array();
    assert_eq!(
        one[0]["id"],
        json!({"id": 5007}),
        "a one-row page breaks its row"
    );
    assert!(sandbox.get("/referrals?page=9").await.array().is_empty());
    assert_eq!(
        sandbox.referral(5002).await["id"],
        5002,
        "a single GET is fine"
    );
}

#[tokio::test]
async fn quirk_slow_batches_stay_pending_with_odd_counters() {
    let sandbox = Sandbox::with_quirks(30, &[Quirk::SlowBatches]).await;
    let before = sandbox.all_referrals().await;
    let small = sandbox
        .post("/referrals/disable", json!({"ids": [5001, 5002]}))
        .await;
    assert_eq!(small.status, StatusCode::OK, "a 200 may be pending");
    assert_eq!(
        (
            &small.body["status"],
            &small.body["processed_count"],
            &small.body["processing_errors"]
        ),
        (&json!("pending"), &Value::Null, &Value::Null)
    );
    let big = sandbox
        .post(
            "/referrals/disable",
            json!({"ids": (5001..5011).collect::<Vec<_>>()}),
        )
        .await;
    assert_eq!(big.status, StatusCode::ACCEPTED);
    assert_eq!(big.body["status"], "pending");
    tokio::time::sleep(Duration::from_millis(600)).await;
    for batch in [&small.body, &big.body] {
        let polled = sandbox
            .get(&format!("/batch_processes/{}", id(batch)))
            .await
            .ok();
        assert_eq!(
            (
                &polled["status"],
                &polled["processed_count"],
                &polled["processing_errors"],
                &polled["progress"]
            ),
            (&json!("pending"), &json!(-1), &Value::Null, &json!(0))
        );
    }
    assert_eq!(sandbox.all_referrals().await, before, "nothing ran");
}

#[tokio::test]
async fn quirk_forbidden_writes_answers_403_and_changes_nothing() {
    let sandbox = Sandbox::with_quirks(10, &[Quirk::ForbiddenWrites]).await;
    let before = sandbox.all_referrals().await;
    let writes = [
        (Method::PUT, "/referrals/5001", json!({"username": "nope"})),
        (Method::POST, "/referrals/approve", json!({"ids": [5001]})),
        (Method::POST, "/referrals/disable", json!({"ids": [5001]})),
        (Method::POST, "/referrals/enable", json!({"ids": [5001]})),
        (
            Method::POST,
            "/referrals/move_to_promoter",
            json!({"ids": [5001], "promoter_campaign_id": 1002}),
        ),
    ];
    for (method, path, body) in writes {
        sandbox
            .request(method, path, GOOD, Some(body.to_string()))
            .await
            .assert_error(StatusCode::FORBIDDEN, "Forbidden", "forbidden");
    }
    assert_eq!(sandbox.all_referrals().await, before);
    sandbox
        .request(
            Method::PUT,
            "/referrals/5001",
            OTHER_ACCOUNT,
            Some("{}".into()),
        )
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "Unauthorized", "unauthorized");
    sandbox
        .request(Method::POST, "/referrals", GOOD, Some("{}".into()))
        .await
        .assert_error(StatusCode::NOT_FOUND, "Not found", "not_found");
}

#[tokio::test]
async fn quirk_truncated_cuts_list_answers_off_halfway() {
    let plain = Sandbox::start(30).await;
    let quirky = Sandbox::with_quirks(30, &[Quirk::Truncated]).await;
    for path in ["/referrals?per_page=30", "/promoter_campaigns"] {
        let whole = plain.get(path).await.body.to_string().into_bytes();
        let cut = send_partial(quirky.builder(Method::GET, path, GOOD)).await;
        assert_eq!(cut.status, StatusCode::OK, "{path}");
        assert_eq!(cut.declared, Some(whole.len() as u64), "{path}");
        assert!(cut.cut, "{path}: reading the body fails");
        assert_eq!(cut.received, whole[..whole.len() / 2], "{path}");
    }
    let single = send_partial(quirky.builder(Method::GET, "/referrals/5001", GOOD)).await;
    assert!(!single.cut, "a single referral is whole");
    assert_eq!(
        serde_json::from_slice::<Value>(&single.received).unwrap(),
        plain.referral(5001).await
    );
}

#[tokio::test]
async fn quirks_combine() {
    let quirky = Sandbox::with_quirks(
        30,
        &[
            Quirk::Nulls,
            Quirk::BrokenRows,
            Quirk::StringIds,
            Quirk::NoPaging,
        ],
    )
    .await;
    let rows = quirky.get("/referrals?page=2&per_page=3").await.array();
    assert_eq!(rows.len(), 20, "the first page at the default size");
    assert_eq!(rows[0]["id"], "5001");
    assert_eq!(rows[0]["email"], Value::Null);
    assert_eq!(rows[1]["id"], json!({"id": "5002"}));
    assert!(!rows[1].as_object().unwrap().contains_key("state"));
    assert!(
        !rows[2]["promoter_campaign"]
            .as_object()
            .unwrap()
            .contains_key("id")
    );
    assert!(rows[2]["promoter_campaign"]["campaign_id"].is_string());
}
