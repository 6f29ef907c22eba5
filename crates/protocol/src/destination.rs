//! Where a withdrawal goes: free text a bank or payout provider understands ("NL91 ABNA 0417 1643 00",
//! "PayPal jane@example.com"). When it looks like an IBAN it must be a valid one — check digits and the
//! country's length and layout (the `iban_validate` crate) — because a typo there sends money to nobody.
//! The hub and the app check with this one rule.
use iban::{Iban, ParseBaseIbanError, ParseIbanError};

/// Longest destination, in bytes.
pub const MAX_DESTINATION_BYTES: usize = 140;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DestinationError {
    #[error("enter where the money should go")]
    Empty,
    #[error("the destination is longer than {MAX_DESTINATION_BYTES} bytes")]
    TooLong,
    #[error("the destination holds an invisible or direction-changing character")]
    Control,
    #[error("this IBAN's check digits do not match: look for a mistyped character")]
    IbanChecksum,
    #[error("this is not a valid IBAN for its country (wrong length or layout)")]
    IbanFormat,
}

/// The destination as it will be stored and shown: trimmed, an IBAN in groups of four.
pub fn destination(input: &str) -> Result<String, DestinationError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(DestinationError::Empty);
    }
    if text.len() > MAX_DESTINATION_BYTES {
        return Err(DestinationError::TooLong);
    }
    if !crate::text::hidden_chars(text).is_empty() {
        return Err(DestinationError::Control);
    }
    let compact: String = text.chars().filter(|c| *c != ' ').collect::<String>().to_ascii_uppercase();
    if !looks_like_iban(&compact) {
        return Ok(text.to_string());
    }
    match compact.parse::<Iban>() {
        Ok(iban) => Ok(iban.to_string()),
        Err(ParseIbanError::InvalidBaseIban { source: ParseBaseIbanError::InvalidChecksum }) => {
            Err(DestinationError::IbanChecksum)
        }
        Err(_) => Err(DestinationError::IbanFormat),
    }
}

/// Two letters, two digits, then 11 to 30 letters or digits: the shape of every IBAN.
fn looks_like_iban(s: &str) -> bool {
    let b = s.as_bytes();
    (15..=34).contains(&b.len())
        && b[..2].iter().all(u8::is_ascii_alphabetic)
        && b[2..4].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ibans_are_checked_and_grouped() {
        assert_eq!(destination(" de89370400440532013000 ").unwrap(), "DE89 3704 0044 0532 0130 00");
        assert_eq!(destination("GB82 WEST 1234 5698 7654 32").unwrap(), "GB82 WEST 1234 5698 7654 32");
        assert_eq!(destination("DE89370400440532013001"), Err(DestinationError::IbanChecksum));
        assert!(destination("DE8937040044053201300").is_err(), "a digit short");
    }

    #[test]
    fn other_text_is_kept_as_typed() {
        assert_eq!(destination("PayPal jane@example.com").unwrap(), "PayPal jane@example.com");
        assert_eq!(destination("  "), Err(DestinationError::Empty));
        assert_eq!(destination("a\u{202E}b"), Err(DestinationError::Control));
        assert_eq!(destination(&"x".repeat(141)), Err(DestinationError::TooLong));
    }

    proptest! {
        #[test]
        fn any_text_is_a_clean_answer(s in "\\PC{0,200}") {
            if let Ok(d) = destination(&s) {
                prop_assert!(!d.is_empty() && d.len() <= MAX_DESTINATION_BYTES + 10);
            }
        }
    }
}
