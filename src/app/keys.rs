//! The one table of keys: what each key does, where it applies and on which backend. The help
//! overlay shows the rows of the backend in use (so it never offers a key or command that backend
//! does not have), and the README's key table is this table as markdown (`markdown`; a test
//! fails when the README differs and prints the table to paste). `keymap` is the code that acts
//! on these keys; its tests check the list keys named here do something.

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The keys, as written in the README (`code` in backticks).
    pub keys: &'static str,
    /// Where they apply.
    pub at: &'static str,
    /// The only backend they apply on; None: every backend.
    pub backend: Option<&'static str>,
    pub does: &'static str,
}

pub const KEYS: &[Key] = &[
    Key {
        keys: "`j`/`k`, `↑`/`↓`, `g`/`G`, PgUp/PgDn",
        at: "list",
        backend: None,
        does: "move",
    },
    Key {
        keys: "`Enter`",
        at: "list",
        backend: None,
        does: "open the detail pane",
    },
    Key {
        keys: "`Tab`",
        at: "list, detail",
        backend: None,
        does: "switch pane (`j`/`k` then scroll the detail)",
    },
    Key {
        keys: "`/`",
        at: "list",
        backend: Some("vantio"),
        does: "filter as you type, in the filter language of `referee list --where`: free words search name, email, id or ambassador's name; `status=converted created:<7d -ambassador:andre` test fields. A mistake (an unknown key, a status that does not exist) is shown under the filter line while the list keeps the last filter that made sense; `Enter` keeps it, `Esc` clears",
    },
    Key {
        keys: "`/`",
        at: "list",
        backend: Some("firstpromoter"),
        does: "filter as you type, in the filter language of `referee list --where`: free words search name, email, uid, username, website, promoter and campaign names; `state=pending created:<7d -promoter:felix fraud:any` test fields. A mistake (an unknown key, a state that does not exist) is shown under the filter line while the list keeps the last filter that made sense; `Enter` keeps it, `Esc` clears",
    },
    Key {
        keys: "`e`",
        at: "list, detail",
        backend: None,
        does: "edit the selected referral",
    },
    Key {
        keys: "`v`",
        at: "list, detail",
        backend: Some("vantio"),
        does: "verified: sets `verified_at` to now unless already set, and `metadata.verified_by`",
    },
    Key {
        keys: "`v`",
        at: "list, detail",
        backend: Some("firstpromoter"),
        does: "approve: `pending` or `denied` becomes `signup` or `active` (a batch action)",
    },
    Key {
        keys: "`c` / `p`",
        at: "list, detail",
        backend: Some("vantio"),
        does: "converted / pending",
    },
    Key {
        keys: "`p`",
        at: "list, detail",
        backend: Some("firstpromoter"),
        does: "enable: `denied` becomes `signup` or `active` again",
    },
    Key {
        keys: "`x`",
        at: "list, detail",
        backend: Some("vantio"),
        does: "rejected: asks for a reason, stored as `metadata.rejection_reason`",
    },
    Key {
        keys: "`x`",
        at: "list, detail",
        backend: Some("firstpromoter"),
        does: "disable: asks for a reason, kept in referee's local journal only (v2 has nowhere to store it)",
    },
    Key {
        keys: "`s`",
        at: "list",
        backend: None,
        does: "sort: the first column ascending (▲ in its header), descending (▼), then the next column…, then the loaded order again; the cursor stays on its referral and marks stay; rows that arrive or are saved take their place in the sort",
    },
    Key {
        keys: "`r`",
        at: "list",
        backend: None,
        does: "reload from the server; marks stay on the referrals it brings back and the cursor on its referral (unless you move it meanwhile); the status bar says when the list was last loaded (`loaded 3 min ago`)",
    },
    Key {
        keys: "`Esc`",
        at: "list, while loading",
        backend: None,
        does: "stop the load; what has arrived stays (`r` loads again). With marks, the detail pane or a filter up, Esc clears that first",
    },
    Key {
        keys: "`Space` / `V`",
        at: "list",
        backend: None,
        does: "mark a row / every row the filter shows; `Esc` clears the marks",
    },
    Key {
        keys: "`t`",
        at: "list",
        backend: None,
        does: "triage: the shown rows (with no filter: converted, oldest first) one at a time; the header shows decisions per minute as a sparkline",
    },
    Key {
        keys: "`S`",
        at: "list",
        backend: Some("vantio"),
        does: "stats of the rows the filter shows: referrals per status as bars (pending → converted → verified, then rejected) and the share converted, the top ambassadors by referrals and by conversion, and verifications per day over the last 30 days (`verified_at`), as a sparkline; it follows pages and writes as they arrive. `Esc`, `q` or `S` closes it (also `:stats`)",
    },
    Key {
        keys: "`S`",
        at: "list",
        backend: Some("firstpromoter"),
        does: "stats of the rows the filter shows: referrals per state as bars (pending → signup → subscribed → active, then denied, cancelled, refunded, moved) and the share that became customers, the top promoters by referrals and by conversion, and new customers per day over the last 30 days (`customer_since`), as a sparkline; it follows pages and writes as they arrive. `Esc`, `q` or `S` closes it (also `:stats`)",
    },
    Key {
        keys: "`u`",
        at: "list, detail, triage",
        backend: None,
        does: "undo the last change that reached the server (repeatable, newest first)",
    },
    Key {
        keys: "`R`",
        at: "list",
        backend: None,
        does: "send the failed rows of the last bulk change again",
    },
    Key {
        keys: "`E`",
        at: "list, detail",
        backend: None,
        does: "list the rows of the last bulk change that failed (✗), met a conflict (!) or are unknown (?), each with its error (the detail pane of such a row shows it too). A finished bulk's marks, bar and message clear on `r` and 2 minutes after it ended",
    },
    Key {
        keys: "`y` then `i` / `e` / `j`",
        at: "list, detail",
        backend: None,
        does: "copy the selected referral's id / email / whole record as JSON to the clipboard (OSC 52: works over SSH, if your terminal allows it; tmux needs `set -g set-clipboard on`)",
    },
    Key {
        keys: "`:`",
        at: "list",
        backend: Some("vantio"),
        does: "command: `find id ref_…` opens that referral; `sort created desc` sorts by a column, named by its title or a filter key of one of its fields (`sort` alone: the loaded order); `stats` opens the stats view; `journal` shows your recent writes; `export csv ~/referrals.csv` (or `json`) writes the rows shown, filtered and sorted as they are, as `referee list --format csv` (`json`) prints them, asking before it replaces a file",
    },
    Key {
        keys: "`:`",
        at: "list",
        backend: Some("firstpromoter"),
        does: "command: `find id 5002`, `find email a@b.com`, `find uid …`, `find username …` open that referral; `sort created desc` sorts by a column, named by its title or a filter key of one of its fields (`sort` alone: the loaded order); `stats` opens the stats view; `journal` shows your recent writes; `export csv ~/referrals.csv` (or `json`) writes the rows shown, filtered and sorted as they are, as `referee list --format csv` (`json`) prints them, asking before it replaces a file",
    },
    Key {
        keys: "`j`/`k`, `Enter`, `Esc`",
        at: "failed rows (`E`)",
        backend: None,
        does: "move / select that referral in the list, its detail pane open / close",
    },
    Key {
        keys: "`j`/`k`, `s`, `Esc`",
        at: "journal",
        backend: None,
        does: "move / send the selected write again (one that failed or is unknown) / close",
    },
    Key {
        keys: "`Tab`/`Shift-Tab`, `↑`/`↓`, `Enter`",
        at: "form",
        backend: None,
        does: "next / previous field (`Enter` adds a line in metadata)",
    },
    Key {
        keys: "`Ctrl-w` / `Ctrl-u`",
        at: "form, `/` filter, `:` and reason prompts",
        backend: None,
        does: "delete the word before the cursor / everything before it; `Ctrl-a` / `Ctrl-e` go to the start / end of the line (in metadata `Ctrl-e` opens the editor; `End` goes to the end)",
    },
    Key {
        keys: "mouse",
        at: "list, form, help and long dialogs",
        backend: None,
        does: "a click on a row selects it, a click on a form field gives it the keyboard; the wheel moves through the list (or the detail pane when it has the focus) and scrolls help, the review, the conflict dialog and the journal. To select text with the mouse on, hold `Shift` (most terminals; `Option` in macOS Terminal and iTerm2)",
    },
    Key {
        keys: "paste",
        at: "form, `/` filter, prompts",
        backend: None,
        does: "pasted text goes in at the cursor (terminal bracketed paste); in a one-line field line breaks become spaces (a trailing one is dropped), so a paste never submits or leaves the field; control characters are dropped",
    },
    Key {
        keys: "`Ctrl-e`",
        at: "form, metadata",
        backend: None,
        does: "edit the field in `$VISUAL` / `$EDITOR` (else `vi`), as pretty JSON; the saved text is put in the field and checked, errors under the field",
    },
    Key {
        keys: "`←`/`→`, `Space`, a letter",
        at: "form, status",
        backend: None,
        does: "pick the status",
    },
    Key {
        keys: "`Enter`, a letter",
        at: "form, promoter campaign",
        backend: Some("firstpromoter"),
        does: "open the searchable picker (promoter name and campaign)",
    },
    Key {
        keys: "`Ctrl-p`",
        at: "form",
        backend: Some("firstpromoter"),
        does: "move the referral to another promoter (`move_to_promoter`), reviewed first",
    },
    Key {
        keys: "`Ctrl-s`",
        at: "form",
        backend: None,
        does: "check every field and review the change: before → after and the exact JSON body",
    },
    Key {
        keys: "`y` / `n`, `Esc`",
        at: "review",
        backend: None,
        does: "send / back to the form with everything still typed (`j`/`k` scroll a long body)",
    },
    Key {
        keys: "`Esc`",
        at: "form",
        backend: None,
        does: "leave the form (asks first if you changed something)",
    },
    Key {
        keys: "`?`, `F1`",
        at: "anywhere (`F1` also in the form)",
        backend: None,
        does: "help (`j`/`k` scroll it; any other key closes it)",
    },
    Key {
        keys: "`q`, `Ctrl-c`",
        at: "anywhere (`Ctrl-c` in the form)",
        backend: None,
        does: "quit; asks first if a form is unsent or writes are in flight (`y` quit now, `w` wait for them, then quit, `n` stay)",
    },
];

