//! Modal layers drawn over the screen: help, the review of a change, questions, the reject reason.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::list::fit;
use super::{hints, text_view, theme};
use crate::api::BatchAction;
use crate::app::State;
use crate::app::action::QuickKey;
use crate::app::clash::{Clash, ClashRow};
use crate::app::keys;
use crate::app::keys::Place::*;
use crate::app::picker;
use crate::app::state::{Overlay, PickPurpose, Question};
use crate::app::text::TextBuffer;
use crate::app::text::plural;
use crate::domain::diff::ChangeSet;
use crate::domain::policy::{Plan, Tone};
use crate::domain::schema::RefKind;

/// The help lines: the key table's rows for this backend (`app::keys`), each key with where it
/// applies and what it does there, wrapped to `width` beside the keys' column.
fn help_lines(state: &State, width: u16) -> Vec<Line<'static>> {
    const KEYS_WIDTH: usize = 16;
    let room = (width as usize).saturating_sub(KEYS_WIDTH + 2).max(20);
    let mut lines = Vec::new();
    for key in crate::app::keys::for_backend(state.session.backend) {
        let text = format!("{}: {}", keys::plain(key.at), keys::plain(key.does));
        let mut shown = keys::plain(key.keys);
        // Keys wider than their column get a line of their own.
        if shown.chars().count() > KEYS_WIDTH {
            lines.push(Line::styled(std::mem::take(&mut shown), theme::label()));
        }
        for part in text_view::wrap(&text, room) {
            let shown = std::mem::take(&mut shown);
            lines.push(Line::from(vec![
                Span::styled(format!("{shown:>KEYS_WIDTH$}  "), theme::label()),
                Span::raw(part),
            ]));
        }
    }
    lines
}

