//! Running the user's editor on a text: `$VISUAL`, else `$EDITOR`, else `vi`, through `sh -c` so
//! an editor given with arguments (`code --wait`) works as it does for git. The text goes to a
//! private temporary file, which is read back and removed. Terminal hand-over is `runtime::host`.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

/// The editor the user asked for.
pub fn chosen() -> String {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.trim().is_empty())
        .unwrap_or_else(|| "vi".to_string())
}

/// Edits `text` in `editor`; the edited text, or a sentence saying why there is none.
pub fn run(editor: &str, text: &str) -> Result<String, String> {
    let file = TempFile::create(text)
        .map_err(|e| format!("Could not write the text for the editor: {e}"))?;
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(&file.0)
        .status()
        .map_err(|e| format!("Could not start the editor `{editor}`: {e}"))?;
    match status.code() {
        Some(0) => std::fs::read_to_string(&file.0)
            .map_err(|e| format!("Could not read back what the editor saved: {e}")),
        // What sh says when it cannot find or run the command.
        Some(code @ (126 | 127)) => Err(format!(
            "Could not start the editor `{editor}` (exit {code}): set $VISUAL or $EDITOR."
        )),
        Some(code) => Err(format!(
            "The editor `{editor}` exited with status {code}: the field is unchanged."
        )),
        None => Err(format!(
            "The editor `{editor}` was stopped by a signal: the field is unchanged."
        )),
    }
}

/// A file only this user can read, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn create(text: &str) -> std::io::Result<TempFile> {
        let nanos = jiff::Timestamp::now().as_nanosecond();
        let name = format!("referee-{}-{nanos}.json", std::process::id());
        let path = std::env::temp_dir().join(name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = TempFile(path);
        options.open(&file.0)?.write_all(text.as_bytes())?;
        Ok(file)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake editor: a shell script in a temporary directory doing `body` to the file `$1`.
    fn fake(dir: &tempfile::TempDir, body: &str) -> String {
        let path = dir.path().join("ed");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        format!("sh {}", path.display())
    }

    #[test]
    fn the_editor_gets_the_text_and_what_it_saves_comes_back() {
        let dir = tempfile::tempdir().unwrap();
        let seen = dir.path().join("seen");
        let editor = fake(
            &dir,
            &format!(
                "cp \"$1\" {}; printf '{{\"b\": 2}}\\n' > \"$1\"",
                seen.display()
            ),
        );
        assert_eq!(run(&editor, "{\"a\": 1}").unwrap(), "{\"b\": 2}\n");
        assert_eq!(std::fs::read_to_string(seen).unwrap(), "{\"a\": 1}");
    }

    #[test]
    fn an_editor_that_fails_or_is_missing_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let failing = fake(&dir, "exit 3");
        let error = run(&failing, "{}").unwrap_err();
        assert!(error.contains("exited with status 3"), "{error}");
        let missing = dir.path().join("no-such-editor").display().to_string();
        let error = run(&missing, "{}").unwrap_err();
        assert!(error.starts_with("Could not start the editor"), "{error}");
    }
}
