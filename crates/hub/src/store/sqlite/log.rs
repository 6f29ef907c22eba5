//! Channel logs in SQLite: `channels` (epoch, head) and `events` keyed by (tenant, channel, seq).
use super::SqliteTx;
use crate::error::HubResult;
use crate::fanout::TenantId;
use crate::log::Head;
use crate::store::repo::LogRepo;
use rusqlite::{params, OptionalExtension};
use tally_protocol::{Channel, Millis};

impl LogRepo for SqliteTx<'_> {
    fn channel_head(&mut self, tenant: TenantId, channel: &Channel) -> HubResult<Option<Head>> {
        Ok(self
            .c
            .prepare_cached("SELECT epoch, head FROM channels WHERE tenant_id = ?1 AND channel = ?2")?
            .query_row(params![tenant, channel.to_string()], |r| {
                Ok(Head { epoch: r.get(0)?, seq: r.get::<_, i64>(1)? as u64 })
            })
            .optional()?)
    }

    fn create_channel(&mut self, tenant: TenantId, channel: &Channel, epoch: &str) -> HubResult<()> {
        self.c
            .prepare_cached("INSERT OR IGNORE INTO channels (tenant_id, channel, epoch, head) VALUES (?1, ?2, ?3, 0)")?
            .execute(params![tenant, channel.to_string(), epoch])?;
        Ok(())
    }

    fn insert_event(&mut self, tenant: TenantId, channel: &Channel, seq: u64, ts: Millis, json: &str) -> HubResult<()> {
        let name = channel.to_string();
        self.c
            .prepare_cached("INSERT INTO events (tenant_id, channel, seq, ts, json) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![tenant, name, seq as i64, ts, json])?;
        self.c
            .prepare_cached("UPDATE channels SET head = ?3 WHERE tenant_id = ?1 AND channel = ?2")?
            .execute(params![tenant, name, seq as i64])?;
        Ok(())
    }

    fn oldest_seq(&mut self, tenant: TenantId, channel: &Channel) -> HubResult<Option<u64>> {
        let oldest: Option<i64> = self
            .c
            .prepare_cached("SELECT MIN(seq) FROM events WHERE tenant_id = ?1 AND channel = ?2")?
            .query_row(params![tenant, channel.to_string()], |r| r.get(0))?;
        Ok(oldest.map(|o| o as u64))
    }

    fn events_between(
        &mut self,
        tenant: TenantId,
        channel: &Channel,
        from: u64,
        to: u64,
        limit: usize,
    ) -> HubResult<Vec<(u64, String)>> {
        let mut stmt = self.c.prepare_cached(
            "SELECT seq, json FROM events WHERE tenant_id = ?1 AND channel = ?2 AND seq >= ?3 AND seq <= ?4 ORDER BY seq LIMIT ?5",
        )?;
        let rows = stmt.query_map(params![tenant, channel.to_string(), from as i64, to as i64, limit as i64], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn events_before(
        &mut self,
        tenant: TenantId,
        channel: &Channel,
        before: u64,
        limit: u32,
    ) -> HubResult<Vec<String>> {
        let mut stmt = self.c.prepare_cached(
            "SELECT json FROM events WHERE tenant_id = ?1 AND channel = ?2 AND seq < ?3 ORDER BY seq DESC LIMIT ?4",
        )?;
        let rows = stmt.query_map(params![tenant, channel.to_string(), before as i64, limit as i64], |r| r.get(0))?;
        Ok(rows.collect::<Result<Vec<String>, _>>()?)
    }

    /// Events older than the cutoff (oldest first, through the `ts` index), then, channel by channel,
    /// events beyond the per-channel count (index range deletes). Never a scan of the whole log.
    fn trim_events(&mut self, keep: u64, cutoff: Millis, limit: usize) -> HubResult<usize> {
        let mut n = self
            .c
            .prepare_cached(
                "DELETE FROM events WHERE (tenant_id, channel, seq) IN
                   (SELECT tenant_id, channel, seq FROM events WHERE ts < ?1 ORDER BY ts LIMIT ?2)",
            )?
            .execute(params![cutoff, limit as i64])?;
        let over: Vec<(i64, String, i64)> = {
            let mut stmt = self.c.prepare_cached("SELECT tenant_id, channel, head FROM channels WHERE head > ?1")?;
            let rows = stmt.query_map([keep as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut del = self.c.prepare_cached(
            "DELETE FROM events WHERE (tenant_id, channel, seq) IN
               (SELECT tenant_id, channel, seq FROM events WHERE tenant_id = ?1 AND channel = ?2 AND seq <= ?3
                ORDER BY seq LIMIT ?4)",
        )?;
        for (tenant, channel, head) in over {
            if n >= limit {
                break;
            }
            n += del.execute(params![tenant, channel, head - keep as i64, (limit - n) as i64])?;
        }
        Ok(n)
    }
}
