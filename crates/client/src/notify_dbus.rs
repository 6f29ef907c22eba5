//! Native notifications on Linux through the Desktop Notifications service (`org.freedesktop.Notifications`)
//! over one session-bus connection of the app's, with one listener for what the user does with them.
//!
//! Servers send `ActionInvoked` and `NotificationClosed` to the connection that raised the notification
//! only, so raising and listening must share a connection: notify-rust opens one per notification and
//! would park a thread on each to hear its click. Here one thread holds the connection, raises every
//! notification and hears every click, and a bounded table maps a notification's id to what its actions
//! do ([`NoteAction`]), handed to one callback.
use crate::notify::{notification_body, notification_title, Native, NoteAction, NoteButton, Notifier, OnAction};
use crate::Error;
use futures_util::StreamExt;
use std::collections::{HashMap, VecDeque};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tally_protocol::Priority;
use tokio::sync::mpsc;

const DEST: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";
/// Notifications whose actions are remembered (older ones are long gone from the screen).
const REMEMBERED: usize = 256;
/// How long `show` waits for the service to answer.
const ANSWER: Duration = Duration::from_secs(3);

struct Request {
    title: String,
    body: String,
    urgency: u8,
    buttons: Vec<NoteButton>,
    answer: std_mpsc::SyncSender<Result<u32, Error>>,
}

/// Which actions each shown notification offers, oldest first out.
#[derive(Default)]
struct Actions {
    by_id: HashMap<u32, Vec<NoteButton>>,
    order: VecDeque<u32>,
}

impl Actions {
    fn remember(&mut self, id: u32, buttons: Vec<NoteButton>) {
        if buttons.is_empty() {
            return;
        }
        if self.by_id.insert(id, buttons).is_none() {
            self.order.push_back(id);
        }
        while self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.by_id.remove(&old);
            }
        }
    }

    /// What the button `key` of notification `id` does (once: a notification is acted on once).
    fn take(&mut self, id: u32, key: &str) -> Option<NoteAction> {
        let buttons = self.by_id.remove(&id)?;
        self.order.retain(|i| *i != id);
        buttons.into_iter().find(|b| b.key == key).map(|b| b.action)
    }

    fn forget(&mut self, id: u32) {
        if self.by_id.remove(&id).is_some() {
            self.order.retain(|i| *i != id);
        }
    }
}

/// The app's notifications on Linux: one connection, one thread, one callback for every click.
pub struct DbusNotifier {
    requests: mpsc::UnboundedSender<Request>,
    actions: Arc<Mutex<Actions>>,
}

impl DbusNotifier {
    /// Starts the notification thread. `on_action` runs (on that thread) when the user clicks a
    /// notification or one of its buttons.
    pub fn start(app_name: &str, on_action: OnAction) -> Arc<DbusNotifier> {
        let (tx, rx) = mpsc::unbounded_channel();
        let actions = Arc::new(Mutex::new(Actions::default()));
        let (name, table) = (app_name.to_string(), actions.clone());
        let spawned = std::thread::Builder::new().name("tally-notify".into()).spawn(move || {
            match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt.block_on(serve(name, rx, table, on_action)),
                Err(e) => tracing::warn!(error = %e, "notification runtime"),
            }
        });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "could not start the notification thread");
        }
        Arc::new(DbusNotifier { requests: tx, actions })
    }

    /// Shows a notification with buttons (the `default` key is a click on the notification itself).
    pub fn notice(&self, title: &str, body: &str, urgency: Priority, buttons: Vec<NoteButton>) -> Result<u32, Error> {
        let (answer, answered) = std_mpsc::sync_channel(1);
        let urgency = match urgency {
            Priority::Low => 0,
            Priority::Critical => 2,
            _ => 1,
        };
        let req = Request { title: title.into(), body: body.into(), urgency, buttons, answer };
        self.requests.send(req).map_err(|_| Error::Notify("the notification thread has stopped".into()))?;
        answered.recv_timeout(ANSWER).map_err(|_| Error::Notify("the notification service did not answer".into()))?
    }

    /// Notifications shown whose actions are still waiting for a click (tests).
    pub fn waiting(&self) -> usize {
        self.actions.lock().unwrap_or_else(|e| e.into_inner()).by_id.len()
    }
}

impl Notifier for DbusNotifier {
    fn show(&self, n: &Native) -> Result<(), Error> {
        let buttons = match &n.target {
            Some(t) => vec![NoteButton::new("default", "Open", NoteAction::Open(t.clone()))],
            None => vec![NoteButton::new("default", "Open", NoteAction::ShowApp)],
        };
        self.notice(&n.title, &n.body, n.priority, buttons).map(|_| ())
    }
}

