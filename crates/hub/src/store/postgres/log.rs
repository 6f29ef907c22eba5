//! Channel logs in PostgreSQL. Inside a write the head is read `FOR UPDATE`: another hub appending to
//! the same channel waits for this transaction, so seqs are never reused and commit in order. Once
//! locked, the head is kept in the transaction handle and moved by each append, so a channel is read
//! once per transaction, and an append is one statement.
use super::{col, PgTx};
use crate::error::HubResult;
use crate::fanout::TenantId;
use crate::log::Head;
use crate::store::repo::LogRepo;
use postgres::GenericClient;
use tally_protocol::{Channel, Millis};

impl<C: GenericClient> LogRepo for PgTx<'_, C> {
    fn channel_head(&mut self, tenant: TenantId, channel: &Channel) -> HubResult<Option<Head>> {
        let name = channel.to_string();
        // Locked by this transaction already: this transaction is the only one moving it.
        if let Some(h) = self.heads.get(&(tenant.0, name.clone())) {
            return Ok(Some(h.clone()));
        }
        let sql = if self.writing {
            "SELECT epoch, head FROM channels WHERE tenant_id = $1 AND channel = $2 FOR UPDATE"
        } else {
            "SELECT epoch, head FROM channels WHERE tenant_id = $1 AND channel = $2"
        };
        let Some(r) = self.opt(sql, &[&tenant.0, &name])? else { return Ok(None) };
        let head = Head { epoch: col(&r, 0)?, seq: col::<i64>(&r, 1)? as u64 };
        if self.writing {
            self.heads.insert((tenant.0, name), head.clone());
        }
        Ok(Some(head))
    }

    fn create_channel(&mut self, tenant: TenantId, channel: &Channel, epoch: &str) -> HubResult<()> {
        self.exec(
            "INSERT INTO channels (tenant_id, channel, epoch, head) VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING",
            &[&tenant.0, &channel.to_string(), &epoch],
        )?;
        Ok(())
    }

    fn insert_event(&mut self, tenant: TenantId, channel: &Channel, seq: u64, ts: Millis, json: &str) -> HubResult<()> {
        let name = channel.to_string();
        // The event and its channel's new head in one statement: one round trip per event.
        self.exec(
            "WITH appended AS (INSERT INTO events (tenant_id, channel, seq, ts, json) VALUES ($1, $2, $3, $4, $5))
             UPDATE channels SET head = $3 WHERE tenant_id = $1 AND channel = $2",
            &[&tenant.0, &name, &(seq as i64), &ts, &json],
        )?;
        if let Some(h) = self.heads.get_mut(&(tenant.0, name)) {
            h.seq = seq;
        }
        Ok(())
    }

    fn oldest_seq(&mut self, tenant: TenantId, channel: &Channel) -> HubResult<Option<u64>> {
        let r = self.one(
            "SELECT MIN(seq) FROM events WHERE tenant_id = $1 AND channel = $2",
            &[&tenant.0, &channel.to_string()],
        )?;
        Ok(col::<Option<i64>>(&r, 0)?.map(|s| s as u64))
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
            &[&tenant.0, &channel.to_string(), &(from as i64), &(to as i64), &(limit as i64)],
        )?;
        rows.iter().map(|r| Ok((col::<i64>(r, 0)? as u64, col(r, 1)?))).collect()
    }

    fn events_before(
        &mut self,
        tenant: TenantId,
        channel: &Channel,
        before: u64,
        limit: u32,
    ) -> HubResult<Vec<String>> {
        let rows = self.rows(
            "SELECT json FROM events WHERE tenant_id = $1 AND channel = $2 AND seq < $3 ORDER BY seq DESC LIMIT $4",
            &[&tenant.0, &channel.to_string(), &(before.min(i64::MAX as u64) as i64), &(limit as i64)],
        )?;
        rows.iter().map(|r| col(r, 0)).collect()
    }

    fn trim_events(&mut self, keep: u64, cutoff: Millis, limit: usize) -> HubResult<usize> {
        let mut n = self.exec(
            "DELETE FROM events WHERE (tenant_id, channel, seq) IN
               (SELECT tenant_id, channel, seq FROM events WHERE ts < $1 ORDER BY ts LIMIT $2)",
            &[&cutoff, &(limit as i64)],
        )? as usize;
        let over = self.rows("SELECT tenant_id, channel, head FROM channels WHERE head > $1", &[&(keep as i64)])?;
        for r in over {
            if n >= limit {
                break;
            }
            let (tenant, channel, head): (i64, String, i64) = (col(&r, 0)?, col(&r, 1)?, col(&r, 2)?);
            n += self.exec(
                "DELETE FROM events WHERE (tenant_id, channel, seq) IN
                   (SELECT tenant_id, channel, seq FROM events WHERE tenant_id = $1 AND channel = $2 AND seq <= $3
                    ORDER BY seq LIMIT $4)",
                &[&tenant, &channel, &(head - keep as i64), &((limit - n) as i64)],
            )? as usize;
        }
        Ok(n)
    }
}
