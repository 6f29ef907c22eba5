//! Adding money (the user's deposit reference and the operator's instructions, kept for offline reading)
//! and withdrawals: taking money out to an account of the user's own. Needs the hub (the money is held there
//! at once, and a payout is not something to queue for later); the answer is the withdrawal, and the
//! hub's balance and history events bring the hold and, later, its outcome into the cache.
use super::Engine;
use crate::view::{DepositInfo, WithdrawMoney};
use crate::Error;
use tally_protocol::*;

/// Where the last deposit instructions the hub gave are kept (shown offline, and until the hub answers).
const DEPOSIT_INFO: &str = "deposit_info";

impl Engine {
    /// The user's deposit reference and how to add money. Asks the hub (the operator may have changed the
    /// instructions) and keeps the answer; without the hub, what it said last time.
    pub async fn deposit_info(&self) -> Result<DepositInfo, Error> {
        let fresh = match self.authed().await {
            Ok((api, token)) => api.deposit_info(&token).await,
            Err(e) => Err(e),
        };
        let store = self.store()?;
        match fresh {
            Ok(info) => {
                let json = serde_json::to_string(&info).map_err(|e| Error::Storage(e.to_string()))?;
                store.set_meta(DEPOSIT_INFO, &json)?;
                Ok(info)
            }
            Err(e @ (Error::Network(_) | Error::Offline)) => match store.meta(DEPOSIT_INFO)? {
                Some(json) => serde_json::from_str(&json).map_err(|e| Error::Storage(e.to_string())),
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

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
