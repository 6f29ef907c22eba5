//! The embedded store on a disk that fills up: a real (small) tmpfs under the hub's data dir.
mod common;
use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use tally_protocol::*;

/// A tmpfs of `size` mounted on a fresh directory, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        // Mounting needs root (CI runs as root on its own machine); anywhere else this test says why it
        // cannot run instead of pretending to pass.
        let uid = Command::new("id").arg("-u").output().ok()?;
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            eprintln!("SKIPPED: mounting a small tmpfs needs root");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .unwrap()
            .success();
        assert!(ok, "mount tmpfs on {}", dir.path().display());
        Some(SmallDisk { dir })
    }
    fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// Writes a file until the disk says no space; returns its path.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![7u8; 16 * 1024];
    for _ in 0..100_000 {
        if f.write_all(&chunk).and_then(|_| f.sync_data()).is_err() {
            return path;
        }
    }
    panic!("the disk never filled up");
}

async fn send(c: &mut Client, room: RoomId, n: u32) -> Result<Option<AckData>, (ErrorCode, String)> {
    c.request(|id| ClientFrame::MessageSend {
        id,
        room,
        client_msg_id: format!("m{n}"),
        text: format!("line {n}"),
        attachment: None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_gives_typed_retryable_errors_loses_nothing_and_service_resumes() {
    let Some(disk) = SmallDisk::mount("6m") else { return };
    let mut hub = TestHub::start_sqlite_with(|c| c.data_dir = disk.path()).await;
    let ann = hub.register("ann").await;
    hub.register("ben").await;
    hub.deposit("ann", 100_000).await;
    let mut c = hub.connect(&ann).await;
    let room = match c
        .request(|id| ClientFrame::RoomCreate {
            id,
            kind: RoomKind::Direct,
            name: String::new(),
            members: vec!["ben".into()],
        })
        .await
        .unwrap()
    {
        Some(AckData::Room { room }) => room.id,
        other => panic!("{other:?}"),
    };
    let filler = fill(&disk.path());

    // Writes go on until the store cannot grow; then each is refused with the retryable `unavailable`.
    let mut acked = 0u32;
    let mut refused = None;
    for n in 0..5_000 {
        match send(&mut c, room, n).await {
            Ok(_) => acked += 1,
            Err((code, message)) => {
                refused = Some((n, code, message));
                break;
            }
        }
    }
    let (first_refused, code, message) = refused.expect("a full disk refused nothing");
    eprintln!("{acked} messages stored before the disk said no: {message}");
    assert_eq!(code, ErrorCode::Unavailable, "{message}");
    assert!(code.retryable());
    let t = c.transfer("pay-1", "ben", 1_000).await;
    assert!(matches!(&t, Err((ErrorCode::Unavailable, _))), "a transfer on a full disk: {t:?}");
    // Reads of what is stored still work.
    let history =
        c.request(|id| ClientFrame::History { id, channel: Channel::Room(room), before: None, limit: 10 }).await;
    assert!(history.is_ok(), "{history:?}");

    // Space comes back: the same requests (same keys) go through, once each.
    std::fs::remove_file(&filler).unwrap();
    assert!(send(&mut c, room, first_refused).await.is_ok(), "service resumes");
    assert!(send(&mut c, room, first_refused).await.is_ok(), "a repeat is the same message");
    let t = c.transfer("pay-1", "ben", 1_000).await.expect("the transfer goes through once there is space");
    assert_eq!(t.amount.minor, 1_000);
    let h = c
        .request(|id| ClientFrame::History { id, channel: Channel::Room(room), before: None, limit: 1 })
        .await
        .unwrap();
    let Some(AckData::History { total, .. }) = h else { panic!("{h:?}") };
    assert_eq!(total, Some(acked as u64 + 1), "every acknowledged message kept, the retried one once");
    assert_eq!(hub.invariants_ok().await["ok"], true);
    hub.running.take().unwrap().shutdown().await;
    let db = rusqlite::Connection::open(disk.path().join("hub.db")).unwrap();
    let check: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
}
