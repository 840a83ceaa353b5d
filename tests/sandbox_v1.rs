//! The sandbox's Referral API v1 over real HTTP on 127.0.0.1, each test on its own SQLite file.

mod sandbox_common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use referee::domain::MetadataMode;
use referee::sandbox::{Quirk, SandboxConfig, start};
use reqwest::{Method, RequestBuilder, StatusCode};
use sandbox_common::{
    Answer, KEY, Sandbox, assert_put_waits_but_not_reads, config, keys, local, send, send_partial,
};
use serde_json::{Value, json};
use tempfile::TempDir;

const STATUS_MESSAGE: &str =
    "Invalid status value. Must be one of: pending, converted, verified, rejected";

impl Sandbox {
    fn builder(&self, method: Method, path: &str, key: Option<&str>) -> RequestBuilder {
        let url = format!("{}{path}", self.running.v1_base_url());
        let request = self.client.request(method, url);
        match key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<String>,
    ) -> Answer {
        send(self.builder(method, path, key), body).await
    }

    async fn get(&self, path: &str) -> Answer {
        self.request(Method::GET, path, Some(KEY), None).await
    }

    async fn put(&self, path: &str, body: Value) -> Answer {
        self.request(Method::PUT, path, Some(KEY), Some(body.to_string()))
            .await
    }

    async fn post(&self, body: Value) -> Answer {
        self.request(
            Method::POST,
            "/referrals",
            Some(KEY),
            Some(body.to_string()),
        )
        .await
    }

    /// Every referral, fetched page by page.
    async fn all_referrals(&self) -> Vec<Value> {
        let mut all = Vec::new();
        loop {
            let page = self
                .get(&format!("/referrals?limit=100&offset={}", all.len()))
                .await;
            let rows = page.body["referrals"].as_array().unwrap().clone();
            let done = rows.len() < 100;
            all.extend(rows);
            if done {
                return all;
            }
        }
    }

    /// A referral, fetched fresh.
    async fn referral(&self, id: &str) -> Value {
        self.get(&format!("/referrals/{id}")).await.body
    }

    /// The first of the `/referrals`, `/users` or `/impressions` list, named by its key.
    async fn first(&self, list: &str) -> Value {
        self.get(&format!("/{list}?limit=1"))
            .await
            .list(list)
            .remove(0)
    }
}

impl Answer {
    fn assert_error(&self, status: StatusCode, message: &str) {
        let reason = status.canonical_reason().unwrap();
        assert_eq!(
            (self.status, &self.body),
            (status, &json!({"error": reason, "message": message}))
        );
    }

    fn list(self, key: &str) -> Vec<Value> {
        self.ok()[key].as_array().unwrap().clone()
    }
}

fn ids(rows: &[Value]) -> Vec<&str> {
    rows.iter().map(|r| r["id"].as_str().unwrap()).collect()
}

fn new_referral(impression_id: &str, email: &str) -> Value {
    json!({
        "impression_id": impression_id,
        "first_name": "Robin",
        "last_name": "Achterberg",
        "email": email,
    })
}

#[tokio::test]
async fn requests_without_the_right_key_are_unauthorized() {
    let sandbox = Sandbox::start(3).await;
    for key in [None, Some("sk_wrong"), Some("")] {
        for path in [
            "/referrals",
            "/referrals/ref_x",
            "/users",
            "/impressions/imp_x",
        ] {
            let answer = sandbox.request(Method::GET, path, key, None).await;
            answer.assert_error(StatusCode::UNAUTHORIZED, "Invalid or missing API key");
            assert!(answer.headers.contains_key("x-ratelimit-remaining"));
        }
    }
    let basic = sandbox
        .client
        .get(format!("{}/referrals", sandbox.running.v1_base_url()))
        .basic_auth(KEY, None::<&str>)
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    let put = sandbox
        .request(
            Method::PUT,
            "/referrals/ref_x",
            Some("sk_wrong"),
            Some("{}".into()),
        )
        .await;
    assert_eq!(put.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_json() {
    let sandbox = Sandbox::start(3).await;
    sandbox
        .get("/posters")
        .await
        .assert_error(StatusCode::NOT_FOUND, "Route not found");
    let outside = sandbox
        .client
        .get(format!("http://{}/elsewhere", sandbox.running.addr()))
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), StatusCode::NOT_FOUND);
    assert_eq!(outside.json::<Value>().await.unwrap()["error"], "Not Found");
    let delete = sandbox
        .request(Method::DELETE, "/referrals", Some(KEY), None)
        .await;
    delete.assert_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed for this route",
    );
    let post_user = sandbox
        .request(Method::POST, "/users/user_x", Some(KEY), Some("{}".into()))
        .await;
    assert_eq!(post_user.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post_user.headers["allow"], "GET,HEAD");
}

