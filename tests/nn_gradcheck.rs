//! Finite-difference gradient checks, in f64, of every layer and every encoder.
//!
//! The test objective is L = Σ R ⊙ Y for a fixed random R, so ∂L/∂Y = R; central differences
//! with h = 1e-6 must match the hand-written backward passes to a relative error < 1e-6
//! (‖analytic − numeric‖_∞ / ‖numeric‖_∞), far inside the 1e-4 acceptance bar.

use alphacl::nn::batchnorm::{BN_MOMENTUM, BatchNorm, GlobalAvgPool};
use alphacl::nn::layers::{Activation, Conv2d, Layer, LayerCache, Linear, Mode, Pool2d, PoolKind};
use alphacl::nn::{Encoder, EncoderSpec};
use alphacl::rng::Rng;
use ndarray::Array2;

const H: f64 = 1e-6;
const TOL: f64 = 1e-6;

fn randn(r: usize, c: usize, rng: &mut Rng) -> Array2<f64> {
    Array2::from_shape_simple_fn((r, c), || rng.normal())
}

fn rel_err(a: &[f64], n: &[f64]) -> f64 {
    let scale = n.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-12);
    a.iter()
        .zip(n)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

/// L = Σ R ⊙ layer(x), in train mode (BatchNorm uses the batch statistics).
fn layer_loss(layer: &Layer<f64>, x: &Array2<f64>, r: &Array2<f64>) -> f64 {
    let mut y = Array2::zeros(r.dim());
    let mut cache = LayerCache::default();
    layer.forward(x.view(), y.view_mut(), &mut cache, Mode::Train);
    (&y * r).sum()
}

/// Checks ∂L/∂x and ∂L/∂θ of one layer against central differences.
fn check_layer(mut layer: Layer<f64>, x: Array2<f64>, seed: u64) {
    let mut rng = Rng::seed_from_u64(seed);
    let n = x.nrows();
    let r = randn(n, layer.out_dim(), &mut rng);
    // analytic
    let mut y = Array2::zeros(r.dim());
    let mut cache = LayerCache::default();
    layer.forward(x.view(), y.view_mut(), &mut cache, Mode::Train);
    let mut g = r.clone();
    let mut gx = Array2::zeros(x.dim());
    layer.backward(
        x.view(),
        y.view(),
        g.view_mut(),
        Some(gx.view_mut()),
        &mut cache,
    );
    let grads: Vec<Vec<f64>> = layer
        .params_and_grads()
        .iter()
        .map(|(_, g)| g.to_vec())
        .collect();
    // input gradient
    let mut num = Vec::new();
    for i in 0..x.len() {
        let mut xp = x.clone();
        let mut xm = x.clone();
        xp.as_slice_mut().unwrap()[i] += H;
        xm.as_slice_mut().unwrap()[i] -= H;
        num.push((layer_loss(&layer, &xp, &r) - layer_loss(&layer, &xm, &r)) / (2.0 * H));
    }
    let e = rel_err(gx.as_slice().unwrap(), &num);
    assert!(e < TOL, "input gradient of {layer:?}: rel err {e}");
    // parameter gradients
    for (t, ga) in grads.iter().enumerate() {
        let mut num = Vec::new();
        for i in 0..ga.len() {
            let f = |d: f64| {
                let mut l2 = layer.clone();
                l2.params_and_grads()[t].0[i] += d;
                layer_loss(&l2, &x, &r)
            };
            num.push((f(H) - f(-H)) / (2.0 * H));
        }
        let e = rel_err(ga, &num);
        assert!(e < TOL, "parameter tensor {t} of {layer:?}: rel err {e}");
    }
}

#[test]
fn activation_derivatives_from_outputs_match_finite_differences() {
    for act in [
        Activation::Identity,
        Activation::Relu,
        Activation::LeakyRelu,
        Activation::Tanh,
    ] {
        for &x in &[-1.7f64, -0.3, 0.2, 0.9, 2.5] {
            let num = (act.apply(x + H) - act.apply(x - H)) / (2.0 * H);
            let ana = act.grad_from_output(act.apply(x));
            assert!((num - ana).abs() < 1e-7, "{act:?} at {x}: {num} vs {ana}");
        }
    }
}

