//! Withdrawals: taking money out to an account of the user's own. Needs the hub (the money is held there
//! at once, and a payout is not something to queue for later); the answer is the withdrawal, and the
//! hub's balance and history events bring the hold and, later, its outcome into the cache.
use super::Engine;
use crate::view::WithdrawMoney;
use crate::Error;
use tally_protocol::*;

impl Engine {
    /// Asks the hub to pay `w.amount` out to `w.destination`; the amount is held until the operator
    /// decides. A mistyped IBAN, an empty destination or an amount of zero never leave the app.
    pub async fn withdraw(&self, w: &WithdrawMoney) -> Result<Withdrawal, Error> {
        if w.amount.minor <= 0 {
            return Err(Error::InvalidInput("the amount must be more than zero".into()));
        }
        if w.key.is_empty() || w.key.len() > 128 {
            return Err(Error::InvalidInput("a withdrawal key of 1-128 characters".into()));
        }
        let destination = destination::destination(&w.destination).map_err(|e| Error::InvalidInput(e.to_string()))?;
        let (key, amount) = (w.key.clone(), w.amount);
        let r = self
            .request(move |id| ClientFrame::WithdrawalCreate { id, idempotency_key: key, amount, destination })
            .await?;
        match r {
            Some(AckData::Withdrawal { withdrawal }) => Ok(withdrawal),
            _ => Err(Error::Network("unexpected answer".into())),
        }
    }
}
