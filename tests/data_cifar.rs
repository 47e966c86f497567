//! CIFAR-10 formats on small generated fixtures: the prepared binary, the official binary
//! batches, the tfjs PNG sheets, area-averaging downsampling and class-balanced selection.

use alphacl::data::cifar::{self, CLASS_NAMES, OFFICIAL_RECORD, Prepared};
use alphacl::data::{DataError, DataSpec, chw_to_rgba, prepare};
use alphacl::rng::Rng;

/// Pixel (c, y, x) of fixture image `id`: distinct per channel, row, column and image.
fn px(id: usize, c: usize, y: usize, x: usize) -> u8 {
    ((id * 37 + c * 101 + y * 7 + x * 3) % 256) as u8
}

/// Independent reference for area averaging (float mean, round half up).
fn reference_down(img_chw: &[u8], c: usize, from: usize, to: usize) -> Vec<u8> {
    let f = from / to;
    let mut out = Vec::new();
    for ch in 0..c {
        for i in 0..to {
            for j in 0..to {
                let mut s = 0.0f64;
                for y in i * f..(i + 1) * f {
                    for x in j * f..(j + 1) * f {
                        s += f64::from(img_chw[ch * from * from + y * from + x]);
                    }
                }
                out.push((s / (f * f) as f64 + 0.5).floor() as u8);
            }
        }
    }
    out
}

fn chw_image(id: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(3072);
    for c in 0..3 {
        for y in 0..32 {
            for x in 0..32 {
                v.push(px(id, c, y, x));
            }
        }
    }
    v
}

fn official_record(label: u8, id: usize) -> Vec<u8> {
    let mut r = vec![label];
    r.extend(chw_image(id));
    r
}

#[test]
fn downsampling_matches_hand_computed_block_means() {
    // 4×4 single plane with v(i, j) = 16 i + j; 2×2 blocks: (0+1+16+17)/4 = 8.5 → 9,
    // (2+3+18+19)/4 = 10.5 → 11, (32+33+48+49)/4 = 40.5 → 41, (34+35+50+51)/4 = 42.5 → 43.
    let plane: Vec<u8> = (0..4)
        .flat_map(|i| (0..4).map(move |j| (16 * i + j) as u8))
        .collect();
    assert_eq!(
        cifar::downsample_chw(&plane, 1, 4, 2).unwrap(),
        vec![9, 11, 41, 43]
    );
    // To 1×1: mean of all 16 = (0..4 rows) = 25.5 → 26.
    assert_eq!(cifar::downsample_chw(&plane, 1, 4, 1).unwrap(), vec![26]);
    // Identity at the same side.
    assert_eq!(cifar::downsample_chw(&plane, 1, 4, 4).unwrap(), plane);
    // Non-divisible side and wrong length are errors.
    assert!(cifar::downsample_chw(&plane, 1, 4, 3).is_err());
    assert!(cifar::downsample_chw(&plane[..15], 1, 4, 2).is_err());
    // Full-size image against the independent reference.
    let img = chw_image(5);
    for to in [16, 8, 4] {
        assert_eq!(
            cifar::downsample_chw(&img, 3, 32, to).unwrap(),
            reference_down(&img, 3, 32, to)
        );
    }
}

#[test]
fn official_binary_three_records_parse_pixel_exactly() {
    let mut batch = Vec::new();
    for (label, id) in [(3u8, 0usize), (9, 1), (0, 2)] {
        batch.extend(official_record(label, id));
    }
    let test = official_record(7, 3);
    let files: Vec<(&str, &[u8])> = vec![
        ("some/dir/test_batch.bin", &test),
        ("data_batch_1.bin", &batch),
    ];
    let p = cifar::official_bin_to_prepared(&files, 32).unwrap();
    assert_eq!(p.train_labels, vec![3, 9, 0]);
    assert_eq!(p.test_labels, vec![7]);
    for k in 0..3 {
        assert_eq!(&p.train_pixels[k * 3072..(k + 1) * 3072], &chw_image(k)[..]);
    }
    let d = cifar::parse_official_bin(&files, 16).unwrap();
    assert_eq!(d.image_shape, Some((3, 16, 16)));
    assert_eq!(d.x_train.dim(), (3, 768));
    assert_eq!(d.class_names[3], "cat");
    for k in 0..3 {
        let want = reference_down(&chw_image(k), 3, 32, 16);
        for (a, &b) in d.x_train.row(k).iter().zip(&want) {
            assert_eq!(*a, f32::from(b) / 255.0);
        }
    }
    d.validate().unwrap();
}

