//! The transaction ledger (feature `ledger`): what an audit saw, as Parquet files that every
//! analytics engine reads (DataFusion, Spark, DuckDB), one pair of files an input.
//!
//! [`Ledger`] is an [`crate::audit::Recorder`]: set it on an [`crate::audit::Audit`] and run
//! the audit; at the end of the input it has written
//! - `DIR/transactions/NAME.parquet`: one row a transaction, the terminal leg and its forward
//!   on the network leg joined in one row where the audit correlated them;
//! - `DIR/findings/NAME.parquet`: one row a finding, with the keys of the NDJSON output.
//!
//! A directory of ledgers is one table of each kind to an engine (`DIR/transactions/` holds
//! the files of every input). The columns are listed in [`TRANSACTION_COLUMNS`] and
//! [`FINDING_COLUMNS`]; every file carries the schema version ([`SCHEMA_VERSION`]) in a
//! `ledger_version` column and in its metadata (`iso8583_inspect.ledger_version`). Columns are
//! only ever added: a query written for version 1 runs on later versions.
//!
//! # Card numbers
//!
//! No card number is written. A transaction's card is `pan_hash`: SipHash-2-4 of the card
//! number's digits under the user's 128-bit key ([`LedgerKey`]), 16 hex digits. The same card
//! has the same hash in every ledger written with the same key, so the fleet queries can count
//! cards and find repeats across captures; without the key, nobody can tell which card it was
//! (a card number has too few unknown digits to keep a hash without a key secret). Keep the key
//! as you keep the captures. Findings carry card data only as the NDJSON does: masked.
//!
//! # Memory
//!
//! A transaction's row is held until nothing more can join it: three minutes of capture time
//! after its last message (the response timeout, the reversal window and the hop window are
//! shorter), then written. Rows go to Parquet 65,536 at a time.

use crate::audit::Recorder;
use crate::capture::{Flow, Timestamp};
use crate::diff::{Leg, Link};
use crate::finding::Finding;
use crate::message::Message;
use arrow_array::builder::StringBuilder;
use arrow_array::{
    ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
    new_null_array,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::thread::JoinHandle;

/// The version of the ledger's schema.
pub const SCHEMA_VERSION: i32 = 1;

/// The environment variable that holds the ledger key (32 hex digits) when no flag gives it.
pub const KEY_VARIABLE: &str = "ISO8583_LEDGER_KEY";

/// Capture time a transaction's row is held after its last message.
const HOLD_MS: i64 = 180_000;

/// Columns whose values are each row's own (times, indexes, reference numbers): written
/// without a dictionary (card hashes keep theirs: cards come back).
const UNIQUE_COLUMNS: [&str; 4] = ["capture_time", "message_index", "network_index", "rrn"];

/// Rows written to Parquet at once.
const BATCH_ROWS: usize = 65_536;

/// The columns of `transactions`, in order, with what each holds.
pub const TRANSACTION_COLUMNS: [(&str, &str); 30] = [
    ("ledger_version", "the schema version (1)"),
    (
        "input",
        "the capture or dump the row comes from (its file name)",
    ),
    (
        "capture_time",
        "when the transaction's first message was captured (UTC, µs)",
    ),
    (
        "leg",
        "terminal, network, terminal+network (joined), or null (no legs configured)",
    ),
    (
        "message_index",
        "the index of its first request in the input",
    ),
    (
        "network_index",
        "the index of its network-leg request, where joined",
    ),
    ("mti", "the request's MTI"),
    ("processing_code", "field 3"),
    (
        "transaction_type",
        "sale, void, refund, pre-authorisation ... (from 3, 25, 60)",
    ),
    (
        "pan_hash",
        "the keyed hash of the card number (16 hex digits); never the number",
    ),
    ("amount_fen", "field 4, in minor units"),
    ("currency", "field 49"),
    (
        "terminal_id",
        "field 41 on the terminal leg (or with no legs)",
    ),
    (
        "merchant_id",
        "field 42 on the terminal leg (or with no legs)",
    ),
    (
        "mcc_from_code",
        "digits 8-11 of the terminal leg's 15-digit merchant code",
    ),
    (
        "mcc",
        "the MCC field (18) on the terminal leg (or with no legs)",
    ),
    ("network_terminal_id", "field 41 on the network leg"),
    ("network_merchant_id", "field 42 on the network leg"),
    (
        "network_mcc",
        "the MCC field on the network leg: the category it was cleared under",
    ),
    ("network_name", "field 43 on the network leg (GBK decoded)"),
    ("acquirer_id", "field 32 (the network leg's where joined)"),
    ("forwarder_id", "field 33 (the network leg's where joined)"),
    ("rrn", "field 37 (the network leg's where joined)"),
    ("stan", "field 11 on the terminal leg (or with no legs)"),
    ("network_stan", "field 11 on the network leg"),
    (
        "response_code",
        "field 39 of the terminal leg's response (or with no legs)",
    ),
    (
        "network_response_code",
        "field 39 of the network leg's response",
    ),
    (
        "latency_ms",
        "capture time from the terminal leg's request to its response",
    ),
    ("network_latency_ms", "the same on the network leg"),
    (
        "rules",
        "the rule ids found on the transaction's messages, comma-separated",
    ),
];

/// The columns of `findings`, in order: the NDJSON keys, `fields` as comma-separated numbers,
/// `fee_impact` spread over `fee_*` columns. Not the masked card number (`pan`): a ledger names
/// cards only by `transactions.pan_hash`, which `message_index` joins.
pub const FINDING_COLUMNS: [(&str, &str); 23] = [
    ("ledger_version", "the schema version (1)"),
    ("input", "the capture or dump the finding comes from"),
    ("rule", "the rule id"),
    ("severity", "high, medium, low or info"),
    ("index", "the index of the message it is about"),
    (
        "message_index",
        "the same as `index`, under a name no SQL engine reserves",
    ),
    (
        "time",
        "that message's capture time (RFC 3339), as in the NDJSON",
    ),
    ("flow", "src -> dst"),
    ("leg", "terminal, network or terminal+network"),
    ("mti", "the message's MTI"),
    ("stan", "field 11"),
    ("terminal", "field 41"),
    ("merchant", "field 42"),
    ("rrn", "field 37"),
    ("fields", "the fields concerned, comma-separated"),
    ("expected", "what the rule expected (card data masked)"),
    ("observed", "what it saw (card data masked)"),
    ("fee_registered_mcc", "fee impact: the registered MCC"),
    ("fee_used_mcc", "fee impact: the MCC used"),
    ("fee_amount_fen", "fee impact: the amount priced"),
    (
        "fee_pre2016_fen",
        "fee impact: the difference at the pre-2016 rates, fen",
    ),
    (
        "fee_post2016_fen",
        "fee impact: the difference at the 2016 rates, fen",
    ),
    (
        "capture_time",
        "the message's capture time as a timestamp (UTC, µs)",
    ),
];

/// The user's key for hashing card numbers: 128 bits.
#[derive(Clone)]
pub struct LedgerKey([u8; 16]);

impl std::fmt::Debug for LedgerKey {
    /// Never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LedgerKey(..)")
    }
}

