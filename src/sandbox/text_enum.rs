//! `text_enum!`: an enum whose values travel as fixed lowercase strings, both in JSON and in SQLite
//! columns, so every backend's status-like fields share one definition of their spelling.

/// Declares a `Copy` enum with its wire text per variant, plus `ALL`, `as_str`, `parse`, serde
/// `Serialize` and rusqlite `ToSql`/`FromSql` (an unknown stored text is a conversion error).
macro_rules! text_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
        $vis enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|value| value.as_str() == text)
            }
        }

        impl rusqlite::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                let text = value.as_str()?;
                $name::parse(text).ok_or_else(|| {
                    rusqlite::types::FromSqlError::Other(
                        format!("unknown {} {text:?}", stringify!($name)).into(),
                    )
                })
            }
        }
    };
}

pub(crate) use text_enum;

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    text_enum! {
        enum Colour {
            Red => "red",
            DarkBlue => "dark_blue",
        }
    }

    #[test]
    fn spells_parses_and_serializes_each_value() {
        assert_eq!(Colour::DarkBlue.as_str(), "dark_blue");
        assert_eq!(Colour::parse("red"), Some(Colour::Red));
        assert_eq!(Colour::parse("Red"), None);
        assert_eq!(
            serde_json::to_string(Colour::ALL).unwrap(),
            r#"["red","dark_blue"]"#
        );
    }

    #[test]
    fn round_trips_through_sqlite_and_refuses_unknown_text() {
        let conn = Connection::open_in_memory().unwrap();
        let back: Colour = conn
            .query_row("SELECT ?1", [Colour::DarkBlue], |row| row.get(0))
            .unwrap();
        assert_eq!(back, Colour::DarkBlue);
        let unknown = conn.query_row("SELECT 'green'", [], |row| row.get::<_, Colour>(0));
        assert!(unknown.is_err());
    }
}
