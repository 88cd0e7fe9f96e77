//! Names of parties: debtors by country and type, and the strangers who sometimes pay
//! for them. Invented from small word lists; any likeness to a real firm is chance.

use events::DebtorType;

use crate::rng::Rng;

const NL_SURNAMES: [&str; 16] = [
    "de Vries",
    "Jansen",
    "de Jong",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "van den Berg",
    "van Dijk",
    "Mulder",
    "de Boer",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "Dekker",
];
const DE_SURNAMES: [&str; 12] = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Schulz",
    "Koch",
    "Richter",
];
const BE_SURNAMES: [&str; 12] = [
    "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens", "Wouters",
    "Dubois", "Lambert", "Dupont",
];
const FR_SURNAMES: [&str; 12] = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent",
];

const NL_TRADES: [&str; 10] = [
    "Installatietechniek",
    "Bouw",
    "Transport",
    "Groothandel",
    "Bloemen",
    "Techniek",
    "Advies",
    "Logistiek",
    "Metaalbewerking",
    "Voeding",
];
const DE_TRADES: [&str; 8] = [
    "Logistik",
    "Bau",
    "Maschinenbau",
    "Handel",
    "Elektro",
    "Technik",
    "Holzbau",
    "Druckerei",
];
const FR_TRADES: [&str; 8] = [
    "Transports",
    "Bâtiment",
    "Distribution",
    "Services",
    "Menuiserie",
    "Électricité",
    "Imprimerie",
    "Négoce",
];

const NL_CITIES: [&str; 10] = [
    "Amsterdam",
    "Rotterdam",
    "Utrecht",
    "Eindhoven",
    "Groningen",
    "Tilburg",
    "Almere",
    "Breda",
    "Nijmegen",
    "Zwolle",
];
const DE_CITIES: [&str; 8] = [
    "Berlin",
    "Hamburg",
    "München",
    "Köln",
    "Frankfurt",
    "Düsseldorf",
    "Essen",
    "Bremen",
];
const BE_CITIES: [&str; 6] = [
    "Antwerpen",
    "Gent",
    "Brugge",
    "Leuven",
    "Hasselt",
    "Mechelen",
];
const FR_CITIES: [&str; 6] = ["Lyon", "Lille", "Nantes", "Toulouse", "Rennes", "Bordeaux"];

const TOP_WORDS: [&str; 8] = [
    "Noord", "Delta", "Atlas", "Horizon", "Euro", "Polder", "Rijn", "Kempen",
];

const PAYMENT_AGENTS: [&str; 5] = [
    "Stichting Derdengelden Betalingen",
    "PayFlow Services B.V.",
    "Incasso Partners Derdengelden",
    "Treuhandkonto Zahlungsdienst",
    "Compte de tiers Paiements",
];

fn surnames(country: &str) -> &'static [&'static str] {
    match country {
        "DE" | "AT" => &DE_SURNAMES,
        "BE" => &BE_SURNAMES,
        "FR" | "LU" => &FR_SURNAMES,
        _ => &NL_SURNAMES,
    }
}

fn trades(country: &str) -> &'static [&'static str] {
    match country {
        "DE" | "AT" => &DE_TRADES,
        "FR" | "LU" => &FR_TRADES,
        _ => &NL_TRADES,
    }
}

fn cities(country: &str) -> &'static [&'static str] {
    match country {
        "DE" | "AT" => &DE_CITIES,
        "BE" => &BE_CITIES,
        "FR" | "LU" => &FR_CITIES,
        _ => &NL_CITIES,
    }
}

fn legal_form(country: &str, rng: &mut Rng) -> &'static str {
    match country {
        "DE" => rng.pick(&["GmbH", "GmbH & Co. KG", "KG"]),
        "AT" => "GmbH",
        "BE" => rng.pick(&["BV", "NV", "SRL"]),
        "FR" => rng.pick(&["SARL", "SAS"]),
        "LU" => "S.à r.l.",
        _ => rng.pick(&["B.V.", "B.V.", "V.O.F."]),
    }
}

fn initial(rng: &mut Rng) -> char {
    char::from(b'A' + rng.below(26) as u8)
}

/// A debtor's name.
pub fn debtor_name(country: &str, debtor_type: DebtorType, rng: &mut Rng) -> String {
    match debtor_type {
        DebtorType::Consumer => person_name(country, rng),
        DebtorType::Business => format!(
            "{} {} {}",
            rng.pick(surnames(country)),
            rng.pick(trades(country)),
            legal_form(country, rng)
        ),
        DebtorType::TopCustomer => {
            let word = rng.pick(&TOP_WORDS);
            match country {
                "DE" => format!("{word} {} AG", rng.pick(trades(country))),
                "FR" => format!("Groupe {word} SA"),
                _ => format!("{word} {} Groep N.V.", rng.pick(trades(country))),
            }
        }
        DebtorType::Government => {
            let city = rng.pick(cities(country));
            match country {
                "DE" | "AT" => format!("Stadt {city}"),
                "FR" => format!("Ville de {city}"),
                "BE" => format!("Stad {city}"),
                _ => format!("Gemeente {city}"),
            }
        }
    }
}

/// A private person's name as a bank prints it (`J. de Vries`).
pub fn person_name(country: &str, rng: &mut Rng) -> String {
    format!("{}. {}", initial(rng), rng.pick(surnames(country)))
}

/// Someone who pays on behalf of a debtor: a relative, a payment service or a collecting
/// agent.
pub fn stranger_name(rng: &mut Rng) -> String {
    if rng.bernoulli(0.4) {
        (rng.pick(&PAYMENT_AGENTS)).to_owned()
    } else {
        let country = rng.pick(&["NL", "DE", "BE", "FR"]);
        person_name(country, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_type_and_country() {
        let mut rng = Rng::seed_from(1);
        assert!(debtor_name("NL", DebtorType::Government, &mut rng).starts_with("Gemeente "));
        assert!(debtor_name("DE", DebtorType::Government, &mut rng).starts_with("Stadt "));
        assert!(debtor_name("FR", DebtorType::TopCustomer, &mut rng).starts_with("Groupe "));
        let person = debtor_name("NL", DebtorType::Consumer, &mut rng);
        assert_eq!(person.as_bytes()[1], b'.');
        assert!(!stranger_name(&mut rng).is_empty());
    }
}