impl LedgerKey {
    /// A key from 32 hex digits.
    ///
    /// # Errors
    ///
    /// Anything but 32 hex digits.
    pub fn from_hex(hex: &str) -> Result<LedgerKey, String> {
        let hex = hex.trim();
        let mut key = [0u8; 16];
        if hex.len() != 32 {
            return Err(format!(
                "a ledger key is 32 hex digits (128 bits), not {} characters",
                hex.len()
            ));
        }
        for (slot, pair) in key.iter_mut().zip(hex.as_bytes().chunks(2)) {
            let digits = std::str::from_utf8(pair).map_err(|_| "a ledger key is hex digits")?;
            *slot = u8::from_str_radix(digits, 16).map_err(|_| "a ledger key is hex digits")?;
        }
        Ok(LedgerKey(key))
    }

    /// The key in [`KEY_VARIABLE`], if it is set.
    ///
    /// # Errors
    ///
    /// A value that is not 32 hex digits.
    pub fn from_env() -> Option<Result<LedgerKey, String>> {
        let v = std::env::var(KEY_VARIABLE).ok()?;
        Some(LedgerKey::from_hex(&v).map_err(|e| format!("{KEY_VARIABLE}: {e}")))
    }

    /// SipHash-2-4 of `data` under the key.
    #[must_use]
    pub fn hash(&self, data: &[u8]) -> u64 {
        use std::hash::Hasher;
        let (k0, k1) = self.0.split_at(8);
        let word = |b: &[u8]| {
            let mut w = [0u8; 8];
            w.copy_from_slice(b);
            u64::from_le_bytes(w)
        };
        // The standard library's SipHash-2-4 (deprecated as a default hasher, not as SipHash).
        #[allow(deprecated)]
        let mut h = std::hash::SipHasher::new_with_keys(word(k0), word(k1));
        h.write(data);
        h.finish()
    }

    /// A card number's hash as the ledger writes it: 16 hex digits.
    #[must_use]
    pub fn pan_hash(&self, digits: &[u8]) -> String {
        format!("{:016x}", self.hash(digits))
    }
}

/// A text column of a transaction's row: where its value lies in the row's one buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    ProcessingCode,
    PanHash,
    Currency,
    TerminalId,
    MerchantId,
    MccFromCode,
    Mcc,
    NetworkTerminalId,
    NetworkMerchantId,
    NetworkMcc,
    NetworkName,
    AcquirerId,
    ForwarderId,
    Rrn,
    Stan,
    NetworkStan,
    ResponseCode,
    NetworkResponseCode,
}

/// How many [`Slot`]s a row has.
const SLOTS: usize = 18;

/// The slots of the network leg's message, copied when the legs are joined.
const NETWORK_SLOTS: [Slot; 7] = [
    Slot::NetworkTerminalId,
    Slot::NetworkMerchantId,
    Slot::NetworkMcc,
    Slot::NetworkName,
    Slot::NetworkStan,
    Slot::NetworkResponseCode,
    Slot::Rrn,
];

