//! An audit as one self-contained HTML page (feature `html`): styles and the little script
//! inline, charts as inline SVG (plotters), the page from a template (askama,
//! `templates/report.html`). Opening it needs no network. Card numbers appear only masked, as
//! the findings carry them.
//!
//! What the page shows, top to bottom:
//! 1. the summary: messages, transactions, findings by severity, the estimated fee impact, the
//!    capture's time span and legs;
//! 2. the merchants with findings, ranked by estimated fee impact: registered MCC and fee
//!    classes, the MCCs their requests carried, counts by rule, a link to their findings;
//! 3. registered MCC against the MCC on the wire (the picture of 跳码): a request counts under
//!    the MCC its MCC finding names, or under its merchant's registered MCC where it has none;
//! 4. findings over time by rule, and the 吞钱 findings by terminal;
//! 5. the findings table, filtered by rule, severity and merchant in the page, 100 rows a
//!    page; the most serious first (severity, then fee impact, then input order), and at most
//!    [`HtmlOptions::max_findings`] of them, with a note of how many more the NDJSON output has.
//!
//! Every figure the page shows also sits in a `data-value` attribute, so that a script (the
//! browser test) reads the numbers rather than their formatting.
//!
//! ```
//! use iso8583_inspect::audit::Audit;
//! use iso8583_inspect::mcc::FeeTable;
//! use iso8583_inspect::profile::ProfileBook;
//! use iso8583_inspect::report::{HtmlOptions, write_audit_html};
//! use iso8583_inspect::spec::ISO87_ASCII;
//! let book = ProfileBook::from_toml_str("")?;
//! let fees = FeeTable::default();
//! let mut audit = Audit::new(&ISO87_ASCII, &book, &fees);
//! audit.message(b"0800822000000000000004000000000000001123093015000001301", None);
//! audit.finish();
//! let mut page = Vec::new();
//! write_audit_html(&audit, &mut page, &HtmlOptions { title: "Night shift".into(), ..HtmlOptions::default() })?;
//! let page = String::from_utf8(page)?;
//! assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<title>Night shift</title>"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::charts::{self, Matrix, Timeline};
use super::yuan;
use crate::audit::{Audit, MerchantStats, canonical};
use crate::capture::Timestamp;
use crate::finding::{Finding, Rule, Severity};
use askama::Template;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{self, Write};

/// Findings the table shows at most unless told otherwise.
pub const DEFAULT_MAX_FINDINGS: usize = 5_000;

/// How the page is made.
#[derive(Clone, Debug)]
pub struct HtmlOptions {
    /// The page's title.
    pub title: String,
    /// The findings table's rows at most (the most serious first); the rest are counted in a
    /// note. The charts and counts always cover every finding.
    pub max_findings: usize,
}

impl Default for HtmlOptions {
    fn default() -> HtmlOptions {
        HtmlOptions {
            title: "ISO 8583 audit".to_string(),
            max_findings: DEFAULT_MAX_FINDINGS,
        }
    }
}

/// The summary at the top.
struct SummaryView {
    messages: usize,
    unreadable: usize,
    transactions: usize,
    findings: usize,
    /// (severity, count), most serious first, every severity.
    by_severity: Vec<(String, usize)>,
    fee_pre2016_fen: i64,
    fee_post2016_fen: i64,
    fee_pre2016: String,
    fee_post2016: String,
    /// First and last capture time, and the span in words; empty without capture times.
    first: String,
    last: String,
    span: String,
    legs: String,
    events: Vec<String>,
    merchants_flagged: usize,
    merchants_clean: usize,
}

