//! Issue 18, acceptance: a seeded fuzz suite over every parser and config path — component
//! specs, config text and JSON (`RunConfig` serde), URL hashes (with `--features app`),
//! weights files, the prepared CIFAR file, official `.bin` batches, the calculator's CSV —
//! and the size budget: random configs near and over the limits are rejected by the parser
//! (before anything is allocated) and an accepted config is within the limit.
//!
//! Every case is a mutation of a valid input drawn from a fixed seed, so a failure reproduces.
//! The default is fast (a few seconds); `scripts/fuzz.sh` runs the same suite for minutes with
//! `ALPHACL_FUZZ_CASES` (cases per test, default 300) and `ALPHACL_FUZZ_SEED`.

use alphacl::rng::Rng;
use alphacl::spec::MAX_ECHO_CHARS;
use alphacl::train::budget::{BROWSER_LIMIT, Budget, HARD_LIMIT, check_budget};
use alphacl::train::{RunConfig, Trainer};

fn cases() -> usize {
    std::env::var("ALPHACL_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

fn rng(test: &str) -> Rng {
    let seed = std::env::var("ALPHACL_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(18);
    Rng::derive(seed, test)
}

/// Characters and fragments that break parsers.
const PIECES: &[&str] = &[
    "=",
    ",",
    ":",
    "&",
    "#",
    "%",
    "%3D",
    "%zz",
    " ",
    "\n",
    "\t",
    "\u{feff}",
    "é",
    "α",
    "\0",
    "-",
    "+",
    ".",
    "e",
    "1e308",
    "1e-310",
    "-0",
    "NaN",
    "inf",
    "-inf",
    "0",
    "1",
    "4096",
    "4097",
    "1000000",
    "18446744073709551616",
    "99999999999999999999",
    "0x10",
    "1_0",
    "true",
    "yes",
    "=,",
    "==",
    ",,",
    "&&",
    "k=",
    "=v",
    "data=",
    "loss=",
    "run2=",
    "batch=",
    "seed=",
];

/// A random mutation of `base`: pieces inserted, bytes deleted or replaced, sometimes repeated
/// to a great length.
fn mutate(base: &str, r: &mut Rng) -> String {
    let mut s: Vec<char> = base.chars().collect();
    for _ in 0..1 + r.below(4) {
        let at = r.below(s.len() + 1);
        match r.below(5) {
            0 | 1 => {
                let p = PIECES[r.below(PIECES.len())];
                s.splice(at..at, p.chars());
            }
            2 if !s.is_empty() => {
                let end = (at + 1 + r.below(4)).min(s.len());
                s.drain(at.min(end)..end);
            }
            3 if at < s.len() => s[at] = char::from(b' ' + r.below(95) as u8),
            _ => {
                if r.below(20) == 0 {
                    let p = PIECES[r.below(PIECES.len())].repeat(2000 + r.below(20_000));
                    s.splice(at..at, p.chars());
                }
            }
        }
    }
    s.into_iter().collect()
}

/// Error messages never echo more than about MAX_ECHO_CHARS of any one input.
fn assert_short(msg: &str, input: &str) {
    let limit = 8 * MAX_ECHO_CHARS + 400;
    assert!(
        msg.chars().count() <= limit || input.chars().count() <= MAX_ECHO_CHARS,
        "a {}-character message for a {}-character input: {}…",
        msg.chars().count(),
        input.chars().count(),
        msg.chars().take(300).collect::<String>()
    );
}

const SPECS: &[(&str, &[&str])] = &[
    (
        "loss",
        &[
            "nt-xent:tau=0.5",
            "infonce:tau=0.5,eps=1",
            "acl-direct:tau=0.5,p=4,eps=0",
            "acl-quadratic:tau=0.5",
            "acl-inverse:tau=0.5,p=2,k=1",
            "triplet:eps=0.1",
            "modified-triplet:c=1",
        ],
    ),
    (
        "data",
        &[
            "gauss:k=6,d=32,n=1024,sep=4,std=1.2",
            "rings:k=3,d=8",
            "spirals:k=3,d=8,noise=0.1,turns=1",
            "tree:depth=2,branch=3,d=16",
            "sparse:d=10",
            "cifar:size=16",
        ],
    ),
    (
        "encoder",
        &[
            "mlp:hidden=64,out=16",
            "deep-linear:L=3,width=8,wnorm=frob",
            "relu2:hidden=10,out=20",
            "cnn:width=32,blocks=4,head=256,out=64",
            "cnn:small,out=64",
        ],
    ),
    (
        "optim",
        &[
            "adam:lr=0.001",
            "sgd:lr=0.1,momentum=0.9,nesterov=1,sched=cosine,warmup=100,total=5000",
        ],
    ),
    ("aug", &["noise:std=0.5", "simclr:crop=0.87,flip=0.5"]),
];

#[test]
fn every_component_spec_and_config_key_survives_mutations() {
    let mut r = rng("specs");
    for _ in 0..cases() {
        let (key, bases) = SPECS[r.below(SPECS.len())];
        let text = mutate(bases[r.below(bases.len())], &mut r);
        let mut cfg = RunConfig::default();
        match cfg.set(key, &text) {
            Ok(()) => {
                // An accepted spec writes a text form that reads back as the same spec.
                let again = RunConfig::parse(&cfg.to_text());
                if let Ok(again) = again {
                    assert_eq!(again, cfg, "{key}={text}");
                }
            }
            Err(e) => assert_short(&e.0, &text),
        }
    }
}

/// A random config text: known keys with mutated values, sometimes unknown or repeated keys.
fn random_config_text(r: &mut Rng) -> String {
    let mut parts = Vec::new();
    for _ in 0..1 + r.below(5) {
        let (key, bases) = SPECS[r.below(SPECS.len())];
        let v = bases[r.below(bases.len())];
        let v = if r.below(3) == 0 {
            mutate(v, r)
        } else {
            v.to_string()
        };
        parts.push(format!("{key}={v}"));
    }
    if r.below(3) == 0 {
        parts.push(format!("batch={}", 1 + r.below(1100)));
    }
    if r.below(4) == 0 {
        parts.push(mutate("seed=1&normalize=1&eval=25", r));
    }
    let text = parts.join("&");
    if r.below(4) == 0 {
        mutate(&text, r)
    } else {
        text
    }
}

#[test]
fn config_text_and_json_never_panic_and_accepted_configs_round_trip() {
    let mut r = rng("configs");
    for _ in 0..cases() {
        let text = random_config_text(&mut r);
        match RunConfig::parse(&text) {
            Ok(cfg) => {
                assert_eq!(
                    RunConfig::parse(&cfg.to_text()).as_ref(),
                    Ok(&cfg),
                    "{text}"
                );
                let json = serde_json::to_string(&cfg).unwrap();
                let back: RunConfig = serde_json::from_str(&json).unwrap();
                assert_eq!(back, cfg);
                assert!(cfg.memory_estimate().total() <= HARD_LIMIT, "{text}");
            }
            Err(e) => assert_short(&e.0, &text),
        }
        // The same text as a JSON string (run.json's "config") gives the same verdict.
        let json = serde_json::to_string(&text).unwrap();
        let via_json: Result<RunConfig, _> = serde_json::from_str(&json);
        assert_eq!(via_json.is_ok(), RunConfig::parse(&text).is_ok(), "{text}");
    }
}

/// A config with sizes drawn log-uniformly up to the parsers' maxima.
fn big_config_text(r: &mut Rng) -> String {
    let mut log = |lo: f64, hi: f64| (lo.ln() + r.uniform() * (hi.ln() - lo.ln())).exp() as usize;
    let n = log(8.0, 1_000_000.0);
    let d = log(1.0, 4096.0);
    let hidden = log(1.0, 4096.0);
    let out = log(1.0, 4096.0);
    let batch = log(2.0, 1024.0).min(n);
    format!(
        "data=gauss:n={n},d={d}&encoder=mlp:hidden={hidden},out={out}&batch={batch}&loss=nt-xent:tau=0.5"
    )
}

#[test]
fn configs_near_and_over_the_memory_limits_are_rejected_by_the_parser() {
    let mut r = rng("budget");
    let (mut over, mut under, mut browser_only) = (0, 0, 0);
    for _ in 0..cases() {
        let text = big_config_text(&mut r);
        let parsed = RunConfig::parse(&text);
        // The estimate is computed from the spec alone, whether or not it parses.
        let mut raw = RunConfig::default();
        let mut fits = true;
        for (k, v) in alphacl::train::config::split_pairs(&text) {
            raw.set(&k, &v).unwrap();
        }
        let est = raw.memory_estimate();
        if est.total() > HARD_LIMIT {
            fits = false;
        }
        match parsed {
            Ok(cfg) => {
                assert!(fits, "{text}: accepted at {}", est.describe());
                under += 1;
                let browser = check_budget(&cfg, Budget::Browser);
                assert_eq!(browser.is_ok(), est.total() <= BROWSER_LIMIT);
                browser_only += usize::from(browser.is_err());
            }
            Err(e) => {
                if !fits {
                    over += 1;
                    assert!(e.0.contains("GiB") && e.0.contains("limit"), "{}", e.0);
                }
            }
        }
    }
    assert!(over > 0 && under > 0, "over {over}, under {under}");
    assert!(
        browser_only > 0,
        "no config between the browser's and the native limit"
    );
}

#[test]
fn accepted_small_configs_build_a_trainer_within_their_estimate() {
    // Trainer construction allocates what the estimate counts: check it on small accepted
    // configs (the estimate must cover the data and the batch it really holds).
    let mut r = rng("build");
    for _ in 0..cases().min(40) {
        let n = 64 + r.below(2000);
        let d = 1 + r.below(200);
        let text = format!(
            "data=gauss:n={n},d={d}&batch={}&encoder=mlp:hidden={},out={}",
            2 + r.below(60),
            1 + r.below(128),
            1 + r.below(64)
        );
        let cfg = RunConfig::parse(&text).unwrap();
        let est = cfg.memory_estimate();
        let t = Trainer::new(cfg).unwrap();
        let data_bytes = 4 * (t.data.x_train.len() + t.data.x_test.len()) as u64;
        assert!(
            est.data >= data_bytes,
            "{text}: {} < {data_bytes}",
            est.data
        );
        let params = 4 * t.encoder.num_params() as u64;
        assert!(est.weights >= params, "{text}");
    }
}

#[test]
fn weights_files_survive_mutations_and_a_refused_file_changes_nothing() {
    let mut r = rng("weights");
    let mut t =
        Trainer::new(RunConfig::parse("batch=16&encoder=mlp:hidden=8,out=4").unwrap()).unwrap();
    t.step().unwrap();
    let good = t.weights_json();
    let before = t.probe_embeddings(8);
    for _ in 0..cases() / 3 {
        let text = mutate(&good, &mut r);
        if let Err(e) = t.load_weights_json(&text) {
            assert_short(&e.to_string(), &text);
            assert_eq!(t.probe_embeddings(8), before);
        } else {
            // A mutation that is still a valid file (e.g. another number): restore the weights.
            t.load_weights_json(&good).unwrap();
        }
    }
}

fn mutate_bytes(base: &[u8], r: &mut Rng) -> Vec<u8> {
    let mut b = base.to_vec();
    for _ in 0..1 + r.below(6) {
        match r.below(4) {
            0 if !b.is_empty() => {
                let i = r.below(b.len());
                b[i] = r.below(256) as u8;
            }
            1 => b.truncate(r.below(b.len() + 1)),
            2 => {
                let i = r.below(b.len() + 1);
                b.splice(i..i, (0..1 + r.below(8)).map(|_| r.below(256) as u8));
            }
            _ if b.len() > 12 => {
                // Header fields: make a count huge.
                let i = 8 + r.below(b.len().min(40) - 8);
                b[i] = 0xFF;
            }
            _ => {}
        }
    }
    b
}

#[test]
fn prepared_files_and_official_batches_survive_byte_mutations() {
    use alphacl::data::cifar;
    let mut r = rng("cifar");
    let p = cifar::Prepared::parse(
        &cifar::official_bin_to_prepared(&[("data_batch_1.bin", &official(6))], 8)
            .and_then(|d| d.to_bytes())
            .unwrap(),
    )
    .unwrap();
    let good = p.to_bytes().unwrap();
    for _ in 0..cases() / 2 {
        let b = mutate_bytes(&good, &mut r);
        if let Err(e) = cifar::parse_prepared(&b) {
            assert!(e.to_string().chars().count() < 600, "{e}");
        }
        let o = mutate_bytes(&official(3), &mut r);
        let _ = cifar::parse_official_bin(&[("data_batch_1.bin", &o)], 8);
    }
}

/// `n` records of an official CIFAR-10 binary batch (label byte + 3072 pixel bytes).
fn official(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| {
            std::iter::once((i % 10) as u8)
                .chain((0..3072).map(move |j| ((i * 31 + j) % 256) as u8))
        })
        .collect()
}

#[test]
fn the_calculator_csv_survives_mutations_in_a_real_process() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut r = rng("csv");
    let base = "1,0.5,-2\n0.25,1,0\n-1,2,0.5\n0,1,1\n";
    for _ in 0..(cases() / 15).max(5) {
        let text = mutate(base, &mut r);
        // anyhow prints a backtrace under RUST_BACKTRACE, which is not part of the message.
        let mut child = Command::new(env!("CARGO_BIN_EXE_alphacl"))
            .env("RUST_BACKTRACE", "0")
            .env_remove("RUST_LIB_BACKTRACE")
            .args(["loss", "--stdin", "--json", "--loss", "nt-xent:tau=0.5"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{:?} for {text:?}: {err}",
            o.status
        );
        if o.status.success() {
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            assert!(v["loss"].is_number() || v["loss"].is_null());
        } else {
            assert!(!err.contains("panicked"), "{err}");
            assert_short(&err, &text);
        }
    }
}

#[cfg(feature = "app")]
#[test]
fn url_hashes_survive_mutations() {
    use alphacl::app::share::parse_link;
    let mut r = rng("links");
    let bases = [
        "#loss=acl-direct:tau=0.5,p=4,eps=0&batch=64&seed=1&autoplay=1",
        "#run2=loss%3Dnt-xent%3Atau%3D0.2&view=compare&hide=data,encoder",
        "#data=cifar:size=16&encoder=cnn:width=32,blocks=4,head=256,out=64&view=alpha",
    ];
    for _ in 0..cases() {
        let text = mutate(bases[r.below(bases.len())], &mut r);
        let p = parse_link(&text);
        if let Some(m) = p.message() {
            assert_short(&m, &text);
        }
        assert!(p.state.runs.len() <= 4, "{text}");
    }
}

#[test]
fn config_file_bytes_survive_mutations_and_a_bad_byte_is_located() {
    let mut r = rng("config-bytes");
    let good = RunConfig::default().to_text().into_bytes();
    for _ in 0..cases() {
        let b = mutate_bytes(&good, &mut r);
        match alphacl::spec::decode_utf8(&b) {
            Ok(text) => {
                if let Err(e) = RunConfig::parse(text) {
                    assert_short(&e.0, text);
                }
            }
            Err(e) => {
                let body = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&b);
                let at = std::str::from_utf8(body).unwrap_err().valid_up_to();
                assert!(
                    e.0.contains(&format!("(byte {at}): byte 0x{:02X}", body[at])),
                    "{e}"
                );
                assert!(e.0.chars().count() < 120, "{e}");
            }
        }
    }
    // Two drops of one batch are refused whatever it holds.
    for _ in 0..cases() / 10 {
        let o = mutate_bytes(&official(2), &mut r);
        if let Ok(p) =
            alphacl::data::cifar::official_bin_to_prepared(&[("data_batch_1.bin", &o)], 8)
        {
            let twice = alphacl::data::cifar::official_bin_to_prepared(
                &[("data_batch_1.bin", &o), ("data_batch_2.bin", &o)],
                8,
            );
            assert!(
                twice.is_err(),
                "{} records read twice",
                p.train_labels.len()
            );
        }
    }
}
