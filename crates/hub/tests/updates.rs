//! The app's update feed served by the hub (`--updates-dir`): the files of that directory at /updates/,
//! nothing outside it, no listing; without the flag there is no /updates/.
mod common;
use common::*;

#[tokio::test]
async fn the_update_feed_serves_its_directory_and_nothing_else() {
    let feed = tempfile::tempdir().unwrap();
    let latest = r#"{"version":"0.2.0","platforms":{}}"#;
    std::fs::write(feed.path().join("latest.json"), latest).unwrap();
    std::fs::write(feed.path().join("Tally_0.2.0_amd64.deb"), vec![7u8; 4096]).unwrap();
    let dir = feed.path().to_path_buf();
    let hub = TestHub::start_with(move |c| c.updates_dir = Some(dir)).await;
    let get = |path: &str| hub.http.get(format!("{}{path}", hub.base)).send();
    let r = get("/updates/latest.json").await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().await.unwrap(), latest);
    // A download can resume where it stopped.
    let r = hub.http.get(format!("{}/updates/Tally_0.2.0_amd64.deb", hub.base)).header("range", "bytes=4000-").send();
    let r = r.await.unwrap();
    assert_eq!(r.status().as_u16(), 206);
    assert_eq!(r.bytes().await.unwrap().len(), 96);
    for outside in ["/updates/../hub.db", "/updates/%2e%2e/hub.db", "/updates/..%2fjwt.secret", "/updates/"] {
        let r = get(outside).await.unwrap();
        assert_eq!(r.status().as_u16(), 404, "{outside}");
    }
    let plain = TestHub::start().await;
    let r = plain.http.get(format!("{}/updates/latest.json", plain.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404, "no feed without --updates-dir");
}
