//! Appeal deadlines.
//!
//! Medicare redetermination requests are due 120 days after the notice is
//! received, and receipt is presumed 5 days after the notice date (42 CFR
//! 405.942). Other payers set their window by contract; it comes from the
//! payer profile and defaults to 180 days from the notice date.

use jiff::civil::Date;
use jiff::ToSpan;
use serde::Serialize;

/// Days a payer allows when its profile sets no window.
pub const DEFAULT_WINDOW_DAYS: u32 = 180;
/// Days after the notice date at which Medicare presumes it was received.
pub const MEDICARE_RECEIPT_DAYS: i32 = 5;
/// Days after receipt within which Medicare accepts a redetermination request.
pub const MEDICARE_REDETERMINATION_DAYS: i32 = 120;
/// An appeal due within this many days (inclusive) is flagged as due soon.
pub const WARN_WITHIN_DAYS: i64 = 14;

/// The rule that sets the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum DeadlineRule {
    /// Medicare redetermination: notice date + 5 days + 120 days.
    MedicareRedetermination,
    /// A payer's contractual window from the notice date.
    PayerWindow {
        days: u32,
        /// False when the payer profile sets no window and the default
        /// applies.
        from_profile: bool,
    },
}

impl DeadlineRule {
    /// Chooses the rule: Medicare's for payer type `medicare`, else the
    /// profile's window or the default.
    pub fn for_payer(payer_type: Option<&str>, window_days: Option<u32>) -> DeadlineRule {
        if payer_type.is_some_and(|t| t.trim().eq_ignore_ascii_case("medicare")) {
            return DeadlineRule::MedicareRedetermination;
        }
        DeadlineRule::PayerWindow {
            days: window_days.unwrap_or(DEFAULT_WINDOW_DAYS),
            from_profile: window_days.is_some(),
        }
    }

    fn days(self) -> i32 {
        match self {
            DeadlineRule::MedicareRedetermination => {
                MEDICARE_RECEIPT_DAYS + MEDICARE_REDETERMINATION_DAYS
            }
            DeadlineRule::PayerWindow { days, .. } => i32::try_from(days).unwrap_or(i32::MAX),
        }
    }

    /// Describes how the deadline was computed.
    pub fn describe(self) -> String {
        match self {
            DeadlineRule::MedicareRedetermination => format!(
                "Medicare redetermination: {MEDICARE_REDETERMINATION_DAYS} days from receipt of the notice, \
                 presumed {MEDICARE_RECEIPT_DAYS} days after the notice date"
            ),
            DeadlineRule::PayerWindow { days, from_profile: true } => {
                format!("payer appeal window: {days} days from the notice date (payer profile)")
            }
            DeadlineRule::PayerWindow { days, from_profile: false } => {
                format!("payer appeal window: {days} days from the notice date (default; the payer profile sets none)")
            }
        }
    }
}

/// Closeness of the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeadlineStatus {
    Open,
    /// Due within [`WARN_WITHIN_DAYS`] days, today included.
    DueSoon,
    /// The last day has passed.
    Late,
}

/// The last day to file an appeal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub notice_date: Date,
    /// The last day on which the appeal is on time.
    pub due: Date,
    pub rule: DeadlineRule,
    /// Days from `today` to `due`; negative when late.
    pub days_left: i64,
}

/// A deadline outside the supported calendar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the deadline falls outside the supported calendar (years -9999 to 9999)")]
pub struct DeadlineOverflow;

impl Deadline {
    /// Computes the deadline of a notice dated `notice_date`, as seen on
    /// `today`.
    pub fn compute(
        notice_date: Date,
        rule: DeadlineRule,
        today: Date,
    ) -> Result<Deadline, DeadlineOverflow> {
        let due = notice_date
            .checked_add(rule.days().days())
            .map_err(|_| DeadlineOverflow)?;
        let days_left = today
            .until(due)
            .map(|span| i64::from(span.get_days()))
            .map_err(|_| DeadlineOverflow)?;
        Ok(Deadline {
            notice_date,
            due,
            rule,
            days_left,
        })
    }

