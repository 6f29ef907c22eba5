//! Password rules for a new password (sign-up, change): at least 12 characters, at most 256, and not
//! guessable — zxcvbn's estimate (its dictionaries hold the common-password lists, names and words, and
//! it is told the username and display name) must reach score 3 (more than 10^8 guesses).
use crate::error::{HubError, HubResult};

pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 256;

pub fn check_new(password: &str, username: &str, display_name: &str) -> HubResult<()> {
    let n = password.chars().count();
    if n < MIN_CHARS {
        return Err(HubError::invalid(format!("password: at least {MIN_CHARS} characters")));
    }
    if n > MAX_CHARS {
        return Err(HubError::invalid(format!("password: at most {MAX_CHARS} characters")));
    }
    let estimate = zxcvbn::zxcvbn(password, &[username, display_name]);
    if (estimate.score() as u8) < 3 {
        let hint = estimate.feedback().and_then(|f| f.warning()).map(|w| format!(" ({w})")).unwrap_or_default();
        return Err(HubError::invalid(format!(
            "password: too easy to guess{hint}; a few unrelated words or a longer phrase work well"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_common_and_personal_passwords_are_refused_and_passphrases_pass() {
        for weak in ["short", "password1234", "qwertyuiop123", "aaaaaaaaaaaaaaa", "alice-alice-alice"] {
            assert!(check_new(weak, "alice", "Alice Adams").is_err(), "{weak}");
        }
        assert!(check_new(&"x".repeat(257), "a", "a").is_err());
        for strong in ["correct horse battery staple", "plum-otter-kettle-93", "Ribbon!Canyon7Lantern"] {
            check_new(strong, "alice", "Alice Adams").unwrap_or_else(|e| panic!("{strong}: {e}"));
        }
    }
}
