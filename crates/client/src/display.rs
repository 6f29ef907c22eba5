//! How the engine writes for the user where the UI cannot: native notifications. The UI says its language
//! and how its locale writes money (`DisplayStyle`, built from Intl in `ui/src/lib/money.ts`), so a native
//! notification says "$9.14" or "9,14 $" exactly as the app's screens do, never the hub's "9.14 USD";
//! and the texts the engine writes itself (what a notification says while the app is locked) are in the
//! UI's language. Until the UI has said, the hub's text is shown as it came and the engine's in English.
//! A notification that carries its text as data (`NotificationText`) is worded with the UI's own words
//! for it (its locales' `notification_text`, sent along with the style), so a German app says
//! "Bob Brown hat dir 12,34 $ gezahlt" with its window closed.
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use tally_protocol::{Currency, Money, NotificationKind, NotificationText};
use ts_rs::TS;

/// What the socket task reads when it raises a notification: the style the UI set last, if any.
pub type SharedStyle = std::sync::Arc<std::sync::RwLock<Option<std::sync::Arc<DisplayStyle>>>>;

/// The UI's language and money format (`set_locale`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DisplayStyle {
    /// The UI's language: "en", "de" (a region or the UI's test locale `qps-plocm` allowed).
    pub language: String,
    pub money: MoneyStyle,
    /// The UI's words for notifications whose text comes as data: "<key>.title" and "<key>.body" with
    /// `{{field}}` placeholders for the text's fields, and "level.<level>" for an identity check's level.
    /// None given (an older UI): the hub's English.
    #[serde(default)]
    pub texts: BTreeMap<String, String>,
}

/// How the UI's locale writes an amount, as Intl formats it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct MoneyStyle {
    /// Between whole units and the fraction: "." or ",".
    pub decimal: String,
    /// Between digit groups: ",", ".", a narrow no-break space, "’".
    pub group: String,
    /// The size of the last digit group (3), and of the groups before it (3; 2 in en-IN's 12,34,567).
    pub primary: u8,
    pub secondary: u8,
    /// Per currency code: what comes before and after the digits.
    pub currencies: BTreeMap<String, MoneyAffixes>,
}

/// Around the digits of one currency: "$" and "" (en-US), "" and " €" (de-DE); for a negative amount
/// "-$" and "", "-" and " €".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct MoneyAffixes {
    pub prefix: String,
    pub suffix: String,
    pub negative_prefix: String,
    pub negative_suffix: String,
}

/// The bounds of a style from the UI (a few hundred currencies, short separators and affixes; a few
/// dozen notification sentences).
const MAX_CURRENCIES: usize = 512;
const MAX_PART: usize = 16;
const MAX_TEXTS: usize = 128;
const MAX_TEXT_CHARS: usize = 400;

/// German, else English (the UI's test locale is English).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
}

impl Lang {
    /// "de", "de-AT", "de_DE.UTF-8" → German; "en…" and the test locale "qps…" → English; else None.
    pub fn parse(tag: &str) -> Option<Lang> {
        let base = tag.split(['-', '_', '.', '@']).next().unwrap_or("").to_ascii_lowercase();
        match base.as_str() {
            "en" | "qps" => Some(Lang::En),
            "de" => Some(Lang::De),
            _ => None,
        }
    }
}

