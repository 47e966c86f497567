//! Heat map of the pairwise importance α (2B × 2B) of one batch.
//!
//! Rows and columns are reordered by class label (stable, so within a class the batch order is
//! kept) and thin white lines mark the class boundaries, so the block structure shows. The
//! colour scale (viridis-like, with a colour bar) runs from min(0, min) to max over the cells
//! drawn (entries, or block means when aggregated); non-finite entries are left out of the
//! means, and a cell with no finite entry is drawn grey.
//!
//! Resolution: the SVG aggregates into at most [`ALPHA_SVG_MAX_CELLS`]² cells — when 2B is
//! larger, rows and columns are grouped into g = ⌈2B/128⌉ consecutive sorted indices and each
//! cell shows the mean of the finite α in its g × g block — so the file stays small. The PNG
//! draws one rectangle per α entry whenever the plot is at least 2B pixels wide; when an entry
//! would be smaller than a pixel it averages blocks in the same way down to pixel resolution.

use ndarray::ArrayView2;
use plotters::prelude::*;
use plotters::style::FontTransform;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    ALPHA_SVG_SIZE, Area, DESC_SIZE, FONT_FAMILY, FigureError, INK, Scale, TICK_SIZE, TITLE_SIZE,
    render_png, render_svg, tick_decimals,
};

/// The SVG heat map has at most this many cells per side (block means beyond).
pub const ALPHA_SVG_MAX_CELLS: usize = 128;

/// Layout margins (pixels at the SVG size; scaled with the canvas) around the square heat map.
const TOP: i32 = 48;
const LEFT: i32 = 68;
const BOTTOM: i32 = 54;
const RIGHT: i32 = 110;
/// Colour bar: gap to the heat map and width.
const BAR_GAP: i32 = 18;
const BAR_W: i32 = 18;
/// Smallest heat-map side, in pixels.
const MIN_SIDE: i32 = 32;
/// Colour of non-finite cells.
const MISSING: RGBColor = RGBColor(160, 160, 160);

/// A pixel rectangle: `x0..x1` × `y0..y1` (end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlotRect {
    /// Left edge (first column inside).
    pub x0: i32,
    /// Top edge (first row inside).
    pub y0: i32,
    /// Right edge (first column outside).
    pub x1: i32,
    /// Bottom edge (first row outside).
    pub y1: i32,
}

/// Where the square heat map lies in an α figure of `width` × `height` pixels (the same layout
/// for PNG and SVG; margins grow with the canvas like the text). Row r of the sorted α occupies the pixel rows from
/// `y0 + round(r·side/2B)` to `y0 + round((r+1)·side/2B)`, and the same for columns.
pub fn alpha_plot_area(width: u32, height: u32) -> Result<PlotRect, FigureError> {
    let w = i32::try_from(width).unwrap_or(i32::MAX);
    let h = i32::try_from(height).unwrap_or(i32::MAX);
    let s = Scale::fit((width, height), ALPHA_SVG_SIZE);
    let (left, top) = (s.px(f64::from(LEFT)), s.px(f64::from(TOP)));
    let (right, bottom) = (s.px(f64::from(RIGHT)), s.px(f64::from(BOTTOM)));
    let side = (w.saturating_sub(left + right)).min(h.saturating_sub(top + bottom));
    if side < MIN_SIDE {
        return Err(FigureError::Size { width, height });
    }
    Ok(PlotRect {
        x0: left,
        y0: top,
        x1: left + side,
        y1: top + side,
    })
}

/// The α heat map as an SVG document of [`ALPHA_SVG_SIZE`] (block means beyond 128 × 128).
pub fn alpha_svg(alpha: ArrayView2<f32>, labels: &[usize]) -> Result<String, FigureError> {
    let data = AlphaData::new(alpha, labels)?;
    let rect = alpha_plot_area(ALPHA_SVG_SIZE.0, ALPHA_SVG_SIZE.1)?;
    render_svg(ALPHA_SVG_SIZE, |root| {
        draw(root, &data, rect, ALPHA_SVG_MAX_CELLS, Scale::ONE)
    })
}

