//! Native notifications: which events deserve one, preferences and quiet hours, raised once each.
use crate::store::Store;
use crate::view::{Prefs, QuietHours};
use crate::Error;
use std::sync::{Arc, Mutex};
use tally_protocol::{Message, Notification, NotificationKind, NotificationTarget, Priority, RoomKind};

/// One native notification.
#[derive(Debug, Clone, PartialEq)]
pub struct Native {
    /// Stable key: a notification or message is raised once per device, whatever replays.
    pub key: String,
    pub title: String,
    pub body: String,
    pub priority: Priority,
    pub target: Option<NotificationTarget>,
}

/// What acting on a notification asks the app to do.
#[derive(Debug, Clone, PartialEq)]
pub enum NoteAction {
    /// Show this screen (the transfer, the room at that message, the notification).
    Open(NotificationTarget),
    /// Bring the app's window back.
    ShowApp,
    /// End the app.
    Quit,
}

/// One action a notification offers: `key` `default` is a click on the notification itself.
#[derive(Debug, Clone, PartialEq)]
pub struct NoteButton {
    pub key: String,
    pub label: String,
    pub action: NoteAction,
}

impl NoteButton {
    pub fn new(key: &str, label: &str, action: NoteAction) -> NoteButton {
        NoteButton { key: key.into(), label: label.into(), action }
    }
}

/// Where every click on a notification goes, on every platform that reports clicks.
pub type OnAction = std::sync::Arc<dyn Fn(NoteAction) + Send + Sync>;

/// Shows notifications. Linux: `notify_dbus::DbusNotifier`; macOS and Windows: notify-rust; tests record.
pub trait Notifier: Send + Sync {
    fn show(&self, n: &Native) -> Result<(), Error>;
}

/// Keeps what would have been shown (tests, and platforms with no notification service).
#[derive(Default)]
pub struct RecordingNotifier {
    pub shown: Mutex<Vec<Native>>,
}
impl Notifier for RecordingNotifier {
    fn show(&self, n: &Native) -> Result<(), Error> {
        self.shown.lock().unwrap_or_else(|e| e.into_inner()).push(n.clone());
        Ok(())
    }
}

/// Desktop notifications through notify-rust where the app does not speak D-Bus itself (macOS, Windows).
/// These platforms bring the app forward on a click; the click's target is not reported (docs/ARCHITECTURE.md).
#[cfg(any(target_os = "macos", target_os = "windows"))]
pub struct DesktopNotifier {
    pub app_name: String,
}

/// The longest title and body a notification shows (system surfaces cut them anyway).
const TITLE_CHARS: usize = 120;
const BODY_CHARS: usize = 600;

/// Text for a notification's summary: one line, without hidden characters (`tally_protocol::text`: bidi
/// overrides and marks, zero-width characters, line breaks), on every platform.
pub fn notification_title(s: &str) -> String {
    tally_protocol::text::one_line(s, TITLE_CHARS)
}

/// Text for a notification's body. Servers that advertise `body-markup` (Desktop Notifications spec 1.2)
/// parse `<b>`, `<i>`, `&amp;` ...: there the text is escaped so others' text shows as typed; elsewhere it is
/// shown verbatim already.
pub fn notification_body(s: &str, markup: bool) -> String {
    let plain = tally_protocol::text::clean_text(s, BODY_CHARS);
    if !markup {
        return plain;
    }
    let mut out = String::with_capacity(plain.len());
    for c in plain.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(any(target_os = "macos", target_os = "windows"))]
impl Notifier for DesktopNotifier {
    fn show(&self, n: &Native) -> Result<(), Error> {
        let mut note = notify_rust::Notification::new();
        let (title, body) = (notification_title(&n.title), notification_body(&n.body, false));
        note.appname(&self.app_name).summary(&title).body(&body);
        note.show().map(|_| ()).map_err(|e| Error::Notify(e.to_string()))
    }
}

/// Minutes after local midnight at `at_ms` in time zone `tz` (daylight saving included).
pub fn local_minute_at(at_ms: i64, tz: &jiff::tz::TimeZone) -> u16 {
    match jiff::Timestamp::from_millisecond(at_ms) {
        Ok(ts) => {
            let t = ts.to_zoned(tz.clone());
            (t.hour() as u16) * 60 + t.minute() as u16
        }
        Err(_) => 0,
    }
}

