//! Attachments over HTTP and the socket: upload, type by content, limits and quota, members only, EXIF
//! gone from what others download, thumbnails, ranges, and a message that carries a file.
mod common;
use common::*;
use image::{DynamicImage, Rgb, RgbImage};
use img_parts::jpeg::Jpeg;
use img_parts::ImageEXIF;
use serde_json::{json, Value};
use tally_protocol::*;

/// A 640×360 JPEG that says where it was taken.
fn photo_with_gps() -> Vec<u8> {
    let img = DynamicImage::ImageRgb8(RgbImage::from_fn(640, 360, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 90])));
    let mut plain = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut plain), image::ImageFormat::Jpeg).unwrap();
    let mut j = Jpeg::from_bytes(plain.into()).unwrap();
    j.set_exif(Some(bytes::Bytes::from_static(b"Exif\0\0MM\0*\0\0\0\x08GPSLatitude 52.5200 N")));
    j.encoder().bytes().to_vec()
}

fn has_gps(b: &[u8]) -> bool {
    b.windows(11).any(|w| w == b"GPSLatitude")
}

async fn group(hub: &TestHub, a: &Session, others: &[&str]) -> Room {
    let mut ca = hub.connect(a).await;
    let members = others.iter().map(|s| s.to_string()).collect();
    match ca.request(|id| ClientFrame::RoomCreate { id, kind: RoomKind::Group, name: "Trip".into(), members }).await {
        Ok(Some(AckData::Room { room })) => room,
        other => panic!("{other:?}"),
    }
}

async fn upload(hub: &TestHub, who: &Session, room: RoomId, name: &str, body: Vec<u8>) -> (u16, Value) {
    let r = hub
        .http
        .post(format!("{}/v1/rooms/{room}/attachments?name={name}", hub.base))
        .bearer_auth(&who.access)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get(hub: &TestHub, who: &Session, path: &str, range: Option<&str>) -> reqwest::Response {
    let mut req = hub.http.get(format!("{}{path}", hub.base)).bearer_auth(&who.access);
    if let Some(r) = range {
        req = req.header("range", r);
    }
    req.send().await.unwrap()
}

fn attachment(v: &Value) -> Attachment {
    serde_json::from_value(v["attachment"].clone()).unwrap_or_else(|e| panic!("{e}: {v}"))
}

#[tokio::test]
async fn a_photo_reaches_the_room_without_its_location_and_only_members_read_it() {
    let hub = TestHub::start().await;
    let (a, b, c) = (hub.register("amy").await, hub.register("bea").await, hub.register("cyd").await);
    let room = group(&hub, &a, &["bea"]).await;
    let original = photo_with_gps();
    assert!(has_gps(&original));
    let (status, body) = upload(&hub, &a, room.id, "IMG_0042.jpg", original.clone()).await;
    assert_eq!(status, 200, "{body}");
    let att = attachment(&body);
    assert_eq!(
        (att.kind, att.mime.as_str(), att.width, att.height),
        (AttachmentKind::Image, "image/jpeg", Some(640), Some(360))
    );
    assert!(att.thumbnail && att.preview.as_deref().is_some_and(|p| p.starts_with("data:image/png;base64,")));
    assert_eq!(att.name, "IMG_0042.jpg");

    // Bea, a member, downloads it: the picture without its EXIF, shown inline, never sniffed.
    let r = get(&hub, &b, &format!("/v1/rooms/{}/attachments/{}", room.id, att.id), None).await;
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "image/jpeg");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["content-disposition"].to_str().unwrap().starts_with("inline"));
    let got = r.bytes().await.unwrap();
    assert_eq!(got.len() as u64, att.size);
    assert!(!has_gps(&got) && Jpeg::from_bytes(got.clone()).unwrap().exif().is_none());
    assert_eq!(image::load_from_memory(&got).unwrap().width(), 640);

    // Its thumbnail: small, and no EXIF either.
    let r = get(&hub, &b, &format!("/v1/rooms/{}/attachments/{}/thumbnail", room.id, att.id), None).await;
    assert_eq!(r.status(), 200);
    let thumb = r.bytes().await.unwrap();
    let t = image::load_from_memory(&thumb).unwrap();
    assert!(t.width() <= 480 && t.height() <= 480 && !has_gps(&thumb));
    assert!(Jpeg::from_bytes(thumb).unwrap().exif().is_none());

    // A range of it.
    let r = get(&hub, &b, &format!("/v1/rooms/{}/attachments/{}", room.id, att.id), Some("bytes=10-19")).await;
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"], format!("bytes 10-19/{}", att.size).as_str());
    assert_eq!(r.bytes().await.unwrap(), got.slice(10..20));
    let r = get(&hub, &b, &format!("/v1/rooms/{}/attachments/{}", room.id, att.id), Some("bytes=999999999-")).await;
    assert_eq!(r.status(), 416);

    // Cyd is not in the room: 403 with no byte of the file, for the file, its thumbnail and an upload.
    for path in [
        format!("/v1/rooms/{}/attachments/{}", room.id, att.id),
        format!("/v1/rooms/{}/attachments/{}/thumbnail", room.id, att.id),
    ] {
        let r = get(&hub, &c, &path, None).await;
        assert_eq!(r.status(), 403);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["code"], "forbidden");
    }
    let (status, body) = upload(&hub, &c, room.id, "x.jpg", original.clone()).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    let anon = hub.http.get(format!("{}/v1/rooms/{}/attachments/{}", hub.base, room.id, att.id)).send().await.unwrap();
    assert_eq!(anon.status(), 401);

    // The message carries it; bea sees it arrive on the room's channel.
    let (mut ca, mut cb) = (hub.connect(&a).await, hub.connect(&b).await);
    cb.subscribe(Channel::Room(room.id), None).await.unwrap();
    let (rid, aid) = (room.id, att.id.clone());
    let sent = ca
        .request(move |id| ClientFrame::MessageSend {
            id,
            room: rid,
            client_msg_id: "p1".into(),
            text: String::new(),
            attachment: Some(aid),
        })
        .await;
    let Ok(Some(AckData::Message { message })) = sent else { panic!("{sent:?}") };
    assert_eq!(message.attachment.as_ref(), Some(&att));
    loop {
        if let EventData::Message { message: m } = cb.event_on(Channel::Room(room.id)).await.data {
            assert_eq!(m.attachment, Some(att.clone()));
            break;
        }
    }
    // A file that was not uploaded to this room cannot be named.
    let other = group(&hub, &a, &["cyd"]).await;
    let aid = att.id.clone();
    let e = ca
        .request(move |id| ClientFrame::MessageSend {
            id,
            room: other.id,
            client_msg_id: "p2".into(),
            text: String::new(),
            attachment: Some(aid),
        })
        .await
        .unwrap_err();
    assert_eq!(e.0, ErrorCode::NotFound);
}