/// The α heat map as PNG bytes of `width` × `height` pixels.
pub fn alpha_png(
    alpha: ArrayView2<f32>,
    labels: &[usize],
    width: u32,
    height: u32,
) -> Result<Vec<u8>, FigureError> {
    let data = AlphaData::new(alpha, labels)?;
    super::check_png_size(width, height)?;
    let rect = alpha_plot_area(width, height)?;
    let max_cells = (rect.x1 - rect.x0) as usize;
    let s = Scale::fit((width, height), ALPHA_SVG_SIZE);
    render_png(width, height, |root| draw(root, &data, rect, max_cells, s))
}

/// Validates α and draws it on `root` (laid out for the root's size) with at most `max_cells`
/// cells a side, at scale `s` (the live figure's entry).
pub(crate) fn draw_alpha<B: DrawingBackend>(
    root: &Area<B>,
    alpha: ArrayView2<f32>,
    labels: &[usize],
    max_cells: usize,
    s: Scale,
) -> Result<(), FigureError> {
    let data = AlphaData::new(alpha, labels)?;
    let (width, height) = root.dim_in_pixel();
    let rect = alpha_plot_area(width, height)?;
    draw(
        root,
        &data,
        rect,
        max_cells.min((rect.x1 - rect.x0) as usize),
        s,
    )
}

/// α with rows/columns in class order, and the colour scale.
struct AlphaData {
    n: usize,
    /// Sorted α, row-major n × n.
    sorted: Vec<f32>,
    /// (label, first sorted index, end) of each class run.
    classes: Vec<(usize, usize, usize)>,
}

impl AlphaData {
    fn new(alpha: ArrayView2<f32>, labels: &[usize]) -> Result<Self, FigureError> {
        let (rows, cols) = alpha.dim();
        if rows == 0 || cols == 0 {
            return Err(FigureError::NoData("α is empty".into()));
        }
        if rows != cols {
            return Err(FigureError::NotSquare { rows, cols });
        }
        if labels.len() != rows {
            return Err(FigureError::LabelsMismatch {
                labels: labels.len(),
                rows,
            });
        }
        let n = rows;
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| labels[i]);
        let mut sorted = Vec::with_capacity(n * n);
        for &i in &order {
            for &j in &order {
                sorted.push(alpha[[i, j]]);
            }
        }
        if !sorted.iter().any(|v| v.is_finite()) {
            return Err(FigureError::NonFinite("α matrix".into()));
        }
        let mut classes: Vec<(usize, usize, usize)> = Vec::new();
        for (pos, &i) in order.iter().enumerate() {
            match classes.last_mut() {
                Some(c) if c.0 == labels[i] => c.2 = pos + 1,
                _ => classes.push((labels[i], pos, pos + 1)),
            }
        }
        Ok(Self { n, sorted, classes })
    }

    /// Block size g and the means of the finite entries of each g × g block (row-major m × m).
    fn blocks(&self, max_cells: usize) -> (usize, usize, Vec<Option<f64>>) {
        let n = self.n;
        let g = n.div_ceil(max_cells.max(1));
        let m = n.div_ceil(g);
        let mut out = Vec::with_capacity(m * m);
        for a in 0..m {
            for b in 0..m {
                let (mut sum, mut count) = (0.0f64, 0usize);
                for i in a * g..((a + 1) * g).min(n) {
                    for &v in &self.sorted[i * n + b * g..i * n + ((b + 1) * g).min(n)] {
                        if v.is_finite() {
                            sum += f64::from(v);
                            count += 1;
                        }
                    }
                }
                out.push((count > 0).then(|| sum / count as f64));
            }
        }
        (g, m, out)
    }
}