/// Minutes after local midnight now, in the operating system's time zone (UTC when it cannot be read).
pub fn local_minute_now() -> u16 {
    let tz = jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC);
    local_minute_at(crate::store::now_ms(), &tz)
}

fn in_quiet_hours(q: &QuietHours, minute_of_day: u16) -> bool {
    if q.start_min == q.end_min {
        return false;
    }
    if q.start_min < q.end_min {
        (q.start_min..q.end_min).contains(&minute_of_day)
    } else {
        minute_of_day >= q.start_min || minute_of_day < q.end_min
    }
}

/// Whether a notification of this kind and priority may be shown now. Critical security alerts always show.
pub fn allowed(prefs: &Prefs, kind: NotificationKind, priority: Priority, local_minute: u16) -> bool {
    if kind == NotificationKind::Security && priority == Priority::Critical {
        return true;
    }
    if prefs.muted_kinds.contains(&kind) {
        return false;
    }
    match &prefs.quiet_hours {
        Some(q) if in_quiet_hours(q, local_minute) => priority == Priority::Critical,
        _ => true,
    }
}

/// Whether the user paused notifications (until a time still ahead); critical security alerts still show.
pub fn paused(prefs: &Prefs, kind: NotificationKind, priority: Priority, now_ms: i64) -> bool {
    let critical_security = kind == NotificationKind::Security && priority == Priority::Critical;
    !critical_security && prefs.notifications_paused_until.is_some_and(|until| now_ms < until)
}

/// Decides and raises native notifications for newly applied hub notifications and direct messages.
pub struct Raiser<'a> {
    pub store: &'a Store,
    pub notifier: &'a dyn Notifier,
    /// Minutes after local midnight (quiet hours are local).
    pub local_minute: u16,
    /// The room the user is looking at right now (no notification for it while the window is focused).
    pub focused_room: Option<i64>,
    /// The app lock hides the app: say that something happened, not what (no names, amounts or text).
    pub private: bool,
    /// The app's window is in front: news the app already shows the user (their own payment going
    /// through) gets no system popup.
    pub foreground: bool,
    /// The UI's language and money format (None until the UI said: the hub's text as it came).
    pub display: Option<Arc<crate::display::DisplayStyle>>,
}

/// What the app itself shows while it is in front, so a system popup would only repeat it: the
/// confirmation of the user's own payment (its failure still pops up: the user may have moved on).
fn shown_in_app(kind: NotificationKind, priority: Priority) -> bool {
    kind == NotificationKind::Transfer && priority == Priority::Low
}