#[tokio::test]
async fn files_are_typed_by_their_content_not_their_name() {
    let hub = TestHub::start().await;
    let a = hub.register("amy").await;
    let room = group(&hub, &a, &[]).await;
    let refused: [(&str, &[u8]); 4] = [
        ("receipt.png", b"<!DOCTYPE html><html><script>steal()</script></html>"),
        ("logo.png", b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"steal()\"/>"),
        ("invoice.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"),
        ("photos.jpg", b"PK\x03\x04\x14\x00\x00\x00\x08\x00"),
    ];
    for (name, body) in refused {
        let (status, v) = upload(&hub, &a, room.id, name, body.to_vec()).await;
        assert_eq!((status, v["code"].as_str()), (415, Some("unsupported_type")), "{name}: {v}");
    }
    // A PDF named like a picture is a PDF: a download, never shown inline.
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec();
    let (status, v) = upload(&hub, &a, room.id, "../../bill.png", pdf).await;
    assert_eq!(status, 200, "{v}");
    let att = attachment(&v);
    assert_eq!(
        (att.kind, att.mime.as_str(), att.name.as_str(), att.thumbnail),
        (AttachmentKind::File, "application/pdf", "bill.png", false)
    );
    let r = get(&hub, &a, &format!("/v1/rooms/{}/attachments/{}", room.id, att.id), None).await;
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.headers()["content-disposition"], "attachment; filename*=UTF-8''bill%2Epng");
    let r = get(&hub, &a, &format!("/v1/rooms/{}/attachments/{}/thumbnail", room.id, att.id), None).await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn a_20_mib_file_goes_through_and_the_tenant_limit_and_quota_hold() {
    let hub = TestHub::start().await;
    let a = hub.register("amy").await;
    let room = group(&hub, &a, &[]).await;
    let mut big = b"%PDF-1.7\n".to_vec();
    big.resize(20 * 1024 * 1024, b'x');
    assert_eq!(hub.connect(&a).await.welcome.limits.attachment_max_bytes, 25 * 1024 * 1024, "the default");
    let (status, v) = upload(&hub, &a, room.id, "scan.pdf", big.clone()).await;
    assert_eq!(status, 200, "{v}");
    let att = attachment(&v);
    assert_eq!(att.size, big.len() as u64);
    use sha2::Digest;
    assert_eq!(att.id, hex::encode(sha2::Sha256::digest(&big)));
    let r = get(&hub, &a, &format!("/v1/rooms/{}/attachments/{}", room.id, att.id), None).await;
    assert_eq!(r.bytes().await.unwrap().len(), big.len());

    // The operator lowers the tenant's limits: 1 MiB a file, 1.5 MiB in all (20 MiB are already used).
    let (s, v) = hub
        .admin_post(
            "/v1/admin/attachment-limits",
            json!({"tenant": "default", "max_file_bytes": 1_048_576, "quota_bytes": 22_000_000}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["used_bytes"], big.len() as u64);
    // The next connection's welcome says so, for the app to check files before it queues them.
    assert_eq!(hub.connect(&a).await.welcome.limits.attachment_max_bytes, 1_048_576);
    let mut two = b"%PDF-1.7\n".to_vec();
    two.resize(2 * 1024 * 1024, b'y');
    let (status, v) = upload(&hub, &a, room.id, "two.pdf", two).await;
    assert_eq!((status, v["code"].as_str()), (413, Some("too_large")), "{v}");
    let mut part = b"%PDF-1.7\n".to_vec();
    part.resize(900_000, b'z');
    let (status, v) = upload(&hub, &a, room.id, "a.pdf", part.clone()).await;
    assert_eq!(status, 200, "{v}");
    part[100] = b'w';
    let (status, v) = upload(&hub, &a, room.id, "b.pdf", part).await;
    assert_eq!((status, v["code"].as_str()), (507, Some("quota_exceeded")), "{v}");
    // The same file again stores nothing new: accepted.
    let mut again = b"%PDF-1.7\n".to_vec();
    again.resize(900_000, b'z');
    assert_eq!(upload(&hub, &a, room.id, "a-again.pdf", again).await.0, 200);
}
