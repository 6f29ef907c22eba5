//! Channel logs: `channels` (epoch, head) and `events` keyed by (tenant, channel, seq).
//!
//! On PostgreSQL a write reads the head `FOR UPDATE`: another hub appending to the same channel waits for
//! this transaction, so seqs are never reused and commit in order. Once locked, the head is kept in the
//! transaction handle and moved by each append, so a channel is read once per transaction.
//!
//! On SQLite the one writer keeps the heads in memory across jobs and writes each moved head's row once
//! per group commit (`write_heads`, before the commit that makes the group's events visible).
use crate::error::HubResult;
use crate::ids::TenantId;
use crate::position::Head;
use crate::store::repo::LogRepo;
use crate::store::sql::{args, pos, Db, Dialect, Heads};
use tally_protocol::{Channel, Millis};

impl<D: Db> LogRepo for D {
    fn channel_head(&mut self, tenant: TenantId, channel: &Channel) -> HubResult<Option<Head>> {
        let name = channel.to_string();
        let key = (tenant, name);
        // Locked by this transaction already: this transaction is the only one moving it.
        if let Some(h) = self.locked_heads().and_then(|heads| heads.get(&key)) {
            return Ok(Some(h.clone()));
        }
        // Known to SQLite's writer from an earlier job: no read.
        if let Some(h) = self.known_head(&key) {
            if let Some(heads) = self.locked_heads() {
                heads.insert(key, h.clone());
            }
            return Ok(Some(h));
        }
        let sql = match (self.dialect(), self.writing()) {
            (Dialect::Postgres, true) => {
                "SELECT epoch, head FROM channels WHERE tenant_id = $1 AND channel = $2 FOR UPDATE"
            }
            _ => "SELECT epoch, head FROM channels WHERE tenant_id = $1 AND channel = $2",
        };
        let Some(r) = self.opt(sql, args![key.0, &key.1])? else { return Ok(None) };
        let head = Head { epoch: r.get(0)?, seq: r.get(1)? };
        if let Some(heads) = self.locked_heads() {
            heads.insert(key, head.clone());
        }
        Ok(Some(head))
    }

    fn create_channel(&mut self, tenant: TenantId, channel: &Channel, epoch: &str) -> HubResult<()> {
        self.exec(
            "INSERT INTO channels (tenant_id, channel, epoch, head) VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING",
            args![tenant, &channel.to_string(), epoch],
        )?;
        Ok(())
    }

    fn insert_event(&mut self, tenant: TenantId, channel: &Channel, seq: u64, ts: Millis, json: &str) -> HubResult<()> {
        let name = channel.to_string();
        let a = args![tenant, &name, pos(seq), ts, json];
        match self.dialect() {
            // The event and its channel's new head in one statement: one round trip per event.
            Dialect::Postgres => {
                self.exec(
                    "WITH appended AS (INSERT INTO events (tenant_id, channel, seq, ts, json) VALUES ($1, $2, $3, $4, $5))
                     UPDATE channels SET head = $3 WHERE tenant_id = $1 AND channel = $2",
                    a,
                )?;
            }
            // Only SQLite's writer appends, and it writes each moved head once per group (`write_heads`).
            Dialect::Sqlite => {
                self.exec("INSERT INTO events (tenant_id, channel, seq, ts, json) VALUES ($1, $2, $3, $4, $5)", a)?;
            }
        }
        if let Some(h) = self.locked_heads().and_then(|heads| heads.get_mut(&(tenant, name))) {
            h.seq = seq;
        }
        Ok(())
    }

    fn write_heads(&mut self, heads: &Heads) -> HubResult<()> {
        for ((tenant, channel), head) in heads {
            self.exec(
                "UPDATE channels SET head = $3 WHERE tenant_id = $1 AND channel = $2",
                args![*tenant, channel.as_str(), pos(head.seq)],
            )?;
        }
        Ok(())
    }

    fn oldest_seq(&mut self, tenant: TenantId, channel: &Channel) -> HubResult<Option<u64>> {
        self.value(
            "SELECT MIN(seq) FROM events WHERE tenant_id = $1 AND channel = $2",
            args![tenant, &channel.to_string()],
        )
    }

    fn events_between(
        &mut self,
        tenant: TenantId,
        channel: &Channel,
        from: u64,
        to: u64,
        limit: usize,
    ) -> HubResult<Vec<(u64, String)>> {
        let rows = self.rows(
            "SELECT seq, json FROM events WHERE tenant_id = $1 AND channel = $2 AND seq >= $3 AND seq <= $4
             ORDER BY seq LIMIT $5",
            args![tenant, &channel.to_string(), pos(from), pos(to), limit as i64],
        )?;
        rows.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect()
    }

    fn events_before(
        &mut self,
        tenant: TenantId,
        channel: &Channel,
        before: u64,
        limit: u32,
    ) -> HubResult<Vec<String>> {
        self.column(
            "SELECT json FROM events WHERE tenant_id = $1 AND channel = $2 AND seq < $3 ORDER BY seq DESC LIMIT $4",
            args![tenant, &channel.to_string(), pos(before), i64::from(limit)],
        )
    }

    /// Events older than the cutoff (oldest first, through the `ts` index), then, channel by channel,
    /// events beyond the per-channel count (index range deletes). Never a scan of the whole log.
    fn trim_events(&mut self, keep: u64, cutoff: Millis, limit: usize) -> HubResult<usize> {
        let mut n = self.exec(
            "DELETE FROM events WHERE (tenant_id, channel, seq) IN
               (SELECT tenant_id, channel, seq FROM events WHERE ts < $1 ORDER BY ts LIMIT $2)",
            args![cutoff, limit as i64],
        )? as usize;
        let over = self.rows("SELECT tenant_id, channel, head FROM channels WHERE head > $1", args![pos(keep)])?;
        for r in over {
            if n >= limit {
                break;
            }
            let (tenant, channel, head): (TenantId, String, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
            n += self.exec(
                "DELETE FROM events WHERE (tenant_id, channel, seq) IN
                   (SELECT tenant_id, channel, seq FROM events WHERE tenant_id = $1 AND channel = $2 AND seq <= $3
                    ORDER BY seq LIMIT $4)",
                args![tenant, &channel, head - pos(keep), (limit - n) as i64],
            )? as usize;
        }
        Ok(n)
    }
}