#[tokio::test]
async fn list_envelope_and_referral_objects_have_the_documented_shape() {
    let sandbox = Sandbox::start(200).await;
    let body = sandbox.get("/referrals").await.ok();
    assert_eq!(keys(&body), ["referrals"]);
    let rows = body["referrals"].as_array().unwrap();
    assert_eq!(rows.len(), 50, "default limit");
    let all = sandbox.all_referrals().await;
    let full_order = [
        "id",
        "impression_id",
        "first_name",
        "last_name",
        "email",
        "profile_picture",
        "status",
        "program_id",
        "student_id",
        "created_at",
        "verified_at",
        "updated_at",
        "metadata",
    ];
    let mut saw_picture = false;
    let mut saw_no_picture = false;
    let mut saw_no_metadata = false;
    for referral in &all {
        let present = keys(referral);
        let expected: Vec<&str> = full_order
            .iter()
            .copied()
            .filter(|k| present.contains(k) || !["profile_picture", "metadata"].contains(k))
            .collect();
        assert_eq!(present, expected, "{referral}");
        match referral.get("profile_picture") {
            Some(url) => {
                saw_picture = true;
                assert!(url.as_str().unwrap().starts_with("https://"));
            }
            None => saw_no_picture = true,
        }
        saw_no_metadata |= referral.get("metadata").is_none();
        let id = referral["id"].as_str().unwrap();
        assert_eq!(id.len(), 16);
        assert!(id.starts_with("ref_"));
        assert!(
            id[4..]
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        let created = referral["created_at"].as_str().unwrap();
        assert_eq!(created.len(), 20, "second precision UTC: {created}");
        assert!(created.ends_with('Z'));
        if referral["status"] == "verified" {
            assert!(referral["verified_at"].as_str().unwrap() > created);
            assert!(referral["metadata"]["verified_by"].is_string());
        } else {
            assert!(referral["verified_at"].is_null());
        }
    }
    assert!(saw_picture && saw_no_picture && saw_no_metadata);
    let statuses: HashSet<&str> = all.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses.len(), 4);
}

#[tokio::test]
async fn paging_over_exactly_one_hundred_rows() {
    let sandbox = Sandbox::start(100).await;
    let first = sandbox
        .get("/referrals?limit=100&offset=0")
        .await
        .list("referrals");
    assert_eq!(first.len(), 100);
    let rest = sandbox
        .get("/referrals?limit=100&offset=100")
        .await
        .list("referrals");
    assert!(rest.is_empty());
    let order: Vec<(&str, &str)> = first
        .iter()
        .map(|r| (r["created_at"].as_str().unwrap(), r["id"].as_str().unwrap()))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "created_at then id");
    let mut paged = Vec::new();
    for offset in (0..100).step_by(30) {
        let page = sandbox
            .get(&format!("/referrals?limit=30&offset={offset}"))
            .await;
        paged.extend(page.list("referrals"));
    }
    assert_eq!(
        ids(&paged),
        ids(&first),
        "pages are stable and do not overlap"
    );
}

#[tokio::test]
async fn paging_over_one_hundred_and_one_rows_and_clamping() {
    let sandbox = Sandbox::start(101).await;
    let clamped = sandbox.get("/referrals?limit=150").await.list("referrals");
    assert_eq!(clamped.len(), 100);
    let last = sandbox
        .get("/referrals?limit=100&offset=100")
        .await
        .list("referrals");
    assert_eq!(last.len(), 1);
    let all = sandbox.all_referrals().await;
    assert_eq!(all.len(), 101);
    assert_eq!(ids(&last), ids(&all[100..]));
    let huge = sandbox
        .get("/referrals?limit=99999999999999999999")
        .await
        .list("referrals");
    assert_eq!(huge.len(), 100);
    let users = sandbox.get("/users?limit=150").await.list("users");
    assert_eq!(users.len(), 40);
    let impressions = sandbox
        .get("/impressions?limit=150")
        .await
        .list("impressions");
    assert_eq!(impressions.len(), 100);
}

#[tokio::test]
async fn bad_paging_parameters_are_rejected() {
    let sandbox = Sandbox::start(5).await;
    for path in ["/referrals", "/users", "/impressions"] {
        for limit in ["0", "abc", "-3", "2.5"] {
            sandbox
                .get(&format!("{path}?limit={limit}"))
                .await
                .assert_error(
                    StatusCode::BAD_REQUEST,
                    "Invalid limit: must be a number from 1 to 100",
                );
        }
        for offset in ["-1", "ten"] {
            sandbox
                .get(&format!("{path}?offset={offset}"))
                .await
                .assert_error(
                    StatusCode::BAD_REQUEST,
                    "Invalid offset: must be a number of 0 or more",
                );
        }
    }
}

#[tokio::test]
async fn seed_zero_leaves_the_database_empty() {
    let sandbox = Sandbox::start(0).await;
    assert_eq!(
        sandbox.get("/referrals").await.ok(),
        json!({"referrals": []})
    );
    assert_eq!(sandbox.get("/users").await.ok(), json!({"users": []}));
    assert_eq!(
        sandbox.get("/impressions").await.ok(),
        json!({"impressions": []})
    );
}

#[tokio::test]
async fn filters_narrow_the_list() {
    let sandbox = Sandbox::start(300).await;
    let all = sandbox.all_referrals().await;
    let sample = &all[7];
    let program = sample["program_id"].as_str().unwrap();
    let student = sample["student_id"].as_str().unwrap();

    let in_program = sandbox
        .get(&format!("/referrals?programId={program}&limit=100"))
        .await
        .list("referrals");
    let expected: Vec<&Value> = all.iter().filter(|r| r["program_id"] == program).collect();
    assert!(!in_program.is_empty() && in_program.len() < all.len());
    assert_eq!(
        in_program.iter().collect::<Vec<_>>(),
        expected[..in_program.len()]
    );

    let by_student = sandbox
        .get(&format!("/referrals?studentId={student}&limit=100"))
        .await
        .list("referrals");
    assert!(by_student.iter().all(|r| r["student_id"] == student));
    assert!(ids(&by_student).contains(&sample["id"].as_str().unwrap()));

    for status in ["pending", "converted", "verified", "rejected"] {
        let rows = sandbox
            .get(&format!("/referrals?status={status}&limit=100"))
            .await
            .list("referrals");
        let expected = all.iter().filter(|r| r["status"] == status).count();
        assert_eq!(rows.len(), expected.min(100), "{status}");
        assert!(rows.iter().all(|r| r["status"] == status));
    }

    let combined = sandbox
        .get(&format!(
            "/referrals?programId={program}&status=verified&limit=100"
        ))
        .await
        .list("referrals");
    let expected = all
        .iter()
        .filter(|r| r["program_id"] == program && r["status"] == "verified")
        .count();
    assert_eq!(combined.len(), expected);

    let nobody = sandbox.get("/referrals?studentId=user_nobody").await;
    assert_eq!(nobody.ok(), json!({"referrals": []}));
    sandbox
        .get("/referrals?status=approved")
        .await
        .assert_error(StatusCode::BAD_REQUEST, STATUS_MESSAGE);
}