/// Draws `overlay` centred on `area`: the screen above the status bar, which no dialog covers.
/// Draws `overlay`; for a scrolled one, returns how far it can scroll.
pub fn render(state: &State, overlay: &Overlay, frame: &mut Frame, area: Rect) -> Option<u16> {
    match overlay {
        Overlay::Help { scroll } => {
            return Some(
                popup_with(
                    frame,
                    area,
                    (
                        " Keys ",
                        Some(&format!(
                            " {} · any other key closes ",
                            hints(state, &[Scroll])
                        )),
                    ),
                    help_lines(state, area.width.saturating_sub(2)),
                    area.width,
                    *scroll,
                )
                .1,
            );
        }
        Overlay::Review { changes, scroll } => {
            let id = state
                .form
                .as_ref()
                .map(|f| f.record_id.as_str())
                .unwrap_or("");
            let title = format!(" Review · PUT /referrals/{id} ");
            let keys = format!(" {} ", hints(state, &[Review, Scroll]));
            return Some(
                popup_with(
                    frame,
                    area,
                    (&title, Some(&keys)),
                    review_lines(state, changes),
                    76,
                    *scroll,
                )
                .1,
            );
        }
        Overlay::Confirm(Question::RestoreDraft) => {
            let offer = crate::app::drafts::offer(state)?;
            const WIDTH: u16 = 78;
            let inner = WIDTH.min(area.width).saturating_sub(2) as usize;
            popup_with(
                frame,
                area,
                (
                    " Draft ",
                    Some(&format!(" {} ", hints(state, &[RestoreDraft]))),
                ),
                restore_lines(state, offer, inner),
                WIDTH,
                0,
            );
        }
        Overlay::Confirm(question) => {
            let text = match question {
                Question::Quit => quit_question(state),
                Question::DiscardForm => "Leave the form and discard what you typed?".to_string(),
                Question::Bulk { key, plan } => bulk_question(state, *key, plan),
                Question::Irreversible { key, plan } => format!(
                    "{} {}? This cannot be undone with u: this backend has no way back.",
                    state.schema.policy.verb(*key),
                    plan.ids().join(", ")
                ),
                Question::RestoreDraft => String::new(),
                Question::UndoBulk { at } => match state.writes.undo.get(*at) {
                    Some(step) => format!(
                        "Undo {}: put {} back as they were, through the conflict check?",
                        step.label,
                        plural(step.writes.iter().map(|w| w.ids().len()).sum(), "referral"),
                    ),
                    None => "Nothing to undo.".to_string(),
                },
                Question::ReplaceFile { path, format } => format!(
                    "{path} is there already. Replace it with the {} shown, as {}?",
                    crate::app::export::referrals(state.list.visible.len()),
                    format.word().to_uppercase()
                ),
            };
            const WIDTH: u16 = 64;
            let width = WIDTH.min(area.width);
            let mut lines: Vec<Line> = text_view::wrap(&text, width.saturating_sub(2) as usize)
                .into_iter()
                .map(Line::raw)
                .collect();
            lines.push(Line::raw(""));
            let keys = match question {
                Question::Quit if state.writes.count() > 0 => hints(state, &[QuitQuestion]),
                _ => hints(state, &[YesNo]),
            };
            lines.push(Line::styled(keys, theme::dim()));
            popup(frame, area, " Are you sure? ", lines, width);
        }
        Overlay::RejectReason { ids, input, error } => {
            let name = match ids.as_slice() {
                [id] => {
                    let title = state
                        .record(id)
                        .map(|r| r.title(state.schema))
                        .unwrap_or_default();
                    format!("{title} ({id})")
                }
                many => format!("{} marked referrals", many.len()),
            };
            let policy = state.schema.policy;
            let (verb, note) = (policy.verb(QuickKey::Reject), policy.reason_note());
            let lines = vec![
                Line::raw(format!("{verb} {name}")),
                Line::styled(note, theme::dim()),
            ];
            let help = hints(state, &[Reason]);
            prompt(
                frame,
                area,
                &format!(" {verb} "),
                lines,
                input,
                error.as_deref(),
                &help,
            );
        }
        Overlay::Conflict {
            clashes, scroll, ..
        } => return Some(conflict(frame, area, state, clashes, *scroll)),
        Overlay::TriageSummary => {
            let triage = state.triage_past.as_ref()?;
            let s = triage.summary(state.clock.now);
            let mut lines = vec![
                Line::styled(
                    format!("Verified  {}", s.verified),
                    theme::tone_style(Tone::Good),
                ),
                Line::styled(
                    format!("Rejected  {}", s.rejected),
                    theme::tone_style(Tone::Refused),
                ),
                Line::raw(format!("Already   {} (nothing to send)", s.already)),
                Line::raw(format!("Skipped   {}", s.skipped)),
                Line::styled(
                    format!("Failed    {}", s.failed),
                    if s.failed > 0 {
                        theme::error()
                    } else {
                        Style::new()
                    },
                ),
                Line::raw(format!("Duration  {:.1} min", s.minutes)),
            ];
            if s.sending > 0 {
                lines.push(Line::styled(
                    format!("Sending   {} (counted as they answer)", s.sending),
                    theme::level_style(crate::app::state::Level::Info),
                ));
            }
            if s.unknown > 0 {
                lines.push(Line::styled(
                    format!("Unknown   {} (see :journal)", s.unknown),
                    theme::error(),
                ));
            }
            lines.push(Line::raw(""));
            let note = if triage.recorded {
                "Written to the journal · any key closes"
            } else {
                "Goes to the journal when all have answered · any key closes"
            };
            lines.push(Line::styled(note, theme::dim()));
            popup(frame, area, " Session summary ", lines, 44);
        }
        Overlay::Journal {
            entries,
            resendable,
            selected,
        } => {
            let width = area.width.min(100);
            let lines = journal_lines(state, entries, resendable, *selected, width as usize - 2);
            let rows = area.height.saturating_sub(2) as usize;
            let scroll = selected.saturating_sub(rows.saturating_sub(2)) as u16;
            popup_with(
                frame,
                area,
                (
                    " Journal · newest first ",
                    Some(&format!(" {} ", hints(state, &[Journal, Scroll]))),
                ),
                lines,
                width,
                scroll,
            );
        }
        Overlay::BulkErrors { selected } => {
            super::bulk_errors::render(state, *selected, frame, area)
        }
        Overlay::Command { input, error } => {
            let usage = crate::app::command::command_usage(state);
            let usage = usage.trim_start_matches("Usage: ");
            let lines = vec![Line::styled(usage.to_string(), theme::dim())];
            prompt(
                frame,
                area,
                " Command ",
                lines,
                input,
                error.as_deref(),
                &hints(state, &[Command]),
            );
        }
        Overlay::Picker {
            kind,
            query,
            selected,
            purpose,
        } => {
            let options = picker::options(state, *kind, &query.text());
            let rows = (area.height as usize).saturating_sub(10).clamp(3, 15);
            let first = selected.saturating_sub(rows - 1);
            let mut lines: Vec<Line> = options
                .iter()
                .enumerate()
                .skip(first)
                .take(rows)
                .map(|(i, (id, name))| {
                    let text = format!("{name} ({id})");
                    if i == *selected {
                        Line::styled(text, theme::focused())
                    } else {
                        Line::raw(text)
                    }
                })
                .collect();
            if options.is_empty() {
                lines.push(Line::styled("Nothing matches.", theme::dim()));
            }
            lines.insert(0, Line::raw(""));
            lines.insert(0, Line::raw(format!("> {}", query.text())));
            lines.push(Line::styled(
                format!("{} found · {}", options.len(), hints(state, &[Picker])),
                theme::dim(),
            ));
            let title = match purpose {
                PickPurpose::FormField => format!(" Pick {} ", kind.noun()),
                PickPurpose::MoveTo => " Move to which promoter campaign? ".to_string(),
            };
            let inner = popup(frame, area, &title, lines, 70);
            let x = inner.x + 2 + query.cursor().1 as u16;
            frame.set_cursor_position((x.min(inner.right().saturating_sub(1)), inner.y));
        }
        Overlay::MoveReview {
            link,
            with_commissions,
        } => {
            let id = state
                .form
                .as_ref()
                .map(|f| f.record_id.as_str())
                .unwrap_or("");
            let name = state
                .lookup(RefKind::PromoterCampaign, &link.to_string())
                .unwrap_or("?");
            let body = BatchAction::MoveToPromoter {
                link: *link,
                with_commissions: *with_commissions,
            }
            .body(&[id.to_string()]);
            let mut lines = vec![
                Line::raw(format!("Move {id} to {name} ({link})")),
                Line::raw(format!(
                    "Its commissions move too: {}",
                    if *with_commissions { "yes" } else { "no" }
                )),
                Line::raw(""),
                Line::styled("Body that will be sent:", theme::dim()),
            ];
            let pretty = serde_json::to_string_pretty(&body).unwrap_or_default();
            lines.extend(pretty.lines().map(|l| Line::raw(l.to_string())));
            lines.push(Line::raw(""));
            lines.push(Line::styled(hints(state, &[MoveReview]), theme::dim()));
            popup(
                frame,
                area,
                " Review · POST /referrals/move_to_promoter ",
                lines,
                70,
            );
        }
    }
    None
}

