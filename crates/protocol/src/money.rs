use serde::{Deserialize, Serialize};
use std::fmt;
use ts_rs::TS;

/// An ISO-4217 currency code that has minor units (USD, JPY, BHD, ...): anything else, including codes of
/// the right shape that ISO 4217 does not list and units without a minor unit (XAU), is an error.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, TS)]
#[ts(type = "string")]
pub struct Currency([u8; 3]);

/// A code that is not three upper-case letters is malformed (`bad_frame` in a frame); one of the right shape
/// that ISO 4217 does not list with a minor unit is a wrong value (`invalid`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurrencyError {
    #[error("a currency code is three upper-case letters: {0:?}")]
    Malformed(String),
    #[error("not an ISO 4217 currency with minor units: {0:?}")]
    Unknown(String),
}

impl Currency {
    pub const USD: Currency = Currency(*b"USD");
    pub const EUR: Currency = Currency(*b"EUR");
    pub const GBP: Currency = Currency(*b"GBP");

    pub fn parse(s: &str) -> Result<Self, CurrencyError> {
        let b = s.as_bytes();
        let shown = || s.chars().take(16).collect::<String>();
        if b.len() != 3 || !b.iter().all(|c| c.is_ascii_uppercase()) {
            return Err(CurrencyError::Malformed(shown()));
        }
        if iso_currency::Currency::from_code(s).and_then(|c| c.exponent()).is_none() {
            return Err(CurrencyError::Unknown(shown()));
        }
        Ok(Currency([b[0], b[1], b[2]]))
    }

    /// Digits of the minor unit (ISO 4217's exponent): USD 2, JPY 0, BHD 3.
    pub fn exponent(&self) -> u32 {
        // Every Currency was checked by `parse` (or is a constant), so the code is listed with an exponent.
        iso_currency::Currency::from_code(self.as_str()).and_then(|c| c.exponent()).map(u32::from).unwrap_or(2)
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

/// A transfer limit in a given currency. Limits are kept in hundredths of a major unit (the exponent of
/// USD or EUR), so one number means the same in every currency: 500000 is 5,000.00 USD, 5,000 JPY and
/// 5,000.000 BHD. In minor units of `currency` (rounded down; saturating at the largest amount).
pub fn limit_in(hundredths: i64, currency: Currency) -> i64 {
    match currency.exponent() {
        e if e >= 2 => hundredths.saturating_mul(10i64.saturating_pow(e - 2)),
        e => hundredths / 10i64.pow(2 - e),
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}
impl std::str::FromStr for Currency {
    type Err = CurrencyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}
impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An amount of money: integer minor units (cents for USD) and a currency. Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
pub struct Money {
    #[ts(type = "number")]
    pub minor: i64,
    pub currency: Currency,
}

/// "12.50 USD", "-3 JPY": the amount in major units with the currency's own number of decimals, for text
/// outside the UI (notifications, the tray). The UI formats amounts itself from minor units (Intl).
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.currency.exponent();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if digits == 0 {
            return write!(f, "{sign}{abs} {}", self.currency);
        }
        let p = 10u64.pow(digits);
        write!(f, "{sign}{}.{:0width$} {}", abs / p, abs % p, self.currency, width = digits as usize)
    }
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }
    /// Adds two amounts of the same currency; `None` on a currency mismatch or overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        Some(Money::new(self.minor.checked_add(other.minor)?, self.currency))
    }
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        Some(Money::new(self.minor.checked_sub(other.minor)?, self.currency))
    }
    pub fn is_positive(&self) -> bool {
        self.minor > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_accepts_only_iso_4217_codes_with_their_exponent() {
        assert!(Currency::parse("USD").is_ok());
        assert_eq!(limit_in(500_000, Currency::USD), 500_000);
        assert_eq!(limit_in(500_000, Currency::parse("JPY").unwrap()), 5_000);
        assert_eq!(limit_in(500_000, Currency::parse("BHD").unwrap()), 5_000_000);
        assert_eq!(limit_in(i64::MAX, Currency::parse("BHD").unwrap()), i64::MAX, "saturates");
        for bad in ["usd", "US", "USDT", "U$D", "", "€UR", "ABC", "XYZ", "XAU"] {
            assert!(Currency::parse(bad).is_err(), "{bad}");
        }
        let exp = |c: &str| Currency::parse(c).unwrap().exponent();
        assert_eq!((exp("JPY"), exp("USD"), exp("BHD"), exp("EUR")), (0, 2, 3, 2));
    }

    #[test]
    fn money_is_written_with_its_currencys_decimals() {
        assert_eq!(Money::new(1250, Currency::USD).to_string(), "12.50 USD");
        assert_eq!(Money::new(-5, Currency::USD).to_string(), "-0.05 USD");
        assert_eq!(Money::new(1234, Currency::parse("JPY").unwrap()).to_string(), "1234 JPY");
        assert_eq!(Money::new(1_001, Currency::parse("KWD").unwrap()).to_string(), "1.001 KWD");
        assert_eq!(Money::new(i64::MIN, Currency::USD).to_string(), "-92233720368547758.08 USD");
    }

    #[test]
    fn money_rejects_floats_and_mixed_currency() {
        assert!(serde_json::from_str::<Money>(r#"{"minor":1.5,"currency":"USD"}"#).is_err());
        let a = Money::new(5, Currency::USD);
        assert_eq!(a.checked_add(Money::new(1, Currency::EUR)), None);
        assert_eq!(Money::new(i64::MAX, Currency::USD).checked_add(a), None);
        assert_eq!(a.checked_sub(a), Some(Money::new(0, Currency::USD)));
    }
}
