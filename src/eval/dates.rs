//! Dates as the records write them, and comparisons that admit uncertainty.
//!
//! A partial date (`2026` or `2026-03`) is a range of days, and a date-time
//! without an offset cannot be ordered exactly against one with an offset.
//! Every comparison here returns [`Truth::Unknown`] when the answer depends
//! on precision the record does not have, rather than guessing.
//!
//! NOTE: a date-time is placed on the calendar day written in it (its own
//! offset). A practice whose exports write UTC may see a late-evening event
//! fall on the next day; a practice time zone setting would fix that.

use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::Offset;
use jiff::{Span, ToSpan};

use super::Truth;
use crate::rules::condition::{DateOrder, Direction, Window};

/// A parsed date, partial date or date-time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Temporal {
    /// A year or a year and month: every day from `first` to `last`.
    Partial {
        first: Date,
        last: Date,
    },
    Day(Date),
    DateTime {
        civil: DateTime,
        offset: Option<Offset>,
    },
}

impl Temporal {
    /// Parses the date forms the record schema allows.
    pub fn parse(text: &str) -> Option<Temporal> {
        let text = text.trim();
        match text.len() {
            4 => {
                let year: i16 = text.parse().ok()?;
                Some(Temporal::Partial {
                    first: Date::new(year, 1, 1).ok()?,
                    last: Date::new(year, 12, 31).ok()?,
                })
            }
            7 => {
                let first: Date = format!("{text}-01").parse().ok()?;
                Some(Temporal::Partial {
                    first,
                    last: first.last_of_month(),
                })
            }
            10 => text.parse().ok().map(Temporal::Day),
            _ => parse_date_time(text),
        }
    }

    /// The first and last calendar day the value may fall on.
    pub fn days(&self) -> (Date, Date) {
        match *self {
            Temporal::Partial { first, last } => (first, last),
            Temporal::Day(day) => (day, day),
            Temporal::DateTime { civil, .. } => (civil.date(), civil.date()),
        }
    }
}

fn parse_date_time(text: &str) -> Option<Temporal> {
    let offset = offset_suffix(text);
    let time_part = text
        .split_once(['T', 't', ' '])
        .map_or("", |(_, time)| time);
    let writes_offset = time_part.contains(['+', '-', 'Z', 'z']);
    if writes_offset && offset.is_none() {
        return None;
    }
    let civil_text = match offset {
        Some(_) if text.ends_with(['Z', 'z']) => &text[..text.len() - 1],
        Some(_) => &text[..text.rfind(['+', '-'])?],
        None => text,
    };
    let civil: DateTime = civil_text.replacen(' ', "T", 1).parse().ok()?;
    Some(Temporal::DateTime { civil, offset })
}

/// Reads a trailing `Z`, `±HH:MM` or `±HHMM` offset.
fn offset_suffix(text: &str) -> Option<Offset> {
    if text.ends_with('Z') || text.ends_with('z') {
        return Some(Offset::UTC);
    }
    let sign_at = text.rfind(['+', '-'])?;
    // A '-' inside the date part is not an offset sign.
    if !text[..sign_at].contains(['T', 't', ' ']) {
        return None;
    }
    let (sign, digits) = text[sign_at..].split_at(1);
    let digits: String = digits.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 {
        return None;
    }
    let hours: i8 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    // RFC 3339 offsets run from -23:59 to +23:59.
    if hours > 23 || minutes > 59 {
        return None;
    }
    let seconds = i32::from(hours) * 3600 + minutes * 60;
    Offset::from_seconds(if sign == "-" { -seconds } else { seconds }).ok()
}

