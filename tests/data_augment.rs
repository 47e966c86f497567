//! Augmentation invariants: identities at strength 0, involutions, value ranges, statistics of
//! the vector augmentations, determinism per seed, and the text form.

use alphacl::data::AugmentSpec;
use alphacl::data::augment::{self, ImageAug};
use alphacl::rng::Rng;
use ndarray::Array1;

const SHAPE: (usize, usize, usize) = (3, 8, 6);

fn random_image(seed: u64) -> Vec<f32> {
    let mut r = Rng::seed_from_u64(seed);
    (0..SHAPE.0 * SHAPE.1 * SHAPE.2)
        .map(|_| r.uniform() as f32)
        .collect()
}

fn view(
    spec: &AugmentSpec,
    x: &[f32],
    shape: Option<(usize, usize, usize)>,
    seed: u64,
) -> Vec<f32> {
    let x = Array1::from(x.to_vec());
    let mut out = Array1::<f32>::zeros(x.len());
    spec.apply_image(
        x.view(),
        shape,
        out.view_mut(),
        &mut Rng::seed_from_u64(seed),
    );
    out.to_vec()
}

#[test]
fn flip_twice_is_identity_and_flip_mirrors_columns() {
    let img = random_image(1);
    let mut a = img.clone();
    augment::hflip(&mut a, SHAPE);
    let (_, h, w) = SHAPE;
    for c in 0..3 {
        for y in 0..h {
            for x in 0..w {
                assert_eq!(
                    a[c * h * w + y * w + x],
                    img[c * h * w + y * w + (w - 1 - x)]
                );
            }
        }
    }
    augment::hflip(&mut a, SHAPE);
    assert_eq!(a, img);
    // flip=1 through the spec is exactly the mirror.
    let spec = AugmentSpec::parse("simclr:crop=0,flip=1,jitter=0,gray=0,noise=0").unwrap();
    let mut m = img.clone();
    augment::hflip(&mut m, SHAPE);
    assert_eq!(view(&spec, &img, Some(SHAPE), 3), m);
}

#[test]
fn full_crop_and_zero_strengths_are_exact_identities() {
    let img = random_image(2);
    let mut a = img.clone();
    augment::crop_resize(&mut a, SHAPE, 0.0, 0.0, SHAPE.2 as f64, SHAPE.1 as f64);
    assert_eq!(a, img);
    let mut b = img.clone();
    augment::random_resized_crop(&mut b, SHAPE, 1.0, &mut Rng::seed_from_u64(9));
    assert_eq!(b, img);
    let off = AugmentSpec::parse("simclr:crop=0,flip=0,jitter=0,gray=0,noise=0").unwrap();
    for seed in 0..5 {
        assert_eq!(view(&off, &img, Some(SHAPE), seed), img);
    }
    assert_eq!(view(&AugmentSpec::None, &img, None, 0), img);
    assert_eq!(
        view(&AugmentSpec::parse("noise:std=0").unwrap(), &img, None, 0),
        img
    );
}

#[test]
fn crop_of_a_half_window_upsamples_by_two() {
    // A 1×2×4 image; the window x ∈ [0, 2) (left half, full height) resized back to width 4
    // samples source columns (j + ½)·2/4 − ½ = −¼ (clamped to 0), ¼, ¾, 1¼ (bilinear).
    let mut img = vec![0.0, 4.0, 8.0, 12.0, 1.0, 5.0, 9.0, 13.0];
    augment::crop_resize(&mut img, (1, 2, 4), 0.0, 0.0, 2.0, 2.0);
    assert_eq!(img, vec![0.0, 1.0, 3.0, 5.0, 1.0, 2.0, 4.0, 6.0]);
}

#[test]
fn random_crops_keep_constant_images_constant() {
    let img = vec![0.37f32; 3 * 8 * 6];
    for seed in 0..20 {
        let mut a = img.clone();
        augment::random_resized_crop(&mut a, SHAPE, 0.08, &mut Rng::seed_from_u64(seed));
        assert!(a.iter().all(|&v| (v - 0.37).abs() < 1e-6));
    }
}

#[test]
fn grayscale_makes_channels_equal_with_the_luma_weights() {
    let img = random_image(3);
    let spec = AugmentSpec::parse("simclr:crop=0,flip=0,jitter=0,gray=1,noise=0").unwrap();
    let g = view(&spec, &img, Some(SHAPE), 4);
    let hw = SHAPE.1 * SHAPE.2;
    for p in 0..hw {
        let want = 0.299 * img[p] + 0.587 * img[hw + p] + 0.114 * img[2 * hw + p];
        assert!((g[p] - want).abs() < 1e-6);
        assert_eq!(g[p], g[hw + p]);
        assert_eq!(g[p], g[2 * hw + p]);
    }
}

#[test]
fn strong_image_augmentation_stays_in_unit_range_and_changes_the_image() {
    let spec = AugmentSpec::parse("simclr:crop=1,flip=0.5,jitter=1,gray=0.5,noise=0.3").unwrap();
    let mut changed = 0;
    for seed in 0..50 {
        let img = random_image(seed);
        let v = view(&spec, &img, Some(SHAPE), seed + 100);
        assert!(v.iter().all(|&x| (0.0..=1.0).contains(&x)), "seed {seed}");
        if v != img {
            changed += 1;
        }
    }
    assert_eq!(changed, 50);
}

