//! Untrusted text (anything a server sent) on its way to a terminal, a spreadsheet or a JSON reader.
//!
//! One classification, `is_hidden`: control characters (C0, DEL, C1) and the Unicode format
//! characters that reorder or hide text (bidi embeddings, overrides, isolates and marks, zero-width
//! spaces and joiners, the BOM, invisible operators, tags…) plus the line and paragraph separators.
//! None of them may reach a terminal as they are: an ESC or a C1 CSI starts an escape sequence,
//! U+202E turns a name around, a zero-width space makes two names look alike and shifts columns on
//! terminals that give it a width. How each output deals with them:
//!
//! - the console strips them from every cell of the screen after each draw (`strip`): its layout has
//!   already been made, so there is no room to show them, and without them the text reads in the
//!   order it is stored;
//! - printed text (the audit table and CSV) shows each one as `⟨U+202E⟩` (`visible`);
//! - JSON output escapes them (`escape_json`), which keeps every value exactly as it is;
//! - a CSV cell that a spreadsheet would run as a formula gets a leading `'` (`csv_cell`);
//! - a huge value is laid out only up to `SHOWN_CHARS` characters, with how much more there is
//!   (`capped`, `capped_json` for every string in a JSON value), so a 20 MB name cannot make every
//!   redraw slow.
//!
//! Nothing here changes what is stored or sent: these are views.

use std::borrow::Cow;

use serde_json::{Map, Value};
use unicode_segmentation::UnicodeSegmentation;

/// ZERO WIDTH JOINER: hidden, except inside one grapheme, where it joins an emoji sequence (👩‍💻)
/// and taking it out would split one picture into several and shift the rest of the line.
const ZWJ: char = '\u{200D}';

/// Most characters of one value a view lays out (a list cell, a detail line, a title).
pub const SHOWN_CHARS: usize = 2_000;

/// `text` cut to `SHOWN_CHARS` characters, ending "… (N more)" when something was cut.
pub fn capped(text: &str) -> Cow<'_, str> {
    // Bytes bound characters from above: most values are short and never counted.
    if text.len() <= SHOWN_CHARS {
        return Cow::Borrowed(text);
    }
    match text.char_indices().nth(SHOWN_CHARS) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => {
            let more = text[cut..].chars().count();
            Cow::Owned(format!("{}… ({more} more)", &text[..cut]))
        }
    }
}

/// `value` with every string and object key in it `capped`, for showing JSON (a review's body, a
/// detail pane's metadata) without laying out or even printing all of a huge value.
pub fn capped_json(value: &Value) -> Value {
    match value {
        Value::String(text) => Value::String(capped(text).into_owned()),
        Value::Array(items) => Value::Array(items.iter().map(capped_json).collect()),
        Value::Object(fields) => Value::Object(capped_object(fields)),
        other => other.clone(),
    }
}

/// `capped_json` of a JSON object.
pub fn capped_object(fields: &Map<String, Value>) -> Map<String, Value> {
    fields
        .iter()
        .map(|(key, value)| (capped(key).into_owned(), capped_json(value)))
        .collect()
}

/// Whether `c` must not be written to a terminal as it is.
pub fn is_hidden(c: char) -> bool {
    matches!(c,
        // C0, DEL and C1 controls.
        '\u{0}'..='\u{1F}' | '\u{7F}'..='\u{9F}'
        // Line and paragraph separators.
        | '\u{2028}' | '\u{2029}'
        // Every format character (general category Cf) of Unicode 16.
        | '\u{AD}'
        | '\u{600}'..='\u{605}'
        | '\u{61C}'
        | '\u{6DD}'
        | '\u{70F}'
        | '\u{890}'..='\u{891}'
        | '\u{8E2}'
        | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}'
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{110BD}'
        | '\u{110CD}'
        | '\u{13430}'..='\u{1343F}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0001}'
        | '\u{E0020}'..='\u{E007F}')
}

/// Each character of `cluster` (one grapheme) with whether it is hidden there.
fn marked(cluster: &str) -> impl Iterator<Item = (char, bool)> + '_ {
    let chars: Vec<char> = cluster.chars().collect();
    (0..chars.len()).map(move |i| {
        let shown = |at: Option<usize>| {
            at.and_then(|at| chars.get(at))
                .is_some_and(|&c| !is_hidden(c))
        };
        let joins = chars[i] == ZWJ && shown(i.checked_sub(1)) && shown(Some(i + 1));
        (chars[i], is_hidden(chars[i]) && !joins)
    })
}

