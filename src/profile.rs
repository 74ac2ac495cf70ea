//! Merchant profiles: what each merchant registered (MCC, acquirer, terminals, currency,
//! limits), loaded from TOML, looked up in O(1) by merchant ID (field 42) or terminal ID (41).
//!
//! ```toml
//! [[merchant]]
//! id = "822440158120001"       # field 42
//! name = "Golden Dragon Restaurant"
//! mcc = "5812"                 # registered MCC
//! also_allowed_mcc = []        # optional
//! acquirer = "822"             # contracted acquirer institution code, optional
//! acquirer_ids = ["48220000"]  # field 32 values of that acquirer, optional
//! network_ids = []             # its declared field 42 on the network leg, optional
//! terminals = ["10000001", "10000002"]  # field 41
//! currency = "156"             # field 49
//! max_amount = 5000000         # field 4 in minor units, optional
//! min_amount = 1               # optional
//! names = ["金龙酒家"]          # other names field 43 may carry on the network leg, optional
//! region = "5840"              # region code, optional (default: digits 4-7 of the id)
//! non_profit = false           # may use 减免 (non-profit) MCCs, optional
//! transfers = false            # sells transfers or card repayments, optional
//! route_destinations = []      # CUPS header destinations of its network messages, optional
//! route_sources = []           # CUPS header sources, optional
//! receivers = []               # field 100 of its network responses, optional
//! ```
//!
//! A bad file gives an error naming the line and the key.

use crate::mcc::parse_mcc;
use serde::Deserialize;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;
use toml::Spanned;

/// One merchant as registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerchantProfile {
    /// Merchant ID (field 42).
    pub id: String,
    /// Registered name.
    pub name: String,
    /// Registered MCC.
    pub mcc: u16,
    /// Other MCCs the merchant may use (a multi-business merchant).
    pub also_allowed_mcc: Vec<u16>,
    /// Contracted acquirer institution code (the first three characters of a UnionPay
    /// merchant code).
    pub acquirer: Option<String>,
    /// Field 32 values of the contracted acquirer.
    pub acquirer_ids: Vec<String>,
    /// Merchant IDs the acquirer declares for this merchant on the network leg (a local
    /// merchant number mapped to a UnionPay one); a different field 42 there is substitution
    /// only when it is not one of these.
    pub network_ids: Vec<String>,
    /// Terminal IDs (field 41).
    pub terminals: Vec<String>,
    /// Currency (field 49).
    pub currency: String,
    /// Largest amount (field 4, minor units).
    pub max_amount: Option<u64>,
    /// Smallest amount.
    pub min_amount: Option<u64>,
    /// Other names the merchant may carry in field 43 on the network leg (a Chinese
    /// registered name beside `name`, a shop sign).
    pub names: Vec<String>,
    /// Its region code (4 characters, as digits 4-7 of a UnionPay merchant code); when absent,
    /// the region in its own merchant code, if it follows UnionPay coding.
    pub region: Option<String>,
    /// A registered non-profit (a charity, public hospital or school) that may use 减免 codes.
    pub non_profit: bool,
    /// Whether the merchant sells transfers or card repayments (processing code 40 is then
    /// not a disguised transfer).
    pub transfers: bool,
    /// CUPS header destination station IDs its network messages may be sent to; empty: any.
    pub route_destinations: Vec<String>,
    /// CUPS header source station IDs its network messages may come from; empty: any.
    pub route_sources: Vec<String>,
    /// Receiving institutions (field 100 of network responses) that may answer; empty: any.
    pub receivers: Vec<String>,
    /// `name` and `names` normalised ([`crate::text::normalise_name`]), computed at load so
    /// that checking field 43 allocates nothing.
    pub name_keys: Vec<String>,
}

impl MerchantProfile {
    /// Whether the merchant may use `mcc`.
    #[must_use]
    pub fn allows_mcc(&self, mcc: u16) -> bool {
        mcc == self.mcc || self.also_allowed_mcc.contains(&mcc)
    }
}

/// Every merchant, with O(1) lookups.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileBook {
    merchants: Vec<MerchantProfile>,
    by_id: IdMap,
    by_terminal: IdMap,
}