impl DisplayStyle {
    /// Checks a style from the UI: a language the engine speaks, bounded separators, groups and affixes.
    pub fn validate(&self) -> Result<(), String> {
        Lang::parse(&self.language).ok_or("this language is not one Tally speaks")?;
        let m = &self.money;
        let short = |s: &str| !s.is_empty() && s.chars().count() <= 4 && !s.chars().any(|c| c.is_ascii_digit());
        if !short(&m.decimal) || (!m.group.is_empty() && !short(&m.group)) {
            return Err("the money style's separators are not valid".into());
        }
        if !(1..=4).contains(&m.primary) || !(1..=4).contains(&m.secondary) {
            return Err("the money style's digit groups are not valid".into());
        }
        if m.currencies.len() > MAX_CURRENCIES {
            return Err("the money style lists too many currencies".into());
        }
        let ok = |a: &MoneyAffixes| {
            [&a.prefix, &a.suffix, &a.negative_prefix, &a.negative_suffix]
                .iter()
                .all(|s| s.chars().count() <= MAX_PART && !s.chars().any(|c| c.is_ascii_digit() || c.is_control()))
        };
        if m.currencies.iter().any(|(code, a)| code.len() != 3 || !ok(a)) {
            return Err("the money style's currencies are not valid".into());
        }
        let key_ok = |k: &str| k.len() <= 48 && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'.');
        let text_ok = |t: &str| t.chars().count() <= MAX_TEXT_CHARS && !t.chars().any(char::is_control);
        if self.texts.len() > MAX_TEXTS || self.texts.iter().any(|(k, t)| !key_ok(k) || !text_ok(t)) {
            return Err("the notification texts are not valid".into());
        }
        Ok(())
    }

    /// `text` in the UI's words: its title, and its body where the UI words one (else `body` as it
    /// came: a memo, a message, the hub's reason). None where the UI gave no words for its key, or its
    /// words name a field the text does not have: the hub's text is shown then.
    pub fn word(&self, text: &NotificationText, body: &str) -> Option<(String, String)> {
        let value = serde_json::to_value(text).ok()?;
        let fields = value.as_object()?;
        let key = fields.get("key")?.as_str()?;
        let title = self.fill(self.texts.get(&format!("{key}.title"))?, fields)?;
        let body = match self.texts.get(&format!("{key}.body")) {
            Some(words) => self.fill(words, fields)?,
            None => body.to_string(),
        };
        Some((title, body))
    }

    /// `{{field}}` in `words` replaced by that field of the text, as the UI writes it.
    fn fill(&self, words: &str, fields: &Map<String, Value>) -> Option<String> {
        let mut out = String::with_capacity(words.len() + 32);
        let mut rest = words;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let len = rest[start..].find("}}")?;
            let name = rest[start + 2..start + len].trim();
            out.push_str(&self.field(name, fields.get(name)?)?);
            rest = &rest[start + len + 2..];
        }
        out.push_str(rest);
        Some(out)
    }

    /// One field: an amount in the app's money format, a limit (`single`, `daily`: hundredths of a major
    /// unit) as a number with two decimals, a count in digit groups, a level in the UI's word for it,
    /// anything else (a name, a reason) as written.
    fn field(&self, name: &str, value: &Value) -> Option<String> {
        match value {
            Value::String(s) if name == "level" => Some(self.texts.get(&format!("level.{s}")).unwrap_or(s).clone()),
            Value::String(s) => Some(s.clone()),
            Value::Number(n) if matches!(name, "single" | "daily") => Some(self.money.hundredths(n.as_i64()?)),
            Value::Number(n) => Some(self.money.grouped(&n.as_u64()?.to_string())),
            Value::Object(_) => {
                let m: Money = serde_json::from_value(value.clone()).ok()?;
                Some(self.money.format(m.minor, m.currency).unwrap_or_else(|| m.to_string()))
            }
            _ => None,
        }
    }

    pub fn lang(&self) -> Lang {
        Lang::parse(&self.language).unwrap_or(Lang::En)
    }
}

impl MoneyStyle {
    /// `minor` units of `currency` as the UI writes them; None for a currency the UI did not describe.
    pub fn format(&self, minor: i64, currency: Currency) -> Option<String> {
        let a = self.currencies.get(currency.as_str())?;
        let digits = currency.exponent() as usize;
        let abs = minor.unsigned_abs().to_string();
        let abs = format!("{abs:0>width$}", width = digits + 1);
        let (int, frac) = abs.split_at(abs.len() - digits);
        let mut out = String::new();
        let (pre, post) = if minor < 0 { (&a.negative_prefix, &a.negative_suffix) } else { (&a.prefix, &a.suffix) };
        out.push_str(pre);
        out.push_str(&self.grouped(int));
        if digits > 0 {
            out.push_str(&self.decimal);
            out.push_str(frac);
        }
        out.push_str(post);
        Some(out)
    }

    /// A limit kept in hundredths of a major unit: 10000000 → "100,000.00" ("100.000,00" in German).
    pub fn hundredths(&self, n: i64) -> String {
        let abs = format!("{:03}", n.unsigned_abs());
        let (int, frac) = abs.split_at(abs.len() - 2);
        format!("{}{}{}{frac}", if n < 0 { "-" } else { "" }, self.grouped(int), self.decimal)
    }

