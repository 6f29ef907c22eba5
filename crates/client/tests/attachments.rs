//! Files and pictures from the app against a real hub: refused on this device before upload, a 20 MiB
//! upload reporting progress, a picture queued offline and sent once after reconnect, thumbnails kept
//! for offline use, downloads saved, an upload cancelled mid-way, and the tenant's own file limit.
mod support;
use image::{DynamicImage, Rgb, RgbImage};
use std::time::Duration;
use support::*;
use tally_client::view::*;
use tally_protocol::*;
use tokio::sync::broadcast::Receiver;

async fn signed_in(server: &str, name: &str, dir: &std::path::Path) -> App {
    let app = App::new(dir);
    app.engine.sign_in(server, name, "pass-word-123", None).await.expect("sign in");
    app.wait_live().await;
    app
}

fn photo() -> Vec<u8> {
    let img = DynamicImage::ImageRgb8(RgbImage::from_fn(800, 600, |x, y| Rgb([(x / 4) as u8, (y / 3) as u8, 128])));
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Jpeg).unwrap();
    out
}

fn pdf(len: usize) -> Vec<u8> {
    let mut b = b"%PDF-1.7\n".to_vec();
    b.extend((0..len - 9).map(|i| (i % 251) as u8));
    b
}

/// Messages of `room` in `app`'s cache that carry a file the hub stored.
fn files_in(app: &App, room: RoomId) -> Vec<Attachment> {
    let page = futures_util::FutureExt::now_or_never(app.engine.messages(room, None, 200)).unwrap().unwrap();
    page.into_iter().filter_map(|m| m.message.attachment.filter(|a| !a.id.is_empty() && m.message.id > 0)).collect()
}

async fn direct_room(app: &App, with: &str) -> RoomId {
    app.engine.create_room(RoomKind::Direct, "", vec![with.into()]).await.unwrap().room.id
}

/// Upload progress events for `item` until the last byte.
async fn progress_of(events: &mut Receiver<AppEvent>, item: i64) -> Vec<(u64, u64)> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(AppEvent::Upload { item: i, sent, total })) if i == item => {
                seen.push((sent, total));
                if sent == total {
                    return seen;
                }
            }
            Ok(Ok(_)) => {}
            other => panic!("no upload progress: {other:?}; seen {seen:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_is_checked_on_this_device_before_anything_is_sent() {
    let hub = Hub::start().await;
    hub.register("kim").await;
    hub.register("lou").await;
    let dir = tempfile::tempdir().unwrap();
    let kim = signed_in(&hub.url(), "kim", dir.path()).await;
    let room = direct_room(&kim, "lou").await;
    let html = b"<!doctype html><script>alert(1)</script>".to_vec();
    let e = kim.engine.send_file(room, "receipt.png", html, "").unwrap_err();
    assert_eq!(e.code(), CommandErrorCode::Hub(ErrorCode::UnsupportedType), "{e}");
    let e = kim.engine.send_file(room, "setup.exe", b"MZ\x90\0\x03\0\0\0".to_vec(), "").unwrap_err();
    assert_eq!(e.code(), CommandErrorCode::Hub(ErrorCode::UnsupportedType));
    let e = kim.engine.send_file(room, "huge.pdf", pdf(26 * 1024 * 1024), "").unwrap_err();
    assert_eq!(e.code(), CommandErrorCode::Hub(ErrorCode::TooLarge));
    assert!(kim.engine.outbox().unwrap().is_empty(), "nothing refused is queued");
}

const MIB: u64 = 1024 * 1024;

fn announced_file_limit(app: &App) -> Option<u64> {
    app.engine.session().and_then(|s| s.limits).map(|l| l.attachment_max_bytes)
}