/// One line per journal entry, cut to `width`: when, why, what it sent, and what became of it.
fn journal_lines(
    state: &State,
    entries: &[crate::store::journal::Stored],
    resendable: &[bool],
    selected: usize,
    width: usize,
) -> Vec<Line<'static>> {
    use crate::store::journal::Verdict;
    if entries.is_empty() {
        return vec![Line::raw("No writes journaled for this profile yet.")];
    }
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let intent = &entry.intent;
            let when = state.clock.local_short(&intent.time.to_string());
            // A triage session's summary names no referral: its counts are what it says.
            let what = match intent.ids.as_slice() {
                [] => "triage".to_string(),
                [one] => one.clone(),
                many => format!("{} referrals", many.len()),
            };
            let sent = match &intent.action {
                _ if intent.ids.is_empty() => session_counts(&intent.detail),
                Some(action) => action.clone(),
                None => crate::domain::record::value_text(&intent.body),
            };
            let (verdict, style) = match &entry.outcome {
                None => (
                    "in flight".to_string(),
                    theme::level_style(crate::app::state::Level::Info),
                ),
                Some(o) => (
                    o.verdict.as_str().to_string(),
                    match o.verdict {
                        Verdict::Applied | Verdict::Already => theme::tone_style(Tone::Good),
                        _ => theme::error(),
                    },
                ),
            };
            let message = entry
                .outcome
                .as_ref()
                .and_then(|o| o.message.clone())
                .unwrap_or_default();
            let mark = if index == selected { "▶ " } else { "  " };
            let resend = if resendable.get(index).copied().unwrap_or(false) {
                " · s"
            } else {
                ""
            };
            // Each part is cut to what is left of the row, by display width: a row never wraps,
            // so the cursor's row is the entry's.
            let tail = format!("{verdict}{resend}");
            let mut left = width;
            let head = cut(
                &format!("{mark}{when} {:<6} {what} ", intent.why),
                &mut left,
            );
            let room = left.saturating_sub(Span::raw(&tail).width() + 4).min(40);
            let sent = cut(&format!("{}  ", super::list::fit(&sent, room)), &mut left);
            let tail = cut(&tail, &mut left);
            let message = cut(&format!("  {message}"), &mut left);
            Line::from(vec![
                Span::raw(format!("{head}{sent}")),
                Span::styled(tail, style),
                Span::styled(message, theme::dim()),
            ])
        })
        .collect()
}