    /// "1234567" → "1,234,567" (or "12,34,567" with groups of 3 then 2).
    fn grouped(&self, int: &str) -> String {
        let (primary, secondary) = (self.primary as usize, self.secondary as usize);
        if self.group.is_empty() || int.len() <= primary {
            return int.to_string();
        }
        let (head, last) = int.split_at(int.len() - primary);
        let mut groups = vec![last.to_string()];
        let mut rest = head;
        while rest.len() > secondary {
            let (h, g) = rest.split_at(rest.len() - secondary);
            groups.push(g.to_string());
            rest = h;
        }
        groups.push(rest.to_string());
        groups.reverse();
        groups.join(&self.group)
    }

    /// The hub's amounts in a text ("12.34 USD", "-5.00 EUR", "500 JPY": the digits the currency has, a
    /// space and its code, standing alone) written as the UI writes them; anything else as it is. The same
    /// rule as the UI's `formatMoneyText` (ui/src/lib/toasts.ts).
    pub fn rewrite_hub_text(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some((start, len, replacement)) = self.next_amount(rest) {
            out.push_str(&rest[..start]);
            out.push_str(&replacement);
            rest = &rest[start + len..];
        }
        out.push_str(rest);
        out
    }

    /// The first hub amount in `s` this style can write: (byte start, byte length, its new text).
    fn next_amount(&self, s: &str) -> Option<(usize, usize, String)> {
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let starts = (b[i].is_ascii_digit() || (b[i] == b'-' && b.get(i + 1).is_some_and(u8::is_ascii_digit)))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || matches!(b[i - 1], b'_' | b'.' | b',' | b'-')));
            if starts {
                if let Some((len, text)) = self.amount_at(&s[i..]) {
                    return Some((i, len, text));
                }
            }
            i += 1;
        }
        None
    }

    /// "12.34 USD…" at the start of `s`: its length and how the UI writes it.
    fn amount_at(&self, s: &str) -> Option<(usize, String)> {
        let neg = s.starts_with('-');
        let num_end = s[usize::from(neg)..]
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .map_or(s.len(), |e| e + usize::from(neg));
        let number = &s[usize::from(neg)..num_end];
        let code = s.get(num_end + 1..num_end + 4)?;
        let after = s[num_end + 4..].chars().next();
        if !s[num_end..].starts_with(' ')
            || !code.bytes().all(|c| c.is_ascii_uppercase())
            || after.is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            return None;
        }
        let currency = Currency::parse(code).ok()?;
        let (int, frac) = number.split_once('.').unwrap_or((number, ""));
        if int.is_empty() || frac.len() != currency.exponent() as usize || frac.contains('.') {
            return None;
        }
        let minor: i64 = format!("{int}{frac}").parse().ok()?;
        let text = self.format(if neg { -minor } else { minor }, currency)?;
        Some((num_end + 4, text))
    }
}

/// Kinds whose body is the hub's own sentence (not someone's memo or message, which stay as written).
pub fn hub_writes_body(kind: NotificationKind) -> bool {
    use NotificationKind::*;
    matches!(kind, Limits | Balance | Security | System | Kyc | Card)
}

