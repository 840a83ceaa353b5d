//! The bottom line: profile and backend, what is loaded, requests in flight, what the network is
//! waiting for (a rate limit and until when, a request with no answer yet and which attempt it is
//! on), and the last message.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{LineGauge, Paragraph, Wrap};

use crate::app::bulk::Bulk;

use super::theme;
use crate::api::{Attempt, NetStatus};
use crate::app::State;
use crate::app::keys::Place;
use crate::app::state::LoadState;
use crate::domain::Clock;

const SPINNER: &[char] = &['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// A request without an answer for this long is named, with how long it has waited.
const SLOW_ANSWER: jiff::SignedDuration = jiff::SignedDuration::from_secs(2);

/// Most lines the bar takes, so a long message never hides the screen.
const MAX_LINES: u16 = 3;

/// Lines the bar needs at `width` so the message is not cut off (word wrapping may need one more
/// than the plain division says).
pub fn height(state: &State, width: u16) -> u16 {
    let used = line(state).width() as u16;
    match used.div_ceil(width.max(1)) {
        0 | 1 => 1,
        lines => (lines + 1).min(MAX_LINES),
    }
}

pub fn render(state: &State, frame: &mut Frame, area: Rect) {
    frame.render_widget(Paragraph::new(line(state)).wrap(Wrap { trim: true }), area);
}

fn line(state: &State) -> Line<'static> {
    let session = &state.session;
    let mut spans = vec![
        Span::styled(
            format!(" {} · {} ", session.profile, session.backend),
            theme::focused(),
        ),
        Span::raw(" "),
    ];
    if session.read_only {
        spans.push(Span::styled(" READ-ONLY ", theme::error()));
        spans.push(Span::raw(" "));
    }
    match &state.load {
        LoadState::Loading { loaded, .. } => {
            spans.push(Span::raw(format!("loading… {loaded} (Esc stops) ")))
        }
        LoadState::Loaded | LoadState::Stopped => {
            let stopped = if state.load == LoadState::Stopped {
                " (stopped)"
            } else {
                ""
            };
            let ago = state
                .loaded_at
                .map(|at| format!(" {}", state.clock.ago(at)))
                .unwrap_or_default();
            spans.push(Span::raw(format!(
                "{} loaded{stopped}{ago} ",
                state.records.len()
            )));
        }
        LoadState::Failed(_) => spans.push(Span::styled("load failed ", theme::error())),
    }
    if state.busy() {
        let frame_index = state.spinner % SPINNER.len();
        spans.push(Span::raw(format!(
            "{} {} in flight ",
            SPINNER[frame_index],
            state.pending.len() + state.writes.count()
        )));
    }
    for words in net_text(&state.net, &state.clock) {
        spans.push(Span::styled(
            format!("{words} "),
            theme::level_style(crate::app::state::Level::Info).fg(Color::Yellow),
        ));
    }
    for flight in state.writes.in_flight.values() {
        if let Some(batch) = &flight.progress {
            let progress = format!(
                "{} {}/{} ({}%) ",
                flight.mutation.summary(),
                batch.processed_count,
                batch.total,
                batch.progress
            );
            spans.push(Span::styled(
                progress,
                theme::level_style(crate::app::state::Level::Info).fg(ratatui::style::Color::Cyan),
            ));
        }
    }
    spans.push(Span::styled("│ ", theme::dim()));
    match &state.message {
        Some(message) => spans.push(Span::styled(
            crate::text_safety::capped(&message.text).into_owned(),
            theme::level_style(message.level),
        )),
        None => spans.push(Span::styled(
            super::hints(state, &[Place::Panes]),
            theme::dim(),
        )),
    }
    Line::from(spans)
}

/// What the network is waiting for, in words: the rate-limit wait and when it ends, then the
/// request longest without an answer (or, when none is slow, one being tried again).
pub fn net_text(net: &NetStatus, clock: &Clock) -> Vec<String> {
    let mut words = Vec::new();
    if let Some(until) = net.rate_wait_until.filter(|u| *u > clock.now) {
        let seconds = clock.now.duration_until(until).as_secs_f64().ceil();
        let whole = jiff::TimestampRound::new()
            .smallest(jiff::Unit::Second)
            .mode(jiff::RoundMode::Ceil);
        let at = until.round(whole).unwrap_or(until);
        let at = at.to_zoned(clock.tz.clone()).strftime("%H:%M:%S");
        words.push(format!("rate limit: next request in {seconds} s (at {at})"));
    }
    let slowest = net
        .requests
        .iter()
        .filter_map(|r| Some((r, clock.now.duration_since(r.sent?))))
        .filter(|(_, waited)| *waited >= SLOW_ANSWER)
        .max_by_key(|(_, waited)| *waited);
    if let Some((request, waited)) = slowest {
        let mut text = format!("{}: no answer for {} s", request.endpoint, waited.as_secs());
        // A write is sent once: there is no attempt to count.
        if request.of > 1 {
            text = format!("{text}, {}", attempt(request));
        }
        words.push(text);
    } else if let Some(retried) = net.requests.iter().find(|r| r.attempt > 1) {
        words.push(format!("{}: {}", retried.endpoint, attempt(retried)));
    }
    words
}

/// "attempt 2/3".
fn attempt(request: &Attempt) -> String {
    format!("attempt {}/{}", request.attempt, request.of)
}

