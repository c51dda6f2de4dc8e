//! Currencies (docs/domain.md#currencies): exchange rates per day and the conversion of
//! amounts into the tenant's reporting currency. A rate is exact (`to` units per `from`
//! unit); the rate of a date is the latest one recorded on or before it.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `rate` units of `to_currency` buy one unit of `from_currency` on `rate_date`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FxRate {
    pub from_currency: String,
    pub to_currency: String,
    pub rate_date: NaiveDate,
    pub rate: Decimal,
}

/// The rate used to convert one currency on one date: the rate and the day it was
/// recorded for (`None` for a currency converted into itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedRate {
    pub from_currency: String,
    pub to_currency: String,
    pub rate: Decimal,
    pub rate_date: Option<NaiveDate>,
}

/// Active ISO 4217 currency codes (sorted), so a typo such as `USS` is refused.
const ISO_4217: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF",
    "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLP", "CNY", "COP", "CRC",
    "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS",
    "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD",
    "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL",
    "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD",
    "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD",
    "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP",
    "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VES",
    "VND", "VUV", "WST", "XAF", "XCD", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWL",
];

/// Whether `text` is an active ISO 4217 code.
pub fn is_currency_code(text: &str) -> bool {
    ISO_4217.binary_search(&text).is_ok()
}

/// The rate converting `from` into `to` on `date`: 1 for the same currency, else the
/// latest direct rate dated on or before `date`; `None` when none is recorded.
pub fn rate_on(rates: &[FxRate], from: &str, to: &str, date: NaiveDate) -> Option<AppliedRate> {
    if from == to {
        return Some(AppliedRate {
            from_currency: from.to_owned(),
            to_currency: to.to_owned(),
            rate: Decimal::ONE,
            rate_date: None,
        });
    }
    rates
        .iter()
        .filter(|rate| rate.from_currency == from && rate.to_currency == to && rate.rate_date <= date)
        .max_by_key(|rate| rate.rate_date)
        .map(|rate| AppliedRate {
            from_currency: rate.from_currency.clone(),
            to_currency: rate.to_currency.clone(),
            rate: rate.rate,
            rate_date: Some(rate.rate_date),
        })
}

/// Checks a rate as a client proposes it (`BAD_USER_INPUT` messages).
pub fn validate_rate(from: &str, to: &str, rate: Decimal) -> Result<(), String> {
    for (field, code) in [("fromCurrency", from), ("toCurrency", to)] {
        if !is_currency_code(code) {
            return Err(format!("{field} `{code}` is not an ISO 4217 code such as USD"));
        }
    }
    if from == to {
        return Err("fromCurrency and toCurrency must differ".to_owned());
    }
    if rate <= Decimal::ZERO {
        return Err(format!("rate must be positive, got {rate}"));
    }
    if rate.scale() > 10 {
        return Err(format!("rate has at most ten decimals, got {rate}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn rate(from: &str, to: &str, date: &str, value: &str) -> FxRate {
        FxRate {
            from_currency: from.to_owned(),
            to_currency: to.to_owned(),
            rate_date: day(date),
            rate: Decimal::from_str(value).unwrap(),
        }
    }

    /// EUR→USD is 1.0850 on 2025-12-31 and 1.0900 on 2026-01-01: on 2026-01-01 the rate
    /// of that day applies, on 2026-01-15 still 1.0900 (the latest before), on 2025-12-31
    /// 1.0850, before any rate none; € 1 234.56 × 1.0900 = $ 1 345.6704 (rounded only
    /// when served: 1 345.67).
    #[test]
    fn the_rate_of_a_date_is_the_latest_on_or_before_it() {
        let rates = [
            rate("EUR", "USD", "2025-12-31", "1.0850"),
            rate("EUR", "USD", "2026-01-01", "1.0900"),
            rate("GBP", "USD", "2026-01-10", "1.2700"),
        ];
        let on = |date: &str| rate_on(&rates, "EUR", "USD", day(date)).map(|applied| applied.rate.to_string());
        assert_eq!(on("2026-01-01").as_deref(), Some("1.0900"));
        assert_eq!(on("2026-01-15").as_deref(), Some("1.0900"));
        assert_eq!(on("2025-12-31").as_deref(), Some("1.0850"));
        assert_eq!(on("2025-12-30"), None);
        assert_eq!(rate_on(&rates, "USD", "EUR", day("2026-01-15")), None, "no inverse is invented");
        let same = rate_on(&rates, "USD", "USD", day("2026-01-15")).unwrap();
        assert_eq!((same.rate, same.rate_date), (Decimal::ONE, None));
        let applied = rate_on(&rates, "EUR", "USD", day("2026-01-15")).unwrap();
        assert_eq!(applied.rate_date, Some(day("2026-01-01")));
        let converted = Decimal::from_str("1234.56").unwrap() * applied.rate;
        assert_eq!(converted.to_string(), "1345.670400");
        assert_eq!(super::super::round_money(converted).to_string(), "1345.67");
    }

    #[test]
    fn rates_are_validated() {
        let one = Decimal::ONE;
        assert!(validate_rate("EUR", "USD", one).is_ok());
        assert!(validate_rate("eur", "USD", one).unwrap_err().contains("fromCurrency"));
        assert!(validate_rate("EUR", "US", one).unwrap_err().contains("toCurrency"));
        assert!(validate_rate("EUR", "XYZ", one).unwrap_err().contains("toCurrency"), "not a code");
        assert!(validate_rate("EUR", "EUR", one).is_err());
        assert!(validate_rate("EUR", "USD", Decimal::ZERO).is_err());
        assert!(validate_rate("EUR", "USD", -one).is_err());
    }
}