/// One transaction's row while it is held: its text values in one buffer (one allocation a
/// row, not one a value).
#[derive(Default)]
struct Row {
    time_us: Option<i64>,
    terminal: bool,
    network: bool,
    index: i64,
    network_index: Option<i64>,
    mti: u16,
    transaction_type: &'static str,
    amount_fen: Option<i64>,
    latency_ms: Option<i64>,
    network_latency_ms: Option<i64>,
    text: String,
    /// Each slot's (start, end) in `text`; `None`: null.
    spans: [Option<(u32, u32)>; SLOTS],
    rules: Vec<&'static str>,
    /// Capture time of its last message, ms.
    last_ms: i64,
    /// The response paired with it, whose entry must follow the row if it is joined.
    reply: Option<usize>,
}

impl Row {
    fn get(&self, slot: Slot) -> Option<&str> {
        let (a, b) = self.spans.get(slot as usize).copied().flatten()?;
        self.text.get(a as usize..b as usize)
    }

    /// Sets `slot` to what `write` appends to the buffer (trailing spaces trimmed).
    fn set_with(&mut self, slot: Slot, write: impl FnOnce(&mut String)) {
        let start = self.text.len();
        write(&mut self.text);
        let end = start + self.text.get(start..).map_or(0, |t| t.trim_end().len());
        self.text.truncate(end);
        if let Some(span) = self.spans.get_mut(slot as usize) {
            *span = Some((start as u32, end as u32));
        }
    }

    fn set(&mut self, slot: Slot, value: Option<&str>) {
        if let Some(v) = value {
            self.set_with(slot, |t| t.push_str(v));
        }
    }

    /// `slot` from field `n` of `msg`, its characters as they are (Latin-1).
    fn set_field(&mut self, slot: Slot, msg: &Message<'_>, n: usize) {
        if let Some(f) = msg.field(n) {
            self.set_with(slot, |t| t.extend(f.chars().map(char::from)));
        }
    }
}

/// A Parquet file being written, a batch of rows at a time.
struct Table {
    writer: Option<ArrowWriter<File>>,
    schema: SchemaRef,
    path: PathBuf,
}

impl Table {
    fn create(path: PathBuf, schema: SchemaRef) -> io::Result<Table> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = File::create(&path)?;
        let mut props =
            WriterProperties::builder().set_key_value_metadata(Some(vec![KeyValue::new(
                "iso8583_inspect.ledger_version".to_string(),
                SCHEMA_VERSION.to_string(),
            )]));
        // A column whose values are (nearly) all different gains nothing from a dictionary:
        // the writer would build one, find it too large and start over without.
        for column in UNIQUE_COLUMNS {
            if schema.column_with_name(column).is_some() {
                props = props.set_column_dictionary_enabled(ColumnPath::from(column), false);
            }
        }
        let props = props.build();
        let writer = ArrowWriter::try_new(file, Arc::clone(&schema), Some(props))
            .map_err(|e| io::Error::other(format!("{}: {e}", path.display())))?;
        Ok(Table {
            writer: Some(writer),
            schema,
            path,
        })
    }

    fn write(&mut self, columns: Vec<ArrayRef>) -> io::Result<()> {
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), columns)
            .map_err(|e| io::Error::other(format!("{}: {e}", self.path.display())))?;
        if let Some(w) = &mut self.writer {
            w.write(&batch)
                .map_err(|e| io::Error::other(format!("{}: {e}", self.path.display())))?;
        }
        Ok(())
    }

    fn close(&mut self) -> io::Result<()> {
        if let Some(w) = self.writer.take() {
            w.close()
                .map_err(|e| io::Error::other(format!("{}: {e}", self.path.display())))?;
        }
        Ok(())
    }
}

/// The schema of a table: each column named as `columns` lists it, typed as the column
/// builder makes it (so the two cannot disagree); only `ledger_version` is never null.
fn schema(columns: &[(&str, &str)], arrays: &[ArrayRef]) -> SchemaRef {
    let fields = columns.iter().zip(arrays).map(|((name, _), array)| {
        Field::new(*name, array.data_type().clone(), *name != "ledger_version")
    });
    Arc::new(Schema::new(fields.collect::<Vec<_>>()))
}

fn transactions_schema() -> SchemaRef {
    schema(&TRANSACTION_COLUMNS, &transaction_columns(&[], ""))
}

fn findings_schema() -> SchemaRef {
    schema(&FINDING_COLUMNS, &finding_columns(&[], ""))
}

impl Row {
    /// Empties the row for another transaction, keeping its buffers.
    fn clear(&mut self) {
        let (mut text, mut rules) = (
            std::mem::take(&mut self.text),
            std::mem::take(&mut self.rules),
        );
        text.clear();
        rules.clear();
        *self = Row {
            text,
            rules,
            ..Row::default()
        };
    }

    fn leg(&self) -> Option<&'static str> {
        match (self.terminal, self.network) {
            (true, true) => Some("terminal+network"),
            (true, false) => Some("terminal"),
            (false, true) => Some("network"),
            (false, false) => None,
        }
    }
}

fn strings<'r, T: 'r>(rows: &'r [T], f: impl Fn(&'r T) -> Option<&'r str>) -> ArrayRef {
    Arc::new(rows.iter().map(f).collect::<StringArray>())
}

fn ints<T>(rows: &[T], f: impl Fn(&T) -> Option<i64>) -> ArrayRef {
    Arc::new(rows.iter().map(f).collect::<Int64Array>())
}

fn versions(n: usize) -> ArrayRef {
    Arc::new(Int32Array::from(vec![SCHEMA_VERSION; n]))
}

