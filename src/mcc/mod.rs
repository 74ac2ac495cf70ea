//! Merchant category codes (ISO 18245) and the China fee class of each.
//!
//! ## The code list
//! Codes, descriptions and ISO ranges come from the ISO 18245 official list as published in the
//! Python package `iso18245` 1.4.1 (github.com/jleclanche/python-iso18245), MIT License,
//! Copyright (c) 2020 Jerome Leclanche: "Permission is hereby granted, free of charge, to any
//! person obtaining a copy of this software and associated documentation files (the
//! "Software"), to deal in the Software without restriction [...] The above copyright notice
//! and this permission notice shall be included in all copies or substantial portions of the
//! Software." `scripts/gen_mcc.py` regenerates `iso18245.rs` from it. Codes absent from the list
//! (scheme-specific codes, national codes such as UnionPay's) are still valid four-digit MCCs:
//! [`lookup`] gives their ISO range.
//!
//! ## Fee classes
//! Two regimes of China's bank-card fees:
//! - **before 2016-09-06** (NDRC 发改价格〔2013〕66号): 餐娱类 dining and entertainment 1.25%
//!   (property and car sales capped at 80 yuan), 一般类 general 0.78%, 批发类 wholesale 0.78%
//!   capped at 26 yuan, 民生类 livelihood 0.38%, 公益类 public welfare 0;
//! - **from 2016-09-06** (发改价格〔2016〕557号): 标准类 standard, 优惠类 preferential and
//!   减免类 exempt. The issuer and network fees are capped (0.35% debit / 0.45% credit, 0.065%);
//!   the acquirer's fee is market-priced, so the default rates here (0.60%, 0.38%, 0) are
//!   indicative.
//!
//! Which MCC falls in which class is not published by UnionPay: the default mapping is built
//! from the industry lists of those notices (supermarkets, fuel, utilities and transport are
//! livelihood/preferential; public hospitals and schools are welfare/exempt; restaurants, hotels,
//! entertainment, jewellery, property and cars are dining and entertainment; wholesale codes are
//! wholesale; the rest is general/standard). Every rate, cap and mapping can be replaced from
//! TOML with [`FeeTable::from_toml_str`].

mod iso18245;

use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;

/// A code's entry: description (where the ISO list has one) and ISO group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MccInfo {
    /// The code.
    pub code: u16,
    /// The ISO 18245 description, if the code is on the official list.
    pub description: Option<&'static str>,
    /// The ISO range the code falls in ("Retail outlets", "Service providers" ...).
    pub group: &'static str,
}

/// The entry of `code` (0-9999). No allocation.
#[must_use]
pub fn lookup(code: u16) -> Option<MccInfo> {
    let group = iso18245::RANGES
        .iter()
        .find(|(lo, hi, _)| (*lo..=*hi).contains(&code))?
        .2;
    let description = iso18245::CODES
        .binary_search_by_key(&code, |(c, _)| *c)
        .ok()
        .and_then(|i| iso18245::CODES.get(i))
        .map(|(_, d)| *d);
    Some(MccInfo {
        code,
        description,
        group,
    })
}

/// A fee class before 2016-09-06.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Pre2016 {
    /// 餐娱类: restaurants, hotels, entertainment, jewellery (1.25%).
    Dining,
    /// 餐娱类 with a cap: property and car sales (1.25%, at most 80 yuan).
    PropertyCar,
    /// 一般类: department stores, services and the rest (0.78%).
    General,
    /// 批发类: wholesale (0.78%, at most 26 yuan).
    Wholesale,
    /// 民生类: supermarkets, fuel, utilities, transport (0.38%).
    Livelihood,
    /// 公益类: public hospitals and schools (0).
    Welfare,
}

/// A fee class from 2016-09-06.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Post2016 {
    /// 标准类.
    Standard,
    /// 优惠类: supermarkets, fuel, utilities, transport.
    Preferential,
    /// 减免类: non-profit hospitals, schools, welfare.
    Exempt,
}

impl Pre2016 {
    /// The Chinese name of the class.
    #[must_use]
    pub const fn chinese(self) -> &'static str {
        match self {
            Pre2016::Dining => "餐娱类",
            Pre2016::PropertyCar => "餐娱类(房产汽车)",
            Pre2016::General => "一般类",
            Pre2016::Wholesale => "批发类",
            Pre2016::Livelihood => "民生类",
            Pre2016::Welfare => "公益类",
        }
    }
}

impl Post2016 {
    /// The Chinese name of the class.
    #[must_use]
    pub const fn chinese(self) -> &'static str {
        match self {
            Post2016::Standard => "标准类",
            Post2016::Preferential => "优惠类",
            Post2016::Exempt => "减免类",
        }
    }
}

impl fmt::Display for Pre2016 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.chinese())
    }
}

impl fmt::Display for Post2016 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.chinese())
    }
}

/// A rate: parts per million of the amount, optionally capped (in fen).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    /// Parts per million (1.25% = 12500).
    pub ppm: u32,
    /// The most one transaction pays, in fen.
    #[serde(default)]
    pub cap_fen: Option<u64>,
}