#[test]
fn jitter_brightness_scales_a_grey_image_uniformly() {
    // On a mid-grey image contrast, saturation and hue do nothing (up to rounding), so every
    // pixel of a jittered view has the same value.
    let img = vec![0.5f32; 3 * 8 * 6];
    let spec = AugmentSpec::parse("simclr:crop=0,flip=0,jitter=1,gray=0,noise=0").unwrap();
    let mut differs = 0;
    for seed in 0..20 {
        let v = view(&spec, &img, Some(SHAPE), seed);
        assert!(v.iter().all(|&x| (x - v[0]).abs() < 1e-4), "seed {seed}");
        if (v[0] - 0.5).abs() > 1e-3 {
            differs += 1;
        }
        assert!((0.5 * 0.2 - 1e-4..=0.5 * 1.8 + 1e-4).contains(&v[0]));
    }
    assert!(differs > 10, "brightness changed in {differs}/20 views");
}

#[test]
fn augmentation_is_deterministic_per_seed() {
    let img = random_image(5);
    for text in [
        "simclr",
        "noise:std=0.3",
        "mask:p=0.5",
        "axis:dim=2,std=1,rest=0.1",
        "support:std=0.5",
    ] {
        let spec = AugmentSpec::parse(text).unwrap();
        let a = view(&spec, &img, Some(SHAPE), 42);
        assert_eq!(a, view(&spec, &img, Some(SHAPE), 42), "{text}");
        assert_ne!(a, view(&spec, &img, Some(SHAPE), 43), "{text}");
    }
}

/// Per-coordinate variance of the difference view − x over many views.
fn view_var(spec: &AugmentSpec, x: &[f32], n: usize) -> Vec<f64> {
    let xa = Array1::from(x.to_vec());
    let mut out = Array1::<f32>::zeros(x.len());
    let mut rng = Rng::seed_from_u64(7);
    let mut s2 = vec![0.0f64; x.len()];
    for _ in 0..n {
        spec.apply(xa.view(), out.view_mut(), &mut rng);
        for (j, (&o, &v)) in out.iter().zip(x).enumerate() {
            s2[j] += f64::from(o - v).powi(2);
        }
    }
    s2.into_iter().map(|s| s / n as f64).collect()
}

#[test]
fn vector_augmentations_have_the_stated_statistics() {
    let x = vec![1.0f32, -2.0, 0.0, 3.0];
    let v = view_var(
        &AugmentSpec::parse("axis:dim=0,std=2.8,rest=0.1").unwrap(),
        &x,
        20_000,
    );
    assert!((v[0] / (2.8 * 2.8) - 1.0).abs() < 0.05, "{v:?}");
    for &vj in &v[1..] {
        assert!((vj / 0.01 - 1.0).abs() < 0.05, "{v:?}");
    }
    let v = view_var(&AugmentSpec::parse("noise:std=0.5").unwrap(), &x, 20_000);
    assert!(v.iter().all(|&vj| (vj / 0.25 - 1.0).abs() < 0.05), "{v:?}");
    let v = view_var(&AugmentSpec::parse("support:std=0.5").unwrap(), &x, 20_000);
    assert_eq!(v[2], 0.0, "zero coordinates stay zero");
    assert!((v[3] / 0.25 - 1.0).abs() < 0.05);
    // Masking: each coordinate is zeroed with probability p; E(x' − x)² = p·x².
    let v = view_var(&AugmentSpec::parse("mask:p=0.3").unwrap(), &x, 20_000);
    assert!((v[3] / (0.3 * 9.0) - 1.0).abs() < 0.05, "{v:?}");
    assert_eq!(v[2], 0.0);
}

#[test]
fn simclr_on_vectors_applies_only_its_noise() {
    let x = vec![0.2f32; 10];
    let spec = AugmentSpec::parse("simclr:crop=1,flip=1,jitter=1,gray=1,noise=0").unwrap();
    assert_eq!(view(&spec, &x, None, 1), x);
    // A shape that does not match the length is treated as a vector too.
    assert_eq!(view(&spec, &x, Some((3, 2, 2)), 1), x);
    assert!(spec.check_data(10, None).is_err());
    assert!(spec.check_data(12, Some((3, 2, 2))).is_ok());
    let axis = AugmentSpec::parse("axis:dim=8").unwrap();
    assert!(axis.check_data(8, None).is_err());
    assert!(axis.check_data(9, None).is_ok());
}

#[test]
fn text_forms_round_trip_and_errors_name_the_allowed_values() {
    for text in [
        "none",
        "noise:std=0.5",
        "mask:p=0.2",
        "axis:dim=0,std=2.8,rest=0.1",
        "support:std=0.5",
        "simclr:crop=0.3,flip=0.5,jitter=0.4,gray=0.2,noise=0",
    ] {
        let s = AugmentSpec::parse(text).unwrap();
        assert_eq!(s.to_text(), text);
        assert_eq!(AugmentSpec::parse(&s.to_text()).unwrap(), s);
    }
    assert_eq!(
        AugmentSpec::parse("simclr").unwrap(),
        AugmentSpec::Simclr(ImageAug::default())
    );
    assert!(AugmentSpec::parse("blur").unwrap_err().0.contains("simclr"));
    assert!(
        AugmentSpec::parse("simclr:crop=2")
            .unwrap_err()
            .0
            .contains("between 0 and 1")
    );
    assert!(
        AugmentSpec::parse("simclr:hue=1")
            .unwrap_err()
            .0
            .contains("jitter")
    );
    assert!(AugmentSpec::parse("mask:p=1").is_err());
}