/// `text` cut to the `left` columns of a row, which it then takes.
fn cut(text: &str, left: &mut usize) -> String {
    let text = super::list::fit(text, *left);
    *left = left.saturating_sub(Span::raw(&text).width());
    text
}

/// A triage session's counts as the journal keeps them: "12 verified · 3 rejected · 40 in 6.5 min".
fn session_counts(detail: &serde_json::Value) -> String {
    let count = |key: &str| detail[key].as_u64().unwrap_or(0);
    let mut parts: Vec<String> = [
        "verified", "rejected", "already", "skipped", "failed", "unknown",
    ]
    .into_iter()
    .filter(|key| count(key) > 0)
    .map(|key| format!("{} {key}", count(key)))
    .collect();
    if let Some(minutes) = detail["minutes"].as_f64() {
        parts.push(format!("{} queued, {minutes} min", count("queue")));
    }
    parts.join(" · ")
}

/// The quit question names the writes still in flight and offers to wait for them.
fn quit_question(state: &State) -> String {
    let queued = state.bulk.as_ref().map_or(0, |b| b.queued());
    let not_sent = match queued {
        0 => String::new(),
        n => format!(" {} will not be sent.", plural(n, "queued bulk row")),
    };
    let unsent = state.form.as_ref().is_some_and(|form| form.is_dirty());
    match state.writes.count() {
        // The writes asked about may have answered while the question was up.
        0 if unsent => "Quit? What you typed in the form is not sent and will be lost.".to_string(),
        0 => "Every write has its answer. Quit?".to_string(),
        n => format!(
            "{} still in flight.{not_sent} If you quit now, the journal checks them at the next start.",
            plural(n, "write")
        ),
    }
}

/// Why the referrals a key leaves alone are left: the reason when they share one, otherwise the
/// gist (one referral's "already verified by admin_raj on 16 Aug" is not every other's).
fn skipped_why(plan: &Plan) -> String {
    match plan.skipped.as_slice() {
        [(_, first), rest @ ..] if rest.iter().all(|(_, why)| why == first) => first.clone(),
        _ => "already so, or not something this key changes".to_string(),
    }
}

/// The bulk question says exactly what will be sent and what is left alone.
fn bulk_question(state: &State, key: QuickKey, plan: &Plan) -> String {
    let count = plan.ids().len();
    let mut text = format!(
        "{} {count} marked referral{}?",
        state.schema.policy.verb(key),
        if count == 1 { "" } else { "s" }
    );
    if !plan.skipped.is_empty() {
        text.push_str(&format!(
            " {} other{} left as they are ({}).",
            plan.skipped.len(),
            if plan.skipped.len() == 1 {
                " is"
            } else {
                "s are"
            },
            skipped_why(plan)
        ));
    }
    match state
        .marked
        .iter()
        .filter(|id| state.visible_position(id).is_none())
        .count()
    {
        0 => {}
        1 => text.push_str(" 1 of them is hidden by the filter."),
        n => text.push_str(&format!(" {n} of them are hidden by the filter.")),
    }
    let records: Vec<_> = plan
        .ids()
        .iter()
        .filter_map(|id| state.record(id))
        .collect();
    if !state.schema.policy.undoable(&records, key) {
        text.push_str(" This cannot be undone with u.");
    }
    if let Some(note) = state.schema.policy.admin_note()
        && key == QuickKey::Verify
        && state.session.admin_id.is_none()
    {
        text.push(' ');
        text.push_str(note);
    }
    text
}