/// The bulk progress bar: done and failed out of the total, and how to retry.
pub fn render_bulk(bulk: &Bulk, frame: &mut Frame, area: Rect) {
    let failed = bulk.problem_count();
    let mut label = format!(" {}", bulk.progress());
    if failed > 0 && !bulk.is_running() {
        label.push_str(&format!(" · {} again · E why", bulk.again_key()));
    }
    let ratio = if bulk.total() == 0 {
        1.0
    } else {
        bulk.finished_count() as f64 / bulk.total() as f64
    };
    let colour = if failed > 0 { Color::Red } else { Color::Green };
    let gauge = LineGauge::default()
        .filled_style(Style::new().fg(colour))
        .label(label)
        .ratio(ratio.clamp(0.0, 1.0));
    frame.render_widget(gauge, area);
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;
    use crate::app::action::RequestId;

    #[test]
    fn a_read_only_profile_says_so_next_to_its_name() {
        let mut state = State::sample();
        assert!(!text(&state).contains("READ-ONLY"));
        state.session.read_only = true;
        assert!(
            text(&state).starts_with(" test · vantio   READ-ONLY "),
            "{}",
            text(&state)
        );
    }

    fn text(state: &State) -> String {
        line(state)
            .spans
            .iter()
            .map(|s| s.content.as_ref())
            .collect()
    }

    #[test]
    fn what_the_network_waits_for_is_said_with_the_request_its_attempt_and_the_end() {
        let clock = State::sample().clock;
        let now = clock.now;
        let ago = |seconds| Some(now - SignedDuration::from_secs(seconds));
        let request = |endpoint: &str, attempt, of, sent| Attempt {
            endpoint: endpoint.into(),
            attempt,
            of,
            sent,
        };
        let under_way = |requests| NetStatus {
            rate_wait_until: None,
            requests,
        };
        let rate_wait = |millis, requests| NetStatus {
            rate_wait_until: Some(now + SignedDuration::from_millis(millis)),
            requests,
        };
        let cases = [
            ("nothing under way", NetStatus::default(), vec![]),
            (
                "an answer on its way for a second is not worth a word",
                under_way(vec![request("GET /referrals page 1", 1, 3, ago(1))]),
                vec![],
            ),
            (
                "a slow page says which page, how long and which attempt",
                under_way(vec![request("GET /referrals page 3", 2, 3, ago(12))]),
                vec!["GET /referrals page 3: no answer for 12 s, attempt 2/3"],
            ),
            (
                "the request waiting longest is the one named",
                under_way(vec![
                    request("GET /users page 1", 1, 3, ago(3)),
                    request("GET /referrals page 2", 1, 3, ago(20)),
                    request("GET /impressions page 1", 1, 3, None),
                ]),
                vec!["GET /referrals page 2: no answer for 20 s, attempt 1/3"],
            ),
            (
                "a write is sent once, so no attempt is counted",
                under_way(vec![request("PUT /referrals/ref_1", 1, 1, ago(5))]),
                vec!["PUT /referrals/ref_1: no answer for 5 s"],
            ),
            (
                "a read about to be tried again says which attempt",
                under_way(vec![request("GET /users page 1", 2, 3, None)]),
                vec!["GET /users page 1: attempt 2/3"],
            ),
            (
                "a rate-limit wait counts down and says when it ends",
                rate_wait(41_200, vec![request("GET /referrals page 2", 1, 3, None)]),
                vec!["rate limit: next request in 42 s (at 10:00:42)"],
            ),
            (
                "a 429 waited out: the wait, and the attempt it holds",
                rate_wait(11_000, vec![request("PUT /referrals/ref_1", 2, 4, None)]),
                vec![
                    "rate limit: next request in 11 s (at 10:00:11)",
                    "PUT /referrals/ref_1: attempt 2/4",
                ],
            ),
            (
                "a wait that has ended is not said",
                rate_wait(-500, vec![]),
                vec![],
            ),
        ];
        for (case, net, expected) in cases {
            assert_eq!(net_text(&net, &clock), expected, "{case}");
        }
    }

    #[test]
    fn the_line_says_how_long_ago_the_list_was_loaded_as_the_clock_moves() {
        let mut state = State::sample();
        assert!(
            text(&state).contains(" 0 loaded │"),
            "nothing loaded yet: no time"
        );
        state.loaded_at = Some(state.clock.now);
        assert!(
            text(&state).contains("0 loaded just now "),
            "{}",
            text(&state)
        );
        state.clock.now += SignedDuration::from_secs(3 * 60 + 10);
        assert!(
            text(&state).contains("0 loaded 3 min ago "),
            "{}",
            text(&state)
        );
    }

    #[test]
    fn the_line_says_the_waits_and_how_to_stop_a_load() {
        let mut state = State::sample();
        state.load = LoadState::Loading {
            req: RequestId(1),
            loaded: 200,
            awaiting_first: false,
        };
        state.net = NetStatus {
            rate_wait_until: None,
            requests: vec![Attempt {
                endpoint: "GET /referrals page 3".into(),
                attempt: 2,
                of: 3,
                sent: Some(state.clock.now - SignedDuration::from_secs(12)),
            }],
        };
        let shown = text(&state);
        assert!(shown.contains("loading… 200 (Esc stops)"), "{shown}");
        assert!(
            shown.contains("GET /referrals page 3: no answer for 12 s, attempt 2/3"),
            "{shown}"
        );
        state.clock.now += SignedDuration::from_secs(1);
        assert!(
            text(&state).contains("no answer for 13 s"),
            "it counts up as the clock moves"
        );
        state.load = LoadState::Stopped;
        state.loaded_at = Some(state.clock.now);
        state.net = NetStatus::default();
        let shown = text(&state);
        assert!(shown.contains("0 loaded (stopped) just now"), "{shown}");
        assert!(!shown.contains("no answer"), "{shown}");
    }
}