fn times(values: Vec<Option<i64>>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from(values).with_timezone("UTC"))
}

/// Rows as the columns of [`TRANSACTION_COLUMNS`] in order. One pass over the rows fills every
/// column (a pass a column would visit each row 30 times, each a cache miss).
#[allow(clippy::vec_box)]
fn transaction_columns(rows: &[Box<Row>], input: &str) -> Vec<ArrayRef> {
    let n = rows.len();
    let text = |per_row: usize| StringBuilder::with_capacity(n, per_row * n);
    let mut slots: [StringBuilder; SLOTS] = std::array::from_fn(|_| text(16));
    let (mut leg, mut mti, mut kind, mut rules) = (text(8), text(4), text(4), text(0));
    let mut time = Vec::with_capacity(n);
    let (mut index, mut network_index) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut amount, mut latency, mut network_latency) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for r in rows {
        for (b, span) in slots.iter_mut().zip(r.spans) {
            let value = span.and_then(|(a, b)| r.text.get(a as usize..b as usize));
            b.append_option(value);
        }
        leg.append_option(r.leg());
        let _ = write!(mti, "{:04}", r.mti);
        mti.append_value("");
        kind.append_value(r.transaction_type);
        if r.rules.is_empty() {
            rules.append_null();
        } else {
            for (i, rule) in r.rules.iter().enumerate() {
                if i > 0 {
                    rules.write_str(",").ok();
                }
                rules.write_str(rule).ok();
            }
            rules.append_value("");
        }
        time.push(r.time_us);
        index.push(Some(r.index));
        network_index.push(r.network_index);
        amount.push(r.amount_fen);
        latency.push(r.latency_ms);
        network_latency.push(r.network_latency_ms);
    }
    let mut slot = |s: Slot| -> ArrayRef {
        match slots.get_mut(s as usize) {
            Some(b) => Arc::new(b.finish()),
            None => Arc::new(new_null_array(&DataType::Utf8, n)),
        }
    };
    let int =
        |v: &mut Vec<Option<i64>>| -> ArrayRef { Arc::new(Int64Array::from(std::mem::take(v))) };
    TRANSACTION_COLUMNS
        .iter()
        .map(|(name, _)| match *name {
            "ledger_version" => versions(n),
            "input" => strings(rows, |_| Some(input)),
            "capture_time" => times(std::mem::take(&mut time)),
            "leg" => Arc::new(leg.finish()),
            "message_index" => int(&mut index),
            "network_index" => int(&mut network_index),
            "mti" => Arc::new(mti.finish()),
            "processing_code" => slot(Slot::ProcessingCode),
            "transaction_type" => Arc::new(kind.finish()),
            "pan_hash" => slot(Slot::PanHash),
            "amount_fen" => int(&mut amount),
            "currency" => slot(Slot::Currency),
            "terminal_id" => slot(Slot::TerminalId),
            "merchant_id" => slot(Slot::MerchantId),
            "mcc_from_code" => slot(Slot::MccFromCode),
            "mcc" => slot(Slot::Mcc),
            "network_terminal_id" => slot(Slot::NetworkTerminalId),
            "network_merchant_id" => slot(Slot::NetworkMerchantId),
            "network_mcc" => slot(Slot::NetworkMcc),
            "network_name" => slot(Slot::NetworkName),
            "acquirer_id" => slot(Slot::AcquirerId),
            "forwarder_id" => slot(Slot::ForwarderId),
            "rrn" => slot(Slot::Rrn),
            "stan" => slot(Slot::Stan),
            "network_stan" => slot(Slot::NetworkStan),
            "response_code" => slot(Slot::ResponseCode),
            "network_response_code" => slot(Slot::NetworkResponseCode),
            "latency_ms" => int(&mut latency),
            "network_latency_ms" => int(&mut network_latency),
            "rules" => Arc::new(rules.finish()),
            _ => Arc::new(new_null_array(&DataType::Utf8, n)),
        })
        .collect()
}

