//! Subjects and partitioning: a debtor always lands on the same partition, in range, and
//! every subject has the shape its wildcard expects.

use events::subjects::{DEFAULT_PARTITIONS, DEFAULT_PREFIX, UNROUTED};
use events::*;
use proptest::prelude::*;

/// FNV-1a 64, written out from the specification (offset basis, prime) as a reference.
fn fnv1a_64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 14_695_981_039_346_656_037;
    const PRIME: u64 = 1_099_511_628_211;
    bytes
        .iter()
        .fold(OFFSET_BASIS, |h, b| (h ^ u64::from(*b)).wrapping_mul(PRIME))
}

/// NATS subject matching: `*` is one token, `>` one or more trailing tokens.
fn nats_matches(pattern: &str, subject: &str) -> bool {
    let mut subject = subject.split('.');
    for token in pattern.split('.') {
        match (token, subject.next()) {
            (">", Some(_)) => return true,
            ("*", Some(_)) => {}
            (t, Some(s)) if t == s => {}
            _ => return false,
        }
    }
    subject.next().is_none()
}

fn is_plain_token(token: &str) -> bool {
    !token.is_empty()
        && !token.contains(['*', '>', '.'])
        && !token.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[test]
fn the_reference_hash_matches_published_fnv1a_vectors() {
    assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
}

#[test]
fn partitions_are_fixed_values_that_other_languages_can_reproduce() {
    // Golden values: a change here moves debtors between partitions, which breaks running
    // consumers and every producer that computes the partition itself.
    assert_eq!(fnv1a_64(b"D000042"), 0xbef3_9548_5a8e_3865);
    assert_eq!(partition_of("D000042", 16), 5);
    assert_eq!(
        partition_of("D000042", 7),
        (0xbef3_9548_5a8e_3865_u64 % 7) as u32
    );
    assert_eq!(
        partition_of("", 16),
        (0xcbf2_9ce4_8422_2325_u64 % 16) as u32
    );
    // The id's UTF-8 bytes are hashed, not its characters.
    assert_eq!(
        partition_of("Müller", 1000),
        (fnv1a_64("Müller".as_bytes()) % 1000) as u32
    );
}

#[test]
fn zero_partitions_means_one() {
    assert_eq!(partition_of("D000042", 0), 0);
    assert_eq!(Subjects::new("cs", 0).partitions(), 1);
}

#[test]
fn debtors_spread_evenly_over_the_partitions() {
    let n = DEFAULT_PARTITIONS;
    let mut counts = vec![0_u32; n as usize];
    for i in 0..16_000 {
        counts[partition_of(&format!("D{i:06}"), n) as usize] += 1;
    }
    // 1000 expected per partition; allow ±15 %.
    for (p, c) in counts.iter().enumerate() {
        assert!((850..=1150).contains(c), "partition {p} holds {c}");
    }
}

proptest! {
    #[test]
    fn partition_is_the_reference_hash_modulo_the_count(
        id in any::<String>(),
        partitions in 1_u32..=4096,
    ) {
        let p = partition_of(&id, partitions);
        prop_assert!(p < partitions);
        prop_assert_eq!(u64::from(p), fnv1a_64(id.as_bytes()) % u64::from(partitions));
        prop_assert_eq!(p, partition_of(&id.clone(), partitions));
    }

    #[test]
    fn every_input_subject_has_the_wildcard_shape(
        id in proptest::option::of(any::<String>()),
        partitions in 1_u32..=256,
        kind in proptest::sample::select(EventKind::ALL.to_vec()),
    ) {
        let s = Subjects::new(DEFAULT_PREFIX, partitions);
        let subject = s.input(id.as_deref(), kind);
        let tokens: Vec<&str> = subject.split('.').collect();
        prop_assert_eq!(tokens.len(), 4, "{}", subject);
        prop_assert!(tokens.iter().all(|t| is_plain_token(t)), "{}", subject);
        prop_assert_eq!(tokens[0], DEFAULT_PREFIX);
        prop_assert_eq!(tokens[1], "in");
        prop_assert_eq!(tokens[3], kind.as_str());
        prop_assert!(nats_matches(&s.input_wildcard(), &subject));
        prop_assert!(nats_matches("creditstream.in.*.*", &subject));
        prop_assert!(!nats_matches(&s.output_wildcard(), &subject));
        prop_assert!(!nats_matches(&s.dead_letter_wildcard(), &subject));
        match id {
            Some(id) => {
                let p = partition_of(&id, partitions);
                prop_assert_eq!(tokens[2], p.to_string());
                prop_assert!(nats_matches(&s.input_partition_wildcard(p), &subject));
                let other = (p + 1) % partitions;
                if other != p {
                    prop_assert!(!nats_matches(&s.input_partition_wildcard(other), &subject));
                }
            }
            None => {
                prop_assert_eq!(tokens[2], UNROUTED);
                for p in 0..partitions {
                    prop_assert!(!nats_matches(&s.input_partition_wildcard(p), &subject));
                }
            }
        }
    }

    #[test]
    fn every_output_subject_has_the_wildcard_shape(
        id in proptest::option::of(any::<String>()),
        partitions in 1_u32..=256,
        family in proptest::sample::select(OutputFamily::ALL.to_vec()),
    ) {
        let s = Subjects::new(DEFAULT_PREFIX, partitions);
        let subject = s.output(family, id.as_deref());
        let tokens: Vec<&str> = subject.split('.').collect();
        prop_assert_eq!(tokens.len(), 4, "{}", subject);
        prop_assert!(tokens.iter().all(|t| is_plain_token(t)), "{}", subject);
        prop_assert_eq!(tokens[1], "out");
        prop_assert_eq!(tokens[2], family.as_str());
        let expected = id.map_or(UNROUTED.to_owned(), |d| partition_of(&d, partitions).to_string());
        prop_assert_eq!(tokens[3], expected);
        prop_assert!(nats_matches(&s.output_wildcard(), &subject));
        prop_assert!(!nats_matches(&s.input_wildcard(), &subject));
    }
}

#[test]
fn an_input_goes_to_the_partition_of_its_debtor() {
    let s = Subjects::default();
    for kind in EventKind::ALL {
        let example = crate::examples::full(kind);
        let subject = s.input(example.event.debtor_id(), kind);
        let expected = match example.event.debtor_id() {
            Some(d) => format!("creditstream.in.{}.{}", partition_of(d, 16), kind.as_str()),
            None => format!("creditstream.in.unrouted.{}", kind.as_str()),
        };
        assert_eq!(subject, expected);
    }
    assert_eq!(
        s.input(Some("D000042"), EventKind::InvoiceIssued),
        "creditstream.in.5.invoice_issued"
    );
}

#[test]
fn dead_letters_have_one_subject_per_reason() {
    let s = Subjects::default();
    for reason in DeadLetterReason::ALL {
        let subject = s.dead_letter(reason);
        assert_eq!(
            subject,
            format!("creditstream.deadletter.{}", reason.as_str())
        );
        assert!(subject.split('.').all(is_plain_token));
        assert!(nats_matches(&s.dead_letter_wildcard(), &subject));
        assert!(!nats_matches(&s.input_wildcard(), &subject));
    }
}

#[test]
fn streams_are_named_after_the_prefix_and_do_not_overlap() {
    let s = Subjects::default();
    assert_eq!(s.input_stream(), "CREDITSTREAM_IN");
    assert_eq!(s.output_stream(), "CREDITSTREAM_OUT");
    assert_eq!(s.dead_letter_stream(), "CREDITSTREAM_DLQ");
    let wildcards = [
        s.input_wildcard(),
        s.output_wildcard(),
        s.dead_letter_wildcard(),
    ];
    assert_eq!(
        wildcards,
        [
            "creditstream.in.>",
            "creditstream.out.>",
            "creditstream.deadletter.>"
        ]
    );
    assert_eq!(s.input_partition_wildcard(3), "creditstream.in.3.>");
    // JetStream refuses streams whose subjects overlap: each wildcard matches only its own.
    for (i, a) in wildcards.iter().enumerate() {
        let sample = a.replace('>', "x");
        for (j, b) in wildcards.iter().enumerate() {
            assert_eq!(nats_matches(b, &sample), i == j, "{b} vs {sample}");
        }
    }
}

#[test]
fn the_dead_letter_headers_are_the_documented_names() {
    use events::subjects::*;
    assert_eq!(HEADER_DLQ_REASON, "Creditstream-Dead-Letter-Reason");
    assert_eq!(HEADER_DLQ_DETAIL, "Creditstream-Dead-Letter-Detail");
    assert_eq!(HEADER_DLQ_SUBJECT, "Creditstream-Original-Subject");
    assert_eq!(HEADER_DLQ_SEQUENCE, "Creditstream-Original-Sequence");
}