/// `cluster` (one grapheme, as a screen cell holds) without its hidden characters.
pub fn strip(cluster: &str) -> Cow<'_, str> {
    if !cluster.chars().any(is_hidden) {
        return Cow::Borrowed(cluster);
    }
    let kept: String = marked(cluster)
        .filter(|(_, hidden)| !hidden)
        .map(|(c, _)| c)
        .collect();
    if kept == cluster {
        Cow::Borrowed(cluster)
    } else {
        Cow::Owned(kept)
    }
}

/// `text` with every hidden character written as `⟨U+XXXX⟩`, so the text stays on one line and
/// shows exactly what it holds.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 16);
    for cluster in text.graphemes(true) {
        for (c, hidden) in marked(cluster) {
            if hidden {
                shown.push_str(&format!("⟨U+{:04X}⟩", u32::from(c)));
            } else {
                shown.push(c);
            }
        }
    }
    Cow::Owned(shown)
}

/// JSON text (as serde_json writes it) with every hidden character inside its strings escaped as
/// `\uXXXX`. serde_json escapes C0 controls itself, so a raw one left in its output is layout (the
/// newlines of pretty printing) and stays; DEL, C1 and format characters are escaped here. Outside
/// strings JSON is plain ASCII, so the value read back is exactly the one written.
pub fn escape_json(json: &str) -> Cow<'_, str> {
    let escaped = |c: char| c >= '\u{7F}' && is_hidden(c);
    if !json.chars().any(escaped) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if escaped(c) {
            for unit in c.encode_utf16(&mut [0; 2]) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// First characters with which a spreadsheet takes a cell for a formula (`=HYPERLINK(…)`), or that
/// it trims before looking (tab, CR).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A CSV cell from untrusted text: a leading `'` when a spreadsheet would run it as a formula, and
/// hidden characters made visible (so a cell never spans lines either).
pub fn csv_cell(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) {
        Cow::Owned(visible(&format!("'{text}")).into_owned())
    } else {
        visible(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_hidden() {
        let hidden = [
            '\u{0}',
            '\u{1B}',
            '\n',
            '\r',
            '\t',
            '\u{7F}',
            '\u{80}',
            '\u{85}',
            '\u{9B}',
            '\u{9F}',
            '\u{AD}',
            '\u{600}',
            '\u{61C}',
            '\u{180E}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{200F}',
            '\u{202A}',
            '\u{202B}',
            '\u{202C}',
            '\u{202D}',
            '\u{202E}',
            '\u{2028}',
            '\u{2029}',
            '\u{2060}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{206F}',
            '\u{FEFF}',
            '\u{FFF9}',
            '\u{1D173}',
            '\u{E0001}',
            '\u{E0041}',
        ];
        for c in hidden {
            assert!(is_hidden(c), "U+{:04X} should be hidden", u32::from(c));
        }
        let shown = [
            ' ',
            'a',
            '~',
            '\u{A0}',
            'é',
            '\u{301}',
            'ß',
            '李',
            'ا',
            '\u{2010}',
            '\u{2030}',
            '\u{2065}',
            '\u{FE0F}',
            '⟨',
            '👩',
            '\u{FFFD}',
            '\u{1F600}',
        ];
        for c in shown {
            assert!(!is_hidden(c), "U+{:04X} should be shown", u32::from(c));
        }
    }

    #[test]
    fn strip_takes_hidden_characters_out_of_a_cell() {
        let cases = [
            ("a", "a"),
            ("b\u{202E}", "b"),
            ("b\u{200B}", "b"),
            ("b\u{200D}", "b"),
            ("\u{600}c", "c"),
            ("\u{1B}", ""),
            ("\u{9B}", ""),
            ("e\u{301}", "e\u{301}"),
            // A joiner inside an emoji sequence stays; one at either end does not.
            ("👩\u{200D}💻", "👩\u{200D}💻"),
            ("\u{200D}👩", "👩"),
            ("e\u{200C}\u{200D}\u{200E}", "e"),
        ];
        for (cell, want) in cases {
            assert_eq!(strip(cell), want, "{}", cell.escape_unicode());
        }
        assert!(matches!(strip("plain"), Cow::Borrowed(_)));
        assert!(matches!(strip("👩\u{200D}💻"), Cow::Borrowed(_)));
    }

    #[test]
    fn visible_names_each_hidden_character() {
        let cases = [
            ("plain name", "plain name"),
            ("ref_\u{1B}[31mRED", "ref_⟨U+001B⟩[31mRED"),
            ("\u{9B}31m", "⟨U+009B⟩31m"),
            ("evil\u{202E}gnp.exe", "evil⟨U+202E⟩gnp.exe"),
            ("Al\u{200B}ice", "Al⟨U+200B⟩ice"),
            ("\u{FEFF}bom", "⟨U+FEFF⟩bom"),
            ("two\nlines", "two⟨U+000A⟩lines"),
            ("tag\u{E0041}", "tag⟨U+E0041⟩"),
            ("👩\u{200D}💻 dev", "👩\u{200D}💻 dev"),
            ("a\u{200D}b", "a⟨U+200D⟩b"),
        ];
        for (text, want) in cases {
            assert_eq!(visible(text), want, "{}", text.escape_unicode());
        }
    }

    #[test]
    fn json_escapes_what_serde_leaves_raw_and_reads_back_the_same() {
        let value = serde_json::json!({
            "id": "ref_\u{1B}[31mRED\u{9B}1m\u{202E}x\u{7F}\u{E0041}",
            "name": "Zoë 李 👩\u{200D}💻",
        });
        for json in [
            value.to_string(),
            serde_json::to_string_pretty(&value).unwrap(),
        ] {
            let escaped = escape_json(&json);
            assert!(
                escaped.contains(r"\u001b") && escaped.contains(r"\u009b"),
                "{escaped}"
            );
            assert!(
                escaped.contains(r"\u202e") && escaped.contains(r"\u007f"),
                "{escaped}"
            );
            assert!(escaped.contains(r"\udb40\udc41"), "{escaped}");
            assert!(escaped.contains("Zoë 李 👩"), "only hidden ones: {escaped}");
            assert!(!escaped.chars().any(|c| c >= '\u{7F}' && is_hidden(c)));
            let back: serde_json::Value = serde_json::from_str(&escaped).unwrap();
            assert_eq!(back, value);
        }
        assert_eq!(escape_json("[1]"), "[1]");
    }

    #[test]
    fn csv_cells_never_start_a_formula() {
        let cases = [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'⟨U+0009⟩=1"),
            ("\r=1", "'⟨U+000D⟩=1"),
            ("a=1", "a=1"),
            ("2026-11-21T10:00:00Z", "2026-11-21T10:00:00Z"),
            ("", ""),
            (" =1", " =1"),
            ("\u{202E}=1", "⟨U+202E⟩=1"),
        ];
        for (text, want) in cases {
            assert_eq!(csv_cell(text), want, "{}", text.escape_unicode());
        }
    }

    #[test]
    fn a_huge_value_is_cut_with_how_much_more_there_is() {
        let short = "Ada Lovelace";
        assert!(matches!(capped(short), Cow::Borrowed(_)));
        let exact = "é".repeat(SHOWN_CHARS);
        assert_eq!(capped(&exact), exact, "at the cap nothing is cut");
        let huge = "é".repeat(SHOWN_CHARS + 5);
        let shown = capped(&huge);
        assert!(
            shown.ends_with("… (5 more)"),
            "{}",
            &shown[shown.len() - 20..]
        );
        assert_eq!(shown.chars().filter(|c| *c == 'é').count(), SHOWN_CHARS);
    }

    #[test]
    fn capped_json_cuts_every_huge_string_and_key_and_keeps_the_rest() {
        let huge = "x".repeat(SHOWN_CHARS + 7);
        let value = serde_json::json!({
            "first_name": huge,
            "metadata": {"tags": [huge, "a", 3], huge.clone(): null, "n": 1.5, "ok": true},
        });
        let cut = format!("{}… (7 more)", "x".repeat(SHOWN_CHARS));
        let want = serde_json::json!({
            "first_name": cut,
            "metadata": {"tags": [cut, "a", 3], cut.clone(): null, "n": 1.5, "ok": true},
        });
        assert_eq!(capped_json(&value), want);
    }
}
