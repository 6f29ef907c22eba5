//! Money and pictures in the conversation in the real app (#14): bob, a real sync engine in this process,
//! asks alice for money in their conversation; alice, in the real WebView, sees the request's card there,
//! pays it from the card after its confirmation, and sends bob money from the conversation's header. Each
//! card follows its payment to its end on both sides, through the hub. Then alice sends a photo from the
//! composer's file picker and bob's engine receives it with its thumbnail; bob sends one back, which
//! alice's app shows as a thumbnail and opens whole.
use std::sync::Arc;
use std::time::Duration;
use tally_client::notify::RecordingNotifier;
use tally_client::secrets::MemoryStore;
use tally_client::view::*;
use tally_client::{Engine, EngineConfig};
use tally_protocol::*;

#[path = "support/webview.rs"]
mod webview;
use webview::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_paid_from_its_card_and_a_payment_sent_from_the_conversation() {
    tokio::time::timeout(Duration::from_secs(240), scenario())
        .await
        .expect("the money-in-chat scenario took over 4 minutes");
}

/// Waits until bob's engine sees the card posted as `cmid` in `room` in the state `f` accepts.
async fn bob_sees(bob: &Engine, room: RoomId, what: &str, f: impl Fn(&MessageView) -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if bob.messages(room, None, 50).await.unwrap().iter().any(&f) {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            let cards: Vec<_> = bob
                .messages(room, None, 50)
                .await
                .unwrap()
                .into_iter()
                .filter(|m| m.message.card.is_some())
                .map(|m| (m.message.card, m.card))
                .collect();
            let all = bob.messages(room, None, 50).await.unwrap();
            let tail: Vec<_> =
                all.iter().rev().take(4).map(|m| (m.message.seq, m.message.text.clone(), m.local.clone())).collect();
            panic!(
                "bob never saw {what}: {cards:?}; {} messages, newest {tail:?}; rooms {:?}",
                all.len(),
                bob.rooms().unwrap().iter().map(|r| r.room.id).collect::<Vec<_>>()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn scenario() {
    tally_client::install_crypto();
    let hub_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = format!("http://127.0.0.1:{port}");
    let hub = tally_hub::start(hub_config(hub_dir.path(), port)).await.expect("hub");
    let bob_dir = tempfile::tempdir().unwrap();
    let bob = Engine::new(
        EngineConfig::new(bob_dir.path(), "e2e-money-chat-bob"),
        Arc::new(MemoryStore::default()),
        Arc::new(RecordingNotifier::default()),
    );
    bob.sign_in(&server, "bob", tally_hub::demo::PASSWORD, None).await.unwrap();
    let room = bob.create_room(RoomKind::Direct, "", vec!["alice".into()]).await.unwrap().room.id;

    let app_data = tempfile::tempdir().unwrap();
    let Some((_driver, c)) = open_app(app_data.path(), "money-chat").await else { return };
    sign_in_form(&c, &server, "alice", tally_hub::demo::PASSWORD).await;
    wait_css(&c, "[data-testid=balance-amount]").await;

    // bob asks alice for $7.00 in their conversation.
    let ask = AskMoney {
        key: "e2e-taxi".into(),
        from: "alice".into(),
        amount: Money::new(700, Currency::USD),
        memo: "Taxi home".into(),
        expires_at: None,
        room: Some(room),
    };
    let request = bob.request_money(&ask).await.unwrap().request.id;
    nav(&c, "chat").await;
    click(&c, &format!("[data-testid=room-item][data-room=\"{room}\"]")).await;
    let card = format!("[data-testid=payment-card][data-kind=request][data-id=\"{request}\"]");
    wait_css(&c, &format!("{card}[data-status=open]")).await;
    shot(&c, "money-chat-01-asked").await;
    click(&c, &format!("{card} [data-testid=card-pay]")).await;
    click(&c, &format!("{card} [data-testid=card-confirm-pay]")).await;
    wait_css(&c, &format!("{card}[data-status=paid]")).await;
    let status = |e: &Engine| {
        e.payment_requests().unwrap().into_iter().find(|r| r.request.id == request).map(|r| r.request.status)
    };
    let deadline = tokio::time::Instant::now() + WAIT;
    while status(&bob) != Some(RequestStatus::Paid) {
        assert!(tokio::time::Instant::now() < deadline, "bob never saw his request paid: {:?}", status(&bob));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let paid_by: i64 = hub_db(hub_dir.path())
        .query_row("SELECT COUNT(*) FROM transfers WHERE idem_key LIKE 'request:' || ?1 || ':%'", [request], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(paid_by, 1, "one transfer paid it");

    // alice sends bob $15.00 from the conversation: Send opens with bob chosen, and the card comes back.
    click(&c, "[data-testid=room-send-money]").await;
    let amount = wait_css(&c, "[data-testid=send-amount]").await;
    amount.send_keys("15").await.unwrap();
    wait_css(&c, "[data-testid=send-memo]").await.send_keys("Tickets").await.unwrap();
    click(&c, "[data-testid=send-continue]").await;
    click(&c, "[data-testid=send-confirm]").await;
    click(&c, "[data-testid=send-done]").await;
    wait_css(&c, "[data-testid=payment-card][data-kind=transfer][data-status=completed]").await;
    bob_sees(&bob, room, "alice's payment completed on its card", |m| {
        matches!(&m.message.card, Some(MessageCard::Transfer { amount, .. }) if amount.minor == 1_500)
            && m.card == Some(CardState::Transfer { status: TransferStatus::Completed })
    })
    .await;
    shot(&c, "money-chat-02-paid").await;
    pictures(&c, &bob, room, hub_dir.path()).await;
    let _ = c.close().await;
    bob.shutdown();
    hub.shutdown().await;
}

/// A `w`×`h` photo-like JPEG, written to `path`.
fn photo(path: &std::path::Path, w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 140]));
    img.save_with_format(path, image::ImageFormat::Jpeg).unwrap();
    std::fs::read(path).unwrap()
}

async fn pictures(c: &fantoccini::Client, bob: &Engine, room: RoomId, hub_dir: &std::path::Path) {
    // alice picks a photo with the composer's paperclip (the file input the system picker fills).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("beach.jpg");
    photo(&path, 640, 480);
    let input = wait_css(c, "[data-testid=attach-input]").await;
    input.send_keys(&path.display().to_string()).await.expect("the file input takes a path");
    wait_css(c, "[data-testid=attachment-image][data-loaded=yes]").await;
    let mut got = None;
    bob_sees(bob, room, "alice's photo", |m| {
        m.message.attachment.as_ref().is_some_and(|a| a.name == "beach.jpg" && a.width == Some(640) && a.thumbnail)
    })
    .await;
    for m in bob.messages(room, None, 50).await.unwrap() {
        if let Some(a) = m.message.attachment.filter(|a| a.name == "beach.jpg") {
            got = Some(a);
        }
    }
    let a = got.expect("bob has the photo");
    assert!(bob.attachment_thumbnail(room, &a.id).await.unwrap().starts_with("data:image/jpeg;base64,"));
    let stored: i64 = hub_db(hub_dir)
        .query_row("SELECT COUNT(*) FROM messages WHERE room_id = ?1 AND attachment IS NOT NULL", [room], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, 1, "sent once");
    shot(c, "money-chat-03-photo-sent").await;

    // bob sends one back: alice's app fetches its thumbnail, shows it, and opens it whole.
    let back = photo(&dir.path().join("sunset.jpg"), 480, 640);
    bob.send_file(room, "sunset.jpg", back, "from the pier").unwrap();
    let theirs = "[data-testid=message]:not(.mine) [data-testid=attachment-image][data-loaded=yes]";
    wait_css(c, theirs).await;
    click(c, theirs).await;
    wait_css(c, "[data-testid=picture-full]").await;
    // Opened whole over the window, not clipped by the message list.
    let inside = c
        .execute(
            "const r = document.querySelector('[data-testid=picture-viewer]').getBoundingClientRect(); \
             return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(inside, serde_json::json!(true), "the picture viewer lies inside the window");
    shot(c, "money-chat-04-photo-received").await;
}