#[test]
fn linear_layer_gradients_for_every_activation_with_and_without_bias() {
    let mut rng = Rng::seed_from_u64(1);
    for (k, act) in [
        Activation::Identity,
        Activation::Relu,
        Activation::LeakyRelu,
        Activation::Tanh,
    ]
    .into_iter()
    .enumerate()
    {
        for bias in [false, true] {
            let mut lin = Linear::<f64>::new(5, 4, bias, act, 1.0, &mut rng);
            if let Some(b) = &mut lin.b {
                b.mapv_inplace(|_| rng.normal() * 0.3);
            }
            check_layer(Layer::Linear(lin), randn(6, 5, &mut rng), 10 + k as u64);
        }
    }
}

#[test]
fn conv_layer_gradients_with_stride_and_padding() {
    let mut rng = Rng::seed_from_u64(2);
    for (shape, c_out, stride, pad, act) in [
        ((2, 5, 5), 3, 1, 1, Activation::Relu),
        ((3, 6, 7), 2, 2, 0, Activation::Identity),
        ((1, 6, 6), 2, 2, 1, Activation::Tanh),
    ] {
        let mut conv = Conv2d::<f64>::new(shape, c_out, stride, pad, act, &mut rng).unwrap();
        conv.b.mapv_inplace(|_| rng.normal() * 0.3);
        let d = shape.0 * shape.1 * shape.2;
        check_layer(Layer::Conv(conv), randn(3, d, &mut rng), 20);
    }
}

#[test]
fn conv_matches_direct_convolution_sum() {
    // y[co, i, j] = b[co] + Σ_{c,ki,kj} W[co, (c,ki,kj)] · x[c, i·s+ki−p, j·s+kj−p] (zero outside).
    let mut rng = Rng::seed_from_u64(3);
    let (c, h, w, co, s, p) = (2, 5, 4, 3, 2, 1);
    let mut conv = Conv2d::<f64>::new((c, h, w), co, s, p, Activation::Identity, &mut rng).unwrap();
    conv.b.mapv_inplace(|_| rng.normal());
    let x = randn(1, c * h * w, &mut rng);
    let (_, ho, wo) = conv.output();
    assert_eq!((ho, wo), ((h + 2 * p - 3) / s + 1, (w + 2 * p - 3) / s + 1));
    let mut y = Array2::zeros((1, co * ho * wo));
    conv.forward(x.view(), y.view_mut(), &mut LayerCache::default());
    for o in 0..co {
        for i in 0..ho {
            for j in 0..wo {
                let mut acc = conv.b[o];
                for ci in 0..c {
                    for ki in 0..3 {
                        for kj in 0..3 {
                            let (ii, jj) = (
                                (i * s + ki) as isize - p as isize,
                                (j * s + kj) as isize - p as isize,
                            );
                            if ii >= 0 && jj >= 0 && (ii as usize) < h && (jj as usize) < w {
                                acc += conv.w[[o, ci * 9 + ki * 3 + kj]]
                                    * x[[0, ci * h * w + ii as usize * w + jj as usize]];
                            }
                        }
                    }
                }
                assert!((acc - y[[0, (o * ho + i) * wo + j]]).abs() < 1e-12);
            }
        }
    }
}

#[test]
fn pooling_and_flatten_gradients() {
    let mut rng = Rng::seed_from_u64(4);
    for kind in [PoolKind::Max, PoolKind::Avg] {
        let pool = Pool2d {
            kind,
            input: (2, 4, 5),
        };
        check_layer(Layer::Pool(pool), randn(3, 40, &mut rng), 30);
    }
    check_layer(Layer::Flatten(12), randn(2, 12, &mut rng), 31);
}

