//! Showing text in a fixed width: the window of an edited line that keeps the cursor in view, and
//! the cursor's screen column, by display width (so CJK and emoji place the cursor right); a
//! message broken into lines.

use ratatui::text::Span;

fn width(c: char) -> usize {
    Span::raw(c.to_string()).width()
}

/// The part of `text` that fits `columns` with the cursor (a char index) visible, and the cursor's
/// column within it.
pub fn window(text: &str, cursor: usize, columns: usize) -> (String, u16) {
    let chars: Vec<char> = text.chars().collect();
    let cursor = cursor.min(chars.len());
    let columns = columns.max(1);
    // Scroll right just enough that the cursor sits in the last column.
    let mut start = 0;
    let mut before: usize = chars[..cursor].iter().map(|c| width(*c)).sum();
    while before >= columns && start < cursor {
        before -= width(chars[start]);
        start += 1;
    }
    let mut shown = String::new();
    let mut used = 0;
    for c in &chars[start..] {
        used += width(*c);
        if used > columns {
            break;
        }
        shown.push(*c);
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
    fn wide_characters_count_twice() {
        assert_eq!(window("李李x", 2, 10), ("李李x".to_string(), 4));
        assert_eq!(window("李李李李", 4, 5), ("李李".to_string(), 4));
    }
}