/// The rows that apply on `backend`, in table order.
pub fn for_backend(backend: &str) -> impl Iterator<Item = &'static Key> + '_ {
    KEYS.iter()
        .filter(move |key| key.backend.is_none_or(|only| only == backend))
}

/// Table text without the README's backticks, for the screen.
pub fn plain(text: &str) -> String {
    text.replace('`', "")
}

/// The table as the README shows it.
pub fn markdown() -> String {
    let mut table = String::from("| key | where | backend | does |\n|---|---|---|---|\n");
    for key in KEYS {
        let backend = key.backend.unwrap_or("both");
        table.push_str(&format!(
            "| {} | {} | {backend} | {} |\n",
            key.keys, key.at, key.does
        ));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The filter examples the `/` rows give are ones their backend's filter language takes.
    #[test]
    fn each_backends_filter_example_is_a_filter_it_takes() {
        use crate::domain::schema::{V1_SCHEMA, V2_SCHEMA};
        for schema in [&V1_SCHEMA, &V2_SCHEMA] {
            let row = for_backend(schema.backend)
                .find(|k| k.keys == "`/`")
                .expect("a / row");
            let example = row.does.split('`').nth(3).expect("an example in backticks");
            crate::domain::filter::Filter::parse(schema, example)
                .unwrap_or_else(|e| panic!("{}: {example}: {e:?}", schema.backend));
        }
    }

    #[test]
    fn the_readme_key_table_is_this_table() {
        let readme = include_str!("../../README.md");
        assert!(
            readme.contains(&markdown()),
            "the README's key table differs; paste this under ## Keys:\n{}",
            markdown()
        );
    }

    #[test]
    fn each_backend_is_offered_only_its_own_keys_and_commands() {
        let text = |backend| {
            for_backend(backend)
                .map(|k| format!("{} {}", k.keys, k.does))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let (v1, v2) = (text("vantio"), text("firstpromoter"));
        assert!(!v1.contains("find email") && v2.contains("find email"));
        assert!(!v1.contains("Ctrl-p") && v2.contains("Ctrl-p"));
        assert!(v1.contains("`c` / `p`") && !v2.contains("`c`"));
        assert!(v2.contains("approve") && !v1.contains("approve"));
    }
}