#[tokio::test]
async fn single_referral_user_and_impression() {
    let sandbox = Sandbox::start(20).await;
    let listed = sandbox.get("/referrals?limit=1").await.list("referrals");
    let id = listed[0]["id"].as_str().unwrap();
    assert_eq!(
        sandbox.get(&format!("/referrals/{id}")).await.ok(),
        listed[0]
    );
    sandbox
        .get("/referrals/ref_doesnotexist")
        .await
        .assert_error(StatusCode::NOT_FOUND, "Referral not found");

    let user_id = listed[0]["student_id"].as_str().unwrap();
    let user = sandbox.get(&format!("/users/{user_id}")).await.ok();
    assert_eq!(
        keys(&user),
        [
            "id",
            "first_name",
            "last_name",
            "email",
            "program_id",
            "created_at"
        ]
    );
    assert_eq!(user["program_id"], listed[0]["program_id"]);
    assert!(user["email"].as_str().unwrap().ends_with(".edu"));
    assert!(user["created_at"].as_str().unwrap() < listed[0]["created_at"].as_str().unwrap());
    sandbox
        .get("/users/user_nobody")
        .await
        .assert_error(StatusCode::NOT_FOUND, "User not found");

    let impression_id = listed[0]["impression_id"].as_str().unwrap();
    let impression = sandbox
        .get(&format!("/impressions/{impression_id}"))
        .await
        .ok();
    assert_eq!(
        keys(&impression),
        [
            "id",
            "poster_id",
            "program_id",
            "student_id",
            "location",
            "created_at"
        ]
    );
    assert!(
        impression["poster_id"]
            .as_str()
            .unwrap()
            .starts_with("post_")
    );
    assert_eq!(impression["student_id"], user["id"]);
    assert!(
        impression["created_at"].as_str().unwrap() <= listed[0]["created_at"].as_str().unwrap()
    );
    assert!(
        impression["location"]
            .as_str()
            .unwrap()
            .contains(|c: char| c.is_uppercase())
    );
    sandbox
        .get("/impressions/imp_nothing")
        .await
        .assert_error(StatusCode::NOT_FOUND, "Impression not found");

    let users = sandbox.get("/users?limit=100").await.list("users");
    let programs: HashSet<&str> = users
        .iter()
        .map(|u| u["program_id"].as_str().unwrap())
        .collect();
    assert_eq!(programs.len(), 3);
    assert!(
        users
            .iter()
            .all(|u| u["id"].as_str().unwrap().starts_with("user_"))
    );
    let impressions = sandbox
        .get("/impressions?limit=100")
        .await
        .list("impressions");
    assert_eq!(
        impressions.len(),
        20 + 20 / 4 + 10,
        "one scan per referral plus unused scans"
    );
    let locations: HashSet<&str> = impressions
        .iter()
        .map(|i| i["location"].as_str().unwrap())
        .collect();
    assert!(locations.len() > 5);
}

