//! The guided tour: one-click presets that tell the paper's story, and a short
//! "What am I looking at?" note for every view.
//!
//! A preset is an ordinary share link ([`super::share`]): it sets the runs, opens a view, and
//! shows what to watch. Presets that compare two losses open the Compare view.

use super::Tab;

/// One step of the tour.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    /// Stable key (used in the status JSON and in tests).
    pub key: &'static str,
    /// Button label.
    pub title: &'static str,
    /// The state, in the share-link form.
    pub link: &'static str,
    /// What to watch, shown in a banner while the preset is active.
    pub watch: &'static str,
}

/// The paper's story in six presets.
pub const PRESETS: &[Preset] = &[
    Preset {
        key: "infonce-entropy",
        title: "InfoNCE is α-CL with an entropy regulariser",
        link: "loss=infonce:tau=0.5,eps=0&run2=loss=acl-entropy:tau=0.5&batch=64&view=compare",
        watch: "Run 1 trains with InfoNCE (ε = 0), run 2 with the α-CL min player whose α \
                minimises E_α − τ·H(α) over the simplex. Theorem 1: InfoNCE's pairwise \
                importance is that softmax α scaled per row by β_i, and with ε = 0 every \
                β_i = 1 — so both runs take exactly the same steps. Their α maps, accuracy \
                curves and spectra coincide; only the loss values differ (by the entropy \
                term). Set ε > 0 on run 1 in the panel and they part ways.",
    },
    Preset {
        key: "hard-negatives",
        title: "Hard negatives: raise p",
        link: "loss=acl-direct:tau=0.5,p=1,eps=0&run2=loss=acl-direct:tau=0.5,p=4,eps=0&view=compare",
        watch: "α_ij is proportional to exp(−d_ij^p/τ). With p = 4 (run 2) the weight concentrates on the nearest \
                negatives: its α map is darker except for a few bright cells per row. Compare \
                the curves and the spectra of the two runs.",
    },
    Preset {
        key: "sparse-alpha",
        title: "Sparse α from the quadratic regulariser",
        link: "loss=acl-quadratic:tau=0.2&view=alpha",
        watch: "The quadratic regulariser projects −d²/τ onto the simplex, so many α_ij are \
                exactly zero (the sparsity readout above the map). Drag τ down in the panel and \
                watch the map thin out to a few hard negatives per row; drag it up and α \
                spreads towards uniform.",
    },
    Preset {
        key: "deep-linear-pca",
        title: "Deep linear = PCA on C_α",
        link: "data=aniso:n=1024&encoder=deep-linear:L=3,width=8,out=8,wnorm=frob&normalize=0\
               &aug=axis:dim=0,std=2.8,rest=0.1&loss=acl-entropy:tau=0.5&optim=sgd:lr=0.05\
               &view=theory",
        watch: "For a deep linear network with α fixed, the max player maximises \
                E_α = ½ tr(M C_α M^T) with unit-norm layers: the optimum is rank 1 and aligns \
                with the top eigenvector of the contrastive covariance C_α — not of the data's \
                PCA. The experiment below runs: energy climbs to ½λ_max, every layer's \
                second singular value falls to zero, |cos| to the top eigenvector goes to 1.",
    },
    Preset {
        key: "relu-rank",
        title: "ReLU keeps higher rank",
        link: "data=sparse:d=10,n=1024&aug=support:std=0.5&normalize=0\
               &encoder=relu2:hidden=10,out=20&loss=acl-entropy:tau=0.5&optim=sgd:lr=0.05\
               &run2=encoder=relu2:hidden=10,out=20,act=none&view=compare",
        watch: "Two-layer networks z = W₂σ(W₁x) on the sparse features of PAPER §5.3, \
                trained end to end. Run 1 uses ReLU, run 2 the same net without activation: \
                compare their effective ranks and covariance spectra — the ReLU net keeps \
                more directions. The paper's exact max-player experiment (α fixed, rows of \
                W₁ normalised, linear collapses to rank 1) is in the Theory view under \
                \"2-layer ReLU (§5.3)\".",
    },
    Preset {
        key: "cifar-beats-pixels",
        title: "Real images: does α-CL beat pixels?",
        // The recommended CIFAR-10 preset (examples/cifar10-16px.txt, also the CLI's and the
        // benchmark's), opened on the accuracy curves.
        link: concat!(
            include_str!("../../examples/cifar10-16px.txt"),
            "&view=curves"
        ),
        watch: "A BatchNorm conv net (4 blocks of 32 to 256 channels, global average pooling, \
                projection head) trains on CIFAR-10 at 16×16 with SimCLR's augmentations. The \
                dashed lines are kNN on the raw pixels and on centred pixels under the same \
                protocol: the representation h (before the head) learns when its kNN curve \
                rises above them. Then switch the loss to acl-direct (p = 4) in the panel — or \
                add a run in Compare — and compare the curves, as the paper's Table does. \
                Measured, 12 losses × 3 seeds: docs/REPRODUCTION.md#cifar-nt-xent-tau-0-5.",
    },
];