/// Merchant or terminal ID -> merchant, for [`ProfileBook`].
type IdMap = HashMap<Box<[u8]>, usize, BuildHasherDefault<WordHash>>;

/// The hash of the book's tables: eight bytes at a step, then mixed. They are filled from the
/// profile file, never from the traffic, so no input can crowd them; the traffic only looks
/// IDs up, twice a message.
#[derive(Clone, Copy, Default)]
struct WordHash(u64);

impl WordHash {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;

    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(23) ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for WordHash {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.mix(<[u8; 8]>::try_from(w).map_or(0, u64::from_le_bytes));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            for (slot, &b) in last.iter_mut().zip(rest) {
                *slot = b;
            }
            self.mix(u64::from_le_bytes(last));
        }
    }

    fn finish(&self) -> u64 {
        // Every bit of the state reaches the low bits the table picks a bucket with.
        let h = (self.0 ^ (self.0 >> 31)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h ^ (h >> 29)
    }
}

/// Why a profile file could not be loaded: the line and the key at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The file could not be read.
    #[error("cannot read profiles {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// Malformed TOML, a missing or unknown key, a value of the wrong type.
    #[error("profiles: {0}")]
    Syntax(String),
    /// A value that is readable but wrong.
    #[error("profiles: line {line}, key `{key}`: {reason}")]
    Value {
        /// 1-based line.
        line: usize,
        /// The key.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    merchant: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: Spanned<String>,
    name: String,
    mcc: Spanned<String>,
    #[serde(default)]
    also_allowed_mcc: Vec<Spanned<String>>,
    #[serde(default)]
    acquirer: Option<Spanned<String>>,
    #[serde(default)]
    acquirer_ids: Vec<Spanned<String>>,
    #[serde(default)]
    network_ids: Vec<String>,
    terminals: Vec<Spanned<String>>,
    currency: Spanned<String>,
    #[serde(default)]
    max_amount: Option<Spanned<u64>>,
    #[serde(default)]
    min_amount: Option<u64>,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    region: Option<Spanned<String>>,
    #[serde(default)]
    non_profit: bool,
    #[serde(default)]
    transfers: bool,
    #[serde(default)]
    route_destinations: Vec<String>,
    #[serde(default)]
    route_sources: Vec<String>,
    #[serde(default)]
    receivers: Vec<String>,
}

fn line_of(text: &str, at: usize) -> usize {
    text.get(..at).map_or(1, |t| t.matches('\n').count() + 1)
}

