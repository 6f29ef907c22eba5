//! Money and pictures in the conversation in the real app (#14): bob, a real sync engine in this process,
//! asks alice for money in their conversation; alice, in the real WebView, sees the request's card there,
//! pays it from the card after its confirmation, and sends bob money from the conversation's header. Each
//! card follows its payment to its end on both sides, through the hub. Then alice sends a photo from the
//! composer's file picker and bob's engine receives it with its thumbnail; bob sends one back, which
//! alice's app shows as a thumbnail and opens whole. Last, bob sends 200 pictures while alice reads another
//! conversation; she opens his at its "New messages" line, scrolls down to the newest and up to the start
//! (the room whole, no error) while a watcher in the page notes each stretch the main thread was held over a
//! frame (printed, and reported in docs/BENCHMARKS.md; no timing is asserted here).
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
    tokio::time::timeout(Duration::from_secs(420), scenario())
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
    two_hundred_pictures(&c, &bob, room).await;
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
    click(c, "[data-testid=picture-viewer] header button").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while c.find(fantoccini::Locator::Css("[data-testid=picture-viewer]")).await.is_ok() {
        assert!(tokio::time::Instant::now() < deadline, "the picture viewer never closed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A message loop that notes each gap over 16 ms between its turns (as in e2e_typing.rs), each with
/// what changed during it: messages went into the list (an older page) or thumbnails were shown.
const WATCH: &str = r#"
window.__held = [];
window.__watching = true;
const count = () => document.querySelectorAll('[data-testid=message]').length;
const thumbs = () => document.querySelectorAll('[data-testid=attachment-image][data-loaded=yes]').length;
let last = performance.now();
let n = count();
let t = thumbs();
const ch = new MessageChannel();
ch.port1.onmessage = () => {
  const now = performance.now();
  const m = count();
  const u = thumbs();
  if (now - last > 16) window.__held.push([Math.round(now - last), m !== n ? "page" : u !== t ? "thumbnails" : "other"]);
  last = now;
  n = m;
  t = u;
  if (window.__watching) setTimeout(() => ch.port2.postMessage(0), 0);
};
ch.port2.postMessage(0);
"#;

/// A small photo-like JPEG of its own colours (the hub keeps files by content: each must differ).
fn small_photo(i: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(320, 240, |x, y| {
        image::Rgb([(x * 255 / 320) as u8, (y * 255 / 240) as u8, (i * 37 % 256) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

async fn two_hundred_pictures(c: &fantoccini::Client, bob: &Engine, room: RoomId) {
    // alice reads another conversation while they arrive, then opens bob's: the room comes up from the
    // cache with its newest page, older pages and thumbnails as the scroll reaches them.
    let open_room = |name: &'static str| {
        format!(
            "const items = [...document.querySelectorAll('[data-testid=room-item]')]; \
             const it = items.find(i => i.textContent.includes('{name}')); if (it) it.click(); return !!it;"
        )
    };
    assert_eq!(c.execute(&open_room("Flatmates"), vec![]).await.unwrap(), serde_json::json!(true));
    for i in 0..200 {
        bob.send_file(room, &format!("p{i:03}.jpg"), small_photo(i), "").unwrap();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(200);
    let arrived = "return [...document.querySelectorAll('[data-testid=room-item]')].some(i => i.textContent.includes('p199.jpg'))";
    while c.execute(arrived, vec![]).await.unwrap() != serde_json::json!(true) {
        assert!(tokio::time::Instant::now() < deadline, "the 200th picture never reached alice's app");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(c.execute(&open_room("Bob Brown"), vec![]).await.unwrap(), serde_json::json!(true));
    // It opens at its "New messages" line, above the first of the 200 (four pages up).
    wait_css(c, "[data-testid=unread-divider]").await;
    wait_css(c, "[data-testid=attachment-image][aria-label*='p000.jpg'][data-loaded=yes]").await;
    shot(c, "money-chat-05-200-pictures").await;

    // Scroll down through the 200 to the newest, then up to the conversation's start, 400 px at a time,
    // ten steps a second, as a flick of the wheel does; thumbnails are read as they come near the view and
    // older pages come in on the way up. Each way stops once the view has stayed put for a second.
    c.execute(WATCH, vec![]).await.expect("the watcher starts");
    let mut steps = 0;
    for by in [400, -400] {
        let (mut still, mut was) = (0, f64::NAN);
        while still < 10 && steps < 1500 {
            let js = format!("const s = document.querySelector('[data-testid=message-list]'); s.scrollTop += {by}; return s.scrollTop;");
            let top = c.execute(&js, vec![]).await.unwrap().as_f64().unwrap_or(0.0);
            still = if top == was { still + 1 } else { 0 };
            was = top;
            steps += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if by > 0 {
            wait_css(c, "[data-testid=attachment-image][aria-label*='p199.jpg'][data-loaded=yes]").await;
        }
    }
    let held = c.execute("window.__watching = false; return window.__held;", vec![]).await.unwrap();
    let held: Vec<(u64, String)> = serde_json::from_value(held).unwrap_or_default();
    wait_css(c, "[data-testid=attachment-image][aria-label*='p000.jpg'][data-loaded=yes]").await;
    shot(c, "money-chat-06-oldest-picture").await;
    // The pane refreshes as many messages as it holds (over 200 now), whole and without an error: the
    // conversation's first words are still above the pictures.
    wait_css(c, "[data-testid=message-list] [data-testid=message]:first-of-type").await;
    let first = c
        .execute(
            "return document.querySelector('[data-testid=message-list]').innerText.indexOf('Pizza tonight') >= 0",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(first, serde_json::json!(true), "the conversation's start is still loaded");
    let banner = c.find(fantoccini::Locator::Css("[data-testid=message-list] .banner-err")).await;
    assert!(
        banner.is_err(),
        "no error in the conversation: {:?}",
        match banner {
            Ok(b) => b.text().await.ok(),
            Err(_) => None,
        }
    );
    let mut line = format!("    (200 pictures scrolled in {steps} steps of 400 px; held over 16 ms");
    for what in ["page", "thumbnails", "other"] {
        let mut ms: Vec<u64> = held.iter().filter(|h| h.1 == what).map(|h| h.0).collect();
        ms.sort_unstable();
        let (median, max) = (ms.get(ms.len() / 2).copied().unwrap_or(0), ms.last().copied().unwrap_or(0));
        line += &format!("; {what}: {} times, median {median} ms, max {max} ms {ms:?}", ms.len());
    }
    eprintln!("{line})");
}