/// The index of the tour step with `key`.
pub fn step_index(key: &str) -> Option<usize> {
    PRESETS.iter().position(|p| p.key == key)
}

/// "Step k of n" for step `i` (0-based).
pub fn step_label(i: usize) -> String {
    format!("Step {} of {}", i + 1, PRESETS.len())
}

/// The short explanation shown above each view.
pub fn view_note(tab: Tab) -> &'static str {
    match tab {
        Tab::Overview => {
            "Left: the held-out embeddings projected on their top two principal axes, coloured \
             by class; as training works, classes separate. Click a point to see its partner \
             view and nearest neighbours. Right: the loss and the kNN / linear-probe accuracy \
             of a frozen encoder."
        }
        Tab::Alpha => {
            "Pairwise importance α_ij of the last batch (2B × 2B; rows are anchors, columns \
             are negatives; self and partner are zero). Bright = the loss pushes anchor i away \
             from j hard. Sorted by class, same-class negatives form diagonal blocks. β_i = Σ_j \
             α_ij is the bar on the right. Theorem 1: every loss in the family trains as if \
             this α were fixed."
        }
        Tab::Curves => {
            "Loss per step (EMA-smoothed) and held-out accuracy of a kNN classifier and a linear \
             probe on the frozen representation (for an encoder with a projection head: the \
             backbone output before the head). The solid flat line is chance; the dashed lines \
             are kNN on the raw and on the centred inputs under the same protocol — learning \
             has to beat them."
        }
        Tab::Data => {
            "The data set and the two augmented views the encoder sees: rows k and k+B of a \
             batch are the same sample under two random augmentations (a positive pair)."
        }
        Tab::Collapse => {
            "Representation collapse, read from the held-out embeddings z. Left: the \
             eigenvalues λ_k of Cov(z), their covariance matrix, largest first on a log scale, \
             now and at earlier steps; dimensional collapse is a spectrum that drops off a \
             cliff. Effective rank = exp(−Σ p_k log p_k) with p_k = σ_k / Σσ, the singular \
             values σ_k of the centred embeddings: about how many directions carry the data (d \
             when all are equal, 1 after a collapse to a line). RankMe is the same entropy with \
             a small ε added to each p_k, so it stays defined when some σ_k are zero (Garrido \
             et al. 2023). On the unit-normalised embeddings: alignment = the mean of \
             ‖z − z′‖² over positive pairs z, z′ (lower: the two views agree) and uniformity = \
             log of the mean of exp(−2‖z_i − z_j‖²) over all pairs (lower: the points spread \
             over the sphere) — Wang & Isola 2020."
        }
        Tab::Theory => {
            "The paper's max-player experiments with α frozen: a deep linear network converges \
             to a rank-1 solution aligned with C_α's top eigenvector; a 2-layer ReLU network \
             keeps higher rank. Below: the live Theorem-1 residual |grad L − g| / |g| for the \
             current loss."
        }
        Tab::Players => {
            "Coordinate-wise optimisation made visible: step the min player (recompute α from \
             the current distances) and the max player (one parameter step with α frozen) \
             separately, and watch α, then the embeddings, change."
        }
        Tab::Compare => {
            "Several runs on the same data and seed, trained in turn within the frame budget \
             (equal steps each). Curves overlaid by run colour; α maps and spectra side by \
             side. Add a run to clone the current one, then change its loss."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::share::parse_link;
    use super::*;

    #[test]
    fn every_preset_is_a_valid_link_that_differs_from_the_default() {
        for p in PRESETS {
            let l = parse_link(p.link);
            assert!(l.message().is_none(), "{}: {:?}", p.key, l.message());
            assert_ne!(
                l.state,
                super::super::share::ShareState::default(),
                "{}",
                p.key
            );
            let compares = p.link.contains("run2=");
            assert_eq!(l.state.runs.len() > 1, compares, "{}", p.key);
            if compares {
                assert_eq!(l.state.tab, Tab::Compare, "{}", p.key);
            }
        }
    }
}