impl ProfileBook {
    /// Loads profiles from TOML text.
    pub fn from_toml_str(text: &str) -> Result<ProfileBook, ProfileError> {
        let file: File = toml::from_str(text).map_err(|e| ProfileError::Syntax(e.to_string()))?;
        let err = |at: usize, key: &'static str, reason: String| ProfileError::Value {
            line: line_of(text, at),
            key,
            reason,
        };
        let mcc = |s: &Spanned<String>, key: &'static str| {
            parse_mcc(s.get_ref()).ok_or_else(|| {
                err(
                    s.span().start,
                    key,
                    format!("{:?} is not a four-digit MCC", s.get_ref()),
                )
            })
        };
        let mut book = ProfileBook::default();
        for e in file.merchant {
            let id = e.id.get_ref().clone();
            if id.is_empty() || id.len() > 15 {
                return Err(err(
                    e.id.span().start,
                    "id",
                    format!("{id:?} is not a merchant ID of 1-15 characters"),
                ));
            }
            if book.by_id.contains_key(id.as_bytes()) {
                return Err(err(
                    e.id.span().start,
                    "id",
                    format!("merchant {id} is listed twice"),
                ));
            }
            let registered = mcc(&e.mcc, "mcc")?;
            let also = e
                .also_allowed_mcc
                .iter()
                .map(|m| mcc(m, "also_allowed_mcc"))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(a) = &e.acquirer {
                if a.get_ref().len() != 3 || !a.get_ref().bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err(
                        a.span().start,
                        "acquirer",
                        format!("{:?} is not a three-digit institution code", a.get_ref()),
                    ));
                }
            }
            let c = &e.currency;
            if c.get_ref().len() != 3 {
                return Err(err(
                    c.span().start,
                    "currency",
                    format!("{:?} is not a three-character currency code", c.get_ref()),
                ));
            }
            if let (Some(max), Some(min)) = (&e.max_amount, e.min_amount) {
                if min > *max.get_ref() {
                    return Err(err(
                        max.span().start,
                        "max_amount",
                        format!("{} is below min_amount {min}", max.get_ref()),
                    ));
                }
            }
            if let Some(r) = &e.region {
                if r.get_ref().len() != 4 {
                    return Err(err(
                        r.span().start,
                        "region",
                        format!("{:?} is not a four-character region code", r.get_ref()),
                    ));
                }
            }
            let index = book.merchants.len();
            let mut terminals = Vec::with_capacity(e.terminals.len());
            for t in &e.terminals {
                let tid = t.get_ref().clone();
                if let Some(&other) = book.by_terminal.get(tid.as_bytes()) {
                    let owner = book.merchants.get(other).map_or("", |m| m.id.as_str());
                    return Err(err(
                        t.span().start,
                        "terminals",
                        format!("terminal {tid} is already merchant {owner}'s"),
                    ));
                }
                book.by_terminal.insert(tid.as_bytes().into(), index);
                terminals.push(tid);
            }
            book.by_id.insert(id.as_bytes().into(), index);
            for nid in &e.network_ids {
                book.by_id.entry(nid.as_bytes().into()).or_insert(index);
            }
            let name_keys = std::iter::once(&e.name)
                .chain(&e.names)
                .map(|n| crate::text::normalise_name(n))
                .collect();
            book.merchants.push(MerchantProfile {
                id,
                name_keys,
                name: e.name,
                mcc: registered,
                also_allowed_mcc: also,
                acquirer: e.acquirer.map(Spanned::into_inner),
                acquirer_ids: e
                    .acquirer_ids
                    .into_iter()
                    .map(Spanned::into_inner)
                    .collect(),
                network_ids: e.network_ids,
                terminals,
                currency: e.currency.into_inner(),
                max_amount: e.max_amount.map(Spanned::into_inner),
                min_amount: e.min_amount,
                names: e.names,
                region: e.region.map(Spanned::into_inner),
                non_profit: e.non_profit,
                transfers: e.transfers,
                route_destinations: e.route_destinations,
                route_sources: e.route_sources,
                receivers: e.receivers,
            });
        }
        Ok(book)
    }

    /// Loads a profile file.
    pub fn load(path: impl AsRef<Path>) -> Result<ProfileBook, ProfileError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Io {
            path: path.display().to_string(),
            source,
        })?;
        ProfileBook::from_toml_str(&text)
    }

    /// The merchant with this ID (field 42's characters; trailing spaces are ignored), or with
    /// this declared network ID.
    #[must_use]
    pub fn merchant(&self, id: &[u8]) -> Option<&MerchantProfile> {
        let i = self
            .by_id
            .get(id)
            .or_else(|| self.by_id.get(id.trim_ascii_end()))?;
        self.merchants.get(*i)
    }

    /// The merchant that owns this terminal (field 41's characters).
    #[must_use]
    pub fn terminal_owner(&self, terminal: &[u8]) -> Option<&MerchantProfile> {
        let i = self
            .by_terminal
            .get(terminal)
            .or_else(|| self.by_terminal.get(terminal.trim_ascii_end()))?;
        self.merchants.get(*i)
    }

    /// Every merchant, in file order.
    #[must_use]
    pub fn merchants(&self) -> &[MerchantProfile] {
        &self.merchants
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[merchant]]
id = "822440158120001"
name = "Golden Dragon Restaurant"
mcc = "5812"
also_allowed_mcc = ["5813"]
acquirer = "822"
acquirer_ids = ["48220000"]
terminals = ["10000001", "10000002"]
currency = "156"
max_amount = 5000000
min_amount = 1