/// "Restore the draft from 17:42?" and, per differing field, the server's value and the draft's.
/// The draft offer's lines, `inner` columns wide: one row per differing field, each value cut to
/// its share of the width so a row never wraps (the keys sit on the border).
fn restore_lines(
    state: &State,
    offer: &crate::app::drafts::DraftOffer,
    inner: usize,
) -> Vec<Line<'static>> {
    // One line each: line breaks (metadata) and other control characters are made visible.
    let one_line = |text: &str| -> String {
        let shown: String = text
            .chars()
            .map(|c| match c {
                '\n' => '⏎',
                c if c.is_control() => '\u{FFFD}',
                c => c,
            })
            .collect();
        if shown.is_empty() {
            "(empty)".into()
        } else {
            shown
        }
    };
    let width = offer
        .differing
        .iter()
        .map(|d| d.label.chars().count())
        .max()
        .unwrap_or(5)
        .max(5)
        .min(inner / 3);
    // The columns "  " after the label and " → " take.
    let room = inner.saturating_sub(width + 5);
    let when = crate::app::drafts::when(&state.clock, offer.saved_at);
    let mut lines = vec![
        Line::raw(format!("Restore the draft from {when}? y/n")),
        Line::raw(""),
        Line::styled(
            format!("{:<width$}  on the server now → in the draft", "field"),
            theme::dim(),
        ),
    ];
    for d in &offer.differing {
        let (server, draft) = (one_line(&d.server), one_line(&d.draft));
        let wanted = [&server, &draft].map(|v| Span::raw(v.as_str()).width());
        let [server_width, draft_width] = shares(wanted, room);
        let label = fit(&d.label, width);
        let pad = width.saturating_sub(Span::raw(label.as_str()).width());
        lines.push(Line::from(vec![
            Span::styled(format!("{label}{}  ", " ".repeat(pad)), theme::label()),
            Span::styled(fit(&server, server_width), theme::dim()),
            Span::raw(" → "),
            Span::styled(fit(&draft, draft_width), Style::new().fg(Color::Green)),
        ]));
    }
    lines
}

fn review_lines(state: &State, changes: &ChangeSet) -> Vec<Line<'static>> {
    let width = changes
        .changes
        .iter()
        .map(|c| c.label.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines: Vec<Line> = changes
        .changes
        .iter()
        .map(|c| {
            Line::from(vec![
                Span::styled(format!("{:<width$}  ", c.label), theme::label()),
                Span::styled(c.before.clone(), Style::new().fg(Color::Red)),
                Span::raw(" → "),
                Span::styled(c.after.clone(), Style::new().fg(Color::Green)),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Body that will be sent (changed fields only):",
        theme::dim(),
    ));
    // A "now" is stamped when the PUT leaves, not when the review opened.
    let mut body = crate::text_safety::capped_object(&changes.body);
    for key in &changes.at_send {
        body.insert(key.clone(), "now (the second it is sent)".into());
    }
    let body = serde_json::to_string_pretty(&body).unwrap_or_default();
    lines.extend(body.lines().map(|l| Line::raw(l.to_string())));
    lines.push(Line::raw(""));
    lines.push(Line::styled(hints(state, &[Review]), theme::dim()));
    lines
}

/// A one-line text prompt below `lines`, with its error and help, and the cursor in it.
fn prompt(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    mut lines: Vec<Line<'static>>,
    input: &TextBuffer,
    error: Option<&str>,
    help: &str,
) {
    let width = PROMPT_WIDTH.min(area.width);
    // The input's row: below the lines above it, as wrapped.
    let input_line = Paragraph::new(lines.clone())
        .wrap(Wrap { trim: false })
        .line_count(width.saturating_sub(2)) as u16;
    let (shown, x) = text_view::window(
        input.cursor_line(),
        input.cursor().1,
        width.saturating_sub(5) as usize,
    );
    lines.push(Line::styled(
        format!("> {shown}"),
        Style::new().fg(Color::White),
    ));
    // An error wraps: its end says what to do.
    let room = width.saturating_sub(2) as usize;
    for part in error.map_or_else(Vec::new, |e| text_view::wrap(&format!("✗ {e}"), room)) {
        lines.push(Line::styled(part, theme::error()));
    }
    lines.push(Line::styled(help.to_string(), theme::dim()));
    let inner = popup(frame, area, title, lines, width);
    let x = inner.x + 2 + x;
    frame.set_cursor_position((x.min(inner.right().saturating_sub(1)), inner.y + input_line));
}

const PROMPT_WIDTH: u16 = 72;

/// Draws a bordered box centred on `area`, sized to its lines, and returns its inner area.
/// The conflict dialog: one row per field (per metadata key), each value cut to its share of the
/// width so a row never wraps; the keys sit on the border, so they show at any height.
fn conflict(frame: &mut Frame, area: Rect, state: &State, clashes: &[Clash], scroll: u16) -> u16 {
    const WIDTH: u16 = 78;
    /// The columns " → " and " │ " take.
    const ARROWS: usize = 6;
    let width = WIDTH.min(area.width);
    let inner = width.saturating_sub(2) as usize;
    let rows: Vec<ClashRow> = clashes
        .iter()
        .flat_map(|c| c.rows(state.session.metadata_mode))
        .collect();
    let label_width = rows
        .iter()
        .map(|r| Span::raw(crate::text_safety::capped(&r.label)).width())
        .chain([5])
        .max()
        .unwrap_or(5)
        .min(inner / 3);
    let room = inner.saturating_sub(label_width + 2 + ARROWS);
    let intro = "Someone changed this referral since you loaded it. Nothing was sent.";
    let mut lines: Vec<Line> = text_view::wrap(intro, inner)
        .into_iter()
        .map(Line::raw)
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!("{:<label_width$}  base → theirs │ mine", "field"),
        theme::dim(),
    ));
    for row in rows {
        let label = fit(&crate::text_safety::capped(&row.label), label_width);
        let pad = label_width.saturating_sub(Span::raw(label.as_str()).width());
        // Cut first: measuring a 20 MB value's width each frame is what a cap is for.
        let values = [&row.base, &row.theirs, &row.mine].map(|v| crate::text_safety::capped(v));
        let [base, theirs, mine] = shares(
            values.each_ref().map(|v| Span::raw(v.as_ref()).width()),
            room,
        );
        lines.push(Line::from(vec![
            Span::styled(format!("{label}{}  ", " ".repeat(pad)), theme::label()),
            Span::styled(fit(&values[0], base), theme::dim()),
            Span::raw(" → "),
            Span::styled(fit(&values[1], theirs), Style::new().fg(Color::Yellow)),
            Span::raw(" │ "),
            Span::styled(fit(&values[2], mine), Style::new().fg(Color::Green)),
        ]));
    }
    let keys = format!(" {} ", hints(state, &[Conflict]));
    popup_with(
        frame,
        area,
        (" Conflict ", Some(&keys)),
        lines,
        width,
        scroll,
    )
    .1
}

