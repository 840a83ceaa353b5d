//! The v1 client against the real sandbox, and against wiremock for faults the sandbox cannot make.

mod common;

use std::time::Duration;

use common::*;
use referee::api::{ApiError, Client, Page};
use referee::domain::MetadataMode;
use serde_json::{Map, Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn all_pages(client: &Client) -> Vec<usize> {
    let mut sizes = Vec::new();
    for index in 0.. {
        let Page {
            items: records,
            last,
            ..
        } = client.referrals_page(index).await.unwrap();
        sizes.push(records.len());
        if last {
            break;
        }
    }
    sizes
}

fn body(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[tokio::test]
async fn lists_every_page_until_a_short_one() {
    let sb = sandbox(250, 1000, MetadataMode::Merge).await;
    assert_eq!(
        all_pages(&client(&sb.server.v1_base_url(), KEY)).await,
        [100, 100, 50]
    );
    let sb = sandbox(200, 1000, MetadataMode::Merge).await;
    assert_eq!(
        all_pages(&client(&sb.server.v1_base_url(), KEY)).await,
        [100, 100, 0],
        "exactly full pages end on an empty one"
    );
}

#[tokio::test]
async fn ambassadors_are_named_by_page_and_an_impression_by_its_id() {
    let sb = sandbox(20, 1000, MetadataMode::Merge).await;
    let c = client(&sb.server.v1_base_url(), KEY);
    let Page {
        items: users, last, ..
    } = c
        .lookup_page(referee::domain::schema::RefKind::User, 0)
        .await
        .unwrap();
    assert!(last && !users.is_empty());
    assert!(
        users
            .iter()
            .all(|(id, name)| id.starts_with("user_") && name.contains(' '))
    );
    let referral = &c.referrals_page(0).await.unwrap().items[0];
    let impression = referral.text("impression_id");
    let place = c
        .name(referee::domain::schema::RefKind::Impression, &impression)
        .await
        .unwrap();
    assert!(place.contains(" · post_"), "{place}");
    assert!(matches!(
        c.name(referee::domain::schema::RefKind::Impression, "imp_nope")
            .await,
        Err(ApiError::NotFound { .. })
    ));
    assert!(
        c.lookup_page(referee::domain::schema::RefKind::Impression, 0)
            .await
            .is_err(),
        "impressions are not paged through"
    );
}

#[tokio::test]
async fn updates_each_field_and_returns_the_servers_record() {
    let sb = sandbox(10, 1000, MetadataMode::Merge).await;
    let c = client(&sb.server.v1_base_url(), KEY);
    let Page {
        items: records,
        last: _,
        ..
    } = c.referrals_page(0).await.unwrap();
    let id = records[0].id.clone();
    let cases = [
        ("first_name", json!("Grace")),
        ("last_name", json!("Hopper")),
        ("email", json!("grace.hopper@example.org")),
        ("profile_picture", json!("https://example.org/grace.png")),
        ("profile_picture", Value::Null),
        ("status", json!("verified")),
        ("verified_at", json!("2026-02-03T04:05:06Z")),
        ("verified_at", Value::Null),
    ];
    for (key, value) in cases {
        let record = c
            .update(&id, &body(json!({ key: value.clone() })))
            .await
            .unwrap();
        assert_eq!(record.get(key), value, "{key}");
        assert!(!record.text("updated_at").is_empty());
    }
    let record = c
        .update(&id, &body(json!({"metadata": {"notes": "checked"}})))
        .await
        .unwrap();
    assert_eq!(record.get("metadata")["notes"], "checked");
}

#[tokio::test]
async fn each_server_error_is_decoded_into_its_kind() {
    let sb = sandbox(10, 1000, MetadataMode::Merge).await;
    let base = sb.server.v1_base_url();
    let c = client(&base, KEY);
    let Page {
        items: records,
        last: _,
        ..
    } = c.referrals_page(0).await.unwrap();
    let id = records[0].id.clone();

    match c.update(&id, &body(json!({"email": "nope"}))).await {
        Err(ApiError::Invalid {
            status: 400,
            fields,
            ..
        }) => {
            assert_eq!(
                fields,
                [(
                    "email".to_string(),
                    "Must be a valid email address".to_string()
                )]
            )
        }
        other => panic!("{other:?}"),
    }
    match c
        .update("ref_missing", &body(json!({"status": "verified"})))
        .await
    {
        Err(ApiError::NotFound { message, .. }) => assert_eq!(message, "Referral not found"),
        other => panic!("{other:?}"),
    }
    match client(&base, "sk_wrong").referrals_page(0).await {
        Err(ApiError::Unauthorized { message }) => {
            assert_eq!(message, "Invalid or missing API key")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_429_is_decoded_with_its_retry_after() {
    // Longer than the client waits out on its own, so the 429 reaches the caller.
    let limited = ResponseTemplate::new(429)
        .insert_header("Retry-After", "120")
        .set_body_json(json!({"error": "Too Many Requests", "message": "Rate limit exceeded"}));
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(limited)
        .mount(&server)
        .await;
    match client(&format!("{}/api/v1", server.uri()), KEY)
        .referrals_page(0)
        .await
    {
        Err(e @ ApiError::RateLimited { .. }) => {
            assert_eq!(
                e,
                ApiError::RateLimited {
                    retry_after: Some(Duration::from_secs(120))
                }
            );
            assert!(e.user_message().contains("wait 120 s"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_closed_port_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    match client(&format!("http://{addr}/api/v1"), KEY)
        .referrals_page(0)
        .await
    {
        Err(e @ ApiError::Transport { .. }) => {
            assert!(e.user_message().contains("Could not reach the server"))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });
    assert!(matches!(
        client(&format!("http://{addr}/api/v1"), KEY)
            .referrals_page(0)
            .await,
        Err(ApiError::Transport { .. })
    ));
}

/// A server answering every referral list with `content`, and a client for it.
async fn mock(status: u16, content: &str, content_type: &str) -> (MockServer, Client) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/referrals"))
        .respond_with(ResponseTemplate::new(status).set_body_raw(content.to_string(), content_type))
        .mount(&server)
        .await;
    let c = client(&format!("{}/api/v1", server.uri()), KEY);
    (server, c)
}

async fn answer_to_list(status: u16, content: &str, content_type: &str) -> Result<(), ApiError> {
    let (_server, c) = mock(status, content, content_type).await;
    c.referrals_page(0).await.map(|_| ())
}

#[tokio::test]
async fn html_malformed_and_empty_answers_are_clear_errors() {
    match answer_to_list(200, "<html><body>Login</body></html>", "text/html").await {
        Err(ApiError::Decode {
            endpoint, message, ..
        }) => {
            assert_eq!(endpoint, "GET /referrals page 1");
            assert!(message.contains("HTML"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match answer_to_list(200, r#"{"referrals": [{"id": 1}"#, "application/json").await {
        Err(ApiError::Decode { .. }) => {}
        other => panic!("{other:?}"),
    }
    match answer_to_list(200, r#"{"data": []}"#, "application/json").await {
        Err(ApiError::Decode { message, .. }) => {
            assert!(message.contains("referrals"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    match answer_to_list(502, "<html>Bad Gateway</html>", "text/html").await {
        Err(e @ ApiError::Server { status: 502, .. }) => {
            let text = e.user_message();
            assert!(
                text.contains("HTML") && text.contains("try again"),
                "{text}"
            );
        }
        other => panic!("{other:?}"),
    }
    match answer_to_list(500, "", "text/plain").await {
        Err(ApiError::Server {
            status: 500,
            message,
        }) => assert_eq!(message, "Internal Server Error"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_read_that_fails_once_is_tried_again() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/referrals"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/referrals"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"referrals": []})))
        .expect(1)
        .mount(&server)
        .await;
    let Page {
        items: records,
        last,
        ..
    } = client(&format!("{}/api/v1", server.uri()), KEY)
        .referrals_page(0)
        .await
        .unwrap();
    assert!(records.is_empty() && last);
}

#[tokio::test]
async fn a_failed_write_is_not_repeated() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&format!("{}/api/v1", server.uri()), KEY);
    assert!(matches!(
        c.update("ref_1", &body(json!({"status": "verified"})))
            .await,
        Err(ApiError::Server { .. })
    ));
}
