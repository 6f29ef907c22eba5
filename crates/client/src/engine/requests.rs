//! Payment requests: asking someone for money, paying or declining what was asked of the user, and
//! withdrawing one's own. Each needs the hub (a request is a promise between two people, not something to
//! queue); what the hub answers is kept in the cache, and both parties' events keep it current.
use super::Engine;
use crate::view::*;
use crate::Error;
use tally_protocol::*;

impl Engine {
    /// The user's requests, open and paying ones first (the Requests list).
    pub fn payment_requests(&self) -> Result<Vec<RequestView>, Error> {
        let me = self.with(|a| Ok(a.shared.user.id))?;
        self.store()?.payment_requests(me, 200)
    }

    /// Asks `ask.from` for money. Needs the hub.
    pub async fn request_money(&self, ask: &AskMoney) -> Result<RequestView, Error> {
        let me = self.with(|a| Ok(a.shared.user.clone()))?;
        let to = ask.from.trim().to_lowercase();
        if to.is_empty() {
            return Err(Error::InvalidInput("choose who to ask".into()));
        }
        if to == me.username {
            return Err(Error::InvalidInput("you cannot request money from yourself".into()));
        }
        if ask.amount.minor <= 0 {
            return Err(Error::InvalidInput("the amount must be more than zero".into()));
        }
        if ask.memo.len() > MAX_MEMO_BYTES {
            return Err(Error::InvalidInput(format!("the note is longer than {MAX_MEMO_BYTES} bytes")));
        }
        if ask.key.is_empty() || ask.key.len() > 128 {
            return Err(Error::InvalidInput("a request key of 1-128 characters".into()));
        }
        let (key, amount, memo, expires_at, room) =
            (ask.key.clone(), ask.amount, ask.memo.trim().to_string(), ask.expires_at, ask.room);
        let r = self
            .request(move |id| ClientFrame::RequestCreate {
                id,
                idempotency_key: key,
                to,
                amount,
                memo,
                expires_at,
                room,
            })
            .await?;
        self.request_answer(r)
    }

    /// Splits a bill in a group: a request to each member in `bill.with` for an equal share, shown in the
    /// conversation as one card. Needs the hub.
    pub async fn split_bill(&self, bill: &SplitBill) -> Result<Vec<RequestView>, Error> {
        if bill.with.is_empty() {
            return Err(Error::InvalidInput("choose who shares it".into()));
        }
        if bill.total.minor <= 0 {
            return Err(Error::InvalidInput("the amount must be more than zero".into()));
        }
        if bill.memo.len() > MAX_MEMO_BYTES {
            return Err(Error::InvalidInput(format!("the note is longer than {MAX_MEMO_BYTES} bytes")));
        }
        let b = bill.clone();
        let r = self
            .request(move |id| ClientFrame::RequestSplit {
                id,
                idempotency_key: b.key,
                room: b.room,
                total: b.total,
                with: b.with,
                memo: b.memo.trim().to_string(),
                expires_at: b.expires_at,
            })
            .await?;
        let Some(AckData::Requests { requests }) = r else { return Err(Error::Network("unexpected answer".into())) };
        let store = self.store()?;
        store.upsert_requests(&requests)?;
        self.changed(vec![Change::Requests, Change::Messages { room: bill.room }]);
        let me = self.with(|a| Ok(a.shared.user.id))?;
        Ok(requests.into_iter().map(|request| RequestView { incoming: request.payer.id == me, request }).collect())
    }

    /// Pays a request made of the user: a transfer to the requester, followed like any other. Paying it
    /// again gives back the same transfer. Needs the hub.
    pub async fn pay_request(&self, request: RequestId) -> Result<TransferView, Error> {
        let r = self.request(move |id| ClientFrame::RequestPay { id, request }).await?;
        let Some(AckData::Transfer { transfer }) = r else { return Err(Error::Network("unexpected answer".into())) };
        // The socket task kept it and follows it (`follow_transfer`) before this answer arrived.
        let key = transfer.idempotency_key.clone().unwrap_or_default();
        self.store()?.transfer_by_key(&key)?.ok_or_else(|| Error::Storage("the payment was not kept".into()))
    }

    /// Declines a request made of the user. Needs the hub.
    pub async fn decline_request(&self, request: RequestId) -> Result<RequestView, Error> {
        let r = self.request(move |id| ClientFrame::RequestDecline { id, request }).await?;
        self.request_answer(r)
    }

    /// Withdraws the user's own open request. Needs the hub.
    pub async fn cancel_request(&self, request: RequestId) -> Result<RequestView, Error> {
        let r = self.request(move |id| ClientFrame::RequestCancel { id, request }).await?;
        self.request_answer(r)
    }

    /// Keeps the request a request frame answered with, and gives it back as the list shows it.
    fn request_answer(&self, answer: Option<AckData>) -> Result<RequestView, Error> {
        let Some(AckData::Request { request }) = answer else {
            return Err(Error::Network("unexpected answer".into()));
        };
        let store = self.store()?;
        store.upsert_requests(std::slice::from_ref(&request))?;
        self.changed(vec![Change::Requests]);
        let me = self.with(|a| Ok(a.shared.user.id))?;
        store.payment_request(me, request.id)?.ok_or_else(|| Error::Storage("the request was not kept".into()))
    }
}