impl Rate {
    /// The fee on `amount` fen, rounded to the nearest fen.
    #[must_use]
    pub fn fee(&self, amount: u64) -> u64 {
        let fee = (u128::from(amount) * u128::from(self.ppm) + 500_000) / 1_000_000;
        let fee = u64::try_from(fee).unwrap_or(u64::MAX);
        self.cap_fen.map_or(fee, |cap| fee.min(cap))
    }
}

/// Default class mapping: (first MCC, last MCC, before 2016, from 2016); the first match wins,
/// codes in no range are general / standard.
static DEFAULT_CLASSES: [(u16, u16, Pre2016, Post2016); 37] = {
    use Post2016::{Exempt, Preferential, Standard};
    use Pre2016::{Dining, Livelihood, PropertyCar, Welfare, Wholesale};
    [
        (1520, 1520, PropertyCar, Standard),
        (4111, 4112, Livelihood, Preferential),
        (4131, 4131, Livelihood, Preferential),
        (4511, 4511, Livelihood, Preferential),
        (4784, 4784, Livelihood, Preferential),
        (4900, 4900, Livelihood, Preferential),
        (5000, 5093, Wholesale, Standard),
        (5094, 5094, Dining, Standard),
        (5095, 5199, Wholesale, Standard),
        (5300, 5300, Livelihood, Preferential),
        (5310, 5310, Livelihood, Preferential),
        (5411, 5411, Livelihood, Preferential),
        (5511, 5511, PropertyCar, Standard),
        (5521, 5521, PropertyCar, Standard),
        (5541, 5542, Livelihood, Preferential),
        (5561, 5561, PropertyCar, Standard),
        (5571, 5571, PropertyCar, Standard),
        (5592, 5592, PropertyCar, Standard),
        (5599, 5599, PropertyCar, Standard),
        (5811, 5814, Dining, Standard),
        (5944, 5944, Dining, Standard),
        (5970, 5971, Dining, Standard),
        (7011, 7011, Dining, Standard),
        (7013, 7013, PropertyCar, Standard),
        (7297, 7298, Dining, Standard),
        (7911, 7911, Dining, Standard),
        (7922, 7922, Dining, Standard),
        (7932, 7933, Dining, Standard),
        (7992, 7997, Dining, Standard),
        (7999, 7999, Dining, Standard),
        (8050, 8050, Welfare, Exempt),
        (8062, 8062, Welfare, Exempt),
        (8211, 8211, Welfare, Exempt),
        (8220, 8220, Welfare, Exempt),
        (8241, 8249, Welfare, Exempt),
        (8299, 8299, Welfare, Exempt),
        (8351, 8398, Welfare, Exempt),
    ]
};

/// The fee classes of `mcc` in the default mapping.
#[must_use]
pub fn default_classes(mcc: u16) -> (Pre2016, Post2016) {
    DEFAULT_CLASSES
        .iter()
        .find(|(lo, hi, _, _)| (*lo..=*hi).contains(&mcc))
        .map_or(
            (Pre2016::General, Post2016::Standard),
            |(_, _, pre, post)| (*pre, *post),
        )
}

/// The default rate of a class before 2016.
#[must_use]
pub const fn default_pre2016_rate(class: Pre2016) -> Rate {
    match class {
        Pre2016::Dining => Rate {
            ppm: 12_500,
            cap_fen: None,
        },
        Pre2016::PropertyCar => Rate {
            ppm: 12_500,
            cap_fen: Some(8_000),
        },
        Pre2016::General => Rate {
            ppm: 7_800,
            cap_fen: None,
        },
        Pre2016::Wholesale => Rate {
            ppm: 7_800,
            cap_fen: Some(2_600),
        },
        Pre2016::Livelihood => Rate {
            ppm: 3_800,
            cap_fen: None,
        },
        Pre2016::Welfare => Rate {
            ppm: 0,
            cap_fen: None,
        },
    }
}

/// The default (indicative) rate of a class from 2016.
#[must_use]
pub const fn default_post2016_rate(class: Post2016) -> Rate {
    match class {
        Post2016::Standard => Rate {
            ppm: 6_000,
            cap_fen: None,
        },
        Post2016::Preferential => Rate {
            ppm: 3_800,
            cap_fen: None,
        },
        Post2016::Exempt => Rate {
            ppm: 0,
            cap_fen: None,
        },
    }
}

/// One MCC's classes and rates in both regimes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Classes {
    /// The class before 2016-09-06.
    pub pre2016: Pre2016,
    /// Its rate.
    pub pre2016_rate: Rate,
    /// The class from 2016-09-06.
    pub post2016: Post2016,
    /// Its rate.
    pub post2016_rate: Rate,
}