/// Tests `value` against a window around `reference`.
pub fn within(value: &Temporal, reference: &Temporal, window: Window) -> Truth {
    let (v_first, v_last) = value.days();
    let (r_first, r_last) = reference.days();
    match window {
        Window::SameDay => {
            if v_first == v_last && r_first == r_last {
                Truth::from(v_first == r_first)
            } else if v_last < r_first || v_first > r_last {
                Truth::False
            } else {
                Truth::Unknown
            }
        }
        Window::SameMonth => {
            let month = |d: Date| (d.year(), d.month());
            let v_single = month(v_first) == month(v_last);
            let r_single = month(r_first) == month(r_last);
            if v_single && r_single {
                Truth::from(month(v_first) == month(r_first))
            } else if month(v_last) < month(r_first) || month(v_first) > month(r_last) {
                Truth::False
            } else {
                Truth::Unknown
            }
        }
        Window::Days { days, direction } => {
            let span = i64::from(days).days();
            range_test(value, reference, direction, |d, forward| {
                shift(d, span, forward)
            })
        }
        Window::Months { months, direction } => {
            let span = i64::from(months).months();
            range_test(value, reference, direction, |d, forward| {
                shift(d, span, forward)
            })
        }
        Window::Years { years, direction } => {
            let span = i64::from(years).years();
            range_test(value, reference, direction, |d, forward| {
                shift(d, span, forward)
            })
        }
        Window::BusinessDays { days, direction } => {
            range_test(value, reference, direction, |d, forward| {
                add_business_days(d, days, forward)
            })
        }
    }
}

/// True when every possible day of `value` lies in the window, false when
/// none does, unknown otherwise.
fn range_test(
    value: &Temporal,
    reference: &Temporal,
    direction: Direction,
    step: impl Fn(Date, bool) -> Option<Date>,
) -> Truth {
    let (v_first, v_last) = value.days();
    let (r_first, r_last) = reference.days();
    let (surely_lo, surely_hi, maybe_lo, maybe_hi) = match direction {
        Direction::After => (
            Some(r_last),
            step(r_first, true),
            Some(r_first),
            step(r_last, true),
        ),
        Direction::Before => (
            step(r_last, false),
            Some(r_first),
            step(r_first, false),
            Some(r_last),
        ),
        Direction::Around => (
            step(r_last, false),
            step(r_first, true),
            step(r_first, false),
            step(r_last, true),
        ),
    };
    let (Some(maybe_lo), Some(maybe_hi)) = (maybe_lo, maybe_hi) else {
        return Truth::Unknown;
    };
    if v_last < maybe_lo || v_first > maybe_hi {
        return Truth::False;
    }
    match (surely_lo, surely_hi) {
        (Some(lo), Some(hi)) if v_first >= lo && v_last <= hi => Truth::True,
        _ => Truth::Unknown,
    }
}

fn shift(date: Date, span: Span, forward: bool) -> Option<Date> {
    if forward {
        date.checked_add(span).ok()
    } else {
        date.checked_sub(span).ok()
    }
}

/// Moves `days` business days (Monday to Friday) from `date`.
pub fn add_business_days(date: Date, days: u32, forward: bool) -> Option<Date> {
    let step = if forward { 1.day() } else { -1.day() };
    let mut current = date;
    let mut remaining = days;
    while remaining > 0 {
        current = current.checked_add(step).ok()?;
        if !matches!(current.weekday(), Weekday::Saturday | Weekday::Sunday) {
            remaining -= 1;
        }
    }
    Some(current)
}

/// Orders `value` against `other`.
pub fn order(value: &Temporal, other: &Temporal, relation: DateOrder) -> Truth {
    if let Some(ordering) = exact_order(value, other) {
        return Truth::from(match relation {
            DateOrder::Before => ordering.is_lt(),
            DateOrder::After => ordering.is_gt(),
            DateOrder::OnOrBefore => ordering.is_le(),
            DateOrder::OnOrAfter => ordering.is_ge(),
        });
    }
    // Day precision: decide only when the day ranges settle it.
    let (v_first, v_last) = value.days();
    let (o_first, o_last) = other.days();
    // A whole date stands for its calendar day, so any time on that day is
    // on it: "on or before 2026-03-31" includes 2026-03-31T10:05.
    let whole_day = matches!(value, Temporal::Day(_)) || matches!(other, Temporal::Day(_));
    let same_single_day = v_first == v_last && o_first == o_last && v_first == o_first;
    if whole_day
        && same_single_day
        && matches!(relation, DateOrder::OnOrBefore | DateOrder::OnOrAfter)
    {
        return Truth::True;
    }
    let (earlier, later) = match relation {
        DateOrder::Before | DateOrder::OnOrBefore => (v_last < o_first, v_first > o_last),
        DateOrder::After | DateOrder::OnOrAfter => (v_first > o_last, v_last < o_first),
    };
    if earlier {
        Truth::True
    } else if later {
        Truth::False
    } else {
        Truth::Unknown
    }
}

