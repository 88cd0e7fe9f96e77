//! Synthetic IBANs with correct ISO 13616 check digits (and the national check digits of
//! Belgium and France), in the layout of each country the simulator uses.

use crate::rng::Rng;

/// Dutch bank codes (the four letters after the check digits).
const NL_BANKS: [&str; 8] = [
    "ABNA", "INGB", "RABO", "SNSB", "TRIO", "KNAB", "BUNQ", "ASNB",
];

/// A random, well-formed IBAN of `country` (`NL`, `DE`, `BE`, `FR`, `LU`, `AT`; any other
/// code gets the Dutch layout under its own country code).
pub fn generate(country: &str, rng: &mut Rng) -> String {
    let bban = match country {
        "DE" => format!("{}{}", digits(rng, 8, true), digits(rng, 10, false)),
        "BE" => {
            let first = rng.below(10_000_000_000);
            let check = match first % 97 {
                0 => 97,
                r => r,
            };
            format!("{first:010}{check:02}")
        }
        "FR" => {
            let bank = 10_000 + rng.below(90_000);
            let branch = rng.below(100_000);
            let account = rng.below(100_000_000_000);
            let key = 97 - (89 * bank + 15 * branch + 3 * account) % 97;
            format!("{bank:05}{branch:05}{account:011}{key:02}")
        }
        "LU" => format!("{}{}", digits(rng, 3, true), digits(rng, 13, false)),
        "AT" => format!("{}{}", digits(rng, 5, true), digits(rng, 11, false)),
        _ => format!("{}{}", rng.pick(&NL_BANKS), digits(rng, 10, true)),
    };
    with_check_digits(country, &bban)
}

/// `country` + check digits + `bban`.
fn with_check_digits(country: &str, bban: &str) -> String {
    let remainder = mod97(bban.chars().chain(country.chars()).chain("00".chars()));
    format!("{country}{:02}{bban}", 98 - remainder)
}

/// Whether `iban` has a valid ISO 13616 checksum (two letters, two digits, up to 30
/// letters or digits; spaces allowed).
pub fn is_valid(iban: &str) -> bool {
    let compact: String = iban.chars().filter(|c| !c.is_whitespace()).collect();
    let b = compact.as_bytes();
    if b.len() < 5 || b.len() > 34 {
        return false;
    }
    if !b[..2].iter().all(u8::is_ascii_uppercase) || !b[2..4].iter().all(u8::is_ascii_digit) {
        return false;
    }
    if !b[4..]
        .iter()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return false;
    }
    mod97(compact[4..].chars().chain(compact[..4].chars())) == 1
}

/// `n` random decimal digits; with `leading_non_zero` the first is 1 to 9.
fn digits(rng: &mut Rng, n: usize, leading_non_zero: bool) -> String {
    let mut s = String::with_capacity(n);
    for i in 0..n {
        let d = if i == 0 && leading_non_zero {
            1 + rng.below(9)
        } else {
            rng.below(10)
        };
        s.push(char::from(b'0' + d as u8));
    }
    s
}

/// Remainder modulo 97, letters counting as two digits (A = 10 .. Z = 35).
fn mod97(chars: impl Iterator<Item = char>) -> u32 {
    chars.fold(0, |acc, c| match c.to_digit(36) {
        Some(v) if v < 10 => (acc * 10 + v) % 97,
        Some(v) => (acc * 100 + v) % 97,
        None => acc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_ibans_validate() {
        // Published example IBANs.
        assert!(is_valid("NL91ABNA0417164300"));
        assert!(is_valid("DE89 3704 0044 0532 0130 00"));
        assert!(is_valid("BE68539007547034"));
        assert!(is_valid("FR1420041010050500013M02606"));
        assert!(!is_valid("NL92ABNA0417164300"));
        assert!(!is_valid("NL91"));
    }

    #[test]
    fn generated_ibans_validate_in_every_country() {
        let mut rng = Rng::seed_from(5);
        for country in ["NL", "DE", "BE", "FR", "LU", "AT"] {
            for _ in 0..200 {
                let iban = generate(country, &mut rng);
                assert!(is_valid(&iban), "{iban}");
                assert!(iban.starts_with(country));
            }
        }
        let mut rng = Rng::seed_from(6);
        assert_eq!(generate("NL", &mut rng).len(), 18);
        assert_eq!(generate("DE", &mut rng).len(), 22);
        assert_eq!(generate("BE", &mut rng).len(), 16);
        assert_eq!(generate("FR", &mut rng).len(), 27);
    }

    #[test]
    fn generated_belgian_and_french_ibans_carry_national_check_digits() {
        let mut rng = Rng::seed_from(9);
        for _ in 0..100 {
            let be = generate("BE", &mut rng);
            let first: u64 = be[4..14].parse().expect("digits");
            let check: u64 = be[14..16].parse().expect("digits");
            assert_eq!(
                if first.is_multiple_of(97) {
                    97
                } else {
                    first % 97
                },
                check
            );

            let fr = generate("FR", &mut rng);
            let bank: u64 = fr[4..9].parse().expect("digits");
            let branch: u64 = fr[9..14].parse().expect("digits");
            let account: u64 = fr[14..25].parse().expect("digits");
            let key: u64 = fr[25..27].parse().expect("digits");
            assert_eq!((89 * bank + 15 * branch + 3 * account + key) % 97, 0);
        }
    }
}