    pub fn status(&self) -> DeadlineStatus {
        if self.days_left < 0 {
            DeadlineStatus::Late
        } else if self.days_left <= WARN_WITHIN_DAYS {
            DeadlineStatus::DueSoon
        } else {
            DeadlineStatus::Open
        }
    }
}

/// Parses a full `YYYY-MM-DD` date; partial dates (`2026-04`) cannot anchor
/// a deadline.
pub fn parse_notice_date(text: &str) -> Option<Date> {
    let text = text.trim();
    if text.len() != 10 {
        return None;
    }
    text.parse::<Date>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn payer(days: Option<u32>) -> DeadlineRule {
        DeadlineRule::for_payer(Some("commercial"), days)
    }

    #[test]
    fn medicare_adds_receipt_and_redetermination_days() {
        let rule = DeadlineRule::for_payer(Some("Medicare"), Some(30));
        assert_eq!(rule, DeadlineRule::MedicareRedetermination);
        let deadline = Deadline::compute(date(2026, 4, 2), rule, date(2026, 4, 20)).unwrap();
        // April 2 + 125 days = August 5.
        assert_eq!(deadline.due, date(2026, 8, 5));
        assert_eq!(deadline.days_left, 107);
        assert_eq!(deadline.status(), DeadlineStatus::Open);
    }

    #[test]
    fn medicare_advantage_uses_the_payer_window() {
        assert_eq!(
            DeadlineRule::for_payer(Some("medicare-advantage"), Some(60)),
            DeadlineRule::PayerWindow {
                days: 60,
                from_profile: true
            }
        );
    }

    #[test]
    fn payer_window_defaults_to_180_days() {
        let rule = payer(None);
        assert_eq!(
            rule,
            DeadlineRule::PayerWindow {
                days: 180,
                from_profile: false
            }
        );
        let deadline = Deadline::compute(date(2026, 4, 2), rule, date(2026, 4, 2)).unwrap();
        assert_eq!(deadline.due, date(2026, 9, 29));
        assert_eq!(deadline.days_left, 180);
    }

    #[test]
    fn profile_window_crosses_years_and_leap_days() {
        let deadline =
            Deadline::compute(date(2027, 12, 15), payer(Some(90)), date(2028, 1, 1)).unwrap();
        // 2028 is a leap year: Dec 15 + 90 days = Mar 14.
        assert_eq!(deadline.due, date(2028, 3, 14));
    }

    #[test]
    fn warning_within_14_days_inclusive() {
        let notice = date(2026, 1, 1);
        let rule = payer(Some(30)); // due 2026-01-31
        let status_on = |today| Deadline::compute(notice, rule, today).unwrap().status();
        assert_eq!(status_on(date(2026, 1, 16)), DeadlineStatus::Open); // 15 days left
        assert_eq!(status_on(date(2026, 1, 17)), DeadlineStatus::DueSoon); // 14 days left
        assert_eq!(status_on(date(2026, 1, 31)), DeadlineStatus::DueSoon); // due today
        assert_eq!(status_on(date(2026, 2, 1)), DeadlineStatus::Late);
    }

    #[test]
    fn late_claim_has_negative_days_left() {
        let deadline =
            Deadline::compute(date(2025, 1, 10), payer(None), date(2026, 4, 20)).unwrap();
        assert_eq!(deadline.due, date(2025, 7, 9));
        assert_eq!(deadline.days_left, -285);
        assert_eq!(deadline.status(), DeadlineStatus::Late);
    }

    #[test]
    fn overflow_is_an_error() {
        assert_eq!(
            Deadline::compute(date(9999, 12, 1), payer(Some(3650)), date(2026, 1, 1)),
            Err(DeadlineOverflow)
        );
    }

    #[test]
    fn notice_date_must_be_complete() {
        assert_eq!(parse_notice_date("2026-04-02"), Some(date(2026, 4, 2)));
        assert_eq!(parse_notice_date("2026-04"), None);
        assert_eq!(parse_notice_date("2026-02-30"), None);
        assert_eq!(parse_notice_date("2026-04-02T10:00:00"), None);
    }
}
