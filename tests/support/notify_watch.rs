//! What the notification daemon is asked to show, read off the session bus with `dbus-monitor` (every
//! `Notify` call: app name, summary, body), for tests that check a notification as the user would see it.
#![allow(dead_code)]
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Asks the notification daemon (dunst) something: `count displayed`, `action 0`, `close-all`.
pub fn dunstctl(args: &[&str]) -> String {
    let out = Command::new("dunstctl").args(args).output().expect("dunstctl (dunst) is installed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits until the daemon shows `n` notifications.
pub async fn displayed(n: usize) {
    for _ in 0..100 {
        if dunstctl(&["count", "displayed"]).trim() == n.to_string() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the daemon does not show {n} notification(s): {}", dunstctl(&["count", "displayed"]));
}

/// One `Notify` call seen on the bus.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub app: String,
    pub summary: String,
    pub body: String,
    pub actions: Vec<String>,
}

pub struct NotifyWatch {
    child: Child,
    seen: Arc<Mutex<Vec<Shown>>>,
}

impl NotifyWatch {
    /// Starts watching (None without `dbus-monitor` or a session bus).
    pub fn start() -> Option<NotifyWatch> {
        let mut child = Command::new("dbus-monitor")
            .args(["--session", "type='method_call',interface='org.freedesktop.Notifications',member='Notify'"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let out = child.stdout.take()?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        std::thread::spawn(move || parse(BufReader::new(out), &sink));
        // dbus-monitor prints its own NameAcquired first; give it a moment to be on the bus.
        std::thread::sleep(Duration::from_millis(300));
        Some(NotifyWatch { child, seen })
    }

    pub fn all(&self) -> Vec<Shown> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits up to `wait` for a notification whose summary contains `needle`.
    pub fn wait_for(&self, needle: &str, wait: Duration) -> Option<Shown> {
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if let Some(s) = self.all().into_iter().find(|s| s.summary.contains(needle)) {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for NotifyWatch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// dbus-monitor prints a call's header, then one argument per line: `string "…"`, `uint32 0`, `array [`;
/// a call is complete when its actions array (the first array) closes.
fn parse(out: impl BufRead, sink: &Mutex<Vec<Shown>>) {
    let mut strings: Option<Vec<String>> = None;
    let mut in_actions = false;
    let mut actions = Vec::new();
    for line in out.lines().map_while(Result::ok) {
        if line.starts_with("method call") {
            finish(&mut strings, &mut actions, sink);
            if line.contains("member=Notify") {
                strings = Some(Vec::new());
            }
            continue;
        }
        let Some(args) = strings.as_mut() else { continue };
        let t = line.trim();
        if t.starts_with("array [") && args.len() == 4 {
            in_actions = true;
        } else if t == "]" && in_actions {
            // The actions are the call's last field of interest: it is complete.
            in_actions = false;
            finish(&mut strings, &mut actions, sink);
        } else if let Some(s) = t.strip_prefix("string \"").and_then(|s| s.strip_suffix('"')) {
            if in_actions {
                actions.push(s.to_string());
            } else if args.len() < 4 {
                args.push(s.to_string());
            }
        }
    }
    finish(&mut strings, &mut actions, sink);
}

fn finish(strings: &mut Option<Vec<String>>, actions: &mut Vec<String>, sink: &Mutex<Vec<Shown>>) {
    if let Some(a) = strings.take() {
        if a.len() == 4 {
            let shown =
                Shown { app: a[0].clone(), summary: a[2].clone(), body: a[3].clone(), actions: actions.clone() };
            sink.lock().unwrap().push(shown);
        }
    }
    actions.clear();
}
