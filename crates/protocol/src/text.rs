//! Characters that change how text reads without being seen: control characters (newlines included),
//! bidirectional overrides, isolates and marks, zero-width spaces, word joiners, the BOM, tag characters.
//! In a name they let "evil" read "live" or push a title onto a second line; in a native notification
//! they reach a system surface that shows them raw. One rule for both sides: the hub refuses names that
//! hold them, and the app strips them from everything it puts in a notification.
//!
//! The joiners U+200C (ZWNJ) and U+200D (ZWJ) are part of how Persian, Indic scripts and emoji sequences
//! are written: they are kept between two non-ASCII characters and treated as hidden anywhere else.

/// Whether `c` is hidden whatever surrounds it.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'                       // soft hyphen
            | '\u{061C}'                     // Arabic letter mark
            | '\u{180E}'                     // Mongolian vowel separator
            | '\u{200B}'                     // zero-width space
            | '\u{200E}'..='\u{200F}'        // LRM, RLM
            | '\u{2028}'..='\u{202E}'        // line/paragraph separators, bidi embeddings and overrides
            | '\u{2060}'..='\u{206F}'        // word joiner, invisible operators, isolates, deprecated formats
            | '\u{FEFF}'                     // BOM / zero-width no-break space
            | '\u{FFF9}'..='\u{FFFB}'        // interlinear annotations
            | '\u{E0000}'..='\u{E007F}' // tag characters
        )
}

fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}')
}

/// The hidden characters of `s`, in order (a joiner counts unless it sits between two non-ASCII characters).
pub fn hidden_chars(s: &str) -> Vec<char> {
    let chars: Vec<char> = s.chars().collect();
    chars
        .iter()
        .enumerate()
        .filter(|&(i, &c)| {
            is_hidden(c)
                || (is_joiner(c)
                    && !(i > 0 && !chars[i - 1].is_ascii() && chars.get(i + 1).is_some_and(|n| !n.is_ascii())))
        })
        .map(|(_, &c)| c)
        .collect()
}

fn without_hidden(s: &str, keep_newlines: bool) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        if keep_newlines && c == '\n' {
            out.push('\n');
        } else if matches!(c, '\t' | '\r' | '\n' | '\u{2028}' | '\u{2029}') {
            out.push(' ');
        } else if is_hidden(c) {
        } else if is_joiner(c) {
            let joins = i > 0 && !chars[i - 1].is_ascii() && chars.get(i + 1).is_some_and(|n| !n.is_ascii());
            if joins {
                out.push(c);
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn bounded(s: String, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        return s;
    }
    let mut cut: String = s.chars().take(max_chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// One line for a notification's title: hidden characters removed, line breaks and tabs as spaces, runs of
/// spaces collapsed, at most `max_chars` (cut with an ellipsis).
pub fn one_line(s: &str, max_chars: usize) -> String {
    let spaced = without_hidden(s, false);
    bounded(spaced.split_whitespace().collect::<Vec<_>>().join(" "), max_chars)
}

/// A notification's body: hidden characters removed, line breaks kept (at most two in a row), at most
/// `max_chars`.
pub fn clean_text(s: &str, max_chars: usize) -> String {
    let kept = without_hidden(s, true);
    let mut out = String::with_capacity(kept.len());
    let mut newlines = 0;
    for c in kept.trim().chars() {
        newlines = if c == '\n' { newlines + 1 } else { 0 };
        if newlines <= 2 {
            out.push(c);
        }
    }
    bounded(out, max_chars)
}

/// A text cell a spreadsheet would read as a formula (CSV injection; OWASP's list: a leading `=`, `+`,
/// `-`, `@`, TAB or CR, which spreadsheets skip before a formula) gets a quote mark in front; anything
/// else is kept as it is. Every CSV export (the app's history, the hub's audit trail) writes cells through it.
pub fn defuse_formula(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_are_found_and_joiners_in_scripts_and_emoji_are_not() {
        assert_eq!(hidden_chars("Eve's phone\u{202E}enohp"), vec!['\u{202E}']);
        assert_eq!(hidden_chars("Bob\nBank"), vec!['\n']);
        assert_eq!(hidden_chars("a\u{200B}b\u{200E}c\u{FEFF}"), vec!['\u{200B}', '\u{200E}', '\u{FEFF}']);
        assert!(hidden_chars("👩\u{200D}💻 Zoë").is_empty(), "an emoji sequence");
        assert!(hidden_chars("می\u{200C}خواهم").is_empty(), "Persian with ZWNJ");
        assert_eq!(hidden_chars("pay\u{200D}pal"), vec!['\u{200D}'], "a joiner between ASCII letters");
        assert!(hidden_chars("Alice Adams").is_empty());
    }

    #[test]
    fn titles_are_one_clean_line_and_bodies_keep_their_lines() {
        assert_eq!(one_line("Mallory\n\nBank\u{202E}  of\tTally", 80), "Mallory Bank of Tally");
        assert_eq!(one_line("\u{200F}\u{2066}x\u{2069}", 80), "x");
        assert_eq!(one_line("abcdefghij", 5), "abcd…");
        assert_eq!(clean_text("line one\n\n\n\nline two\u{202E}", 100), "line one\n\nline two");
    }
}
