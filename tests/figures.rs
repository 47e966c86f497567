//! Figures: PNG bytes decode to the requested size and show data, SVG documents are well-formed
//! with one legend label per run, the α heat map shows the class blocks, the sweep's sensitivity
//! figure ticks at the parameter values and skips non-finite seeds, errors are the right
//! `FigureError`, and `alphacl train --out` writes all six figure files.
//!
//! The same figure code runs in wasm32: `cargo test --target wasm32-unknown-unknown --test
//! figures` (Node, via wasm-bindgen-test) draws every figure there and decodes the PNGs.

#[cfg(target_arch = "wasm32")]
mod wasm {
    use alphacl::figures;
    use alphacl::train::{EvalPoint, History};
    use ndarray::Array2;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn png_size(bytes: &[u8]) -> (u32, u32) {
        let reader = png::Decoder::new(bytes).read_info().expect("PNG decodes");
        let info = reader.info();
        (info.width, info.height)
    }

    #[wasm_bindgen_test]
    fn every_figure_draws_in_wasm_without_the_dom() {
        let h = History {
            loss: (0..100).map(|i| 2.0 / (1.0 + i as f32)).collect(),
            evals: vec![EvalPoint {
                step: 50,
                knn_acc: 0.8,
                probe_acc: Some(0.7),
            }],
            ..History::default()
        };
        let runs = [figures::RunSeries {
            label: "wasm run".into(),
            history: &h,
        }];
        assert_eq!(
            png_size(&figures::curves_png(&runs, 640, 300).unwrap()),
            (640, 300)
        );
        assert!(figures::curves_svg(&runs).unwrap().contains("wasm run"));
        let s = vec![("s".to_string(), vec![0.0, -1.0, -2.5])];
        assert_eq!(
            png_size(&figures::spectrum_png(&s, 400, 300).unwrap()),
            (400, 300)
        );
        assert!(figures::spectrum_svg(&s).unwrap().starts_with("<svg"));
        let a = Array2::from_shape_fn((6, 6), |(i, j)| (i + j) as f32);
        let labels = [0, 1, 0, 1, 2, 2];
        assert_eq!(
            png_size(&figures::alpha_png(a.view(), &labels, 400, 300).unwrap()),
            (400, 300)
        );
        assert!(
            figures::alpha_svg(a.view(), &labels)
                .unwrap()
                .contains("</svg>")
        );
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod native {

    use alphacl::figures::{
        self, ALPHA_SVG_SIZE, CURVES_SVG_SIZE, FigureError, PALETTE, RunSeries, SPECTRUM_SVG_SIZE,
    };
    use alphacl::train::{EvalPoint, History};
    use ndarray::Array2;
    use quick_xml::events::Event;
    use std::collections::HashSet;

    /// A decoded RGB(A) image.
    struct Image {
        width: u32,
        height: u32,
        channels: usize,
        data: Vec<u8>,
    }

    impl Image {
        fn rgb(&self, x: u32, y: u32) -> (u8, u8, u8) {
            let k = (y as usize * self.width as usize + x as usize) * self.channels;
            (self.data[k], self.data[k + 1], self.data[k + 2])
        }

        fn distinct_colours(&self) -> usize {
            let mut set = HashSet::new();
            for y in 0..self.height {
                for x in 0..self.width {
                    set.insert(self.rgb(x, y));
                }
            }
            set.len()
        }

        /// Fraction of non-white pixels in the rectangle [x0, x1) × [y0, y1).
        fn ink(&self, x0: u32, y0: u32, x1: u32, y1: u32) -> f64 {
            let mut n = 0usize;
            for y in y0..y1 {
                for x in x0..x1 {
                    if self.rgb(x, y) != (255, 255, 255) {
                        n += 1;
                    }
                }
            }
            n as f64 / f64::from((x1 - x0) * (y1 - y0))
        }

        fn contains(&self, c: (u8, u8, u8)) -> bool {
            (0..self.height).any(|y| (0..self.width).any(|x| self.rgb(x, y) == c))
        }
    }

    fn decode_png(bytes: &[u8]) -> Image {
        let decoder = png::Decoder::new(bytes);
        let mut reader = decoder.read_info().expect("PNG header decodes");
        let mut data = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut data).expect("PNG data decodes");
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        let channels = match info.color_type {
            png::ColorType::Rgb => 3,
            png::ColorType::Rgba => 4,
            other => panic!("unexpected colour type {other:?}"),
        };
        data.truncate(info.buffer_size());
        Image {
            width: info.width,
            height: info.height,
            channels,
            data,
        }
    }

    /// What the tests need from an SVG document.
    struct Svg {
        width: String,
        height: String,
        texts: Vec<String>,
        rects: usize,
    }

    /// Parses `s` as XML end to end (panics if it is not well-formed) and collects the root's size,
    /// the content of every `<text>` (entities resolved, trimmed) and the number of `<rect>`s.
    fn parse_svg(s: &str) -> Svg {
        let mut reader = quick_xml::Reader::from_str(s);
        let (mut depth, mut roots) = (0usize, 0usize);
        let (mut width, mut height) = (String::new(), String::new());
        let mut texts = Vec::new();
        let mut current: Option<String> = None;
        let mut rects = 0;
        let attr = |e: &quick_xml::events::BytesStart, name: &str| -> String {
            e.try_get_attribute(name)
                .expect("attributes parse")
                .map(|a| String::from_utf8(a.value.to_vec()).expect("utf-8"))
                .unwrap_or_default()
        };
        loop {
            match reader.read_event().expect("SVG is well-formed XML") {
                Event::Start(e) => {
                    if depth == 0 {
                        roots += 1;
                        assert_eq!(e.name().as_ref(), b"svg", "root element is <svg>");
                        width = attr(&e, "width");
                        height = attr(&e, "height");
                    }
                    if e.name().as_ref() == b"text" {
                        current = Some(String::new());
                    }
                    depth += 1;
                }
                Event::Empty(e) => {
                    assert!(depth > 0, "no element outside the root");
                    if e.name().as_ref() == b"rect" {
                        rects += 1;
                    }
                }
                Event::End(e) => {
                    depth -= 1;
                    if e.name().as_ref() == b"text" {
                        texts.push(current.take().expect("text open").trim().to_string());
                    }
                }
                Event::Text(t) => {
                    if let Some(c) = current.as_mut() {
                        c.push_str(&t.decode().expect("utf-8 text"));
                    }
                }
                Event::GeneralRef(r) => {
                    if let Some(c) = current.as_mut() {
                        let ch = match r.decode().expect("utf-8 ref").as_ref() {
                            "lt" => '<',
                            "gt" => '>',
                            "amp" => '&',
                            "quot" => '"',
                            "apos" => '\'',
                            _ => r
                                .resolve_char_ref()
                                .expect("valid char ref")
                                .expect("known entity"),
                        };
                        c.push(ch);
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(depth, 0, "every element is closed");
        assert_eq!(roots, 1, "exactly one root element");
        Svg {
            width,
            height,
            texts,
            rects,
        }
    }

    /// A history of `steps` steps with a decaying loss and an evaluation every 10 steps (probe every
    /// 30).
    fn history(steps: usize, offset: f32) -> History {
        let loss: Vec<f32> = (0..steps)
            .map(|i| {
                offset + 2.0 * (-(i as f32) / 40.0).exp() + 0.05 * ((i * 7 % 11) as f32 / 11.0)
            })
            .collect();
        let evals = (0..=steps)
            .step_by(10)
            .map(|s| EvalPoint {
                step: s,
                knn_acc: 0.3 + 0.6 * s as f64 / steps as f64,
                probe_acc: (s % 30 == 0).then_some(0.25 + 0.5 * s as f64 / steps as f64),
            })
            .collect();
        History {
            time: (0..steps).map(|i| i as f32 * 0.01).collect(),
            loss,
            evals,
            ..History::default()
        }
    }

    #[test]
    fn curves_png_has_the_size_and_draws_each_run_in_both_panels() {
        let (h1, h2) = (history(200, 1.0), history(150, 1.5));
        let runs = [
            RunSeries {
                label: "infonce".into(),
                history: &h1,
            },
            RunSeries {
                label: "acl-direct".into(),
                history: &h2,
            },
        ];
        let img = decode_png(&figures::curves_png(&runs, 900, 420).unwrap());
        assert_eq!((img.width, img.height), (900, 420));
        assert!(img.distinct_colours() > 30, "{}", img.distinct_colours());
        for (k, &c) in PALETTE.iter().enumerate().take(2) {
            assert!(img.contains(c), "run {k} colour drawn");
        }
        assert!(!img.contains(PALETTE[2]), "only two runs");
        // Each panel's interior (away from axes and titles) carries curves and grid, not just
        // background.
        let loss_ink = img.ink(120, 80, 430, 340);
        let acc_ink = img.ink(570, 80, 880, 340);
        assert!(loss_ink > 0.01, "loss panel ink {loss_ink}");
        assert!(acc_ink > 0.01, "accuracy panel ink {acc_ink}");
    }

    #[test]
    fn curves_svg_is_well_formed_with_one_legend_label_per_run() {
        let (h1, h2, h3) = (history(60, 1.0), history(60, 2.0), history(5, 0.5));
        let labels = [
            "nt-xent:tau=0.5",
            "acl <direct> & p=4",
            "third run",
            "fourth",
        ];
        let runs: Vec<RunSeries> = labels
            .iter()
            .zip([&h1, &h2, &h3, &h1])
            .map(|(l, h)| RunSeries {
                label: l.to_string(),
                history: h,
            })
            .collect();
        let svg = parse_svg(&figures::curves_svg(&runs).unwrap());
        assert_eq!(svg.width, CURVES_SVG_SIZE.0.to_string());
        assert_eq!(svg.height, CURVES_SVG_SIZE.1.to_string());
        for l in labels {
            assert_eq!(
                svg.texts.iter().filter(|t| t.as_str() == l).count(),
                1,
                "legend label {l:?} in {:?}",
                svg.texts
            );
        }
        for t in [
            "training curves",
            "step",
            "loss",
            "accuracy",
            "kNN",
            "linear probe",
        ] {
            assert!(svg.texts.iter().any(|x| x == t), "{t:?} missing");
        }
    }

    #[test]
    fn spectrum_png_and_svg_draw_every_series() {
        let a: Vec<f64> = (0..16).map(|k| -0.5 - 0.2 * k as f64).collect();
        let mut b: Vec<f64> = (0..16).map(|k| -1.0 - 0.1 * k as f64).collect();
        b[15] = f64::NEG_INFINITY; // skipped, not an error
        let series = vec![("step 100".to_string(), a), ("step 900".to_string(), b)];
        let img = decode_png(&figures::spectrum_png(&series, 640, 480).unwrap());
        assert_eq!((img.width, img.height), (640, 480));
        assert!(img.distinct_colours() > 20);
        assert!(img.contains(PALETTE[0]) && img.contains(PALETTE[1]));
        assert!(img.ink(150, 80, 600, 380) > 0.01);
        let svg = parse_svg(&figures::spectrum_svg(&series).unwrap());
        assert_eq!(svg.width, SPECTRUM_SVG_SIZE.0.to_string());
        assert_eq!(svg.height, SPECTRUM_SVG_SIZE.1.to_string());
        for l in ["step 100", "step 900", "embedding spectrum"] {
            assert_eq!(
                svg.texts.iter().filter(|t| t.as_str() == l).count(),
                1,
                "{l}"
            );
        }
    }

    /// Block-diagonal α (1 within a class, 0 across, 0 on the diagonal) with interleaved labels.
    fn block_alpha(n: usize, classes: usize) -> (Array2<f32>, Vec<usize>) {
        let labels: Vec<usize> = (0..n).map(|i| (i * 7) % classes).collect();
        let a = Array2::from_shape_fn((n, n), |(i, j)| {
            if i != j && labels[i] == labels[j] {
                1.0
            } else {
                0.0
            }
        });
        (a, labels)
    }

    #[test]
    fn alpha_png_shows_sorted_class_blocks_at_the_layout_positions() {
        let (n, w, h) = (60usize, 600u32, 500u32);
        let (a, labels) = block_alpha(n, 3);
        let img = decode_png(&figures::alpha_png(a.view(), &labels, w, h).unwrap());
        assert_eq!((img.width, img.height), (w, h));
        let r = figures::alpha_plot_area(w, h).unwrap();
        let side = f64::from(r.x1 - r.x0);
        // Centre pixel of sorted cell (row, col).
        let px = |row: usize, col: usize| {
            let c = |k: usize, o: i32| (f64::from(o) + (k as f64 + 0.5) * side / n as f64) as u32;
            img.rgb(c(col, r.x0), c(row, r.y0))
        };
        let bright = |c: (u8, u8, u8)| u32::from(c.0) + u32::from(c.1);
        // Sorted: class 0 = rows 0..20, class 1 = 20..40, class 2 = 40..60.
        for (on, off) in [
            ((5, 15), (5, 30)),
            ((25, 35), (25, 50)),
            ((45, 55), (45, 10)),
        ] {
            let (c_on, c_off) = (px(on.0, on.1), px(off.0, off.1));
            assert!(bright(c_on) > 400, "same class {on:?}: {c_on:?}");
            assert!(bright(c_off) < 150, "different class {off:?}: {c_off:?}");
        }
        // The diagonal (self pairs, α = 0) is dark even inside a block.
        assert!(bright(px(10, 10)) < 150);
        // A thin white boundary line between classes 0 and 1, inside the plot.
        let bx = r.x0 + (20.0 * side / n as f64).round() as i32;
        let mid_row = r.y0 + (10.5 * side / n as f64) as i32;
        assert_eq!(img.rgb(bx as u32, mid_row as u32), (255, 255, 255));
        // Outside the plot (left margin above the labels) is background.
        assert_eq!(img.rgb(5, (r.y0 + 2) as u32), (255, 255, 255));
    }

    #[test]
    fn small_and_extreme_png_sizes_still_draw() {
        let h = history(40, 1.0);
        let runs = [RunSeries {
            label: "a rather long legend label for a small figure".into(),
            history: &h,
        }];
        let spec = vec![("s".to_string(), vec![0.0, -1.0, -3.0])];
        let (a, labels) = block_alpha(30, 3);
        let min = figures::MIN_PNG_SIZE;
        for (w, h) in [min, (2000, min.1), (min.0, 1500)] {
            for bytes in [
                figures::curves_png(&runs, w, h),
                figures::spectrum_png(&spec, w, h),
                figures::alpha_png(a.view(), &labels, w, h),
            ] {
                let img = decode_png(&bytes.unwrap_or_else(|e| panic!("{w}×{h}: {e}")));
                assert_eq!((img.width, img.height), (w, h));
                assert!(img.distinct_colours() > 10, "{w}×{h}");
            }
        }
    }

    #[test]
    fn alpha_layout_scales_with_the_canvas() {
        let (w, h) = ALPHA_SVG_SIZE;
        let one = figures::alpha_plot_area(w, h).unwrap();
        let two = figures::alpha_plot_area(2 * w, 2 * h).unwrap();
        assert_eq!(
            (two.x0, two.y0, two.x1, two.y1),
            (2 * one.x0, 2 * one.y0, 2 * one.x1, 2 * one.y1)
        );
        assert!(one.x1 - one.x0 == one.y1 - one.y0, "square");
        assert!(one.x1 < w as i32 && one.y1 < h as i32);
        assert!(matches!(
            figures::alpha_plot_area(100, 100),
            Err(FigureError::Size { .. })
        ));
    }

    #[test]
    fn alpha_svg_aggregates_large_batches_to_at_most_128_cells_per_side() {
        let (a, labels) = block_alpha(256, 4);
        let text = figures::alpha_svg(a.view(), &labels).unwrap();
        let svg = parse_svg(&text);
        assert_eq!(svg.width, ALPHA_SVG_SIZE.0.to_string());
        assert_eq!(svg.height, ALPHA_SVG_SIZE.1.to_string());
        let cells = 128 * 128;
        // Cells, plus background, border, colour-bar strips and its frame (< 120 extra).
        assert!(
            svg.rects >= cells && svg.rects < cells + 120,
            "{} rects",
            svg.rects
        );
        assert!(svg.texts.iter().any(|t| t == "pairwise importance α"));
        assert!(svg.texts.iter().any(|t| t.contains("2×2 block means")));
        // A small batch keeps every cell.
        let (a, labels) = block_alpha(40, 4);
        let svg = parse_svg(&figures::alpha_svg(a.view(), &labels).unwrap());
        assert!(svg.rects >= 1600 && svg.rects < 1600 + 120, "{}", svg.rects);
    }

    #[test]
    fn non_finite_values_are_skipped_unless_everything_is_non_finite() {
        let mut h = history(50, 1.0);
        h.loss[3] = f32::NAN;
        h.loss[7] = f32::INFINITY;
        h.evals[1].knn_acc = f64::NAN;
        let runs = [RunSeries {
            label: "r".into(),
            history: &h,
        }];
        assert!(figures::curves_png(&runs, 640, 300).is_ok());
        assert!(figures::curves_svg(&runs).is_ok());
        let (mut a, labels) = block_alpha(8, 2);
        a[[0, 1]] = f32::NAN;
        assert!(figures::alpha_svg(a.view(), &labels).is_ok());

        let nan = History {
            loss: vec![f32::NAN; 10],
            ..History::default()
        };
        let runs = [RunSeries {
            label: "nan".into(),
            history: &nan,
        }];
        assert!(matches!(
            figures::curves_svg(&runs),
            Err(FigureError::NonFinite(_))
        ));
        let all_nan = Array2::from_elem((4, 4), f32::NAN);
        assert!(matches!(
            figures::alpha_png(all_nan.view(), &[0, 0, 1, 1], 400, 300),
            Err(FigureError::NonFinite(_))
        ));
        let s = vec![("x".to_string(), vec![f64::NAN, f64::INFINITY])];
        assert!(matches!(
            figures::spectrum_svg(&s),
            Err(FigureError::NonFinite(_))
        ));
    }

    #[test]
    fn bad_input_gives_the_matching_error() {
        let h = history(20, 1.0);
        let empty = History::default();
        let run = |label: &str, history| RunSeries {
            label: label.into(),
            history,
        };
        assert!(matches!(
            figures::curves_svg(&[]),
            Err(FigureError::NoData(_))
        ));
        assert!(matches!(
            figures::curves_png(&[run("e", &empty)], 640, 300),
            Err(FigureError::NoData(_))
        ));
        let five: Vec<RunSeries> = (0..5).map(|k| run(&format!("r{k}"), &h)).collect();
        assert_eq!(
            figures::curves_svg(&five).unwrap_err(),
            FigureError::TooManyRuns { got: 5, max: 4 }
        );
        assert_eq!(
            figures::curves_png(&[run("r", &h)], 10, 10).unwrap_err(),
            FigureError::Size {
                width: 10,
                height: 10
            }
        );

        let a = Array2::<f32>::zeros((0, 0));
        assert!(matches!(
            figures::alpha_svg(a.view(), &[]),
            Err(FigureError::NoData(_))
        ));
        let a = Array2::<f32>::zeros((3, 4));
        assert_eq!(
            figures::alpha_svg(a.view(), &[0, 1, 2]).unwrap_err(),
            FigureError::NotSquare { rows: 3, cols: 4 }
        );
        let a = Array2::<f32>::zeros((4, 4));
        let err = figures::alpha_png(a.view(), &[0, 1], 400, 300).unwrap_err();
        assert_eq!(err, FigureError::LabelsMismatch { labels: 2, rows: 4 });
        assert!(err.to_string().contains("one label per row"), "{err}");

        assert!(matches!(
            figures::spectrum_svg(&[]),
            Err(FigureError::NoData(_))
        ));
        assert!(matches!(
            figures::spectrum_png(&[("x".into(), vec![])], 640, 480),
            Err(FigureError::NoData(_))
        ));
        let nine: Vec<(String, Vec<f64>)> = (0..9).map(|k| (format!("s{k}"), vec![0.0])).collect();
        assert_eq!(
            figures::spectrum_svg(&nine).unwrap_err(),
            FigureError::TooManyRuns { got: 9, max: 8 }
        );
    }

    #[test]
    fn train_cli_writes_all_six_figures() {
        let dir = std::env::temp_dir().join(format!("alphacl-figures-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_alphacl"))
            .args([
                "train",
                "--set",
                "data=gauss:k=3,d=8,n=256",
                "--set",
                "batch=32",
                "--steps",
                "30",
                "--quiet",
                "--out",
            ])
            .arg(&dir)
            .output()
            .expect("the alphacl binary runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(!stderr.contains("warning: figure"), "{stderr}");
        for name in ["curves", "spectrum", "alpha"] {
            let png = std::fs::read(dir.join(format!("{name}.png"))).expect("PNG written");
            let img = decode_png(&png);
            assert!(img.width >= 240 && img.height >= 180, "{name}");
            assert!(img.distinct_colours() > 20, "{name} is not blank");
            let svg =
                std::fs::read_to_string(dir.join(format!("{name}.svg"))).expect("SVG written");
            let svg = parse_svg(&svg);
            assert!(!svg.width.is_empty() && !svg.texts.is_empty(), "{name}");
        }
        // The α figure covers the 2B = 64 rows of the last batch.
        let alpha = parse_svg(&std::fs::read_to_string(dir.join("alpha.svg")).unwrap());
        assert!(
            alpha.texts.iter().any(|t| t.contains("2B = 64")),
            "{:?}",
            alpha.texts
        );
        assert!(alpha.rects >= 64 * 64);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The sensitivity figure (metrics against τ or p, mean ± std over seeds): sizes, colours,
    /// the SVG's title, axes, value ticks and legend, non-finite handling and errors.
    mod sensitivity {
        use super::{Image, decode_png, parse_svg};
        use alphacl::figures::{
            FigureError, MAX_SENSITIVITY_PANELS, MAX_SENSITIVITY_SERIES, PALETTE,
            SENSITIVITY_SVG_SIZE, Sensitivity, SensitivityPoint, SensitivitySeries,
            sensitivity_png, sensitivity_svg,
        };

        /// `series` lines over τ ∈ {0.05, 0.1, 0.2, 0.5, 1, 2} with three seeds each and three panels.
        fn tau_figure(series: usize) -> Sensitivity {
            let taus = [0.05, 0.1, 0.2, 0.5, 1.0, 2.0];
            Sensitivity {
                title: "sensitivity to τ".into(),
                param: "τ (log scale)".into(),
                log_x: true,
                panels: vec![
                    "kNN accuracy".into(),
                    "linear-probe accuracy".into(),
                    "effective rank".into(),
                ],
                series: (0..series)
                    .map(|j| SensitivitySeries {
                        label: format!("loss {j}"),
                        points: taus
                            .iter()
                            .enumerate()
                            .map(|(i, &x)| {
                                let base = 0.5 + 0.05 * i as f64 + 0.01 * j as f64;
                                SensitivityPoint {
                                    x,
                                    seeds: vec![
                                        vec![base - 0.02, base, base + 0.02],
                                        vec![base + 0.05, base + 0.06, base + 0.04],
                                        vec![16.0 - i as f64, 15.5 - i as f64, 15.0 - i as f64],
                                    ],
                                }
                            })
                            .collect(),
                    })
                    .collect(),
            }
        }

        fn rgb(k: usize) -> (u8, u8, u8) {
            PALETTE[k]
        }

        /// Pixels of exactly colour `c`.
        fn count(img: &Image, c: (u8, u8, u8)) -> usize {
            (0..img.height)
                .flat_map(|y| (0..img.width).map(move |x| (x, y)))
                .filter(|&(x, y)| img.rgb(x, y) == c)
                .count()
        }

        fn svg_texts(svg: &str) -> Vec<String> {
            parse_svg(svg).texts
        }

        #[test]
        fn png_has_the_requested_size_and_every_series_colour() {
            let fig = tau_figure(4);
            for (w, h) in [(1800, 660), (1200, 440), (640, 300)] {
                let img = decode_png(&sensitivity_png(&fig, w, h).unwrap());
                assert_eq!((img.width, img.height), (w, h));
                let ink = img.ink(0, 0, w, h);
                assert!(ink > 0.02 && ink < 0.6, "{w}×{h}: ink {ink}");
                for k in 0..4 {
                    assert!(count(&img, rgb(k)) > 20, "{w}×{h}: series {k} not drawn");
                }
                assert_eq!(count(&img, rgb(4)), 0, "{w}×{h}: a fifth colour appeared");
            }
        }

        #[test]
        fn svg_is_well_formed_with_title_axes_ticks_and_one_label_per_series() {
            let fig = tau_figure(3);
            let svg = sensitivity_svg(&fig).unwrap();
            let (w, h) = SENSITIVITY_SVG_SIZE;
            assert!(
                svg.contains(&format!("width=\"{w}\"")) && svg.contains(&format!("height=\"{h}\""))
            );
            let texts = svg_texts(&svg);
            let has = |t: &str| texts.iter().filter(|x| *x == t).count();
            assert_eq!(has("sensitivity to τ"), 1, "{texts:?}");
            for p in &fig.panels {
                assert_eq!(has(p), 1, "{p}: {texts:?}");
            }
            assert_eq!(has("τ (log scale)"), 3, "one x description per panel");
            for j in 0..3 {
                assert_eq!(has(&format!("loss {j}")), 1, "legend label {j}");
            }
            // Ticks sit at the parameter values themselves, on every panel.
            for tick in ["0.05", "0.1", "0.2", "0.5", "1", "2"] {
                assert_eq!(has(tick), 3, "tick {tick}: {texts:?}");
            }
        }

        #[test]
        fn linear_axes_with_many_values_fall_back_to_automatic_ticks() {
            let fig = Sensitivity {
                title: "p".into(),
                param: "p".into(),
                log_x: false,
                panels: vec!["kNN accuracy".into()],
                series: vec![SensitivitySeries {
                    label: "acl-direct".into(),
                    points: (1..=20)
                        .map(|p| SensitivityPoint {
                            x: f64::from(p),
                            seeds: vec![vec![0.5 + 0.01 * f64::from(p)]],
                        })
                        .collect(),
                }],
            };
            let texts = svg_texts(&sensitivity_svg(&fig).unwrap());
            let numeric = texts.iter().filter(|t| t.parse::<f64>().is_ok()).count();
            assert!(numeric >= 6, "{texts:?}");
            let img = decode_png(&sensitivity_png(&fig, 900, 400).unwrap());
            assert!(count(&img, rgb(0)) > 20);
        }

        #[test]
        fn non_finite_values_are_skipped_and_only_all_non_finite_is_an_error() {
            let mut fig = tau_figure(2);
            // Series 0: one seed NaN everywhere, one point entirely non-finite; series 1 untouched.
            for p in &mut fig.series[0].points {
                for v in &mut p.seeds {
                    v[0] = f64::NAN;
                }
            }
            fig.series[0].points[2].seeds = vec![vec![f64::INFINITY]; 3];
            fig.series[0].points[3].x = f64::NAN;
            let svg = sensitivity_svg(&fig).unwrap();
            assert!(
                !svg.contains("NaN") && !svg.contains("inf"),
                "no NaN coordinates"
            );
            let img = decode_png(&sensitivity_png(&fig, 1200, 440).unwrap());
            assert!(count(&img, rgb(0)) > 20 && count(&img, rgb(1)) > 20);

            // One panel with nothing finite: the figure still draws and says so there.
            let mut fig = tau_figure(1);
            for p in &mut fig.series[0].points {
                p.seeds[2] = vec![f64::NAN, f64::NEG_INFINITY];
            }
            let texts = svg_texts(&sensitivity_svg(&fig).unwrap());
            assert!(texts.iter().any(|t| t == "no finite values"), "{texts:?}");

            // Everything non-finite: an error, not an empty picture.
            for p in &mut fig.series[0].points {
                p.seeds = vec![vec![f64::NAN]; 3];
            }
            assert!(matches!(
                sensitivity_svg(&fig),
                Err(FigureError::NonFinite(_))
            ));
            assert!(matches!(
                sensitivity_png(&fig, 800, 400),
                Err(FigureError::NonFinite(_))
            ));
        }

        #[test]
        fn bad_input_is_the_right_error() {
            let mut fig = tau_figure(1);
            fig.series.clear();
            assert!(matches!(sensitivity_svg(&fig), Err(FigureError::NoData(_))));
            let mut fig = tau_figure(1);
            fig.panels.clear();
            assert!(matches!(sensitivity_svg(&fig), Err(FigureError::NoData(_))));
            let fig = tau_figure(MAX_SENSITIVITY_SERIES + 1);
            assert!(matches!(
                sensitivity_svg(&fig),
                Err(FigureError::TooManyRuns { .. })
            ));
            let mut fig = tau_figure(1);
            fig.panels = vec!["p".into(); MAX_SENSITIVITY_PANELS + 1];
            assert!(matches!(
                sensitivity_svg(&fig),
                Err(FigureError::TooManyPanels { .. })
            ));
            let mut fig = tau_figure(1);
            fig.series[0].points[1].seeds.pop();
            let e = sensitivity_svg(&fig).unwrap_err();
            assert!(
                matches!(
                    e,
                    FigureError::PanelsMismatch {
                        got: 2,
                        panels: 3,
                        ..
                    }
                ),
                "{e}"
            );
            assert!(matches!(
                sensitivity_png(&tau_figure(1), 100, 100),
                Err(FigureError::Size { .. })
            ));
        }
    }
}
