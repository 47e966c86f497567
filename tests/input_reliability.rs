//! Issue 18, remaining items: the same official CIFAR batch given twice is refused by content,
//! non-UTF-8 config files are refused with the position of the first bad byte (a UTF-8 BOM is
//! accepted), and loss hyper-parameters are typed and checked once.

use std::process::{Command, Output};

use alphacl::data::cifar::{self, OFFICIAL_RECORD};
use alphacl::loss::{LossParamError, LossParams, LossSpec, Rule};
use alphacl::train::{RunConfig, Trainer};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_alphacl"));
    c.env("RUST_BACKTRACE", "0");
    c
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// An official record with label `y` whose pixels depend on `id`.
fn record(y: u8, id: usize) -> Vec<u8> {
    let mut r = vec![y];
    r.extend((0..OFFICIAL_RECORD - 1).map(|i| ((i * 7 + id * 13) % 251) as u8));
    r
}

fn batch(ids: std::ops::Range<usize>) -> Vec<u8> {
    ids.flat_map(|i| record((i % 10) as u8, i)).collect()
}

fn official_err(files: &[(&str, &[u8])]) -> String {
    match cifar::official_bin_to_prepared(files, 8) {
        Err(e) => e.to_string(),
        Ok(p) => panic!(
            "accepted: {} train + {} test records",
            p.train_labels.len(),
            p.test_labels.len()
        ),
    }
}

#[test]
fn the_same_official_batch_twice_is_refused_naming_the_file() {
    let b1 = batch(0..5);
    let b2 = batch(5..10);
    // Dropped twice under the same name (two drops of one file) …
    let e = official_err(&[("data_batch_1.bin", &b1), ("data_batch_1.bin", &b1)]);
    assert!(e.contains("data_batch_1.bin") && e.contains("twice"), "{e}");
    // … or a renamed copy: refused by content, naming both files.
    let e = official_err(&[
        ("data_batch_1.bin", &b1),
        ("data_batch_2.bin", &b2),
        ("copy/data_batch_3.bin", &b1),
    ]);
    assert!(
        e.contains("data_batch_3.bin") && e.contains("data_batch_1.bin") && e.contains("same"),
        "{e}"
    );
    // A test batch that repeats a training batch would score the encoder on its training data.
    let e = official_err(&[("data_batch_1.bin", &b1), ("test_batch.bin", &b1)]);
    assert!(
        e.contains("test_batch.bin") && e.contains("data_batch_1.bin"),
        "{e}"
    );
    // Different batches are fine, and every record is kept once.
    let p =
        cifar::official_bin_to_prepared(&[("data_batch_1.bin", &b1), ("data_batch_2.bin", &b2)], 8)
            .unwrap();
    assert_eq!(p.train_labels.len() + p.test_labels.len(), 10);
}

fn write_config(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("alphacl-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join(name);
    std::fs::write(&f, bytes).unwrap();
    f
}

fn train_config(f: &std::path::Path) -> Output {
    bin()
        .args(["train", "--quiet", "--steps", "0", "--config"])
        .arg(f)
        .output()
        .unwrap()
}

#[test]
fn a_config_file_that_is_not_utf8_names_the_first_bad_byte() {
    // Latin-1 'é' (0xE9) in the second line, at byte 17.
    let f = write_config("latin1.txt", b"batch=32&seed=2\nl\xE9oss=nt-xent\n");
    let o = train_config(&f);
    let e = err(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains("latin1.txt"), "{e}");
    assert!(
        e.contains("byte 17") && e.contains("line 2, column 2") && e.contains("0xE9"),
        "{e}"
    );
    // The same in the JSON form.
    let f = write_config("bad.json", b"{\"config\": \"batch=32\xFF\"}");
    let e = err(&train_config(&f));
    assert!(e.contains("byte 20") && e.contains("0xFF"), "{e}");
    // The library form of the rule, for every reader of user text.
    let e = alphacl::spec::decode_utf8(b"ab\ncd\x80").unwrap_err();
    assert!(e.0.contains("line 2, column 3 (byte 5)"), "{e}");
}

#[test]
fn a_config_file_with_a_utf8_bom_is_read() {
    let dir_out = std::env::temp_dir().join(format!("alphacl-input-bom-{}", std::process::id()));
    let f = write_config("bom.txt", "\u{feff}data=gauss:n=64&batch=16\n".as_bytes());
    let o = bin()
        .args(["train", "--quiet", "--steps", "1", "--force", "--out"])
        .arg(&dir_out)
        .arg("--config")
        .arg(&f)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", err(&o));
    let _ = std::fs::remove_dir_all(&dir_out);
    assert_eq!(
        alphacl::spec::decode_utf8("\u{feff}batch=8".as_bytes()).unwrap(),
        "batch=8"
    );
}

#[test]
fn the_trainer_uses_the_typed_loss_it_checked_once() {
    let cfg =
        RunConfig::parse("data=gauss:n=64&batch=16&loss=acl-direct:tau=0.3,p=3,eps=0").unwrap();
    let mut t = Trainer::new(cfg).unwrap();
    t.step().unwrap();
    // A hand-built spec outside its range is refused by the check and changes nothing.
    let mut bad = LossSpec::parse("infonce").unwrap();
    bad.values[0] = -1.0;
    assert!(matches!(
        bad.check(),
        Err(LossParamError::OutOfRange { key: "tau", .. })
    ));
    t.set_loss(bad);
    assert_eq!(t.config.loss.to_text(), "acl-direct:tau=0.3,p=3,eps=0");
    t.step().unwrap();
    // The same spec text always gives the same typed parameters.
    let v = t.config.loss.check().unwrap();
    assert_eq!(
        v.params(),
        LossParams::MinPlayer {
            rule: Rule::Direct { tau: 0.3, p: 3.0 },
            eps: 0.0
        }
    );
}
