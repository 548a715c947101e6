//! ISO 3166-1 alpha-2 country codes, as iDenfy accepts them (any case on input,
//! upper case once normalised). A leaf: configuration, the iDenfy client and
//! the session all check countries here.

/// Every officially assigned ISO 3166-1 alpha-2 code, sorted.
const CODES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// Every assigned code, sorted (the start form's country list).
pub fn codes() -> impl Iterator<Item = &'static str> {
    CODES.split(' ')
}

/// Upper-cases `code` and returns it when it is an assigned alpha-2 code.
#[must_use]
pub fn normalize(code: &str) -> Option<String> {
    let up = code.trim().to_ascii_uppercase();
    if up.len() == 2 && up.bytes().all(|b| b.is_ascii_uppercase()) && is_assigned(&up) {
        Some(up)
    } else {
        None
    }
}

fn is_assigned(up: &str) -> bool {
    // The list is sorted, two letters and a space per entry: binary search by slot.
    let n = CODES.len().div_ceil(3);
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let c = &CODES[mid * 3..mid * 3 + 2];
        match c.cmp(up) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_sorted_and_well_formed() {
        let v: Vec<&str> = codes().collect();
        assert_eq!(v.len(), 249);
        assert!(v.iter().all(|c| normalize(c).as_deref() == Some(*c)));
        assert!(v.windows(2).all(|w| w[0] < w[1]));
        assert!(v.iter().all(|c| c.len() == 2));
    }

    #[test]
    fn normalizes_known_and_refuses_unknown() {
        assert_eq!(normalize("lt").as_deref(), Some("LT"));
        assert_eq!(normalize(" De ").as_deref(), Some("DE"));
        assert_eq!(normalize("AD").as_deref(), Some("AD"));
        assert_eq!(normalize("ZW").as_deref(), Some("ZW"));
        for bad in ["", "L", "LTU", "XX", "1A", "ŁT", "UK"] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
    }
}