/// The exact ordering of two values, when their precision allows one.
fn exact_order(a: &Temporal, b: &Temporal) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Temporal::Day(x), Temporal::Day(y)) => Some(x.cmp(y)),
        (
            Temporal::DateTime {
                civil: x,
                offset: Some(ox),
            },
            Temporal::DateTime {
                civil: y,
                offset: Some(oy),
            },
        ) => {
            let tx = ox.to_timestamp(*x).ok()?;
            let ty = oy.to_timestamp(*y).ok()?;
            Some(tx.cmp(&ty))
        }
        (
            Temporal::DateTime {
                civil: x,
                offset: None,
            },
            Temporal::DateTime {
                civil: y,
                offset: None,
            },
        ) => Some(x.cmp(y)),
        (Temporal::DateTime { civil: x, .. }, Temporal::DateTime { civil: y, .. }) => {
            // One side has no offset: offsets span at most 26 hours, so only
            // a larger gap decides.
            let gap = x.duration_since(*y).as_secs().abs();
            (gap > 26 * 3600).then(|| x.cmp(y))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Temporal {
        Temporal::parse(text).unwrap_or_else(|| panic!("parse {text}"))
    }

    #[test]
    fn parses_every_schema_form() {
        assert!(matches!(t("2026"), Temporal::Partial { .. }));
        assert!(matches!(t("2026-02"), Temporal::Partial { .. }));
        assert_eq!(t("2026-02").days().1, Date::new(2026, 2, 28).unwrap());
        assert!(matches!(t("2026-03-03"), Temporal::Day(_)));
        assert!(matches!(
            t("2026-03-03T10:00:00-05:00"),
            Temporal::DateTime {
                offset: Some(_),
                ..
            }
        ));
        assert!(matches!(
            t("2026-03-03T10:00:00Z"),
            Temporal::DateTime {
                offset: Some(_),
                ..
            }
        ));
        assert!(matches!(
            t("2026-03-03T10:00:00"),
            Temporal::DateTime { offset: None, .. }
        ));
        assert!(matches!(
            t("2026-03-03 10:00"),
            Temporal::DateTime { offset: None, .. }
        ));
        assert!(Temporal::parse("IGNORED_FIELD").is_none());
        assert!(Temporal::parse("2026-02-30").is_none());
    }

    #[test]
    fn date_time_keeps_its_written_day() {
        assert_eq!(
            t("2026-03-03T23:30:00-05:00").days().0,
            Date::new(2026, 3, 3).unwrap()
        );
    }

    #[test]
    fn same_day() {
        assert_eq!(
            within(
                &t("2026-03-03T09:00:00-05:00"),
                &t("2026-03-03"),
                Window::SameDay
            ),
            Truth::True
        );
        assert_eq!(
            within(
                &t("2026-03-04T09:00:00-05:00"),
                &t("2026-03-03"),
                Window::SameDay
            ),
            Truth::False
        );
        assert_eq!(
            within(&t("2026-03"), &t("2026-03-03"), Window::SameDay),
            Truth::Unknown
        );
        assert_eq!(
            within(&t("2026-04"), &t("2026-03-03"), Window::SameDay),
            Truth::False
        );
    }

    #[test]
    fn same_month() {
        assert_eq!(
            within(&t("2026-03-31"), &t("2026-03-01"), Window::SameMonth),
            Truth::True
        );
        assert_eq!(
            within(&t("2026-04-01"), &t("2026-03-31"), Window::SameMonth),
            Truth::False
        );
        assert_eq!(
            within(&t("2026-03"), &t("2026-03-15"), Window::SameMonth),
            Truth::True
        );
        assert_eq!(
            within(&t("2026"), &t("2026-03-15"), Window::SameMonth),
            Truth::Unknown
        );
    }

    #[test]
    fn day_windows() {
        let after = Window::Days {
            days: 3,
            direction: Direction::After,
        };
        assert_eq!(
            within(&t("2026-03-06"), &t("2026-03-03"), after),
            Truth::True
        );
        assert_eq!(
            within(&t("2026-03-07"), &t("2026-03-03"), after),
            Truth::False
        );
        assert_eq!(
            within(&t("2026-03-02"), &t("2026-03-03"), after),
            Truth::False
        );
        let around = Window::Days {
            days: 1,
            direction: Direction::Around,
        };
        assert_eq!(
            within(&t("2026-03-02"), &t("2026-03-03"), around),
            Truth::True
        );
        let before = Window::Days {
            days: 2,
            direction: Direction::Before,
        };
        assert_eq!(
            within(&t("2026-03-01"), &t("2026-03-03"), before),
            Truth::True
        );
        assert_eq!(
            within(&t("2026-03-04"), &t("2026-03-03"), before),
            Truth::False
        );
    }

    #[test]
    fn month_and_year_windows_follow_the_calendar() {
        let year_before = Window::Years {
            years: 1,
            direction: Direction::Before,
        };
        assert_eq!(
            within(&t("2025-03-03"), &t("2026-03-03"), year_before),
            Truth::True
        );
        assert_eq!(
            within(&t("2025-03-02"), &t("2026-03-03"), year_before),
            Truth::False
        );
        // A leap day steps back a year to February 28.
        assert_eq!(
            within(&t("2023-02-28"), &t("2024-02-29"), year_before),
            Truth::True
        );
        assert_eq!(
            within(&t("2023-02-27"), &t("2024-02-29"), year_before),
            Truth::False
        );
        let month_after = Window::Months {
            months: 1,
            direction: Direction::After,
        };
        assert_eq!(
            within(&t("2026-02-28"), &t("2026-01-31"), month_after),
            Truth::True
        );
        assert_eq!(
            within(&t("2026-03-01"), &t("2026-01-31"), month_after),
            Truth::False
        );
    }

    #[test]
    fn business_days_skip_weekends() {
        // 2026-03-06 is a Friday; four business days later is Thursday 03-12.
        let friday = Date::new(2026, 3, 6).unwrap();
        assert_eq!(
            add_business_days(friday, 4, true),
            Some(Date::new(2026, 3, 12).unwrap())
        );
        let window = Window::BusinessDays {
            days: 4,
            direction: Direction::After,
        };
        assert_eq!(
            within(&t("2026-03-12"), &t("2026-03-06"), window),
            Truth::True
        );
        assert_eq!(
            within(&t("2026-03-13"), &t("2026-03-06"), window),
            Truth::False
        );
    }

    #[test]
    fn ordering_with_offsets() {
        let verified = t("2026-03-03T09:00:00-05:00");
        let sent = t("2026-03-03T15:00:00Z");
        assert_eq!(order(&verified, &sent, DateOrder::Before), Truth::True);
        assert_eq!(order(&sent, &verified, DateOrder::Before), Truth::False);
    }

    #[test]
    fn time_on_a_whole_date_is_on_that_date() {
        let day = t("2026-03-31");
        let time = t("2026-03-31T10:05:00-05:00");
        assert_eq!(order(&time, &day, DateOrder::OnOrBefore), Truth::True);
        assert_eq!(order(&time, &day, DateOrder::OnOrAfter), Truth::True);
        assert_eq!(order(&day, &time, DateOrder::OnOrBefore), Truth::True);
        assert_eq!(
            order(&t("2026-04-01T08:00:00-05:00"), &day, DateOrder::OnOrBefore),
            Truth::False
        );
        // Strict order within the same day stays undecided.
        assert_eq!(order(&time, &day, DateOrder::Before), Truth::Unknown);
    }

    #[test]
    fn ordering_that_precision_cannot_settle_is_unknown() {
        assert_eq!(
            order(
                &t("2026-03-03T09:00:00"),
                &t("2026-03-03T10:00:00Z"),
                DateOrder::Before
            ),
            Truth::Unknown
        );
        assert_eq!(
            order(&t("2026-03"), &t("2026-03-10"), DateOrder::Before),
            Truth::Unknown
        );
        assert_eq!(
            order(&t("2026-02"), &t("2026-03-10"), DateOrder::Before),
            Truth::True
        );
        assert_eq!(
            order(
                &t("2026-03-03"),
                &t("2026-03-03T10:00:00Z"),
                DateOrder::Before
            ),
            Truth::Unknown
        );
        assert_eq!(
            order(&t("2026-03-03"), &t("2026-03-03"), DateOrder::OnOrBefore),
            Truth::True
        );
        assert_eq!(
            order(
                &t("2026-03-03T09:00:00"),
                &t("2026-03-03T10:00:00Z"),
                DateOrder::OnOrBefore
            ),
            Truth::Unknown
        );
        assert_eq!(
            order(&t("2026-03-03"), &t("2026-03-03"), DateOrder::Before),
            Truth::False
        );
    }
}