/// Full-encoder check: every parameter (or a strided subset for big tensors).
fn check_encoder(spec: &str, dim: usize, image: Option<(usize, usize, usize)>, n: usize) {
    let mut rng = Rng::seed_from_u64(5);
    let mut enc: Encoder<f64> = EncoderSpec::parse(spec)
        .unwrap()
        .build(dim, image, &mut rng)
        .unwrap();
    // Non-zero biases so that every code path is exercised.
    for (p, _) in enc.params_and_grads() {
        if p.len() < 64 {
            for v in p.iter_mut() {
                *v += 0.1 * rng.normal();
            }
        }
    }
    let x = randn(n, dim, &mut rng);
    let r = randn(n, enc.out_dim(), &mut rng);
    enc.forward(&x);
    enc.backward(&r);
    let grads: Vec<Vec<f64>> = enc
        .params_and_grads()
        .iter()
        .map(|(_, g)| g.to_vec())
        .collect();
    assert!(!grads.is_empty());
    // Train-mode forward passes (BatchNorm normalises with the batch statistics, as in the
    // pass that was differentiated).
    let loss = |e: &Encoder<f64>| (&e.clone().forward(&x) * &r).sum();
    for (t, ga) in grads.iter().enumerate() {
        let stride = (ga.len() / 60).max(1);
        let idx: Vec<usize> = (0..ga.len()).step_by(stride).collect();
        let mut num = Vec::new();
        for &i in &idx {
            let f = |d: f64| {
                let mut e2 = enc.clone();
                e2.params_and_grads()[t].0[i] += d;
                loss(&e2)
            };
            num.push((f(H) - f(-H)) / (2.0 * H));
        }
        let ana: Vec<f64> = idx.iter().map(|&i| ga[i]).collect();
        let e = rel_err(&ana, &num);
        assert!(e < TOL, "{spec}: parameter tensor {t}: rel err {e}");
    }
}

#[test]
fn encoder_gradients_linear_deep_linear_relu2() {
    check_encoder("linear:out=3", 5, None, 4);
    check_encoder("deep-linear:L=3,width=4,out=3,wnorm=none", 5, None, 4);
    check_encoder("deep-linear:L=3,width=4", 5, None, 4);
    check_encoder("relu2:hidden=6,out=4", 5, None, 7);
}

#[test]
fn encoder_gradients_mlp_every_activation() {
    for act in ["relu", "leaky", "tanh"] {
        check_encoder(&format!("mlp:hidden=7,out=3,act={act}"), 5, None, 6);
    }
}

#[test]
fn encoder_gradients_cnn_small() {
    check_encoder("cnn:small,out=4", 3 * 8 * 8, Some((3, 8, 8)), 2);
}

#[test]
fn encoder_gradients_bn_cnn_with_and_without_head() {
    check_encoder(
        "cnn:width=2,blocks=3,head=5,out=3",
        3 * 8 * 8,
        Some((3, 8, 8)),
        4,
    );
    check_encoder("cnn:width=3,blocks=2,head=0", 2 * 6 * 5, Some((2, 6, 5)), 3);
}

#[test]
fn batchnorm_gradients_over_channels_and_features() {
    let mut rng = Rng::seed_from_u64(40);
    // (channels, values per channel, rows): vectors (P = 1) and images (P = H·W).
    for (k, (c, p, n, act)) in [
        (4, 1, 6, Activation::Identity),
        (4, 1, 5, Activation::Relu),
        (3, 6, 3, Activation::Relu),
        (2, 4, 2, Activation::Identity),
    ]
    .into_iter()
    .enumerate()
    {
        let mut bn = BatchNorm::<f64>::new(c, p, act);
        bn.gamma.mapv_inplace(|_| 1.0 + 0.5 * rng.normal());
        bn.beta.mapv_inplace(|_| 0.3 * rng.normal());
        // Inputs with a channel-dependent offset and scale, as after a convolution.
        let x = Array2::from_shape_fn((n, c * p), |(_, j)| {
            let ch = (j / p) as f64;
            1.5 * ch - 1.0 + (0.5 + ch) * rng.normal()
        });
        check_layer(Layer::BatchNorm(bn), x, 41 + k as u64);
    }
}

