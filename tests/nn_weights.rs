//! Saving and loading encoder weights (`weights.json`): a round trip reproduces the exporter's
//! embeddings and next loss bit for bit for every encoder kind; every bad file is refused with
//! a message naming the problem and leaves the trainer untouched; the CLI writes and reads the
//! same files.

use std::path::PathBuf;
use std::process::Command;

use alphacl::data::Dataset;
use alphacl::nn::{Optimizer, WeightsError, WeightsFile};
use alphacl::rng::Rng;
use alphacl::train::{RunConfig, TrainError, Trainer};
use ndarray::Array2;

const GAUSS: &str = "data=gauss:k=4,d=8,n=256&batch=16&eval=1000&seed=3";

/// A tiny image set: 48 training and 16 test images of 3×8×8 pixels in [0, 1], four classes.
fn tiny_images() -> Dataset {
    let mut rng = Rng::seed_from_u64(11);
    let mut images = |n: usize| {
        let x = Array2::from_shape_simple_fn((n, 3 * 8 * 8), || rng.uniform() as f32);
        (x, (0..n).map(|i| i % 4).collect::<Vec<_>>())
    };
    let (x_train, y_train) = images(48);
    let (x_test, y_test) = images(16);
    Dataset {
        name: "tiny images".into(),
        x_train,
        y_train,
        x_test,
        y_test,
        num_classes: 4,
        class_names: (0..4).map(|c| format!("class {c}")).collect(),
        image_shape: Some((3, 8, 8)),
    }
}

/// Configs covering every encoder kind.
fn configs() -> Vec<(&'static str, String)> {
    vec![
        ("linear", format!("{GAUSS}&encoder=linear:out=4")),
        (
            "deep-linear",
            format!("{GAUSS}&encoder=deep-linear:L=3,width=6&normalize=0"),
        ),
        ("mlp", format!("{GAUSS}&encoder=mlp:hidden=16,out=8")),
        ("relu2", format!("{GAUSS}&encoder=relu2:hidden=10,out=20")),
        (
            "cnn",
            "data=cifar:size=8&encoder=cnn:small,out=8&aug=noise:std=0.1&batch=8&eval=1000&seed=3"
                .to_string(),
        ),
        // BatchNorm: γ, β and the running statistics (which evaluation uses) must travel.
        (
            "cnn-bn",
            "data=cifar:size=8&encoder=cnn:width=4,blocks=2,head=8,out=4&aug=noise:std=0.1\
             &batch=8&eval=1000&seed=3"
                .to_string(),
        ),
    ]
}

fn trainer(text: &str) -> Trainer {
    let cfg = RunConfig::parse(text).unwrap();
    if cfg.encoder.needs_images() {
        Trainer::with_data(cfg, tiny_images()).unwrap()
    } else {
        Trainer::new(cfg).unwrap()
    }
}

