//! Operator endpoints used for provisioning, support tooling and load tests: bulk users, access tokens,
//! large rooms and announcements.
mod common;
use common::*;
use serde_json::json;
use tally_protocol::*;

#[tokio::test]
async fn bulk_users_tokens_rooms_and_announcements() {
    let hub = TestHub::start().await;
    // Admin only.
    let (status, _) = hub.post("/v1/admin/users", json!({"users": [{"username": "x1"}]})).await;
    assert_eq!(status, 401);

    let users: Vec<_> = (0..150).map(|i| json!({"username": format!("op{i}")})).collect();
    let (status, v) = hub.admin_post("/v1/admin/users", json!({ "users": users })).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["users"].as_array().unwrap().len(), 150);
    // A taken name makes the whole request a conflict: nothing half-created.
    let (status, v) =
        hub.admin_post("/v1/admin/users", json!({"users": [{"username": "fresh1"}, {"username": "op3"}]})).await;
    assert_eq!(status, 409, "{v}");
    assert_eq!(hub.admin_post("/v1/admin/tokens", json!({"usernames": ["fresh1"]})).await.0, 404);
    // Bad names are typed errors.
    assert_eq!(hub.admin_post("/v1/admin/users", json!({"users": [{"username": "No Spaces"}]})).await.0, 400);
    // Provisioned without a password: password sign-in is refused.
    let (status, _) = hub.post("/v1/auth/login", json!({"username": "op1", "password": "anything-at-all"})).await;
    assert_eq!(status, 401);

    // Tokens work on the socket.
    let (status, v) = hub.admin_post("/v1/admin/tokens", json!({"usernames": ["op0", "op1"]})).await;
    assert_eq!(status, 200, "{v}");
    let t0 = v["tokens"][0]["access_token"].as_str().unwrap().to_string();
    let id0 = v["tokens"][0]["user"]["id"].as_i64().unwrap();

    // A room larger than the 100-member creation limit of `room_create`.
    let members: Vec<String> = (0..150).map(|i| format!("op{i}")).collect();
    let (status, v) = hub.admin_post("/v1/admin/rooms", json!({"name": "Announcements", "members": members})).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["members"], json!(150));
    let room = v["id"].as_i64().unwrap();

    let mut c = Client::connect(&hub.ws_url(), &t0, vec![]).await;
    assert_eq!(c.welcome.user.id, id0);
    c.subscribe(Channel::Room(room), None).await.expect("a member may subscribe");
    c.subscribe(Channel::Notifications(id0), None).await.unwrap();

    // Announcements are durable events with seq, on the channels they name.
    let (status, v) = hub
        .admin_post(
            "/v1/admin/publish",
            json!({"events": [
                {"channel": format!("room:{room}"), "title": "Maintenance <b>tonight</b>", "body": "'; DROP TABLE users; --"},
                {"channel": format!("notifications:{id0}"), "title": "Just you", "priority": "high"}
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let e = c.event_on(Channel::Room(room)).await;
    match e.data {
        EventData::System { title, body, .. } => {
            assert_eq!(title, "Maintenance <b>tonight</b>");
            assert_eq!(body, "'; DROP TABLE users; --");
        }
        other => panic!("{other:?}"),
    }
    let e2 = c.event_on(Channel::Notifications(id0)).await;
    assert!(matches!(e2.data, EventData::System { priority: Priority::High, .. }));
    // Channels that carry state the hub owns are refused, as are empty and oversized requests.
    for body in [
        json!({"events": [{"channel": format!("balance:{id0}"), "title": "x"}]}),
        json!({"events": []}),
        json!({"events": [{"channel": "broadcast", "title": "x".repeat(300)}]}),
        json!({"events": [{"channel": "vault:1", "title": "x"}]}),
    ] {
        let (status, _) = hub.admin_post("/v1/admin/publish", body.clone()).await;
        assert!(status == 400 || status == 422, "{body}: {status}");
    }
    assert_eq!(hub.invariants_ok().await["ok"], json!(true));
}

/// The demo's month of payments, made today and moved back in time, leaves the ledger sound: each
/// sender's running total for the day (what the daily limit reads) still equals its transfers.
#[tokio::test]
async fn a_demo_hub_s_ledger_and_daily_totals_are_sound() {
    let hub = TestHub::start_with(|c| c.demo = true).await;
    let v = hub.invariants_ok().await;
    assert_eq!(v["ok"], json!(true), "{v}");
}
