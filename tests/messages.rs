//! Issue 18, items 10–12: errors echo at most ~100 characters of the input, name the real
//! cause, and inputs that were silently accepted are refused or reported.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use alphacl::spec::{MAX_ECHO_CHARS, clip};
use alphacl::train::RunConfig;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_alphacl"))
}

fn loss_stdin(input: &[u8]) -> Output {
    let mut child = bin()
        .args(["loss", "--stdin", "--json", "--loss", "nt-xent:tau=0.5"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn clip_keeps_a_hundred_characters_and_says_how_long_the_input_was() {
    assert_eq!(clip("nt-xent"), "nt-xent");
    let long = "α".repeat(100_000);
    let c = clip(&long);
    assert!(c.starts_with(&"α".repeat(MAX_ECHO_CHARS)));
    assert!(c.ends_with("… (100000 characters)"), "{c}");
    assert_eq!(clip("a\nb\u{1b}c"), "a b c");
}

#[test]
fn a_huge_spec_or_config_is_not_echoed_whole() {
    for text in [
        format!("loss={}", "x".repeat(100_000)),
        format!("loss=nt-xent:tau={}", "9".repeat(100_000)),
        format!("{}=1", "k".repeat(100_000)),
        format!("loss=nt-xent:{}", "tau=0.5,".repeat(20_000)),
    ] {
        let e = RunConfig::parse(&text).unwrap_err().0;
        assert!(e.chars().count() < 400, "{} chars: {}", e.len(), clip(&e));
    }
}

#[test]
fn a_csv_passed_as_config_prints_a_short_error_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("alphacl-msg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("metrics.csv");
    let mut csv = String::from("step,time_s,loss,knn_acc,probe_acc\n");
    for i in 1..5000 {
        csv.push_str(&format!("{i},0.01,4.2,,\n"));
    }
    std::fs::write(&f, &csv).unwrap();
    let o = bin()
        .args(["train", "--quiet", "--config"])
        .arg(&f)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let e = err(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains("metrics.csv"), "{e}");
    assert!(e.chars().count() < 600, "{} chars", e.chars().count());
    let empty = dir.join("empty.txt");
    std::fs::write(&empty, "  \n").unwrap();
    let o = bin()
        .args(["train", "--quiet", "--config"])
        .arg(&empty)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("is empty"), "{}", err(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn huge_scales_are_refused_as_such_not_as_a_divergence() {
    for (text, key) in [
        ("data=gauss:sep=1e308", "'sep'"),
        ("aug=noise:std=1e308", "'std'"),
        ("data=rings:noise=1e300", "'noise'"),
    ] {
        let e = RunConfig::parse(text).unwrap_err().0;
        assert!(e.contains(key) && e.contains("1000000"), "{text}: {e}");
        assert!(!e.contains("learning rate"), "{e}");
    }
}

#[test]
fn csv_fields_are_strict_bom_is_accepted_and_bad_bytes_have_a_position() {
    let rows = "1,0\n0,1\n1,1\n0.5,0\n";
    let o = loss_stdin(format!("\u{feff}{rows}").as_bytes());
    assert!(o.status.success(), "{}", err(&o));
    let o = loss_stdin(b"1,5 2,5\n1,5 2,5\n1,5 2,5\n1,5 2,5\n");
    assert!(err(&o).contains("decimal commas"), "{}", err(&o));
    let o = loss_stdin(b"1,,2\n1,0,2\n1,1,2\n0,1,2\n");
    assert!(err(&o).contains("field 2 is empty"), "{}", err(&o));
    let o = loss_stdin(b"1e-310,0\n0,1\n1,1\n0.5,0\n");
    assert!(
        err(&o).contains("too small") && err(&o).contains("subnormal"),
        "{}",
        err(&o)
    );
    let o = loss_stdin(b"1,0\n0,1\n1,\xff1\n0.5,0\n");
    let e = err(&o);
    assert!(e.contains("line 3, column 3") && e.contains("0xFF"), "{e}");
}

#[test]
fn theory_refuses_a_learning_rate_that_overflows_the_weights() {
    let o = bin()
        .args(["theory", "deep-linear", "--seeds", "1", "--lr", "1e300"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("--lr must be"), "{}", err(&o));
}

#[cfg(feature = "app")]
#[test]
fn autoplay_takes_one_or_zero() {
    use alphacl::app::share::parse_link;
    assert!(parse_link("#autoplay=1").autoplay);
    let p = parse_link("#autoplay=yes");
    assert!(!p.autoplay);
    assert!(
        p.message()
            .unwrap_or_default()
            .contains("autoplay must be 1 or 0")
    );
}

#[cfg(feature = "app")]
#[test]
fn a_link_over_the_browser_budget_is_refused_and_may_not_replace_the_session() {
    use alphacl::app::share::parse_link;
    let p = parse_link("#data=gauss:n=250000,d=2048&batch=64");
    assert!(!p.may_replace_session());
    assert_eq!(p.state.runs, vec![RunConfig::default()]);
    let m = p.message().unwrap_or_default();
    assert!(m.contains("browser") && m.contains("GiB"), "{m}");
    // The 20 GB link of the issue is refused by the parser itself.
    let p = parse_link("#data=gauss:n=1000000,d=4096");
    assert!(!p.may_replace_session());
    assert!(parse_link("#batch=64").may_replace_session());
}
