//! The 15-character UnionPay merchant code (field 42): acquirer institution (3 digits), region
//! (4), MCC (4), serial (4) — e.g. `822 4401 5812 0001`, a restaurant (5812) in Guangzhou (4401)
//! acquired by Lakala (822).
//!
//! The coding is a convention, not a rule: banks issue 12-digit numbers, and some regions carry
//! letters (`887 58D7 5812 3037`). A code that is not 15 characters, or whose acquirer or MCC
//! part is not digits, is reported as such and never guessed at.
//!
//! Acquirer institution codes: the first three digits of bank merchant codes are the banks'
//! CNAPS bank codes (102 ICBC, 103 ABC, 104 BOC, 105 CCB, 301 BoCom, 302 CITIC, 303 CEB, 304 HXB,
//! 305 CMBC, 306 GDB, 307 PAB, 308 CMB, 309 CIB, 310 SPDB); third-party acquirers' prefixes
//! (802/898 China UMS, 822 Lakala, 836 Suixingfu) are as published by merchant-code lookup
//! guides (bitekeji.cn, lyuepay.com, yrpos.com). Unknown prefixes decode; only their name is
//! missing.

use std::fmt;

/// Known acquirer institution codes and names.
pub static ACQUIRERS: [(&str, &str); 18] = [
    ("102", "Industrial and Commercial Bank of China"),
    ("103", "Agricultural Bank of China"),
    ("104", "Bank of China"),
    ("105", "China Construction Bank"),
    ("301", "Bank of Communications"),
    ("302", "China CITIC Bank"),
    ("303", "China Everbright Bank"),
    ("304", "Hua Xia Bank"),
    ("305", "China Minsheng Bank"),
    ("306", "China Guangfa Bank"),
    ("307", "Ping An Bank"),
    ("308", "China Merchants Bank"),
    ("309", "Industrial Bank"),
    ("310", "Shanghai Pudong Development Bank"),
    ("802", "China UMS (银联商务)"),
    ("822", "Lakala (拉卡拉)"),
    ("836", "Suixingfu (随行付)"),
    ("898", "China UMS (银联商务)"),
];

/// The name of an acquirer institution code, if known.
#[must_use]
pub fn acquirer_name(code: &[u8]) -> Option<&'static str> {
    ACQUIRERS
        .iter()
        .find(|(c, _)| c.as_bytes() == code)
        .map(|(_, n)| *n)
}

/// A decoded UnionPay merchant code. Borrows the field's characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MerchantCode<'a> {
    raw: &'a [u8],
}

/// Why a merchant code does not follow the UnionPay coding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum MerchantCodeError {
    /// Not 15 characters (bank numbers are often 12).
    #[error("not a UnionPay merchant code: {0} characters, not 15")]
    Length(usize),
    /// The acquirer part (characters 1-3) is not digits.
    #[error("not a UnionPay merchant code: the acquirer part is not digits")]
    Acquirer,
    /// The MCC part (characters 8-11) is not digits.
    #[error("not a UnionPay merchant code: characters 8-11 are not an MCC")]
    Mcc,
}

impl<'a> MerchantCode<'a> {
    /// Decodes field 42's characters (trailing spaces are not trimmed: a padded code is not
    /// UnionPay-coded).
    pub fn decode(raw: &'a [u8]) -> Result<MerchantCode<'a>, MerchantCodeError> {
        if raw.len() != 15 {
            return Err(MerchantCodeError::Length(raw.len()));
        }
        let digits = |r: std::ops::Range<usize>| {
            raw.get(r).is_some_and(|p| p.iter().all(u8::is_ascii_digit))
        };
        if !digits(0..3) {
            return Err(MerchantCodeError::Acquirer);
        }
        if !digits(7..11) {
            return Err(MerchantCodeError::Mcc);
        }
        Ok(MerchantCode { raw })
    }

    fn part(&self, r: std::ops::Range<usize>) -> &'a [u8] {
        self.raw.get(r).unwrap_or_default()
    }

    /// Characters 1-3: the acquirer institution code.
    #[must_use]
    pub fn acquirer(&self) -> &'a [u8] {
        self.part(0..3)
    }

    /// The acquirer's name, if known.
    #[must_use]
    pub fn acquirer_name(&self) -> Option<&'static str> {
        acquirer_name(self.acquirer())
    }

    /// Characters 4-7: the region code (may carry letters).
    #[must_use]
    pub fn region(&self) -> &'a [u8] {
        self.part(3..7)
    }

    /// Characters 8-11: the MCC.
    #[must_use]
    pub fn mcc(&self) -> u16 {
        self.part(7..11)
            .iter()
            .fold(0u16, |v, d| v * 10 + u16::from(d - b'0'))
    }

    /// Characters 12-15: the serial number.
    #[must_use]
    pub fn serial(&self) -> &'a [u8] {
        self.part(11..15)
    }
}

impl fmt::Debug for MerchantCode<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        f.debug_struct("MerchantCode")
            .field("acquirer", &s(self.acquirer()))
            .field("region", &s(self.region()))
            .field("mcc", &self.mcc())
            .field("serial", &s(self.serial()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_unionpay_codes() {
        let m = MerchantCode::decode(b"822440158120001").unwrap();
        assert_eq!(
            (m.acquirer(), m.region(), m.mcc(), m.serial()),
            (&b"822"[..], &b"4401"[..], 5812, &b"0001"[..])
        );
        assert_eq!(m.acquirer_name(), Some("Lakala (拉卡拉)"));
        let lettered = MerchantCode::decode(b"88758D758123037").unwrap();
        assert_eq!(
            (lettered.region(), lettered.mcc(), lettered.acquirer_name()),
            (&b"58D7"[..], 5812, None)
        );
    }

    #[test]
    fn never_guesses() {
        assert_eq!(
            MerchantCode::decode(b"102100012345"),
            Err(MerchantCodeError::Length(12))
        );
        assert_eq!(
            MerchantCode::decode(b"0800411        "),
            Err(MerchantCodeError::Mcc)
        );
        assert_eq!(
            MerchantCode::decode(b"MERCHANT0000001"),
            Err(MerchantCodeError::Acquirer)
        );
        assert_eq!(
            MerchantCode::decode(b"8224401581200011"),
            Err(MerchantCodeError::Length(16))
        );
    }
}