#[test]
fn official_binary_without_test_file_holds_out_every_fifth_record() {
    let mut batch = Vec::new();
    for i in 0..10 {
        batch.extend(official_record((i % 10) as u8, i));
    }
    let p = cifar::official_bin_to_prepared(&[("data_batch_2.bin", &batch)], 8).unwrap();
    assert_eq!(p.test_labels, vec![4, 9]);
    assert_eq!(p.train_labels, vec![0, 1, 2, 3, 5, 6, 7, 8]);
}

#[test]
fn malformed_official_binaries_give_clear_errors() {
    let good = official_record(1, 0);
    let msg = |files: &[(&str, &[u8])], side| match cifar::parse_official_bin(files, side) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("expected an error"),
    };
    assert!(
        msg(&[("data_batch_1.bin", &good[..good.len() - 1])], 16).contains("3073-byte records")
    );
    assert!(msg(&[("data_batch_1.bin", &[])], 16).contains("empty"));
    assert!(msg(&[], 16).contains("no files"));
    let mut bad_label = good.clone();
    bad_label[0] = 10;
    assert!(msg(&[("data_batch_1.bin", &bad_label)], 16).contains("label 10 out of range"));
    assert!(msg(&[("cat.jpg", &good)], 16).contains("not a CIFAR-10 binary batch"));
    assert!(msg(&[("data_batch_1.bin", &good)], 5).contains("must divide 32"));
    // A test file alone gives no training records.
    assert!(msg(&[("test_batch.bin", &good)], 16).contains("no training records"));
    assert_eq!(OFFICIAL_RECORD, 3073);
}

fn small_prepared() -> Prepared {
    Prepared {
        channels: 3,
        side: 2,
        class_names: vec!["a".into(), "bé".into(), "c".into()],
        train_labels: vec![0, 2, 1],
        train_pixels: (0..36).map(|v| (v * 7) as u8).collect(),
        test_labels: vec![1],
        test_pixels: (0..12).map(|v| 255 - v as u8).collect(),
    }
}

#[test]
fn prepared_format_round_trips_and_converts_to_unit_range() {
    let p = small_prepared();
    let bytes = p.to_bytes().unwrap();
    assert_eq!(&bytes[..8], b"ACLCIFAR");
    assert_eq!(Prepared::parse(&bytes).unwrap(), p);
    let d = cifar::parse_prepared(&bytes).unwrap();
    assert_eq!(d.image_shape, Some((3, 2, 2)));
    assert_eq!(d.y_train, vec![0, 2, 1]);
    assert_eq!(d.class_names[1], "bé");
    assert_eq!(d.x_train[[1, 0]], (12.0 * 7.0) / 255.0);
    assert_eq!(d.x_test[[0, 11]], 244.0 / 255.0);
    d.validate().unwrap();
}

#[test]
fn every_truncation_of_a_prepared_file_is_an_error() {
    let bytes = small_prepared().to_bytes().unwrap();
    for len in 0..bytes.len() {
        let e = cifar::parse_prepared(&bytes[..len]).unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("truncated") || m.contains("empty"),
            "prefix {len}: {m}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(
        cifar::parse_prepared(&longer)
            .unwrap_err()
            .to_string()
            .contains("unexpected bytes")
    );
}

#[test]
fn corrupted_prepared_headers_give_clear_errors() {
    let bytes = small_prepared().to_bytes().unwrap();
    let err = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = bytes.clone();
        f(&mut b);
        cifar::parse_prepared(&b).unwrap_err().to_string()
    };
    assert!(err(&|b| b[0] = b'X').contains("wrong magic"));
    assert!(err(&|b| b[8] = 2).contains("unsupported version 2"));
    assert!(err(&|b| b[10] = 2).contains("channels must be 1 or 3"));
    assert!(err(&|b| b[11] = 33).contains("side must be 1..=32"));
    assert!(err(&|b| b[20] = 0).contains("number of classes is 0"));
    // Train labels start after header (21 bytes) + names (1+1, 1+3, 1+1 bytes) = 29.
    assert!(err(&|b| b[29] = 3).contains("label 3 out of range"));
    // A header claiming more images than present.
    assert!(err(&|b| b[12] = 4).contains("truncated"));
    // Huge counts must not allocate or panic.
    assert!(err(&|b| b[12..16].copy_from_slice(&u32::MAX.to_le_bytes())).contains("truncated"));
    // Invalid in-memory sets refuse to serialise.
    let mut p = small_prepared();
    p.train_labels.push(0);
    assert!(p.to_bytes().is_err());
    let mut p = small_prepared();
    p.train_labels.clear();
    p.train_pixels.clear();
    assert!(p.to_bytes().unwrap_err().to_string().contains("empty"));
}

