//! `tally://` links: what a link asks for ([`LinkIntent`]), read strictly. A link never moves money by
//! itself: a pay link opens Send's review step filled in, where the user checks it and sends it (or not),
//! and every field is held to the rules typed input is held to.
//!
//! - `tally://pay?to=USER[&amount=12.34&currency=USD][&memo=…]`
//! - `tally://chat/ROOM`
//! - `tally://request/ID` (a payment request)
use serde::{Deserialize, Serialize};
use tally_protocol::{Currency, Money, RoomId, MAX_MEMO_BYTES};
use ts_rs::TS;

/// The longest link read (browsers and OSes cut longer ones anyway).
pub const MAX_LINK_CHARS: usize = 2048;

/// What a `tally://` link asks the app to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LinkIntent {
    /// Send, at the review step when an amount is given (at the amount step otherwise).
    Pay {
        to: String,
        #[ts(optional)]
        amount: Option<Money>,
        memo: String,
    },
    /// A chat room.
    Chat {
        #[ts(type = "number")]
        room: RoomId,
    },
    /// A payment request.
    Request {
        #[ts(type = "number")]
        id: i64,
    },
}

/// A link the user opened, as the UI takes it: what it asks for, or why it cannot be followed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum OpenedLink {
    Intent { intent: LinkIntent },
    Refused { message: String },
}

impl OpenedLink {
    pub fn read(link: &str) -> OpenedLink {
        match parse_link(link) {
            Ok(intent) => OpenedLink::Intent { intent },
            Err(e) => OpenedLink::Refused { message: e.0 },
        }
    }
}

/// Why a link was not followed: a sentence for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LinkError(pub String);

fn bad(s: impl Into<String>) -> LinkError {
    LinkError(s.into())
}

/// Reads a `tally://` link.
pub fn parse_link(link: &str) -> Result<LinkIntent, LinkError> {
    if link.chars().count() > MAX_LINK_CHARS {
        return Err(bad("This link is too long to be a Tally link."));
    }
    let url = url::Url::parse(link.trim()).map_err(|_| bad("This is not a link Tally can open."))?;
    if url.scheme() != "tally" {
        return Err(bad("This is not a Tally link."));
    }
    let segments: Vec<&str> = url.path().split('/').filter(|s| !s.is_empty()).collect();
    match (url.host_str().unwrap_or(""), segments.as_slice()) {
        ("pay", []) => pay(&url),
        ("chat", [room]) => Ok(LinkIntent::Chat { room: positive_id(room, "chat room")? }),
        ("request", [id]) => Ok(LinkIntent::Request { id: positive_id(id, "payment request")? }),
        _ => Err(bad("Tally does not know this kind of link.")),
    }
}

fn positive_id(s: &str, what: &str) -> Result<i64, LinkError> {
    match s.parse::<i64>() {
        Ok(n) if n > 0 && s.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(bad(format!("This link's {what} number is not valid."))),
    }
}

fn pay(url: &url::Url) -> Result<LinkIntent, LinkError> {
    let (mut to, mut amount, mut currency, mut memo) = (None, None, None, None);
    for (k, v) in url.query_pairs() {
        let slot = match k.as_ref() {
            "to" => &mut to,
            "amount" => &mut amount,
            "currency" => &mut currency,
            "memo" => &mut memo,
            _ => continue, // other parameters are not ours to judge
        };
        if slot.replace(v.into_owned()).is_some() {
            return Err(bad(format!("This link gives “{k}” twice.")));
        }
    }
    let to = username(&to.ok_or_else(|| bad("This pay link does not say whom to pay."))?)?;
    let memo = memo.unwrap_or_default();
    if memo.len() > MAX_MEMO_BYTES {
        return Err(bad(format!("This link's note is longer than {MAX_MEMO_BYTES} bytes.")));
    }
    let amount = match (amount, currency) {
        (None, None) => None,
        (Some(a), Some(c)) => Some(money(&a, &c)?),
        (Some(_), None) => return Err(bad("This link has an amount but no currency.")),
        (None, Some(_)) => return Err(bad("This link has a currency but no amount.")),
    };
    Ok(LinkIntent::Pay { to, amount, memo })
}

/// The hub's username rule: 2-32 of `a-z`, `0-9`, `_`, `.`, `-` (case does not matter).
fn username(u: &str) -> Result<String, LinkError> {
    let u = u.trim().to_ascii_lowercase();
    let ok = (2..=32).contains(&u.len())
        && u.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(u)
    } else {
        Err(bad("This link's username is not a Tally username."))
    }
}

