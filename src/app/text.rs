//! A small text editor value: the lines of a field and a cursor, changed by `TextEdit`s. Single-line
//! fields, the filter and prompts use it with newlines refused; the metadata editor allows them.

/// One editing step, already decoded from a key (or a bracketed paste) by the keymap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextEdit {
    Insert(char),
    Newline,
    Backspace,
    Delete,
    Left,
    Right,
    Up,
    Down,
    Home,
    End,
    /// Ctrl-u: delete from the start of the line to the cursor.
    ClearToStart,
    /// Ctrl-w: delete the word before the cursor (and the spaces after it).
    DeleteWordBack,
    /// A bracketed paste, inserted at the cursor as one edit (`TextBuffer::paste` says how).
    Paste(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextBuffer {
    lines: Vec<String>,
    /// Cursor line.
    row: usize,
    /// Cursor position within the line, in chars.
    col: usize,
    multiline: bool,
}

impl TextBuffer {
    pub fn single(text: &str) -> Self {
        let mut buffer = TextBuffer {
            lines: vec![text.replace('\n', " ")],
            row: 0,
            col: 0,
            multiline: false,
        };
        buffer.col = buffer.line_len();
        buffer
    }

    pub fn multi(text: &str) -> Self {
        let lines: Vec<String> = text.split('\n').map(str::to_string).collect();
        TextBuffer {
            row: 0,
            col: 0,
            lines,
            multiline: true,
        }
    }

    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// The line the cursor is on (a one-line buffer's whole text), borrowed.
    pub fn cursor_line(&self) -> &str {
        &self.lines[self.row]
    }

    /// (line, char column) of the cursor.
    pub fn cursor(&self) -> (usize, usize) {
        (self.row, self.col)
    }

    pub fn is_multiline(&self) -> bool {
        self.multiline
    }

    fn line_len(&self) -> usize {
        self.lines[self.row].chars().count()
    }

    fn byte_at(&self, col: usize) -> usize {
        let line = &self.lines[self.row];
        line.char_indices()
            .nth(col)
            .map(|(i, _)| i)
            .unwrap_or(line.len())
    }

    /// Inserts pasted text at the cursor. Control characters are dropped (a paste cannot smuggle
    /// escape sequences into a field) and tabs become spaces; in a one-line field a trailing line
    /// break is dropped and the others become spaces, so a paste never submits or leaves the field.
    fn paste(&mut self, text: &str) -> bool {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        let text = if self.multiline {
            text.as_str()
        } else {
            text.trim_end_matches('\n')
        };
        let mut changed = false;
        for c in text.chars() {
            changed |= match c {
                '\n' if self.multiline => self.apply(TextEdit::Newline),
                '\n' | '\t' => self.apply(TextEdit::Insert(' ')),
                c if c.is_control() => false,
                c => self.apply(TextEdit::Insert(c)),
            };
        }
        changed
    }

    /// Ctrl-w: deletes back over spaces, then over the word before them.
    fn delete_word_back(&mut self) -> bool {
        let before: Vec<char> = self.lines[self.row].chars().take(self.col).collect();
        let spaces = before
            .iter()
            .rev()
            .take_while(|c| c.is_whitespace())
            .count();
        let word = before[..before.len() - spaces]
            .iter()
            .rev()
            .take_while(|c| !c.is_whitespace())
            .count();
        let from = self.byte_at(self.col - spaces - word);
        let to = self.byte_at(self.col);
        self.lines[self.row].replace_range(from..to, "");
        self.col -= spaces + word;
        from < to
    }

    /// Applies an edit; returns whether the text changed (moves do not).
    pub fn apply(&mut self, edit: TextEdit) -> bool {
        match edit {
            TextEdit::Paste(text) => self.paste(&text),
            TextEdit::DeleteWordBack => self.delete_word_back(),
            TextEdit::Insert(c) => {
                let at = self.byte_at(self.col);
                self.lines[self.row].insert(at, c);
                self.col += 1;
                true
            }
            TextEdit::Newline if self.multiline => {
                let at = self.byte_at(self.col);
                let rest = self.lines[self.row].split_off(at);
                self.row += 1;
                self.lines.insert(self.row, rest);
                self.col = 0;
                true
            }
            TextEdit::Newline => false,
            TextEdit::Backspace if self.col > 0 => {
                let at = self.byte_at(self.col - 1);
                self.lines[self.row].remove(at);
                self.col -= 1;
                true
            }
            TextEdit::Backspace if self.row > 0 => {
                let line = self.lines.remove(self.row);
                self.row -= 1;
                self.col = self.line_len();
                self.lines[self.row].push_str(&line);
                true
            }
            TextEdit::Delete if self.col < self.line_len() => {
                let at = self.byte_at(self.col);
                self.lines[self.row].remove(at);
                true
            }
            TextEdit::Delete if self.row + 1 < self.lines.len() => {
                let next = self.lines.remove(self.row + 1);
                self.lines[self.row].push_str(&next);
                true
            }
            TextEdit::Backspace | TextEdit::Delete => false,
            TextEdit::ClearToStart => {
                let at = self.byte_at(self.col);
                let changed = at > 0;
                self.lines[self.row].replace_range(..at, "");
                self.col = 0;
                changed
            }
            TextEdit::Left => {
                if self.col > 0 {
                    self.col -= 1;
                } else if self.row > 0 {
                    self.row -= 1;
                    self.col = self.line_len();
                }
                false
            }
            TextEdit::Right => {
                if self.col < self.line_len() {
                    self.col += 1;
                } else if self.row + 1 < self.lines.len() {
                    self.row += 1;
                    self.col = 0;
                }
                false
            }
            TextEdit::Up | TextEdit::Down => {
                let target = if matches!(edit, TextEdit::Up) {
                    self.row.checked_sub(1)
                } else {
                    Some(self.row + 1)
                };
                if let Some(row) = target.filter(|r| *r < self.lines.len()) {
                    self.row = row;
                    self.col = self.col.min(self.line_len());
                }
                false
            }
            TextEdit::Home => {
                self.col = 0;
                false
            }
            TextEdit::End => {
                self.col = self.line_len();
                false
            }
        }
    }
}

/// "1 write", "4 writes": a count with its noun, for messages.
pub fn plural(count: usize, noun: &str) -> String {
    format!("{count} {noun}{}", if count == 1 { "" } else { "s" })
}

/// "1,204": a count with thousands separators, for titles and the status bar.
pub fn thousands(count: usize) -> String {
    let digits = count.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_get_thousands_separators() {
        for (n, want) in [
            (0, "0"),
            (999, "999"),
            (1_000, "1,000"),
            (1_204, "1,204"),
            (100_000, "100,000"),
            (1_234_567, "1,234,567"),
        ] {
            assert_eq!(thousands(n), want);
        }
    }

    fn type_text(buffer: &mut TextBuffer, text: &str) {
        for c in text.chars() {
            buffer.apply(if c == '\n' {
                TextEdit::Newline
            } else {
                TextEdit::Insert(c)
            });
        }
    }

    #[test]
    fn single_line_edits_at_the_cursor_and_refuses_newlines() {
        let mut b = TextBuffer::single("ad@x.io");
        b.apply(TextEdit::Home);
        b.apply(TextEdit::Right);
        type_text(&mut b, "é\n");
        assert_eq!(b.text(), "aéd@x.io");
        assert!(b.apply(TextEdit::Backspace));
        b.apply(TextEdit::End);
        assert!(!b.apply(TextEdit::Delete));
        assert_eq!(b.text(), "ad@x.io");
        assert!(b.apply(TextEdit::ClearToStart));
        assert_eq!(b.text(), "");
    }

    /// One row per rule: (field is multi-line, text before, cursor at end?, edit, text after).
    #[test]
    fn word_delete_and_paste() {
        let paste = |t: &str| TextEdit::Paste(t.to_string());
        let cases: &[(bool, &str, TextEdit, &str)] = &[
            (false, "ada lovelace", TextEdit::DeleteWordBack, "ada "),
            (false, "ada lovelace  ", TextEdit::DeleteWordBack, "ada "),
            (false, "", TextEdit::DeleteWordBack, ""),
            (false, "ada", TextEdit::ClearToStart, ""),
            (false, "", paste("a@x.io\n"), "a@x.io"),
            (false, "", paste("one\r\ntwo\n"), "one two"),
            (false, "", paste("tab\there"), "tab here"),
            (false, "", paste("esc\u{1b}[31m"), "esc[31m"),
            (true, "", paste("{\r\n\"a\": 1\n}"), "{\n\"a\": 1\n}"),
        ];
        for (multi, before, edit, after) in cases {
            let mut b = if *multi {
                TextBuffer::multi(before)
            } else {
                TextBuffer::single(before)
            };
            b.apply(edit.clone());
            assert_eq!(b.text(), *after, "{before:?} {edit:?}");
        }
        let mut b = TextBuffer::single("ab cd");
        b.apply(TextEdit::Left);
        b.apply(TextEdit::DeleteWordBack);
        assert_eq!((b.text().as_str(), b.cursor()), ("ab d", (0, 3)));
    }

    #[test]
    fn multi_line_splits_and_joins_lines() {
        let mut b = TextBuffer::multi("{}");
        b.apply(TextEdit::Right);
        type_text(&mut b, "\n  \"a\": 1\n");
        assert_eq!(b.text(), "{\n  \"a\": 1\n}");
        assert_eq!(b.cursor(), (2, 0));
        b.apply(TextEdit::Backspace);
        assert_eq!(b.text(), "{\n  \"a\": 1}");
        b.apply(TextEdit::Up);
        assert_eq!(b.cursor(), (0, 1));
    }
}
