//! The hub's own throttle counters: a bounded table of (key → failures in a fixed window). When it is
//! full it evicts the least useful entries first (expired windows, then the fewest failures, oldest
//! first; a blocked key last), so a flood of cheap one-off keys can never reset anyone's count.
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Clone, Copy)]
struct Entry {
    count: u32,
    start_ms: i64,
}

pub struct Table {
    max: u32,
    window_ms: i64,
    capacity: usize,
    map: Mutex<HashMap<String, Entry>>,
}

/// The key is at its limit; the window it counts in ends in this many milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocked {
    pub retry_after_ms: i64,
}

impl Table {
    pub fn new(max: u32, window_ms: i64, capacity: usize) -> Self {
        Table { max, window_ms, capacity: capacity.max(16), map: Mutex::new(HashMap::new()) }
    }

    fn live(&self, e: Option<&Entry>, now: i64) -> Option<Entry> {
        e.copied().filter(|e| now - e.start_ms < self.window_ms)
    }

    /// Takes one attempt under every key, all or none: `Blocked` when any key is already at its limit
    /// (nothing is counted then); otherwise the highest count among the keys, this attempt included.
    pub fn attempt(&self, keys: &[&str], now: i64) -> Result<u32, Blocked> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        for k in keys {
            if let Some(e) = self.live(map.get(*k), now).filter(|e| e.count >= self.max) {
                return Err(Blocked { retry_after_ms: e.start_ms + self.window_ms - now });
            }
        }
        Ok(self.count(&mut map, keys, now))
    }

    /// Counts one failure under every key whatever their counts; the highest count among them.
    pub fn fail(&self, keys: &[&str], now: i64) -> u32 {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        self.count(&mut map, keys, now)
    }

    fn count(&self, map: &mut HashMap<String, Entry>, keys: &[&str], now: i64) -> u32 {
        let mut most = 0;
        for k in keys {
            let e = match self.live(map.get(*k), now) {
                Some(e) => Entry { count: e.count.saturating_add(1), ..e },
                None => Entry { count: 1, start_ms: now },
            };
            if !map.contains_key(*k) {
                self.make_room(map, now);
            }
            map.insert(k.to_string(), e);
            most = most.max(e.count);
        }
        most
    }

    /// Gives one attempt back under every key (it was not a guess, or it succeeded).
    pub fn release(&self, keys: &[&str]) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        for k in keys {
            if let Some(e) = map.get_mut(*k) {
                e.count = e.count.saturating_sub(1);
            }
        }
    }

    /// Forgets a key (the user proved who they are).
    pub fn clear(&self, key: &str) {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }

    /// Once full: expired windows go, then, down to 90 % of the capacity, the least useful entries. The
    /// sweep frees a tenth of the table, so its cost is spread over that many inserts.
    fn make_room(&self, map: &mut HashMap<String, Entry>, now: i64) {
        if map.len() < self.capacity {
            return;
        }
        map.retain(|_, e| now - e.start_ms < self.window_ms && e.count > 0);
        let keep = self.capacity * 9 / 10;
        if map.len() <= keep {
            return;
        }
        metrics::counter!(crate::series::THROTTLE_EVICTIONS).increment((map.len() - keep) as u64);
        let mut order: Vec<(bool, u32, i64, String)> =
            map.iter().map(|(k, e)| (e.count >= self.max, e.count, e.start_ms, k.clone())).collect();
        order.sort_unstable_by_key(|e| (e.0, e.1, e.2));
        for (_, _, _, k) in order.into_iter().take(map.len() - keep) {
            map.remove(&k);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attempt_is_counted_before_it_is_checked_and_blocked_keys_count_nothing_more() {
        let t = Table::new(3, 1000, 100);
        assert_eq!(t.attempt(&["u", "ip"], 0), Ok(1));
        assert_eq!(t.attempt(&["u", "ip"], 1), Ok(2));
        assert_eq!(t.attempt(&["u"], 2), Ok(3));
        assert_eq!(t.attempt(&["u", "ip"], 10), Err(Blocked { retry_after_ms: 990 }));
        assert_eq!(t.attempt(&["ip"], 10), Ok(3), "the refused attempt took nothing from ip");
        t.release(&["ip"]);
        assert_eq!(t.attempt(&["ip"], 11), Ok(3));
        assert_eq!(t.attempt(&["u"], 1000), Ok(1), "a new window");
    }

    #[test]
    fn a_flood_of_new_keys_never_evicts_a_blocked_or_busier_key() {
        let t = Table::new(5, 60_000, 1000);
        for i in 0..5 {
            t.attempt(&["victim"], i).unwrap();
        }
        for i in 0..3 {
            t.attempt(&["warm"], i).unwrap();
        }
        for i in 0..100_000 {
            let _ = t.attempt(&[&format!("junk{i}")], 10);
        }
        assert!(t.len() <= 1000);
        assert!(t.attempt(&["victim"], 20).is_err(), "still blocked after 100,000 other keys");
        assert_eq!(t.attempt(&["warm"], 20), Ok(4), "a key with more failures outlives one-off keys");
    }
}