/// The operator raises the tenant's file limit past the default: after the app's next connection a file
/// the default refused goes through; lowered, a file under the default is refused on the device.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_checks_files_against_the_tenants_own_limit() {
    let mut hub = Hub::start().await;
    hub.register("kim").await;
    hub.register("lou").await;
    let dir = tempfile::tempdir().unwrap();
    let kim = signed_in(&hub.url(), "kim", dir.path()).await;
    let room = direct_room(&kim, "lou").await;
    assert_eq!(announced_file_limit(&kim), Some(25 * MIB), "the hub's default, announced in welcome");
    let scan = pdf(30 * MIB as usize);
    let e = kim.engine.send_file(room, "scan.pdf", scan.clone(), "").unwrap_err();
    assert_eq!(e.code(), CommandErrorCode::Hub(ErrorCode::TooLarge), "{e}");

    hub.file_limits(40 * MIB, 10 * 1024 * MIB).await;
    hub.stop().await;
    hub.start_again().await;
    kim.until("the raised limit announced", |_| announced_file_limit(&kim) == Some(40 * MIB)).await;
    kim.engine.send_file(room, "scan.pdf", scan.clone(), "").expect("30 MiB fits the tenant's 40 MiB");
    kim.until("the file sent", |e| e.outbox().unwrap().is_empty()).await;
    assert_eq!(files_in(&kim, room).iter().map(|a| a.size).collect::<Vec<_>>(), vec![scan.len() as u64]);

    hub.file_limits(MIB + MIB / 2, 10 * 1024 * MIB).await;
    hub.stop().await;
    hub.start_again().await;
    kim.until("the lowered limit announced", |_| announced_file_limit(&kim) == Some(MIB + MIB / 2)).await;
    let e = kim.engine.send_file(room, "two.pdf", pdf(2 * MIB as usize), "").unwrap_err();
    assert_eq!(e.code(), CommandErrorCode::Hub(ErrorCode::TooLarge));
    assert!(e.to_string().contains("at most 1.5 MiB here"), "{e}");
    assert!(kim.engine.outbox().unwrap().is_empty(), "nothing refused is queued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_20_mib_file_goes_up_with_progress_and_comes_down_to_the_other_side() {
    let hub = Hub::start().await;
    hub.register("kim").await;
    hub.register("lou").await;
    let (dk, dl) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let kim = signed_in(&hub.url(), "kim", dk.path()).await;
    let lou = signed_in(&hub.url(), "lou", dl.path()).await;
    let room = direct_room(&kim, "lou").await;
    let mut events = kim.engine.events();
    let big = pdf(20 * 1024 * 1024);
    let echo = kim.engine.send_file(room, "scan.pdf", big.clone(), "the contract").unwrap();
    assert_eq!(echo.local, LocalState::Pending);
    let progress = progress_of(&mut events, echo.outbox_id.unwrap()).await;
    assert!(progress.len() >= 20, "about one report per percent: {}", progress.len());
    assert!(progress.windows(2).all(|w| w[0].0 < w[1].0), "progress only grows");
    kim.until("the file sent", |e| e.outbox().unwrap().is_empty()).await;
    lou.until("the file arrived", |_| !files_in(&lou, room).is_empty()).await;
    let att = files_in(&lou, room).remove(0);
    assert_eq!((att.name.as_str(), att.size, att.kind), ("scan.pdf", big.len() as u64, AttachmentKind::File));

    // Lou saves it: downloaded with progress, then kept for offline use.
    let mut down = lou.engine.events();
    let path = dl.path().join("saved.pdf");
    lou.engine.save_attachment(room, &att.id, &path).await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), big);
    let mut reports = 0;
    while let Ok(e) = down.try_recv() {
        if matches!(e, AppEvent::Download { ref id, .. } if *id == att.id) {
            reports += 1;
        }
    }
    assert!(reports >= 20, "download progress: {reports} reports");
    assert!(lou.engine.file_cache().unwrap().used_bytes >= big.len() as u64);
    // The sender keeps what it sent: no download needed.
    assert_eq!(kim.engine.attachment_bytes(room, &att.id).await.unwrap(), big);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_picture_sent_offline_goes_once_after_reconnect_and_its_thumbnail_stays_offline() {
    let hub = Hub::start().await;
    hub.register("kim").await;
    hub.register("lou").await;
    let proxy = Proxy::start(hub.addr).await;
    let (dk, dl) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let kim = signed_in(&proxy.url(), "kim", dk.path()).await;
    let lou_proxy = Proxy::start(hub.addr).await;
    let lou = signed_in(&lou_proxy.url(), "lou", dl.path()).await;
    let room = direct_room(&kim, "lou").await;

    proxy.refuse();
    proxy.cut();
    kim.wait_not_live().await;
    let echo = kim.engine.send_file(room, "dinner.jpg", photo(), "our table 🍝").unwrap();
    let item = echo.outbox_id.unwrap();
    assert_eq!(kim.engine.outbox().unwrap().len(), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(kim.engine.outbox().unwrap().len(), 1, "still queued while offline");
    let mut events = kim.engine.events();
    proxy.heal();
    kim.engine.reconnect_now().unwrap();
    progress_of(&mut events, item).await;
    kim.until("the picture sent", |e| e.outbox().unwrap().is_empty()).await;
    lou.until("the picture arrived", |_| !files_in(&lou, room).is_empty()).await;
    let att = files_in(&lou, room).remove(0);
    assert!(att.thumbnail && att.width == Some(800) && att.preview.is_some());
    let on_hub: i64 = hub
        .db()
        .query_row("SELECT COUNT(*) FROM messages WHERE room_id = ?1 AND attachment IS NOT NULL", [room], |r| r.get(0))
        .unwrap();
    assert_eq!(on_hub, 1, "sent once");

    // Lou's app fetched the thumbnail by itself; it shows with the network gone.
    lou.until("the thumbnail kept", |e| e.file_cache().unwrap().used_bytes > 0).await;
    lou_proxy.refuse();
    lou_proxy.cut();
    lou.wait_not_live().await;
    let thumb = lou.engine.attachment_thumbnail(room, &att.id).await.unwrap();
    assert!(thumb.starts_with("data:image/jpeg;base64,"));
    let e = lou.engine.open_picture(room, &att.id).await.unwrap_err();
    assert_eq!(e.code(), CommandErrorCode::Local(LocalErrorCode::Network), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_cancelled_half_way_sends_nothing() {
    let hub = Hub::start().await;
    hub.register("kim").await;
    hub.register("lou").await;
    let proxy = Proxy::start(hub.addr).await;
    let dk = tempfile::tempdir().unwrap();
    let kim = signed_in(&proxy.url(), "kim", dk.path()).await;
    let room = direct_room(&kim, "lou").await;
    let mut events = kim.engine.events();
    proxy.stall();
    let echo = kim.engine.send_file(room, "scan.pdf", pdf(20 * 1024 * 1024), "").unwrap();
    let item = echo.outbox_id.unwrap();
    loop {
        match tokio::time::timeout(Duration::from_secs(20), events.recv()).await {
            Ok(Ok(AppEvent::Upload { item: i, sent, total })) if i == item && sent < total => break,
            Ok(Ok(_)) => {}
            other => panic!("the upload did not start: {other:?}"),
        }
    }
    kim.engine.discard_outbox(item).unwrap();
    proxy.heal();
    assert!(kim.engine.outbox().unwrap().is_empty());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let on_hub: i64 =
        hub.db().query_row("SELECT COUNT(*) FROM messages WHERE room_id = ?1", [room], |r| r.get(0)).unwrap();
    assert_eq!(on_hub, 0, "a cancelled file is never sent");
    assert!(files_in(&kim, room).is_empty());
}
