//! The FirstPromoter v2 client against the real sandbox, and wiremock for the 429 it must wait out.

mod common;

use std::time::{Duration, Instant};

use common::*;
use referee::api::{ApiError, BackendKind, BatchAction, Client, Connection, Page};
use referee::domain::MetadataMode;
use secrecy::SecretString;
use serde_json::{Map, Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn v2_client(base: &str) -> Client {
    connect(BackendKind::FirstPromoter, base, KEY)
}

fn body(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[tokio::test]
async fn pages_until_an_empty_page() {
    let sb = sandbox(230, 10_000, MetadataMode::Merge).await;
    let c = v2_client(&sb.server.v2_base_url());
    let mut sizes = Vec::new();
    for index in 0.. {
        let Page {
            items: records,
            last,
            ..
        } = c.referrals_page(index).await.unwrap();
        sizes.push(records.len());
        assert!(
            records.iter().all(|r| r.id.parse::<i64>().is_ok()),
            "integer ids"
        );
        if last {
            break;
        }
    }
    assert_eq!(sizes, [100, 100, 30, 0]);
}

#[tokio::test]
async fn without_an_account_id_the_client_refuses_to_start_and_a_wrong_one_is_unauthorized() {
    let sb = sandbox(5, 10_000, MetadataMode::Merge).await;
    let key = SecretString::from(KEY.to_string());
    let base = sb.server.v2_base_url();
    let missing = Client::connect(Connection {
        backend: BackendKind::FirstPromoter,
        base_url: &base,
        api_key: &key,
        account_id: None,
    });
    assert!(missing.err().unwrap().contains("account id"));
    let wrong = Client::connect(Connection {
        backend: BackendKind::FirstPromoter,
        base_url: &base,
        api_key: &key,
        account_id: Some("acc_other"),
    })
    .unwrap();
    assert!(matches!(
        wrong.referrals_page(0).await,
        Err(ApiError::Unauthorized { .. })
    ));
}

#[tokio::test]
async fn finds_by_email_with_characters_that_need_encoding() {
    let sb = sandbox(10, 10_000, MetadataMode::Merge).await;
    let c = v2_client(&sb.server.v2_base_url());
    let Page {
        items: records,
        last: _,
        ..
    } = c.referrals_page(0).await.unwrap();
    let id = records[0].id.clone();
    let updated = c
        .update(&id, &body(json!({"email": "a+b/c@example.org"})))
        .await
        .unwrap();
    assert_eq!(updated.text("email"), "a+b/c@example.org");
    let found = c.find("email", "a+b/c@example.org").await.unwrap();
    assert_eq!(found.id, id);
    assert_eq!(c.find("id", &id).await.unwrap().id, id);
    assert!(matches!(
        c.find("email", "none@example.org").await,
        Err(ApiError::NotFound { .. })
    ));
}

#[tokio::test]
async fn updates_fields_and_decodes_422_errors_per_field() {
    let sb = sandbox(10, 10_000, MetadataMode::Merge).await;
    let c = v2_client(&sb.server.v2_base_url());
    let Page {
        items: records,
        last: _,
        ..
    } = c.referrals_page(0).await.unwrap();
    let mut with_email = records.iter().filter(|r| !r.get("email").is_null());
    let (a, b) = (with_email.next().unwrap(), with_email.next().unwrap());
    let r = c
        .update(
            &a.id,
            &body(json!({"uid": "cus_42", "username": "ada", "fraud_check": "ad_source"})),
        )
        .await
        .unwrap();
    assert_eq!(
        (r.text("uid"), r.text("username"), r.text("fraud_check")),
        ("cus_42".into(), "ada".into(), "ad_source".into())
    );
    let taken = b.text("email");
    match c
        .update(
            &a.id,
            &body(json!({"email": taken, "fraud_check": "maybe"})),
        )
        .await
    {
        Err(ApiError::Invalid {
            status: 422,
            fields,
            ..
        }) => {
            assert!(
                fields.contains(&("email".to_string(), "Has already been taken".to_string())),
                "{fields:?}"
            );
            assert!(fields.iter().any(|(f, _)| f == "fraud_check"), "{fields:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_large_batch_is_polled_until_it_completes() {
    let sb = sandbox(40, 10_000, MetadataMode::Merge).await;
    let c = v2_client(&sb.server.v2_base_url());
    let Page {
        items: records,
        last: _,
        ..
    } = c.referrals_page(0).await.unwrap();
    let ids: Vec<String> = records.iter().take(7).map(|r| r.id.clone()).collect();
    let mut batch = c.start_batch(BatchAction::Disable, &ids).await.unwrap();
    assert!(
        !batch.is_finished(),
        "more than five ids run in the background"
    );
    while !batch.is_finished() {
        tokio::time::sleep(Duration::from_millis(200)).await;
        batch = c
            .batch(batch.id.expect("the batch has an id"))
            .await
            .unwrap();
    }
    assert_eq!(
        (batch.status.as_str(), batch.processed_count, batch.total),
        ("completed", 7, 7)
    );
    let fresh = c.refresh(&ids).await.unwrap();
    assert_eq!(fresh.len(), 7);
    assert!(fresh.iter().all(|r| r.text("state") == "denied"));
}

#[tokio::test]
async fn a_429_is_waited_out_and_tried_again() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/company/referrals"))
        .and(header("Account-ID", ACCOUNT))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/company/referrals"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    let started = Instant::now();
    let c = v2_client(&format!("{}/api/v2/company", server.uri()));
    let Page {
        items: records,
        last,
        ..
    } = c.referrals_page(0).await.unwrap();
    assert!(records.is_empty() && last);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "it waited for Retry-After"
    );
}