/// Columns for values that need `wanted` columns in `room`: short ones get all they need, the
/// rest share what is left evenly.
fn shares<const N: usize>(wanted: [usize; N], room: usize) -> [usize; N] {
    let mut given = [0; N];
    let mut order: Vec<usize> = (0..N).collect();
    order.sort_by_key(|&i| wanted[i]);
    let mut left = room;
    for (done, &i) in order.iter().enumerate() {
        given[i] = wanted[i].min(left / (N - done));
        left -= given[i];
    }
    given
}

fn popup(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    lines: Vec<Line<'static>>,
    width: u16,
) -> Rect {
    popup_with(frame, area, (title, None), lines, width, 0).0
}

/// A popup with keys on its bottom border (always visible) and its text scrolled by `scroll` lines.
/// Returns its inner area and how far its text can scroll.
pub(super) fn popup_with(
    frame: &mut Frame,
    area: Rect,
    (title, keys): (&str, Option<&str>),
    lines: Vec<Line<'static>>,
    width: u16,
    scroll: u16,
) -> (Rect, u16) {
    let width = width.min(area.width);
    let mut block = Block::bordered().title(title.to_string());
    if let Some(keys) = keys {
        block = block.title_bottom(Line::styled(keys.to_string(), theme::dim()));
    }
    let paragraph = Paragraph::new(theme::capped(lines))
        .block(block.clone())
        .wrap(Wrap { trim: false });
    // As tall as its lines once wrapped, borders included, so a wrapped line pushes none out.
    let wanted = u16::try_from(paragraph.line_count(width.saturating_sub(2))).unwrap_or(u16::MAX);
    let height = wanted.min(area.height);
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let inner = block.inner(rect);
    // Never scroll past the last line.
    let end = wanted.saturating_sub(2).saturating_sub(inner.height);
    let scroll = scroll.min(end);
    frame.render_widget(Clear, rect);
    frame.render_widget(paragraph.scroll((scroll, 0)), rect);
    (inner, end)
}