/// One merchant's row.
struct MerchantView {
    rank: usize,
    id: String,
    name: String,
    in_book: bool,
    registered: String,
    class_pre2016: String,
    class_post2016: String,
    transactions: usize,
    /// (MCC, requests, whether it is the registered one).
    cleared: Vec<(String, usize, bool)>,
    rules: Vec<(&'static str, usize)>,
    findings: usize,
    fee_pre2016_fen: i64,
    fee_pre2016: String,
    fee_post2016: String,
}

/// One terminal's 吞钱 counts.
struct TerminalView {
    terminal: String,
    merchant: String,
    total: usize,
    /// Counts in the order of [`Page::swallowed_rules`].
    counts: Vec<usize>,
}

/// One finding's row.
struct FindingView {
    rule: &'static str,
    abuse: &'static str,
    severity: String,
    merchant: String,
    index: usize,
    time: String,
    leg: String,
    mti: String,
    pan: String,
    terminal: String,
    stan: String,
    rrn: String,
    fields: String,
    expected: String,
    observed: String,
    fee_fen: Option<i64>,
    fee: String,
}

#[derive(Template)]
#[template(path = "report.html")]
struct Page<'a> {
    title: &'a str,
    summary: SummaryView,
    merchants: Vec<MerchantView>,
    matrix_svg: String,
    matrix_empty: bool,
    timeline_svg: String,
    swallowed_svg: String,
    swallowed_rules: Vec<&'static str>,
    swallowed: Vec<TerminalView>,
    rows: Vec<FindingView>,
    total_findings: usize,
    not_shown: usize,
    rule_options: Vec<(&'static str, usize)>,
    severity_options: Vec<(String, usize)>,
    merchant_options: Vec<String>,
}

/// A span of time in words: `2 h 05 min`, `3 min 20 s`, `12.5 s`.
fn span_words(first: Timestamp, last: Timestamp) -> String {
    let ms = last.millis().saturating_sub(first.millis()).max(0);
    let s = ms / 1000;
    if s >= 3600 {
        format!("{} h {:02} min", s / 3600, s / 60 % 60)
    } else if s >= 60 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{}.{} s", s, ms % 1000 / 100)
    }
}

/// Whether a rule is about 吞钱 (swallowed money).
fn swallows(rule: Rule) -> bool {
    rule.doc().abuse.contains("吞钱")
}

/// The merchant's MCC findings: one fee impact a message (the first), by merchant.
struct MccMoves {
    /// merchant -> (used MCC -> messages)
    by_merchant: HashMap<String, BTreeMap<String, usize>>,
    /// (registered, used) -> messages
    pairs: BTreeMap<(String, String), usize>,
}

impl MccMoves {
    /// The requests of merchant `id` counted under its registered MCC: those without an MCC
    /// finding.
    fn own(&self, id: &str, stats: &MerchantStats) -> usize {
        let moved: usize = self.by_merchant.get(id).map_or(0, |m| m.values().sum());
        stats.transactions.saturating_sub(moved)
    }
}

/// A finding's estimated fee difference at the pre-2016 rates, fen.
fn fee_fen(f: &Finding) -> Option<i64> {
    f.fee_impact
        .as_ref()
        .and_then(|fi| fi.pre2016.difference_fen)
}

fn mcc_moves(audit: &Audit<'_>) -> MccMoves {
    let book = audit.book();
    let mut seen = HashSet::new();
    let mut moves = MccMoves {
        by_merchant: HashMap::new(),
        pairs: BTreeMap::new(),
    };
    for f in audit.findings() {
        let Some(fi) = &f.fee_impact else {
            continue;
        };
        if !seen.insert(f.message.index) {
            continue;
        }
        let merchant = canonical(book, f.message.merchant.as_deref().unwrap_or("-"));
        *moves
            .by_merchant
            .entry(merchant)
            .or_default()
            .entry(fi.used_mcc.clone())
            .or_default() += 1;
        *moves
            .pairs
            .entry((fi.registered_mcc.clone(), fi.used_mcc.clone()))
            .or_default() += 1;
    }
    moves
}

