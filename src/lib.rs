//! # iso8583-inspect
//!
//! Reads ISO 8583 card-payment messages at wire speed and finds the traces that a transaction
//! was altered on its way through the network: a sale cleared under another merchant category
//! code (跳码), an amount that changed between hops (跳点), money routed through another
//! merchant or institution (二清), a debit the merchant never saw approved (吞钱).
//!
//! The layers, in the order data flows through them: [`spec`] (dialects as data, among them
//! the UnionPay POS terminal dialect and the CUPS network dialect with its [`cups`] header),
//! [`parse()`] (zero-copy, allocation-free) and [`encode`] (its exact inverse), [`subfield`]
//! (composite fields and EMV data read in place, by path: `60.2`, `55.9F02`), [`capture`] and
//! [`frame`] (pcap/pcapng, TCP reassembly, framing), [`leg`] (the terminal and network legs, a
//! dialect and framing each) and [`input`] (hex dumps and captures, by leg), [`txn`] (what a
//! transaction is), [`validate`] (one message against merchant [`profile`]s, with the [`mcc`]
//! table, China fee classes and [`text`] for GBK names), [`diff`] (requests with responses, the
//! same transaction on two legs, its outcome), [`finding`] (what both report), and [`audit`]
//! and [`report`] (runs and their output).
//!
//! ```
//! use iso8583_inspect::{parse, MessageBuilder, Mti, spec::ISO87_ASCII};
//!
//! let mut sale = MessageBuilder::new(&ISO87_ASCII, Mti::FINANCIAL_REQUEST);
//! sale.set_text(2, "6228480402564890018")?
//!     .set_text(4, "000000012345")?
//!     .set_text(11, "000042")?
//!     .set_text(18, "5812")?
//!     .set_text(41, "10000001")?
//!     .set_text(42, "822440158120001")?;
//! let bytes = sale.to_vec()?;
//!
//! let msg = parse(&ISO87_ASCII, &bytes)?;
//! assert_eq!(msg.amount(), Some(Ok(12345)));
//! assert_eq!(msg.mcc().unwrap()?.to_string(), "5812");
//! assert_eq!(msg.merchant().unwrap()?, "822440158120001");
//! // Card numbers are masked wherever they are shown.
//! assert_eq!(msg.pan().unwrap()?.to_string(), "622848*********0018");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Parsing allocates nothing and never panics; errors say where (field, MTI, bitmap, header),
//! at which byte offset, and what. Specs are data: see [`spec`].

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![deny(clippy::print_stdout, clippy::print_stderr)]
// Input reaches the library: nothing in it may panic (tests are free to).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod audit;
pub mod capture;
mod codec;
pub mod cups;
pub mod describe;
pub mod diff;
pub mod emv;
pub mod encode;
pub mod error;
pub mod finding;
pub mod frame;
mod hash;
pub mod inline;
pub mod input;
#[cfg(feature = "ledger")]
pub mod ledger;
pub mod leg;
pub mod mask;
pub mod mcc;
pub mod merchant;
pub mod message;
pub mod parse;
pub mod profile;
pub mod report;
pub mod spec;
pub mod subfield;
pub mod text;
#[cfg(feature = "tokio")]
pub mod tokio_codec;
pub mod txn;
pub mod validate;

pub use encode::MessageBuilder;
pub use error::{EncodeError, ErrorKind, Location, ParseError};
pub use message::{Field, Message, Mti, Pan, Text, ValueError};
pub use parse::parse;
pub use spec::{FieldSpec, Spec};
pub use subfield::{Subfield, SubfieldError};

#[cfg(test)]
mod send_sync {
    fn check<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        check::<crate::Spec>();
        check::<crate::Message<'static>>();
        check::<crate::MessageBuilder<'static>>();
        check::<crate::ParseError>();
        check::<crate::EncodeError>();
        check::<crate::spec::SpecError>();
    }
}