/// Findings as the columns of [`FINDING_COLUMNS`] in order.
fn finding_columns(found: &[Finding], input: &str) -> Vec<ArrayRef> {
    let fields: Vec<String> = found
        .iter()
        .map(|f| {
            f.fields
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    let rules: Vec<&str> = found.iter().map(|f| f.rule.id()).collect();
    let severities: Vec<String> = found.iter().map(|f| f.severity.to_string()).collect();
    let index = |f: &Finding| i64::try_from(f.message.index).ok();
    fn fee(f: &Finding) -> Option<&crate::finding::FeeImpact> {
        f.fee_impact.as_ref()
    }
    FINDING_COLUMNS
        .iter()
        .map(|(name, _)| match *name {
            "ledger_version" => versions(found.len()),
            "input" => strings(found, |_| Some(input)),
            "rule" => strings(&rules, |r| Some(*r)),
            "severity" => strings(&severities, |s| Some(s.as_str())),
            "index" | "message_index" => ints(found, index),
            "time" => strings(found, |f| f.message.time.as_deref()),
            "flow" => strings(found, |f| f.message.flow.as_deref()),
            "leg" => strings(found, |f| f.message.leg),
            "mti" => strings(found, |f| Some(f.message.mti.as_str())),
            "stan" => strings(found, |f| f.message.stan.as_deref()),
            "terminal" => strings(found, |f| f.message.terminal.as_deref()),
            "merchant" => strings(found, |f| f.message.merchant.as_deref()),
            "rrn" => strings(found, |f| f.message.rrn.as_deref()),
            "fields" => strings(&fields, |x| Some(x.as_str())),
            "expected" => strings(found, |f| Some(f.expected.as_str())),
            "observed" => strings(found, |f| Some(f.observed.as_str())),
            "fee_registered_mcc" => strings(found, |f| fee(f).map(|x| x.registered_mcc.as_str())),
            "fee_used_mcc" => strings(found, |f| fee(f).map(|x| x.used_mcc.as_str())),
            "fee_amount_fen" => ints(found, |f| {
                fee(f)
                    .and_then(|x| x.amount_fen)
                    .and_then(|a| i64::try_from(a).ok())
            }),
            "fee_pre2016_fen" => ints(found, |f| fee(f).and_then(|x| x.pre2016.difference_fen)),
            "fee_post2016_fen" => ints(found, |f| fee(f).and_then(|x| x.post2016.difference_fen)),
            "capture_time" => times(
                found
                    .iter()
                    .map(|f| f.message.time.as_deref().and_then(parse_rfc3339_micros))
                    .collect(),
            ),
            _ => Arc::new(new_null_array(&DataType::Utf8, found.len())),
        })
        .collect()
}

/// What the ledger holds of one message.
enum Held {
    Nothing,
    Row(Box<Row>),
    /// Belongs to the row of this message index.
    Owned(usize),
}

/// What the ledger hands its writer thread. Rows are boxed so that they move from the held
/// queue to a batch, and back to the ledger's spares once written, without being copied.
#[allow(clippy::vec_box)]
enum ToWriter {
    /// Rows to turn into columns and write; the emptied rows come back.
    Rows(Vec<Box<Row>>),
    /// Transaction columns built by the ledger itself (at the end of the input, when the audit
    /// has nothing left to do and the two threads share the work).
    Columns(Vec<ArrayRef>),
    Findings(Vec<Finding>),
}

/// Rows in a batch built at the end of the input: small enough that building one batch and
/// writing the one before overlap.
const END_BATCH_ROWS: usize = 8_192;

/// Emptied rows kept for reuse at most (the rest are freed).
const SPARE_ROWS: usize = 2 * BATCH_ROWS;

/// The ledger of one input; see the module docs.
#[allow(clippy::vec_box)] // see `ToWriter`
pub struct Ledger {
    input: String,
    key: LedgerKey,
    /// The thread that turns rows into Parquet, and what goes to it (the audit does not wait
    /// for the encoding: on two cores the two overlap).
    to_writer: Option<SyncSender<ToWriter>>,
    writer: Option<JoinHandle<io::Result<()>>>,
    /// Rows written and emptied by the writer, for the ledger to fill again (no allocation a
    /// row, and no row freed on another thread than the one that allocated it).
    written_rows: Receiver<Vec<Box<Row>>>,
    spare: Vec<Box<Row>>,
    rows: Vec<Box<Row>>,
    /// Rows a batch ([`BATCH_ROWS`]; smaller in tests, to exercise the spares).
    batch_rows: usize,
    finding_rows: Vec<Finding>,
    /// What is held of each message from `base` on, in input order: its transaction's row
    /// (a request), the row it belongs to (a response, a joined network request), or nothing.
    /// Rows leave from the front once nothing more can join them.
    held: VecDeque<Held>,
    base: usize,
    /// The last response seen: its index, leg and whether it has a response code, which is in
    /// `response_code` (its link comes next; one buffer for every response).
    response: Option<(usize, Option<Leg>, bool)>,
    response_code: String,
    written: u64,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("input", &self.input)
            .field("held", &self.held.len())
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl Ledger {
    /// A ledger of the input named `input` (a file name: the files are named after it) in
    /// `dir`, hashing card numbers under `key`.
    ///
    /// # Errors
    ///
    /// Where the directory or the files cannot be created.
    pub fn create(dir: &Path, input: &str, key: LedgerKey) -> io::Result<Ledger> {
        let name: String = input
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let mut transactions = Table::create(
            dir.join("transactions").join(format!("{name}.parquet")),
            transactions_schema(),
        )?;
        let mut findings = Table::create(
            dir.join("findings").join(format!("{name}.parquet")),
            findings_schema(),
        )?;
        let (to_writer, work) = sync_channel::<ToWriter>(2);
        let (give_back, written_rows) = channel();
        let label = input.to_string();
        let writer = std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || {
                // The first failure is the one reported; what comes after is drained.
                let mut result = Ok(());
                for job in work {
                    let written = match job {
                        ToWriter::Rows(mut rows) => {
                            let columns = transaction_columns(&rows, &label);
                            rows.iter_mut().for_each(|r| r.clear());
                            // The ledger may have finished: then the rows are freed here.
                            let _ = give_back.send(rows);
                            transactions.write(columns)
                        }
                        ToWriter::Columns(columns) => transactions.write(columns),
                        ToWriter::Findings(found) => {
                            findings.write(finding_columns(&found, &label))
                        }
                    };
                    if result.is_ok() {
                        result = written;
                    }
                }
                let closed = transactions.close().and(findings.close());
                result.and(closed)
            })?;
        Ok(Ledger {
            input: input.to_string(),
            key,
            to_writer: Some(to_writer),
            writer: Some(writer),
            written_rows,
            spare: Vec::new(),
            rows: Vec::new(),
            batch_rows: BATCH_ROWS,
            finding_rows: Vec::new(),
            held: VecDeque::new(),
            base: 0,
            response: None,
            response_code: String::new(),
            written: 0,
        })
    }

    /// Transactions written so far.
    #[must_use]
    pub fn transactions_written(&self) -> u64 {
        self.written
    }

    /// The held entry of message `index`.
    fn entry(&mut self, index: usize) -> Option<&mut Held> {
        let i = index.checked_sub(self.base)?;
        self.held.get_mut(i)
    }

    /// The row message `index` is part of (its own, or the one it was joined to).
    fn key_of(&mut self, index: usize) -> Option<usize> {
        match self.entry(index)? {
            Held::Row(_) => Some(index),
            Held::Owned(k) => Some(*k),
            Held::Nothing => None,
        }
    }

    fn row_of(&mut self, index: usize) -> Option<&mut Row> {
        let key = self.key_of(index)?;
        match self.entry(key)? {
            Held::Row(r) => Some(&mut **r),
            _ => None,
        }
    }

    /// Writes out the rows nothing more can join by `now_ms`, from the front.
    fn settle(&mut self, now_ms: i64) -> io::Result<()> {
        loop {
            match self.held.front() {
                Some(Held::Row(r)) if now_ms.saturating_sub(r.last_ms) < HOLD_MS => break,
                None => break,
                _ => {}
            }
            if let Some(Held::Row(row)) = self.held.pop_front() {
                self.close_row(row)?;
            }
            self.base += 1;
        }
        Ok(())
    }

    fn close_row(&mut self, row: Box<Row>) -> io::Result<()> {
        self.rows.push(row);
        self.written += 1;
        if self.rows.len() >= self.batch_rows {
            let rows = std::mem::replace(&mut self.rows, Vec::with_capacity(self.batch_rows));
            self.send(ToWriter::Rows(rows))?;
        }
        Ok(())
    }

    /// An empty row: a spare one the writer gave back where there is one.
    fn new_row(&mut self) -> Box<Row> {
        if self.spare.is_empty() {
            while let Ok(rows) = self.written_rows.try_recv() {
                let room = SPARE_ROWS.saturating_sub(self.spare.len());
                self.spare.extend(rows.into_iter().take(room));
            }
        }
        self.spare.pop().unwrap_or_else(|| {
            Box::new(Row {
                text: String::with_capacity(192),
                ..Row::default()
            })
        })
    }

    fn write_findings(&mut self) -> io::Result<()> {
        let found = std::mem::take(&mut self.finding_rows);
        if found.is_empty() {
            return Ok(());
        }
        self.send(ToWriter::Findings(found))
    }

    /// Hands a batch to the writer thread (waiting if it is two batches behind).
    fn send(&mut self, job: ToWriter) -> io::Result<()> {
        match &self.to_writer {
            Some(tx) if tx.send(job).is_ok() => Ok(()),
            // The thread stopped: its error comes from `finish`.
            _ => Ok(()),
        }
    }
}

/// Microseconds since 1970 of an RFC 3339 UTC time as the crate prints it.
fn parse_rfc3339_micros(s: &str) -> Option<i64> {
    Timestamp::parse_rfc3339(s).map(Timestamp::micros)
}

impl Recorder for Ledger {
    fn message(
        &mut self,
        index: usize,
        leg: Option<Leg>,
        at: Option<(Timestamp, Flow)>,
        msg: &Message<'_>,
    ) {
        let now_ms = at.map_or(0, |(t, _)| t.millis());
        // A failing file shows at the end; the rows are kept until then.
        let _ = self.settle(now_ms);
        if self.held.is_empty() {
            self.base = index;
        }
        while self.base + self.held.len() <= index {
            self.held.push_back(Held::Nothing);
        }
        let mti = msg.mti();
        if mti.is_response() {
            self.response_code.clear();
            let code = msg.field(39);
            if let Some(f) = code {
                self.response_code.extend(f.chars().map(char::from));
            }
            self.response = Some((index, leg, code.is_some()));
            return;
        }
        if !matches!(mti.class(), 1 | 2 | 4) {
            return;
        }
        let mut row = self.new_row();
        row.time_us = at.map(|(t, _)| t.micros());
        row.index = index as i64;
        row.mti = mti.value();
        row.transaction_type = crate::txn::transaction_type(msg).name();
        row.amount_fen = msg
            .amount()
            .and_then(Result::ok)
            .and_then(|a| i64::try_from(a).ok());
        row.last_ms = now_ms;
        row.set_field(Slot::ProcessingCode, msg, 3);
        if let Some((digits, len)) = crate::diff::pan_digits_of(msg) {
            let hash = self.key.hash(digits.get(..len).unwrap_or_default());
            row.set_with(Slot::PanHash, |t| {
                let _ = write!(t, "{hash:016x}");
            });
        }
        row.set_field(Slot::Currency, msg, 49);
        row.set_field(Slot::AcquirerId, msg, 32);
        row.set_field(Slot::ForwarderId, msg, 33);
        row.set_field(Slot::Rrn, msg, 37);
        // The leg's own columns: the network leg's, or the terminal leg's (also with no legs).
        let network = leg == Some(Leg::Network);
        let (terminal_id, merchant_id, mcc_slot, stan) = if network {
            (
                Slot::NetworkTerminalId,
                Slot::NetworkMerchantId,
                Slot::NetworkMcc,
                Slot::NetworkStan,
            )
        } else {
            (Slot::TerminalId, Slot::MerchantId, Slot::Mcc, Slot::Stan)
        };
        row.network = network;
        row.terminal = leg == Some(Leg::Terminal);
        row.set_field(terminal_id, msg, 41);
        row.set_field(merchant_id, msg, 42);
        if let Some(m) = msg.mcc().and_then(Result::ok) {
            row.set_with(mcc_slot, |t| {
                let _ = write!(t, "{m}");
            });
        }
        row.set_field(stan, msg, 11);
        if network {
            row.set(Slot::NetworkName, network_name(msg).as_deref());
        } else if let Some(Some((a, b))) = row.spans.get(Slot::MerchantId as usize).copied() {
            // Digits 8-11 of a 15-digit merchant code: a slice of the text already held.
            let code = row.text.get(a as usize..b as usize).unwrap_or_default();
            if b - a == 15 && code.is_char_boundary(7) && code.is_char_boundary(11) {
                if let Some(span) = row.spans.get_mut(Slot::MccFromCode as usize) {
                    *span = Some((a + 7, a + 11));
                }
            }
        }
        if let Some(slot) = self.entry(index) {
            *slot = Held::Row(row);
        }
    }

    fn link(&mut self, link: Link) {
        match link {
            Link::Answered {
                request,
                response,
                latency_ms,
            } => {
                let (leg, has_code) = match self.response {
                    Some((i, leg, has_code)) if i == response => (leg, has_code),
                    _ => (None, false),
                };
                let buffer = std::mem::take(&mut self.response_code);
                let code = has_code.then_some(buffer.as_str());
                if let Some(key) = self.key_of(request) {
                    if let Some(row) = self.row_of(key) {
                        if leg == Some(Leg::Network) {
                            row.set(Slot::NetworkResponseCode, code);
                            row.network_latency_ms = Some(latency_ms);
                        } else {
                            row.set(Slot::ResponseCode, code);
                            row.latency_ms = Some(latency_ms);
                        }
                        row.reply = Some(response);
                        if let Some(slot) = self.entry(response) {
                            *slot = Held::Owned(key);
                        }
                    }
                }
                self.response_code = buffer;
            }
            Link::Hop { terminal, network } => {
                let Some(t_key) = self.key_of(terminal) else {
                    return;
                };
                if t_key == network || !matches!(self.entry(t_key), Some(Held::Row(_))) {
                    return;
                }
                let Some(slot) = self.entry(network) else {
                    return;
                };
                let Held::Row(n_row) = std::mem::replace(slot, Held::Owned(t_key)) else {
                    // Not a row of its own (already joined): as it was.
                    return;
                };
                // The network response, paired before the join, belongs to the joined row too.
                if let Some(slot) = n_row.reply.and_then(|r| self.entry(r)) {
                    *slot = Held::Owned(t_key);
                }
                let Some(row) = self.row_of(t_key) else {
                    return;
                };
                row.network = true;
                row.network_index = Some(n_row.index);
                // The network leg carries the IDs and the RRN the acquirer assigned.
                for slot in NETWORK_SLOTS
                    .into_iter()
                    .chain([Slot::AcquirerId, Slot::ForwarderId])
                {
                    row.set(slot, n_row.get(slot));
                }
                row.network_latency_ms = n_row.network_latency_ms;
                row.rules.extend(n_row.rules);
                row.last_ms = row.last_ms.max(n_row.last_ms);
            }
        }
    }

    fn findings(&mut self, found: &[Finding]) {
        for f in found {
            let rule = f.rule.id();
            if let Some(row) = self.row_of(f.message.index) {
                if !row.rules.contains(&rule) {
                    row.rules.push(rule);
                }
            }
        }
        self.finding_rows.extend_from_slice(found);
        if self.finding_rows.len() >= BATCH_ROWS {
            let _ = self.write_findings();
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        // Every row left, in order; the audit is done, so this thread builds their columns
        // while the writer encodes the batch before.
        let mut rest = std::mem::take(&mut self.rows);
        let closed = rest.len();
        self.base += self.held.len();
        for held in self.held.drain(..) {
            if let Held::Row(row) = held {
                rest.push(row);
            }
        }
        self.written += (rest.len() - closed) as u64;
        for batch in rest.chunks(END_BATCH_ROWS) {
            let columns = transaction_columns(batch, &self.input);
            self.send(ToWriter::Columns(columns))?;
        }
        self.write_findings()?;
        // Closing the channel ends the writer, which closes the files.
        self.to_writer = None;
        match self.writer.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("the ledger writer thread failed")),
            None => Ok(()),
        }
    }
}

/// Field 43 on the network leg as text: GBK decoded where the spec says so.
fn network_name(msg: &Message<'_>) -> Option<String> {
    let f = msg.field(43)?;
    let text = if msg.spec().is_gbk(43) {
        crate::text::decode_gbk(f.data())
    } else {
        f.to_text()
    };
    Some(text.trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_hashes_as_siphash_2_4() {
        // The reference vector of the SipHash paper: key 00..0f, empty message.
        let key = LedgerKey::from_hex("000102030405060708090a0b0c0d0e0f").unwrap();
        assert_eq!(key.hash(b""), 0x726f_db47_dd0e_0e31);
        // Another key, another hash; the hex form is 16 digits.
        let other = LedgerKey::from_hex("0f0e0d0c0b0a09080706050403020100").unwrap();
        assert_ne!(
            key.pan_hash(b"6222021234567890123"),
            other.pan_hash(b"6222021234567890123")
        );
        assert_eq!(key.pan_hash(b"6222021234567890123").len(), 16);
        assert!(LedgerKey::from_hex("00").is_err());
        assert!(LedgerKey::from_hex(&"zz".repeat(16)).is_err());
        assert_eq!(format!("{key:?}"), "LedgerKey(..)");
    }

    #[test]
    fn capture_times_read_back_as_microseconds() {
        assert_eq!(parse_rfc3339_micros("1970-01-01T00:00:00.000000Z"), Some(0));
        let t = Timestamp::new(1_795_397_403, 500_000_000);
        assert_eq!(parse_rfc3339_micros(&t.to_string()), Some(t.micros()));
    }

    /// Rows the writer gives back are filled again: a reused row carries nothing of the
    /// transaction it held before. Even transactions have field 32 and an answer, odd ones
    /// neither; a row reused across the two kinds would show the other's values.
    #[test]
    fn reused_rows_hold_only_their_own_transaction() {
        use crate::{MessageBuilder, Mti, parse, spec::ISO87_ASCII};
        use arrow_array::Array;
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let dir =
            std::env::temp_dir().join(format!("iso8583-ledger-spares-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let key = LedgerKey::from_hex("000102030405060708090a0b0c0d0e0f").unwrap();
        let mut ledger = Ledger::create(&dir, "spares", key).unwrap();
        ledger.batch_rows = 10;
        let flow = Flow {
            client: "10.0.0.1:40000".parse().unwrap(),
            server: "10.0.0.2:8583".parse().unwrap(),
        };
        let (mut index, mut reused) = (0, 0);
        for n in 0..200u32 {
            let at = Some((Timestamp::new(1_795_397_400 + i64::from(n) * 10, 0), flow));
            let mut b = MessageBuilder::new(&ISO87_ASCII, Mti::new(200));
            b.set_text(3, "000000").unwrap();
            b.set_text(4, &format!("{:012}", 100 + n)).unwrap();
            b.set_text(11, &format!("{n:06}")).unwrap();
            b.set_text(41, "10000001").unwrap();
            b.set_text(42, "822440158120001").unwrap();
            if n % 2 == 0 {
                b.set_text(32, "48220000").unwrap();
            }
            let bytes = b.to_vec().unwrap();
            if n == 100 {
                // Rows written by now come back before the next is made.
                let back = ledger.written_rows.recv().unwrap();
                ledger.spare.extend(back);
            }
            let spares = ledger.spare.len();
            ledger.message(index, None, at, &parse(&ISO87_ASCII, &bytes).unwrap());
            reused += usize::from(ledger.spare.len() < spares);
            let request = index;
            index += 1;
            if n % 2 == 0 {
                let mut r = MessageBuilder::new(&ISO87_ASCII, Mti::new(210));
                r.set_text(11, &format!("{n:06}")).unwrap();
                r.set_text(39, "00").unwrap();
                let bytes = r.to_vec().unwrap();
                ledger.message(index, None, at, &parse(&ISO87_ASCII, &bytes).unwrap());
                ledger.link(Link::Answered {
                    request,
                    response: index,
                    latency_ms: 5,
                });
                index += 1;
            }
        }
        ledger.finish().unwrap();
        assert!(reused > 0, "no row was reused");
        let file = File::open(dir.join("transactions").join("spares.parquet")).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        let mut seen = 0;
        for batch in reader {
            let batch = batch.unwrap();
            let text = |name: &str| {
                let c = batch.column_by_name(name).unwrap();
                c.as_any().downcast_ref::<StringArray>().unwrap().clone()
            };
            let (stan, acquirer, code) = (text("stan"), text("acquirer_id"), text("response_code"));
            let latency = batch.column_by_name("latency_ms").unwrap();
            let latency = latency.as_any().downcast_ref::<Int64Array>().unwrap();
            for i in 0..batch.num_rows() {
                let n: u32 = stan.value(i).parse().unwrap();
                assert_eq!(usize::try_from(n).unwrap(), seen, "rows in input order");
                if n % 2 == 0 {
                    assert_eq!(acquirer.value(i), "48220000");
                    assert_eq!(code.value(i), "00");
                    assert_eq!(latency.value(i), 5);
                } else {
                    assert!(acquirer.is_null(i), "row {n}: {:?}", acquirer.value(i));
                    assert!(code.is_null(i) && latency.is_null(i), "row {n}");
                }
                seen += 1;
            }
        }
        assert_eq!(seen, 200);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