#[test]
fn global_average_pooling_gradient_and_value() {
    let mut rng = Rng::seed_from_u64(42);
    let gap = GlobalAvgPool { input: (3, 2, 3) };
    let x = randn(4, 18, &mut rng);
    let mut y = Array2::zeros((4, 3));
    gap.forward(x.view(), y.view_mut());
    for n in 0..4 {
        for c in 0..3 {
            let mean = (0..6).map(|q| x[[n, c * 6 + q]]).sum::<f64>() / 6.0;
            assert!((y[[n, c]] - mean).abs() < 1e-12);
        }
    }
    check_layer(Layer::GlobalAvgPool(gap), x, 43);
}

/// Per channel of an (n × C·P) batch: the mean and the biased variance of its n·P values.
fn channel_stats(x: &Array2<f64>, c: usize, p: usize) -> Vec<(f64, f64)> {
    (0..c)
        .map(|ch| {
            let vals: Vec<f64> = x
                .rows()
                .into_iter()
                .flat_map(|r| r.iter().skip(ch * p).take(p).copied().collect::<Vec<_>>())
                .collect();
            let m = vals.iter().sum::<f64>() / vals.len() as f64;
            let v = vals.iter().map(|a| (a - m).powi(2)).sum::<f64>() / vals.len() as f64;
            (m, v)
        })
        .collect()
}

#[test]
fn batchnorm_eval_equals_train_when_running_stats_are_the_batch_stats() {
    let mut rng = Rng::seed_from_u64(44);
    let (c, p, n) = (3, 4, 5);
    let mut bn = BatchNorm::<f64>::new(c, p, Activation::Relu);
    bn.gamma.mapv_inplace(|_| 1.0 + 0.5 * rng.normal());
    bn.beta.mapv_inplace(|_| 0.3 * rng.normal());
    let x = randn(n, c * p, &mut rng).mapv(|v| 2.0 * v + 0.7);
    let mut train = Array2::zeros((n, c * p));
    let mut cache = LayerCache::default();
    bn.forward(x.view(), train.view_mut(), &mut cache, Mode::Train);
    // Freeze: running statistics := this batch's mean and (biased) variance, computed here.
    for (ch, (m, v)) in channel_stats(&x, c, p).into_iter().enumerate() {
        bn.running_mean[ch] = m;
        bn.running_var[ch] = v;
    }
    let mut eval = Array2::zeros((n, c * p));
    bn.forward(
        x.view(),
        eval.view_mut(),
        &mut LayerCache::default(),
        Mode::Eval,
    );
    for (a, b) in train.iter().zip(&eval) {
        assert!((a - b).abs() < 1e-12, "train {a} vs eval {b}");
    }
    // Train mode normalises: before the activation each channel has mean β and std γ·σ/√(σ²+ε).
    let mut pre = BatchNorm::<f64>::new(c, p, Activation::Identity);
    pre.gamma.fill(1.0);
    let mut z = Array2::zeros((n, c * p));
    pre.forward(
        x.view(),
        z.view_mut(),
        &mut LayerCache::default(),
        Mode::Train,
    );
    for (ch, (m, v)) in channel_stats(&z, c, p).into_iter().enumerate() {
        assert!(
            m.abs() < 1e-12 && (v - 1.0).abs() < 1e-3,
            "channel {ch}: mean {m}, var {v}"
        );
    }
}

#[test]
fn batchnorm_running_statistics_follow_the_momentum_rule() {
    let mut rng = Rng::seed_from_u64(45);
    let (c, p, n) = (2, 3, 4);
    let mut bn = BatchNorm::<f64>::new(c, p, Activation::Identity);
    let x = randn(n, c * p, &mut rng).mapv(|v| 3.0 * v - 1.0);
    let mut y = Array2::zeros((n, c * p));
    let mut cache = LayerCache::default();
    bn.forward(x.view(), y.view_mut(), &mut cache, Mode::Train);
    bn.update_running(&cache, n);
    for (ch, (m, biased)) in channel_stats(&x, c, p).into_iter().enumerate() {
        let count = (n * p) as f64;
        let unbiased = biased * count / (count - 1.0);
        assert!((bn.running_mean[ch] - BN_MOMENTUM * m).abs() < 1e-12);
        let want = (1.0 - BN_MOMENTUM) + BN_MOMENTUM * unbiased;
        assert!((bn.running_var[ch] - want).abs() < 1e-12);
    }
}