/// The connection and the proxy, made when first needed (and again after the bus went away).
struct Bus {
    proxy: zbus::Proxy<'static>,
    markup: bool,
}

async fn connect(actions: &Arc<Mutex<Actions>>, on_action: &OnAction) -> zbus::Result<Bus> {
    let conn = zbus::Connection::session().await?;
    let proxy = zbus::Proxy::new_owned(conn, DEST, PATH, DEST).await?;
    let caps: Vec<String> = proxy.call("GetCapabilities", &()).await.unwrap_or_default();
    let mut invoked = proxy.receive_signal("ActionInvoked").await?;
    let mut closed = proxy.receive_signal("NotificationClosed").await?;
    let (table, cb) = (actions.clone(), on_action.clone());
    tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(m) = invoked.next() => {
                    let Ok((id, key)) = m.body().deserialize::<(u32, String)>() else { continue };
                    let action = table.lock().unwrap_or_else(|e| e.into_inner()).take(id, &key);
                    if let Some(a) = action {
                        cb(a);
                    }
                }
                Some(m) = closed.next() => {
                    if let Ok((id, _reason)) = m.body().deserialize::<(u32, u32)>() {
                        table.lock().unwrap_or_else(|e| e.into_inner()).forget(id);
                    }
                }
                else => break,
            }
        }
    });
    Ok(Bus { proxy, markup: caps.iter().any(|c| c == "body-markup") })
}

async fn serve(
    app_name: String,
    mut rx: mpsc::UnboundedReceiver<Request>,
    actions: Arc<Mutex<Actions>>,
    on_action: OnAction,
) {
    let mut bus: Option<Bus> = None;
    while let Some(req) = rx.recv().await {
        if bus.is_none() {
            bus = connect(&actions, &on_action).await.map_err(|e| tracing::debug!(error = %e, "session bus")).ok();
        }
        let result = match &bus {
            Some(b) => raise(b, &app_name, &req).await,
            None => Err(Error::Notify("no notification service is running on the session bus".into())),
        };
        match &result {
            Ok(id) => actions.lock().unwrap_or_else(|e| e.into_inner()).remember(*id, req.buttons.clone()),
            Err(_) => bus = None,
        }
        let _ = req.answer.try_send(result);
    }
}

async fn raise(bus: &Bus, app_name: &str, req: &Request) -> Result<u32, Error> {
    let (title, body) = (notification_title(&req.title), notification_body(&req.body, bus.markup));
    let mut actions: Vec<&str> = Vec::with_capacity(req.buttons.len() * 2);
    for b in &req.buttons {
        actions.push(&b.key);
        actions.push(&b.label);
    }
    let mut hints: HashMap<&str, zbus::Variant> = HashMap::new();
    hints.insert("urgency", zbus::Variant::from(req.urgency));
    hints.insert("desktop-entry", zbus::Variant::from("tally"));
    let args = (app_name, 0u32, "", title.as_str(), body.as_str(), actions, hints, -1i32);
    bus.proxy.call::<_, _, u32>("Notify", &args).await.map_err(|e| {
        let s = e.to_string();
        if s.contains("ServiceUnknown") || s.contains("org.freedesktop.Notifications") {
            Error::Notify("no notification service is running on the session bus".into())
        } else {
            Error::Notify(s)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_protocol::NotificationTarget;

    #[test]
    fn a_click_is_acted_on_once_and_the_table_stays_bounded() {
        let mut a = Actions::default();
        let open = NoteAction::Open(NotificationTarget::Transfer { id: 7 });
        a.remember(
            1,
            vec![NoteButton::new("default", "Open", open.clone()), NoteButton::new("quit", "Quit", NoteAction::Quit)],
        );
        assert_eq!(a.take(1, "quit"), Some(NoteAction::Quit));
        assert_eq!(a.take(1, "default"), None, "acted on once");
        for id in 10..(10 + REMEMBERED as u32 + 50) {
            a.remember(id, vec![NoteButton::new("default", "Open", open.clone())]);
        }
        assert_eq!(a.by_id.len(), REMEMBERED);
        assert_eq!(a.take(10, "default"), None, "the oldest were forgotten");
        assert_eq!(a.take(10 + REMEMBERED as u32 + 49, "default"), Some(open));
        a.remember(5, vec![]);
        assert_eq!(a.take(5, "default"), None, "no buttons, nothing kept");
    }
}