fn bits(z: &Array2<f32>) -> Vec<u32> {
    z.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn round_trip_reproduces_embeddings_and_the_next_loss_for_every_encoder() {
    for (kind, text) in configs() {
        // The exporter trains 5 steps. The importer takes the same 5 batches (its batch stream
        // advances identically) with another learning rate, so its weights differ.
        let mut exporter = trainer(&text);
        let mut importer = trainer(&text);
        let lr = exporter.config.optim.lr();
        importer.set_lr(lr * 0.1);
        for _ in 0..5 {
            exporter.step().unwrap();
            importer.step().unwrap();
        }
        importer.set_lr(lr);
        let before = exporter.probe_embeddings(16);
        assert_eq!(before.nrows(), 16, "{kind}");
        assert_ne!(
            bits(&importer.probe_embeddings(16)),
            bits(&before),
            "{kind}: the importer's weights should differ before the import"
        );

        let json = exporter.weights_json();
        importer.load_weights_json(&json).unwrap();
        assert_eq!(
            bits(&importer.probe_embeddings(16)),
            bits(&before),
            "{kind}: embeddings after the round trip"
        );
        assert_eq!(
            importer.weights_json(),
            json,
            "{kind}: the re-exported file"
        );
        // Import resets the optimiser; with the exporter's reset too, both take the same step.
        exporter.optim = Optimizer::new(exporter.config.optim.clone());
        let a = exporter.step().unwrap().loss;
        let b = importer.step().unwrap().loss;
        assert_eq!(a.to_bits(), b.to_bits(), "{kind}: next loss {a} vs {b}");
        assert_eq!(
            bits(&importer.probe_embeddings(16)),
            bits(&exporter.probe_embeddings(16)),
            "{kind}: embeddings after one more step"
        );
        // The history is kept and the snapshot shows the loaded weights.
        assert_eq!(importer.history.loss.len(), 6, "{kind}");
        assert_eq!(importer.step_count(), 6, "{kind}");
    }
}

#[test]
fn the_file_describes_the_encoder_and_its_tensors() {
    let mut t = trainer(&format!("{GAUSS}&encoder=mlp:hidden=16,out=8"));
    t.step().unwrap();
    let v: serde_json::Value = serde_json::from_str(&t.weights_json()).unwrap();
    assert_eq!(v["format"], "alphacl-weights");
    assert_eq!(v["version"], 1);
    assert_eq!(v["encoder"], "mlp:hidden=16,out=8");
    assert_eq!(v["input_dim"], 8);
    assert!(v["image_shape"].is_null());
    assert_eq!(v["step"], 1);
    assert_eq!(
        RunConfig::parse(v["config"].as_str().unwrap()).unwrap(),
        t.config
    );
    let layout: Vec<(String, serde_json::Value)> = v["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_string(), t["shape"].clone()))
        .collect();
    let expect = |n: &str, s: serde_json::Value| (n.to_string(), s);
    assert_eq!(
        layout,
        vec![
            expect("layer0.weight", serde_json::json!([8, 16])),
            expect("layer0.bias", serde_json::json!([16])),
            expect("layer1.weight", serde_json::json!([16, 8])),
            expect("layer1.bias", serde_json::json!([8])),
        ]
    );
    // Linear weights are (in × out), row-major, bit-exact.
    let w0: Vec<f32> = serde_json::from_value(v["tensors"][0]["data"].clone()).unwrap();
    let stored = t.encoder.layers[0].weight().unwrap();
    assert_eq!(
        w0.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        stored.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    );
    let cnn = trainer(&configs()[4].1);
    let v: serde_json::Value = serde_json::from_str(&cnn.weights_json()).unwrap();
    assert_eq!(v["image_shape"], serde_json::json!([3, 8, 8]));
    assert_eq!(v["tensors"][0]["shape"], serde_json::json!([16, 3, 3, 3]));
}

/// Everything a failed import must leave alone.
fn state(t: &Trainer) -> (String, Vec<u32>, usize, usize, usize, Option<TrainError>) {
    (
        t.weights_json(),
        bits(&t.probe_embeddings(16)),
        t.step_count(),
        t.history.loss.len(),
        t.history.evals.len(),
        t.failure.clone(),
    )
}

fn edited(json: &str, f: impl FnOnce(&mut WeightsFile)) -> String {
    let mut file = WeightsFile::parse(json).unwrap();
    f(&mut file);
    file.to_json()
}

#[test]
fn bad_files_are_refused_with_a_reason_and_change_nothing() {
    let mlp = format!("{GAUSS}&encoder=mlp:hidden=16,out=8");
    let mut source = trainer(&mlp);
    source.step().unwrap();
    let good = source.weights_json();
    let other_encoder = trainer(&format!("{GAUSS}&encoder=mlp:hidden=12,out=8")).weights_json();
    let other_data =
        trainer("data=gauss:k=4,d=6,n=256&batch=16&eval=1000&seed=3&encoder=mlp:hidden=16,out=8")
            .weights_json();

    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "truncated JSON",
            good[..good.len() / 2].to_string(),
            vec!["not valid JSON", "line"],
        ),
        (
            "a JSON syntax error",
            good.replacen("\"version\": 1,", "\"version\": 1,,", 1),
            vec!["not valid JSON", "line 3"],
        ),
        (
            "another JSON document",
            "[1, 2, 3]".into(),
            vec!["not an α-CL Lab weights file"],
        ),
        (
            "a wrong format tag",
            good.replacen("alphacl-weights", "pytorch-state-dict", 1),
            vec!["pytorch-state-dict", "alphacl-weights"],
        ),
        (
            "a newer version",
            good.replacen("\"version\": 1,", "\"version\": 2,", 1),
            vec!["version 2", "reads version 1"],
        ),
        (
            "a missing field",
            good.replacen("\"input_dim\": 8,", "", 1),
            vec!["input_dim", "damaged"],
        ),
        (
            "another encoder spec",
            other_encoder,
            vec!["mlp:hidden=12,out=8", "mlp:hidden=16,out=8"],
        ),
        (
            "another input dimension",
            other_data,
            vec!["6-dimensional", "8 dimensions"],
        ),
        (
            "an image shape on vector data",
            edited(&good, |f| f.image_shape = Some([2, 2, 2])),
            vec!["2×2×2 images", "vectors"],
        ),
        (
            "a transposed weight",
            edited(&good, |f| f.tensors[0].shape = vec![16, 8]),
            vec!["layer0.weight", "[16, 8]", "[8, 16]"],
        ),
        (
            "a missing tensor",
            edited(&good, |f| {
                f.tensors.remove(1);
            }),
            vec!["layer0.bias", "missing"],
        ),
        (
            "an extra tensor",
            edited(&good, |f| {
                let mut t = f.tensors[3].clone();
                t.name = "layer2.bias".into();
                f.tensors.push(t);
            }),
            vec!["layer2.bias", "does not have"],
        ),
        (
            "a repeated tensor",
            edited(&good, |f| {
                let t = f.tensors[1].clone();
                f.tensors.push(t);
            }),
            vec!["layer0.bias", "more than once"],
        ),
        (
            "too few values",
            edited(&good, |f| {
                f.tensors[2].data.pop();
            }),
            vec!["layer1.weight", "127 values", "128"],
        ),
        (
            "a NaN (written as null)",
            edited(&good, |f| f.tensors[2].data[5] = f32::NAN),
            vec!["layer1.weight", "non-finite", "position 5"],
        ),
        (
            "a value beyond f32",
            edited(&good, |f| f.tensors[1].data[0] = 7.0).replacen(
                "\"data\":[7.0,",
                "\"data\":[1e39,",
                1,
            ),
            vec!["layer0.bias", "non-finite"],
        ),
    ];

    let mut target = trainer(&mlp);
    for _ in 0..3 {
        target.step().unwrap();
    }
    let before = state(&target);
    for (what, text, needles) in cases {
        let err: WeightsError = target
            .load_weights_json(&text)
            .expect_err(&format!("{what} should be refused"));
        let msg = err.to_string();
        for n in needles {
            assert!(msg.contains(n), "{what}: '{msg}' should mention '{n}'");
        }
        assert!(state(&target) == before, "{what}: the trainer changed");
    }
    // The good file still loads after all that.
    target.load_weights_json(&good).unwrap();
    assert_eq!(
        bits(&target.probe_embeddings(16)),
        bits(&source.probe_embeddings(16))
    );
}