/// Colour scale (lo, hi) over the drawn cells: min(0, min) to max, widened if flat.
fn scale(cells: &[Option<f64>]) -> (f64, f64) {
    let (mut lo, mut hi) = (0.0f64, f64::NEG_INFINITY);
    for v in cells.iter().flatten() {
        lo = lo.min(*v);
        hi = hi.max(*v);
    }
    if hi.is_finite() && hi > lo {
        (lo, hi)
    } else {
        (lo, lo + 1.0)
    }
}

/// Colour of a cell under the scale (lo, hi); grey when it has no finite value.
fn cell_color(v: Option<f64>, (lo, hi): (f64, f64)) -> RGBColor {
    match v {
        Some(v) => viridis((v - lo) / (hi - lo)),
        None => MISSING,
    }
}

/// [`super::viridis_rgb`] as a plotters colour.
fn viridis(t: f64) -> RGBColor {
    let (r, g, b) = super::viridis_rgb(t);
    RGBColor(r, g, b)
}

fn draw<B: DrawingBackend>(
    root: &Area<B>,
    data: &AlphaData,
    rect: PlotRect,
    max_cells: usize,
    s: Scale,
) -> Result<(), FigureError> {
    root.fill(&WHITE)?;
    let n = data.n;
    let side = rect.x1 - rect.x0;
    let edge = |k: usize| (k.min(n) as f64 * f64::from(side) / n as f64).round() as i32;

    let (width, _) = root.dim_in_pixel();
    let title = (FONT_FAMILY, s.font(TITLE_SIZE))
        .into_font()
        .color(&INK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    root.draw(&Text::new(
        "pairwise importance α",
        (width as i32 / 2, s.px(12.0)),
        title,
    ))?;

    // Cells.
    let (g, m, cells) = data.blocks(max_cells);
    let (lo, hi) = scale(&cells);
    for a in 0..m {
        let (ya, yb) = (rect.y0 + edge(a * g), rect.y0 + edge((a + 1) * g));
        for b in 0..m {
            let (xa, xb) = (rect.x0 + edge(b * g), rect.x0 + edge((b + 1) * g));
            if xb > xa && yb > ya {
                root.draw(&Rectangle::new(
                    [(xa, ya), (xb, yb)],
                    cell_color(cells[a * m + b], (lo, hi)).filled(),
                ))?;
            }
        }
    }
    // Class boundaries.
    for &(_, start, _) in data.classes.iter().skip(1) {
        let p = edge(start);
        root.draw(&PathElement::new(
            vec![(rect.x0 + p, rect.y0), (rect.x0 + p, rect.y1 - 1)],
            WHITE.stroke_width(1),
        ))?;
        root.draw(&PathElement::new(
            vec![(rect.x0, rect.y0 + p), (rect.x1 - 1, rect.y0 + p)],
            WHITE.stroke_width(1),
        ))?;
    }
    root.draw(&Rectangle::new(
        [(rect.x0 - 1, rect.y0 - 1), (rect.x1, rect.y1)],
        INK.stroke_width(1),
    ))?;

    // Class labels along the left and bottom edges, where there is room.
    let ticks = (FONT_FAMILY, s.font(TICK_SIZE)).into_font().color(&INK);
    if data.classes.len() <= 20 {
        for &(label, start, end) in &data.classes {
            let (a, b) = (edge(start), edge(end));
            if b - a < s.px(14.0) {
                continue;
            }
            let mid = (a + b) / 2;
            root.draw(&Text::new(
                label.to_string(),
                (rect.x0 - s.px(6.0), rect.y0 + mid),
                ticks.pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
            root.draw(&Text::new(
                label.to_string(),
                (rect.x0 + mid, rect.y1 + s.px(4.0)),
                ticks.pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
    }
    let desc = (FONT_FAMILY, s.font(DESC_SIZE)).into_font().color(&INK);
    let bottom = if g > 1 {
        format!("column j (by class; {g}×{g} block means)")
    } else {
        "column j (sorted by class)".to_string()
    };
    root.draw(&Text::new(
        bottom,
        (rect.x0 + side / 2, rect.y1 + s.px(26.0)),
        desc.pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    root.draw(&Text::new(
        format!("row i (2B = {n}, sorted by class)"),
        (rect.x0 - s.px(48.0), rect.y0 + side / 2),
        desc.pos(Pos::new(HPos::Center, VPos::Center))
            .transform(FontTransform::Rotate270),
    ))?;

    // Colour bar with five ticks.
    let bx = rect.x1 + s.px(f64::from(BAR_GAP));
    let bar_w = s.px(f64::from(BAR_W));
    let strips = side.clamp(1, 96);
    for i in 0..strips {
        let ya = rect.y0 + (i * side) / strips;
        let yb = rect.y0 + ((i + 1) * side) / strips;
        let t = 1.0 - (f64::from(i) + 0.5) / f64::from(strips);
        root.draw(&Rectangle::new(
            [(bx, ya), (bx + bar_w, yb)],
            viridis(t).filled(),
        ))?;
    }
    root.draw(&Rectangle::new(
        [(bx - 1, rect.y0 - 1), (bx + bar_w, rect.y1)],
        INK.stroke_width(1),
    ))?;
    let dec = tick_decimals(hi - lo);
    for k in 0..5 {
        let f = f64::from(k) / 4.0;
        let y = rect.y1 - 1 - (f * f64::from(side - 1)).round() as i32;
        let v = lo + f * (hi - lo);
        root.draw(&PathElement::new(
            vec![(bx + bar_w, y), (bx + bar_w + s.px(4.0), y)],
            INK.stroke_width(1),
        ))?;
        root.draw(&Text::new(
            format!("{v:.dec$}"),
            (bx + bar_w + s.px(7.0), y),
            ticks.pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn sorting_groups_classes_and_blocks_average() {
        // Labels interleaved: 1,0,1,0; α = 1 within a class.
        let labels = [1usize, 0, 1, 0];
        let a = Array2::from_shape_fn(
            (4, 4),
            |(i, j)| {
                if labels[i] == labels[j] { 1.0f32 } else { 0.0 }
            },
        );
        let d = AlphaData::new(a.view(), &labels).unwrap();
        assert_eq!(d.classes, vec![(0, 0, 2), (1, 2, 4)]);
        // Sorted matrix is block diagonal.
        assert_eq!(&d.sorted[0..4], &[1.0, 1.0, 0.0, 0.0]);
        assert_eq!(&d.sorted[12..16], &[0.0, 0.0, 1.0, 1.0]);
        let (g, m, cells) = d.blocks(2);
        assert_eq!((g, m), (2, 2));
        assert_eq!(cells, vec![Some(1.0), Some(0.0), Some(0.0), Some(1.0)]);
        let (g, m, cells) = d.blocks(1);
        assert_eq!((g, m), (4, 1));
        assert_eq!(cells, vec![Some(0.5)]);
    }

    #[test]
    fn blocks_skip_non_finite_entries() {
        let mut a = Array2::from_elem((2, 2), 2.0f32);
        a[[0, 1]] = f32::NAN;
        let d = AlphaData::new(a.view(), &[0, 0]).unwrap();
        let (_, _, cells) = d.blocks(1);
        assert_eq!(cells, vec![Some(2.0)]);
        let (_, _, cells) = d.blocks(2);
        assert_eq!(cells[1], None);
        assert_eq!(cell_color(None, (0.0, 1.0)), MISSING);
        assert_eq!(scale(&[Some(0.5), None, Some(2.0)]), (0.0, 2.0));
        assert_eq!(scale(&[Some(-1.0), Some(-1.0)]), (-1.0, 0.0));
        assert_eq!(scale(&[None]), (0.0, 1.0));
    }

    #[test]
    fn viridis_ends_and_clamps() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(7.0), viridis(1.0));
        assert_eq!(viridis(f64::NAN), viridis(0.0));
    }
}