fn summary(audit: &Audit<'_>) -> SummaryView {
    let found = audit.findings();
    let by_severity = [
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ]
    .iter()
    .map(|s| {
        (
            s.to_string(),
            found.iter().filter(|f| f.severity == *s).count(),
        )
    })
    .collect();
    let merchants = audit.merchants();
    let fee_pre2016_fen = merchants.values().map(|m| m.fee_pre2016_fen).sum();
    let fee_post2016_fen = merchants.values().map(|m| m.fee_post2016_fen).sum();
    let (first, last, span) = match audit.time_span() {
        Some((a, b)) => (a.to_string(), b.to_string(), span_words(a, b)),
        None => Default::default(),
    };
    let legs = audit
        .legs()
        .iter()
        .map(|l| {
            let ports: Vec<String> = l.ports.iter().map(u16::to_string).collect();
            format!(
                "{} (port {}, {})",
                l.leg.name(),
                ports.join(", "),
                l.spec.name
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    SummaryView {
        messages: audit.messages(),
        unreadable: audit.unreadable(),
        transactions: merchants.values().map(|m| m.transactions).sum(),
        findings: found.len(),
        by_severity,
        fee_pre2016_fen,
        fee_post2016_fen,
        fee_pre2016: yuan(fee_pre2016_fen),
        fee_post2016: yuan(fee_post2016_fen),
        first,
        last,
        span,
        legs,
        events: audit
            .events()
            .iter()
            .map(|(k, n)| super::event_words(k, *n))
            .collect(),
        merchants_flagged: merchants.values().filter(|m| !m.by_rule.is_empty()).count(),
        merchants_clean: merchants.values().filter(|m| m.by_rule.is_empty()).count(),
    }
}

fn merchant_views(audit: &Audit<'_>, moves: &MccMoves) -> Vec<MerchantView> {
    let book = audit.book();
    let fees = audit.fees();
    // The text report's order.
    super::flagged_merchants(audit)
        .into_iter()
        .enumerate()
        .map(|(i, (id, stats))| {
            let profile = book.merchant(id.as_bytes());
            let registered = profile.map(|p| format!("{:04}", p.mcc)).unwrap_or_default();
            let classes = profile.map(|p| fees.classes(p.mcc));
            let mut cleared: Vec<(String, usize, bool)> = Vec::new();
            if profile.is_some() {
                cleared.push((registered.clone(), moves.own(id, stats), true));
            }
            for (mcc, n) in moves.by_merchant.get(id.as_str()).into_iter().flatten() {
                cleared.push((mcc.clone(), *n, *mcc == registered));
            }
            cleared.retain(|c| c.1 > 0);
            MerchantView {
                rank: i + 1,
                id: id.clone(),
                name: profile.map(|p| p.name.clone()).unwrap_or_default(),
                in_book: profile.is_some(),
                registered,
                class_pre2016: classes.map(|c| c.pre2016.to_string()).unwrap_or_default(),
                class_post2016: classes.map(|c| c.post2016.to_string()).unwrap_or_default(),
                transactions: stats.transactions,
                cleared,
                rules: stats.by_rule.iter().map(|(r, n)| (r.id(), *n)).collect(),
                findings: stats.by_rule.values().sum(),
                fee_pre2016_fen: stats.fee_pre2016_fen,
                fee_pre2016: yuan(stats.fee_pre2016_fen),
                fee_post2016: yuan(stats.fee_post2016_fen),
            }
        })
        .collect()
}

/// Registered against cleared MCC over every merchant in the book, with fee classes.
fn matrix(audit: &Audit<'_>, moves: &MccMoves) -> Matrix {
    let book = audit.book();
    let fees = audit.fees();
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (id, stats) in audit.merchants() {
        let Some(p) = book.merchant(id.as_bytes()) else {
            continue;
        };
        let own = moves.own(id, stats);
        if own > 0 {
            let mcc = format!("{:04}", p.mcc);
            *counts.entry((mcc.clone(), mcc)).or_default() += own;
        }
    }
    for (pair, n) in &moves.pairs {
        *counts.entry(pair.clone()).or_default() += n;
    }
    let label = |mcc: &str| match crate::mcc::parse_mcc(mcc) {
        Some(code) => format!("{mcc} {}", fees.classes(code).pre2016),
        None => mcc.to_string(),
    };
    let rows: BTreeSet<&String> = counts.keys().map(|(r, _)| r).collect();
    let columns: BTreeSet<&String> = counts.keys().map(|(_, c)| c).collect();
    let rows: Vec<&String> = rows.into_iter().collect();
    let columns: Vec<&String> = columns.into_iter().collect();
    let place = |list: &[&String], v: &String| list.iter().position(|x| *x == v).unwrap_or(0);
    Matrix {
        rows: rows.iter().map(|r| label(r)).collect(),
        columns: columns.iter().map(|c| label(c)).collect(),
        cells: counts
            .iter()
            .map(|((r, c), n)| (place(&rows, r), place(&columns, c), *n, r == c))
            .collect(),
    }
}

/// Findings by rule over the capture's time (or over the input's messages, without times):
/// 24 buckets, the 8 commonest rules and the rest together.
fn timeline(audit: &Audit<'_>) -> Timeline {
    const BUCKETS: usize = 24;
    const RULES: usize = 8;
    let found = audit.findings();
    let timed: Vec<Option<i64>> = found
        .iter()
        .map(|f| {
            f.message
                .time
                .as_deref()
                .and_then(Timestamp::parse_rfc3339)
                .map(Timestamp::millis)
        })
        .collect();
    let by_time = audit.time_span().is_some() && timed.iter().all(Option::is_some);
    let position = |i: usize, f: &Finding| -> i64 {
        if by_time {
            timed.get(i).copied().flatten().unwrap_or(0)
        } else {
            i64::try_from(f.message.index).unwrap_or(i64::MAX)
        }
    };
    let (start, end) = if by_time {
        audit
            .time_span()
            .map_or((0, 1), |(a, b)| (a.millis(), b.millis()))
    } else {
        (0, i64::try_from(audit.messages()).unwrap_or(i64::MAX))
    };
    let width = (end.saturating_sub(start) / BUCKETS as i64 + 1).max(1);
    let bucket = |p: i64| {
        usize::try_from(p.saturating_sub(start).max(0) / width)
            .unwrap_or(0)
            .min(BUCKETS - 1)
    };
    let mut per_rule: BTreeMap<&'static str, Vec<usize>> = BTreeMap::new();
    for (i, f) in found.iter().enumerate() {
        let counts = per_rule
            .entry(f.rule.id())
            .or_insert_with(|| vec![0; BUCKETS]);
        if let Some(c) = counts.get_mut(bucket(position(i, f))) {
            *c += 1;
        }
    }
    let mut series: Vec<(String, Vec<usize>)> = per_rule
        .into_iter()
        .map(|(r, c)| (r.to_string(), c))
        .collect();
    series.sort_by_key(|(r, c)| (std::cmp::Reverse(c.iter().sum::<usize>()), r.clone()));
    if series.len() > RULES + 1 {
        let rest = series.split_off(RULES);
        let mut other = vec![0; BUCKETS];
        for (_, c) in &rest {
            for (o, n) in other.iter_mut().zip(c) {
                *o += n;
            }
        }
        series.push((format!("{} other rules", rest.len()), other));
    }
    let buckets = (0..BUCKETS)
        .map(|b| {
            let at = start.saturating_add(width.saturating_mul(b as i64));
            if by_time {
                let t = Timestamp::new(at.div_euclid(1000), 0).to_string();
                // HH:MM:SS of the bucket's start.
                t.get(11..19).unwrap_or_default().to_string()
            } else {
                at.to_string()
            }
        })
        .collect();
    Timeline {
        axis: if by_time {
            "capture time (UTC), start of each bucket".to_string()
        } else {
            "message index".to_string()
        },
        buckets,
        series,
    }
}

/// The terminals with 吞钱 findings, most first (all of them in the table, the top 25 in
/// the chart), and the rules that counted.
fn swallowed(audit: &Audit<'_>) -> (Vec<&'static str>, Vec<TerminalView>) {
    let book = audit.book();
    let mut rules: BTreeSet<&'static str> = BTreeSet::new();
    let mut by_terminal: BTreeMap<(String, String), BTreeMap<&'static str, usize>> =
        BTreeMap::new();
    for f in audit.findings().iter().filter(|f| swallows(f.rule)) {
        rules.insert(f.rule.id());
        let terminal = f.message.terminal.clone().unwrap_or_else(|| "-".into());
        let merchant = canonical(book, f.message.merchant.as_deref().unwrap_or("-"));
        *by_terminal
            .entry((terminal, merchant))
            .or_default()
            .entry(f.rule.id())
            .or_default() += 1;
    }
    let rules: Vec<&'static str> = rules.into_iter().collect();
    let mut views: Vec<TerminalView> = by_terminal
        .into_iter()
        .map(|((terminal, merchant), counts)| TerminalView {
            terminal,
            merchant,
            total: counts.values().sum(),
            counts: rules
                .iter()
                .map(|r| counts.get(r).copied().unwrap_or(0))
                .collect(),
        })
        .collect();
    views.sort_by_key(|v| (std::cmp::Reverse(v.total), v.terminal.clone()));
    (rules, views)
}

fn finding_view(f: &Finding, book: &crate::profile::ProfileBook) -> FindingView {
    let fee_fen = fee_fen(f);
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    FindingView {
        rule: f.rule.id(),
        abuse: f.rule.doc().abuse,
        severity: f.severity.to_string(),
        merchant: canonical(book, f.message.merchant.as_deref().unwrap_or("-")),
        index: f.message.index,
        time: text(&f.message.time),
        leg: f.message.leg.unwrap_or_default().to_string(),
        mti: f.message.mti.clone(),
        pan: text(&f.message.pan),
        terminal: text(&f.message.terminal),
        stan: text(&f.message.stan),
        rrn: text(&f.message.rrn),
        fields: f
            .fields
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join("+"),
        expected: f.expected.clone(),
        observed: f.observed.clone(),
        fee_fen,
        fee: fee_fen.map(yuan).unwrap_or_default(),
    }
}

/// Writes the audit as one HTML page; see the module docs.
///
/// # Errors
///
/// Where `out` fails, or a chart cannot be drawn.
pub fn write_audit_html(
    audit: &Audit<'_>,
    out: &mut impl Write,
    options: &HtmlOptions,
) -> io::Result<()> {
    let found = audit.findings();
    let moves = mcc_moves(audit);
    let m = matrix(audit, &moves);
    let (swallowed_rules, swallowed) = swallowed(audit);
    let top: Vec<(String, usize)> = swallowed
        .iter()
        .take(25)
        .map(|t| (t.terminal.clone(), t.total))
        .collect();
    // The most serious first, then the largest fee impact, then input order.
    let mut order: Vec<&Finding> = found.iter().collect();
    order.sort_by_key(|f| {
        (
            std::cmp::Reverse(f.severity),
            std::cmp::Reverse(fee_fen(f).unwrap_or(0)),
            f.message.index,
        )
    });
    let book = audit.book();
    let rows: Vec<FindingView> = order
        .iter()
        .take(options.max_findings)
        .map(|f| finding_view(f, book))
        .collect();
    let mut rule_counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut merchant_options: BTreeSet<String> = BTreeSet::new();
    for f in found {
        *rule_counts.entry(f.rule.id()).or_default() += 1;
        merchant_options.insert(canonical(
            book,
            f.message.merchant.as_deref().unwrap_or("-"),
        ));
    }
    let summary = summary(audit);
    // The severities found, most serious first: the summary's counts.
    let severity_options = summary
        .by_severity
        .iter()
        .filter(|(_, n)| *n > 0)
        .cloned()
        .collect();
    let page = Page {
        title: &options.title,
        summary,
        merchants: merchant_views(audit, &moves),
        matrix_empty: m.cells.is_empty(),
        matrix_svg: charts::matrix_svg(&m)?,
        timeline_svg: charts::timeline_svg(&timeline(audit))?,
        swallowed_svg: charts::bars_svg(&top, "吞钱 findings")?,
        swallowed_rules,
        swallowed,
        not_shown: found.len().saturating_sub(rows.len()),
        rows,
        total_findings: found.len(),
        rule_options: rule_counts.into_iter().collect(),
        severity_options,
        merchant_options: merchant_options.into_iter().collect(),
    };
    page.write_into(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_words() {
        let t = |s: i64, ms: u32| Timestamp::new(s, ms * 1_000_000);
        assert_eq!(span_words(t(0, 0), t(12, 500)), "12.5 s");
        assert_eq!(span_words(t(0, 0), t(200, 0)), "3 min 20 s");
        assert_eq!(span_words(t(0, 0), t(7500, 0)), "2 h 05 min");
    }

    #[test]
    fn swallowed_money_rules_are_the_lifecycle_ones() {
        assert!(swallows(Rule::NoResponse));
        assert!(swallows(Rule::ReversalNotForwarded));
        assert!(!swallows(Rule::MccMismatch));
    }
}