#[test]
fn a_successful_load_clears_a_divergence() {
    let text = format!("{GAUSS}&encoder=mlp:hidden=16,out=8");
    let saved = trainer(&text).weights_json();
    let mut t = trainer(&text);
    t.step().unwrap();
    t.failure = Some(TrainError::Diverged {
        step: 1,
        what: "the loss".into(),
    });
    assert!(t.step().is_err());
    let evals = t.history.evals.len();
    t.load_weights_json(&saved).unwrap();
    assert!(t.failure.is_none());
    assert_eq!(t.snapshot.step, 1);
    assert_eq!(
        t.history.evals.len(),
        evals + 1,
        "the snapshot was refreshed"
    );
    assert_eq!(t.step().unwrap().step, 2);
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("alphacl-weights-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn train_cli(extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_alphacl"))
        .args(["train", "--quiet"])
        .args([
            "--set",
            "data=gauss:k=4,d=8,n=256",
            "--set",
            "batch=16",
            "--set",
            "seed=5",
        ])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn cli_writes_weights_and_starts_from_them() {
    let (a, b) = (temp_dir("a"), temp_dir("b"));
    let enc = ["--set", "encoder=mlp:hidden=16,out=8"];
    let out = train_cli(&[&enc[..], &["--steps", "20", "--out", a.to_str().unwrap()]].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wa = a.join("weights.json");
    let file_a = WeightsFile::parse(&std::fs::read_to_string(&wa).unwrap()).unwrap();
    assert_eq!(file_a.step, 20);
    assert_eq!(file_a.encoder, "mlp:hidden=16,out=8");

    let out = train_cli(
        &[
            &enc[..],
            &[
                "--init-weights",
                wa.to_str().unwrap(),
                "--steps",
                "0",
                "--out",
                b.to_str().unwrap(),
            ],
        ]
        .concat(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file_b =
        WeightsFile::parse(&std::fs::read_to_string(b.join("weights.json")).unwrap()).unwrap();
    assert_eq!(file_b.step, 0);
    assert_eq!(
        file_b.tensors, file_a.tensors,
        "the loaded weights were written back"
    );

    // The same weights in the library give the same embeddings as a run that trained them.
    let mut lib = Trainer::new(RunConfig::parse(&file_a.config).unwrap()).unwrap();
    for _ in 0..20 {
        lib.step().unwrap();
    }
    let mut fresh = Trainer::new(RunConfig::parse(&file_a.config).unwrap()).unwrap();
    fresh
        .load_weights_json(&std::fs::read_to_string(&wa).unwrap())
        .unwrap();
    assert_eq!(
        bits(&fresh.probe_embeddings(16)),
        bits(&lib.probe_embeddings(16))
    );

    // Weights that do not fit: a clear error and a non-zero exit.
    let out = train_cli(&[
        "--set",
        "encoder=mlp:hidden=12,out=8",
        "--init-weights",
        wa.to_str().unwrap(),
        "--steps",
        "1",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("mlp:hidden=16,out=8") && err.contains("mlp:hidden=12,out=8"),
        "{err}"
    );
    let missing = a.join("nope.json");
    let out = train_cli(&["--init-weights", missing.to_str().unwrap(), "--steps", "1"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.json"));
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

#[test]
fn the_snapshot_holds_h_and_the_head_output_of_the_same_subset() {
    // Not a weights test, but it needs this file's small image run: the views' h and z must
    // be the encoder's eval-mode representation and head output of the snapshot's samples.
    let (_, text) = configs().pop().expect("the BatchNorm cnn config");
    let mut t = trainer(&text);
    for _ in 0..3 {
        t.step().unwrap();
    }
    t.refresh_snapshot();
    let x = t
        .data
        .x_test
        .select(ndarray::Axis(0), &t.snapshot.eval_indices);
    let unit = |mut m: Array2<f32>| {
        for mut r in m.rows_mut() {
            let n = r.dot(&r).sqrt().max(1e-12);
            r.mapv_inplace(|v| v / n);
        }
        m
    };
    let h = t.encoder.embed_repr(&x);
    let z = unit(t.encoder.head_of(&h));
    let (snap_z, _, _) = t.snapshot.head.as_ref().expect("an encoder with a head");
    let close = |a: &Array2<f32>, b: &Array2<f32>| {
        a.dim() == b.dim() && a.iter().zip(b).all(|(p, q)| (p - q).abs() < 1e-5)
    };
    assert!(close(&t.snapshot.embeddings, &unit(h)), "h of the subset");
    assert!(close(snap_z, &z), "z = head(h) of the subset");
}
