//! The app's window as the X server sees it: found by its title, closed the way a window manager closes
//! it (a `WM_DELETE_WINDOW` client message, what the title bar's close button sends), and whether it is
//! on screen.
#![allow(dead_code)]
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    AtomEnum, ClientMessageEvent, ConnectionExt, EventMask, MapState, Window, CLIENT_MESSAGE_EVENT,
};
use x11rb::rust_connection::RustConnection;

pub struct X11 {
    conn: RustConnection,
    root: Window,
}

impl X11 {
    pub fn connect() -> X11 {
        let (conn, screen) = x11rb::connect(None).expect("the X display of the desktop session");
        let root = conn.setup().roots[screen].root;
        X11 { conn, root }
    }

    fn atom(&self, name: &str) -> u32 {
        self.conn.intern_atom(false, name.as_bytes()).unwrap().reply().unwrap().atom
    }

    fn text_property(&self, w: Window, name: &str) -> String {
        let (prop, utf8) = (self.atom(name), self.atom("UTF8_STRING"));
        let kind = if name == "WM_NAME" { u32::from(AtomEnum::STRING) } else { utf8 };
        let reply = self.conn.get_property(false, w, prop, kind, 0, 1024).unwrap().reply();
        reply.map(|r| String::from_utf8_lossy(&r.value).into_owned()).unwrap_or_default()
    }

    fn accepts_delete(&self, w: Window) -> bool {
        let (protocols, delete) = (self.atom("WM_PROTOCOLS"), self.atom("WM_DELETE_WINDOW"));
        let Ok(reply) = self.conn.get_property(false, w, protocols, AtomEnum::ATOM, 0, 64).unwrap().reply() else {
            return false;
        };
        reply.value32().is_some_and(|mut atoms| atoms.any(|a| a == delete))
    }

    /// The top-level window titled `title` that takes `WM_DELETE_WINDOW` (GTK's other windows do not).
    pub fn find(&self, title: &str) -> Option<Window> {
        let tree = self.conn.query_tree(self.root).unwrap().reply().unwrap();
        tree.children.into_iter().find(|&w| {
            let name = self.text_property(w, "_NET_WM_NAME") + &self.text_property(w, "WM_NAME");
            name.contains(title) && self.accepts_delete(w)
        })
    }

    /// The process that owns the window (`_NET_WM_PID`, which GTK sets).
    pub fn pid(&self, w: Window) -> Option<u32> {
        let prop = self.atom("_NET_WM_PID");
        let reply = self.conn.get_property(false, w, prop, AtomEnum::CARDINAL, 0, 1).ok()?.reply().ok()?;
        let pid = reply.value32()?.next();
        pid
    }

    /// What the window manager does when the user clicks the window's close button.
    pub fn close(&self, w: Window) {
        let (protocols, delete) = (self.atom("WM_PROTOCOLS"), self.atom("WM_DELETE_WINDOW"));
        let event = ClientMessageEvent {
            response_type: CLIENT_MESSAGE_EVENT,
            format: 32,
            sequence: 0,
            window: w,
            type_: protocols,
            data: [delete, x11rb::CURRENT_TIME, 0, 0, 0].into(),
        };
        self.conn.send_event(false, w, EventMask::NO_EVENT, event).unwrap();
        self.conn.flush().unwrap();
    }

    /// Whether the window is on screen (mapped and viewable); false once it is gone.
    pub fn viewable(&self, w: Window) -> bool {
        match self.conn.get_window_attributes(w).unwrap().reply() {
            Ok(a) => a.map_state == MapState::VIEWABLE,
            Err(_) => false,
        }
    }
}
