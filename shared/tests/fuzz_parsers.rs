//! The fuzz targets (`ringhook::fuzzing`, also run by `cargo +nightly fuzz run <target>` from
//! `fuzz/`) on stable: many inputs from a seeded RNG — the repository's own example triggers,
//! events and payloads, mutated byte by byte and spliced together, plus purely random bytes —
//! each fed to every target, which must not panic. Deterministic: a failure names the seed and
//! iteration to replay (`FUZZ_SEED`, `FUZZ_ITERS` change them).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use ringhook::fuzzing::TARGETS;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn corpus() -> Vec<Vec<u8>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out: Vec<Vec<u8>> = Vec::new();
    fn walk(dir: &Path, out: &mut Vec<Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "json")
                || p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("seed-"))
            {
                if let Ok(b) = std::fs::read(&p) {
                    out.push(b);
                }
            }
        }
    }
    walk(&root.join("events"), &mut out);
    walk(&root.join("fuzz/corpus"), &mut out);
    // Hand-written seeds for the shapes the examples lack.
    for s in [
        r#"{"name":"n","eventType":"agent.wrap","conditions":[{"reference":"a.b.0","operator":"in","value":"1, 2,x"}],"actions":[{"action":"webhook","parameters":{"url":"https://example.com/x"}}]}"#,
        r#"{"events":[{"type":"agent.wrap","payload":{"a":1}},{"type":"a.b","payload":{},"id":"x","time":"2024-10-16T15:47:15Z"}]}"#,
        "Authorization=Bearer x\nX-Id={id}\n\nbad line",
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v2,abc v1,",
        "Wed, 21 Oct 2015 07:28:00 GMT",
        "120",
        "lead.totalAttempts\n3\u{ff}{\"lead\":{\"totalAttempts\":\"10\"}}",
    ] {
        out.push(s.as_bytes().to_vec());
    }
    out
}

const INTERESTING: &[&[u8]] = &[
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b".",
    b"=",
    b"\n",
    b"\xff",
    b"\x00",
    b"null",
    b"true",
    b"-1",
    b"1e999",
    b"18446744073709551616",
    b"0.0",
    b"\"\\u0000\"",
    b"\xc3\xa9",
    b"\xe2\x98\x8e",
    b"in",
    b">=",
    b"v1,",
    b"whsec_",
    b"{id}",
];

fn mutate(rng: &mut StdRng, corpus: &[Vec<u8>], input: &mut Vec<u8>) {
    for _ in 0..rng.gen_range(1..=8) {
        let len = input.len();
        match rng.gen_range(0..7) {
            0 if len > 0 => {
                let i = rng.gen_range(0..len);
                input[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.gen_range(0..len);
                input[i] = rng.gen();
            }
            2 => {
                let i = rng.gen_range(0..=len);
                let tok = INTERESTING[rng.gen_range(0..INTERESTING.len())];
                input.splice(i..i, tok.iter().copied());
            }
            3 if len > 0 => {
                let a = rng.gen_range(0..len);
                let b = (a + rng.gen_range(0..=16)).min(len);
                input.drain(a..b);
            }
            4 if len > 0 => {
                // Duplicate a slice (deep nesting, repeated keys).
                let a = rng.gen_range(0..len);
                let b = (a + rng.gen_range(1..=64)).min(len);
                let chunk: Vec<u8> = input[a..b].to_vec();
                input.splice(b..b, chunk);
            }
            5 => {
                // Splice in part of another corpus entry.
                let other = &corpus[rng.gen_range(0..corpus.len())];
                if !other.is_empty() {
                    let a = rng.gen_range(0..other.len());
                    let b = (a + rng.gen_range(1..=128)).min(other.len());
                    let i = rng.gen_range(0..=len);
                    input.splice(i..i, other[a..b].iter().copied());
                }
            }
            _ => input.truncate(rng.gen_range(0..=len)),
        }
    }
    input.truncate(64 * 1024);
}

#[test]
fn fuzz_targets_never_panic_on_mutated_and_random_inputs() {
    let seed: u64 = std::env::var("FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5EED_2024);
    let iters: usize = std::env::var("FUZZ_ITERS").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let corpus = corpus();
    assert!(corpus.len() >= 20, "the examples in events/ are the seed corpus ({} found)", corpus.len());
    let mut rng = StdRng::seed_from_u64(seed);
    // The seeds themselves, then mutations and random bytes.
    let mut inputs: Vec<Vec<u8>> = corpus.clone();
    for i in 0..iters {
        let input = if i % 10 == 9 {
            let n = rng.gen_range(0..512);
            (0..n).map(|_| rng.gen()).collect()
        } else {
            let mut input = corpus[rng.gen_range(0..corpus.len())].clone();
            mutate(&mut rng, &corpus, &mut input);
            if rng.gen_bool(0.2) {
                // Two parts for the targets that split at 0xFF.
                input.push(0xFF);
                input.extend_from_slice(&corpus[rng.gen_range(0..corpus.len())]);
            }
            input
        };
        inputs.push(input);
    }
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failures = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        for (name, target) in TARGETS {
            if catch_unwind(AssertUnwindSafe(|| target(input))).is_err() {
                failures.push(format!("{name}: input {i} (seed {seed}): {:?}", String::from_utf8_lossy(input)));
            }
        }
    }
    std::panic::set_hook(quiet);
    assert!(failures.is_empty(), "{} panics:\n{}", failures.len(), failures.join("\n"));
    eprintln!("{} inputs × {} targets, no panic", inputs.len(), TARGETS.len());
}

#[test]
fn deep_nesting_and_huge_numbers_do_not_crash_the_parsers() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_obj = format!("{}1{}", "{\"a\":".repeat(2_000), "}".repeat(2_000));
    let cases: Vec<Vec<u8>> = vec![
        deep.into_bytes(),
        deep_obj.clone().into_bytes(),
        format!("a.a.a.a.a\n1\u{ff}{deep_obj}").into_bytes(),
        br#"{"name":"x","eventType":"a.b","conditions":[{"reference":"n","operator":">","value":"1e400"}],"actions":[{"action":"lead.update.list","parameters":{"listId":1e400}}]}"#.to_vec(),
        b"n\nNaN\xff{\"n\": 1e308}".to_vec(),
        b"n\n-0\xff{\"n\": -0.0}".to_vec(),
        "X=\u{0}\nY=\u{7f}\n=v\n:=x".as_bytes().to_vec(),
        "99999999999999999999999999999".as_bytes().to_vec(),
    ];
    for c in &cases {
        for (_, target) in TARGETS {
            target(c);
        }
    }
}
