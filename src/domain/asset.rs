//! Assets' pure rules: ISO 3166-1 country codes, security objectives, and lineage (cycles and
//! the walk through ancestors and descendants).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

pub use entity::values::{AssetKind, AssetStatus, Classification};

/// The ISO 3166-1 alpha-2 codes assigned to countries and territories, sorted.
pub const COUNTRY_CODES: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// Whether `code` is an assigned ISO 3166-1 alpha-2 code (upper case).
pub fn is_country_code(code: &str) -> bool {
    COUNTRY_CODES.binary_search(&code).is_ok()
}

/// An invalid location: its index in the request and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationError {
    pub index: usize,
    pub message: String,
}

/// Checks every code and returns the set, de-duplicated and sorted.
pub fn normalize_locations(codes: &[String]) -> Result<Vec<String>, LocationError> {
    for (index, code) in codes.iter().enumerate() {
        if !is_country_code(code) {
            return Err(LocationError {
                index,
                message: format!(
                    "`{code}` is not an ISO 3166-1 alpha-2 country code (two upper-case letters)"
                ),
            });
        }
    }
    let set: BTreeSet<&String> = codes.iter().collect();
    Ok(set.into_iter().cloned().collect())
}

/// The highest value of a security objective (0 = none … 4 = critical).
pub const MAX_OBJECTIVE: i64 = 4;

/// A security objective as stored, when it is within 0–4.
pub fn objective(value: i64) -> Option<i16> {
    if (0..=MAX_OBJECTIVE).contains(&value) {
        i16::try_from(value).ok()
    } else {
        None
    }
}

/// An organization's lineage: derivation edges `(asset, source)`, "`asset` is derived from
/// `source`".
#[derive(Debug, Default, Clone)]
pub struct Lineage {
    sources: BTreeMap<String, BTreeSet<String>>,
    derived: BTreeMap<String, BTreeSet<String>>,
}

impl Lineage {
    /// The lineage made of `edges` (asset, source).
    pub fn new(edges: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut lineage = Self::default();
        for (asset, source) in edges {
            lineage
                .derived
                .entry(source.clone())
                .or_default()
                .insert(asset.clone());
            lineage.sources.entry(asset).or_default().insert(source);
        }
        lineage
    }

    /// Whether deriving `asset` from `sources` (replacing what it is derived from now) would
    /// close a cycle: `asset` is one of them, or one of them is derived from `asset`,
    /// directly or not. The first such source.
    pub fn cycle_through<'a>(&self, asset: &str, sources: &'a [String]) -> Option<&'a String> {
        let descendants: BTreeSet<String> = self
            .descendants(asset)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        sources
            .iter()
            .find(|s| s.as_str() == asset || descendants.contains(s.as_str()))
    }

    /// Every asset `asset` is derived from, directly (depth 1) or not, each at its shortest depth,
    /// nearest first.
    pub fn ancestors(&self, asset: &str) -> Vec<(String, u32)> {
        walk(&self.sources, asset)
    }

    /// Every asset derived from `asset`, directly (depth 1) or not, each at its shortest depth,
    /// nearest first.
    pub fn descendants(&self, asset: &str) -> Vec<(String, u32)> {
        walk(&self.derived, asset)
    }
}

/// Breadth-first from `start` along `next`: each reached node once, at its shortest depth.
fn walk(next: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Vec<(String, u32)> {
    let mut seen = BTreeSet::from([start.to_owned()]);
    let mut queue = VecDeque::from([(start.to_owned(), 0u32)]);
    let mut reached = Vec::new();
    while let Some((node, depth)) = queue.pop_front() {
        for neighbour in next.get(&node).into_iter().flatten() {
            if seen.insert(neighbour.clone()) {
                reached.push((neighbour.clone(), depth + 1));
                queue.push_back((neighbour.clone(), depth + 1));
            }
        }
    }
    reached
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn country_codes_are_sorted_and_checked() {
        assert!(COUNTRY_CODES.windows(2).all(|w| w[0] < w[1]));
        for (code, ok) in [
            ("US", true),
            ("FR", true),
            ("AX", true),
            ("us", false),
            ("UK", false),
            ("XX", false),
            ("USA", false),
            ("", false),
        ] {
            assert_eq!(is_country_code(code), ok, "{code}");
        }
        assert_eq!(
            normalize_locations(&s(&["US", "FR", "US"])),
            Ok(s(&["FR", "US"]))
        );
        assert_eq!(
            normalize_locations(&s(&["US", "ZZ"])).map_err(|e| e.index),
            Err(1)
        );
    }

    #[test]
    fn objectives_are_zero_to_four() {
        for (value, expected) in [(-1, None), (0, Some(0)), (4, Some(4)), (5, None)] {
            assert_eq!(objective(value), expected, "{value}");
        }
    }

    #[test]
    fn lineage_walks_and_finds_cycles() {
        // endpoint <- model <- dataset; model <- base
        let lineage = Lineage::new([
            ("model".to_owned(), "dataset".to_owned()),
            ("endpoint".to_owned(), "model".to_owned()),
            ("model".to_owned(), "base".to_owned()),
        ]);
        assert_eq!(
            lineage.ancestors("endpoint"),
            vec![
                ("model".to_owned(), 1),
                ("base".to_owned(), 2),
                ("dataset".to_owned(), 2)
            ]
        );
        assert_eq!(
            lineage.descendants("dataset"),
            vec![("model".to_owned(), 1), ("endpoint".to_owned(), 2)]
        );
        let cases: [(&str, &[&str], Option<&str>); 4] = [
            ("dataset", &["endpoint"], Some("endpoint")),
            ("dataset", &["dataset"], Some("dataset")),
            ("endpoint", &["dataset", "base"], None),
            ("other", &["model"], None),
        ];
        for (asset, sources, cycle) in cases {
            let sources = s(sources);
            assert_eq!(
                lineage.cycle_through(asset, &sources).map(String::as_str),
                cycle,
                "{asset}"
            );
        }
    }
}