/// Fee classes and rates: the defaults, or a user's overrides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeeTable {
    pre2016_rates: HashMap<Pre2016, Rate>,
    post2016_rates: HashMap<Post2016, Rate>,
    overrides: HashMap<u16, (Pre2016, Post2016)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeeFile {
    #[serde(default)]
    pre2016: HashMap<Pre2016, Rate>,
    #[serde(default)]
    post2016: HashMap<Post2016, Rate>,
    #[serde(default)]
    mcc: Vec<MccOverride>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MccOverride {
    code: toml::Spanned<String>,
    pre2016: Pre2016,
    post2016: Post2016,
}

/// Why a fee table could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("fee table: {0}")]
pub struct FeeTableError(String);

impl FeeTable {
    /// The classes and rates of `mcc`. No allocation.
    #[must_use]
    pub fn classes(&self, mcc: u16) -> Classes {
        let (pre, post) = self
            .overrides
            .get(&mcc)
            .copied()
            .unwrap_or_else(|| default_classes(mcc));
        Classes {
            pre2016: pre,
            pre2016_rate: self
                .pre2016_rates
                .get(&pre)
                .copied()
                .unwrap_or(default_pre2016_rate(pre)),
            post2016: post,
            post2016_rate: self
                .post2016_rates
                .get(&post)
                .copied()
                .unwrap_or(default_post2016_rate(post)),
        }
    }

    /// Overrides from TOML: rates by class, and classes by MCC; what is not given keeps its
    /// default.
    ///
    /// ```toml
    /// [pre2016]
    /// dining = { ppm = 12500 }
    /// wholesale = { ppm = 7800, cap_fen = 2600 }
    /// [post2016]
    /// standard = { ppm = 5500 }
    /// [[mcc]]
    /// code = "5399"
    /// pre2016 = "general"
    /// post2016 = "standard"
    /// ```
    pub fn from_toml_str(text: &str) -> Result<FeeTable, FeeTableError> {
        let file: FeeFile = toml::from_str(text).map_err(|e| FeeTableError(e.to_string()))?;
        let mut overrides = HashMap::new();
        for m in file.mcc {
            let code = parse_mcc(m.code.get_ref()).ok_or_else(|| {
                let line = text
                    .get(..m.code.span().start)
                    .map_or(0, |t| t.lines().count());
                FeeTableError(format!(
                    "line {line}, key `code`: {:?} is not a four-digit MCC",
                    m.code.get_ref()
                ))
            })?;
            overrides.insert(code, (m.pre2016, m.post2016));
        }
        Ok(FeeTable {
            pre2016_rates: file.pre2016,
            post2016_rates: file.post2016,
            overrides,
        })
    }
}

/// A four-digit MCC from text.
#[must_use]
pub fn parse_mcc(text: &str) -> Option<u16> {
    let b = text.as_bytes();
    if b.len() != 4 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_list_is_sorted_and_inside_its_ranges() {
        assert!(iso18245::CODES.windows(2).all(|w| w[0].0 < w[1].0));
        for (code, _) in iso18245::CODES {
            assert!(lookup(code).is_some(), "{code}");
        }
        let m = lookup(5812).unwrap();
        assert_eq!(m.description, Some("Eating places and restaurants"));
        assert_eq!(m.group, "Miscellaneous outlets");
        // A national code: no description, still a valid MCC with a group.
        let national = lookup(3301).unwrap();
        assert_eq!(
            (national.description, national.group),
            (None, "Reserved for private use")
        );
        assert!(lookup(10_000).is_none());
    }

    #[test]
    fn default_classes_follow_the_notices() {
        let t = FeeTable::default();
        assert_eq!(t.classes(5812).pre2016, Pre2016::Dining);
        assert_eq!(t.classes(5411).post2016, Post2016::Preferential);
        assert_eq!(t.classes(5331).pre2016, Pre2016::General);
        assert_eq!(t.classes(8062).post2016, Post2016::Exempt);
        assert_eq!(t.classes(5111).pre2016, Pre2016::Wholesale);
        assert_eq!(
            t.classes(5511).pre2016_rate,
            Rate {
                ppm: 12_500,
                cap_fen: Some(8_000)
            }
        );
        // Caps apply: 0.78% of 10,000 yuan is 78 yuan, wholesale pays at most 26.
        assert_eq!(t.classes(5111).pre2016_rate.fee(1_000_000), 2_600);
        assert_eq!(t.classes(5812).pre2016_rate.fee(12_800), 160);
    }

    #[test]
    fn overrides_from_toml() {
        let t = FeeTable::from_toml_str(
            "[post2016]\nstandard = { ppm = 5500 }\n[[mcc]]\ncode = \"5331\"\npre2016 = \"livelihood\"\npost2016 = \"preferential\"\n",
        )
        .unwrap();
        assert_eq!(t.classes(5812).post2016_rate.ppm, 5_500);
        assert_eq!(t.classes(5331).pre2016, Pre2016::Livelihood);
        assert_eq!(
            t.classes(5812).pre2016_rate.ppm,
            12_500,
            "the rest keeps its default"
        );
        let e = FeeTable::from_toml_str(
            "[[mcc]]\ncode = \"58\"\npre2016 = \"dining\"\npost2016 = \"standard\"\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("line 2, key `code`"), "{e}");
        let e = FeeTable::from_toml_str("[pre2016]\nluxury = { ppm = 1 }\n").unwrap_err();
        assert!(e.to_string().contains("luxury"), "{e}");
    }
}