impl Raiser<'_> {
    /// `worded`: the title and body are already in the UI's words (from the notification's text as data).
    fn raise(&self, mut n: Native, kind: NotificationKind, worded: bool) -> Result<bool, Error> {
        let lang = self.display.as_ref().map_or(crate::display::Lang::En, |d| d.lang());
        if self.private {
            let (title, body) = crate::display::private_text(lang, kind);
            (n.title, n.body) = (title.into(), body.into());
        } else if let (Some(d), false) = (&self.display, worded) {
            // The hub's "9.14 USD" as the app writes it ("$9.14"); people's names, memos and messages stay.
            if !matches!(kind, NotificationKind::Message | NotificationKind::Mention) {
                n.title = d.money.rewrite_hub_text(&n.title);
            }
            if crate::display::hub_writes_body(kind) {
                n.body = d.money.rewrite_hub_text(&n.body);
            }
        }
        // One sanitiser for every notifier (desktop and mobile): others' text reaches a system surface.
        (n.title, n.body) = (notification_title(&n.title), notification_body(&n.body, false));
        let prefs = self.store.prefs()?;
        let held = paused(&prefs, kind, n.priority, crate::store::now_ms());
        if held || !allowed(&prefs, kind, n.priority, self.local_minute) {
            // Remember it anyway so it is not raised later by a replay.
            self.store.mark_notified(&n.key)?;
            return Ok(false);
        }
        if !self.store.mark_notified(&n.key)? {
            return Ok(false);
        }
        if self.foreground && shown_in_app(kind, n.priority) {
            return Ok(true); // new (the app's own toast says it), but no system popup
        }
        if let Err(e) = self.notifier.show(&n) {
            // Say it once (a missing notification service is not news the second time).
            static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
            if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
                tracing::warn!(error = %e, "native notifications are unavailable; they are kept in the app's notification centre");
            } else {
                tracing::debug!(error = %e, "native notification failed");
            }
        }
        Ok(true)
    }

    pub fn notification(&self, n: &Notification) -> Result<bool, Error> {
        // Old news (applied from a long replay) is not raised.
        if crate::store::now_ms() - n.created_at > 24 * 3600 * 1000 || n.read {
            self.store.mark_notified(&format!("n:{}", n.id))?;
            return Ok(false);
        }
        if let (Some(NotificationTarget::Room { id, .. }), Some(f)) = (&n.target, self.focused_room) {
            if *id == f {
                self.store.mark_notified(&format!("n:{}", n.id))?;
                return Ok(false);
            }
        }
        // In the UI's words where the hub sent the text as data and the UI said how it words it.
        let worded = match (&self.display, &n.text) {
            (Some(d), Some(text)) => d.word(text, &n.body),
            _ => None,
        };
        let (title, body) = worded.clone().unwrap_or_else(|| (n.title.clone(), n.body.clone()));
        let native = Native { key: format!("n:{}", n.id), title, body, priority: n.priority, target: n.target.clone() };
        self.raise(native, n.kind, worded.is_some())
    }

    /// Direct messages from others (mentions in groups arrive as hub notifications).
    pub fn message(&self, m: &Message) -> Result<bool, Error> {
        // Direct rooms only (a group's messages reach you as mentions), and not a room you muted.
        let room = self.store.room(m.room)?;
        let is_direct = room.as_ref().is_some_and(|r| r.kind == RoomKind::Direct && !r.muted);
        if !is_direct || self.focused_room == Some(m.room) || crate::store::now_ms() - m.sent_at > 24 * 3600 * 1000 {
            return Ok(false);
        }
        let body: String = match (&m.attachment, m.text.is_empty()) {
            // A picture or a file says what it is (its caption follows when there is one).
            (Some(a), true) => format!("📎 {}", a.name),
            (Some(a), false) => format!("📎 {} — {}", a.name, m.text),
            (None, _) => m.text.clone(),
        }
        .chars()
        .take(140)
        .collect();
        self.raise(
            Native {
                key: format!("m:{}", m.id),
                title: m.sender.display_name.clone(),
                body,
                priority: Priority::Normal,
                target: Some(NotificationTarget::Room { id: m.room, message: Some(m.id) }),
            },
            NotificationKind::Message,
            false,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn others_text_in_a_notification_is_escaped_for_markup_servers_and_loses_bidi_overrides() {
        let body = "<b>bold</b> & <i>co</i> \u{202E}evil";
        assert_eq!(notification_body(body, true), "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;co&lt;/i&gt; evil");
        assert_eq!(notification_body(body, false), "<b>bold</b> & <i>co</i> evil");
        assert_eq!(notification_title("Bob \u{2067}paid\u{2069} you"), "Bob paid you");
        assert_eq!(notification_title("Mallory\nBank\u{200F} of\u{200B} Tally"), "Mallory Bank of Tally");
    }

    /// Every notifier (the desktop one, the mobile plugin, a recorder) gets text already cleaned: the
    /// sanitiser runs where notifications are raised, not in one platform's notifier.
    #[test]
    fn every_notifier_gets_one_clean_line_for_a_title() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.db"), 1).unwrap();
        let rec = RecordingNotifier::default();
        let raiser = Raiser {
            store: &store,
            notifier: &rec,
            local_minute: 600,
            focused_room: None,
            private: false,
            foreground: false,
            display: None,
        };
        let n = Notification {
            id: 7,
            kind: NotificationKind::Payment,
            priority: Priority::Normal,
            title: "Payment from Mallory\n\u{200E}Bank\u{202E}".into(),
            body: "12.00 USD\u{2066} for rent\u{FEFF}".into(),
            target: None,
            text: None,
            read: false,
            created_at: crate::store::now_ms(),
        };
        assert!(raiser.notification(&n).unwrap());
        let shown = rec.shown.lock().unwrap();
        assert_eq!(
            (shown[0].title.as_str(), shown[0].body.as_str()),
            ("Payment from Mallory Bank", "12.00 USD for rent")
        );
    }

    /// Your own payment going through, while you watch it in the app: the app says it, no system popup;
    /// with the window closed, the popup comes; a failure pops up either way.
    #[test]
    fn your_own_payment_pops_up_only_while_the_app_is_out_of_sight() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.db"), 1).unwrap();
        let rec = RecordingNotifier::default();
        let note = |id, priority| Notification {
            id,
            kind: NotificationKind::Transfer,
            priority,
            title: "12.00 USD sent to Bob".into(),
            body: String::new(),
            target: None,
            text: None,
            read: false,
            created_at: crate::store::now_ms(),
        };
        let front = Raiser {
            store: &store,
            notifier: &rec,
            local_minute: 600,
            focused_room: None,
            private: false,
            foreground: true,
            display: None,
        };
        assert!(front.notification(&note(1, Priority::Low)).unwrap(), "new: the app's toast says it");
        assert!(front.notification(&note(2, Priority::High)).unwrap());
        let back = Raiser { foreground: false, ..front };
        assert!(back.notification(&note(3, Priority::Low)).unwrap());
        let keys: Vec<String> = rec.shown.lock().unwrap().iter().map(|n| n.key.clone()).collect();
        assert_eq!(keys, ["n:2", "n:3"]);
    }

    #[test]
    fn quiet_hours_follow_the_local_zone_across_a_dst_change() {
        let berlin = jiff::tz::TimeZone::get("Europe/Berlin").expect("tzdata");
        let quiet =
            Prefs { quiet_hours: Some(QuietHours { start_min: 22 * 60, end_min: 7 * 60 }), ..Default::default() };
        // 05:30 UTC: 06:30 in Berlin on Saturday (CET, quiet), 07:30 on Sunday after clocks went forward.
        let saturday = 1_774_675_800_000; // 2026-03-28T05:30:00Z
        let sunday = saturday + 86_400_000;
        assert_eq!(local_minute_at(saturday, &berlin), 6 * 60 + 30);
        assert_eq!(local_minute_at(sunday, &berlin), 7 * 60 + 30);
        assert!(!allowed(&quiet, NotificationKind::Payment, Priority::Normal, local_minute_at(saturday, &berlin)));
        assert!(allowed(&quiet, NotificationKind::Payment, Priority::Normal, local_minute_at(sunday, &berlin)));
        assert_eq!(local_minute_at(sunday, &jiff::tz::TimeZone::UTC), 5 * 60 + 30);
    }

    #[test]
    fn quiet_hours_wrap_midnight_and_critical_security_always_shows() {
        let prefs = Prefs {
            quiet_hours: Some(QuietHours { start_min: 22 * 60, end_min: 7 * 60 }),
            muted_kinds: vec![NotificationKind::Security],
            ..Default::default()
        };
        assert!(!allowed(&prefs, NotificationKind::Payment, Priority::High, 23 * 60));
        assert!(!allowed(&prefs, NotificationKind::Payment, Priority::Normal, 6 * 60));
        assert!(allowed(&prefs, NotificationKind::Payment, Priority::Normal, 12 * 60));
        assert!(!allowed(&prefs, NotificationKind::Security, Priority::High, 12 * 60), "muted");
        assert!(allowed(&prefs, NotificationKind::Security, Priority::Critical, 23 * 60), "critical security always");
    }

    #[test]
    fn a_pause_holds_notifications_until_it_ends_but_not_critical_security() {
        let now = 1_800_000_000_000;
        let prefs = Prefs { notifications_paused_until: Some(now + 3_600_000), ..Default::default() };
        assert!(paused(&prefs, NotificationKind::Payment, Priority::High, now));
        assert!(paused(&prefs, NotificationKind::Security, Priority::High, now));
        assert!(!paused(&prefs, NotificationKind::Security, Priority::Critical, now), "critical security always");
        assert!(!paused(&prefs, NotificationKind::Payment, Priority::High, now + 3_600_000), "it ends");
        assert!(!paused(&Prefs::default(), NotificationKind::Payment, Priority::High, now));
    }
}