#[tokio::test]
async fn put_rejects_each_invalid_field_with_its_message() {
    let sandbox = Sandbox::start(10).await;
    let before = sandbox.first("referrals").await;
    let path = format!("/referrals/{}", before["id"].as_str().unwrap());
    let cases = [
        (
            "first_name",
            "Invalid first_name: must not be empty",
            vec![json!(""), json!("   "), Value::Null],
        ),
        (
            "last_name",
            "Invalid last_name: must not be empty",
            vec![json!("\t"), Value::Null, json!(7)],
        ),
        (
            "email",
            "Invalid email: must be a valid email address",
            vec![json!("nope"), json!("a@localhost"), Value::Null, json!(42)],
        ),
        (
            "profile_picture",
            "Invalid profile_picture: must be an http(s) URL",
            vec![
                json!("ftp://files.example.com/a.png"),
                json!("not a url"),
                json!(false),
            ],
        ),
        (
            "status",
            STATUS_MESSAGE,
            vec![json!("approved"), Value::Null],
        ),
        (
            "verified_at",
            "Invalid verified_at: must be an ISO 8601 timestamp",
            vec![
                json!("yesterday"),
                json!("2026-02-30T10:00:00Z"),
                json!(1767571200),
            ],
        ),
        (
            "metadata",
            "Invalid metadata: must be a JSON object",
            vec![Value::Null, json!("source=flyer"), json!([1, 2])],
        ),
    ];
    for (field, message, values) in cases {
        for value in values {
            sandbox
                .put(&path, json!({ field: value }))
                .await
                .assert_error(StatusCode::BAD_REQUEST, message);
        }
    }
    for raw in ["{not json", "[1, 2]", "\"text\"", ""] {
        sandbox
            .request(Method::PUT, &path, Some(KEY), Some(raw.into()))
            .await
            .assert_error(
                StatusCode::BAD_REQUEST,
                "Invalid request body: must be a JSON object",
            );
    }
    sandbox
        .put("/referrals/ref_missing00000", json!({"status": "verified"}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "Referral not found");
    assert_eq!(
        sandbox.referral(before["id"].as_str().unwrap()).await,
        before,
        "nothing changed"
    );
}

#[tokio::test]
async fn put_rejects_an_email_used_in_the_same_program() {
    let sandbox = Sandbox::start(120).await;
    let all = sandbox.all_referrals().await;
    let first = &all[0];
    let same_program = all[1..]
        .iter()
        .find(|r| r["program_id"] == first["program_id"])
        .unwrap();
    let other_program = all
        .iter()
        .find(|r| r["program_id"] != first["program_id"])
        .unwrap();
    let taken = first["email"].as_str().unwrap().to_uppercase();

    let path = |r: &Value| format!("/referrals/{}", r["id"].as_str().unwrap());
    sandbox
        .put(&path(same_program), json!({"email": taken}))
        .await
        .assert_error(
            StatusCode::BAD_REQUEST,
            "Invalid email: already used by another referral in this program",
        );
    let moved = sandbox
        .put(&path(other_program), json!({"email": taken}))
        .await
        .ok();
    assert_eq!(moved["email"], taken.as_str());
    let own = sandbox
        .put(&path(first), json!({"email": taken}))
        .await
        .ok();
    assert_eq!(
        own["email"],
        taken.as_str(),
        "its own address in another case is fine"
    );
}

#[tokio::test]
async fn put_updates_fields_and_clears_with_null() {
    let sandbox = Sandbox::start(200).await;
    let all = sandbox.all_referrals().await;
    let verified = all
        .iter()
        .find(|r| r["status"] == "verified" && r.get("profile_picture").is_some())
        .unwrap();
    let id = verified["id"].as_str().unwrap();
    let path = format!("/referrals/{id}");

    let cleared = sandbox
        .put(&path, json!({"verified_at": null, "profile_picture": null, "status": "converted", "nickname": "ignored"}))
        .await
        .ok();
    assert!(cleared["verified_at"].is_null());
    assert!(cleared.get("profile_picture").is_none());
    assert!(cleared.get("nickname").is_none());
    assert_eq!(cleared["status"], "converted");
    assert_ne!(cleared["updated_at"], verified["updated_at"]);
    assert!(cleared["updated_at"].as_str().unwrap() > verified["created_at"].as_str().unwrap());
    assert_eq!(cleared["metadata"], verified["metadata"]);
    assert_eq!(sandbox.referral(id).await, cleared, "stored as answered");

    let updated = sandbox
        .put(
            &path,
            json!({
                "first_name": "Ana María",
                "last_name": "O'Neil",
                "email": "ana.oneil@example.org",
                "profile_picture": "https://cdn.example.org/p/ana.jpg",
                "status": "verified",
                "verified_at": "2026-06-01T14:20:00.750+02:00",
            }),
        )
        .await
        .ok();
    assert_eq!(updated["first_name"], "Ana María");
    assert_eq!(updated["last_name"], "O'Neil");
    assert_eq!(updated["email"], "ana.oneil@example.org");
    assert_eq!(
        updated["profile_picture"],
        "https://cdn.example.org/p/ana.jpg"
    );
    assert_eq!(updated["status"], "verified");
    assert_eq!(
        updated["verified_at"], "2026-06-01T12:20:00Z",
        "normalized to UTC seconds"
    );
    for unchanged in [
        "id",
        "impression_id",
        "program_id",
        "student_id",
        "created_at",
    ] {
        assert_eq!(updated[unchanged], verified[unchanged], "{unchanged}");
    }
    assert_eq!(sandbox.referral(id).await, updated);

    let empty = sandbox.put(&path, json!({})).await.ok();
    assert_eq!(empty["first_name"], "Ana María");
}

#[tokio::test]
async fn merge_mode_shallow_merges_and_stores_nulls() {
    let sandbox = Sandbox::start(50).await;
    let all = sandbox.all_referrals().await;
    let with_metadata = all
        .iter()
        .find(|r| r["metadata"]["source"].is_string())
        .unwrap();
    let path = format!("/referrals/{}", with_metadata["id"].as_str().unwrap());
    let sent = json!({"source": null, "verified_by": "admin_9", "nested": {"a": 1}});
    let merged = sandbox.put(&path, json!({"metadata": sent})).await.ok();
    let mut expected = with_metadata["metadata"].as_object().unwrap().clone();
    for (key, value) in sent.as_object().unwrap() {
        expected.insert(key.clone(), value.clone());
    }
    assert_eq!(merged["metadata"], Value::Object(expected.clone()));
    assert!(merged["metadata"]["source"].is_null());
    assert!(
        merged["metadata"]["location"].is_string(),
        "untouched keys stay"
    );
    let again = sandbox
        .put(&path, json!({"metadata": {"nested": {"b": 2}}}))
        .await
        .ok();
    assert_eq!(
        again["metadata"]["nested"],
        json!({"b": 2}),
        "shallow: nested objects are replaced"
    );
    assert!(
        again["metadata"].get("source").is_some(),
        "null keys are never removed"
    );

    let without = all.iter().find(|r| r.get("metadata").is_none()).unwrap();
    let path = format!("/referrals/{}", without["id"].as_str().unwrap());
    let added = sandbox
        .put(&path, json!({"metadata": {"notes": "first"}}))
        .await
        .ok();
    assert_eq!(added["metadata"], json!({"notes": "first"}));
}

#[tokio::test]
async fn replace_mode_replaces_metadata_whole() {
    let sandbox = Sandbox::start_changed(50, |base| SandboxConfig {
        metadata_mode: MetadataMode::Replace,
        ..base
    })
    .await;
    let all = sandbox.all_referrals().await;
    let with_metadata = all
        .iter()
        .find(|r| r["metadata"]["location"].is_string())
        .unwrap();
    let path = format!("/referrals/{}", with_metadata["id"].as_str().unwrap());
    let replaced = sandbox
        .put(
            &path,
            json!({"metadata": {"verified_by": "admin_9", "source": null}}),
        )
        .await
        .ok();
    assert_eq!(
        replaced["metadata"],
        json!({"verified_by": "admin_9", "source": null})
    );
    let emptied = sandbox.put(&path, json!({"metadata": {}})).await.ok();
    assert_eq!(emptied["metadata"], json!({}));
    assert_eq!(
        sandbox
            .referral(with_metadata["id"].as_str().unwrap())
            .await["metadata"],
        json!({})
    );
}

#[tokio::test]
async fn post_creates_pending_referrals_from_an_impression() {
    let sandbox = Sandbox::start(30).await;
    let impression = sandbox
        .get("/impressions?limit=1&offset=5")
        .await
        .list("impressions")
        .remove(0);
    let impression_id = impression["id"].as_str().unwrap();
    let created = sandbox
        .post(json!({
            "impression_id": impression_id,
            "first_name": "Robin",
            "last_name": "Achterberg",
            "email": "robin@example.org",
            "metadata": {"source": "api"},
            "profile_picture": null,
            "status": "verified",
        }))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let referral = created.body;
    assert_eq!(
        keys(&referral),
        [
            "id",
            "impression_id",
            "first_name",
            "last_name",
            "email",
            "status",
            "program_id",
            "student_id",
            "created_at",
            "verified_at",
            "updated_at",
            "metadata"
        ]
    );
    assert_eq!(
        referral["status"], "pending",
        "status is not settable on create"
    );
    assert_eq!(referral["program_id"], impression["program_id"]);
    assert_eq!(referral["student_id"], impression["student_id"]);
    assert_eq!(referral["impression_id"], impression_id);
    assert!(referral["verified_at"].is_null());
    assert_eq!(referral["created_at"], referral["updated_at"]);
    assert_eq!(referral["metadata"], json!({"source": "api"}));
    let id = referral["id"].as_str().unwrap();
    assert!(id.starts_with("ref_") && id.len() == 16);
    assert_eq!(sandbox.referral(id).await, referral);
    assert_eq!(sandbox.all_referrals().await.len(), 31);
    assert_eq!(
        sandbox.all_referrals().await.last().unwrap()["id"],
        id,
        "newest last"
    );

    let with_picture = sandbox
        .post(json!({
            "impression_id": impression_id, "first_name": "Kim", "last_name": "Ode",
            "email": "kim@example.org", "profile_picture": "http://img.example.org/kim.png",
        }))
        .await;
    assert_eq!(with_picture.status, StatusCode::CREATED);
    assert_eq!(
        with_picture.body["profile_picture"],
        "http://img.example.org/kim.png"
    );
    assert!(with_picture.body.get("metadata").is_none());
}

#[tokio::test]
async fn post_validates_its_body() {
    let sandbox = Sandbox::start(10).await;
    let existing = sandbox.first("referrals").await;
    let impression_id = existing["impression_id"].as_str().unwrap();
    let valid = new_referral(impression_id, "fresh@example.org");
    let with = |key: &str, value: Value| {
        let mut body = valid.clone();
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = valid.clone();
        body.as_object_mut().unwrap().remove(key);
        body
    };
    let cases = [
        (
            without("impression_id"),
            "Invalid impression_id: must be a non-empty string",
        ),
        (
            with("impression_id", json!("imp_unknown")),
            "Invalid impression_id: impression not found",
        ),
        (
            without("first_name"),
            "Invalid first_name: must not be empty",
        ),
        (
            with("last_name", json!(" ")),
            "Invalid last_name: must not be empty",
        ),
        (
            without("email"),
            "Invalid email: must be a valid email address",
        ),
        (
            with("email", json!("fresh@example")),
            "Invalid email: must be a valid email address",
        ),
        (
            with(
                "email",
                existing["email"].as_str().unwrap().to_uppercase().into(),
            ),
            "Invalid email: already used by another referral in this program",
        ),
        (
            with("profile_picture", json!("mailto:x@y.org")),
            "Invalid profile_picture: must be an http(s) URL",
        ),
        (
            with("metadata", json!(null)),
            "Invalid metadata: must be a JSON object",
        ),
        (
            with("idempotency_key", json!(5)),
            "Invalid idempotency_key: must be a non-empty string",
        ),
    ];
    for (body, message) in cases {
        sandbox
            .post(body)
            .await
            .assert_error(StatusCode::BAD_REQUEST, message);
    }
    sandbox
        .request(Method::POST, "/referrals", Some(KEY), Some("[]".into()))
        .await
        .assert_error(
            StatusCode::BAD_REQUEST,
            "Invalid request body: must be a JSON object",
        );
    assert_eq!(
        sandbox.all_referrals().await.len(),
        10,
        "nothing was created"
    );
}

#[tokio::test]
async fn idempotency_keys_return_the_same_referral() {
    let sandbox = Sandbox::start(10).await;
    let impression = sandbox.first("impressions").await;
    let impression_id = impression["id"].as_str().unwrap();
    let mut body = new_referral(impression_id, "once@example.org");
    body["idempotency_key"] = json!("signup-42");

    let first = sandbox.post(body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let replay = sandbox.post(body.clone()).await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(
        replay.body, first.body,
        "same referral, not an email conflict"
    );

    body["idempotency_key"] = json!("signup-43");
    body["email"] = json!("twice@example.org");
    let second = sandbox.post(body.clone()).await;
    assert_eq!(second.status, StatusCode::CREATED);
    assert_ne!(second.body["id"], first.body["id"]);

    let unkeyed = sandbox
        .post(new_referral(impression_id, "third@example.org"))
        .await;
    assert_eq!(unkeyed.status, StatusCode::CREATED);
    assert_eq!(sandbox.all_referrals().await.len(), 13);
}

#[tokio::test]
async fn rate_limit_counts_down_then_refuses() {
    let sandbox = Sandbox::start_changed(5, |base| SandboxConfig {
        rate_limit: 3,
        ..base
    })
    .await;
    let mut remaining = Vec::new();
    let mut resets = HashSet::new();
    for _ in 0..3 {
        let answer = sandbox.get("/referrals?limit=1").await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.header("x-ratelimit-limit"), 3);
        assert!(!answer.headers.contains_key("retry-after"));
        remaining.push(answer.header("x-ratelimit-remaining"));
        resets.insert(answer.header("x-ratelimit-reset"));
    }
    assert_eq!(remaining, [2, 1, 0]);
    assert_eq!(resets.len(), 1, "one fixed window");
    let reset = *resets.iter().next().unwrap();
    let now = jiff::Timestamp::now().as_second();
    assert!(reset > now && reset <= now + 61, "reset {reset} now {now}");

    let refused = sandbox.get("/referrals").await;
    refused.assert_error(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded");
    let retry_after = refused.header("retry-after");
    // The window ends within a minute; Retry-After counts to the whole second after that.
    assert!((1..=61).contains(&retry_after), "{retry_after}");
    assert_eq!(refused.header("x-ratelimit-remaining"), 0);
    assert_eq!(refused.header("x-ratelimit-reset"), reset);
    let put = sandbox.put("/referrals/ref_x", json!({})).await;
    assert_eq!(
        put.status,
        StatusCode::TOO_MANY_REQUESTS,
        "writes count too"
    );

    let stranger = sandbox
        .request(Method::GET, "/referrals", Some("sk_wrong"), None)
        .await;
    assert_eq!(
        stranger.status,
        StatusCode::UNAUTHORIZED,
        "wrong keys have their own window"
    );
    assert_eq!(stranger.header("x-ratelimit-remaining"), 2);
}

#[tokio::test]
async fn a_short_rate_window_reopens_at_its_reset_second() {
    let sandbox = Sandbox::start_changed(5, |base| SandboxConfig {
        rate_limit: 3,
        rate_window: Duration::from_secs(2),
        ..base
    })
    .await;
    for _ in 0..3 {
        sandbox.get("/referrals?limit=1").await.ok();
    }
    let refused = sandbox.get("/referrals?limit=1").await;
    refused.assert_error(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded");
    let reset = refused.header("x-ratelimit-reset");
    let now = jiff::Timestamp::now().as_millisecond();
    assert!(
        reset * 1000 > now && reset * 1000 <= now + 3000,
        "a two-second window: reset {reset}, now {now} ms"
    );
    let retry_after = refused.header("retry-after");
    assert!((1..=3).contains(&retry_after), "{retry_after}");

    // Wake exactly at the reset second: only a window end rounded up lets this request through.
    let wait = u64::try_from(reset * 1000 - now).unwrap();
    tokio::time::sleep(Duration::from_millis(wait)).await;
    let reopened = sandbox.get("/referrals?limit=1").await;
    assert_eq!(reopened.status, StatusCode::OK, "{}", reopened.body);
    assert_eq!(reopened.header("x-ratelimit-remaining"), 2);
    assert!(reopened.header("x-ratelimit-reset") > reset);
}

#[tokio::test]
async fn a_write_delay_holds_writes_but_not_reads() {
    const DELAY: Duration = Duration::from_millis(800);
    let sandbox = Sandbox::start_changed(5, |base| SandboxConfig {
        write_delay: DELAY,
        ..base
    })
    .await;
    let before = sandbox.first("referrals").await;
    let id = before["id"].as_str().unwrap();
    let path = format!("/referrals/{id}");
    let put = assert_put_waits_but_not_reads(
        DELAY,
        sandbox.put(&path, json!({"last_name": "Delayed"})),
        sandbox.get(&path),
        &before,
    )
    .await;
    assert_eq!(put.ok()["last_name"], "Delayed");
    assert_eq!(sandbox.referral(id).await["last_name"], "Delayed");

    let impression = sandbox.first("impressions").await;
    let started = Instant::now();
    let created = sandbox
        .post(new_referral(
            impression["id"].as_str().unwrap(),
            "slow@example.org",
        ))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(started.elapsed() >= DELAY, "POSTs wait too");
}

#[tokio::test]
async fn chaos_refuses_writes_without_changing_anything_until_turned_off() {
    let sandbox = Sandbox::start_changed(5, |base| SandboxConfig { chaos: 1.0, ..base }).await;
    let before = sandbox.all_referrals().await;
    let id = before[0]["id"].as_str().unwrap().to_owned();
    let impression = sandbox.first("impressions").await;
    let impression_id = impression["id"].as_str().unwrap();
    for _ in 0..3 {
        sandbox
            .put(&format!("/referrals/{id}"), json!({"last_name": "Chaos"}))
            .await
            .assert_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Injected failure (chaos)",
            );
        sandbox
            .post(new_referral(impression_id, "chaos@example.org"))
            .await
            .assert_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Injected failure (chaos)",
            );
    }
    assert_eq!(
        sandbox.all_referrals().await,
        before,
        "reads still answer, and show nothing changed"
    );

    sandbox.running.set_chaos(0.0);
    let changed = sandbox
        .put(&format!("/referrals/{id}"), json!({"last_name": "Calm"}))
        .await
        .ok();
    assert_eq!(changed["last_name"], "Calm");
    assert_eq!(sandbox.referral(&id).await, changed);
    let created = sandbox
        .post(new_referral(impression_id, "calm@example.org"))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
}

#[tokio::test]
async fn out_of_range_chaos_and_empty_rate_windows_are_refused_at_start() {
    let dir = TempDir::new().unwrap();
    for (chaos, rate_window) in [
        (1.5, Duration::from_secs(60)),
        (-0.1, Duration::from_secs(60)),
        (f64::NAN, Duration::from_secs(60)),
        (0.5, Duration::ZERO),
    ] {
        let config = SandboxConfig {
            chaos,
            rate_window,
            ..config(&dir, 0)
        };
        assert!(
            start(config, local()).await.is_err(),
            "chaos {chaos}, window {rate_window:?}"
        );
    }
}

#[tokio::test]
async fn the_same_seed_gives_the_same_data() {
    let (a, b) = (Sandbox::start(150).await, Sandbox::start(150).await);
    for path in [
        "/referrals?limit=100",
        "/referrals?limit=100&offset=100",
        "/users?limit=100",
        "/impressions?limit=100&offset=60",
    ] {
        let (left, right) = (a.get(path).await.ok(), b.get(path).await.ok());
        assert_eq!(left.to_string(), right.to_string(), "{path}");
    }
    let smaller = Sandbox::start(149).await;
    assert_eq!(smaller.all_referrals().await.len(), 149);
}

/// Deep pages (past the first 1,000 rows the sandbox pages by SQL `OFFSET`) are the rows a plain
/// `LIMIT/OFFSET` query on the file gives, filtered or not, and still after a write.
#[tokio::test]
async fn deep_pages_are_the_rows_a_plain_offset_query_gives() {
    let sandbox = Sandbox::start(2_500).await;
    let file = rusqlite::Connection::open(sandbox.dir.path().join("sandbox.db")).unwrap();
    let plain = |sql: &str, status: &str, offset: i64| -> Vec<String> {
        let sql = format!("{sql} ORDER BY created_at, id LIMIT 100 OFFSET ?2");
        let mut stmt = file.prepare(&sql).unwrap();
        let rows = stmt.query_map(rusqlite::params![status, offset], |row| row.get(0));
        rows.unwrap().map(Result::unwrap).collect()
    };
    let check = async |status: &str| {
        let referrals = "SELECT id FROM v1_referrals WHERE ?1 = '' OR status = ?1";
        for offset in [999, 1_000, 1_234, 2_450, 2_500] {
            let path = format!("/referrals?limit=100&offset={offset}&status={status}");
            let served = sandbox.get(&path).await.list("referrals");
            assert_eq!(ids(&served), plain(referrals, status, offset), "{path}");
        }
    };
    check("").await;
    let impressions = "SELECT id FROM v1_impressions WHERE ?1 = ''";
    for offset in [1_500, 3_100] {
        let path = format!("/impressions?limit=100&offset={offset}");
        let served = sandbox.get(&path).await.list("impressions");
        assert_eq!(ids(&served), plain(impressions, "", offset), "{path}");
    }
    let pending = plain(
        "SELECT id FROM v1_referrals WHERE status = ?1",
        "pending",
        0,
    );
    for status in ["pending", "converted"] {
        check(status).await;
    }
    // Moving a row between the two filtered lists shifts both.
    let moved = &pending[50];
    let answer = sandbox
        .put(
            &format!("/referrals/{moved}"),
            json!({"status": "converted"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    for status in ["", "pending", "converted"] {
        check(status).await;
    }
}

#[tokio::test]
async fn restarting_on_the_same_file_keeps_data_and_does_not_reseed() {
    let dir = TempDir::new().unwrap();
    let sandbox = Sandbox::start_with(config(&dir, 25), dir).await;
    let first = sandbox.first("referrals").await;
    let id = first["id"].as_str().unwrap().to_owned();
    let changed = sandbox
        .put(&format!("/referrals/{id}"), json!({"last_name": "Renamed"}))
        .await
        .ok();
    assert!(
        sandbox.dir.path().join("sandbox.db-wal").exists(),
        "WAL journal"
    );
    let Sandbox { running, dir, .. } = sandbox;
    running.shutdown().await;

    let db_path = dir.path().join("sandbox.db");
    assert!(db_path.exists());
    let again = Sandbox::start_with(config(&dir, 400), dir).await;
    assert_eq!(again.all_referrals().await.len(), 25, "not seeded again");
    assert_eq!(again.referral(&id).await, changed);
    assert!(again.dir.path().join("sandbox.db").exists());
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let sandbox = Sandbox::start(1).await;
    let url = format!("{}/referrals", sandbox.running.v1_base_url());
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/api/v1/referrals"));
    assert_ne!(sandbox.running.addr().port(), 0);
    sandbox.running.shutdown().await;
    let after = reqwest::Client::new()
        .get(url)
        .bearer_auth(KEY)
        .send()
        .await;
    assert!(after.is_err());
}

// `--quirks`: each test compares a quirky sandbox with a plain one from the same seed (the same
// data), or looks at what the quirk did on its own.

/// `referral` as the `nulls` quirk answers it.
fn with_v1_gaps(referral: &Value) -> Value {
    let mut referral = referral.as_object().unwrap().clone();
    referral.shift_remove("impression_id");
    referral.shift_remove("updated_at");
    referral.insert("last_name".into(), Value::Null);
    Value::Object(referral)
}

#[tokio::test]
async fn quirk_nulls_leaves_optional_looking_fields_out() {
    let plain = Sandbox::start(30).await;
    let quirky = Sandbox::with_quirks(30, &[Quirk::Nulls]).await;
    let rows = quirky.get("/referrals").await.list("referrals");
    let expected = plain.get("/referrals").await.list("referrals");
    assert_eq!(rows.len(), 30);
    for (row, want) in rows.iter().zip(&expected) {
        assert_eq!(row, &with_v1_gaps(want));
    }
    let id = ids(&expected)[4].to_owned();
    let path = format!("/referrals/{id}");
    assert_eq!(quirky.get(&path).await.ok(), with_v1_gaps(&expected[4]));
    let changed = quirky.put(&path, json!({"first_name": "Robin"})).await.ok();
    assert_eq!(changed["first_name"], "Robin");
    assert!(!changed.as_object().unwrap().contains_key("updated_at"));
    let impression = quirky.first("impressions").await;
    let created = quirky
        .post(new_referral(
            impression["id"].as_str().unwrap(),
            "robin@example.org",
        ))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.body["last_name"], Value::Null);
    assert!(
        !created
            .body
            .as_object()
            .unwrap()
            .contains_key("impression_id")
    );
}

#[tokio::test]
async fn quirk_no_paging_ignores_offset_but_keeps_limit() {
    let sandbox = Sandbox::with_quirks(30, &[Quirk::NoPaging]).await;
    let first_page = sandbox.get("/referrals?limit=10").await.list("referrals");
    assert_eq!(first_page.len(), 10);
    for offset in [10, 20, 500] {
        let rows = sandbox
            .get(&format!("/referrals?limit=10&offset={offset}"))
            .await
            .list("referrals");
        assert_eq!(rows, first_page, "offset {offset}");
    }
    let users = sandbox.get("/users?limit=3").await.list("users");
    assert_eq!(
        sandbox.get("/users?limit=3&offset=3").await.list("users"),
        users
    );
}

#[tokio::test]
async fn quirk_broken_rows_leaves_the_id_out_of_one_referral_per_page() {
    let plain = Sandbox::start(30).await;
    let quirky = Sandbox::with_quirks(30, &[Quirk::BrokenRows]).await;
    for offset in [0, 10] {
        let query = format!("/referrals?limit=10&offset={offset}");
        let rows = quirky.get(&query).await.list("referrals");
        let mut expected = plain.get(&query).await.list("referrals");
        expected[1].as_object_mut().unwrap().shift_remove("id");
        assert_eq!(rows, expected, "offset {offset}");
    }
    let last = quirky
        .get("/referrals?limit=10&offset=29")
        .await
        .list("referrals");
    assert!(
        !last[0].as_object().unwrap().contains_key("id"),
        "a one-row page"
    );
}

#[tokio::test]
async fn quirk_forbidden_writes_answers_403_and_changes_nothing() {
    let sandbox = Sandbox::with_quirks(10, &[Quirk::ForbiddenWrites]).await;
    let before = sandbox.all_referrals().await;
    let id = before[0]["id"].as_str().unwrap();
    let impression = sandbox.first("impressions").await;
    let refused = [
        sandbox
            .put(&format!("/referrals/{id}"), json!({"first_name": "Nope"}))
            .await,
        sandbox
            .post(new_referral(
                impression["id"].as_str().unwrap(),
                "nope@example.org",
            ))
            .await,
    ];
    for answer in refused {
        answer.assert_error(
            StatusCode::FORBIDDEN,
            "This API key may not change referrals",
        );
    }
    assert_eq!(sandbox.all_referrals().await, before);
    let wrong_key = sandbox
        .request(
            Method::PUT,
            "/referrals/x",
            Some("sk_wrong"),
            Some("{}".into()),
        )
        .await;
    assert_eq!(
        wrong_key.status,
        StatusCode::UNAUTHORIZED,
        "the key check comes first"
    );
}

#[tokio::test]
async fn quirk_truncated_cuts_list_answers_off_halfway() {
    let plain = Sandbox::start(20).await;
    let quirky = Sandbox::with_quirks(20, &[Quirk::Truncated]).await;
    for path in ["/referrals", "/users", "/impressions?limit=5"] {
        let whole = plain.get(path).await.body.to_string().into_bytes();
        let cut = send_partial(quirky.builder(Method::GET, path, Some(KEY))).await;
        assert_eq!(
            (cut.status, cut.declared, cut.cut),
            (StatusCode::OK, Some(whole.len() as u64), true),
            "{path}"
        );
        assert_eq!(cut.received, whole[..whole.len() / 2], "{path}");
    }
    let referral = plain.first("referrals").await;
    let path = format!("/referrals/{}", referral["id"].as_str().unwrap());
    let single = send_partial(quirky.builder(Method::GET, &path, Some(KEY))).await;
    assert!(!single.cut, "a single referral is whole");
    assert_eq!(
        serde_json::from_slice::<Value>(&single.received).unwrap(),
        referral
    );
}
