//! The stats view: referrals per status as bars (the funnel's steps, then the ways out), the
//! conversion, the top referrers by referrals and by conversion, and the milestone per day as a
//! sparkline, for the rows the filter shows. Drawn in the list's place, above the status bar; the
//! numbers come computed (`app::stats`), so a frame only lays them out.

use jiff::ToSpan;
use jiff::civil::Date;
use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Paragraph, Sparkline, Wrap};

use super::list::fit;
use super::theme;
use crate::app::State;
use crate::app::keys::Place;
use crate::app::stats::{DAYS, StatsView};
use crate::app::text::thousands;
use crate::domain::policy::Tone;
use crate::domain::schema::FieldKind;
use crate::domain::stats::{MIN_FOR_RATE, Referrer, Stats};

/// Fewest rows of the sparkline (eight steps each); it takes the height the rest leaves.
const SPARK_ROWS: u16 = 3;

/// A status word's bar: the word, its count, its colour.
type StatusBar = (&'static str, usize, Style);

pub fn render(state: &State, view: &StatsView, frame: &mut Frame, area: Rect) {
    let stats = &view.stats;
    let block = Block::bordered()
        .title(title(state, view))
        .title_bottom(Line::styled(
            format!(" {} ", super::hints(state, &[Place::Stats])),
            theme::dim(),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if stats.total == 0 {
        let why = if state.list.filter.text().trim().is_empty() {
            "No referrals loaded yet."
        } else {
            "The filter shows no referrals: nothing to count."
        };
        frame.render_widget(Paragraph::new(why), inner);
        return;
    }
    let groups = status_groups(state, stats);
    // The bars with their heading and the conversion; the rankings with their headings.
    let referrers = stats
        .by_referrals
        .len()
        .max(stats.by_conversion.len())
        .max(1);
    let wanted = (bar_lines(&groups) + 4).max(3 + 2 * referrers) as u16;
    let room = inner.height.saturating_sub(SPARK_ROWS + 3);
    let [top, _, days] = Layout::vertical([
        Constraint::Length(wanted.min(room)),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(inner);
    let [statuses, _, referrers] = Layout::horizontal([
        Constraint::Percentage(50),
        Constraint::Length(2),
        Constraint::Min(0),
    ])
    .areas(top);
    render_statuses(state, stats, &groups, frame, statuses);
    render_referrers(state, stats, frame, referrers);
    render_days(state, stats, frame, days);
}

/// " Stats · 37 of 500 referrals · status:converted ".
fn title(state: &State, view: &StatsView) -> Line<'static> {
    let (stats, loaded) = (&view.stats, view.loaded);
    let counted = if stats.total == loaded {
        format!("{} referrals", thousands(loaded))
    } else {
        format!(
            "{} of {} referrals",
            thousands(stats.total),
            thousands(loaded)
        )
    };
    let mut spans = vec![
        Span::raw(" Stats · "),
        Span::styled(counted, theme::label()),
    ];
    let filter = state.list.needle.text();
    if !filter.trim().is_empty() {
        spans.push(Span::raw(" · "));
        spans.push(Span::styled(fit(filter.trim(), 40), theme::focused()));
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}

fn heading(text: String) -> Line<'static> {
    Line::styled(text, theme::label().add_modifier(Modifier::BOLD))
}

/// The bars in groups: the funnel's steps, the ways out, and the words the backend does not
/// document when there are any.
fn status_groups(state: &State, stats: &Stats) -> Vec<Vec<StatusBar>> {
    let schema = state.schema;
    let mut groups: Vec<Vec<StatusBar>> = [&stats.steps, &stats.exits]
        .into_iter()
        .map(|words| {
            words
                .iter()
                .map(|(word, count)| (*word, *count, theme::status_style(schema, word)))
                .collect()
        })
        .collect();
    if stats.other > 0 {
        groups.push(vec![(
            "other",
            stats.other,
            theme::tone_style(Tone::Unknown),
        )]);
    }
    groups
}

/// Lines the bars take: one per bar and one between groups.
fn bar_lines(groups: &[Vec<StatusBar>]) -> usize {
    groups.iter().map(Vec::len).sum::<usize>() + groups.len().saturating_sub(1)
}

/// One bar per status word, in the word's colour, with its count and share beside it.
fn render_statuses(
    state: &State,
    stats: &Stats,
    groups: &[Vec<StatusBar>],
    frame: &mut Frame,
    area: Rect,
) {
    let schema = state.schema;
    let status = schema
        .field(schema.status_field)
        .map_or(schema.status_field, |f| f.label);
    let numbers: Vec<String> = groups
        .iter()
        .flatten()
        .map(|(_, count, _)| format!("{} {:>3}%", thousands(*count), stats.share(*count)))
        .collect();
    let number_width = numbers.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let [head, bars, _, conversion] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(bar_lines(groups) as u16),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(heading(format!("Referrals by {}", status.to_lowercase()))),
        head,
    );
    let [chart, _, counts] = Layout::horizontal([
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(number_width as u16),
    ])
    .areas(bars);
    let mut barchart = BarChart::default()
        .direction(Direction::Horizontal)
        .bar_width(1)
        .bar_gap(0)
        .group_gap(1);
    let mut lines = Vec::new();
    let mut numbers = numbers.into_iter();
    for (at, group) in groups.iter().enumerate() {
        if at > 0 {
            lines.push(Line::raw(""));
        }
        let bars: Vec<Bar> = group
            .iter()
            .map(|(word, count, style)| {
                Bar::default()
                    .value(*count as u64)
                    .label(Line::styled(word.to_string(), *style))
                    .style(style.remove_modifier(Modifier::BOLD))
                    .text_value(String::new())
            })
            .collect();
        barchart = barchart.data(BarGroup::default().bars(&bars));
        lines.extend(
            numbers
                .by_ref()
                .take(group.len())
                .map(|n| Line::raw(format!("{n:>number_width$}"))),
        );
    }
    frame.render_widget(barchart, chart);
    frame.render_widget(Paragraph::new(lines), counts);
    let spec = &schema.stats;
    let words = match spec.converted {
        [] => String::new(),
        [only] => only.to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    };
    let line = Line::from(vec![
        Span::styled(
            format!("{}%", stats.share(stats.converted)),
            theme::tone_style(Tone::Good),
        ),
        Span::raw(format!(" {} ", spec.conversion)),
        Span::styled(format!("({words})"), theme::dim()),
    ]);
    frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), conversion);
}

/// The top referrers by referrals, then by conversion, as many as fit.
fn render_referrers(state: &State, stats: &Stats, frame: &mut Frame, area: Rect) {
    let (one, many) = state.schema.stats.who;
    let rows = (area.height.saturating_sub(3) / 2) as usize;
    let width = area.width as usize;
    let mut lines = vec![heading(format!("Top {many} by referrals"))];
    if stats.by_referrals.is_empty() {
        lines.push(Line::styled(
            format!("No {one} named on these referrals."),
            theme::dim(),
        ));
    }
    for referrer in stats.by_referrals.iter().take(rows) {
        let count = thousands(referrer.referrals);
        lines.push(ranked(state, referrer, count, Style::new(), width));
    }
    lines.push(Line::raw(""));
    lines.push(heading(format!(
        "by conversion ({MIN_FOR_RATE}+ referrals)"
    )));
    if stats.by_conversion.is_empty() {
        lines.push(Line::styled(
            format!("No {one} brought {MIN_FOR_RATE} or more."),
            theme::dim(),
        ));
    }
    for referrer in stats.by_conversion.iter().take(rows) {
        let count = format!(
            "{}/{} {:>3}%",
            thousands(referrer.converted),
            thousands(referrer.referrals),
            referrer.percent()
        );
        lines.push(ranked(
            state,
            referrer,
            count,
            theme::tone_style(Tone::Good),
            width,
        ));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// "Andre Young ·········· 23": the referrer's name cut to leave room for the count on the right.
fn ranked(
    state: &State,
    referrer: &Referrer,
    count: String,
    style: Style,
    width: usize,
) -> Line<'static> {
    let room = width.saturating_sub(count.chars().count() + 1);
    let name = fit(&referrer_name(state, referrer), room);
    let pad = width.saturating_sub(Span::raw(name.as_str()).width() + count.chars().count());
    Line::from(vec![
        Span::raw(name),
        Span::raw(" ".repeat(pad)),
        Span::styled(count, style),
    ])
}

/// The name the console knows for a referrer: looked up (a v1 ambassador), or carried by the
/// referral (a v2 promoter); else the id, cut short.
fn referrer_name(state: &State, referrer: &Referrer) -> String {
    let spec = &state.schema.stats;
    let looked_up = match state.schema.field(spec.by).map(|f| f.kind) {
        Some(FieldKind::Reference(kind)) => state.lookup(kind, &referrer.id),
        _ => None,
    };
    match looked_up.or(referrer.name.as_deref()) {
        Some(name) => name.to_string(),
        None => fit(&referrer.id, 14),
    }
}

/// The milestone per day as a sparkline over the days, with dates under it.
fn render_days(state: &State, stats: &Stats, frame: &mut Frame, area: Rect) {
    let (_, milestone) = state.schema.stats.per_day;
    let [head, spark, dates] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    let sum: u64 = stats.per_day.iter().sum();
    let mut text = format!(
        "{milestone} per day · last {DAYS} days · {} in all",
        thousands(sum as usize)
    );
    let most = stats
        .per_day
        .iter()
        .enumerate()
        .max_by_key(|(at, n)| (**n, *at));
    match (most, stats.latest) {
        (Some((at, n)), _) if *n > 0 => {
            text.push_str(&format!(" · most {n} on {}", day(stats.first_day, at)));
        }
        (_, Some(latest)) => {
            let date = latest.to_zoned(state.clock.tz.clone()).date();
            text.push_str(&format!(" · the last on {}", date.strftime("%-d %b %Y")));
        }
        _ => {}
    }
    frame.render_widget(Paragraph::new(heading(text)), head);
    // Each day as wide as the room allows (up to 3 columns), so the days span the line.
    let each = (area.width as usize / DAYS.max(1)).clamp(1, 3);
    let data: Vec<u64> = stats
        .per_day
        .iter()
        .flat_map(|n| std::iter::repeat_n(*n, each))
        .collect();
    frame.render_widget(
        Sparkline::default()
            .data(&data)
            .style(theme::tone_style(Tone::Good).remove_modifier(Modifier::BOLD)),
        spark,
    );
    frame.render_widget(
        Paragraph::new(Line::styled(
            date_axis(stats.first_day, stats.per_day.len(), each),
            theme::dim(),
        )),
        dates,
    );
}

/// "23 Oct", the day `at` days after `first`.
fn day(first: Date, at: usize) -> String {
    first
        .checked_add((at as i64).days())
        .map_or(String::new(), |d| d.strftime("%-d %b").to_string())
}

/// The dates under the sparkline: every seventh day from the first, and the last one (today)
/// ending under its own column; a date that would run into the next is left out, never today.
fn date_axis(first: Date, days: usize, each: usize) -> String {
    let last = days.saturating_sub(1);
    let today = day(first, last);
    let today_at = (days * each).saturating_sub(today.chars().count());
    let mut axis = String::new();
    for at in (0..last).step_by(7) {
        let (x, text) = (at * each, day(first, at));
        let used = axis.chars().count();
        let clear = used == 0 || x > used;
        if clear && x + text.chars().count() < today_at {
            axis.push_str(&" ".repeat(x - used));
            axis.push_str(&text);
        }
    }
    let used = axis.chars().count();
    axis.push_str(&" ".repeat(today_at.saturating_sub(used)));
    axis.push_str(&today);
    axis
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_axis_marks_weeks_and_ends_with_today_under_its_column() {
        let first: Date = "2026-10-24".parse().unwrap();
        let wide = date_axis(first, 30, 2);
        assert_eq!(
            wide,
            "24 Oct        31 Oct        7 Nov         14 Nov      22 Nov"
        );
        assert_eq!(wide.chars().count(), 60);
        let narrow = date_axis(first, 30, 1);
        assert_eq!(narrow, "24 Oct 31 Oct 7 Nov     22 Nov");
        assert_eq!(narrow.chars().count(), 30);
    }
}
