//! Per-address caps on WebSocket connections: how many one address (an IPv6 /64) may hold open, and how
//! many of those may be still unauthenticated (upgraded, no `hello` yet). Checked at the upgrade, before
//! the socket costs anything; an address over either cap is answered 429 with `Retry-After`.
use crate::throttle::address_key;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Counts {
    open: u32,
    unauthenticated: u32,
}

pub struct ConnCaps {
    /// 0: no cap.
    max_open: u32,
    max_unauthenticated: u32,
    by_address: Arc<Mutex<HashMap<String, Counts>>>,
}

/// Which cap an address is over.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    Open,
    Unauthenticated,
}

impl Refused {
    /// Its label on `tally_ws_refused_total`.
    pub fn label(&self) -> &'static str {
        match self {
            Refused::Open => "open",
            Refused::Unauthenticated => "unauthenticated",
        }
    }
}

/// One socket's place under its address's caps, given back when dropped.
pub struct Place {
    key: String,
    authenticated: bool,
    by_address: Arc<Mutex<HashMap<String, Counts>>>,
}

impl ConnCaps {
    pub fn new(max_open: u32, max_unauthenticated: u32) -> Self {
        ConnCaps { max_open, max_unauthenticated, by_address: Arc::default() }
    }

    /// A place for a new, unauthenticated socket from `ip`.
    pub fn admit(&self, ip: IpAddr) -> Result<Place, Refused> {
        let key = address_key(ip);
        let mut map = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        let c = map.entry(key.clone()).or_default();
        if self.max_open > 0 && c.open >= self.max_open {
            return Err(Refused::Open);
        }
        if self.max_unauthenticated > 0 && c.unauthenticated >= self.max_unauthenticated {
            return Err(Refused::Unauthenticated);
        }
        c.open += 1;
        c.unauthenticated += 1;
        Ok(Place { key, authenticated: false, by_address: self.by_address.clone() })
    }
}

impl Place {
    /// The socket said a valid `hello`: it no longer counts as unauthenticated.
    pub fn authenticated(&mut self) {
        if std::mem::replace(&mut self.authenticated, true) {
            return;
        }
        let mut map = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = map.get_mut(&self.key) {
            c.unauthenticated = c.unauthenticated.saturating_sub(1);
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut map = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = map.get_mut(&self.key) {
            c.open = c.open.saturating_sub(1);
            if !self.authenticated {
                c.unauthenticated = c.unauthenticated.saturating_sub(1);
            }
            if c.open == 0 {
                map.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_hold_per_address_and_places_come_back() {
        let caps = ConnCaps::new(3, 2);
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8::ffff".parse().unwrap();
        let mut p1 = caps.admit(a).unwrap();
        let _p2 = caps.admit(same_64).unwrap();
        assert_eq!(caps.admit(a).err(), Some(Refused::Unauthenticated));
        assert!(caps.admit("10.0.0.1".parse().unwrap()).is_ok(), "another address is not affected");
        p1.authenticated();
        let p3 = caps.admit(a).unwrap();
        assert_eq!(caps.admit(a).err(), Some(Refused::Open));
        drop(p3);
        assert!(caps.admit(a).is_ok());
        assert!(ConnCaps::new(0, 0).admit(a).is_ok());
    }
}
