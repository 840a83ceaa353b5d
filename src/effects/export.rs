//! Putting an `:export` in its file, off the UI task: `~` expanded, a relative path taken from the
//! folder referee runs in, the text written to a temporary file beside the target (readable by
//! this user only: it holds personal data) and renamed into place, so the file is whole or not
//! there at all. A file already there is replaced only when `replace` says so; otherwise the
//! rename refuses it, even one that appears while the text is written.

use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use crate::domain::{Record, Schema};
use crate::export::{Format, WriteError, document};

/// Writes `records` as `format` to `path` (as typed); gives the path it meant, for messages.
pub fn export(
    schema: &'static Schema,
    format: Format,
    path: &str,
    replace: bool,
    records: &[Record],
) -> (String, Result<(), WriteError>) {
    let target = match resolve(path, std::env::var_os("HOME").map(PathBuf::from)) {
        Ok(target) => target,
        Err(error) => return (path.to_string(), Err(error)),
    };
    let result = write(&target, replace, || document(format, schema, records));
    (target.display().to_string(), result)
}

/// `path` with a leading `~` (alone or before `/`) made `home`, and made absolute from the
/// current folder.
fn resolve(path: &str, home: Option<PathBuf>) -> Result<PathBuf, WriteError> {
    let path = match path.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            let home = home.ok_or(WriteError::NoHome)?;
            home.join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(path),
    };
    if path.is_absolute() {
        return Ok(path);
    }
    let here = std::env::current_dir().map_err(|e| WriteError::Other(e.to_string()))?;
    Ok(here.join(path))
}

/// Writes the text `text` makes to `target` through a temporary file in its folder.
fn write(target: &Path, replace: bool, text: impl FnOnce() -> String) -> Result<(), WriteError> {
    if target.is_dir() {
        return Err(WriteError::IsFolder);
    }
    // Said before the text is made; the rename below still refuses a file that appears meanwhile.
    if !replace && target.symlink_metadata().is_ok() {
        return Err(WriteError::Exists);
    }
    let folder = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !folder.is_dir() {
        return Err(WriteError::NoFolder);
    }
    let said = |error| said(error, folder);
    let mut file = tempfile::Builder::new()
        .prefix(".referee-export-")
        .tempfile_in(folder)
        .map_err(said)?;
    file.write_all(text().as_bytes()).map_err(said)?;
    file.as_file().sync_all().map_err(said)?;
    let placed = if replace {
        file.persist(target)
    } else {
        file.persist_noclobber(target)
    };
    placed.map(drop).map_err(|e| said(e.error))
}

/// What the system's error, writing in `folder`, means for the person exporting.
fn said(error: std::io::Error, folder: &Path) -> WriteError {
    match error.kind() {
        // A folder that is there but takes no new files (`/proc`) is not a missing one.
        ErrorKind::NotFound if folder.is_dir() => WriteError::Other(error.to_string()),
        ErrorKind::NotFound => WriteError::NoFolder,
        ErrorKind::PermissionDenied => WriteError::Denied,
        ErrorKind::AlreadyExists => WriteError::Exists,
        ErrorKind::IsADirectory => WriteError::IsFolder,
        _ => WriteError::Other(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::schema::V1_SCHEMA;

    fn ada() -> Vec<Record> {
        vec![Record::sample(json!({"first_name": "Ada"}))]
    }

    #[test]
    fn a_tilde_is_home_and_a_relative_path_is_taken_from_here() {
        let home = Some(PathBuf::from("/home/ada"));
        let here = std::env::current_dir().unwrap();
        // (typed, meant)
        let cases = [
            ("~/x.csv", PathBuf::from("/home/ada/x.csv")),
            ("~", PathBuf::from("/home/ada")),
            ("/tmp/x.csv", PathBuf::from("/tmp/x.csv")),
            ("x.csv", here.join("x.csv")),
            ("~bob/x.csv", here.join("~bob/x.csv")),
        ];
        for (typed, meant) in cases {
            assert_eq!(resolve(typed, home.clone()), Ok(meant), "{typed}");
        }
        assert_eq!(resolve("~/x.csv", None), Err(WriteError::NoHome));
    }

    /// One case per way a write ends; nothing but the target is ever left in the folder.
    #[test]
    fn a_file_is_written_whole_replaced_only_when_asked_and_failures_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("x.csv");
        let path = target.to_str().unwrap();
        let (shown, result) = export(&V1_SCHEMA, Format::Csv, path, false, &ada());
        assert_eq!((shown.as_str(), result), (path, Ok(())));
        let written = std::fs::read_to_string(&target).unwrap();
        assert_eq!(written, document(Format::Csv, &V1_SCHEMA, &ada()));

        let (_, again) = export(&V1_SCHEMA, Format::Json, path, false, &[]);
        assert_eq!(again, Err(WriteError::Exists));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), written, "kept");
        let (_, replaced) = export(&V1_SCHEMA, Format::Json, path, true, &[]);
        assert_eq!(replaced, Ok(()));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "[]\n");

        let missing = dir.path().join("no/such/x.csv");
        let folder = dir.path().to_str().unwrap();
        for (typed, error) in [
            (missing.to_str().unwrap(), WriteError::NoFolder),
            (folder, WriteError::IsFolder),
        ] {
            assert_eq!(
                export(&V1_SCHEMA, Format::Csv, typed, true, &ada()).1,
                Err(error)
            );
        }
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
    }

    /// One row per error the system gives: what it is called in the status bar.
    #[test]
    fn system_errors_are_named_for_the_person_exporting() {
        let gone = Path::new("/no/such/folder");
        let cases = [
            (ErrorKind::NotFound, WriteError::NoFolder),
            (ErrorKind::PermissionDenied, WriteError::Denied),
            (ErrorKind::AlreadyExists, WriteError::Exists),
            (ErrorKind::IsADirectory, WriteError::IsFolder),
        ];
        for (kind, named) in cases {
            assert_eq!(said(kind.into(), gone), named, "{kind:?}");
        }
        let full = said(
            std::io::Error::new(ErrorKind::StorageFull, "disk full"),
            gone,
        );
        assert_eq!(full, WriteError::Other("disk full".into()));
        let here = std::env::temp_dir();
        let refused = said(std::io::Error::new(ErrorKind::NotFound, "no entry"), &here);
        assert_eq!(
            refused,
            WriteError::Other("no entry".into()),
            "the folder is there"
        );
    }
}