/// What a notification says while the app lock hides the app: that something happened, not what.
pub fn private_text(lang: Lang, kind: NotificationKind) -> (&'static str, &'static str) {
    use NotificationKind::*;
    match (lang, kind) {
        (Lang::En, Message | Mention) => ("New message", "Unlock Tally to read it."),
        (Lang::En, Security) => ("Security alert", "Unlock Tally to see what happened to your account."),
        (Lang::En, _) => ("New activity", "Unlock Tally to see it."),
        (Lang::De, Message | Mention) => ("Neue Nachricht", "Entsperre Tally, um sie zu lesen."),
        (Lang::De, Security) => {
            ("Sicherheitswarnung", "Entsperre Tally, um zu sehen, was mit deinem Konto passiert ist.")
        }
        (Lang::De, _) => ("Neue Aktivität", "Entsperre Tally, um sie zu sehen."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn affix(prefix: &str, suffix: &str, neg_prefix: &str, neg_suffix: &str) -> MoneyAffixes {
        MoneyAffixes {
            prefix: prefix.into(),
            suffix: suffix.into(),
            negative_prefix: neg_prefix.into(),
            negative_suffix: neg_suffix.into(),
        }
    }

    /// As Intl writes en-US and de-DE (what the UI sends).
    fn en_us() -> MoneyStyle {
        let currencies = [
            ("USD", affix("$", "", "-$", "")),
            ("JPY", affix("¥", "", "-¥", "")),
            ("BHD", affix("BHD\u{a0}", "", "-BHD\u{a0}", "")),
        ];
        MoneyStyle {
            decimal: ".".into(),
            group: ",".into(),
            primary: 3,
            secondary: 3,
            currencies: currencies.into_iter().map(|(c, a)| (c.to_string(), a)).collect(),
        }
    }
    fn de_de() -> MoneyStyle {
        let currencies = [("USD", affix("", "\u{a0}$", "-", "\u{a0}$")), ("EUR", affix("", "\u{a0}€", "-", "\u{a0}€"))];
        MoneyStyle {
            decimal: ",".into(),
            group: ".".into(),
            primary: 3,
            secondary: 3,
            currencies: currencies.into_iter().map(|(c, a)| (c.to_string(), a)).collect(),
        }
    }

    #[test]
    fn formats_as_the_ui_does() {
        let us = en_us();
        assert_eq!(us.format(914, Currency::USD).unwrap(), "$9.14");
        assert_eq!(us.format(-123_456_789, Currency::USD).unwrap(), "-$1,234,567.89");
        assert_eq!(us.format(5, Currency::USD).unwrap(), "$0.05");
        assert_eq!(us.format(500, Currency::parse("JPY").unwrap()).unwrap(), "¥500");
        assert_eq!(us.format(1250, Currency::parse("BHD").unwrap()).unwrap(), "BHD\u{a0}1.250");
        assert_eq!(us.format(i64::MIN, Currency::USD).unwrap(), "-$92,233,720,368,547,758.08");
        assert_eq!(de_de().format(123_456, Currency::USD).unwrap(), "1.234,56\u{a0}$");
        let india = MoneyStyle { primary: 3, secondary: 2, ..en_us() };
        assert_eq!(india.format(123_456_789, Currency::USD).unwrap(), "$12,34,567.89");
        assert_eq!(us.format(100, Currency::parse("EUR").unwrap()), None, "a currency the UI did not describe");
    }

    #[test]
    fn rewrites_the_hubs_amounts_and_nothing_else() {
        let us = en_us();
        assert_eq!(us.rewrite_hub_text("Bob Brown paid you 9.14 USD"), "Bob Brown paid you $9.14");
        assert_eq!(us.rewrite_hub_text("Transfer of -5.00 USD to Bob failed"), "Transfer of -$5.00 to Bob failed");
        assert_eq!(us.rewrite_hub_text("500 JPY and 1.250 BHD"), "¥500 and BHD\u{a0}1.250");
        assert_eq!(de_de().rewrite_hub_text("You have 120.00 USD left"), "You have 120,00\u{a0}$ left");
        // Not the hub's amount: wrong digits, glued to other text, an unknown or undescribed code.
        for same in
            ["9.1 USD", "a9.14 USD", "9.14 USDX", "9.14 usd", "9.14 XYZ", "9.14 EUR", "1.2.3 USD", "v1.00 USD", "USD"]
        {
            assert_eq!(us.rewrite_hub_text(same), same);
        }
        assert_eq!(us.rewrite_hub_text(""), "");
        assert_eq!(us.rewrite_hub_text("ünïcode 1.00 USD ✓"), "ünïcode $1.00 ✓");
    }

    #[test]
    fn a_style_from_the_ui_is_checked() {
        let ok = DisplayStyle { language: "de-AT".into(), money: de_de(), texts: german() };
        assert!(ok.validate().is_ok());
        assert_eq!(ok.lang(), Lang::De);
        assert!(DisplayStyle { language: "fr".into(), ..ok.clone() }.validate().is_err());
        let mut bad = ok.clone();
        bad.money.decimal = "1".into();
        assert!(bad.validate().is_err());
        let mut bad = ok.clone();
        bad.money.primary = 0;
        assert!(bad.validate().is_err());
        let mut bad = ok.clone();
        bad.money.currencies.insert("USD".into(), affix(&"$".repeat(40), "", "", ""));
        assert!(bad.validate().is_err());
        let mut bad = ok.clone();
        bad.money.currencies.insert("DOLLARS".into(), affix("$", "", "-$", ""));
        assert!(bad.validate().is_err());
        let mut bad = ok.clone();
        bad.texts.insert("payment_received.title".into(), "x".repeat(MAX_TEXT_CHARS + 1));
        assert!(bad.validate().is_err(), "a sentence too long");
        let mut bad = ok.clone();
        bad.texts.insert("Payment Received".into(), "x".into());
        assert!(bad.validate().is_err(), "not a key");
        let mut bad = ok;
        bad.texts.insert("deposit.title".into(), "Einzahlung\u{202E}".into());
        bad.texts.insert("deposit.body".into(), "a\nb".into());
        assert!(bad.validate().is_err(), "control characters");
    }

    /// Some of what the UI's de.json says (`notification_text`), as it sends it.
    fn german() -> BTreeMap<String, String> {
        [
            ("payment_received.title", "{{from}} hat dir {{amount}} gezahlt"),
            ("transfer_failed.title", "Überweisung von {{amount}} an {{to}} fehlgeschlagen"),
            ("transfer_failed.body", "Das Geld ist zurück auf deinem Guthaben."),
            ("kyc_level.title", "Identitätsprüfung: {{level}}"),
            ("kyc_level.body", "Du kannst jetzt bis zu {{single}} pro Zahlung und {{daily}} am Tag senden."),
            ("level.verified", "bestätigt"),
            ("deposit.title", "Einzahlung von {{amount}} {{nope}}"),
            ("wrong_codes.title", "{{count}} falsche Codes von {{ip}}"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn a_notification_s_text_in_the_ui_s_words() {
        let de = DisplayStyle { language: "de".into(), money: de_de(), texts: german() };
        let usd = |minor| Money::new(minor, Currency::USD);
        let paid = NotificationText::PaymentReceived { from: "Bob Brown".into(), amount: usd(1234) };
        assert_eq!(
            de.word(&paid, "Lunch").unwrap(),
            ("Bob Brown hat dir 12,34\u{a0}$ gezahlt".to_string(), "Lunch".to_string()),
            "the title worded, the memo as written"
        );
        let failed = NotificationText::TransferFailed { to: "Ann".into(), amount: usd(500) };
        assert_eq!(de.word(&failed, "The money is back in your balance.").unwrap().1, german()["transfer_failed.body"]);
        let kyc = NotificationText::KycLevel {
            level: tally_protocol::KycLevel::Verified,
            single: 10_000_000,
            daily: 40_000_000,
        };
        assert_eq!(
            de.word(&kyc, "").unwrap(),
            (
                "Identitätsprüfung: bestätigt".to_string(),
                "Du kannst jetzt bis zu 100.000,00 pro Zahlung und 400.000,00 am Tag senden.".to_string()
            )
        );
        // A currency the UI did not describe: the hub's way of writing it, not nothing.
        let yen = NotificationText::PaymentReceived {
            from: "Bob".into(),
            amount: Money::new(500, Currency::parse("JPY").unwrap()),
        };
        assert_eq!(de.word(&yen, "").unwrap().0, "Bob hat dir 500 JPY gezahlt");
        // No words for the key, words naming a field the text lacks, a key this app does not know: None,
        // and the hub's English is shown.
        assert_eq!(de.word(&NotificationText::Withdrawal { amount: usd(1) }, ""), None);
        assert_eq!(de.word(&NotificationText::Deposit { amount: usd(1) }, ""), None);
        assert_eq!(de.word(&NotificationText::Other, ""), None);
        let codes = NotificationText::WrongCodes { count: 1200, ip: "203.0.113.9".into() };
        assert_eq!(de.word(&codes, "").unwrap().0, "1.200 falsche Codes von 203.0.113.9", "a count, not a limit");
        // A name with braces is a name, not a placeholder.
        let braces = NotificationText::PaymentReceived { from: "{{amount}}".into(), amount: usd(1) };
        assert_eq!(de.word(&braces, "").unwrap().0, "{{amount}} hat dir 0,01\u{a0}$ gezahlt");
    }

    #[test]
    fn language_tags_from_the_ui_and_the_system() {
        assert_eq!(Lang::parse("de"), Some(Lang::De));
        assert_eq!(Lang::parse("de_DE.UTF-8"), Some(Lang::De));
        assert_eq!(Lang::parse("DE-at"), Some(Lang::De));
        assert_eq!(Lang::parse("en-US"), Some(Lang::En));
        assert_eq!(Lang::parse("qps-plocm"), Some(Lang::En));
        for other in ["fr", "", "C", "deutsch"] {
            assert_eq!(Lang::parse(other), None, "{other}");
        }
    }

    #[test]
    fn private_texts_in_both_languages() {
        assert_eq!(private_text(Lang::De, NotificationKind::Message).0, "Neue Nachricht");
        assert_eq!(private_text(Lang::En, NotificationKind::Payment).0, "New activity");
    }
}
