//! The CSV export of the history: amounts as decimals in each currency's digits, spreadsheet formulas
//! neutralised, ISO 8601 times.
use crate::store::{enum_str, Store};
use crate::view::*;
use crate::Error;
use tally_protocol::*;

impl Store {
    /// CSV of the filtered history (RFC 4180 quoting; amounts in minor units and as decimals).
    /// The filtered history as CSV, newest first: amounts and the balance after each line as decimals in
    /// their currency's own digits (ISO 4217: JPY 0, USD 2, BHD 3), with the currency beside them.
    pub fn export_csv(&self, f: &TxFilter) -> Result<String, Error> {
        let mut out =
            String::from("id,date_utc,type,direction,counterparty,memo,amount,currency,status,balance_after\n");
        let mut cursor = None;
        loop {
            let page = self.transactions(f, cursor.as_ref(), 500)?;
            for r in &page.rows {
                out.push_str(&csv_line(&r.tx));
            }
            match page.next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        Ok(out)
    }
}

/// Minor units as a decimal in `exponent` digits: (-1234, 2) → "-12.34", (500, 0) → "500".
pub fn decimal(minor: i64, exponent: u32) -> String {
    let (neg, abs) = (minor < 0, minor.unsigned_abs());
    let s = if exponent == 0 {
        abs.to_string()
    } else {
        let p = 10u64.pow(exponent);
        format!("{}.{:0width$}", abs / p, abs % p, width = exponent as usize)
    };
    if neg {
        format!("-{s}")
    } else {
        s
    }
}

fn csv_line(t: &Transaction) -> String {
    let cp = t.counterparty.as_ref().map(|u| u.username.clone()).unwrap_or_default();
    let signed = if t.direction == Direction::Out { -t.amount.minor } else { t.amount.minor };
    let exp = t.amount.currency.exponent();
    format!(
        "{},{},{},{},{},{},{},{},{},{}\n",
        t.id,
        iso8601(t.created_at),
        enum_str(&t.kind),
        enum_str(&t.direction),
        csv_field(&cp),
        csv_field(&t.memo),
        decimal(signed, exp),
        t.amount.currency,
        enum_str(&t.status),
        decimal(t.balance_after, exp)
    )
}

pub(super) fn csv_field(s: &str) -> String {
    // Quote always; spreadsheet formulas defused (tally_protocol::text::defuse_formula).
    format!("\"{}\"", tally_protocol::text::defuse_formula(s).replace('"', "\"\""))
}

/// `YYYY-MM-DDTHH:MM:SSZ` from Unix milliseconds (civil-from-days, no time crate needed).
pub fn iso8601(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}