/// "12.34" in `currency`, to minor units: digits, at most one point, no more decimals than the currency
/// has, more than zero, within i64 (checked, never a float).
fn money(amount: &str, currency: &str) -> Result<Money, LinkError> {
    let currency =
        Currency::parse(currency).map_err(|_| bad(format!("“{currency}” is not a currency Tally knows.")))?;
    let digits = currency.exponent() as usize;
    let invalid = || bad(format!("“{amount}” is not an amount in {currency}."));
    let (whole, frac) = amount.split_once('.').unwrap_or((amount, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(frac) || (amount.contains('.') && frac.is_empty()) {
        return Err(invalid());
    }
    if frac.len() > digits {
        return Err(bad(format!("{currency} has {digits} decimal places; “{amount}” has more.")));
    }
    let scale = 10i64.checked_pow(digits as u32).ok_or_else(invalid)?;
    let frac_minor = format!("{frac:0<digits$}");
    let minor = whole
        .parse::<i64>()
        .ok()
        .and_then(|w| w.checked_mul(scale))
        .and_then(|w| w.checked_add(if digits == 0 { 0 } else { frac_minor.parse::<i64>().ok()? }))
        .ok_or_else(|| bad("This link's amount is too large."))?;
    if minor <= 0 {
        return Err(bad("This link's amount must be more than zero."));
    }
    Ok(Money::new(minor, currency))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usd(minor: i64) -> Option<Money> {
        Some(Money::new(minor, Currency::USD))
    }

    #[test]
    fn pay_chat_and_request_links_are_read() {
        let pay = parse_link("tally://pay?to=Alice&amount=12.34&currency=USD&memo=Rent%20for%20May").unwrap();
        assert_eq!(pay, LinkIntent::Pay { to: "alice".into(), amount: usd(1234), memo: "Rent for May".into() });
        let plus = parse_link("tally://pay?to=bob&memo=a+b").unwrap();
        assert_eq!(plus, LinkIntent::Pay { to: "bob".into(), amount: None, memo: "a b".into() });
        assert_eq!(
            parse_link("tally://pay?to=bob&amount=5&currency=USD").unwrap(),
            LinkIntent::Pay { to: "bob".into(), amount: usd(500), memo: String::new() }
        );
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(
            parse_link("tally://pay?to=bob&amount=1500&currency=JPY").unwrap(),
            LinkIntent::Pay { to: "bob".into(), amount: Some(Money::new(1500, jpy)), memo: String::new() }
        );
        assert_eq!(parse_link("tally://chat/42").unwrap(), LinkIntent::Chat { room: 42 });
        assert_eq!(parse_link("tally://request/7").unwrap(), LinkIntent::Request { id: 7 });
    }

    #[test]
    fn bad_links_say_what_is_wrong() {
        let says = |link: &str, part: &str| {
            let e = parse_link(link).expect_err(link);
            assert!(e.0.contains(part), "{link}: {e}");
        };
        says("https://pay?to=bob", "not a Tally link");
        says("tally://pay", "whom to pay");
        says("tally://pay?to=b", "username");
        says("tally://pay?to=bob%E2%80%AE", "username");
        says("tally://pay?to=bob&amount=12.345&currency=USD", "2 decimal places");
        says("tally://pay?to=bob&amount=1.5&currency=JPY", "0 decimal places");
        says("tally://pay?to=bob&amount=-5&currency=USD", "not an amount");
        says("tally://pay?to=bob&amount=1e3&currency=USD", "not an amount");
        says("tally://pay?to=bob&amount=12.&currency=USD", "not an amount");
        says("tally://pay?to=bob&amount=0&currency=USD", "more than zero");
        says("tally://pay?to=bob&amount=99999999999999999999&currency=USD", "too large");
        says("tally://pay?to=bob&amount=92233720368547758.08&currency=USD", "too large");
        says("tally://pay?to=bob&amount=5", "no currency");
        says("tally://pay?to=bob&amount=5&currency=usd", "not a currency");
        says("tally://pay?to=bob&amount=5&currency=XXX", "not a currency");
        says("tally://pay?to=bob&to=eve", "twice");
        says(&format!("tally://pay?to=bob&memo={}", "x".repeat(281)), "longer than 280");
        says("tally://chat/0", "not valid");
        says("tally://chat/+7", "not valid");
        says("tally://transfer/7", "does not know");
        says(&format!("tally://pay?to=bob&memo={}", "x".repeat(3000)), "too long");
    }

    proptest! {
        /// Any text is a clean error or an intent, never a panic; an intent's amount is always positive.
        #[test]
        fn any_text_is_an_error_or_a_valid_intent(s in ".{0,300}") {
            if let Ok(LinkIntent::Pay { amount: Some(m), .. }) = parse_link(&s) {
                prop_assert!(m.minor > 0);
            }
        }

        /// Links shaped like pay links, with arbitrary values, never panic either.
        #[test]
        fn pay_shaped_links_never_panic(to in ".{0,40}", amount in "[0-9.eE+-]{0,25}", cur in "[A-Za-z]{0,4}", memo in ".{0,300}") {
            let mut url = url::Url::parse("tally://pay").unwrap();
            url.query_pairs_mut().append_pair("to", &to).append_pair("amount", &amount).append_pair("currency", &cur).append_pair("memo", &memo);
            let _ = parse_link(url.as_str());
        }

        /// A link the app builds is read back as the same intent.
        #[test]
        fn built_links_read_back(to in "[a-z0-9_.-]{2,32}", minor in 1i64..1_000_000_000_000, memo in "[^\u{0}]{0,60}") {
            let amount = Money::new(minor, Currency::USD);
            let major = format!("{}.{:02}", minor / 100, minor % 100);
            let mut url = url::Url::parse("tally://pay").unwrap();
            url.query_pairs_mut().append_pair("to", &to).append_pair("amount", &major).append_pair("currency", "USD").append_pair("memo", &memo);
            let memo_ok = memo.len() <= MAX_MEMO_BYTES;
            match parse_link(url.as_str()) {
                Ok(got) => prop_assert_eq!(got, LinkIntent::Pay { to, amount: Some(amount), memo }),
                Err(e) => prop_assert!(!memo_ok, "{}", e),
            }
        }
    }
}