[[merchant]]
id = "898310054110007"
name = "Xinhua Supermarket"
mcc = "5411"
terminals = ["20000001"]
currency = "156"
"#;

    #[test]
    fn ids_are_found_by_their_bytes_with_trailing_spaces_and_no_others() {
        // A book of 5,000 merchants whose IDs differ in one digit anywhere: each found, by its
        // own ID and with field 42's trailing spaces, and no near miss found.
        let mut toml = String::new();
        let id = |i: usize| format!("8224401{i:04}{:04}", i * 7 % 10_000);
        for i in 0..5000 {
            toml.push_str(&format!(
                "[[merchant]]\nid = \"{}\"\nname = \"M{i}\"\nmcc = \"5812\"\nterminals = [\"T{i:07}\"]\ncurrency = \"156\"\n",
                id(i)
            ));
        }
        let book = ProfileBook::from_toml_str(&toml).unwrap();
        for i in 0..5000 {
            let m = book.merchant(id(i).as_bytes()).unwrap();
            assert_eq!(m.id, id(i));
            let padded = format!("{:<15}", format!("8224401{i:04}"));
            assert!(book.merchant(padded.as_bytes()).is_none(), "{padded}");
            let terminal = format!("T{i:07}");
            assert_eq!(book.terminal_owner(terminal.as_bytes()).unwrap().id, id(i));
        }
        let short = ProfileBook::from_toml_str(GOOD).unwrap();
        assert!(short.merchant(b"822440158120001").is_some());
        assert!(short.merchant(b"82244015812   ").is_none());
        assert!(short.terminal_owner(b"10000001  ").is_some());
        assert!(short.merchant(b"822440158120001\xff").is_none());
        assert!(short.merchant(b"").is_none());
    }

    #[test]
    fn loads_and_looks_up() {
        let book = ProfileBook::from_toml_str(GOOD).unwrap();
        assert_eq!(book.merchants().len(), 2);
        let m = book.merchant(b"822440158120001").unwrap();
        assert_eq!(
            (m.mcc, m.max_amount, m.acquirer.as_deref()),
            (5812, Some(5_000_000), Some("822"))
        );
        assert!(m.allows_mcc(5813) && !m.allows_mcc(5411));
        assert_eq!(
            book.terminal_owner(b"10000002").unwrap().id,
            "822440158120001"
        );
        assert_eq!(
            book.terminal_owner(b"20000001").unwrap().name,
            "Xinhua Supermarket"
        );
        assert!(book.merchant(b"000000000000000").is_none());
        assert!(
            book.merchant(b"898310054110007")
                .unwrap()
                .acquirer_ids
                .is_empty()
        );
    }

    fn error(text: &str) -> String {
        ProfileBook::from_toml_str(text).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_line_and_key() {
        let e = error(&GOOD.replace("mcc = \"5411\"", "mcc = \"54A1\""));
        assert_eq!(
            e,
            "profiles: line 17, key `mcc`: \"54A1\" is not a four-digit MCC"
        );
        let e = error(&GOOD.replace("terminals = [\"20000001\"]", "terminals = [\"10000001\"]"));
        assert_eq!(
            e,
            "profiles: line 18, key `terminals`: terminal 10000001 is already merchant 822440158120001's"
        );
        let e = error(&GOOD.replace("acquirer = \"822\"", "acquirer = \"82\""));
        assert!(e.starts_with("profiles: line 7, key `acquirer`"), "{e}");
        let e = error(&GOOD.replace("min_amount = 1", "min_amount = 9000000"));
        assert!(e.starts_with("profiles: line 11, key `max_amount`"), "{e}");
        let e = error(&GOOD.replace("898310054110007", "822440158120001"));
        assert!(
            e.contains("line 15, key `id`: merchant 822440158120001 is listed twice"),
            "{e}"
        );
        let e = error(&GOOD.replace("currency = \"156\"\nmax", "curency = \"156\"\nmax"));
        assert!(e.contains("line 10") && e.contains("curency"), "{e}");
        let e =
            error("[[merchant]]\nid = \"1\"\nname = \"x\"\nmcc = \"5812\"\ncurrency = \"156\"\n");
        assert!(e.contains("terminals"), "{e}");
    }
}
