//! A user's deposit reference: what they write on a bank transfer so the operator's finance team credits
//! it to them — `TLY-7K3M-Q9XD-42`: 8 random Crockford base32 characters (no I, L, O or U to misread) and
//! two ISO 7064 MOD 97-10 check digits, the IBAN's scheme. Any one character mistyped, or two neighbours
//! swapped, fails the check, so a typo is refused instead of crediting someone else. Read leniently:
//! any case, spaces or dashes, O for 0, I or L for 1, the `TLY` prefix optional.

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const BODY: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("a deposit reference is TLY and 10 letters and digits (TLY-XXXX-XXXX-NN)")]
    Format,
    #[error("this deposit reference's check digits do not match: look for a mistyped character")]
    Check,
}

/// A new reference from 5 random bytes (40 bits: 8 base32 characters).
pub fn make(random: [u8; 5]) -> String {
    let mut bits = random.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let mut body = [0u8; BODY];
    for slot in body.iter_mut().rev() {
        *slot = ALPHABET[(bits & 31) as usize];
        bits >>= 5;
    }
    let body = std::str::from_utf8(&body).expect("ASCII alphabet");
    format!("TLY-{}-{}-{:02}", &body[..4], &body[4..], check_digits(body))
}

/// The reference in its one written form, or why it is not one.
pub fn parse(input: &str) -> Result<String, ReferenceError> {
    let mut s: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).collect::<String>().to_ascii_uppercase();
    if s.len() == BODY + 5 && s.starts_with("TLY") {
        s.drain(..3);
    }
    let s: String = s
        .chars()
        .map(|c| match c {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    if s.len() != BODY + 2 || !s.is_ascii() {
        return Err(ReferenceError::Format);
    }
    let (body, check) = s.split_at(BODY);
    if !body.bytes().all(|b| ALPHABET.contains(&b)) || !check.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ReferenceError::Format);
    }
    if check.parse::<u32>().ok() != Some(check_digits(body)) {
        return Err(ReferenceError::Check);
    }
    Ok(format!("TLY-{}-{}-{check}", &body[..4], &body[4..]))
}

/// ISO 7064 MOD 97-10 over the characters' base32 values: 98 - (value × 100 mod 97).
fn check_digits(body: &str) -> u32 {
    let value = body.bytes().fold(0u32, |rest, b| {
        let digit = ALPHABET.iter().position(|a| *a == b).unwrap_or(0) as u32;
        (rest * 32 + digit) % 97
    });
    98 - (value * 100) % 97
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_reference_reads_back_leniently() {
        let r = make([0x12, 0x34, 0x56, 0x78, 0x9a]);
        assert!(r.starts_with("TLY-") && r.len() == 16, "{r}");
        assert_eq!(parse(&r).unwrap(), r);
        assert_eq!(parse(&r.to_lowercase().replace('-', " ")).unwrap(), r);
        assert_eq!(parse(&r[4..]).unwrap(), r, "without the prefix");
        assert_eq!(parse("TLY-1234"), Err(ReferenceError::Format));
        assert_eq!(parse("TLY-UUUU-UUUU-00"), Err(ReferenceError::Format), "U is not in the alphabet");
    }

    proptest! {
        #[test]
        fn one_typo_or_one_swap_is_caught(random in any::<[u8; 5]>(), at in 0usize..8, by in 1usize..32) {
            let r = make(random);
            let mut body: Vec<u8> = r.bytes().filter(|b| *b != b'-').skip(3).take(8).collect();
            let check = &r[r.len() - 2..];
            let i = ALPHABET.iter().position(|a| *a == body[at]).unwrap();
            body[at] = ALPHABET[(i + by) % 32];
            let typo = format!("{}{check}", String::from_utf8(body.clone()).unwrap());
            prop_assert_eq!(parse(&typo), Err(ReferenceError::Check));
            let mut swapped: Vec<u8> = r.bytes().filter(|b| *b != b'-').skip(3).take(8).collect();
            if at < 7 && swapped[at] != swapped[at + 1] {
                swapped.swap(at, at + 1);
                let swap = format!("{}{check}", String::from_utf8(swapped).unwrap());
                prop_assert_eq!(parse(&swap), Err(ReferenceError::Check));
            }
        }

        #[test]
        fn any_text_is_a_clean_answer(s in "\\PC{0,40}") {
            let _ = parse(&s);
        }
    }
}