#[test]
fn balanced_selection_has_exact_class_counts_and_is_seeded() {
    let labels: Vec<u8> = (0..200).map(|i| ((i * 7) % 10) as u8).collect();
    let pick =
        |seed| cifar::balanced_indices(&labels, 10, 23, &mut Rng::seed_from_u64(seed)).unwrap();
    let a = pick(1);
    assert_eq!(a.len(), 23);
    let mut counts = [0usize; 10];
    for &i in &a {
        counts[usize::from(labels[i])] += 1;
    }
    assert_eq!(counts, [3, 3, 3, 2, 2, 2, 2, 2, 2, 2]);
    let mut s = a.clone();
    s.sort_unstable();
    s.dedup();
    assert_eq!(s.len(), 23, "indices are distinct");
    assert_eq!(a, pick(1));
    assert_ne!(a, pick(2));
    assert!(matches!(
        cifar::balanced_indices(&labels, 10, 201, &mut Rng::seed_from_u64(0)),
        Err(DataError::Request(_))
    ));
}

/// Writes a tfjs-style sheet: one 32×32 RGB image per row, interleaved (HWC).
fn sheet_png(ids: &[usize]) -> Vec<u8> {
    let mut data = Vec::with_capacity(ids.len() * 3072);
    for &id in ids {
        for y in 0..32 {
            for x in 0..32 {
                for c in 0..3 {
                    data.push(px(id, c, y, x));
                }
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, 1024, ids.len() as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().unwrap();
        w.write_image_data(&data).unwrap();
    }
    out
}

#[test]
fn png_sheet_decodes_to_chw_pixel_exactly() {
    let (img, n) = prepare::decode_sheet_png(&sheet_png(&[10, 11, 12, 13])).unwrap();
    assert_eq!(n, 4);
    for k in 0..4 {
        assert_eq!(&img[k * 3072..(k + 1) * 3072], &chw_image(10 + k)[..]);
    }
    assert!(prepare::decode_sheet_png(b"not a png").is_err());
    let sheet = sheet_png(&[1, 2]);
    assert!(prepare::decode_sheet_png(&sheet[..sheet.len() / 2]).is_err());
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("alphacl-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn preparation_from_a_fixture_package_is_balanced_and_pixel_exact() {
    let dir = temp_dir("pkg");
    // Five train sheets of 4 images (ids 0..20, label id mod 10), a test sheet of 10.
    for s in 0..5 {
        let ids: Vec<usize> = (4 * s..4 * s + 4).collect();
        std::fs::write(
            dir.join(format!("data_batch_{}.png", s + 1)),
            sheet_png(&ids),
        )
        .unwrap();
    }
    std::fs::write(
        dir.join("test_batch.png"),
        sheet_png(&(100..110).collect::<Vec<_>>()),
    )
    .unwrap();
    let train_labels: Vec<usize> = (0..20).map(|i| i % 10).collect();
    let test_labels: Vec<usize> = (0..10).map(|i| (i + 3) % 10).collect();
    std::fs::write(
        dir.join("train_lables.json"),
        serde_json::to_string(&train_labels).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("test_lables.json"),
        serde_json::to_string(&test_labels).unwrap(),
    )
    .unwrap();

    let p = prepare::prepare_from_package_dir(&dir, 16, 10, 10, 4, |_| {}).unwrap();
    let mut sorted = p.train_labels.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..10).collect::<Vec<u8>>(), "one image per class");
    for (k, &y) in p.train_labels.iter().enumerate() {
        let got = &p.train_pixels[k * 768..(k + 1) * 768];
        // The image of class y is id y or y + 10.
        let ok = [usize::from(y), usize::from(y) + 10]
            .iter()
            .any(|&id| got == &reference_down(&chw_image(id), 3, 32, 16)[..]);
        assert!(
            ok,
            "train image {k} (class {y}) is not a downsampled source of that class"
        );
    }
    for (k, &y) in p.test_labels.iter().enumerate() {
        let id = 100 + (usize::from(y) + 7) % 10;
        assert_eq!(
            &p.test_pixels[k * 768..(k + 1) * 768],
            &reference_down(&chw_image(id), 3, 32, 16)[..]
        );
    }
    // Write, load back through the native helper, and check determinism of the seed.
    let out = dir.join("out").join("cifar10-16.bin");
    prepare::write_prepared(&p, &out).unwrap();
    let d = prepare::load_prepared_file(&out).unwrap();
    assert_eq!(d.x_train.dim(), (10, 768));
    let again = prepare::prepare_from_package_dir(&dir, 16, 10, 10, 4, |_| {}).unwrap();
    assert_eq!(again, p);

    // Asking for more than exists, and mismatched label files, are errors.
    let e = prepare::prepare_from_package_dir(&dir, 16, 30, 10, 4, |_| {}).unwrap_err();
    assert!(e.to_string().contains("class-balanced"), "{e}");
    std::fs::write(dir.join("test_lables.json"), "[1,2,3]").unwrap();
    let e = prepare::prepare_from_package_dir(&dir, 16, 10, 10, 4, |_| {}).unwrap_err();
    assert!(e.to_string().contains("3 labels"), "{e}");
    std::fs::write(dir.join("test_lables.json"), "[1,2,12]").unwrap();
    assert!(prepare::prepare_from_package_dir(&dir, 16, 10, 10, 4, |_| {}).is_err());
    let e = prepare::load_prepared_file(&dir.join("missing.bin")).unwrap_err();
    assert!(e.to_string().contains("prepare"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cifar_spec_is_loaded_not_generated() {
    let s = DataSpec::parse("cifar:size=16").unwrap();
    assert_eq!(s.to_text(), "cifar:size=16");
    assert_eq!(s.asset_path(), Some("data/cifar10-16.bin"));
    assert_eq!(
        DataSpec::parse("cifar:size=8").unwrap().asset_path(),
        Some("data/cifar10-8.bin")
    );
    assert!(DataSpec::parse("cifar:size=12").is_err());
    assert_eq!(s.train_size(), None);
    let e = s.generate(1).unwrap_err();
    assert!(
        e.0.contains("data/cifar10-16.bin") && e.0.contains("prepare"),
        "{e}"
    );
    assert_eq!(DataSpec::default().asset_path(), None);
    assert_eq!(CLASS_NAMES.len(), 10);
}

#[test]
fn thumbnails_interleave_chw_planes_into_rgba() {
    // 3×1×2 image: R = (0, 1), G = (0.5, 0.2), B = (1, 0).
    let x = [0.0, 1.0, 0.5, 0.2, 1.0, 0.0];
    assert_eq!(
        chw_to_rgba(&x, (3, 1, 2)).unwrap(),
        vec![0, 128, 255, 255, 255, 51, 0, 255]
    );
    assert_eq!(
        chw_to_rgba(&[0.4, 2.0], (1, 1, 2)).unwrap(),
        vec![102, 102, 102, 255, 255, 255, 255, 255]
    );
    assert!(chw_to_rgba(&x, (3, 2, 2)).is_none());
    assert!(chw_to_rgba(&x, (2, 1, 3)).is_none());
    // A prepared image survives the u8 → f32 → RGBA round trip exactly.
    let bytes = small_prepared().to_bytes().unwrap();
    let d = cifar::parse_prepared(&bytes).unwrap();
    let rgba = chw_to_rgba(d.x_train.row(0).as_slice().unwrap(), (3, 2, 2)).unwrap();
    let p = small_prepared();
    for px in 0..4 {
        for ch in 0..3 {
            assert_eq!(rgba[4 * px + ch], p.train_pixels[ch * 4 + px]);
        }
    }
}

#[test]
fn specs_load_prepared_files_from_a_directory_and_check_the_size() {
    let dir = temp_dir("load");
    let mut p = small_prepared();
    p.side = 16;
    p.train_pixels = (0..3 * 768).map(|v| (v % 251) as u8).collect();
    p.test_pixels = vec![9; 768];
    prepare::write_prepared(&p, &dir.join("cifar10-16.bin")).unwrap();
    let spec = DataSpec::parse("cifar:size=16").unwrap();
    let d = spec.load_from_dir(0, &dir).unwrap();
    assert_eq!(d.x_train.dim(), (3, 768));
    assert_eq!(d.x_test[[0, 5]], 9.0 / 255.0);
    // A file of another side under the expected name is rejected.
    p.side = 8;
    p.train_pixels.truncate(3 * 192);
    p.test_pixels.truncate(192);
    prepare::write_prepared(&p, &dir.join("cifar10-16.bin")).unwrap();
    let e = spec.load_from_dir(0, &dir).unwrap_err();
    assert!(e.to_string().contains("16×16"), "{e}");
    // Missing files name the preparation command; toy sets are generated.
    let e = DataSpec::parse("cifar:size=32")
        .unwrap()
        .load_from_dir(0, &dir)
        .unwrap_err();
    assert!(e.to_string().contains("prepare-data.sh"), "{e}");
    let g = DataSpec::default().load_from_dir(1, &dir).unwrap();
    assert_eq!(g.x_train, DataSpec::default().generate(1).unwrap().x_train);
    let _ = std::fs::remove_dir_all(&dir);
}
