//! The time a decision is made at and the zone times are shown in, handed to pure code as a value.

use jiff::{Timestamp, Unit, tz::TimeZone};

/// `update` never reads the clock: the runner stamps the current time here before each action, and
/// tests set a fixed one.
#[derive(Debug, Clone)]
pub struct Clock {
    pub now: Timestamp,
    /// The zone times are shown in: the system's in the console, UTC in tests.
    pub tz: TimeZone,
}

impl Clock {
    pub fn fixed(now: Timestamp, tz: TimeZone) -> Self {
        Clock { now, tz }
    }

    pub fn system() -> Self {
        Clock {
            now: Timestamp::now(),
            tz: TimeZone::system(),
        }
    }

    /// The current time as it is sent to a server: RFC 3339 UTC, whole seconds.
    pub fn now_rfc3339(&self) -> String {
        to_wire(self.now)
    }

    /// "2026-03-04 10:20:30 CET" for a wire timestamp; the raw text when it does not parse.
    pub fn local_long(&self, wire: &str) -> String {
        self.local(wire, "%Y-%m-%d %H:%M:%S %Z")
    }

    /// "2026-03-04 10:20" for lists.
    pub fn local_short(&self, wire: &str) -> String {
        self.local(wire, "%Y-%m-%d %H:%M")
    }

    /// How long ago `then` was, in the words of a status bar: "just now" within the first minute
    /// (or when `then` is ahead of the clock), then "3 min ago", "2 h ago", "4 d ago".
    pub fn ago(&self, then: Timestamp) -> String {
        let minutes = self.now.duration_since(then).as_secs() / 60;
        match minutes {
            ..1 => "just now".to_string(),
            1..60 => format!("{minutes} min ago"),
            60..1440 => format!("{} h ago", minutes / 60),
            _ => format!("{} d ago", minutes / 1440),
        }
    }

    fn local(&self, wire: &str, format: &str) -> String {
        match wire.parse::<Timestamp>() {
            Ok(ts) => ts.to_zoned(self.tz.clone()).strftime(format).to_string(),
            Err(_) => wire.to_string(),
        }
    }
}

/// RFC 3339 UTC in whole seconds, cut down (never rounded up, so "now" is never in the future).
pub fn to_wire(ts: Timestamp) -> String {
    let whole = jiff::TimestampRound::new()
        .smallest(Unit::Second)
        .mode(jiff::RoundMode::Trunc);
    ts.round(whole).unwrap_or(ts).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ago_says_whole_minutes_hours_and_days_passed() {
        let now: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        let clock = Clock::fixed(now, TimeZone::UTC);
        let before = |seconds| now - jiff::SignedDuration::from_secs(seconds);
        let cases = [
            ("a moment ago", before(59), "just now"),
            (
                "ahead of the clock (another machine's)",
                before(-30),
                "just now",
            ),
            ("one whole minute", before(60), "1 min ago"),
            (
                "minutes are cut, not rounded",
                before(3 * 60 + 59),
                "3 min ago",
            ),
            (
                "the last minute before an hour",
                before(59 * 60 + 59),
                "59 min ago",
            ),
            ("hours", before(2 * 3600 + 1800), "2 h ago"),
            ("days", before(3 * 86_400 + 7200), "3 d ago"),
        ];
        for (case, then, expected) in cases {
            assert_eq!(clock.ago(then), expected, "{case}");
        }
    }

    #[test]
    fn the_wire_time_is_cut_to_the_second_never_rounded_up() {
        let late: Timestamp = "2026-11-21T10:00:00.999Z".parse().unwrap();
        assert_eq!(to_wire(late), "2026-11-21T10:00:00Z");
    }
}
