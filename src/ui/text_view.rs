//! Showing text in a fixed width: the window of an edited line that keeps the cursor in view, and
//! the cursor's screen column, by display width (so CJK and emoji place the cursor right); a
//! message broken into lines.

use ratatui::text::Span;

use crate::text_safety::SHOWN_CHARS;

fn width(c: char) -> usize {
    Span::raw(&*c.encode_utf8(&mut [0; 4])).width()
}

/// The part of `text` that fits `columns` with the cursor (a char index) visible, and the cursor's
/// column within it. Only the characters around the cursor are looked at (at most `SHOWN_CHARS`
/// either side, however many take no width), so a 20 MB value costs no more to draw than a name.
pub fn window(text: &str, cursor: usize, columns: usize) -> (String, u16) {
    let columns = columns.max(1);
    // A field opens with the cursor at its end: found without walking a huge value char by char.
    let at = if cursor >= text.chars().count() {
        text.len()
    } else {
        text.char_indices()
            .nth(cursor)
            .map_or(text.len(), |(i, _)| i)
    };
    // Scroll right just enough that the cursor sits in the last column.
    let mut start = at;
    let mut before = 0;
    for c in text[..at].chars().rev().take(SHOWN_CHARS) {
        let wide = width(c);
        if before + wide >= columns {
            break;
        }
        before += wide;
        start -= c.len_utf8();
    }
    let mut shown = String::new();
    let mut used = 0;
    for c in text[start..].chars().take(SHOWN_CHARS) {
        used += width(c);
        if used > columns {
            break;
        }
        shown.push(c);
    }
    (shown, before as u16)
}

/// `text` broken at spaces into lines of at most `width` characters (longer words are cut), so a
/// popup can be sized to what it shows and a long note under a field is read whole.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let needed = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if needed > width && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_shows_whole_with_the_cursor_where_it_is() {
        assert_eq!(window("abc", 1, 10), ("abc".to_string(), 1));
    }

    #[test]
    fn long_text_scrolls_to_keep_the_cursor_in_view() {
        let text = "abcdefghij";
        assert_eq!(window(text, 10, 4), ("hij".to_string(), 3));
        assert_eq!(window(text, 0, 4), ("abcd".to_string(), 0));
    }

    #[test]
    fn a_huge_text_is_windowed_around_the_cursor() {
        let huge = format!("{}end", "é".repeat(20_000_000));
        assert_eq!(window(&huge, 20_000_003, 6), ("ééend".to_string(), 5));
        assert_eq!(window(&huge, 0, 4), ("éééé".to_string(), 0));
        let hidden = "\u{200B}".repeat(5_000_000);
        let (shown, x) = window(&hidden, 5_000_000, 10);
        assert_eq!((shown.chars().count(), x), (SHOWN_CHARS, 0));
    }

    #[test]
    fn wide_characters_count_twice() {
        assert_eq!(window("李李x", 2, 10), ("李李x".to_string(), 4));
        assert_eq!(window("李李李李", 4, 5), ("李李".to_string(), 4));
    }
}