#[test]
fn whole_batch_conv_equals_the_per_sample_passes() {
    let mut rng = Rng::seed_from_u64(46);
    for (shape, c_out, stride, pad, act) in [
        ((3, 6, 5), 4, 1, 1, Activation::Relu),
        ((2, 7, 7), 3, 2, 1, Activation::Identity),
    ] {
        let mut conv = Conv2d::<f64>::new(shape, c_out, stride, pad, act, &mut rng).unwrap();
        conv.b.mapv_inplace(|_| rng.normal() * 0.3);
        let d = shape.0 * shape.1 * shape.2;
        let n = 5;
        let x = randn(n, d, &mut rng);
        let out = Layer::Conv(conv.clone()).out_dim();
        let r = randn(n, out, &mut rng);
        // The whole batch at once.
        let mut batch = conv.clone();
        let mut y = Array2::zeros((n, out));
        let mut cache = LayerCache::default();
        batch.forward(x.view(), y.view_mut(), &mut cache);
        let mut g = r.clone();
        let mut gx = Array2::zeros((n, d));
        batch.backward(y.view(), g.view_mut(), Some(gx.view_mut()), &mut cache);
        // One sample at a time; parameter gradients add up over the samples.
        let mut gw = Array2::<f64>::zeros(conv.w.dim());
        let mut gb = ndarray::Array1::<f64>::zeros(conv.b.len());
        for i in 0..n {
            let mut one = conv.clone();
            let xi = x.slice(ndarray::s![i..i + 1, ..]).to_owned();
            let mut yi = Array2::zeros((1, out));
            let mut ci = LayerCache::default();
            one.forward(xi.view(), yi.view_mut(), &mut ci);
            let mut gi = r.slice(ndarray::s![i..i + 1, ..]).to_owned();
            let mut gxi = Array2::zeros((1, d));
            one.backward(yi.view(), gi.view_mut(), Some(gxi.view_mut()), &mut ci);
            for (a, b) in y.row(i).iter().zip(yi.row(0)) {
                assert!((a - b).abs() < 1e-12, "forward row {i}");
            }
            for (a, b) in gx.row(i).iter().zip(gxi.row(0)) {
                assert!((a - b).abs() < 1e-12, "input gradient row {i}");
            }
            gw += &one.gw;
            gb += &one.gb;
        }
        for (a, b) in batch.gw.iter().zip(&gw) {
            assert!((a - b).abs() < 1e-10 * (1.0 + b.abs()), "weight gradient");
        }
        for (a, b) in batch.gb.iter().zip(&gb) {
            assert!((a - b).abs() < 1e-10 * (1.0 + b.abs()), "bias gradient");
        }
    }
}

#[test]
fn f32_and_f64_encoders_agree() {
    let spec = EncoderSpec::parse("mlp:hidden=32,out=8").unwrap();
    let e64: Encoder<f64> = spec.build(12, None, &mut Rng::seed_from_u64(9)).unwrap();
    let e32: Encoder<f32> = spec.build(12, None, &mut Rng::seed_from_u64(9)).unwrap();
    let x = randn(10, 12, &mut Rng::seed_from_u64(10));
    let z64 = e64.embed(&x);
    let z32 = e32.embed(&x.mapv(|v| v as f32));
    for (a, b) in z64.iter().zip(&z32) {
        assert!(
            (a - f64::from(*b)).abs() < 1e-4 * (1.0 + a.abs()),
            "{a} vs {b}"
        );
    }
}
