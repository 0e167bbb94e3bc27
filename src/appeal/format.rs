//! Dates and date-times as a letter prints them ("March 3, 2026").

use jiff::civil::{Date, DateTime};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn month_name(month: i8) -> &'static str {
    usize::try_from(month - 1)
        .ok()
        .and_then(|index| MONTHS.get(index))
        .copied()
        .unwrap_or("")
}

/// Formats a date as "March 3, 2026".
pub fn long_date(date: Date) -> String {
    format!(
        "{} {}, {}",
        month_name(date.month()),
        date.day(),
        date.year()
    )
}

/// Formats a record date: full (`2026-03-03`) or partial (`2026-03`,
/// `2026`). Returns `None` for text that is not a date.
pub fn record_date(text: &str) -> Option<String> {
    let text = text.trim();
    match text.len() {
        4 if text.bytes().all(|b| b.is_ascii_digit()) => Some(text.to_string()),
        7 => {
            let date = format!("{text}-01").parse::<Date>().ok()?;
            Some(format!("{} {}", month_name(date.month()), date.year()))
        }
        10 => text.parse::<Date>().ok().map(long_date),
        _ => None,
    }
}

/// Formats a record date-time as "March 3, 2026 at 10:55 AM (UTC-05:00)",
/// keeping the offset as the record wrote it. A date-time without offset is
/// shown in the practice's local time, without one; a bare or partial date
/// is formatted as [`record_date`] does. Returns `None` for text that is not
/// a date or date-time.
pub fn record_date_time(text: &str) -> Option<String> {
    let text = text.trim();
    if text.len() <= 10 {
        return record_date(text);
    }
    let (local, offset) = split_offset(text);
    let local = local.replacen(' ', "T", 1);
    let date_time = local.parse::<DateTime>().ok()?;
    let hour = date_time.hour();
    let (hour12, meridiem) = match hour {
        0 => (12, "AM"),
        1..=11 => (hour, "AM"),
        12 => (12, "PM"),
        _ => (hour - 12, "PM"),
    };
    let mut out = format!(
        "{} at {}:{:02} {meridiem}",
        long_date(date_time.date()),
        hour12,
        date_time.minute()
    );
    match offset {
        Some("Z") | Some("z") => out.push_str(" (UTC)"),
        Some(offset) => out.push_str(&format!(" (UTC{})", normalize_offset(offset)?)),
        None => {}
    }
    Some(out)
}

/// Splits `2026-03-03T10:55:12-05:00` into the local part and the offset.
fn split_offset(text: &str) -> (&str, Option<&str>) {
    if let Some(local) = text.strip_suffix(['Z', 'z']) {
        return (local, Some("Z"));
    }
    // The offset sign comes after the time's "T" or space, never in the date.
    let time_start = text.find(['T', ' ']).unwrap_or(text.len());
    match text[time_start..].rfind(['+', '-']) {
        Some(at) => (&text[..time_start + at], Some(&text[time_start + at..])),
        None => (text, None),
    }
}

/// Writes `-0500` or `-05:00` as `-05:00`.
fn normalize_offset(offset: &str) -> Option<String> {
    let (sign, digits) = offset.split_at(1);
    let digits: String = digits.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!("{sign}{}:{}", &digits[..2], &digits[2..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_in_words() {
        assert_eq!(record_date("2026-03-03").as_deref(), Some("March 3, 2026"));
        assert_eq!(record_date("2026-12").as_deref(), Some("December 2026"));
        assert_eq!(record_date("2026").as_deref(), Some("2026"));
        assert_eq!(record_date("IGNORED_FIELD"), None);
    }

    #[test]
    fn date_times_keep_their_offset() {
        assert_eq!(
            record_date_time("2026-03-03T10:55:12-05:00").as_deref(),
            Some("March 3, 2026 at 10:55 AM (UTC-05:00)")
        );
        assert_eq!(
            record_date_time("2026-03-03T00:05Z").as_deref(),
            Some("March 3, 2026 at 12:05 AM (UTC)")
        );
        assert_eq!(
            record_date_time("2026-03-03 13:30:00+0530").as_deref(),
            Some("March 3, 2026 at 1:30 PM (UTC+05:30)")
        );
        assert_eq!(
            record_date_time("2026-03-03T12:00:00").as_deref(),
            Some("March 3, 2026 at 12:00 PM")
        );
        assert_eq!(
            record_date_time("2026-03-03").as_deref(),
            Some("March 3, 2026")
        );
        assert_eq!(record_date_time("2026-03-03Tnoon"), None);
    }
}
