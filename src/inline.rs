//! The audit in line: a switch hands over each message as it forwards it and gets that
//! message's findings back at once.
//!
//! [`Inline`] wraps a configured [`Audit`] (spec, profile book, fees, pairing timeouts, legs):
//! [`Inline::observe`] takes one frame (its leg, connection, direction, time and bytes) and
//! returns the findings it settled, those of the message itself (validation, a response that
//! changed what its request said, a replay) and those of earlier messages whose wait it ended.
//! Time moves only with the caller's clock: the frame's own time, and [`Inline::tick`] between
//! frames, so the same code runs on a live socket's wall clock and on a capture's times. A
//! request unanswered when its timeout passes is reported by the first `observe` or `tick` at
//! or after that time.
//!
//! # One auditor for the whole switch
//!
//! Pairing does not follow TCP connections: a wireless terminal sends its reversal on a new
//! connection, and a CUPS link answers on the other of a pair of one-way connections. So one
//! auditor sees every connection of a leg (and both legs, for hop correlation); sharding it by
//! connection would report each such reversal as an orphan and its sale as unanswered. The
//! auditor is [`Send`], not shared: connection tasks hand it frames through a bounded queue
//! (as `examples/tap.rs` does) or through a mutex, and never wait on it when the queue is full
//! (drop the audit's copy of the frame and count it; the payment traffic goes on).
//!
//! # Cost
//!
//! The per-message work is the audit's (parse, validate, pair). A clean message adds no finding
//! and allocates nothing of its own; what the pairer holds for an unanswered request is the
//! request's bytes and keys, bounded by `DiffConfig::max_pending` and the timeouts.
//!
//! ```
//! use iso8583_inspect::audit::Audit;
//! use iso8583_inspect::capture::{Direction, Flow, Timestamp};
//! use iso8583_inspect::encode::MessageBuilder;
//! use iso8583_inspect::inline::{Frame, Inline};
//! use iso8583_inspect::message::Mti;
//! use iso8583_inspect::{mcc::FeeTable, profile::ProfileBook, spec::ISO87_ASCII};
//! let book = ProfileBook::load("examples/data/merchants.toml")?;
//! let fees = FeeTable::default();
//! let mut auditor = Inline::new(Audit::new(&ISO87_ASCII, &book, &fees));
//! let flow = Flow {
//!     client: "10.0.0.7:40001".parse()?,
//!     server: "10.0.0.1:8583".parse()?,
//! };
//! // A sale cleared under MCC 5411 by a restaurant registered as 5812.
//! let mut sale = MessageBuilder::new(&ISO87_ASCII, Mti::FINANCIAL_REQUEST);
//! for (n, v) in [(3, "000000"), (4, "000000001000"), (11, "000001"), (18, "5411"),
//!                (32, "48220000"), (41, "10000001"), (42, "822440158120001"), (49, "156")] {
//!     sale.set_text(n, v)?;
//! }
//! let sale = sale.to_vec()?;
//! let time = Timestamp::new(1_700_000_000, 0);
//! let found = auditor.observe(Frame::new(flow, Direction::Request, time, &sale));
//! assert!(found.iter().any(|f| f.rule.id() == "mcc-mismatch"));
//! // No response within the timeout: the caller's clock settles it.
//! let found = auditor.tick(Timestamp::new(1_700_000_120, 0));
//! assert!(found.iter().any(|f| f.rule.id() == "no-response"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::audit::{Audit, seen_text};
use crate::capture::{Direction, Flow, Timestamp};
use crate::finding::Finding;
use crate::leg::Leg;

/// One message as a switch forwards it.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    /// The leg it travels on, one the audit was configured with ([`Audit::configure_legs`]);
    /// `None`, or a leg the audit does not know: parsed with the audit's own spec, on no leg.
    pub leg: Option<Leg>,
    /// The connection.
    pub flow: Flow,
    /// From the client or from the server.
    pub direction: Direction,
    /// When it was seen, on the caller's clock.
    pub time: Timestamp,
    /// The message, framing removed (header, MTI, bitmaps, fields).
    pub bytes: &'a [u8],
}

impl<'a> Frame<'a> {
    /// A frame on no leg.
    #[must_use]
    pub const fn new(
        flow: Flow,
        direction: Direction,
        time: Timestamp,
        bytes: &'a [u8],
    ) -> Frame<'a> {
        Frame {
            leg: None,
            flow,
            direction,
            time,
            bytes,
        }
    }

    /// The same frame on `leg`.
    #[must_use]
    pub const fn on(mut self, leg: Leg) -> Frame<'a> {
        self.leg = Some(leg);
        self
    }
}

/// An audit fed one message at a time; see the module docs.
#[derive(Debug)]
pub struct Inline<'b> {
    audit: Audit<'b>,
}

impl<'b> Inline<'b> {
    /// An in-line auditor over a configured audit. Findings are handed back, not kept: the
    /// audit's merchant counts and message counts still grow ([`Inline::audit`]).
    #[must_use]
    pub fn new(audit: Audit<'b>) -> Inline<'b> {
        let mut audit = audit;
        audit.keep_findings(false);
        audit.clear_findings();
        Inline { audit }
    }

    /// Audits one message; returns what it settled (empty for a clean message). The slice
    /// lives until the next call.
    pub fn observe(&mut self, frame: Frame<'_>) -> &[Finding] {
        self.audit.clear_findings();
        let slot = frame.leg.and_then(|l| self.audit.leg_slot(l));
        self.audit
            .check_on(slot, frame.bytes, Some((frame.time, frame.flow)), || {
                Some(seen_text(frame.time, frame.flow, frame.direction))
            });
        self.audit.findings()
    }

    /// Moves the clock to `now` with no message: the waits that end by then are reported.
    pub fn tick(&mut self, now: Timestamp) -> &[Finding] {
        self.audit.clear_findings();
        self.audit.tick(now);
        self.audit.findings()
    }

    /// Ends the audit: every wait still open is reported as the end of a capture would
    /// (`no-response` for a request never answered...). A live tap that stops does not know
    /// how its in-flight transactions ended, and need not call this.
    pub fn finish(&mut self) -> &[Finding] {
        self.audit.clear_findings();
        self.audit.finish();
        self.audit.findings()
    }

    /// The audit: messages seen, unreadable ones, merchant counts.
    #[must_use]
    pub fn audit(&self) -> &Audit<'b> {
        &self.audit
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_auditor_can_move_to_another_thread() {
        fn send<T: Send>() {}
        send::<super::Inline<'static>>();
    }
}