#[cfg(test)]
mod tests {
    use super::{review_lines, shares, skipped_why};
    use crate::domain::diff::ChangeSet;
    use crate::domain::policy::Plan;

    /// A journal row never wraps, whatever its parts hold (wide characters, a long server
    /// message): the selected entry's row is where the cursor is drawn.
    #[test]
    fn a_journal_row_fits_its_width() {
        use crate::store::journal::{Intent, Recorded, Stored, Verdict};
        let state = crate::app::State::sample();
        let time: jiff::Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        let entry = |id: &str, message: &str| Stored {
            entry: 1,
            intent: Intent {
                time,
                profile: "demo".into(),
                backend: "vantio".into(),
                admin_id: None,
                why: "bulk".into(),
                kind: "write".into(),
                ids: vec![id.into()],
                action: None,
                body: serde_json::json!({"status": "verified", "note": "漢字漢字漢字漢字漢字漢字"}),
                before: Default::default(),
                wanted: Default::default(),
                detail: serde_json::Value::Null,
            },
            outcome: Some(Recorded {
                time,
                verdict: Verdict::Failed,
                status: Some(500),
                after: Default::default(),
                message: Some(message.into()),
            }),
        };
        let entries = vec![
            entry("ref_1", &"the server failed: 内部エラー ".repeat(20)),
            entry(&"ref_漢字".repeat(12), "short"),
        ];
        for width in [40, 60, 98] {
            for line in super::journal_lines(&state, &entries, &[true, true], 0, width) {
                assert!(line.width() <= width, "{width}: {line}");
            }
        }
    }

    /// A triage session's journal row says what the session did, not "0 referrals".
    #[test]
    fn a_session_row_gives_its_counts() {
        let detail = serde_json::json!({"verified": 12, "rejected": 3, "already": 0,
            "skipped": 1, "failed": 0, "unknown": 0, "minutes": 6.5, "queue": 40});
        assert_eq!(
            super::session_counts(&detail),
            "12 verified · 3 rejected · 1 skipped · 40 queued, 6.5 min"
        );
    }

    #[test]
    fn the_review_shows_now_for_a_time_stamped_when_sent() {
        let mut changes = ChangeSet::default();
        changes
            .body
            .insert("verified_at".into(), "2026-11-21T10:00:00Z".into());
        changes.body.insert("status".into(), "verified".into());
        changes.at_send = vec!["verified_at".into()];
        let text: String = review_lines(&crate::app::State::sample(), &changes)
            .iter()
            .map(|line| line.to_string() + "\n")
            .collect();
        assert!(
            text.contains(r#""verified_at": "now (the second it is sent)""#),
            "{text}"
        );
        assert!(!text.contains("2026-11-21T10:00:00Z"), "{text}");
        assert!(text.contains(r#""status": "verified""#), "{text}");
    }

    #[test]
    fn one_referrals_reason_is_not_said_of_all_the_others() {
        let plan = |whys: &[&str]| Plan {
            mutations: Vec::new(),
            skipped: whys
                .iter()
                .enumerate()
                .map(|(i, why)| (format!("ref_{i}"), why.to_string()))
                .collect(),
        };
        let maria = "already verified by admin_maria on 15 Jul 2026";
        assert_eq!(skipped_why(&plan(&[maria])), maria);
        assert_eq!(
            skipped_why(&plan(&[maria, maria])),
            maria,
            "a shared reason"
        );
        let mixed = skipped_why(&plan(&[
            maria,
            "already verified by admin_raj on 16 Aug 2026",
        ]));
        assert!(
            !mixed.contains("maria") && !mixed.contains("raj"),
            "{mixed}"
        );
    }

    #[test]
    fn short_values_keep_their_width_and_long_ones_share_the_rest() {
        assert_eq!(shares([5, 6, 5], 60), [5, 6, 5], "all fit");
        assert_eq!(
            shares([6, 70, 6], 60),
            [6, 48, 6],
            "one long value takes what is left"
        );
        assert_eq!(
            shares([70, 70, 4], 60),
            [28, 28, 4],
            "two long ones split it"
        );
        assert_eq!(shares([70, 70, 70], 60), [20, 20, 20]);
        assert_eq!(shares([9, 9, 9], 0), [0, 0, 0]);
    }
}
