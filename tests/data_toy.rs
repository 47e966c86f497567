//! Generated toy data sets: text forms, determinism, shapes, and the geometry each one promises.

use alphacl::data::toy::ANISO_STD;
use alphacl::data::{DataSpec, Dataset};
use ndarray::Array1;

const ALL: &[&str] = &[
    "gauss:k=6,d=32,n=1024,sep=4,std=1.2",
    "rings:k=3,d=8,n=1024,noise=0.15",
    "spirals:k=3,d=8,n=1024,noise=0.1,turns=1",
    "aniso:n=1024",
    "sparse:d=10,n=1024",
    "tree:depth=2,branch=3,d=16,n=1024,std=0.5,decay=0.6",
];

#[test]
fn every_toy_set_round_trips_and_is_valid_and_deterministic() {
    for text in ALL {
        let s = DataSpec::parse(text).unwrap();
        assert_eq!(&s.to_text(), text);
        assert_eq!(s.asset_path(), None);
        let a = s.generate(3).unwrap();
        a.validate().unwrap();
        assert_eq!(Some(a.x_train.nrows()), s.train_size(), "{text}");
        assert_eq!(a.x_test.nrows(), 256, "{text}");
        assert_eq!(a.class_names.len(), a.num_classes);
        // Balanced classes.
        let mut counts = vec![0usize; a.num_classes];
        a.y_train.iter().for_each(|&y| counts[y] += 1);
        let (lo, hi) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(hi - lo <= 1, "{text}: {counts:?}");
        let b = s.generate(3).unwrap();
        assert_eq!(a.x_train, b.x_train, "{text}");
        assert_ne!(a.x_train, s.generate(4).unwrap().x_train, "{text}");
    }
    assert_eq!(
        DataSpec::parse(&DataSpec::default().to_text()).unwrap(),
        DataSpec::default()
    );
    assert!(DataSpec::parse("moons").unwrap_err().0.contains("spirals"));
    assert!(
        DataSpec::parse("tree:depth=3,branch=5").is_err(),
        "125 classes > 64"
    );
    assert!(DataSpec::parse("rings:d=1").is_err());
}

fn norm(v: ndarray::ArrayView1<f32>) -> f32 {
    v.dot(&v).sqrt()
}

#[test]
fn noiseless_rings_lie_on_circles_of_radius_class_plus_one() {
    let d = DataSpec::parse("rings:k=4,d=12,n=64,noise=0")
        .unwrap()
        .generate(1)
        .unwrap();
    for (x, &y) in d.x_train.rows().into_iter().zip(&d.y_train) {
        assert!((norm(x) - (y + 1) as f32).abs() < 1e-5);
    }
    // All points lie in one 2-plane: every row is a combination of the first two rows.
    let x = &d.x_train;
    let a = x.row(0).to_owned();
    let b = x.row(1).to_owned();
    let a = &a / norm(a.view());
    let b_perp = &b - &(&a * a.dot(&b));
    let b_perp = &b_perp / norm(b_perp.view());
    for r in x.rows() {
        let res: Array1<f32> = &r - &(&a * a.dot(&r)) - &(&b_perp * b_perp.dot(&r));
        assert!(norm(res.view()) < 1e-4);
    }
}

#[test]
fn noiseless_spirals_have_radius_in_range() {
    let d = DataSpec::parse("spirals:k=3,d=5,n=300,noise=0")
        .unwrap()
        .generate(2)
        .unwrap();
    for x in d.x_train.rows() {
        let r = norm(x);
        assert!((0.3 - 1e-5..=3.0 + 1e-5).contains(&r), "{r}");
    }
}

#[test]
fn aniso_set_has_the_paper_stds_and_sign_labels() {
    let d = DataSpec::parse("aniso:n=20000")
        .unwrap()
        .generate(5)
        .unwrap();
    for (j, &s) in ANISO_STD.iter().enumerate() {
        let col = d.x_train.column(j);
        let var = col.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / col.len() as f64;
        assert!(
            (var.sqrt() / s - 1.0).abs() < 0.03,
            "dim {j}: {}",
            var.sqrt()
        );
    }
    for (x, &y) in d.x_train.rows().into_iter().zip(&d.y_train) {
        assert_eq!(x[1] > 0.0, y == 1);
    }
}

#[test]
fn sparse_set_is_one_hot_with_linspace_magnitudes() {
    let d = DataSpec::parse("sparse:d=10,n=200")
        .unwrap()
        .generate(1)
        .unwrap();
    let mut signs = [0usize; 2];
    for (x, &y) in d.x_train.rows().into_iter().zip(&d.y_train) {
        let nz: Vec<usize> = (0..10).filter(|&j| x[j] != 0.0).collect();
        assert_eq!(nz, vec![y]);
        assert!((x[y].abs() - (10.0 - y as f32)).abs() < 1e-6);
        signs[usize::from(x[y] > 0.0)] += 1;
    }
    assert!(signs[0] > 60 && signs[1] > 60, "{signs:?}");
}

fn class_means(d: &Dataset) -> Vec<Array1<f32>> {
    (0..d.num_classes)
        .map(|c| {
            let rows: Vec<usize> = (0..d.y_train.len())
                .filter(|&i| d.y_train[i] == c)
                .collect();
            d.x_train
                .select(ndarray::Axis(0), &rows)
                .mean_axis(ndarray::Axis(0))
                .unwrap()
        })
        .collect()
}

#[test]
fn tree_siblings_are_closer_than_cousins() {
    let spec = DataSpec::parse("tree:depth=2,branch=3,d=32,n=4500,std=0.5,decay=0.5").unwrap();
    let d = spec.generate(1).unwrap();
    assert_eq!(d.num_classes, 9);
    assert_eq!(d.class_names[4], "1.1");
    let m = class_means(&d);
    let dist = |a: usize, b: usize| norm((&m[a] - &m[b]).view());
    let (mut sib, mut ns, mut cous, mut nc) = (0.0, 0, 0.0, 0);
    for a in 0..9 {
        for b in a + 1..9 {
            if a / 3 == b / 3 {
                sib += dist(a, b);
                ns += 1;
            } else {
                cous += dist(a, b);
                nc += 1;
            }
        }
    }
    let (sib, cous) = (sib / ns as f32, cous / nc as f32);
    assert!(sib < 0.7 * cous, "siblings {sib} vs cousins {cous}");
}

#[test]
fn gauss_centres_lie_on_the_sep_sphere() {
    let d = DataSpec::parse("gauss:k=4,d=8,n=8000,sep=3,std=0.5")
        .unwrap()
        .generate(1)
        .unwrap();
    for m in class_means(&d) {
        assert!((norm(m.view()) - 3.0).abs() < 0.1, "{}", norm(m.view()));
    }
}
